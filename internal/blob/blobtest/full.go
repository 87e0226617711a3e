package blobtest

import (
	"context"
	"io"
	"io/fs"
	"sync/atomic"
	"syscall"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Fillable wraps a Store that a test can fill up: once Full is set, Stage
// reads a little of its input and then fails the way the filesystem driver
// does on ENOSPC (a fault.Storage), so callers' answers to a full disk can
// be checked without one.
type Fillable struct {
	blob.Store
	Full atomic.Bool
}

// Stage implements blob.Store.
func (b *Fillable) Stage(ctx context.Context, r io.Reader, maxSize int64) (blob.Staged, error) {
	if b.Full.Load() {
		_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
		return nil, fault.Storage(&fs.PathError{Op: "write", Path: "/data/blobs/tmp/stage-1", Err: syscall.ENOSPC}, "blob store: write staging file")
	}
	return b.Store.Stage(ctx, r, maxSize)
}
