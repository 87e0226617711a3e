// Package fs is the filesystem blob driver. Under its root:
//
//	<root>/
//	├── sha256/
//	│   └── ab/                  first two hex digits of the SHA-256
//	│       └── cd/              next two (at most 65536 directories)
//	│           └── abcd…        the blob, named by its full 64-digit SHA-256
//	└── tmp/
//	    └── stage-*              content being staged, not yet committed
//
// Stage writes into tmp/ (a stream of more than 1 MiB with direct I/O, out
// of the page cache, where the file system allows it); Commit fsyncs the
// file, hard-links it into sha256/ (atomic, and unlike a rename it fails if
// the blob exists; rename is the fallback where links are unsupported) and
// removes it from tmp/. A crash can
// leave files in tmp/ but never a partial blob. New deletes everything in tmp/: it runs at start-up,
// before any upload, so no two Stores may share a root at the same time.
// Files are created 0o640 and directories 0o750. Blobs of at most 64 KiB
// are kept in memory once read (small.go).
package fs

import (
	"context"
	"errors"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/lru"
)

const (
	fileMode = 0o640
	dirMode  = 0o750
	copySize = 1 << 20 // read and write in large pieces: fewer syscalls
	// directAlign is the alignment direct I/O asks of buffers, file
	// offsets and lengths: a page, which covers every block size in use.
	directAlign = 4096
)

var copyPool = sync.Pool{New: func() any { b := alignedBuffer(copySize); return &b }}

// alignedBuffer returns size bytes starting at a multiple of directAlign.
func alignedBuffer(size int) []byte {
	b := make([]byte, size+directAlign)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
	return b[off : off+size : off+size]
}

// Store is a blob.Store on a local filesystem. It is safe for concurrent use.
type Store struct {
	blobs string // <root>/sha256
	tmp   string // <root>/tmp
	// wrapStaging, when set (by tests), wraps what Stage writes to, to
	// inject write failures such as ENOSPC.
	wrapStaging func(io.Writer) io.Writer
	// small holds small blobs once read (small.go); nil when Inspecting.
	// changes counts Deletes and Commits, so that a blob read while one
	// ran is not kept.
	small   *lru.Cache[*blob.Bytes]
	changes atomic.Uint64
}

var (
	_ blob.Store          = (*Store)(nil)
	_ blob.NamedCommitter = (*staged)(nil)
)

// New opens (creating if needed) a store rooted at root and deletes anything
// left in its staging directory by an earlier run.
func New(root string) (*Store, error) {
	s := &Store{blobs: filepath.Join(root, "sha256"), tmp: filepath.Join(root, "tmp"),
		small: lru.New[*blob.Bytes](smallBlobCache)}
	for _, d := range []string{s.blobs, s.tmp} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fault.Internal(err, "blob store: create %s", d)
		}
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fault.Internal(err, "blob store: read %s", s.tmp)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return nil, fault.Internal(err, "blob store: remove stale staging file")
		}
	}
	return s, nil
}

// Inspect opens the store rooted at root without changing anything there:
// no directory is created and tmp/ is left alone, so it may be used beside
// the process that owns root (coffer backup and coffer fsck read a running
// server's blobs this way). Open, Exists, List and Delete work as usual;
// Stage must not be used.
func Inspect(root string) (*Store, error) {
	s := &Store{blobs: filepath.Join(root, "sha256"), tmp: filepath.Join(root, "tmp")}
	if _, err := os.Stat(s.blobs); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fault.Internal(err, "blob store: %s", s.blobs)
	}
	return s, nil
}

// Path returns the file that holds (or would hold) the blob named sha256,
// which must be valid.
func (s *Store) Path(sha256 string) string { return s.path(sha256) }

// StagingDir returns the directory (tmp/) where Stage writes.
func (s *Store) StagingDir() string { return s.tmp }

