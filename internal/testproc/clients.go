package testproc

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Runner runs the real client programs of a test (aws, npm, pip, ...) in
// one environment, logging each command and how long it took.
type Runner struct {
	T   *testing.T
	Env []string
}

// Run runs program in dir and returns its combined output.
func (r *Runner) Run(dir, program string, args ...string) (string, error) {
	r.T.Helper()
	cmd := exec.Command(program, args...)
	cmd.Env, cmd.Dir = r.Env, dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r.T.Logf("%s %s: %v", filepath.Base(program), strings.Join(shortArgs(args), " "), time.Since(start).Round(10*time.Millisecond))
	return string(out), err
}

// Must is Run that fails the test when the program fails.
func (r *Runner) Must(dir, program string, args ...string) string {
	r.T.Helper()
	out, err := r.Run(dir, program, args...)
	if err != nil {
		r.T.Fatalf("%s %s: %v\n%s", filepath.Base(program), strings.Join(args, " "), err, Tail(out))
	}
	return out
}

// AWS runs `aws codeartifact <args>` against endpoint and decodes its JSON
// output (empty output is an empty map).
func (r *Runner) AWS(endpoint string, args ...string) map[string]any {
	r.T.Helper()
	out := r.Must("", "aws", append(append([]string{"codeartifact"}, args...), "--endpoint-url", endpoint, "--output", "json")...)
	m := map[string]any{}
	if s := strings.TrimSpace(out); s != "" {
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			r.T.Fatalf("aws codeartifact %s: output is not JSON: %v\n%s", args[0], err, s)
		}
	}
	return m
}

// Tail is the end of a long program output, for failure messages.
func Tail(s string) string {
	if len(s) > 12000 {
		return "…" + s[len(s)-12000:]
	}
	return s
}

func shortArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 80 {
			a = a[:77] + "..."
		}
		out[i] = a
	}
	return out
}

// MasterKeyFile writes a fresh master key (base64 of 32 random bytes) to a
// new file and returns its path, for coffers that must share one key.
func MasterKeyFile(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ClientEnv is an environment for real clients that sees none of this
// machine's client configuration: this process's environment without the
// variables named in dropNames or starting with one of dropPrefixes
// (case-insensitive; HOME, RUSTUP_HOME, proxies and CI always go), an
// isolated HOME, the root credentials of coffer's dataDir for the aws CLI
// (profile coffer), no proxy for loopback, and quiet, non-retrying cargo.
// Callers append what their clients need besides.
func ClientEnv(t *testing.T, dataDir string, dropPrefixes []string, dropNames ...string) []string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rustup := os.Getenv("RUSTUP_HOME")
	if rustup == "" {
		if h, err := os.UserHomeDir(); err == nil {
			rustup = filepath.Join(h, ".rustup")
		}
	}
	drop := map[string]bool{"HOME": true, "RUSTUP_HOME": true, "RUSTC_WRAPPER": true, "CI": true,
		"HTTP_PROXY": true, "HTTPS_PROXY": true, "ALL_PROXY": true, "NO_PROXY": true}
	for _, n := range dropNames {
		drop[strings.ToUpper(n)] = true
	}
	var env []string
next:
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		if drop[u] {
			continue
		}
		for _, p := range dropPrefixes {
			if strings.HasPrefix(u, p) {
				continue next
			}
		}
		env = append(env, e)
	}
	return append(env, "HOME="+home, "RUSTUP_HOME="+rustup, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"CARGO_TERM_COLOR=never", "CARGO_NET_RETRY=0", "CARGO_HTTP_TIMEOUT=30", "CARGO_INCREMENTAL=0")
}
