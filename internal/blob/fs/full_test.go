package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"coffer/internal/fault"
)

// fullAfter is a writer on a file system that fills up after room bytes:
// the write that crosses it fails the way write(2) does, with ENOSPC.
type fullAfter struct {
	w    io.Writer
	room int
}

func (f *fullAfter) Write(p []byte) (int, error) {
	if len(p) > f.room {
		n, _ := f.w.Write(p[:f.room])
		f.room = 0
		return n, &os.PathError{Op: "write", Path: "stage", Err: syscall.ENOSPC}
	}
	f.room -= len(p)
	return f.w.Write(p)
}

// TestStageOnFullDisk: a staging write that fails with ENOSPC is
// InsufficientStorage (the server's disk, never the client's fault), and
// nothing is left in tmp/.
func TestStageOnFullDisk(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.wrapStaging = func(w io.Writer) io.Writer { return &fullAfter{w: w, room: 1 << 20} }
	st, err := s.Stage(context.Background(), bytes.NewReader(make([]byte, 3<<20)), 0)
	if st != nil || !errors.Is(err, fault.ErrInsufficientStorage) {
		t.Fatalf("Stage = %v, %v; want InsufficientStorage", st, err)
	}
	assertEmptyTmp(t, s)
}

// TestStageOnRealFullDisk stages into a 1 MiB tmpfs: the kernel's own
// ENOSPC. It needs to mount (root); elsewhere TestStageOnFullDisk covers
// the same path with an injected ENOSPC.
func TestStageOnRealFullDisk(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	s, err := New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stage(context.Background(), bytes.NewReader(make([]byte, 4<<20)), 0)
	if st != nil || !errors.Is(err, fault.ErrInsufficientStorage) || fault.KindOf(err) != fault.KindInsufficientStorage {
		t.Fatalf("Stage = %v, %v; want InsufficientStorage", st, err)
	}
	assertEmptyTmp(t, s)
	// The space is back: a small blob stages and commits.
	st, err = s.Stage(context.Background(), bytes.NewReader([]byte("small")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func assertEmptyTmp(t *testing.T, s *Store) {
	t.Helper()
	left, err := os.ReadDir(s.tmp)
	if err != nil || len(left) != 0 {
		t.Fatalf("tmp/ after the failed Stage: %v %v", left, err)
	}
}
