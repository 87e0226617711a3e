package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// cofferCall sends a SigV4-signed request to the coffer API and returns
// the status and decoded body.
func cofferCall(t *testing.T, e *env, creds aws.Credentials, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, e.URL+path, bytes.NewReader(b))
	sum := sha256.Sum256(b)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "codeartifact", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func TestRulesAPI(t *testing.T) {
	e := newEnv(t)
	root := aws.Credentials{AccessKeyID: rootKey, SecretAccessKey: rootSecret}
	must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("acme")}))(t)
	must(e.CA.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("acme"), Repository: aws.String("ci")}))(t)

	// Set, idempotently: the same scope's cooldown keeps its id.
	st, out := cofferCall(t, e, root, "PUT", "/coffer/v1/rules", map[string]string{"domain": "acme", "cooldown": "48h"})
	if st != 200 || out["rule"].(map[string]any)["cooldown"] != "48h0m0s" {
		t.Fatalf("put cooldown: %d %v", st, out)
	}
	id := out["rule"].(map[string]any)["id"].(string)
	_, out = cofferCall(t, e, root, "PUT", "/coffer/v1/rules", map[string]string{"domain": "acme", "cooldown": "72h"})
	if out["rule"].(map[string]any)["id"] != id {
		t.Errorf("a second cooldown of the domain got another id: %v", out)
	}
	st, out = cofferCall(t, e, root, "PUT", "/coffer/v1/rules", map[string]string{"domain": "acme", "repository": "ci",
		"exempt": "/pypi//Requests_Lib$", "version": "2.0", "reason": "INC-7"})
	if st != 200 || out["rule"].(map[string]any)["package"] != "/pypi//requests-lib$" {
		t.Fatalf("put exempt (pattern canonicalised): %d %v", st, out)
	}
	exemptID := out["rule"].(map[string]any)["id"].(string)

	// Validation and missing scopes.
	for _, tc := range []struct {
		body   map[string]string
		status int
		typ    string
		msg    string
	}{
		{map[string]string{"domain": "acme"}, 400, "ValidationException", "exactly one of"},
		{map[string]string{"domain": "acme", "cooldown": "1h", "freezeAt": "2026-01-01T00:00:00Z"}, 400, "ValidationException", "has 2"},
		{map[string]string{"domain": "acme", "block": "/npm//x$"}, 400, "ValidationException", "needs a reason"},
		{map[string]string{"domain": "acme", "block": "/nope/*", "reason": "r"}, 400, "ValidationException", "not a package format"},
		{map[string]string{"domain": "acme", "cooldown": "1h", "externalConnection": "public:nowhere"}, 400, "ValidationException", "externalConnection"},
		{map[string]string{"domain": "acme", "cooldown": "1h", "bogus": "x"}, 400, "ValidationException", "unknown field"},
		{map[string]string{"domain": "nope", "cooldown": "1h"}, 404, "ResourceNotFoundException", "Domain not found"},
		{map[string]string{"domain": "acme", "repository": "nope", "cooldown": "1h"}, 404, "ResourceNotFoundException", "Repository not found"},
	} {
		st, out := cofferCall(t, e, root, "PUT", "/coffer/v1/rules", tc.body)
		if st != tc.status || out["__type"] != tc.typ || !strings.Contains(out["message"].(string), tc.msg) {
			t.Errorf("put %v: %d %v; want %d %s %q", tc.body, st, out, tc.status, tc.typ, tc.msg)
		}
	}

	st, out = cofferCall(t, e, root, "GET", "/coffer/v1/rules?domain=acme", nil)
	if st != 200 || len(out["rules"].([]any)) != 2 {
		t.Fatalf("list: %d %v", st, out)
	}
	_, out = cofferCall(t, e, root, "GET", "/coffer/v1/rules?domain=acme&repository=ci", nil)
	if rs := out["rules"].([]any); len(rs) != 1 || rs[0].(map[string]any)["id"] != exemptID {
		t.Errorf("list of the repository: %v", out)
	}

	// An unsigned request never reaches the API.
	resp, err := http.Get(e.URL + "/coffer/v1/rules?domain=acme")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("unsigned list: %d", resp.StatusCode)
	}

	// A user without coffer:PutRule is refused and the refusal audited; one
	// allowed ListRules on the repository only lists there.
	ic := iamClient(t, e.URL, rootKey, rootSecret)
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")}))(t)
	k := must(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")}))(t).AccessKey
	dev := aws.Credentials{AccessKeyID: aws.ToString(k.AccessKeyId), SecretAccessKey: aws.ToString(k.SecretAccessKey)}
	st, out = cofferCall(t, e, dev, "PUT", "/coffer/v1/rules", map[string]string{"domain": "acme", "cooldown": "1h"})
	if st != 403 || out["__type"] != "AccessDeniedException" || !strings.Contains(out["message"].(string), "coffer:PutRule") {
		t.Errorf("put without permission: %d %v", st, out)
	}
	e.putUserPolicy("dev", "rules", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"coffer:ListRules",
		"Resource":"arn:aws:codeartifact:us-east-1:`+account+`:repository/acme/ci"}]}`)
	if st, out = cofferCall(t, e, dev, "GET", "/coffer/v1/rules?domain=acme&repository=ci", nil); st != 200 || len(out["rules"].([]any)) != 1 {
		t.Errorf("list of the allowed repository: %d %v", st, out)
	}
	if st, _ = cofferCall(t, e, dev, "GET", "/coffer/v1/rules?domain=acme", nil); st != 403 {
		t.Errorf("list of the domain: %d", st)
	}
	if st, _ = cofferCall(t, e, dev, "DELETE", "/coffer/v1/rules/"+id+"?domain=acme", nil); st != 403 {
		t.Errorf("delete without permission: %d", st)
	}

	// Delete, then a second delete is NotFound.
	if st, out = cofferCall(t, e, root, "DELETE", "/coffer/v1/rules/"+exemptID+"?domain=acme", nil); st != 200 || out["rule"].(map[string]any)["id"] != exemptID {
		t.Errorf("delete: %d %v", st, out)
	}
	if st, out = cofferCall(t, e, root, "DELETE", "/coffer/v1/rules/"+exemptID+"?domain=acme", nil); st != 404 || out["__type"] != "ResourceNotFoundException" {
		t.Errorf("second delete: %d %v", st, out)
	}
	if st, out = cofferCall(t, e, root, "DELETE", "/coffer/v1/rules/nope?domain=acme", nil); st != 400 {
		t.Errorf("delete of a malformed id: %d %v", st, out)
	}

	// The audit log has the refusal, the allowed changes and what changed.
	raw, err := os.ReadFile(filepath.Join(e.DataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	for _, want := range []string{
		`"action":"coffer:PutRule","resource":"arn:aws:codeartifact:us-east-1:` + account + `:domain/acme","decision":"deny"`,
		`"action":"coffer:PutRule","resource":"arn:aws:codeartifact:us-east-1:` + account + `:repository/acme/ci","decision":"allow"`,
		`exempt repository ci: /pypi//requests-lib$ 2.0 (reason: \"INC-7\")`,
		`"action":"coffer:DeleteRule","resource":"arn:aws:codeartifact:us-east-1:` + account + `:domain/acme/rule/` + exemptID,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s\n%s", want, log)
		}
	}
	if strings.Contains(log, `"action":"coffer:ListRules","resource":"arn:aws:codeartifact:us-east-1:`+account+`:repository/acme/ci","decision":"allow"`) {
		t.Error("an allowed ListRules was audited like a change")
	}
}
