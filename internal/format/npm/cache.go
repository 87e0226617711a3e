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
// dist-tag routes need to answer from it.
type document struct {
	identity    []byte
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
	return &document{identity: identity, contentType: contentType, hash: hex.EncodeToString(s[:16])}
}

// cost estimates the memory the document holds once encoded.
func (d *document) cost() int64 {
	n := int64(len(d.identity))
	return n + n/2 + int64(len(d.versions))*64 + 512
}

// etag is the strong ETag of the document in a content coding.
func (d *document) etag(coding string) string {
	if coding == codingIdentity {
		return `"` + d.hash + `"`
	}
	return `"` + d.hash + "-" + coding + `"`
}

// encoded returns the document in a content coding.
func (d *document) encoded(coding string) []byte {
	switch coding {
	case codingGzip:
		d.gzOnce.Do(func() { d.gz = gzipBytes(d.identity) })
		return d.gz
	case codingZstd:
		d.zstdOnce.Do(func() { d.zst = zstdEncoder.EncodeAll(d.identity, make([]byte, 0, len(d.identity)/6)) })
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

// zstdEncoder is shared: EncodeAll is safe for concurrent use.
var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
