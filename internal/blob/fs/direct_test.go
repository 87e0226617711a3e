package fs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"coffer/internal/blob/blobtest"
	"coffer/internal/fault"
)

// TestStageSizesAroundDirectIO stages streams around the sizes where
// staging switches to direct I/O and back (a whole first buffer, a last
// piece that is not a whole block), on the test's file system and on a
// tmpfs, and reads every byte back.
func TestStageSizesAroundDirectIO(t *testing.T) {
	roots := map[string]string{"tempdir": t.TempDir()}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "coffer-fs-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		roots["tmpfs"] = d
	}
	sizes := []int{0, 1, directAlign, copySize - 1, copySize, copySize + 1, copySize + directAlign,
		3*copySize + 100, 4 * copySize}
	for name, root := range roots {
		s, err := New(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range sizes {
			content := blobtest.RandomBytes(size, uint64(size))
			// Short reads: a buffer fills from several of them.
			ctx := context.Background()
			st, err := s.Stage(ctx, iotest.HalfReader(bytes.NewReader(content)), 0)
			if err != nil {
				t.Fatalf("%s, %d bytes: Stage: %v", name, size, err)
			}
			if _, err := st.Commit(ctx); err != nil {
				t.Fatalf("%s, %d bytes: Commit: %v", name, size, err)
			}
			sum := sha256.Sum256(content)
			if got, want := st.Digests().SHA256, hex.EncodeToString(sum[:]); got != want {
				t.Fatalf("%s, %d bytes: SHA-256 %s, want %s", name, size, got, want)
			}
			got, err := os.ReadFile(s.Path(st.Digests().SHA256))
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("%s, %d bytes: read back %d bytes (%v), not the content", name, size, len(got), err)
			}
		}
		assertEmptyTmp(t, s)
	}
}

// TestSmallBlobsFromMemory: a small blob is read from its file once, then
// served from memory; deleting it is seen at once.
func TestSmallBlobsFromMemory(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	content := blobtest.RandomBytes(10<<10, 7)
	st, err := s.Stage(ctx, bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sha := st.Digests().SHA256
	read := func() []byte {
		t.Helper()
		obj, err := s.Open(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		if _, ok := obj.Reader().(*os.File); ok {
			t.Fatal("a small blob is served from its file")
		}
		b, err := io.ReadAll(obj.Reader())
		if err != nil {
			t.Fatal(err)
		}
		if obj.Size() != int64(len(content)) {
			t.Fatalf("Size() = %d, want %d", obj.Size(), len(content))
		}
		return b
	}
	if !bytes.Equal(read(), content) {
		t.Fatal("first read differs from the content")
	}
	// The file is gone behind the store's back: the second read is from
	// memory.
	if err := os.Rename(s.Path(sha), s.Path(sha)+".away"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(), content) {
		t.Fatal("second read differs from the content")
	}
	if err := os.Rename(s.Path(sha)+".away", s.Path(sha)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, sha); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("Open after Delete: %v, want not found", err)
	}
}
