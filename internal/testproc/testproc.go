// Package testproc runs the real coffer binary for black-box tests: it
// builds it once per test package, starts `coffer serve` on a free loopback
// port with a data dir, waits until /readyz answers, and stops it with
// SIGTERM. Only tests import it.
package testproc

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Main is a test package's TestMain: it builds coffer into *bin, runs the
// tests and removes the binary.
func Main(m *testing.M, bin *string) {
	path, cleanup, err := Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// Build compiles coffer (statically, as it ships) into a new temp dir and
// returns the binary's path and a cleanup function.
func Build() (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "coffer-bin-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "coffer")
	build := exec.Command("go", "build", "-o", bin, "coffer/cmd/coffer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building coffer: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// Coffer is a running coffer process.
type Coffer struct {
	t       *testing.T
	Cmd     *exec.Cmd
	URL     string
	DataDir string
	Logs    *SyncBuffer
	// Done receives the process's exit once it has ended.
	Done chan error
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs `coffer serve` from bin with dataDir (plus extraArgs) on a free
// loopback port, without any COFFER_* variable of the environment, and
// waits until /readyz answers 200. With --tls-cert among extraArgs (or
// COFFER_TLS_CERT in StartEnv's env) the URL is https:// and the readiness
// probe does not verify the certificate. The process is killed at the end
// of the test if it still runs; its logs are printed when the test failed.
func Start(t *testing.T, bin, dataDir string, extraArgs ...string) *Coffer {
	t.Helper()
	return StartEnv(t, bin, dataDir, nil, extraArgs...)
}

// StartEnv is Start with env added to the process's environment. A
// --listen among extraArgs replaces the free port (a restart on the same
// address).
func StartEnv(t *testing.T, bin, dataDir string, env []string, extraArgs ...string) *Coffer {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	scheme := "http"
	for i, a := range extraArgs {
		if a == "--listen" && i+1 < len(extraArgs) {
			addr = extraArgs[i+1]
		}
		if a == "--tls-cert" || strings.HasPrefix(a, "--tls-cert=") {
			scheme = "https"
		}
	}
	for _, e := range env {
		if strings.HasPrefix(e, "COFFER_TLS_CERT=") && e != "COFFER_TLS_CERT=" {
			scheme = "https"
		}
	}
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--log-format", "text"}, extraArgs...)
	cmd := exec.Command(bin, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COFFER_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	c := &Coffer{t: t, Cmd: cmd, URL: scheme + "://" + addr, DataDir: dataDir, Logs: &SyncBuffer{}, Done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = c.Logs, c.Logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); exited <- err; c.Done <- err }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("coffer logs:\n%s", c.Logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe := http.DefaultClient
	if scheme == "https" {
		// Readiness only: the test checks the certificate itself.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		defer tr.CloseIdleConnections()
		probe = &http.Client{Transport: tr}
	}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("coffer exited before it was ready: %v\n%s", err, c.Logs.String())
		case <-ctx.Done():
			t.Fatalf("coffer was not ready in time\n%s", c.Logs.String())
		case <-time.After(20 * time.Millisecond): // poll interval while waiting for readiness
		}
	}
}

// Stop sends SIGTERM and requires a clean exit within 30 s.
func (c *Coffer) Stop() {
	c.t.Helper()
	if err := c.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	select {
	case err := <-c.Done:
		if err != nil {
			c.t.Fatalf("coffer exited with %v after SIGTERM\n%s", err, c.Logs.String())
		}
	case <-time.After(30 * time.Second):
		c.t.Fatal("coffer did not stop within 30 s of SIGTERM")
	}
}

// Need fails the test when a client program is missing: in CI a missing
// client is a failure, never a skip (.ci/run installs them).
func Need(t *testing.T, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is required for this test and is not installed (.ci/run installs it)", program)
	}
	return p
}

// Get walks a decoded JSON value: Get(v, "asset", "hashes", "MD5"), with
// ints indexing arrays.
func Get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// Str is Get for a string value ("" when absent).
func Str(v any, path ...any) string { s, _ := Get(v, path...).(string); return s }
