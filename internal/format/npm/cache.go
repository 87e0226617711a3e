package npm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
// encodings once compacted (see compact).
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
	gz, zst          []byte
}

func newDocument(identity []byte, contentType string) *document {
	s := sha256.Sum256(identity)
	return &document{identity: identity, size: len(identity), contentType: contentType, hash: hex.EncodeToString(s[:16])}
}

// compactAbove is the identity size above which a cached document keeps
// only its gzip and zstd encodings: npm, pnpm and yarn all accept gzip, so
// the identity bytes of a packument of thousands of versions would be
// tens of megabytes held for the rare client that does not.
const compactAbove = 4 << 20

// compact gzips a big document now (every npm client asks for gzip) and
// drops its identity bytes; it must be called before the document is
// shared.
func (d *document) compact() {
	if d.size <= compactAbove || d.identity == nil {
		return
	}
	d.encoded(codingGzip)
	d.identity = nil
}

// identityBytes returns the identity bytes, decoding them again when the
// document was compacted (the caller does not keep them).
func (d *document) identityBytes() ([]byte, error) {
	if d.identity != nil {
		return d.identity, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(d.gz))
	if err != nil {
		return nil, err
	}
	b := bytes.NewBuffer(make([]byte, 0, d.size))
	if _, err := b.ReadFrom(zr); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// cost estimates the memory the document holds once encoded.
func (d *document) cost() int64 {
	n := int64(d.size)
	if d.identity == nil {
		return int64(len(d.gz)+len(d.zst)) + int64(len(d.versions))*64 + 512
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
// compacted document are nil (see identityBytes).
func (d *document) encoded(coding string) []byte {
	switch coding {
	case codingGzip:
		d.gzOnce.Do(func() { d.gz = gzipBytes(d.identity) })
		return d.gz
	case codingZstd:
		d.zstdOnce.Do(func() {
			id, err := d.identityBytes()
			if err == nil {
				d.zst = zstdEncoder().EncodeAll(id, make([]byte, 0, len(id)/6))
			}
		})
		return d.zst
	}
	return d.identity
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
