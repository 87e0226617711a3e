package rubygems_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"coffer/internal/format/formattest"
	"coffer/internal/format/rubygems/rubygemstest"
)

// benchT runs the suite's setup under a benchmark.
type benchT struct{ *testing.B }

func (b benchT) Run(name string, f func(formattest.T)) bool { f(b); return true }

// BenchmarkInfo1000 serves info/<gem> of a gem with 1,000 versions: a hit
// of the rendered document (the view stamp unchanged), and the 304 of a
// revalidation.
func BenchmarkInfo1000(b *testing.B) {
	c := formattest.Serve(benchT{b}, confAdapter)
	for i := range 1000 {
		g := rubygemstest.Gem{Name: "big_gem", Version: fmt.Sprintf("1.%d.%d", i/100, i%100),
			Deps: []rubygemstest.Dep{{Name: "rack", Constraints: []string{">= 2.0", "< 4"}}}}
		req, _ := http.NewRequest(http.MethodPost, c.Endpoint+"api/v1/gems", bytes.NewReader(g.Bytes()))
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("push %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	get := func(b *testing.B, etag string) (int, string, int64) {
		req, _ := http.NewRequest(http.MethodGet, c.Endpoint+"info/big_gem", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag"), n
	}
	_, tag, size := get(b, "")
	b.Run("hit", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if s, _, _ := get(b, ""); s != http.StatusOK {
				b.Fatal(s)
			}
		}
	})
	b.Run("304", func(b *testing.B) {
		for b.Loop() {
			if s, _, _ := get(b, tag); s != http.StatusNotModified {
				b.Fatal(s)
			}
		}
	})
}

// BenchmarkVersions200 serves the versions file of a repository of 200
// gems (each request reads every gem's view stamp; the rendered file is
// cached under their info files' ETags), and its 304.
func BenchmarkVersions200(b *testing.B) {
	c := formattest.Serve(benchT{b}, confAdapter)
	for i := range 200 {
		g := rubygemstest.Gem{Name: fmt.Sprintf("gem_%03d", i), Version: "1.0.0"}
		req, _ := http.NewRequest(http.MethodPost, c.Endpoint+"api/v1/gems", bytes.NewReader(g.Bytes()))
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("push %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	get := func(b *testing.B, etag string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, c.Endpoint+"versions", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	_, tag := get(b, "")
	b.Run("hit", func(b *testing.B) {
		for b.Loop() {
			if s, _ := get(b, ""); s != http.StatusOK {
				b.Fatal(s)
			}
		}
	})
	b.Run("304", func(b *testing.B) {
		for b.Loop() {
			if s, _ := get(b, tag); s != http.StatusNotModified {
				b.Fatal(s)
			}
		}
	})
}
