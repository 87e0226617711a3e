package upstream

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/fault"
)

// versionedUpstream serves a document whose content and ETag the test can
// change, answers If-None-Match with 304, and fails with 500 while failing
// is set.
type versionedUpstream struct {
	*upstreamServer
	mu          sync.Mutex
	body, etag  string
	failing     bool
	conditional atomic.Int64 // requests that carried If-None-Match
}

func newVersionedUpstream(t *testing.T) *versionedUpstream {
	v := &versionedUpstream{body: "<metadata>v1</metadata>", etag: `"v1"`}
	v.upstreamServer = newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		v.mu.Lock()
		body, etag, failing := v.body, v.etag, v.failing
		v.mu.Unlock()
		if failing {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			v.conditional.Add(1)
			if inm == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(body))
	})
	return v
}

func (v *versionedUpstream) set(body, etag string, failing bool) {
	v.mu.Lock()
	v.body, v.etag, v.failing = body, etag, failing
	v.mu.Unlock()
}

func mustGet(t *testing.T, c *Client, url string, opts ...Option) *Response {
	t.Helper()
	r, err := c.Get(context.Background(), url, opts...)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return r
}

func TestGetRevalidatesAfterTTL(t *testing.T) {
	srv := newVersionedUpstream(t)
	clock := newFakeClock()
	cfg := testConfig(clock)
	cfg.MetadataTTL = 30 * time.Minute
	c := New(cfg, nil)
	url := srv.URL + "/g/a/maven-metadata.xml"

	r := mustGet(t, c, url)
	if r.Freshness != Fetched || string(r.Body) != "<metadata>v1</metadata>" || r.ETag != `"v1"` || r.ContentType != "text/xml" {
		t.Fatalf("first Get = %+v %+v", r, r.Document)
	}
	fetchedAt := r.FetchedAt

	clock.Advance(29 * time.Minute)
	if r := mustGet(t, c, url); r.Freshness != Fresh || string(r.Body) != "<metadata>v1</metadata>" {
		t.Errorf("within the TTL: %v", r.Freshness)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1 (served from cache within the TTL)", n)
	}

	clock.Advance(time.Minute)
	r = mustGet(t, c, url)
	if r.Freshness != Revalidated || string(r.Body) != "<metadata>v1</metadata>" {
		t.Errorf("after the TTL: %v %q", r.Freshness, r.Body)
	}
	if !r.FetchedAt.Equal(fetchedAt) || !r.ValidatedAt.Equal(clock.Now()) {
		t.Errorf("FetchedAt %v ValidatedAt %v", r.FetchedAt, r.ValidatedAt)
	}
	if n, nc := srv.requests.Load(), srv.conditional.Load(); n != 2 || nc != 1 {
		t.Errorf("requests = %d, conditional = %d, want 2 and 1", n, nc)
	}
	// The 304 restarted the TTL.
	clock.Advance(29 * time.Minute)
	if r := mustGet(t, c, url); r.Freshness != Fresh {
		t.Errorf("after revalidation: %v", r.Freshness)
	}

	// A failing upstream does not hide the cached copy.
	srv.set("", "", true)
	clock.Advance(time.Hour)
	r = mustGet(t, c, url)
	if r.Freshness != Stale || string(r.Body) != "<metadata>v1</metadata>" {
		t.Errorf("upstream down: %v %q", r.Freshness, r.Body)
	}
	assertFault(t, r.Err, fault.KindUnavailable, nil)

	// A changed document replaces the cached one.
	srv.set("<metadata>v2</metadata>", `"v2"`, false)
	r = mustGet(t, c, url)
	if r.Freshness != Fetched || string(r.Body) != "<metadata>v2</metadata>" || r.ETag != `"v2"` {
		t.Errorf("changed upstream: %v %q", r.Freshness, r.Body)
	}
	if r := mustGet(t, c, url); r.Freshness != Fresh || string(r.Body) != "<metadata>v2</metadata>" {
		t.Errorf("after the change: %v %q", r.Freshness, r.Body)
	}
}

func TestGetLastModified(t *testing.T) {
	const lm = "Wed, 01 Jan 2025 10:00:00 GMT"
	var sawIMS atomic.Int64
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		if r.Header.Get("If-Modified-Since") == lm {
			sawIMS.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lm)
		w.Write([]byte("<html>simple</html>"))
	})
	clock := newFakeClock()
	c := New(testConfig(clock), nil)
	mustGet(t, c, srv.URL)
	clock.Advance(DefaultMetadataTTL)
	r := mustGet(t, c, srv.URL)
	if r.Freshness != Revalidated || string(r.Body) != "<html>simple</html>" || sawIMS.Load() != 1 {
		t.Errorf("Get = %v %q, If-Modified-Since seen %d times", r.Freshness, r.Body, sawIMS.Load())
	}
}

