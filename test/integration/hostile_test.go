package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/audit"
)

// TestHostileNamesAndTokens drives the assembled coffer: a package name with
// a zero-width space is a ValidationException naming the field on the API
// and a 400 on a native protocol; refused data-plane tokens reach the audit
// log, at most audit.LimitPerSource of them from one source.
func TestHostileNamesAndTokens(t *testing.T) {
	e := newEnv(t)
	must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("acme")}))(t)
	must(e.CA.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("acme"), Repository: aws.String("app")}))(t)
	tok := *must(e.CA.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("acme")}))(t).AuthorizationToken

	_, err := e.CA.DescribePackage(ctx, &codeartifact.DescribePackageInput{Domain: aws.String("acme"), Repository: aws.String("app"),
		Format: types.PackageFormatGeneric, Namespace: aws.String("tools"), Package: aws.String("to\u200bol")})
	if ve := wantErr[*types.ValidationException](t, err); !strings.Contains(*ve.Message, "at 'package'") || !strings.Contains(*ve.Message, `to\u200Bol`) {
		t.Fatalf("API: %s", *ve.Message)
	}

	get := func(path, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/generic/d/acme-"+account+"/app/"+path, nil)
		req.SetBasicAuth("aws", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("tools/to%E2%80%8Bol/1.0/a.txt", tok); code != http.StatusBadRequest {
		t.Fatalf("native: %d", code)
	}

	for range 3 * audit.LimitPerSource {
		if code := get("tools/tool/1.0/a.txt", "forged-token"); code != http.StatusUnauthorized {
			t.Fatalf("forged token: %d", code)
		}
	}
	b, err := os.ReadFile(filepath.Join(e.DataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev audit.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev.Decision == "unauthenticated" && ev.SourceIP == "127.0.0.1" && strings.HasPrefix(ev.Action, "GET /generic/d/acme-") {
			refused++
		}
	}
	if refused != audit.LimitPerSource || strings.Contains(string(b), "forged-token") || strings.Contains(string(b), tok) {
		t.Fatalf("%d refused-token records, want %d (and no token):\n%s", refused, audit.LimitPerSource, b)
	}
}
