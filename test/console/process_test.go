// Package console_test drives the web console of a real coffer process with
// Debian's headless Chromium (through chromedp), on data published with the
// real aws CLI. A missing client or browser fails the test: .ci/run installs
// them (apt-get install -y chromium).
package console_test

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

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

type coffer = testproc.Coffer

// startCoffer starts `coffer serve` on a free loopback port and waits for /readyz.
func startCoffer(t *testing.T, dataDir string) *coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir)
}

// need fails the test when a program is missing.
func need(t *testing.T, program, hint string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is required for this test and is not installed (%s)", program, hint)
	}
	return p
}

// awsCLI runs the aws CLI with one set of credentials and an isolated home.
type awsCLI struct {
	t   *testing.T
	url string
	env []string
	dir string
}

// newAWSCLI returns a CLI using the credentials file's profile "coffer".
func newAWSCLI(t *testing.T, c *coffer, credentialsFile string) *awsCLI {
	t.Helper()
	need(t, "aws", ".ci/run installs the aws CLI")
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
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+credentialsFile,
		"AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL_IAM="+c.URL, "AWS_ENDPOINT_URL_STS="+c.URL)
	return &awsCLI{t: t, url: c.URL, env: env, dir: t.TempDir()}
}

// run runs `aws <args>`; codeartifact commands get --endpoint-url.
func (a *awsCLI) run(args ...string) (string, string, int) {
	a.t.Helper()
	full := append([]string{}, args...)
	if args[0] == "codeartifact" {
		full = append(full, "--endpoint-url", a.url)
	}
	full = append(full, "--output", "json")
	cmd := exec.Command("aws", full...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		a.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), 0
}

// ok runs a command that must succeed and decodes its JSON output.
func (a *awsCLI) ok(args ...string) map[string]any {
	a.t.Helper()
	out, errOut, code := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	m := map[string]any{}
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			a.t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return m
}

// ca runs an `aws codeartifact` command that must succeed.
func (a *awsCLI) ca(args ...string) map[string]any {
	a.t.Helper()
	return a.ok(append([]string{"codeartifact"}, args...)...)
}

var (
	get = testproc.Get
	str = testproc.Str
)
