package pypi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/store"
)

// seedReleases stores releases×files distribution files of project "big"
// in the app repository through the engine (wheels with their .metadata
// asset, and one sdist per release), as uploads would.
func seedReleases(tb testing.TB, e *env, releases, filesPer int) {
	tb.Helper()
	body := []byte("not really a distribution, but the page does not open it")
	meta := []byte("Metadata-Version: 2.1\nName: big\nVersion: 0\n")
	put := func(version, asset string, content []byte) {
		_, err := e.svc.PutAsset(bg, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: e.ref("app", "big"), Version: version},
			Asset: asset, NewStatus: artifact.StatusPublished, NewVersion: func(v *store.Version) {
				v.Summary = "a big project"
				v.Metadata = `{"requiresPython":">=3.8"}`
			}}, bytes.NewReader(content))
		if err != nil {
			tb.Fatal(err)
		}
	}
	for r := range releases {
		v := fmt.Sprintf("1.%d", r)
		put(v, fmt.Sprintf("big-%s.tar.gz", v), body)
		for f := 1; f < filesPer; f++ {
			w := fmt.Sprintf("big-%s-cp3%d-cp3%d-manylinux_2_17_x86_64.whl", v, f, f)
			put(v, w, body)
			put(v, w+".metadata", meta)
		}
	}
}

func latencies(tb testing.TB, url, accept string, n int) (p50, p99 time.Duration, size int) {
	tb.Helper()
	client := &http.Client{}
	lat := make([]time.Duration, 0, n)
	for range n {
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth("aws", token)
		req.Header.Set("Accept", accept)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != 200 {
			tb.Fatalf("%d %s", resp.StatusCode, b)
		}
		size = len(b)
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], size
}

// BenchmarkSimplePage measures simple/<project>/ on a cache hit for a
// project with 2,000 releases of 1 or 10 files: p50 and p99 per request,
// over loopback HTTP with keep-alive. The cold render is logged once.
func BenchmarkSimplePage(b *testing.B) {
	for _, filesPer := range []int{1, 10} {
		e := newEnv(b)
		start := time.Now()
		seedReleases(b, e, 2000, filesPer)
		b.Logf("seeded 2000×%d files in %v", filesPer, time.Since(start).Round(time.Millisecond))
		url := e.app + "simple/big/"
		start = time.Now()
		_, _, size := latencies(b, url, "text/html", 1)
		b.Logf("2000×%d: first (cold) render %v, HTML %d bytes", filesPer, time.Since(start).Round(time.Millisecond), size)
		for _, plain := range []bool{false, true} {
			mode := "stamp"
			if plain {
				mode = "view"
			}
			e.plain = plain
			e.restart()
			latencies(b, url, "text/html", 1) // render
			for _, c := range []struct{ name, accept string }{{"html", "text/html"}, {"json", pipAcc}} {
				b.Run(fmt.Sprintf("files=%d/%s/%s/loopback", filesPer, mode, c.name), func(b *testing.B) {
					latencies(b, url, c.accept, 3) // warm
					b.ResetTimer()
					p50, p99, size := latencies(b, url, c.accept, max(b.N, 200))
					b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(size), "bytes")
				})
				// The server's own cost, without moving the body over a socket.
				b.Run(fmt.Sprintf("files=%d/%s/%s/handler", filesPer, mode, c.name), func(b *testing.B) {
					p50, p99 := handlerLatencies(b, e.srv.Config.Handler, url, c.accept, max(b.N, 200))
					b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
				})
			}
		}
		// One new file: only its version is listed again.
		start = time.Now()
		_, err := e.svc.PutAsset(bg, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: e.ref("app", "big"), Version: "1.5"},
			Asset: "big-1.5-py3-none-any.whl", NewStatus: artifact.StatusPublished}, strings.NewReader("new"))
		if err != nil {
			b.Fatal(err)
		}
		latencies(b, url, "text/html", 1)
		b.Logf("2000×%d: render after one more file %v", filesPer, time.Since(start).Round(time.Millisecond))
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(s int)           { d.status = s }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func handlerLatencies(tb testing.TB, h http.Handler, url, accept string, n int) (p50, p99 time.Duration) {
	lat := make([]time.Duration, 0, n)
	for range n {
		req := httptest.NewRequest("GET", url, nil)
		req.SetBasicAuth("aws", token)
		req.Header.Set("Accept", accept)
		w := &discard{h: http.Header{}, status: 200}
		start := time.Now()
		h.ServeHTTP(w, req)
		lat = append(lat, time.Since(start))
		if w.status != 200 || w.n == 0 {
			tb.Fatalf("status %d, %d bytes", w.status, w.n)
		}
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}
