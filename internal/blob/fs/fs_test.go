package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"coffer/internal/blob"
	"coffer/internal/blob/blobtest"
	"coffer/internal/fault"
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, root := newStore(t)
		t.Cleanup(func() { checkTmpEmpty(t, root) })
		return s
	})
}

// checkTmpEmpty fails if anything is left in the staging directory.
func checkTmpEmpty(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in tmp/: %s", e.Name())
	}
}

func TestLayout(t *testing.T) {
	s, root := newStore(t)
	data := []byte("layout")
	st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	sha := st.Digests().SHA256
	if tmp := filepath.Join(root, "tmp"); filepath.Dir(st.(*staged).tmpPath) != tmp {
		t.Errorf("staging file %s is not in %s", st.(*staged).tmpPath, tmp)
	}
	if _, err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "sha256", sha[:2], sha[2:4], sha)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("blob not at %s: %v", p, err)
	}
	if got := fi.Mode().Perm(); got != fileMode {
		t.Errorf("blob mode %o, want %o", got, fileMode)
	}
	for _, d := range []string{filepath.Dir(p), filepath.Dir(filepath.Dir(p))} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		// umask can only remove bits.
		if got := fi.Mode().Perm(); got&^dirMode != 0 {
			t.Errorf("%s mode %o, want at most %o", d, got, dirMode)
		}
	}
	checkTmpEmpty(t, root)
}

// TestOpenReaderIsFile: a blob bigger than the small ones kept in memory is
// served from its file, with sendfile.
func TestOpenReaderIsFile(t *testing.T) {
	s, _ := newStore(t)
	st, err := s.Stage(context.Background(), bytes.NewReader(blobtest.RandomBytes(smallBlobSize+1, 1)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	obj, err := s.Open(context.Background(), st.Digests().SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if _, ok := obj.Reader().(*os.File); !ok {
		t.Errorf("Reader() is %T, want *os.File", obj.Reader())
	}
}

func TestNotFoundIsAsset(t *testing.T) {
	s, _ := newStore(t)
	sha := blobtest.Digests([]byte("absent")).SHA256
	_, err := s.Open(context.Background(), sha)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.KindNotFound || fe.ResourceType != "asset" || fe.ResourceID != sha {
		t.Errorf("Open of absent blob: %#v", err)
	}
}

func TestNoLeftoversAfterFailedStage(t *testing.T) {
	s, root := newStore(t)
	ctx := context.Background()
	data := blobtest.RandomBytes(3<<20, 1)
	if _, err := s.Stage(ctx, bytes.NewReader(data), 1<<20); !errors.Is(err, fault.ErrValidation) {
		t.Errorf("oversized Stage: %v", err)
	}
	checkTmpEmpty(t, root)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Stage(cctx, bytes.NewReader(data), 0); err == nil {
		t.Error("cancelled Stage succeeded")
	}
	checkTmpEmpty(t, root)
	st, err := s.Stage(ctx, bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Discard(); err != nil {
		t.Fatal(err)
	}
	checkTmpEmpty(t, root)
	// Only the top-level directories exist: nothing was placed.
	entries, _ := os.ReadDir(filepath.Join(root, "sha256"))
	if len(entries) != 0 {
		t.Errorf("sha256/ has %d entries", len(entries))
	}
}

func TestNewRemovesStaleStaging(t *testing.T) {
	root := t.TempDir()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: a staged-but-uncommitted file and a stray directory.
	if _, err := s.Stage(context.Background(), bytes.NewReader([]byte("crash")), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "tmp", "stray", "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := New(root); err != nil {
		t.Fatal(err)
	}
	checkTmpEmpty(t, root)
}

func TestNewFailsOnUnusableRoot(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); err == nil {
		t.Error("New on a regular file succeeded")
	}
}

// TestConcurrentCommitCreatesOnce: the link-based placement lets exactly one
// of several racing commits of the same content report created.
func TestConcurrentCommitCreatesOnce(t *testing.T) {
	s, root := newStore(t)
	data := blobtest.RandomBytes(100_000, 3)
	var staged []blob.Staged
	for range 8 {
		st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		staged = append(staged, st)
	}
	var created atomic.Int32
	var wg sync.WaitGroup
	for _, st := range staged {
		wg.Go(func() {
			ok, err := st.Commit(context.Background())
			if err != nil {
				t.Error(err)
			}
			if ok {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	if n := created.Load(); n != 1 {
		t.Errorf("%d commits reported created, want 1", n)
	}
	checkTmpEmpty(t, root)
}

// TestStageMemoryBounded stages 128 MiB and checks that the heap does not
// grow with the stream (BenchmarkStageMemory does 1 GiB).
func TestStageMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("stages 128 MiB")
	}
	s, _ := newStore(t)
	grew, _ := stageMeasuringHeap(t, s, 128<<20)
	if grew.heapPeak > 16<<20 || grew.sys > 16<<20 {
		t.Errorf("memory grew while staging 128 MiB: %+v", grew)
	}
}

// memGrowth is how much memory a stage took beyond what was in use before.
type memGrowth struct {
	heapPeak uint64 // peak HeapInuse, sampled every 4 MiB read
	sys      uint64 // Sys: memory obtained from the OS
}

// stageMeasuringHeap stages and commits size bytes and returns the memory
// growth and the blob's SHA-256.
func stageMeasuringHeap(tb testing.TB, s *Store, size int64) (memGrowth, string) {
	tb.Helper()
	// Twice: the first GC only moves sync.Pool contents to its victim
	// cache, which would otherwise count in the base and hide reuse.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, baseSys, peak := ms.HeapInuse, ms.Sys, ms.HeapInuse
	var next int64
	r := &patternReader{left: size, onRead: func(done int64) {
		if done >= next { // ReadMemStats stops the world: not too often
			next += 4 << 20
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}}
	st, err := s.Stage(context.Background(), r, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Commit(context.Background()); err != nil {
		tb.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	return memGrowth{heapPeak: peak - base, sys: ms.Sys - baseSys}, st.Digests().SHA256
}

// patternReader yields left bytes of a fixed random pattern, cheaply.
type patternReader struct {
	left, done int64
	onRead     func(done int64)
}

var pattern = blobtest.RandomBytes(1<<20, 42)

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	off := int(r.done % int64(len(pattern)))
	n := copy(p[:min(int64(len(p)), r.left)], pattern[off:])
	r.left -= int64(n)
	r.done += int64(n)
	if r.onRead != nil {
		r.onRead(r.done)
	}
	return n, nil
}
