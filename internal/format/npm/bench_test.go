package npm_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/store"
)

// benchVersions is the size of a big package (typescript had ~3,800
// versions when this was written).
const benchVersions = 3800

// seedBig stores n versions of package "big" in repository solo through
// the engine, each with a realistic version document (about 1 KB) in
// canonical form, as a publish stores it.
func seedBig(tb testing.TB, e *env, n int) {
	tb.Helper()
	for i := range n {
		version := fmt.Sprintf("1.%d.%d", i/100, i%100)
		tgz := []byte("tarball of big " + version)
		s512, s1 := sha512.Sum512(tgz), sha1.Sum(tgz)
		var deps strings.Builder
		for d := range 12 {
			if d > 0 {
				deps.WriteByte(',')
			}
			fmt.Fprintf(&deps, `"dep-%02d":"^%d.%d.0"`, d, d, i%7)
		}
		doc := fmt.Sprintf(`{"_id":"big@%s","_nodeVersion":"20.20.2","_npmVersion":"11.19.1","author":{"name":"Big Corp","email":"dev@example.com"},`+
			`"bin":{"big":"bin/big.js"},"bugs":{"url":"https://example.com/big/issues"},"dependencies":{%s},"description":"A big package with many versions",`+
			`"devDependencies":{"test-lib":"^5.0.0","lint-lib":"^9.1.0"},"engines":{"node":">=18"},"homepage":"https://example.com/big",`+
			`"keywords":["big","many","versions"],"license":"Apache-2.0","main":"lib/index.js","name":"big",`+
			`"repository":{"type":"git","url":"git+https://example.com/big.git"},"scripts":{"build":"tsc","test":"node test.js"},"version":"%s",`+
			`"dist":{"fileCount":42,"integrity":"sha512-%s","shasum":"%s","unpackedSize":123456}}`,
			version, deps.String(), version, base64.StdEncoding.EncodeToString(s512[:]), hex.EncodeToString(s1[:]))
		_, err := e.svc.PutAsset(bg, artifact.PutAssetRequest{VersionRef: e.verRef("solo", "big", version), Asset: "package.tgz",
			NewStatus: artifact.StatusPublished, NewVersion: func(v *store.Version) {
				v.Metadata, v.Summary, v.DisplayName = doc, "A big package with many versions", "big"
			}}, bytes.NewReader(tgz))
		if err != nil {
			tb.Fatal(err)
		}
	}
	_, err := e.svc.UpdatePackageMetadata(bg, e.pkgRef("solo", "big"), func(string) (string, error) {
		return `{"dist-tags":{"latest":"1.0.0"}}`, nil
	})
	if err != nil {
		tb.Fatal(err)
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

// serve runs one request through the data plane without a socket.
func (e *env) serve(tb testing.TB, method, path, accept, encoding string, body []byte) *discard {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, e.base+path, bytes.NewReader(body))
	} else {
		req = httptest.NewRequest(method, e.base+path, nil)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", accept)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	w := &discard{h: http.Header{}, status: 200}
	e.srv.Config.Handler.ServeHTTP(w, req)
	if w.status/100 != 2 {
		tb.Fatalf("%s %s: %d", method, path, w.status)
	}
	return w
}

// BenchmarkNpm measures, for one package of 3,800 versions: a packument
// served from the cache (gzip, the encoding npm asks for), the cost of
// rebuilding it after a change (cold, in a new process, and warm, with the
// per-version fragments cached), and the latency of publishing one more
// version through the handler.
func BenchmarkNpm(b *testing.B) {
	e := newEnv(b)
	start := time.Now()
	seedBig(b, e, benchVersions)
	b.Logf("seeded %d versions in %v", benchVersions, time.Since(start).Round(time.Millisecond))
	variants := []struct{ name, accept, encoding string }{
		{"full/gzip", fullDoc, "gzip,deflate"},
		{"abbreviated/gzip", corgi, "gzip,deflate"},
		{"full/identity", fullDoc, ""},
		{"full/zstd", fullDoc, "zstd"},
	}
	for _, v := range variants {
		w := e.serve(b, "GET", "solo/big", v.accept, v.encoding, nil)
		b.Logf("%s: %d bytes", v.name, w.n)
		b.Run("hit/"+v.name, func(b *testing.B) {
			for b.Loop() {
				e.serve(b, "GET", "solo/big", v.accept, v.encoding, nil)
			}
		})
	}
	// Rebuild after a change: a dist-tag flip changes the view stamp.
	flip := 0
	change := func(b *testing.B) {
		flip++
		_, err := e.svc.UpdatePackageMetadata(bg, e.pkgRef("solo", "big"), func(string) (string, error) {
			return fmt.Sprintf(`{"dist-tags":{"latest":"1.0.%d"}}`, flip%50), nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, v := range variants[:2] {
		b.Run("rebuild/"+v.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				change(b)
				b.StartTimer()
				e.serve(b, "GET", "solo/big", v.accept, v.encoding, nil)
			}
		})
		b.Run("cold/"+v.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e.restart()
				b.StartTimer()
				e.serve(b, "GET", "solo/big", v.accept, v.encoding, nil)
			}
		})
	}
	// Publishing version N+1 of the big package: its cost must not grow
	// with N (no packument is rebuilt on the way).
	e.serve(b, "GET", "solo/big", corgi, "gzip", nil)
	next := 0
	var lat []time.Duration
	b.Run(fmt.Sprintf("publish/version-%d", benchVersions+1), func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			next++
			body := pkg{name: "big", version: fmt.Sprintf("9.0.%d", next)}.body()
			b.StartTimer()
			t0 := time.Now()
			if w := e.serve(b, "PUT", "solo/big", "*/*", "", body); w.status != 201 {
				b.Fatalf("publish: %d", w.status)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		lat = lat[:0]
	})
	// For comparison: publishing the second version of a small package.
	e.publish("solo", pkg{name: "small", version: "1.0.0"})
	b.Run("publish/version-2-of-small", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			next++
			body := pkg{name: "small", version: fmt.Sprintf("2.0.%d", next)}.body()
			b.StartTimer()
			e.serve(b, "PUT", "solo/small", "*/*", "", body)
		}
	})
}
