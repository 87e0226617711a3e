package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob/blobtest"
	"coffer/internal/fault"
)

// randomReader returns n pseudo-random bytes determined by seed, generated
// as they are read: the content of a large upload never sits in memory.
func randomReader(n int64, seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return io.LimitReader(rand.NewChaCha8(key), n)
}

func sha256Of(t *testing.T, r io.Reader) (string, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// heapPeak samples HeapInuse until stop is called and returns the largest.
func heapPeak() (stop func() uint64) {
	var (
		peak uint64
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

// gc collects twice: the first moves sync.Pools' buffers to their victim
// caches, which still count as in use, the second frees them.
func gc() {
	runtime.GC()
	runtime.GC()
}

// A 64 MiB upload in 5 MiB parts holds about two parts in memory, and its
// bytes come back intact.
func TestStageLargeBoundedMemory(t *testing.T) {
	const size, partSize = 64 << 20, MinPartSize
	s := newTestStore(t, func(c *Config) { c.PartSize = partSize })
	want, _ := sha256Of(t, randomReader(size, 42))

	gc()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := heapPeak()
	start := time.Now()
	st, err := s.Stage(context.Background(), randomReader(size, 42), 0)
	took := time.Since(start)
	peak := stop()
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	growth := int64(peak) - int64(base.HeapInuse)
	t.Logf("Stage of %d MiB in %d MiB parts: %v (%.0f MB/s), heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB)",
		size>>20, partSize>>20, took.Round(time.Millisecond), float64(size)/took.Seconds()/1e6,
		float64(base.HeapInuse)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20))
	// Two part buffers, plus the small first buffer (1 MiB), the hasher's
	// chunks (2 MiB) and slack; a third part buffer would exceed it.
	if limit := int64(2*partSize + 6<<20); growth > limit && !raceEnabled {
		t.Errorf("heap grew by %d bytes during Stage, want < %d (2 parts + 6 MiB)", growth, limit)
	}
	if dg := st.Digests(); dg.SHA256 != want || dg.Size != size {
		t.Fatalf("Digests = %s, %d; want %s, %d", dg.SHA256, dg.Size, want, size)
	}
	if created, err := st.Commit(context.Background()); err != nil || !created {
		t.Fatalf("Commit = %v, %v", created, err)
	}
	checkNoStaging(t, s)

	obj, err := s.Open(context.Background(), want)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer obj.Close()
	gc()
	runtime.ReadMemStats(&base)
	stop = heapPeak()
	got, n := sha256Of(t, obj)
	peak = stop()
	t.Logf("read back: heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB)",
		float64(base.HeapInuse)/(1<<20), float64(peak)/(1<<20), float64(int64(peak)-int64(base.HeapInuse))/(1<<20))
	if got != want || n != size {
		t.Errorf("read back %d bytes with SHA-256 %s, want %d, %s", n, got, size, want)
	}
}

// failAfter yields n bytes of zeros, then err.
type failAfter struct {
	n   int64
	err error
}

func (r *failAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, r.err
	}
	p = p[:min(int64(len(p)), r.n)]
	clear(p)
	r.n -= int64(len(p))
	return len(p), nil
}

// A failed Stage, after its multipart upload has begun, leaves nothing
// under staging/: not an object, not an upload.
func TestStageFailureLeavesNothing(t *testing.T) {
	s := newTestStore(t, func(c *Config) { c.PartSize = MinPartSize })
	ctx := context.Background()
	errBoom := errors.New("boom")

	if _, err := s.Stage(ctx, &failAfter{n: 12 << 20, err: errBoom}, 0); err != errBoom {
		t.Errorf("reader failing after 12 MiB: Stage err = %v, want the reader's error as is", err)
	}
	checkNoStaging(t, s)

	data := blobtest.RandomBytes(12<<20, 5)
	if _, err := s.Stage(ctx, bytes.NewReader(data), 7<<20); !errors.Is(err, fault.ErrValidation) {
		t.Errorf("12 MiB with maxSize 7 MiB: Stage err = %v, want ErrValidation", err)
	}
	checkNoStaging(t, s)

	cctx, cancel := context.WithCancel(ctx)
	r := &cancelAfter{r: bytes.NewReader(data), n: 11 << 20, cancel: cancel}
	if _, err := s.Stage(cctx, r, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled after 11 MiB: Stage err = %v, want context.Canceled", err)
	}
	checkNoStaging(t, s)
}

// cancelAfter reads from r and calls cancel once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// Sizes around the small buffer and the part size, which decide between
// PutObject and a multipart upload and where parts end.
func TestStagePartBoundaries(t *testing.T) {
	s := newTestStore(t, func(c *Config) { c.PartSize = MinPartSize })
	for i, n := range []int{smallSize - 1, smallSize, smallSize + 1, MinPartSize - 1, MinPartSize, MinPartSize + 1, 2 * MinPartSize, 2*MinPartSize + 1} {
		data := blobtest.RandomBytes(n, uint64(10+i))
		st := stage(t, s, data)
		if got, want := st.Digests(), blobtest.Digests(data); got != want {
			t.Fatalf("size %d: Digests = %+v, want %+v", n, got, want)
		}
		if _, err := st.Commit(context.Background()); err != nil {
			t.Fatalf("size %d: Commit: %v", n, err)
		}
		checkBlob(t, s, st.Digests().SHA256, data)
	}
	checkNoStaging(t, s)
}

// An unreachable server fails Open and Stage with faults that the HTTP layer
// answers 503, whose messages name neither key nor credentials.
func TestUnavailable(t *testing.T) {
	s := newTestStore(t, nil)
	const dead = "http://127.0.0.1:1" // nothing listens there
	cfg := s.cfg
	cfg.Endpoint = dead
	_, err := open(context.Background(), cfg, func(o *awss3.Options) { o.RetryMaxAttempts = 1 })
	if !errors.Is(err, fault.ErrUnavailable) || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), cfg.Bucket) {
		t.Errorf("Open against a dead server: %v; want ErrUnavailable naming the bucket and endpoint", err)
	}
	checkSecretFree(t, err)

	good := s.client
	defer func() { s.client = good }()
	s.client = awss3.New(good.Options(), func(o *awss3.Options) {
		o.BaseEndpoint = new(dead)
		o.RetryMaxAttempts = 1
	})
	_, err = s.Stage(context.Background(), bytes.NewReader([]byte("x")), 0)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("Stage against a dead server: %v, want ErrUnavailable", err)
	}
	if msg := fault.As(err).Message; strings.Contains(msg, "staging") {
		t.Errorf("message %q names the key", msg)
	}
	checkSecretFree(t, err)
	for _, err := range []error{
		func() error { _, err := s.Open(context.Background(), strings.Repeat("0", 64)); return err }(),
		func() error { _, err := s.Exists(context.Background(), strings.Repeat("0", 64)); return err }(),
		s.Delete(context.Background(), strings.Repeat("0", 64)),
		s.Ping(context.Background()),
	} {
		if !errors.Is(err, fault.ErrUnavailable) {
			t.Errorf("against a dead server: %v, want ErrUnavailable", err)
		}
	}
}

