package rubygems

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob/fs"
	"coffer/internal/format"
	"coffer/internal/lru"
	"coffer/internal/upstream"
)

// relayEngine is the little of the engine the versions and names files
// read: one repository, reaching the external source at url, storing the
// gems named in own (with no versions of their own: their info files are
// the source's).
type relayEngine struct {
	Engine
	url string
	own []string
}

func (e *relayEngine) ExternalConnectionsReached(context.Context, artifact.RepoRef, string) ([]artifact.ExternalSource, error) {
	if e.url == "" {
		return nil, nil
	}
	return []artifact.ExternalSource{{Repository: "r", Connection: "public:ruby-gems-org", BaseURL: e.url}}, nil
}

func (e *relayEngine) PackageNames(context.Context, artifact.RepoRef, string) ([]string, error) {
	return slices.Sorted(slices.Values(e.own)), nil
}

func (e *relayEngine) ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error) {
	srcs, err := e.ExternalConnectionsReached(ctx, ref.RepoRef, artifact.FormatRuby)
	return "stamp", srcs, err
}

func (e *relayEngine) ViewPackage(context.Context, artifact.PackageRef, bool) (*artifact.PackageView, error) {
	return &artifact.PackageView{}, nil
}

type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

// relayRegistry is a fixture rubygems.org: a versions file that grows,
// names, info files.
type relayRegistry struct {
	mu       sync.Mutex
	versions []byte
	names    []byte
	info     map[string]string
	fail     atomic.Bool
	requests atomic.Int64
}

