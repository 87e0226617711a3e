// Package e2e runs the real coffer binary as a process on a loopback port
// and drives it with the real clients (the aws CLI, boto3, ...). A missing
// client fails the test: these tests are the proof that the clients work.
package e2e

import (
	"bytes"
	"context"
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

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coffer-e2e-bin-")
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
	t       *testing.T
	cmd     *exec.Cmd
	URL     string
	DataDir string
	logs    *syncBuffer
	done    chan error
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

// startCoffer starts `coffer serve` on a free loopback port with dataDir and
// waits until /readyz answers 200.
func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *coffer {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--log-format", "text"}, extraArgs...)
	cmd := exec.Command(cofferBin, args...)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COFFER_") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	c := &coffer{t: t, cmd: cmd, URL: "http://" + addr, DataDir: dataDir, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("coffer logs:\n%s", c.logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case err := <-c.done:
			t.Fatalf("coffer exited before it was ready: %v\n%s", err, c.logs.String())
		case <-ctx.Done():
			t.Fatalf("coffer was not ready in time\n%s", c.logs.String())
		case <-time.After(20 * time.Millisecond): // poll interval while waiting for readiness
		}
	}
}

// stop sends SIGTERM and requires a clean exit.
func (c *coffer) stop() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	select {
	case err := <-c.done:
		if err != nil {
			c.t.Fatalf("coffer exited with %v after SIGTERM\n%s", err, c.logs.String())
		}
	case <-time.After(30 * time.Second):
		c.t.Fatal("coffer did not stop within 30 s of SIGTERM")
	}
}

// need fails the test when a client program is missing.
func need(t *testing.T, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is required for this test and is not installed (.ci/run installs it)", program)
	}
	return p
}
