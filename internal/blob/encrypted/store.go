package encrypted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"time"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Store is a blob.Store that encrypts under one Key into a wrapped store,
// whose Staged must implement blob.NamedCommitter. Its names are the
// plaintexts' SHA-256 and its Digests the plaintexts'; its Objects never
// implement blob.Redirector (the wrapped store only holds ciphertext). It
// is safe for concurrent use.
type Store struct {
	inner blob.Store
	key   Key
}

var _ blob.Store = (*Store)(nil)

// New returns a Store that keeps blobs encrypted under key in inner.
func New(inner blob.Store, key Key) *Store { return &Store{inner: inner, key: key} }

// Key is the Store's key.
func (s *Store) Key() Key { return s.key }

// KeyID is the ID of the Store's key.
func (s *Store) KeyID() KeyID { return s.key.ID }

// Name is the name of the object that holds the blob sha in the wrapped
// store.
func (s *Store) Name(sha string) string { return ObjectName(s.key.ID, sha) }

// Stage implements blob.Store: the content is encrypted as it is read, and
// only ciphertext reaches the wrapped store. maxSize bounds the plaintext.
func (s *Store) Stage(ctx context.Context, r io.Reader, maxSize int64) (blob.Staged, error) {
	hdr := newHeader(s.key.ID)
	c, err := newBlobCipher(&s.key.Secret, hdr)
	if err != nil {
		return nil, fault.Internal(err, "encrypted blob store: key")
	}
	if maxSize > 0 && maxSize < math.MaxInt64 {
		r = io.LimitReader(r, maxSize+1)
	}
	h := blob.NewHasher()
	defer h.Close()
	sr := &sealingReader{src: r, c: c, h: h, max: maxSize, buf: make([]byte, SegmentSize),
		out: append(make([]byte, 0, SegmentSize+tagSize+TrailerSize), hdr.raw[:]...)}
	st, err := s.inner.Stage(ctx, sr, 0)
	if err != nil {
		return nil, err
	}
	if !sr.done {
		st.Discard()
		return nil, fault.Internal(nil, "encrypted blob store: the wrapped store did not read the content to its end")
	}
	nc, ok := st.(blob.NamedCommitter)
	if !ok {
		st.Discard()
		return nil, fault.Internal(nil, "encrypted blob store: the wrapped store cannot commit under a derived name")
	}
	return &staged{inner: st, nc: nc, name: s.Name(sr.digests.SHA256), digests: sr.digests}, nil
}

// sealingReader reads plaintext from src and yields the object: header,
// segments, trailer. It reads one byte ahead to know which segment is last.
type sealingReader struct {
	src     io.Reader
	c       *blobCipher
	h       *blob.Hasher
	max     int64
	size    int64
	buf     []byte // a segment's plaintext
	peek    [1]byte
	peeked  bool
	out     []byte // ciphertext not yet returned
	next    int64  // index of the next segment
	done    bool   // the trailer is in out
	digests blob.Digests
}

func (r *sealingReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// fill encrypts the next segment into out.
func (r *sealingReader) fill() error {
	n := 0
	if r.peeked {
		r.buf[0], n, r.peeked = r.peek[0], 1, false
	}
	m, err := io.ReadFull(r.src, r.buf[n:])
	n += m
	final := false
	switch {
	case err == nil:
		k, perr := io.ReadFull(r.src, r.peek[:])
		switch {
		case k == 1:
			r.peeked = true
		case perr == io.EOF:
			final = true
		default:
			return perr
		}
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		final = true
	default:
		return err
	}
	r.size += int64(n)
	if r.max > 0 && r.size > r.max {
		return fault.Validation("asset exceeds the size limit of %d bytes", r.max)
	}
	r.h.Write(r.buf[:n])
	r.out = r.c.sealSegment(r.out[:0], r.buf[:n], r.next, final)
	r.next++
	if final {
		r.digests = r.h.Sum()
		var sum [sha256.Size]byte
		hex.Decode(sum[:], []byte(r.digests.SHA256))
		r.out = r.c.sealTrailer(r.out, sum)
		r.done = true
	}
	return nil
}

// staged is content encrypted into the wrapped store's staging.
type staged struct {
	inner   blob.Staged
	nc      blob.NamedCommitter
	name    string
	digests blob.Digests
}

func (st *staged) Digests() blob.Digests { return st.digests }

// Commit implements blob.Staged with the wrapped store's CommitAs: an
// object that holds the plaintext already is kept.
func (st *staged) Commit(ctx context.Context) (bool, error) { return st.nc.CommitAs(ctx, st.name) }

func (st *staged) Discard() error { return st.inner.Discard() }

// Open implements blob.Store. The header is read and checked at once, each
// segment when a read reaches it.
func (s *Store) Open(ctx context.Context, sha string) (blob.Object, error) {
	if err := blob.ValidateSHA256(sha); err != nil {
		return nil, err
	}
	obj, err := s.inner.Open(ctx, s.Name(sha))
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("asset", sha, "asset content %s not found", sha)
	}
	if err != nil {
		return nil, err
	}
	o, err := openObject(obj, &s.key)
	if err != nil {
		obj.Close()
		return nil, fault.Internal(err, "encrypted blob store: blob %s", sha)
	}
	return o, nil
}

