package upstream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
)

// fakeClock is an injectable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testConfig has short bounds so that failing cases end quickly; cases
// shorten them further where they test a bound.
func testConfig(clock *fakeClock) Config {
	return Config{
		Timeout:       10 * time.Second,
		HeaderTimeout: 5 * time.Second,
		MinBodyRate:   -1,
		RetryBackoff:  time.Millisecond,
		Now:           clock.Now,
	}
}

// newStore returns a filesystem blob store in a temporary directory, and the
// directory.
func newStore(t testing.TB) (*blobfs.Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := blobfs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

// storeFiles lists every regular file under a store's root: blobs and
// staging files alike.
func storeFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// assertEmptyStore fails unless the store holds no blob and no staging file.
func assertEmptyStore(t *testing.T, root string) {
	t.Helper()
	if files := storeFiles(t, root); len(files) > 0 {
		t.Errorf("store not empty after a failed fetch: %v", files)
	}
}

// assertBlob fails unless the store holds exactly want under its SHA-256 and
// nothing is left staged.
func assertBlob(t *testing.T, s blob.Store, root string, want []byte) {
	t.Helper()
	sum := sha256.Sum256(want)
	obj, err := s.Open(context.Background(), hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatalf("blob not in store: %v", err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("blob content differs: %d bytes, want %d", len(got), len(want))
	}
	for _, f := range storeFiles(t, root) {
		if filepath.Dir(f) == "tmp" {
			t.Errorf("staging file left: %s", f)
		}
	}
}

// assertFault checks err's fault kind and, if cause is non-nil, that it
// wraps cause.
func assertFault(t *testing.T, err error, kind fault.Kind, cause error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want kind %v", kind)
	}
	if got := fault.KindOf(err); got != kind {
		t.Errorf("kind = %v, want %v (err: %v)", got, kind, err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("err = %v, want it to wrap %v", err, cause)
	}
}

// upstreamServer is an httptest server that counts requests and unblocks
// its handlers when the test ends.
type upstreamServer struct {
	*httptest.Server
	requests atomic.Int64
	stop     chan struct{} // closed at cleanup: blocked handlers return
}

func newUpstream(t *testing.T, h func(w http.ResponseWriter, r *http.Request, s *upstreamServer)) *upstreamServer {
	t.Helper()
	s := &upstreamServer{stop: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h(w, r, s)
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.stop) }) // runs first
	return s
}

// block waits until the client goes away or the test ends.
func (s *upstreamServer) block(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.stop:
	}
}

// hijack takes over the connection to misbehave below HTTP.
func hijack(t *testing.T, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		panic(http.ErrAbortHandler)
	}
	return conn, rw
}

// content returns n bytes of deterministic, not-all-equal content.
func content(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31+i>>8) ^ seed
	}
	return b
}

// expectAll is the Expectation for body with every field set.
func expectAll(body []byte) Expectation {
	d := digests(body)
	return Expectation{Size: d.Size, SHA256: d.SHA256, SHA512: d.SHA512, SHA1: d.SHA1, MD5: d.MD5}
}

func digests(body []byte) blob.Digests {
	h := blob.NewHasher()
	h.Write(body)
	return h.Sum()
}

// captureTee records what WithTee gives it and fails the test if it is
// written after Fetch has returned to its caller.
type captureTee struct {
	t      *testing.T
	mu     sync.Mutex
	meta   *Meta
	buf    bytes.Buffer
	closed bool // Fetch has returned
	// failAfter, if > 0, makes Write fail once that many bytes were taken.
	failAfter int
	// onWrite, if set, runs before each Write (outside the lock).
	onWrite func(n int)
}

func (c *captureTee) start(m Meta) io.Writer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.t.Error("tee started after Fetch returned")
	}
	c.meta = &m
	return c
}

func (c *captureTee) Write(p []byte) (int, error) {
	if c.onWrite != nil {
		c.onWrite(len(p))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.t.Error("tee written after Fetch returned")
	}
	if c.failAfter > 0 && c.buf.Len()+len(p) > c.failAfter {
		return 0, errors.New("client went away")
	}
	return c.buf.Write(p)
}

func (c *captureTee) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

func (c *captureTee) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}
