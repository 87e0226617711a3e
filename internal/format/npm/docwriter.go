package npm

import (
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
	gzOut chunks
}

// chunkSize is the size of the chunks the gzip encoding is gathered in.
const chunkSize = 1 << 20

// chunks gathers bytes in chunks of chunkSize, so that a growing encoding
// is never copied into a buffer twice its size.
type chunks struct {
	list [][]byte
	n    int
}

func (c *chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.list) == 0 || len(c.list[len(c.list)-1]) == chunkSize {
			c.list = append(c.list, make([]byte, 0, chunkSize))
		}
		last := &c.list[len(c.list)-1]
		k := min(len(p), chunkSize-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
	c.n += n
	return n, nil
}

// segments returns what was written, the last chunk cut to its length
// (spare capacity would be held, unseen by the cache's accounting, for as
// long as the document is cached), and drops the chunks.
func (c *chunks) segments() segments {
	out := segments(c.list)
	if n := len(out); n > 0 {
		out[n-1] = append([]byte(nil), out[n-1]...)
	}
	c.list = nil
	return out
}

// offset is the document's length so far.
func (w *docWriter) offset() int { return w.base + len(w.b) }

// checkpoint spills or flushes when enough is pending; the render calls
// it between versions.
func (w *docWriter) checkpoint() {
	switch {
	case w.gz == nil && len(w.b) > compactAbove:
		w.sum = sha256.New()
		w.gz, _ = gzip.NewWriterLevel(&w.gzOut, gzip.DefaultCompression)
		w.flush()
		w.b = make([]byte, 0, 2*flushAbove) // the grown buffer goes
	case w.gz != nil && len(w.b) >= flushAbove:
		w.flush()
	}
}

func (w *docWriter) flush() {
	w.sum.Write(w.b)
	w.gz.Write(w.b) // into chunks: never fails
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
	d.gzOnce.Do(func() { d.gz = w.gzOut.segments() })
	return d
}