// Exists implements blob.Store.
func (s *Store) Exists(ctx context.Context, sha string) (bool, error) {
	if err := blob.ValidateSHA256(sha); err != nil {
		return false, err
	}
	return s.inner.Exists(ctx, s.Name(sha))
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, sha string) error {
	if err := blob.ValidateSHA256(sha); err != nil {
		return err
	}
	return s.inner.Delete(ctx, s.Name(sha))
}

// List implements blob.Store: it lists the wrapped store and yields the
// objects under this Store's key, by their plaintext SHA-256 and size
// (reading each object's header and trailer).
func (s *Store) List(ctx context.Context) iter.Seq2[blob.Info, error] {
	return func(yield func(blob.Info, error) bool) {
		for info, err := range s.inner.List(ctx) {
			if err != nil {
				yield(blob.Info{}, err)
				return
			}
			d, ok, err := Describe(ctx, s.inner, info.SHA256, func(id KeyID) (Key, bool) { return s.key, id == s.key.ID })
			if errors.Is(err, fault.ErrNotFound) {
				continue // deleted since it was listed
			}
			if err != nil {
				yield(blob.Info{}, err)
				return
			}
			if ok && !yield(blob.Info{SHA256: d.SHA256, Size: d.Size, ModTime: info.ModTime}, nil) {
				return
			}
		}
	}
}

// Description is what Describe learns of an encrypted object.
type Description struct {
	KeyID   KeyID
	SHA256  string // of the plaintext
	Size    int64  // of the plaintext
	ModTime time.Time
}

// Describe tells whether the object named name in inner is an encrypted
// blob under a key that keys knows, and if so which plaintext it holds:
// its header names the key, its trailer authenticates under it, and name is
// ObjectName of the key and the trailer's SHA-256. ok is false for any
// other object (a plaintext blob, a key keys does not know). An absent
// object is fault.ErrNotFound.
func Describe(ctx context.Context, inner blob.Store, name string, keys func(KeyID) (Key, bool)) (d Description, ok bool, err error) {
	obj, err := inner.Open(ctx, name)
	if err != nil {
		return d, false, err
	}
	defer obj.Close()
	size := obj.Size()
	plain, err := PlainSize(size)
	if err != nil {
		return d, false, nil
	}
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(obj, hb[:]); err != nil {
		return d, false, fmt.Errorf("encrypted blob store: read %s: %w", name, err)
	}
	hdr, err := parseHeader(hb[:])
	if err != nil {
		return d, false, nil
	}
	key, known := keys(hdr.id)
	if !known {
		return d, false, nil
	}
	c, err := newBlobCipher(&key.Secret, hdr)
	if err != nil {
		return d, false, err
	}
	if _, err := obj.Seek(size-TrailerSize, io.SeekStart); err != nil {
		return d, false, fmt.Errorf("encrypted blob store: read %s: %w", name, err)
	}
	var tb [TrailerSize]byte
	if _, err := io.ReadFull(obj, tb[:]); err != nil {
		return d, false, fmt.Errorf("encrypted blob store: read %s: %w", name, err)
	}
	sha, err := c.openTrailer(tb[:])
	if err != nil || ObjectName(hdr.id, sha) != name {
		return d, false, nil
	}
	return Description{KeyID: hdr.id, SHA256: sha, Size: plain, ModTime: obj.ModTime()}, true, nil
}
