package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OSV records of the fixture: a malicious npm package, an npm advisory
// with a SEMVER range, a PyPI advisory.
const (
	osvMAL = `{"id":"MAL-2024-0001","modified":"2024-01-01T00:00:00Z","summary":"Malicious code in evil-pkg (npm)",
 "affected":[{"package":{"ecosystem":"npm","name":"evil-pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`
	osvGHSA = `{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","summary":"Prototype pollution in lodash",
 "affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}`
	osvPyPI = `{"id":"PYSEC-2024-1","modified":"2024-01-01T00:00:00Z",
 "affected":[{"package":{"ecosystem":"PyPI","name":"requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.31.0"}]}]}]}`
)

func osvZip(t *testing.T, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := w.Create(entries[i])
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(entries[i+1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// awsEnv is the environment of a client with the root credentials coffer
// wrote, and nothing of the test runner's AWS settings.
func awsEnv(t *testing.T, c *coffer) []string {
	home := t.TempDir()
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "COFFER_") {
			env = append(env, e)
		}
	}
	return append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(c.DataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_REGION=us-east-1")
}

func osvCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runProgram(t, env, "", cofferBin, append([]string{"osv"}, args...)...)
}

func osvOK(t *testing.T, env []string, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := osvCLI(t, env, args...)
	if code != 0 {
		t.Fatalf("coffer osv %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	m := map[string]any{}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("coffer osv %s: output is not JSON: %v\n%s", args[0], err, out)
	}
	return m
}

// TestOSVCLI imports OSV data into a real coffer with `coffer osv import`
// (a zip, then a directory), lists it, sees a bad zip refused with nothing
// changed, deletes, and finds the data again after a restart.
func TestOSVCLI(t *testing.T) {
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	env := awsEnv(t, c)
	work := t.TempDir()
	fixture := filepath.Join(work, "fixture.zip")
	if err := os.WriteFile(fixture, osvZip(t, "MAL-2024-0001.json", osvMAL, "GHSA-aaaa-bbbb-cccc.json", osvGHSA, "PYSEC-2024-1.json", osvPyPI), 0o600); err != nil {
		t.Fatal(err)
	}

	imported := osvOK(t, env, "import", "--endpoint-url", c.URL, fixture)
	sha := str(imported, "source", "sha256")
	if str(imported, "source", "name") != "fixture" || get(imported, "source", "records") != 3.0 || len(sha) != 64 ||
		get(imported, "source", "ecosystems", "npm") != 2.0 || get(imported, "source", "ecosystems", "PyPI") != 1.0 ||
		!strings.HasSuffix(str(imported, "source", "importedBy"), ":root") {
		t.Fatalf("import: %v", imported)
	}
	list := osvOK(t, env, "list", "--endpoint-url", c.URL)
	if srcs := get(list, "sources").([]any); len(srcs) != 1 || str(srcs[0], "sha256") != sha || get(list, "indexedRecords") != 3.0 {
		t.Fatalf("list: %v", list)
	}

	// Refused: a record without an id, a file that is no zip. Nothing changes.
	bad := filepath.Join(work, "bad.zip")
	os.WriteFile(bad, osvZip(t, "MAL-2024-0001.json", osvMAL, "osv/bad/NOID.json", `{"modified":"2024-01-01T00:00:00Z"}`), 0o600)
	notZip := filepath.Join(work, "fixture-2.zip")
	os.WriteFile(notZip, []byte("this is not a zip"), 0o600)
	for _, tc := range []struct{ file, want string }{{bad, "osv/bad/NOID.json"}, {notZip, "not a readable zip"}} {
		out, errOut, code := osvCLI(t, env, "import", "--endpoint-url", c.URL, "--name", "fixture", tc.file)
		if code == 0 || out != "" || !strings.Contains(errOut, "ValidationException") || !strings.Contains(errOut, tc.want) {
			t.Errorf("import %s: exit %d, stdout %q, stderr %q", tc.file, code, out, errOut)
		}
	}
	after := osvOK(t, env, "list", "--endpoint-url", c.URL)
	if srcs := get(after, "sources").([]any); len(srcs) != 1 || str(srcs[0], "sha256") != sha ||
		str(srcs[0], "importedAt") != str(list, "sources", 0, "importedAt") || get(after, "indexedRecords") != 3.0 {
		t.Fatalf("a refused import changed the sources: %v", after)
	}

	// A directory (the malicious-packages layout) is zipped by the CLI.
	dir := filepath.Join(work, "malicious")
	os.MkdirAll(filepath.Join(dir, "osv", "malicious", "npm", "bad-pkg"), 0o700)
	os.WriteFile(filepath.Join(dir, "osv", "malicious", "npm", "bad-pkg", "MAL-2024-0002.json"),
		[]byte(strings.ReplaceAll(strings.ReplaceAll(osvMAL, "0001", "0002"), "evil-pkg", "bad-pkg")), 0o600)
	fromDir := osvOK(t, env, "import", "--endpoint-url", c.URL, dir)
	if str(fromDir, "source", "name") != "malicious" || get(fromDir, "source", "records") != 1.0 {
		t.Fatalf("directory import: %v", fromDir)
	}
	if l := osvOK(t, env, "list", "--endpoint-url", c.URL); len(get(l, "sources").([]any)) != 2 || get(l, "indexedRecords") != 4.0 {
		t.Fatalf("list after the directory import: %v", l)
	}
	if del := osvOK(t, env, "delete", "--endpoint-url", c.URL, "--name", "malicious"); str(del, "source", "name") != "malicious" {
		t.Fatalf("delete: %v", del)
	}
	if _, errOut, code := osvCLI(t, env, "delete", "--endpoint-url", c.URL, "--name", "malicious"); code == 0 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("second delete: exit %d, %s", code, errOut)
	}
	audit, err := os.ReadFile(filepath.Join(dataDir, "audit.log"))
	if err != nil || !strings.Contains(string(audit), `"action":"coffer:ImportAdvisories"`) || !strings.Contains(string(audit), `"action":"coffer:DeleteAdvisorySource"`) {
		t.Errorf("audit log lacks the imports and the delete: %v\n%s", err, audit)
	}

	// A restart loads the index from the stores.
	c.Stop()
	c = startCoffer(t, dataDir)
	waitIndexed(t, env, c.URL, 3)
}

// waitIndexed waits until the node's index holds n records.
func waitIndexed(t *testing.T, env []string, url string, n float64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := osvOK(t, env, "list", "--endpoint-url", url)
		if get(l, "indexedRecords") == n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index does not hold %v records: %v", n, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOSVSync: a coffer started with --osv-sync imports the zip at that URL.
func TestOSVSync(t *testing.T) {
	data := osvZip(t, "MAL-2024-0001.json", osvMAL, "PYSEC-2024-1.json", osvPyPI)
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Write(data)
	}))
	defer feed.Close()
	c := startCoffer(t, t.TempDir(), "--osv-sync", feed.URL+"/npm/all.zip")
	l := waitIndexed(t, awsEnv(t, c), c.URL, 2)
	if srcs := get(l, "sources").([]any); len(srcs) != 1 || !strings.HasPrefix(str(srcs[0], "name"), "sync-127.0.0.1-") ||
		!strings.HasPrefix(str(srcs[0], "importedBy"), "sync:http://127.0.0.1:") {
		t.Fatalf("synced source: %v", l)
	}
}