// path returns where the blob named sha256 lives; sha256 must be valid.
func (s *Store) path(sha256 string) string {
	return filepath.Join(s.blobs, sha256[:2], sha256[2:4], sha256)
}

// Stage implements blob.Store. Cancelling ctx stops it between reads of up to
// 1 MiB; a Read that blocks forever is the caller's to unblock. A full file
// system or an exhausted quota (ENOSPC, EDQUOT) fails it with
// fault.ErrInsufficientStorage, other write failures are internal; the
// reader's errors are returned as they are.
func (s *Store) Stage(ctx context.Context, r io.Reader, maxSize int64) (_ blob.Staged, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tmp, "stage-*")
	if err != nil {
		return nil, fault.Storage(err, "blob store: create staging file") // ENOSPC when out of inodes
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(fileMode); err != nil { // CreateTemp uses 0o600
		return nil, fault.Internal(err, "blob store: chmod staging file")
	}

	var w io.Writer = f
	if s.wrapStaging != nil {
		w = s.wrapStaging(f)
	}
	if maxSize > 0 && maxSize < math.MaxInt64 {
		// One byte more than allowed is enough to know the limit is
		// exceeded; no need to read further from the client.
		r = io.LimitReader(r, maxSize+1)
	}
	h := blob.NewHasher()
	bufs := newStageBuffers()
	defer func() {
		h.Close() // the hash goroutines are done with the buffers
		bufs.close()
	}()
	var size int64
	direct := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		bp := bufs.get()
		n, rerr := io.ReadFull(r, *bp)
		if n == 0 {
			bufs.put(bp)
		} else {
			size += int64(n)
			if maxSize > 0 && size > maxSize {
				bufs.put(bp)
				return nil, fault.Validation("asset exceeds the size limit of %d bytes", maxSize)
			}
			p := (*bp)[:n]
			first := size == int64(n)
			if first && rerr != nil {
				// The whole stream in one read: hashed inline at Sum.
				h.Write(p)
				bufs.put(bp)
			} else {
				// The hash goroutines read the buffer in place while
				// it is written; it is read into again once they are
				// done.
				h.Share(p, func() { bufs.put(bp) })
			}
			// A stream that fills the first buffer is big enough to
			// write directly; the file offset is aligned while every
			// write but the last is a whole buffer.
			if first && n == copySize && s.wrapStaging == nil {
				direct = setDirect(f, true) == nil
			}
			if err := writeStaging(w, f, &direct, p); err != nil {
				return nil, err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	return &staged{store: s, f: f, tmpPath: f.Name(), digests: h.Sum()}, nil
}

// writeStaging writes p to w, the staging file f or a test's wrapper of it.
// Direct I/O takes only whole aligned blocks, so it is turned off before a
// last, shorter piece, and for good where the file system refuses a direct
// write (EINVAL).
func writeStaging(w io.Writer, f *os.File, direct *bool, p []byte) error {
	if *direct && len(p)%directAlign != 0 {
		if err := setDirect(f, false); err != nil {
			return fault.Storage(err, "blob store: staging file leaves direct I/O")
		}
		*direct = false
	}
	_, err := w.Write(p)
	if err != nil && *direct && errors.Is(err, syscall.EINVAL) {
		if serr := setDirect(f, false); serr != nil {
			return fault.Storage(serr, "blob store: staging file leaves direct I/O")
		}
		*direct = false
		_, err = w.Write(p) // nothing was written: the offset is unchanged
	}
	if err != nil {
		return fault.Storage(err, "blob store: write staging file")
	}
	return nil
}

// Open implements blob.Store. The Object's Reader is the *os.File, so that
// net/http sends it with sendfile, except for small blobs, served from memory.
func (s *Store) Open(ctx context.Context, sha256 string) (blob.Object, error) {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return nil, err
	}
	if obj, ok := s.cachedSmall(sha256); ok {
		return obj, nil
	}
	gen := s.changes.Load()
	f, err := os.Open(s.path(sha256))
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound(sha256)
	}
	if err != nil {
		return nil, fault.Internal(err, "blob store: open blob")
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fault.Internal(err, "blob store: stat blob")
	}
	if s.small != nil && fi.Size() <= smallBlobSize {
		return s.keepSmall(sha256, f, fi, gen)
	}
	return &object{File: f, size: fi.Size(), modTime: fi.ModTime()}, nil
}

