package npm

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// A document over compactAbove keeps only its encodings once compacted,
// and still answers every coding, HEAD and its version spans exactly.
func TestCompactedDocument(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"versions":{`)
	for i := 0; b.Len() <= compactAbove; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"1.0.%d":{"name":"big","version":"1.0.%d","description":"%x"}`, i, i, i*7919)
	}
	b.WriteString(`}}`)
	identity := b.Bytes()
	full := newDocument(identity, MediaJSON).cost()
	w := &docWriter{b: bytes.Clone(identity)}
	w.checkpoint()
	d := w.document(MediaJSON)
	if d.identity != nil {
		t.Fatal("a big document kept its identity bytes")
	}
	if c := d.cost(); c*3 > full {
		t.Errorf("cost of the compacted document %d, of the whole one %d", c, full)
	}
	got, err := d.span(0, len(identity))
	if err != nil || !bytes.Equal(got, identity) {
		t.Fatalf("identity decoded from gzip differs (%v)", err)
	}
	mid := len(identity) / 2
	if got, err := d.span(mid, mid+100); err != nil || !bytes.Equal(got, identity[mid:mid+100]) {
		t.Fatalf("a span decoded from gzip differs (%v)", err)
	}
	zr, err := gzip.NewReader(d.encoded(codingGzip).reader())
	if err != nil {
		t.Fatal(err)
	}
	if gz, err := io.ReadAll(zr); err != nil || !bytes.Equal(gz, identity) {
		t.Fatalf("gzip encoding differs (%v)", err)
	}
	zd, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zd.Close()
	if zs, err := zd.DecodeAll(bytes.Join(d.encoded(codingZstd), nil), nil); err != nil || !bytes.Equal(zs, identity) {
		t.Fatalf("zstd encoding of a compacted document differs (%v)", err)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		serveDocument(rec, httptest.NewRequest(method, "/big", nil), d)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Length") != strconv.Itoa(len(identity)) || rec.Header().Get("Content-Encoding") != "" {
			t.Fatalf("%s identity: %d %v", method, rec.Code, rec.Header())
		}
		if method == http.MethodGet && !bytes.Equal(rec.Body.Bytes(), identity) {
			t.Fatal("GET identity body differs")
		}
	}
	small := &docWriter{b: []byte(`{"a":1}`)}
	small.checkpoint()
	if small.document(MediaJSON).identity == nil {
		t.Error("a small document was compacted")
	}
}

// A document rendered through a docWriter is the same document whether it
// stays in memory or spills into gzip: same size, ETag and bytes.
func TestDocWriterSpills(t *testing.T) {
	for _, n := range []int{100, 3 * compactAbove / 2 / 64} {
		var identity []byte
		w := &docWriter{}
		for i := range n {
			line := fmt.Appendf(nil, `{"i":%d,"pad":"%064x"}`, i, i*104729)
			identity = append(identity, line...)
			w.b = append(w.b, line...)
			w.checkpoint()
		}
		if w.offset() != len(identity) {
			t.Fatalf("%d lines: offset %d, want %d", n, w.offset(), len(identity))
		}
		d := w.document(MediaJSON)
		want := newDocument(identity, MediaJSON)
		if d.size != want.size || d.etag(codingGzip) != want.etag(codingGzip) {
			t.Fatalf("%d lines: size %d etag %s, want %d %s", n, d.size, d.etag(codingGzip), want.size, want.etag(codingGzip))
		}
		if spilled := d.identity == nil; spilled != (len(identity) > compactAbove) {
			t.Fatalf("%d lines (%d bytes): spilled %v", n, len(identity), spilled)
		}
		zr, err := gzip.NewReader(d.encoded(codingGzip).reader())
		if err != nil {
			t.Fatal(err)
		}
		if gz, err := io.ReadAll(zr); err != nil || !bytes.Equal(gz, identity) {
			t.Fatalf("%d lines: gzip encoding differs (%v)", n, err)
		}
	}
}
