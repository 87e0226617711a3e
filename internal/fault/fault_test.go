package fault

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// TestStorageFull: a write that failed because the server's storage is
// full is InsufficientStorage however it was wrapped; other write
// failures stay internal, and other categories are never overridden.
func TestStorageFull(t *testing.T) {
	enospc := &fs.PathError{Op: "write", Path: "/data/spool/coffer-pypi-upload-1", Err: syscall.ENOSPC}
	edquot := &fs.PathError{Op: "write", Path: "/data/blobs/tmp/stage-1", Err: syscall.EDQUOT}
	eio := &fs.PathError{Op: "write", Path: "/data/blobs/tmp/stage-1", Err: syscall.EIO}
	cases := []struct {
		name string
		err  error
		want Kind
	}{
		{"Storage(ENOSPC)", Storage(enospc, "could not receive the upload"), KindInsufficientStorage},
		{"Storage(EDQUOT)", Storage(edquot, "could not stage the blob"), KindInsufficientStorage},
		{"Storage(EIO)", Storage(eio, "could not stage the blob"), KindInternal},
		{"Internal over Storage", Internal(Storage(enospc, "stage"), "could not store the asset"), KindInsufficientStorage},
		{"Internal over Internal over Storage", Internal(fmt.Errorf("commit: %w", Internal(Storage(enospc, "sync"), "blob")), "store"), KindInsufficientStorage},
		{"Internal over bare ENOSPC", Internal(enospc, "could not receive the tarball"), KindInsufficientStorage},
		{"bare ENOSPC", fmt.Errorf("copy: %w", enospc), KindInsufficientStorage},
		{"Internal over EIO", Internal(eio, "x"), KindInternal},
		{"Validation is kept", Validation("bad: %v", enospc), KindValidation},
		{"Conflict over Storage is kept", &Error{Kind: KindConflict, Message: "c", Err: Storage(enospc, "x")}, KindConflict},
		{"plain error", errors.New("boom"), KindInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err); got != tc.want {
				t.Errorf("KindOf = %v, want %v", got, tc.want)
			}
			if got := As(tc.err).Kind; got != tc.want {
				t.Errorf("As().Kind = %v, want %v", got, tc.want)
			}
		})
	}
	if !errors.Is(Internal(Storage(enospc, "stage"), "store"), ErrInsufficientStorage) || errors.Is(Storage(eio, "stage"), ErrInsufficientStorage) {
		t.Error("errors.Is(ErrInsufficientStorage) does not follow the kind")
	}
	// What a client may see names no path.
	for _, err := range []error{Storage(enospc, "could not receive the upload"), fmt.Errorf("x: %w", enospc)} {
		if msg := As(err).Message; msg == "" || strings.Contains(msg, "/data") {
			t.Errorf("message %q is empty or names a path", msg)
		}
	}
}

// A backend that is down is a 503 on every surface, however deep a layer
// wrapped it as internal.
func TestUnavailableThroughInternal(t *testing.T) {
	down := Unavailable(errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"), "metadata store unavailable")
	wrapped := fmt.Errorf("read plan: %w", Internal(down, "asset content of a.bin is unavailable"))
	if got := As(wrapped); got.Kind != KindUnavailable || got.Message != "metadata store unavailable" {
		t.Fatalf("As = %+v, want the Unavailable error", got)
	}
	if got := As(Internal(errors.New("boom"), "internal")); got.Kind != KindInternal {
		t.Fatalf("a plain internal error became %v", got.Kind)
	}
}
