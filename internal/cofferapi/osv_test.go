package cofferapi

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"coffer/internal/advisory"
	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/osv/ecosystems"
	"coffer/internal/store/sqlite"
)

const (
	testMAL  = `{"id":"MAL-2024-0001","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"evil-pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`
	testGHSA = `{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}`
	testPyPI = `{"id":"PYSEC-2024-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.31.0"}]}]}]}`
)

func testZip(t *testing.T, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		// Stored, not deflated: the size of a test body is what is written.
		f, err := w.CreateHeader(&zip.FileHeader{Name: entries[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, entries[i+1])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// denyUser allows everything to every principal but arn:...:user/dev, and
// records what it was asked.
type denyUser struct{ asked []string }

func (d *denyUser) Authorize(ctx context.Context, action, resource string) error {
	d.asked = append(d.asked, action+" "+resource)
	if p := auth.PrincipalFrom(ctx); p == nil || strings.HasSuffix(p.ARN, ":user/dev") {
		return fault.AccessDenied("not authorized to perform: %s on resource: %s", action, resource)
	}
	return nil
}

type osvEnv struct {
	h       http.Handler
	authz   *denyUser
	sources *advisory.Sources
	audit   string
}

func newOSVEnv(t *testing.T, maxImport int64) *osvEnv {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	sources := advisory.New(advisory.Config{Store: meta, Blobs: blobs, Log: log, Ecosystems: ecosystems.Table(), SpoolDir: dir})
	auditPath := filepath.Join(dir, "audit.log")
	auditLog, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditLog.Close() })
	az := &denyUser{}
	svc := artifact.New(artifact.Config{Region: "eu-west-1", AccountID: "123456789012"}, meta, sources.Retain(blobs), log)
	h := New(Config{Service: svc, Store: meta, Authorizer: az, Audit: auditLog, Log: log, Advisories: sources, MaxOSVImportSize: maxImport})
	return &osvEnv{h: h, authz: az, sources: sources, audit: auditPath}
}

var (
	rootPrincipal = &auth.Principal{ARN: "arn:aws:iam::123456789012:root", Account: "123456789012", Type: "Root"}
	devPrincipal  = &auth.Principal{ARN: "arn:aws:iam::123456789012:user/dev", Account: "123456789012", Type: "User"}
)

// call serves one request as p and returns the status and decoded body.
func (e *osvEnv) call(t *testing.T, p *auth.Principal, method, path, contentType string, body io.Reader, length int64) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, body)
	r.ContentLength = length
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	out := map[string]any{}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, w.Code, w.Body)
	}
	return w.Code, out
}

// unread fails the test if the body is read.
type unread struct{ t *testing.T }

func (u unread) Read([]byte) (int, error) {
	u.t.Error("the body was read")
	return 0, io.EOF
}

