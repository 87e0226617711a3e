// Package maven_test builds a Java project with the real mvn through a real
// coffer process whose public:maven-central external connection points at
// a fake "Maven Central" made of Debian's Maven packages, and checks with
// the real aws CLI what coffer recorded. A missing client fails the test:
// .ci/run installs them.
package maven_test

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

func need(t *testing.T, program string) { t.Helper(); testproc.Need(t, program) }

var (
	get = testproc.Get
	str = testproc.Str
)

func list(v any, path ...any) []any { s, _ := get(v, path...).([]any); return s }

// awsCLI runs `aws codeartifact` against coffer with the root credentials
// in an isolated HOME.
type awsCLI struct {
	t        *testing.T
	endpoint string
	env      []string
}

func newAWSCLI(t *testing.T, c *coffer) *awsCLI {
	need(t, "aws")
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "HOME=") {
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(c.DataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1")
	return &awsCLI{t: t, endpoint: c.URL, env: env}
}

// ok runs a command that must succeed and decodes its JSON output.
func (a *awsCLI) ok(args ...string) map[string]any {
	a.t.Helper()
	full := append(append([]string{"codeartifact"}, args...), "--endpoint-url", a.endpoint, "--output", "json")
	cmd := exec.Command("aws", full...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		a.t.Fatalf("aws codeartifact %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	m := map[string]any{}
	if s := strings.TrimSpace(out.String()); s != "" {
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			a.t.Fatalf("aws codeartifact %s: output is not JSON: %v\n%s", args[0], err, s)
		}
	}
	return m
}
