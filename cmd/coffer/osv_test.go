package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
	"coffer/internal/osv"
)

func TestOSVUsageErrors(t *testing.T) {
	env := func(string) string { return "" }
	zipFile := filepath.Join(t.TempDir(), "feed.zip")
	os.WriteFile(zipFile, []byte("x"), 0o600)
	for _, args := range [][]string{
		{"osv"},
		{"osv", "frobnicate"},
		{"osv", "list"},
		{"osv", "list", "--endpoint-url", "ftp://x"},
		{"osv", "list", "--endpoint-url", "http://127.0.0.1:1", "extra"},
		{"osv", "import", "--endpoint-url", "http://127.0.0.1:1"},
		{"osv", "import", "--endpoint-url", "http://127.0.0.1:1", zipFile, zipFile},
		{"osv", "import", "--endpoint-url", "http://127.0.0.1:1", "--name", "a b", zipFile},
		{"osv", "import", "--endpoint-url", "http://127.0.0.1:1", filepath.Join(t.TempDir(), "bad name.zip")},
		{"osv", "delete", "--endpoint-url", "http://127.0.0.1:1"},
	} {
		var out, errb bytes.Buffer
		if err := run(args, env, &out, &errb); err == nil || out.Len() != 0 {
			t.Errorf("coffer %s: err %v, stdout %q", strings.Join(args, " "), err, out.String())
		}
	}
}

func TestDefaultSourceName(t *testing.T) {
	for in, want := range map[string]string{"npm.zip": "npm", "/tmp/x/all.zip": "all", "osv/malicious/": "malicious", "feed": "feed"} {
		if got := defaultSourceName(in); got != want {
			t.Errorf("defaultSourceName(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestZipDir(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"npm/evil/MAL-2024-1.json": `{"id":"MAL-2024-1","affected":[{"package":{"ecosystem":"npm","name":"evil"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
		"pypi/x/MAL-2024-2.json":   `{"id":"MAL-2024-2"}`,
		"README.md":                "not a record",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(filepath.Join(dir, "npm/evil/MAL-2024-1.json"), filepath.Join(dir, "link.json"))
	path, n, err := zipDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	data, _ := os.ReadFile(path)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if n != 2 || strings.Join(names, " ") != "npm/evil/MAL-2024-1.json pypi/x/MAL-2024-2.json" {
		t.Fatalf("zipped %d: %v", n, names)
	}
	var ids []string
	if err := osv.ReadZip(bytes.NewReader(data), int64(len(data)), func(r *osv.Record) error { ids = append(ids, r.ID); return nil }); err != nil || len(ids) != 2 {
		t.Fatalf("read back: %v %v", ids, err)
	}
	if _, _, err := zipDir(t.TempDir()); err == nil {
		t.Error("an empty directory zipped")
	}
}

// The CLI signs the zip's SHA-256 and streams it: a SigV4 verifier checks
// the signature and, as it reads the body, the hash.
func TestOSVImportSigned(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	v := &sigv4.Verifier{Scopes: []sigv4.Scope{{Service: "codeartifact", Region: "eu-west-1"}},
		Lookup: func(ctx context.Context, id string) (*sigv4.Credential, error) {
			if id != "AKIDTEST" {
				return nil, fault.NotFound("key", id, "unknown key")
			}
			return &sigv4.Credential{SecretAccessKey: "secret", Principal: &auth.Principal{ARN: "arn:aws:iam::123456789012:root"}}, nil
		}}
	var got struct {
		method, path, ctype string
		body                []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err != nil || res.PayloadHash == "" || res.PayloadHash == sigv4.UnsignedPayload {
			w.WriteHeader(403)
			io.WriteString(w, `{"__type":"InvalidSignatureException","message":"refused"}`)
			return
		}
		body, err := io.ReadAll(r.Body) // fails at its end unless it is the one signed
		if err != nil {
			w.WriteHeader(403)
			io.WriteString(w, `{"__type":"InvalidSignatureException","message":"body"}`)
			return
		}
		got.method, got.path, got.ctype, got.body = r.Method, r.URL.Path, r.Header.Get("Content-Type"), body
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(404)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"advisory source missing not found"}`)
			return
		}
		io.WriteString(w, `{"source":{"name":"feed","records":2}}`)
	}))
	defer srv.Close()
	env := func(string) string { return "" }

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "A.json"), []byte(`{"id":"A"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "B.json"), []byte(`{"id":"B"}`), 0o600)
	var out, errb bytes.Buffer
	if err := run([]string{"osv", "import", "--endpoint-url", srv.URL, dir, "--name", "feed"}, env, &out, &errb); err != nil {
		t.Fatalf("import: %v\n%s", err, errb.String())
	}
	var answer map[string]any
	if err := json.Unmarshal(out.Bytes(), &answer); err != nil || got.method != "PUT" || got.path != "/coffer/v1/osv/sources/feed" || got.ctype != "application/zip" {
		t.Fatalf("import: %v %q; server saw %s %s %s", err, out.String(), got.method, got.path, got.ctype)
	}
	zr, err := zip.NewReader(bytes.NewReader(got.body), int64(len(got.body)))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("uploaded body is not the directory's zip: %v", err)
	}

	// A zip file, its name by default.
	zipFile := filepath.Join(t.TempDir(), "npm.zip")
	os.WriteFile(zipFile, []byte("zip bytes"), 0o600)
	out.Reset()
	if err := run([]string{"osv", "import", "--endpoint-url", srv.URL, zipFile}, env, &out, &errb); err != nil || got.path != "/coffer/v1/osv/sources/npm" || string(got.body) != "zip bytes" {
		t.Fatalf("import of a zip: %v, %s %q", err, got.path, got.body)
	}
	out.Reset()
	if err := run([]string{"osv", "list", "--endpoint-url", srv.URL}, env, &out, &errb); err != nil || got.method != "GET" || got.path != "/coffer/v1/osv/sources" {
		t.Fatalf("list: %v %s %s", err, got.method, got.path)
	}
	out.Reset()
	err = run([]string{"osv", "delete", "--endpoint-url", srv.URL, "--name", "x"}, env, &out, &errb)
	if err != nil || got.method != "DELETE" || got.path != "/coffer/v1/osv/sources/x" {
		t.Fatalf("delete: %v %s %s", err, got.method, got.path)
	}
	out.Reset()
	err = run([]string{"osv", "delete", "--endpoint-url", srv.URL, "--name", "missing"}, env, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException (HTTP 404)") || out.Len() != 0 {
		t.Fatalf("delete of a missing source: %v, %q", err, out.String())
	}
}