// A caller that persists documents passes its copy back; with the in-memory
// cache disabled, that copy alone drives revalidation.
func TestGetWithCallerCache(t *testing.T) {
	srv := newVersionedUpstream(t)
	clock := newFakeClock()
	cfg := testConfig(clock)
	cfg.MetadataCacheBytes = -1
	c := New(cfg, nil)

	first := mustGet(t, c, srv.URL)
	if r := mustGet(t, c, srv.URL); r.Freshness != Fetched {
		t.Errorf("no cache at all: %v, want fetched", r.Freshness)
	}
	if r := mustGet(t, c, srv.URL, WithCached(first.Document)); r.Freshness != Fresh {
		t.Errorf("caller's copy within the TTL: %v", r.Freshness)
	}
	clock.Advance(DefaultMetadataTTL)
	r := mustGet(t, c, srv.URL, WithCached(first.Document))
	if r.Freshness != Revalidated || string(r.Body) != string(first.Body) {
		t.Errorf("caller's copy after the TTL: %v", r.Freshness)
	}
	if first.ValidatedAt.Equal(r.ValidatedAt) {
		t.Error("the caller's Document was modified or not revalidated")
	}
	if n := srv.requests.Load(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

func TestGetNegativeCache(t *testing.T) {
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		http.NotFound(w, r)
	})
	clock := newFakeClock()
	cfg := testConfig(clock)
	cfg.NegativeTTL = 2 * time.Minute
	c := New(cfg, nil)
	url := srv.URL + "/nope/package.json"

	_, err := c.Get(context.Background(), url)
	assertFault(t, err, fault.KindNotFound, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 {
		t.Errorf("err = %v, want a 404 StatusError", err)
	}
	clock.Advance(time.Minute)
	_, err = c.Get(context.Background(), url)
	assertFault(t, err, fault.KindNotFound, nil)
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1 (negative cache)", n)
	}
	// Fetch shares the negative cache: it is per URL.
	store, root := newStore(t)
	_, err = c.Fetch(context.Background(), "", url, Expectation{}, store)
	assertFault(t, err, fault.KindNotFound, nil)
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1 (negative cache)", n)
	}
	assertEmptyStore(t, root)

	clock.Advance(time.Minute)
	_, err = c.Get(context.Background(), url)
	assertFault(t, err, fault.KindNotFound, nil)
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("requests = %d, want 2 (entry expired)", n)
	}
}

// A document that disappears upstream is still served, Stale, with the
// NotFound as the reason.
func TestGetStaleWhenUpstreamForgets(t *testing.T) {
	var gone atomic.Bool
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		if gone.Load() {
			http.Error(w, "gone", http.StatusGone)
			return
		}
		w.Write([]byte(`{"name":"left-pad"}`))
	})
	clock := newFakeClock()
	c := New(testConfig(clock), nil)
	mustGet(t, c, srv.URL)
	gone.Store(true)
	clock.Advance(DefaultMetadataTTL)
	for range 2 { // the second from the negative cache
		r := mustGet(t, c, srv.URL)
		if r.Freshness != Stale || string(r.Body) != `{"name":"left-pad"}` {
			t.Errorf("Get = %v %q", r.Freshness, r.Body)
		}
		assertFault(t, r.Err, fault.KindNotFound, nil)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestGetFaults(t *testing.T) {
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, *upstreamServer)
		config  func(*Config)
		kind    fault.Kind
		cause   error
	}{
		{
			name:    "timeout before headers",
			handler: func(w http.ResponseWriter, r *http.Request, s *upstreamServer) { s.block(r) },
			config:  func(c *Config) { c.HeaderTimeout = 50 * time.Millisecond },
			kind:    fault.KindUnavailable,
			cause:   ErrTimeout,
		},
		{
			name: "503",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			kind: fault.KindUnavailable,
		},
		{
			name: "too large",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				w.Write([]byte(strings.Repeat("x", 2000)))
			},
			config: func(c *Config) { c.MaxMetadataSize = 1000 },
			kind:   fault.KindQuotaExceeded,
			cause:  ErrTooLarge,
		},
		{
			name: "too large, streamed",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				for range 20 {
					w.Write([]byte(strings.Repeat("x", 100)))
					w.(http.Flusher).Flush()
				}
			},
			config: func(c *Config) { c.MaxMetadataSize = 1000 },
			kind:   fault.KindQuotaExceeded,
			cause:  ErrTooLarge,
		},
		{
			name: "unsolicited 304",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				w.WriteHeader(http.StatusNotModified)
			},
			kind: fault.KindUnavailable,
		},
		{
			name: "stalled body",
			handler: func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
				w.Header().Set("Content-Length", "100")
				w.Write([]byte("{"))
				w.(http.Flusher).Flush()
				s.block(r)
			},
			config: func(c *Config) {
				c.MinBodyRate = 10
				c.RateWindow = 50 * time.Millisecond
			},
			kind:  fault.KindUnavailable,
			cause: ErrSlowBody,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newUpstream(t, tt.handler)
			cfg := testConfig(newFakeClock())
			if tt.config != nil {
				tt.config(&cfg)
			}
			c := New(cfg, nil)
			r, err := c.Get(context.Background(), srv.URL)
			if r != nil {
				t.Errorf("response = %+v, want nil", r)
			}
			assertFault(t, err, tt.kind, tt.cause)
		})
	}
}

