// Package migrate runs `coffer migrate` as the operator would: a real coffer
// is filled with the aws CLI and npm, stopped, migrated into other stores,
// and started there; every asset must come back byte for byte, with the same
// credentials. The PostgreSQL and S3 leg runs against the servers named by
// COFFER_TEST_POSTGRES and COFFER_TEST_S3.
package migrate

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

var (
	get = testproc.Get
	str = testproc.Str
)

// clients runs the aws CLI and npm with an isolated HOME and the source's
// root credentials, whichever coffer they talk to.
type clients struct {
	testproc.Runner
	npmrc string
}

func newClients(t *testing.T, credentials string) *clients {
	t.Helper()
	testproc.Need(t, "aws")
	testproc.Need(t, "npm")
	home := t.TempDir()
	cfg := filepath.Join(home, "aws-config")
	npmrc := filepath.Join(home, ".npmrc")
	if err := os.WriteFile(cfg, []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(npmrc, []byte("update-notifier=false\nfund=false\naudit=false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "NPM_CONFIG_"), strings.HasPrefix(u, "COFFER_"),
			u == "HOME", u == "CI", u == "NODE_OPTIONS":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+credentials,
		"AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"NPM_CONFIG_USERCONFIG="+npmrc, "NPM_CONFIG_CACHE="+filepath.Join(t.TempDir(), "npm-cache"))
	return &clients{Runner: testproc.Runner{T: t, Env: env}, npmrc: npmrc}
}

// with is the runner with extra environment (later entries win).
func (c *clients) with(env ...string) *testproc.Runner {
	return &testproc.Runner{T: c.T, Env: append(append([]string{}, c.Env...), env...)}
}

// runCoffer runs the coffer binary (migrate) with the test's environment
// minus COFFER_*, plus env; it returns stdout, stderr and the error.
func runCoffer(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(cofferBin, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COFFER_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("coffer %s: %v (%v)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err)
	return out.String(), errb.String(), err
}

// embedded is the migrate side of the embedded stores of a data dir.
func embedded(dataDir string) string {
	return "sqlite://" + filepath.Join(dataDir, "metadata.db") + ",file://" + filepath.Join(dataDir, "blobs")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