func TestAdvisorySourcesAPI(t *testing.T) {
	e := newOSVEnv(t, 1<<20)
	good := testZip(t, "MAL-2024-0001.json", testMAL, "GHSA-aaaa-bbbb-cccc.json", testGHSA, "PYSEC-2024-1.json", testPyPI)

	st, out := e.call(t, rootPrincipal, "PUT", "/coffer/v1/osv/sources/feed", "application/zip", bytes.NewReader(good), int64(len(good)))
	src, _ := out["source"].(map[string]any)
	if st != 200 || src["name"] != "feed" || src["records"] != 3.0 || fmt.Sprint(src["ecosystems"]) != "map[PyPI:1 npm:2]" ||
		src["importedBy"] != rootPrincipal.ARN || len(src["sha256"].(string)) != 64 {
		t.Fatalf("import: %d %v", st, out)
	}
	if last := e.authz.asked[len(e.authz.asked)-1]; last != "coffer:ImportAdvisories arn:aws:codeartifact:eu-west-1:123456789012:advisories/feed" {
		t.Errorf("authorized %s", last)
	}
	sha := src["sha256"].(string)

	// Refusals: nothing changes.
	for _, tc := range []struct {
		name        string
		p           *auth.Principal
		path, ctype string
		body        io.Reader
		length      int64
		status      int
		typ, msg    string
	}{
		{"bad zip", rootPrincipal, "/coffer/v1/osv/sources/feed", "application/zip", strings.NewReader("no zip"), 6, 400, "ValidationException", "not a readable zip"},
		{"bad record", rootPrincipal, "/coffer/v1/osv/sources/feed", "application/zip",
			bytes.NewReader(testZip(t, "a/NOID.json", `{"modified":"x"}`)), -1, 400, "ValidationException", "a/NOID.json"},
		{"JSON body", rootPrincipal, "/coffer/v1/osv/sources/feed", "application/json", unread{t}, 10, 400, "ValidationException", "application/zip"},
		{"too large", rootPrincipal, "/coffer/v1/osv/sources/feed", "application/zip", unread{t}, 2 << 20, 400, "ValidationException", "--max-osv-import-size"},
		{"too large, no length", rootPrincipal, "/coffer/v1/osv/sources/feed", "application/zip", bytes.NewReader(make([]byte, 2<<20)), -1, 400, "ValidationException", "larger than"},
		{"bad name", rootPrincipal, "/coffer/v1/osv/sources/a%20b", "application/zip", unread{t}, 10, 400, "ValidationException", "source name"},
		{"denied", devPrincipal, "/coffer/v1/osv/sources/feed", "application/zip", unread{t}, 10, 403, "AccessDeniedException", "coffer:ImportAdvisories"},
	} {
		st, out := e.call(t, tc.p, "PUT", tc.path, tc.ctype, tc.body, tc.length)
		if st != tc.status || out["__type"] != tc.typ || !strings.Contains(fmt.Sprint(out["message"]), tc.msg) {
			t.Errorf("%s: %d %v", tc.name, st, out)
		}
	}

	st, out = e.call(t, rootPrincipal, "GET", "/coffer/v1/osv/sources", "", nil, 0)
	list, _ := out["sources"].([]any)
	if st != 200 || len(list) != 1 || list[0].(map[string]any)["sha256"] != sha || out["indexedRecords"] != 3.0 {
		t.Fatalf("list: %d %v", st, out)
	}
	if last := e.authz.asked[len(e.authz.asked)-1]; last != "coffer:ListAdvisorySources arn:aws:codeartifact:eu-west-1:123456789012:advisories/*" {
		t.Errorf("authorized %s", last)
	}
	if st, _ := e.call(t, devPrincipal, "GET", "/coffer/v1/osv/sources", "", nil, 0); st != 403 {
		t.Errorf("list as dev: %d", st)
	}
	if st, out := e.call(t, devPrincipal, "DELETE", "/coffer/v1/osv/sources/nothing", "", nil, 0); st != 403 || out["__type"] != "AccessDeniedException" {
		t.Errorf("delete as dev: %d %v", st, out)
	}

	st, out = e.call(t, rootPrincipal, "DELETE", "/coffer/v1/osv/sources/feed", "", nil, 0)
	if st != 200 || out["source"].(map[string]any)["sha256"] != sha || e.sources.Index().Len() != 0 {
		t.Fatalf("delete: %d %v", st, out)
	}
	if st, out := e.call(t, rootPrincipal, "DELETE", "/coffer/v1/osv/sources/feed", "", nil, 0); st != 404 || out["__type"] != "ResourceNotFoundException" {
		t.Errorf("second delete: %d %v", st, out)
	}
	b, _ := os.ReadFile(e.audit)
	for _, want := range []string{`"action":"coffer:ImportAdvisories","resource":"arn:aws:codeartifact:eu-west-1:123456789012:advisories/feed","decision":"allow","reason":"sha256 ` + sha,
		`"action":"coffer:DeleteAdvisorySource"`, "3 records (PyPI 1, npm 2)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("audit log lacks %s:\n%s", want, b)
		}
	}
}

// Through the SigV4 verifier: a body larger than the verifier's in-memory
// bound streams when its hash is signed, and a body that is not the one
// signed is refused when its end is read, with nothing stored.
func TestAdvisoryImportSigned(t *testing.T) {
	e := newOSVEnv(t, 64<<20)
	v := &sigv4.Verifier{Lookup: func(ctx context.Context, id string) (*sigv4.Credential, error) {
		if id != "AKIDTEST" {
			return nil, fault.NotFound("key", id, "no key")
		}
		return &sigv4.Credential{SecretAccessKey: "secret", Principal: rootPrincipal}, nil
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err != nil {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"__type":"Unauthenticated","message":%q}`, err.Error())
			return
		}
		e.h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), res.Principal)))
	}))
	defer srv.Close()
	// About 3 MiB: more than the verifier reads whole (2 MiB).
	var entries []string
	for i := range 30 {
		entries = append(entries, fmt.Sprintf("GHSA-%d.json", i),
			fmt.Sprintf(`{"id":"GHSA-%d","details":%q,"affected":[{"package":{"ecosystem":"npm","name":"p%d"},"versions":["1.0.0"]}]}`, i, strings.Repeat("x", 100<<10), i))
	}
	big := testZip(t, entries...)
	send := func(signed, body []byte) (int, string) {
		sum := sha256.Sum256(signed)
		hash := hex.EncodeToString(sum[:])
		req, _ := http.NewRequest("PUT", srv.URL+"/coffer/v1/osv/sources/big", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/zip")
		req.Header.Set("X-Amz-Content-Sha256", hash)
		creds := awssdk.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "codeartifact", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if len(big) < 2<<20 {
		t.Fatalf("fixture is %d bytes", len(big))
	}
	st, body := send(big, big)
	if st != 200 || !strings.Contains(body, `"records":30`) {
		t.Fatalf("signed streaming import: %d %s", st, body)
	}
	other := bytes.Clone(big)
	other[len(other)/2] ^= 1
	st, body = send(big, other)
	if st == 200 || !strings.Contains(body, "InvalidSignatureException") {
		t.Fatalf("altered body: %d %s", st, body)
	}
	list, err := e.sources.List(context.Background())
	sum := sha256.Sum256(big)
	if err != nil || len(list) != 1 || list[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("after the refused import: %+v %v", list, err)
	}
}
