package npm_test

import (
	"bufio"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeHugePackument streams a generated packument of name with n
// versions of about 10 KiB each (a description of words, 120
// dependencies, the fields a registry adds), deterministic for a seed.
func writeHugePackument(w io.Writer, name string, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := strings.Fields("the a of registry package version module install build test lint bundle stream buffer parse render serve cache token " +
		"upstream mirror proxy tarball integrity digest manifest lock resolve semver range peer optional dev engine node browser")
	fmt.Fprintf(bw, `{"_id":%q,"name":%q,"dist-tags":{"latest":"1.%d.0"},"versions":{`, name, name, n-1)
	for i := range n {
		if i > 0 {
			bw.WriteByte(',')
		}
		v := fmt.Sprintf("1.%d.0", i)
		var desc strings.Builder
		for desc.Len() < 7000 {
			desc.WriteString(words[rng.IntN(len(words))])
			desc.WriteByte(' ')
		}
		fmt.Fprintf(bw, `%q:{"name":%q,"version":%q,"description":%q,"license":"MIT","main":"index.js","dependencies":{`, v, name, v, desc.String())
		for d := range 120 {
			if d > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `"dep-%03d-%x":"^%d.%d.%d"`, d, rng.Uint32()&0xfff, rng.IntN(20), rng.IntN(20), rng.IntN(20))
		}
		var sum [64]byte
		for j := range sum {
			sum[j] = byte(rng.Uint32())
		}
		fmt.Fprintf(bw, `},"scripts":{"test":"node test.js"},"_npmUser":{"name":"gen","email":"gen@example.com"},`+
			`"dist":{"tarball":"https://registry.example/%s/-/%s-%s.tgz","integrity":"sha512-%s","shasum":"%x"}}`,
			name, name, v, base64.StdEncoding.EncodeToString(sum[:]), sum[:20])
	}
	fmt.Fprintf(bw, `},"time":{"created":"2020-01-01T00:00:00.000Z"`)
	for i := range n {
		fmt.Fprintf(bw, `,"1.%d.0":"2020-01-%02dT00:00:00.000Z"`, i, 1+i%28)
	}
	bw.WriteString(`}}`)
	return bw.Flush()
}

// serveHuge makes the fixture registry serve a generated packument for
// name (other paths go to the registry as before) and counts its bytes.
func (e *env) serveHuge(name string, versions int) *atomic.Int64 {
	var size atomic.Int64
	reg := e.reg
	e.up.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+name {
			reg.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		cw := &countWriter{w: w}
		writeHugePackument(cw, name, versions, 1)
		size.Store(cw.n)
	})
	return &size
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// heapInUse is the heap's spans in use (HeapInuse), read without stopping
// the world.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// heapPeak runs f and returns the largest heap in use seen while it ran,
// sampled every millisecond, above the heap in use before.
func heapPeak(f func()) uint64 {
	runtime.GC()
	base := heapInUse()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if h := heapInUse(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkHugeUpstreamPackument serves, from a cold handler, the
// packument of a package whose upstream document is about 100 MiB
// (10,000 versions), full and abbreviated, and reports the peak heap the
// request took and the bytes it allocated.
func BenchmarkHugeUpstreamPackument(b *testing.B) {
	e := newEnv(b)
	size := e.serveHuge("huge", 10000)
	for _, v := range []struct{ name, accept string }{{"full", fullDoc}, {"abbreviated", corgi}} {
		b.Run(v.name, func(b *testing.B) {
			var peak, alloc uint64
			for b.Loop() {
				b.StopTimer()
				e.restart()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.StartTimer()
				p := heapPeak(func() {
					w := e.serve(b, "GET", "store/huge", v.accept, "gzip", nil)
					if w.n < 1<<20 {
						b.Fatalf("%d bytes", w.n)
					}
				})
				runtime.ReadMemStats(&after)
				peak = max(peak, p)
				alloc += after.TotalAlloc - before.TotalAlloc
			}
			b.ReportMetric(float64(size.Load())/(1<<20), "upstream-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(alloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
		})
	}
}

// TestHugeUpstreamPackumentServed: a packument of thousands of versions
// of 10 KiB from the upstream is served whole, full and abbreviated, and
// a version and a tarball URL of it are right.
func TestHugeUpstreamPackumentServed(t *testing.T) {
	e := newEnv(t)
	const n = 600
	e.serveHuge("huge", n)
	r := e.get("store", "huge", "Accept", fullDoc, "Accept-Encoding", "gzip")
	if r.status != 200 {
		t.Fatalf("full: %d %s", r.status, r.body)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	doc := response{status: 200, body: body}.json(t)
	versions, _ := doc["versions"].(map[string]any)
	if len(versions) != n {
		t.Fatalf("%d versions, want %d", len(versions), n)
	}
	v := versions["1.321.0"].(map[string]any)
	deps, _ := v["dependencies"].(map[string]any)
	if v["version"] != "1.321.0" || len(deps) != 120 || len(v["description"].(string)) < 7000 ||
		v["dist"].(map[string]any)["tarball"] != e.base+"store/huge/-/huge-1.321.0.tgz" {
		t.Fatalf("version 1.321.0: %v", v)
	}
	if tags := doc["dist-tags"].(map[string]any); tags["latest"] != fmt.Sprintf("1.%d.0", n-1) {
		t.Fatalf("dist-tags %v", tags)
	}
	a := e.get("store", "huge", "Accept", corgi)
	corg := a.json(t)
	av := corg["versions"].(map[string]any)["1.321.0"].(map[string]any)
	if len(corg["versions"].(map[string]any)) != n || av["description"] != nil || len(av["dependencies"].(map[string]any)) != 120 {
		t.Fatalf("abbreviated 1.321.0: %v", av)
	}
}
