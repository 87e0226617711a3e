// Package console_test drives the web console of a real coffer process with
// Debian's headless Chromium (through chromedp), on data published with the
// real aws CLI. A missing client or browser fails the test: .ci/run installs
// them (apt-get install -y chromium).
package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coffer-console-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cofferBin = filepath.Join(dir, "coffer")
	build := exec.Command("go", "build", "-o", cofferBin, "coffer/cmd/coffer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building coffer: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// coffer is a running coffer process.
type coffer struct {
	URL     string
	DataDir string
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCoffer starts `coffer serve` on a free loopback port and waits for /readyz.
func startCoffer(t *testing.T, dataDir string) *coffer {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(cofferBin, "serve", "--listen", addr, "--data-dir", dataDir, "--log-format", "text")
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COFFER_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	c := &coffer{URL: "http://" + addr, DataDir: dataDir, logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("coffer logs:\n%s", c.logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case err := <-done:
			t.Fatalf("coffer exited before it was ready: %v\n%s", err, c.logs.String())
		case <-ctx.Done():
			t.Fatalf("coffer was not ready in time\n%s", c.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
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

// get walks a decoded JSON value: get(m, "asset", "hashes", "MD5").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := get(v, path...).(string); return s }
