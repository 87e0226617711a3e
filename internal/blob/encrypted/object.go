package encrypted

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"coffer/internal/blob"
)

// object is an open encrypted blob: it reads the plaintext at any offset,
// decrypting (and authenticating) one segment at a time. It is not safe
// for concurrent use.
type object struct {
	inner    blob.Object
	c        *blobCipher
	size     int64 // plaintext
	off      int64 // plaintext offset of the next Read
	innerOff int64 // where inner is positioned, -1 if unknown
	seg      int64 // index of the segment in plain, -1 if none
	plain    []byte
	ct       []byte
	closed   bool
}

func openObject(inner blob.Object, key *Key) (*object, error) {
	size, err := PlainSize(inner.Size())
	if err != nil {
		return nil, err
	}
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(inner, hb[:]); err != nil {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	hdr, err := parseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	if hdr.id != key.ID {
		return nil, fmt.Errorf("%w: it is under key %s, not %s", ErrCorrupt, hdr.id, key.ID)
	}
	c, err := newBlobCipher(&key.Secret, hdr)
	if err != nil {
		return nil, err
	}
	return &object{inner: inner, c: c, size: size, innerOff: HeaderSize, seg: -1}, nil
}

func (o *object) Size() int64           { return o.size }
func (o *object) ModTime() time.Time    { return o.inner.ModTime() }
func (o *object) Reader() io.ReadSeeker { return o }

// Seek implements io.Seeker; it reads nothing.
func (o *object) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, os.ErrClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("encrypted blob: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("encrypted blob: negative position")
	}
	o.off = offset
	return offset, nil
}

// Read implements io.Reader.
func (o *object) Read(p []byte) (int, error) {
	if o.closed {
		return 0, os.ErrClosed
	}
	if o.off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	i := o.off / SegmentSize
	if i != o.seg {
		if err := o.load(i); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.plain[o.off-i*SegmentSize:])
	o.off += int64(n)
	return n, nil
}

// load reads and decrypts segment i.
func (o *object) load(i int64) error {
	last := max(0, (o.size-1)/SegmentSize)
	n := min(SegmentSize, o.size-i*SegmentSize) + tagSize
	at := HeaderSize + i*(SegmentSize+tagSize)
	if o.innerOff != at {
		if _, err := o.inner.Seek(at, io.SeekStart); err != nil {
			o.innerOff = -1
			return err
		}
		o.innerOff = at
	}
	if cap(o.ct) < int(n) {
		o.ct = make([]byte, SegmentSize+tagSize)
		o.plain = make([]byte, 0, SegmentSize)
	}
	ct := o.ct[:n]
	if _, err := io.ReadFull(o.inner, ct); err != nil {
		o.innerOff = -1
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: segment %d is cut short", ErrCorrupt, i)
		}
		return err
	}
	o.innerOff += n
	o.seg = -1
	plain, err := o.c.openSegment(o.plain[:0], ct, i, i == last)
	if err != nil {
		return err
	}
	o.plain, o.seg = plain, i
	return nil
}

// Close implements io.Closer; it is safe to call more than once.
func (o *object) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	return o.inner.Close()
}