// Exists implements blob.Store.
func (s *Store) Exists(ctx context.Context, sha256 string) (bool, error) {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return false, err
	}
	_, err := os.Stat(s.path(sha256))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fault.Internal(err, "blob store: stat blob")
	}
	return true, nil
}

// Delete implements blob.Store. Empty directories are left in place: there
// are at most 65536 and a later blob will likely reuse them.
func (s *Store) Delete(ctx context.Context, sha256 string) error {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return err
	}
	s.forgetSmall(sha256)
	if err := os.Remove(s.path(sha256)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fault.Internal(err, "blob store: delete blob")
	}
	return nil
}

func notFound(sha256 string) error {
	return fault.NotFound("asset", sha256, "asset content %s not found", sha256)
}

// object is an open blob. Embedding *os.File provides Read, Seek and Close.
type object struct {
	*os.File
	size    int64
	modTime time.Time
}

func (o *object) Size() int64           { return o.size }
func (o *object) ModTime() time.Time    { return o.modTime }
func (o *object) Reader() io.ReadSeeker { return o.File }

// staged is a file in tmp/. The mutex makes Commit and Discard safe to race.
type staged struct {
	store   *Store
	tmpPath string
	digests blob.Digests

	mu        sync.Mutex
	f         *os.File // open until Commit syncs and closes it
	committed bool
	discarded bool
}

func (st *staged) Digests() blob.Digests { return st.digests }

// Commit implements blob.Staged. A second Commit reports created=false; a
// Commit after Discard fails. If Commit fails, the caller should Discard.
func (st *staged) Commit(ctx context.Context) (bool, error) {
	return st.commit(ctx, st.digests.SHA256)
}

// CommitAs implements blob.NamedCommitter: an existing blob of that name is
// kept (place never replaces one).
func (st *staged) CommitAs(ctx context.Context, name string) (bool, error) {
	if err := blob.ValidateSHA256(name); err != nil {
		return false, err
	}
	return st.commit(ctx, name)
}

func (st *staged) commit(ctx context.Context, name string) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.discarded:
		return false, fault.Internal(nil, "blob store: commit of a discarded staged blob")
	case st.committed:
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if st.f != nil {
		// Delayed allocation and network file systems report a full
		// disk here rather than at write.
		if err := st.f.Sync(); err != nil {
			return false, fault.Storage(err, "blob store: sync staging file")
		}
		if err := st.f.Close(); err != nil {
			return false, fault.Storage(err, "blob store: close staging file")
		}
		st.f = nil
	}
	created, err := st.store.place(st.tmpPath, name)
	if err != nil {
		return false, err
	}
	st.committed = true
	return created, nil
}

// Discard implements blob.Staged.
func (st *staged) Discard() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.committed || st.discarded {
		return nil
	}
	st.discarded = true
	if st.f != nil {
		st.f.Close()
		st.f = nil
	}
	if err := os.Remove(st.tmpPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fault.Internal(err, "blob store: remove staging file")
	}
	return nil
}

