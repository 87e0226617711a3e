package encrypted

import (
	"fmt"

	"coffer/internal/blob"
)

// Verifier checks an encrypted object as its bytes are written to it, in
// order (an io.Writer to tee a raw copy into): the header must name key,
// every segment must authenticate, and the trailer too. Sum then tells the
// plaintext's digests, after checking the trailer's SHA-256 against them.
// Tools that copy objects raw (backup, restore, fsck, migrate) use it to
// verify what they copy without writing plaintext anywhere.
type Verifier struct {
	key    Key
	size   int64 // of the object
	plain  int64
	last   int64 // index of the last segment
	c      *blobCipher
	h      *blob.Hasher
	buf    []byte
	plainB []byte
	seg    int64 // next segment; last+1: the trailer is next
	n      int64 // bytes written
	sha    string
	err    error
}

// NewVerifier returns a Verifier of an object of size bytes under key. An
// impossible size is ErrCorrupt.
func NewVerifier(key Key, size int64) (*Verifier, error) {
	plain, err := PlainSize(size)
	if err != nil {
		return nil, err
	}
	return &Verifier{key: key, size: size, plain: plain, last: max(0, (plain-1)/SegmentSize), h: blob.NewHasher(),
		buf: make([]byte, 0, SegmentSize+tagSize), plainB: make([]byte, 0, SegmentSize)}, nil
}

// need is the size of the next unit: header, segment or trailer.
func (v *Verifier) need() int {
	switch {
	case v.c == nil:
		return HeaderSize
	case v.seg <= v.last:
		return int(min(SegmentSize, v.plain-v.seg*SegmentSize)) + tagSize
	default:
		return TrailerSize
	}
}

// Write implements io.Writer; it fails with ErrCorrupt at the first unit
// that does not authenticate (and on every later call).
func (v *Verifier) Write(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	written := len(p)
	if v.n+int64(len(p)) > v.size {
		v.err = fmt.Errorf("%w: longer than %d bytes", ErrCorrupt, v.size)
		return 0, v.err
	}
	v.n += int64(len(p))
	for len(p) > 0 {
		k := min(v.need()-len(v.buf), len(p))
		v.buf = append(v.buf, p[:k]...)
		p = p[k:]
		if len(v.buf) == v.need() {
			if err := v.unit(); err != nil {
				v.err = err
				return 0, err
			}
			v.buf = v.buf[:0]
		}
	}
	return written, nil
}

func (v *Verifier) unit() error {
	switch {
	case v.c == nil:
		hdr, err := parseHeader(v.buf)
		if err != nil {
			return err
		}
		if hdr.id != v.key.ID {
			return fmt.Errorf("%w: it is under key %s, not %s", ErrCorrupt, hdr.id, v.key.ID)
		}
		if v.c, err = newBlobCipher(&v.key.Secret, hdr); err != nil {
			return err
		}
	case v.seg <= v.last:
		out, err := v.c.openSegment(v.plainB[:0], v.buf, v.seg, v.seg == v.last)
		if err != nil {
			return err
		}
		v.h.Write(out)
		v.seg++
	default:
		sha, err := v.c.openTrailer(v.buf)
		if err != nil {
			return err
		}
		v.sha = sha
	}
	return nil
}

// Sum returns the plaintext's digests once the whole object was written:
// every unit authenticated, and the trailer names the plaintext's SHA-256.
// It releases the hasher; call it once.
func (v *Verifier) Sum() (blob.Digests, error) {
	defer v.h.Close()
	if v.err != nil {
		return blob.Digests{}, v.err
	}
	if v.n != v.size || v.sha == "" {
		return blob.Digests{}, fmt.Errorf("%w: cut short at %d of %d bytes", ErrCorrupt, v.n, v.size)
	}
	d := v.h.Sum()
	if d.SHA256 != v.sha {
		return blob.Digests{}, fmt.Errorf("%w: the trailer names SHA-256 %s, the content is %s", ErrCorrupt, v.sha, d.SHA256)
	}
	return d, nil
}
