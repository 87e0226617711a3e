package cargo_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"coffer/internal/format/cargo"
	"coffer/internal/format/formattest"
)

// BenchmarkIndexFile: cargo's hot path, an index file of a crate with
// 200 versions read by 64 concurrent clients, revalidated (304, with the
// ETag as cargo does) and read whole (200), against http.FileServer
// serving the same bytes (revalidated with If-Modified-Since: it sets no
// ETag).
//
//	go test ./internal/format/cargo -run XXX -bench IndexFile -benchtime 3s
func BenchmarkIndexFile(b *testing.B) {
	c := formattest.Serve(benchT{b}, confAdapter)
	for i := range 200 {
		v := "1." + strconv.Itoa(i) + ".0"
		if code, body := publishBench(b, c, v); code != http.StatusOK {
			b.Fatalf("publish %s: %d %s", v, code, body)
		}
	}
	path := cargo.IndexPath(confCrate)
	body, etag := get(b, c.HTTP, c.Endpoint+path, c.Token)
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755)
	os.WriteFile(filepath.Join(dir, path), body, 0o644)
	fs := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer fs.Close()
	fsMod := lastModified(b, fs.URL+"/"+path)
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	client := &http.Client{Transport: tr}
	for _, bc := range []struct {
		name, url, token, cond, value string
		want                          int
	}{
		{"coffer/304", c.Endpoint + path, c.Token, "If-None-Match", etag, http.StatusNotModified},
		{"coffer/200", c.Endpoint + path, c.Token, "", "", http.StatusOK},
		{"fileserver/304", fs.URL + "/" + path, "", "If-Modified-Since", fsMod, http.StatusNotModified},
		{"fileserver/200", fs.URL + "/" + path, "", "", "", http.StatusOK},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.SetBytes(int64(len(body)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, bc.url, nil)
					if bc.token != "" {
						req.Header.Set("Authorization", bc.token)
					}
					if bc.cond != "" {
						req.Header.Set(bc.cond, bc.value)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != bc.want {
						b.Errorf("%d, want %d", resp.StatusCode, bc.want)
						return
					}
				}
			})
		})
	}
}

// benchT is a benchmark as the suite's T.
type benchT struct{ *testing.B }

func (b benchT) Run(name string, f func(formattest.T)) bool {
	return b.B.Run(name, func(b *testing.B) { f(benchT{b}) })
}

func publishBench(b *testing.B, c *formattest.Client, v string) (int, string) {
	req, _ := http.NewRequest(http.MethodPut, c.Endpoint+"api/v1/crates/new", bytes.NewReader(publishBody(confCrate, v, crateFile(confCrate, v))))
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func lastModified(b *testing.B, u string) string {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Last-Modified")
}

func get(b *testing.B, cl *http.Client, u, token string) ([]byte, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := cl.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return body, resp.Header.Get("ETag")
}
