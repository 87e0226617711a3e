// Package blob defines the content-addressed blob store that holds asset bytes.
// A blob is named by the lower-case hex SHA-256 of its content. Writing is two
// steps so that nothing becomes visible before it is verified and recorded:
// Stage streams the content into a temporary place while computing MD5, SHA-1,
// SHA-256 and SHA-512 in one pass; the caller checks the digests, then
// Commit makes the blob durable (fsync, rename) under its SHA-256 name, or
// Discard removes it. Every driver must pass the suite in blob/blobtest.
//
// Blobs that no asset references (left by a process killed between Commit
// and the metadata transaction) are found with List and collected by the
// artifact service after a grace period counted from ModTime; see Staged.Commit.
package blob

import (
	"context"
	"io"
	"iter"
	"time"
)

// Digests are the hashes and size of a blob, lower-case hex.
type Digests struct {
	SHA256 string
	SHA512 string
	SHA1   string
	MD5    string
	Size   int64
}

// Store is a content-addressed blob store.
type Store interface {
	// Stage reads r to its end into a staging area, computing all digests in
	// one pass. It fails with fault.ErrValidation (and stages nothing) when
	// more than maxSize bytes arrive (maxSize <= 0 means no limit), and with
	// the reader's error if reading fails.
	Stage(ctx context.Context, r io.Reader, maxSize int64) (Staged, error)
	// Open returns the blob's content; the concrete type of its Reader is
	// chosen by the driver (the filesystem driver's is *os.File so that
	// net/http can use sendfile, except for small blobs kept in memory).
	// fault.ErrNotFound if absent.
	Open(ctx context.Context, sha256 string) (Object, error)
	// Exists reports whether the blob is present.
	Exists(ctx context.Context, sha256 string) (bool, error)
	// Delete removes the blob; deleting an absent blob is not an error.
	Delete(ctx context.Context, sha256 string) error
	// List yields each blob that is present throughout the iteration
	// exactly once, in no particular order, and nothing that is only staged.
	// Blobs may be committed and deleted (also by the caller) meanwhile:
	// those may or may not be yielded. A failure, a cancelled ctx included,
	// is yielded as the error of a last pair.
	List(ctx context.Context) iter.Seq2[Info, error]
}

// Info describes a committed blob as List finds it.
type Info struct {
	SHA256  string
	Size    int64
	ModTime time.Time // refreshed by every Commit of its content (see Staged.Commit)
}

// Object is an open blob.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
	// Reader is what to hand to http.ServeContent (the driver's native
	// reader, *os.File for the filesystem driver).
	Reader() io.ReadSeeker
}

// Redirector is implemented by an Object that clients may download from
// the blob store itself (an object store's presigned URL): RedirectURL
// returns a short-lived URL of the content, or ok false when this object is
// to be streamed through coffer (redirects off, or the object too small).
type Redirector interface {
	RedirectURL(ctx context.Context) (url string, ok bool, err error)
}

// Staged is content that has been read and hashed but is not yet a blob.
type Staged interface {
	Digests() Digests
	// Commit makes the content durable under its SHA-256 name. created
	// reports whether this call created the blob (false when an identical
	// blob was already present). Either way the blob's ModTime is afterwards no
	// earlier than the end of this content's Stage (an existing blob's is
	// refreshed): a collector of unreferenced blobs counts its grace period
	// from ModTime, so an old orphan that an upload is about to reference
	// looks new again. After Commit, Discard is a no-op.
	Commit(ctx context.Context) (created bool, err error)
	// Discard removes the staged content. It is safe to call more than once
	// and after Commit.
	Discard() error
}

// NamedCommitter is implemented by a Staged that can be committed under a
// name other than its content's SHA-256: a derived name that is itself 64
// lower-case hex digits (an encrypted blob is stored under a name derived
// from its plaintext's SHA-256, see blob/encrypted). CommitAs is Commit
// with that name, with one difference: when an object of that name exists,
// its content is kept as it is (only its ModTime is refreshed), because two
// stagings of the same plaintext need not be byte-identical. Open, Exists,
// Delete and List treat such a name like any other.
type NamedCommitter interface {
	CommitAs(ctx context.Context, name string) (created bool, err error)
}