func (g *relayRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	if g.fail.Load() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	g.mu.Lock()
	versions, names := g.versions, g.names
	g.mu.Unlock()
	var body []byte
	switch {
	case r.URL.Path == "/versions":
		body = versions
	case r.URL.Path == "/names":
		body = names
	case strings.HasPrefix(r.URL.Path, "/info/"):
		doc, ok := g.info[strings.TrimPrefix(r.URL.Path, "/info/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body = []byte(doc)
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", ETag(body))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (g *relayRegistry) grow(line string) {
	g.mu.Lock()
	g.versions = append(g.versions[:len(g.versions):len(g.versions)], line...)
	g.mu.Unlock()
}

const relayInfo = "---\n1.0.0 |checksum:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + ",ruby:>= 2.7\n"

func newRelayRegistry() *relayRegistry {
	return &relayRegistry{
		versions: []byte("created_at: 2024-04-01T00:00:05Z\n---\nfx_public 1.0.0 " + MD5Hex([]byte(relayInfo)) + "\nrack 3.0.0 0123\n"),
		names:    []byte("---\nfx_public\nrack\n"),
		info:     map[string]string{"fx_public": relayInfo},
	}
}

type relayFixture struct {
	h     *Handler
	reg   *relayRegistry
	blobs string
	t     *format.Target
}

func newRelayFixture(t *testing.T, reg *relayRegistry, own ...string) *relayFixture {
	t.Helper()
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	root := t.TempDir()
	store, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	f := format.NewFetcher(format.FetcherConfig{Blobs: store, Upstream: upstream.Config{MetadataTTL: time.Nanosecond}})
	h := New(&relayEngine{url: srv.URL + "/", own: own}, allowAll{}, Config{Fetcher: f})
	return &relayFixture{h: h, reg: reg, blobs: root,
		t: &format.Target{Format: artifact.FormatRuby, Domain: "d", DomainOwner: "111122223333", Repository: "r"}}
}

// hashingWriter is a ResponseWriter that keeps only the body's digests,
// so that what the test reads takes no memory.
type hashingWriter struct {
	hd   http.Header
	code int
	n    int64
	md5  hash.Hash
	sha  hash.Hash
	keep []byte
	all  bool
}

func (w *hashingWriter) Header() http.Header { return w.hd }
func (w *hashingWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *hashingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += int64(len(p))
	w.md5.Write(p)
	w.sha.Write(p)
	if w.all {
		w.keep = append(w.keep, p...)
	}
	return len(p), nil
}

func (x *relayFixture) get(t *testing.T, kind string, keep bool, header ...string) *hashingWriter {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/"+kind, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := &hashingWriter{hd: http.Header{}, md5: md5.New(), sha: sha256.New(), all: keep}
	serve := x.h.serveVersions
	if kind == "names" {
		serve = x.h.serveNames
	}
	if err := serve(w, r, &format.Call{Target: x.t}); err != nil {
		t.Fatalf("GET %s: %v", kind, err)
	}
	return w
}

// TestRelayVersions: a repository that reaches an external source lists
// the source's versions file, byte for byte, then its own lines; its
// validators are the whole document's; a Range request is a 206 only for
// a copy that is the document's prefix.
func TestRelayVersions(t *testing.T) {
	reg := newRelayRegistry()
	x := newRelayFixture(t, reg, "fx_public")
	upstreamBody := string(reg.versions)
	w := x.get(t, "versions", true)
	body := string(w.keep)
	own := "fx_public 1.0.0 " + MD5Hex([]byte(relayInfo)) + "\n"
	if w.code != http.StatusOK || body != upstreamBody+own {
		t.Fatalf("versions: %d\n%s", w.code, body)
	}
	sum := sha256.Sum256(w.keep)
	if w.hd.Get("ETag") != ETag(w.keep) || w.hd.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" ||
		w.hd.Get("Digest") != LegacyDigest(w.keep) {
		t.Errorf("validators %v", w.hd)
	}
	// coffer's info file of the source's gem is the source's: the
	// checksums agree.
	info, err := x.h.info(context.Background(), x.t, "fx_public")
	if err != nil || string(info.body) != relayInfo {
		t.Errorf("info/fx_public: %v %q", err, info.body)
	}
	etag := w.hd.Get("ETag")
	if w := x.get(t, "versions", false, "If-None-Match", etag, "Range", fmt.Sprintf("bytes=%d-", len(body)-1)); w.code != http.StatusNotModified {
		t.Errorf("unchanged, with If-None-Match: %d", w.code)
	}
	// The client holds a prefix (inside the relayed part, then inside
	// the own lines): 206 of the rest.
	for _, k := range []int{len(upstreamBody) - 7, len(upstreamBody) + 5} {
		w := x.get(t, "versions", true, "If-None-Match", ETag([]byte(body[:k])), "Range", fmt.Sprintf("bytes=%d-", k-1))
		if w.code != http.StatusPartialContent || string(w.keep) != body[k-1:] {
			t.Errorf("append from %d: %d %q", k, w.code, w.keep)
		}
	}
	// A copy that is not a prefix: the whole document.
	bad := []byte(strings.Replace(body[:40], "2024", "2023", 1))
	if w := x.get(t, "versions", true, "If-None-Match", ETag(bad), "Range", "bytes=39-"); w.code != http.StatusOK || string(w.keep) != body {
		t.Errorf("a copy that is no prefix: %d", w.code)
	}

	// The source's file grows: the document's middle changes, so the
	// client's append must be a 200 of the whole, never a 206 of a tail.
	reg.grow("zeitwerk 2.6.0 4567\n")
	w2 := x.get(t, "versions", true, "If-None-Match", etag, "Range", fmt.Sprintf("bytes=%d-", len(body)-1))
	if want := string(reg.versions) + own; w2.code != http.StatusOK || string(w2.keep) != want || w2.hd.Get("ETag") != ETag([]byte(want)) {
		t.Errorf("after the source grew: %d\n%s", w2.code, w2.keep)
	}

	// names: the source's, then the repository's.
	if w := x.get(t, "names", true); string(w.keep) != "---\nfx_public\nrack\nfx_public\n" || w.hd.Get("ETag") != ETag(w.keep) {
		t.Errorf("names: %q", w.keep)
	}

	// The relayed blob collected (found so when serving, then when
	// reading its digests): the file is fetched again.
	for _, forget := range []bool{false, true} {
		os.RemoveAll(filepath.Join(x.blobs, "sha256"))
		os.MkdirAll(filepath.Join(x.blobs, "sha256"), 0o755)
		if forget {
			x.h.relayBases = lru.New[*relayBase](64 << 10)
		}
		before := reg.requests.Load()
		if w := x.get(t, "versions", true); w.code != http.StatusOK || string(w.keep) != string(w2.keep) {
			t.Errorf("after the blob was collected (digests forgotten: %v): %d %q", forget, w.code, w.keep)
		}
		if reg.requests.Load() == before {
			t.Errorf("the collected file was not fetched again (digests forgotten: %v)", forget)
		}
	}

	// The source fails: its last good copy is relayed.
	reg.fail.Store(true)
	if w := x.get(t, "versions", true); w.code != http.StatusOK || string(w.keep) != string(w2.keep) {
		t.Errorf("with the source failing: %d %q", w.code, w.keep)
	}
}

// TestRelayFallsBack: without an external source, or when the source has
// no versions file (and nothing was relayed before), the versions file is
// the repository's own.
func TestRelayFallsBack(t *testing.T) {
	reg := newRelayRegistry()
	reg.versions = []byte("<html>not a versions file</html>\n")
	x := newRelayFixture(t, reg, "fx_public")
	w := x.get(t, "versions", true)
	want := "created_at: 2024-01-01T00:00:00Z\n---\nfx_public 1.0.0 " + MD5Hex([]byte(relayInfo)) + "\n"
	if w.code != http.StatusOK || string(w.keep) != want {
		t.Errorf("versions when the source's file is no versions file: %d %q", w.code, w.keep)
	}
	x.h.svc.(*relayEngine).url = ""
	if w := x.get(t, "versions", true); string(w.keep) != "created_at: 2024-01-01T00:00:00Z\n---\n" {
		t.Errorf("versions without a source: %q", w.keep)
	}
}

// TestRelayBoundedMemory relays a versions file of 100,000 gems (25 MB)
// and checks that neither its first read (download, staging, digests:
// a few fixed buffers of the blob store's) nor serving it (whole, or an
// append checked against a prefix inside it) allocates more than a small
// part of it.
func TestRelayBoundedMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a large fixture, and allocations measured without the race detector")
	}
	var b strings.Builder
	b.WriteString("created_at: 2024-04-01T00:00:05Z\n---\n")
	// As rubygems.org's: about 25 MB, most gems with many versions.
	var tokens []string
	for v := range 20 {
		tokens = append(tokens, fmt.Sprintf("%d.%d.%d", v/10, v%10, v%3))
	}
	tokens = append(tokens, "2.0.0.pre1", "2.0.0-x86_64-linux", "2.0.0-java")
	versions := strings.Join(tokens, ",")
	for i := range 100000 {
		fmt.Fprintf(&b, "gem_%06d %s %032x\n", i, versions, i)
	}
	reg := newRelayRegistry()
	reg.versions = []byte(b.String())
	size := len(reg.versions)
	x := newRelayFixture(t, reg, "fx_public")

	measure := func(name string, limit int, f func()) {
		t.Helper()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		f()
		runtime.ReadMemStats(&m1)
		alloc := m1.TotalAlloc - m0.TotalAlloc
		t.Logf("%s: %d bytes allocated for a %d-byte versions file", name, alloc, size)
		if alloc > uint64(limit) {
			t.Errorf("%s allocated %d bytes, more than %d (the file is %d bytes)", name, alloc, limit, size)
		}
	}
	var w *hashingWriter
	measure("first read", size/4, func() { w = x.get(t, "versions", false) })
	if w.code != http.StatusOK || w.n != int64(size)+int64(len("fx_public 1.0.0 ")+33) {
		t.Fatalf("versions: %d, %d bytes", w.code, w.n)
	}
	etag := w.hd.Get("ETag")
	if got := `"` + hex.EncodeToString(w.md5.Sum(nil)) + `"`; got != etag {
		t.Errorf("ETag %s, MD5 of the body %s", etag, got)
	}
	measure("served again", size/16, func() { w = x.get(t, "versions", false) })
	if w.code != http.StatusOK || w.hd.Get("ETag") != etag {
		t.Errorf("again: %d %s", w.code, w.hd.Get("ETag"))
	}
	k := size / 2
	prefix := md5.Sum(reg.versions[:k])
	measure("append from the middle", size/16, func() {
		w = x.get(t, "versions", false, "If-None-Match", `"`+hex.EncodeToString(prefix[:])+`"`, "Range", fmt.Sprintf("bytes=%d-", k-1))
	})
	if w.code != http.StatusPartialContent || w.n != w.total()-int64(k-1) {
		t.Errorf("append: %d, %d bytes", w.code, w.n)
	}
}

// total is the document's size a 206 announces.
func (w *hashingWriter) total() int64 {
	var start, end, total int64
	fmt.Sscanf(w.hd.Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &total)
	return total
}

// TestAppendable checks the Range rule on an in-memory document.
func TestAppendable(t *testing.T) {
	body := []byte("---\na 1.0 x\nb 2.0 y\n")
	prefix := func(n int64) string { return MD5Hex(body[:n]) }
	etag := ETag(body)
	for _, c := range []struct {
		rng, inm string
		want     bool
	}{
		{"", "", true},
		{"bytes=3-", "", true},
		{"bytes=3-", etag, true},
		{"bytes=3-", `W/` + etag, true},
		{"bytes=3-", ETag(body[:4]), true},
		{"bytes=3-", `"x", ` + ETag(body[:4]), true},
		{"bytes=4-", ETag(body[:4]), false},
		{"bytes=2-", ETag(body[:4]), false},
		{"bytes=3-5", ETag(body[:4]), false},
		{"bytes=99-", ETag(body[:4]), false},
		{"bytes=3-", ETag([]byte("---\n?")), false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.rng != "" {
			r.Header.Set("Range", c.rng)
		}
		if c.inm != "" {
			r.Header.Set("If-None-Match", c.inm)
		}
		if got := appendable(r, etag, int64(len(body)), prefix); got != c.want {
			t.Errorf("Range %q If-None-Match %q: %v, want %v", c.rng, c.inm, got, c.want)
		}
	}
}