func TestGetConcurrentCallersShareOneRequest(t *testing.T) {
	const callers = 20
	release := make(chan struct{})
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
		<-release
		w.Write([]byte("packument"))
	})
	c := New(testConfig(newFakeClock()), nil)
	var joined sync.WaitGroup
	joined.Add(callers - 1)
	c.gets.joined = func(string) { joined.Done() }
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			r, err := c.Get(context.Background(), srv.URL, WithHeader("Accept", "application/json"))
			if err != nil || string(r.Body) != "packument" || r.Freshness != Fetched {
				t.Errorf("Get = %+v, %v", r, err)
			}
		})
	}
	joined.Wait()
	close(release)
	wg.Wait()
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

// Extra headers are part of the cache key: npm's abbreviated and full
// packuments differ.
func TestGetCacheKeyIncludesHeaders(t *testing.T) {
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		w.Write([]byte("accept=" + r.Header.Get("Accept")))
	})
	c := New(testConfig(newFakeClock()), nil)
	a := mustGet(t, c, srv.URL, WithHeader("Accept", "application/vnd.npm.install-v1+json"))
	b := mustGet(t, c, srv.URL)
	if string(a.Body) == string(b.Body) || b.Freshness != Fetched {
		t.Errorf("bodies %q and %q (%v)", a.Body, b.Body, b.Freshness)
	}
	if r := mustGet(t, c, srv.URL, WithHeader("Accept", "application/vnd.npm.install-v1+json")); r.Freshness != Fresh || string(r.Body) != string(a.Body) {
		t.Errorf("cached abbreviated: %v %q", r.Freshness, r.Body)
	}
}

func TestChecksum(t *testing.T) {
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		switch r.URL.Path {
		case "/a.jar.sha1":
			w.Write([]byte("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709  a.jar\n"))
		case "/bad.sha1":
			w.Write([]byte("<html>error</html>"))
		default:
			http.NotFound(w, r)
		}
	})
	c := New(testConfig(newFakeClock()), nil)
	sum, err := c.Checksum(context.Background(), srv.URL+"/a.jar.sha1")
	if err != nil || sum != "da39a3ee5e6b4b0d3255bfef95601890afd80709" {
		t.Errorf("Checksum = %q, %v", sum, err)
	}
	_, err = c.Checksum(context.Background(), srv.URL+"/bad.sha1")
	assertFault(t, err, fault.KindUnavailable, nil)
	_, err = c.Checksum(context.Background(), srv.URL+"/none.sha1")
	assertFault(t, err, fault.KindNotFound, nil)
}

func TestParseChecksum(t *testing.T) {
	const sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{sha1, sha1, true},
		{sha1 + "\n", sha1, true},
		{strings.ToUpper(sha1) + "  foo-1.0.jar\n", sha1, true},
		{"SHA1 (foo-1.0.jar) = " + sha1, sha1, true},
		{"d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e", true},
		{strings.Repeat("ab", 32), strings.Repeat("ab", 32), true},
		{strings.Repeat("ab", 64), strings.Repeat("ab", 64), true},
		{"", "", false},
		{"not a checksum", "", false},
		{sha1[:39], "", false},
		{sha1[:39] + "g", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseChecksum([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseChecksum(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLRU(t *testing.T) {
	l := newLRU[int](10)
	l.put("a", 1, 4)
	l.put("b", 2, 4)
	l.get("a") // b is now the least recently used
	l.put("c", 3, 4)
	if _, ok := l.get("b"); ok {
		t.Error("b not evicted")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := l.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	l.put("huge", 4, 11)
	if _, ok := l.get("huge"); ok {
		t.Error("a value costlier than the cache was kept")
	}
	l.put("a", 5, 2) // replace
	if v, _ := l.get("a"); v != 5 || l.cost != 6 {
		t.Errorf("a = %d, cost = %d", v, l.cost)
	}
}

func TestNegativeCacheIsBounded(t *testing.T) {
	n := newNegativeCache(3)
	now := time.Now()
	for i := range 5 {
		n.add("u"+strconv.Itoa(i), now.Add(time.Minute))
	}
	if n.missing("u0", now) || n.missing("u1", now) || !n.missing("u4", now) {
		t.Error("oldest entries not evicted")
	}
	if len(n.l.entries) != 3 {
		t.Errorf("%d entries, want 3", len(n.l.entries))
	}
	if n.missing("u4", now.Add(time.Minute)) || len(n.l.entries) != 2 {
		t.Error("expired entry not dropped")
	}
}
