package maven_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format/maven"
	"coffer/internal/server"
)

// countingReader counts what the server read of a body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// limited is the data plane with a Maven handler whose upload limit is max.
func (e *env) limited(max int64) http.Handler {
	h := maven.New(e.svc, e.authz, maven.Config{MaxUploadSize: max})
	return server.DataPlane(map[string]http.Handler{artifact.FormatMaven: h}, func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		return &auth.Principal{ARN: "arn:aws:iam::" + account + ":root", Account: account, Type: auth.TypeAccount}, nil
	})
}

// put sends a PUT in process and returns the answer; body counts what the
// server read. length < 0 sends no Content-Length.
func put(h http.Handler, url string, body *countingReader, length int64) (int, string) {
	req := httptest.NewRequest(http.MethodPut, url, body)
	req.ContentLength = length
	req.SetBasicAuth("aws", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestPutRefusedBeforeReading: a PUT that cannot be allowed is answered
// before its body is read (403), one whose Content-Length is over the
// limit too (413), and a streamed one over the limit as soon as it crosses
// the limit (413, not the engine's 400), POMs included.
func TestPutRefusedBeforeReading(t *testing.T) {
	e := newEnv(t)
	h := e.limited(1 << 20)
	jar := e.repo + "com/example/big/1.0/big-1.0.jar"
	pom := e.repo + "com/example/big/1.0/big-1.0.pom"
	const size = 8 << 20

	e.authz.mu.Lock()
	e.authz.deny["codeartifact:PublishPackageVersion"] = true
	e.authz.mu.Unlock()
	for _, length := range []int64{-1, 1 << 19} { // a declared length over the limit is 413 first (below)
		body := &countingReader{r: io.LimitReader(zeros{}, size)}
		if status, msg := put(h, jar, body, length); status != http.StatusForbidden || body.n != 0 {
			t.Errorf("not allowed, length %d: %d %q after reading %d bytes; want 403 before reading", length, status, msg, body.n)
		}
	}
	e.authz.mu.Lock()
	delete(e.authz.deny, "codeartifact:PublishPackageVersion")
	e.authz.mu.Unlock()

	for _, url := range []string{jar, pom} {
		body := &countingReader{r: io.LimitReader(zeros{}, size)}
		if status, msg := put(h, url, body, size); status != http.StatusRequestEntityTooLarge || body.n != 0 {
			t.Errorf("%s with Content-Length %d: %d %q after reading %d bytes; want 413 before reading", url, size, status, msg, body.n)
		}
		body = &countingReader{r: io.LimitReader(zeros{}, size)}
		status, msg := put(h, url, body, -1)
		t.Logf("%s streamed: %d after reading %d bytes", url[strings.LastIndexByte(url, '/')+1:], status, body.n)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "larger than the limit of 1048576 bytes") || body.n > 2<<20 {
			t.Errorf("%s streamed: %d %q after reading %d bytes; want 413 at the limit", url, status, msg, body.n)
		}
	}
	if _, err := e.svc.DescribePackage(bg, e.pkg("my-repo", "com.example", "big")); fault.KindOf(err) != fault.KindNotFound {
		t.Errorf("refused PUTs created the package: %v", err)
	}
	// At the limit it is stored.
	body := &countingReader{r: bytes.NewReader(make([]byte, 1<<20))}
	if status, msg := put(h, jar, body, -1); status != http.StatusCreated {
		t.Errorf("a jar of exactly the limit: %d %q", status, msg)
	}
}

// TestPutOnFullDisk: a full blob store is 507, not a client error, and
// nothing is recorded.
func TestPutOnFullDisk(t *testing.T) {
	e := newEnv(t)
	jar := e.repo + "com/example/hello/1.0/hello-1.0.jar"
	e.blobs.Full.Store(true)
	r := e.do("PUT", jar, []byte("jar bytes"))
	if r.err != nil || r.status != http.StatusInsufficientStorage || !strings.Contains(string(r.body), "insufficient storage") || strings.Contains(string(r.body), "/data") {
		t.Fatalf("PUT on a full disk: %d %v %q, want 507 naming no path", r.status, r.err, r.body)
	}
	if _, err := e.svc.DescribePackage(bg, e.pkg("my-repo", "com.example", "hello")); fault.KindOf(err) != fault.KindNotFound {
		t.Errorf("the failed PUT created the package: %v", err)
	}
	e.blobs.Full.Store(false)
	e.want("PUT", jar, []byte("jar bytes"), http.StatusCreated)
}
