package npm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/klauspost/compress/gzip"
)

// flushAbove is how many pending bytes a spilled docWriter gathers before
// it hands them to gzip.
const flushAbove = 256 << 10

// docWriter collects a document as it is rendered: in memory while it is
// at most compactAbove bytes, then gzipped as it goes, so that a packument
// of thousands of versions is never whole in memory (the gzip encoding is
// what a big document keeps anyway, see document.compact).
type docWriter struct {
	b     []byte // bytes not yet flushed; the whole document until spilled
	base  int    // bytes flushed before b
	sum   hash.Hash
	gz    *gzip.Writer // nil until spilled
	gzOut bytes.Buffer
}

// offset is the document's length so far.
func (w *docWriter) offset() int { return w.base + len(w.b) }

// checkpoint spills or flushes when enough is pending; the render calls
// it between versions.
func (w *docWriter) checkpoint() {
	switch {
	case w.gz == nil && len(w.b) > compactAbove:
		w.sum = sha256.New()
		w.gzOut.Grow(len(w.b) / 4)
		w.gz, _ = gzip.NewWriterLevel(&w.gzOut, gzip.DefaultCompression)
		w.flush()
		w.b = make([]byte, 0, 2*flushAbove) // the grown buffer goes
	case w.gz != nil && len(w.b) >= flushAbove:
		w.flush()
	}
}

func (w *docWriter) flush() {
	w.sum.Write(w.b)
	w.gz.Write(w.b) // into a bytes.Buffer: never fails
	w.base += len(w.b)
	w.b = w.b[:0]
}

// document finishes the document.
func (w *docWriter) document(contentType string) *document {
	if w.gz == nil {
		return newDocument(w.b, contentType)
	}
	w.flush()
	w.gz.Close()
	d := &document{size: w.base, contentType: contentType, hash: hex.EncodeToString(w.sum.Sum(nil)[:16])}
	// Kept at its size: the buffer's spare capacity would be held, unseen
	// by the cache's accounting, for as long as the document is cached.
	d.gzOnce.Do(func() { d.gz = bytes.Clone(w.gzOut.Bytes()) })
	return d
}
