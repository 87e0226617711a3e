package npm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Content codings a document is served in, best first.
const (
	codingZstd     = "zstd"
	codingGzip     = "gzip"
	codingIdentity = "identity"
)

// document is a rendered packument: its identity bytes and, computed once
// on first demand, its gzip and zstd encodings, with what the version and
// dist-tag routes need to answer from it. A big document keeps only its
// encodings (it is compacted, see compactAbove).
type document struct {
	identity    []byte // nil once compacted
	size        int    // of the identity bytes
	contentType string
	hash        string // of the identity bytes; ETags derive from it
	// tags are the merged dist-tags; versions locate each version's
	// document inside identity (full packuments only).
	tags     map[string]string
	versions map[string][2]int

	gzOnce, zstdOnce sync.Once
	gz               segments // a big document's stays in the pieces it was written in
	zst              []byte
}

// segments are bytes in one or more slices: a big document's gzip encoding
// is kept in the pieces it was written in, never joined into one slice
// (which would hold it twice while copying).
type segments [][]byte

func (s segments) size() int {
	n := 0
	for _, b := range s {
		n += len(b)
	}
	return n
}

func (s segments) reader() io.Reader {
	rs := make([]io.Reader, len(s))
	for i, b := range s {
		rs[i] = bytes.NewReader(b)
	}
	return io.MultiReader(rs...)
}

func (s segments) writeTo(w io.Writer) error {
	for _, b := range s {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func newDocument(identity []byte, contentType string) *document {
	s := sha256.Sum256(identity)
	return &document{identity: identity, size: len(identity), contentType: contentType, hash: hex.EncodeToString(s[:16])}
}

// compactAbove is the identity size above which a document keeps only its
// gzip encoding (docWriter): npm, pnpm and yarn all accept gzip, so the
// identity bytes of a packument of thousands of versions would be tens of
// megabytes held for the rare client that does not.
const compactAbove = 1 << 20

// identityReader reads the identity bytes, decoding a compacted document
// as it goes (never whole in memory).
func (d *document) identityReader() (io.Reader, error) {
	if d.identity != nil {
		return bytes.NewReader(d.identity), nil
	}
	return gzip.NewReader(d.gz.reader())
}

// span returns the identity bytes [start, end): of a compacted document
// only the span is held, the bytes before it are decoded and dropped.
func (d *document) span(start, end int) ([]byte, error) {
	if d.identity != nil {
		return d.identity[start:end], nil
	}
	r, err := d.identityReader()
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, r, int64(start)); err != nil {
		return nil, err
	}
	b := make([]byte, end-start)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// cost estimates the memory the document holds once encoded.
func (d *document) cost() int64 {
	n := int64(d.size)
	if d.identity == nil {
		return int64(d.gz.size()+len(d.zst)) + int64(len(d.versions))*64 + 512
	}
	return n + n/2 + int64(len(d.versions))*64 + 512
}

// etag is the strong ETag of the document in a content coding.
func (d *document) etag(coding string) string {
	if coding == codingIdentity {
		return `"` + d.hash + `"`
	}
	return `"` + d.hash + "-" + coding + `"`
}

// encoded returns the document in a content coding; identity bytes of a
// compacted document are nil (see identityReader).
func (d *document) encoded(coding string) segments {
	switch coding {
	case codingGzip:
		d.gzOnce.Do(func() { d.gz = segments{gzipBytes(d.identity)} })
		return d.gz
	case codingZstd:
		d.zstdOnce.Do(func() {
			if d.identity != nil {
				d.zst = zstdEncoder().EncodeAll(d.identity, make([]byte, 0, len(d.identity)/6))
				return
			}
			// A compacted document is encoded as it is decoded, with a
			// window that keeps the encoder small.
			r, err := d.identityReader()
			if err != nil {
				return
			}
			var buf bytes.Buffer
			zw, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
			if _, err := io.Copy(zw, r); err == nil && zw.Close() == nil {
				d.zst = buf.Bytes()
			}
		})
		return segmentsOf(d.zst)
	}
	return segmentsOf(d.identity)
}

func segmentsOf(b []byte) segments {
	if b == nil {
		return nil
	}
	return segments{b}
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) / 6)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// zstdEncoder is shared (EncodeAll is safe for concurrent use) and made on
// first use: its tables are not worth holding in a process that never
// serves zstd.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	return e
})
