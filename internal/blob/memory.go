package blob

import (
	"bytes"
	"io"
	"time"
)

// Bytes is a blob's content held in memory: drivers keep small blobs this
// way once read, so that serving one again costs no file or object-store
// request. Content under a SHA-256 never changes, so a kept blob is never
// stale; a driver drops it when it deletes or commits the blob.
type Bytes struct {
	Data     []byte
	Modified time.Time
}

// Open returns an Object reading b's content.
func (b *Bytes) Open() Object {
	o := &bytesObject{b: b}
	o.r.Reset(b.Data)
	o.r.data = b.Data
	return o
}

// BytesReader reads a blob held in memory. Unread gives what is left to
// read without a copy, so that a response can send it in one write.
type BytesReader struct {
	bytes.Reader
	data []byte
}

// Unread returns the bytes not read yet; the caller must not change them.
func (r *BytesReader) Unread() []byte { return r.data[len(r.data)-r.Len():] }

type bytesObject struct {
	r BytesReader
	b *Bytes
}

func (o *bytesObject) Read(p []byte) (int, error)                { return o.r.Read(p) }
func (o *bytesObject) Seek(off int64, whence int) (int64, error) { return o.r.Seek(off, whence) }
func (o *bytesObject) Size() int64                               { return int64(len(o.b.Data)) }
func (o *bytesObject) ModTime() time.Time                        { return o.b.Modified }
func (o *bytesObject) Reader() io.ReadSeeker                     { return &o.r }
func (o *bytesObject) Close() error                              { return nil }
