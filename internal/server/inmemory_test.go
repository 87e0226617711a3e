package server

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"coffer/internal/blob"
)

// TestInMemoryBodies: a blob held in memory goes out through the access
// log's writer whole, as one range, and as several ranges, byte for byte.
func TestInMemoryBodies(t *testing.T) {
	data := make([]byte, 10_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b := &blob.Bytes{Data: data, Modified: time.Now()}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		obj := b.Open()
		http.ServeContent(sw, r, "", obj.ModTime(), obj.Reader())
		if got := sw.bytes; r.Header.Get("Range") == "" && got != int64(len(data)) {
			t.Errorf("statusWriter counted %d bytes, want %d", got, len(data))
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(rng string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	if resp, body := get(""); resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET: %d, %d bytes, want the %d bytes", resp.StatusCode, len(body), len(data))
	}
	if resp, body := get("bytes=100-4195"); resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[100:4196]) {
		t.Fatalf("one range: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, body := get("bytes=-10"); resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[len(data)-10:]) {
		t.Fatalf("suffix range: %d, %q", resp.StatusCode, body)
	}
	resp, body := get("bytes=0-9,5000-5009")
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusPartialContent || err != nil {
		t.Fatalf("two ranges: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, want := range [][]byte{data[0:10], data[5000:5010]} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want) || !strings.HasPrefix(p.Header.Get("Content-Range"), "bytes ") {
			t.Fatalf("part %s: %d bytes, want %d", p.Header.Get("Content-Range"), len(got), len(want))
		}
	}
}
