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
	d := newDocument(bytes.Clone(identity), MediaJSON)
	full := d.cost()
	d.compact()
	if d.identity != nil {
		t.Fatal("compact kept the identity bytes")
	}
	if c := d.cost(); c*3 > full {
		t.Errorf("cost after compact %d, before %d", c, full)
	}
	got, err := d.identityBytes()
	if err != nil || !bytes.Equal(got, identity) {
		t.Fatalf("identity decoded from zstd differs (%v)", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(d.encoded(codingGzip)))
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
	if zs, err := zd.DecodeAll(d.encoded(codingZstd), nil); err != nil || !bytes.Equal(zs, identity) {
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
	small := newDocument([]byte(`{"a":1}`), MediaJSON)
	small.compact()
	if small.identity == nil {
		t.Error("a small document was compacted")
	}
}
