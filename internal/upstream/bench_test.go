package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

const benchSize = 100 << 20

// BenchmarkColdFetch downloads a 100 MiB body from a local server: through
// Fetch into the filesystem blob store (four digests, verification of the
// SHA-256, fsync, link into place), and, for comparison, with a plain
// io.Copy into a file, without and with an fsync.
func BenchmarkColdFetch(b *testing.B) {
	body := content(benchSize, 42)
	want := digests(body)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	srv := newBenchServer(b, mux)
	ctx := context.Background()

	b.Run("Fetch", func(b *testing.B) {
		store, _ := newStore(b)
		c := New(Config{}, nil)
		b.SetBytes(benchSize)
		i := 0
		for b.Loop() {
			i++
			res, err := c.Fetch(ctx, strconv.Itoa(i), srv+"/big.jar", Expectation{SHA256: want.SHA256}, store)
			if err != nil {
				b.Fatal(err)
			}
			if !res.Created {
				b.Fatal("blob not created: the fetch was not cold")
			}
			b.StopTimer()
			if err := store.Delete(ctx, want.SHA256); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	for _, sync := range []bool{false, true} {
		name := "io.Copy"
		if sync {
			name += "+fsync"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(benchSize)
			for b.Loop() {
				resp, err := http.Get(srv + "/big.jar")
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.Create(filepath.Join(dir, "big.jar"))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(f, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if sync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.Remove(f.Name())
				b.StartTimer()
			}
		})
	}
}

func newBenchServer(b *testing.B, h http.Handler) string {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL
}
