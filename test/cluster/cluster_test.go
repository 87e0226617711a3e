// Package cluster_test runs coffer as a cluster: three `coffer serve`
// processes on one PostgreSQL database and one S3 bucket, behind nginx with
// round-robin balancing, each test on servers of its own (a throwaway
// PostgreSQL cluster and a versitygw S3 server started by the scripts that
// scripts/test.sh uses), so that a test may stop them to see what the nodes
// do. Real clients (aws CLI, npm, the AWS SDK for Go) talk to the balancer
// or to one node, as the test needs.
package cluster_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"coffer/internal/testproc"
)

var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

var (
	get = testproc.Get
	str = testproc.Str
)

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

// repoRoot is the module root, where scripts/ lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// service is a server started by one of the scripts: `script start DIR`
// prints KEY=VALUE lines, `script stop DIR` stops it.
type service struct {
	t      *testing.T
	script string
	dir    string
	vars   map[string]string
}

// startService runs `script start dir` and reads what it printed.
func startService(t *testing.T, script string) *service {
	t.Helper()
	// Not t.TempDir(), which only its owner may enter: PostgreSQL runs as
	// a user of its own when the tests run as root.
	dir, err := os.MkdirTemp("", "coffer-"+strings.TrimSuffix(script, ".sh")+"-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, script: filepath.Join(repoRoot(t), "scripts", script), dir: dir, vars: map[string]string{}}
	t.Cleanup(func() {
		_ = exec.Command(s.script, "stop", s.dir).Run()
		_ = os.RemoveAll(dir)
	})
	s.start()
	return s
}

func (s *service) start() {
	s.t.Helper()
	start := time.Now()
	out, err := exec.Command(s.script, "start", s.dir).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		s.t.Fatalf("%s start: %v\n%s", filepath.Base(s.script), err, msg)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			s.vars[k] = v
		}
	}
	s.t.Logf("%s started in %v", filepath.Base(s.script), time.Since(start).Round(time.Millisecond))
}

func (s *service) stop() {
	s.t.Helper()
	if out, err := exec.Command(s.script, "stop", s.dir).CombinedOutput(); err != nil {
		s.t.Fatalf("%s stop: %v\n%s", filepath.Base(s.script), err, out)
	}
}

// waitFor polls cond until it holds or 60 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond): // poll interval
		}
	}
}

// status is the HTTP status of a GET of url (0 when it cannot connect).
func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// decode parses a client's JSON output.
func decode(t *testing.T, out string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return m
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
