// Package supplychain_test drives coffer's supply-chain gate with real
// clients against a real coffer process whose external connections point
// at fixture registries on loopback with controlled publish times: npm
// (cooldown, latest rewritten, a malicious version refused before any
// fetch, a quarantined cached version, a freeze reproducing an earlier
// install, npm audit answered from imported OSV data), pip (simple pages,
// JSON and HTML) and mvn (a version range). Rules are set with `coffer
// rules`, advisories imported with `coffer osv import`, repositories made
// with the aws CLI. A missing client fails the test.
package supplychain_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

type coffer = testproc.Coffer

func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir, extraArgs...)
}

func need(t *testing.T, program string) string { t.Helper(); return testproc.Need(t, program) }

var (
	get  = testproc.Get
	str  = testproc.Str
	tail = testproc.Tail
)

// world is one coffer with the aws CLI and coffer's own CLI signed in as
// the root credentials coffer writes, in an isolated HOME.
type world struct {
	testproc.Runner
	c    *coffer
	home string
}

func newWorld(t *testing.T, extraArgs ...string) *world {
	t.Helper()
	need(t, "aws")
	dir := t.TempDir()
	c := startCoffer(t, dir, extraArgs...)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "NPM_CONFIG_"), strings.HasPrefix(u, "PIP_"), strings.HasPrefix(u, "XDG_"),
			strings.HasPrefix(u, "MAVEN_"), u == "HOME", u == "CI", u == "NODE_OPTIONS":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NPM_CONFIG_USERCONFIG="+filepath.Join(home, ".npmrc"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	return &world{Runner: testproc.Runner{T: t, Env: env}, c: c, home: home}
}

// aws runs `aws codeartifact` and decodes its JSON.
func (w *world) aws(args ...string) map[string]any { w.T.Helper(); return w.AWS(w.c.URL, args...) }

// coffer runs coffer's own CLI against the server and decodes its JSON.
func (w *world) coffer(args ...string) map[string]any {
	w.T.Helper()
	m, code := w.cofferExit(args...)
	if code != 0 {
		w.T.Fatalf("coffer %s: exit %d", strings.Join(args, " "), code)
	}
	return m
}

// cofferExit is coffer with its exit code; stdout must be JSON.
func (w *world) cofferExit(args ...string) (map[string]any, int) {
	w.T.Helper()
	full := append([]string{args[0], args[1], "--endpoint-url", w.c.URL}, args[2:]...)
	cmd := exec.Command(cofferBin, full...)
	cmd.Env = w.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.T.Fatalf("coffer %s: %v", strings.Join(args, " "), err)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		w.T.Fatalf("coffer %s: exit %d, no output\n%s", strings.Join(args, " "), code, stderr.String())
	}
	m := map[string]any{}
	if err := json.Unmarshal(out, &m); err != nil {
		w.T.Fatalf("coffer %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m, code
}

// repos creates domain D with repository "<prefix>-store" holding the
// external connection and the repository the clients use, "<prefix>", with
// the store as its upstream; it returns the client repository's endpoint
// for the format and a token.
func (w *world) repos(domain, prefix, connection, format string) (endpoint, token string) {
	w.T.Helper()
	w.aws("create-repository", "--domain", domain, "--repository", prefix+"-store")
	w.aws("associate-external-connection", "--domain", domain, "--repository", prefix+"-store", "--external-connection", connection)
	w.aws("create-repository", "--domain", domain, "--repository", prefix, "--upstreams", "repositoryName="+prefix+"-store")
	endpoint = str(w.aws("get-repository-endpoint", "--domain", domain, "--repository", prefix, "--format", format), "repositoryEndpoint")
	token = str(w.aws("get-authorization-token", "--domain", domain), "authorizationToken")
	return endpoint, token
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}
