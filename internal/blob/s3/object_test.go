package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"coffer/internal/blob/blobtest"
	"coffer/internal/fault"
)

// noSmallBlobs keeps no blob in memory, so that the ranged reader serves
// even the small blobs of a test.
func noSmallBlobs(c *Config) { c.SmallBlobCache = -1 }

// http.ServeContent over Object.Reader answers ranges with one GET each.
func TestServeContentRanges(t *testing.T) {
	var count requestCounter
	s := newTestStore(t, noSmallBlobs, countRequests(&count))
	data := blobtest.RandomBytes(3<<20+777, 1)
	sha := put(t, s, data)
	size := len(data)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.Open(r.Context(), sha)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer obj.Close()
		// As format.Serve does; without it ServeContent would read
		// the first bytes to sniff the type, and seek back.
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", obj.ModTime(), obj.Reader())
	}))
	defer srv.Close()

	for _, tc := range []struct {
		method, rng string
		want        [][2]int // byte ranges [first, end) of the body
		status      int
	}{
		{"GET", "", [][2]int{{0, size}}, 200},
		{"HEAD", "", nil, 200},
		{"GET", "bytes=0-99", [][2]int{{0, 100}}, 206},
		{"GET", "bytes=1000-", [][2]int{{1000, size}}, 206},
		{"GET", "bytes=-500", [][2]int{{size - 500, size}}, 206},
		{"GET", fmt.Sprintf("bytes=%d-%d", size-1, size+100), [][2]int{{size - 1, size}}, 206},
		{"GET", "bytes=100-199,5000-5099,3000000-3000010", [][2]int{{100, 200}, {5000, 5100}, {3000000, 3000011}}, 206},
		{"GET", fmt.Sprintf("bytes=%d-", size), nil, 416},
	} {
		count.take("")
		req, _ := http.NewRequest(tc.method, srv.URL, nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := tc.method + " " + tc.rng
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.status)
			continue
		}
		var parts [][]byte
		if len(tc.want) > 1 {
			parts = multipartBodies(t, resp.Header.Get("Content-Type"), body)
		} else if len(tc.want) == 1 {
			parts = [][]byte{body}
		}
		if len(parts) != len(tc.want) {
			t.Errorf("%s: %d parts, want %d", name, len(parts), len(tc.want))
			continue
		}
		for i, r := range tc.want {
			if !bytes.Equal(parts[i], data[r[0]:r[1]]) {
				t.Errorf("%s: part %d differs (%d bytes, want %d)", name, i, len(parts[i]), r[1]-r[0])
			}
		}
		if gets := count.take("GetObject"); gets != len(tc.want) {
			t.Errorf("%s: %d GetObject requests, want %d", name, gets, len(tc.want))
		}
	}
}

func multipartBodies(t *testing.T, contentType string, body []byte) [][]byte {
	t.Helper()
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	var out [][]byte
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// Seeks that land where the reader already is cost nothing; reads past the
// end are EOF; a closed Object refuses use.
func TestObjectSeekRead(t *testing.T) {
	var count requestCounter
	s := newTestStore(t, noSmallBlobs, countRequests(&count))
	data := blobtest.RandomBytes(100_000, 2)
	sha := put(t, s, data)
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	count.take("")
	r := obj.Reader()
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, data[:1000]) {
		t.Fatalf("first read: %v", err)
	}
	if pos, err := r.Seek(0, io.SeekCurrent); pos != 1000 || err != nil {
		t.Errorf("Seek(0, Current) = %d, %v", pos, err)
	}
	if pos, err := r.Seek(1000, io.SeekStart); pos != 1000 || err != nil {
		t.Errorf("Seek(1000, Start) = %d, %v", pos, err)
	}
	if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, data[1000:2000]) {
		t.Fatalf("read on: %v", err)
	}
	if gets := count.take("GetObject"); gets != 1 {
		t.Errorf("%d GETs for a read, a no-op seek and a read on, want 1", gets)
	}
	if _, err := r.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, data[len(data)-10:]) {
		t.Errorf("tail = %d bytes, %v", len(rest), err)
	}
	if _, err := r.Seek(int64(len(data)+5), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("Read past the end = %d, %v; want 0, EOF", n, err)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative offset succeeded")
	}
	obj.Close()
	if _, err := obj.Read(buf); err == nil {
		t.Error("Read after Close succeeded")
	}
	if err := obj.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A blob deleted between Open and the first Read reads as not found.
func TestObjectDeletedAfterOpen(t *testing.T) {
	s := newTestStore(t, noSmallBlobs)
	sha := put(t, s, []byte("short-lived"))
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if err := s.Delete(context.Background(), sha); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(obj); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("read of a deleted blob: %v, want ErrNotFound", err)
	}
}