// place moves the synced staging file tmp to the blob's path and makes the new
// directory entries durable. created is false if the blob was already there.
func (s *Store) place(tmp, sha256 string) (created bool, err error) {
	s.forgetSmall(sha256)
	dir := filepath.Join(s.blobs, sha256[:2])
	if err := ensureDir(s.blobs, dir); err != nil {
		return false, err
	}
	dir2 := filepath.Join(dir, sha256[2:4])
	if err := ensureDir(dir, dir2); err != nil {
		return false, err
	}
	final := filepath.Join(dir2, sha256)
	// Link, unlike rename, fails if the target exists, so of concurrent
	// commits of the same content exactly one reports created.
	err = os.Link(tmp, final)
	switch {
	case err == nil:
		created = true
	case errors.Is(err, os.ErrExist):
		if created, err = reuse(tmp, final); err != nil {
			return false, err
		}
	default:
		// No hard links here (some network or FUSE filesystems):
		// rename, which overwrites, so check first.
		if _, serr := os.Lstat(final); serr == nil {
			if err := touch(final); err != nil {
				return false, err
			}
			break
		}
		if err := os.Rename(tmp, final); err != nil {
			return false, fault.Internal(err, "blob store: move blob into place")
		}
		created = true
	}
	os.Remove(tmp) // after a rename, already gone
	if created {
		if err := syncDir(dir2); err != nil {
			return false, err
		}
	}
	return created, nil
}

// ensureDir creates dir (a child of parent) if missing and then syncs parent,
// so that the new entry survives a crash.
func ensureDir(parent, dir string) error {
	err := os.Mkdir(dir, dirMode)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fault.Internal(err, "blob store: create directory")
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fault.Internal(err, "blob store: open directory")
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fault.Internal(err, "blob store: sync directory")
	}
	return nil
}

// reuse is place's answer to an identical blob at final: it refreshes the
// blob's modification time (blob.Staged.Commit: a collector's grace period
// counts from it). If the blob was deleted since the link failed, it links
// tmp again, and created reports that this call created the blob after all.
func reuse(tmp, final string) (created bool, err error) {
	for range 3 {
		now := time.Now()
		err := os.Chtimes(final, now, now)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return false, fault.Internal(err, "blob store: refresh blob")
		}
		switch err := os.Link(tmp, final); {
		case err == nil:
			return true, nil
		case !errors.Is(err, os.ErrExist):
			return false, fault.Internal(err, "blob store: link blob")
		}
	}
	// Deleted and recreated under our feet three times: the blob is
	// present and was just committed by someone else, which is enough.
	return false, nil
}

// touch sets the modification time of the existing blob at path to now.
func touch(path string) error {
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		return fault.Internal(err, "blob store: refresh blob")
	}
	return nil
}

// List implements blob.Store: it walks sha256/ in name order, one leaf
// directory (at most 1/65536 of the blobs) read at a time. Files whose name
// is not a SHA-256 filed under its own prefix are not blobs and are skipped.
func (s *Store) List(ctx context.Context) iter.Seq2[blob.Info, error] {
	return func(yield func(blob.Info, error) bool) {
		fail := func(err error) { yield(blob.Info{}, err) }
		tops, err := readDirs(s.blobs)
		if err != nil {
			fail(err)
			return
		}
		for _, a := range tops {
			subs, err := readDirs(filepath.Join(s.blobs, a))
			if err != nil {
				fail(err)
				return
			}
			for _, b := range subs {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				dir := filepath.Join(s.blobs, a, b)
				entries, err := os.ReadDir(dir)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					fail(fault.Internal(err, "blob store: list %s", dir))
					return
				}
				for _, e := range entries {
					name := e.Name()
					if !e.Type().IsRegular() || blob.ValidateSHA256(name) != nil || name[:2] != a || name[2:4] != b {
						continue
					}
					fi, err := e.Info()
					if errors.Is(err, os.ErrNotExist) {
						continue // deleted since the directory was read
					}
					if err != nil {
						fail(fault.Internal(err, "blob store: stat blob"))
						return
					}
					if !yield(blob.Info{SHA256: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil) {
						return
					}
				}
			}
		}
	}
}

// readDirs returns the names of the two-hex-digit subdirectories of dir
// (the fan-out levels under sha256/), sorted; a missing dir has none.
func readDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fault.Internal(err, "blob store: list %s", dir)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); e.IsDir() && len(n) == 2 && isLowerHex(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func isLowerHex(s string) bool {
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