func s3Secret() string { return os.Getenv("AWS_SECRET_ACCESS_KEY") }

func checkSecretFree(t *testing.T, err error) {
	t.Helper()
	if secret := s3Secret(); err != nil && secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the secret key", err)
	}
}

// Every upload request signs its body's SHA-256, which S3 checks: what it
// stores is what the hasher saw. (An unsigned or streaming payload would
// leave that to TLS alone.)
func TestUploadsSignPayload(t *testing.T) {
	var hashes payloadHashes
	s := newTestStore(t, func(c *Config) { c.PartSize = MinPartSize }, func(o *awss3.Options) {
		hashes.inner = o.HTTPClient
		o.HTTPClient = &hashes
	})
	put(t, s, blobtest.RandomBytes(100, 1))
	put(t, s, blobtest.RandomBytes(12<<20, 2))
	if len(hashes.seen) != 1+3 {
		t.Errorf("%d uploads, want 4 (a PutObject, 3 parts)", len(hashes.seen))
	}
	for _, h := range hashes.seen {
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			t.Errorf("x-amz-content-sha256 = %q, want a SHA-256", h)
		}
	}
}

// payloadHashes records the x-amz-content-sha256 of PutObject and UploadPart.
type payloadHashes struct {
	inner awss3.HTTPClient
	mu    sync.Mutex
	seen  []string
}

func (p *payloadHashes) Do(r *http.Request) (*http.Response, error) {
	if x := r.URL.Query().Get("x-id"); x == "PutObject" || x == "UploadPart" {
		p.mu.Lock()
		p.seen = append(p.seen, r.Header.Get("X-Amz-Content-Sha256"))
		p.mu.Unlock()
	}
	return p.inner.Do(r)
}
