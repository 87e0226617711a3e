package upstream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"coffer/internal/fault"
)

// syncBuffer is a bytes.Buffer for a logger written from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ssrfFixture is a configured upstream on loopback (allowed by the
// policy) and an internal server on another loopback port, which must
// never be reached.
type ssrfFixture struct {
	up       *upstreamServer
	internal *upstreamServer
	logs     *syncBuffer
	policy   *Policy
}

func newSSRFFixture(t *testing.T, h func(w http.ResponseWriter, r *http.Request, internalURL string)) *ssrfFixture {
	f := &ssrfFixture{logs: &syncBuffer{}}
	f.internal = newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		w.Write([]byte("instance credentials"))
	})
	f.up = newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) { h(w, r, f.internal.URL) })
	f.policy = NewPolicy(slog.New(slog.NewTextHandler(f.logs, nil)), f.up.URL+"/")
	return f
}

// assertRefused requires err to be an Unavailable refusal naming host, the
// internal server to have received nothing, and a warning in the logs.
func (f *ssrfFixture) assertRefused(t *testing.T, err error, host string) {
	t.Helper()
	assertFault(t, err, fault.KindUnavailable, ErrAddressRefused)
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Host != host {
		t.Errorf("err = %v, want an *AddressError for %s", err, host)
	}
	if !strings.Contains(fault.As(err).Message, host) {
		t.Errorf("message %q does not name %s", fault.As(err).Message, host)
	}
	if n := f.internal.requests.Load(); n != 0 {
		t.Errorf("the internal server received %d requests", n)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, host) {
		t.Errorf("no warning naming %s in the logs:\n%s", host, logs)
	}
}

func hostOf(rawURL string) string {
	u, _ := url.Parse(rawURL)
	return u.Host
}

// TestPolicyRefusesRedirectToLoopback: the configured upstream (on
// loopback) redirects to another loopback port: not followed, not retried.
func TestPolicyRefusesRedirectToLoopback(t *testing.T) {
	for _, given := range []bool{false, true} {
		name := "built client"
		if given {
			name = "given client"
		}
		t.Run(name, func(t *testing.T) {
			f := newSSRFFixture(t, func(w http.ResponseWriter, r *http.Request, internal string) {
				http.Redirect(w, r, internal+"/latest/meta-data/", http.StatusFound)
			})
			cfg := testConfig(newFakeClock())
			cfg.Policy = f.policy
			var hc *http.Client
			if given {
				hc = f.up.Client()
			}
			c := New(cfg, hc)
			_, err := c.Get(context.Background(), f.up.URL+"/pkg")
			f.assertRefused(t, err, hostOf(f.internal.URL))
			if n := f.up.requests.Load(); n != 1 {
				t.Errorf("the upstream was asked %d times, want once (a refusal is not retried)", n)
			}
			store, root := newStore(t)
			_, err = c.Fetch(context.Background(), "", f.up.URL+"/pkg.tgz", Expectation{}, store)
			f.assertRefused(t, err, hostOf(f.internal.URL))
			assertEmptyStore(t, root)
		})
	}
}

// TestPolicyRefusesDocumentURLs: URLs found in upstream documents (an npm
// dist.tarball, a PyPI link) are refused when they lead to an address
// that is not public, by name (resolved before the dial) as by IP, and
// when their scheme is not http(s); the configured upstream is reached.
func TestPolicyRefusesDocumentURLs(t *testing.T) {
	f := newSSRFFixture(t, func(w http.ResponseWriter, r *http.Request, internal string) {
		if r.URL.Path == "/ftp" {
			http.Redirect(w, r, "ftp://ftp.example.org/pub/x", http.StatusFound)
			return
		}
		w.Write([]byte("document"))
	})
	cfg := testConfig(newFakeClock())
	cfg.Policy = f.policy
	c := New(cfg, nil)
	if r := mustGet(t, c, f.up.URL+"/ok"); string(r.Body) != "document" {
		t.Fatalf("the configured upstream: %q", r.Body)
	}
	store, root := newStore(t)
	port := f.internal.URL[strings.LastIndexByte(f.internal.URL, ':')+1:]
	for _, u := range []string{
		f.internal.URL + "/pkg.tgz",         // IP literal
		"http://localhost:" + port + "/x",   // a name that resolves to loopback
		"http://[::ffff:127.0.0.1]:" + port, // IPv4-mapped
	} {
		_, err := c.Fetch(context.Background(), "", u, Expectation{}, store)
		f.assertRefused(t, err, hostOf(u))
	}
	assertEmptyStore(t, root)
	_, err := c.Get(context.Background(), "file:///etc/passwd")
	assertFault(t, err, fault.KindUnavailable, ErrAddressRefused)
	_, err = c.Get(context.Background(), f.up.URL+"/ftp")
	assertFault(t, err, fault.KindUnavailable, ErrAddressRefused)
	if !strings.Contains(err.Error(), "scheme ftp") {
		t.Errorf("err = %v, want it to name the scheme", err)
	}
	if n := f.internal.requests.Load(); n != 0 {
		t.Errorf("the internal server received %d requests", n)
	}
}

// TestPolicyProxiedRequests: with a proxy from the configuration, the
// proxy is dialled, and each proxied target is checked before: a name
// that resolves to a private address and an internal IP literal are
// refused; a public name, and one only the proxy can resolve, go through
// the proxy.
func TestPolicyProxiedRequests(t *testing.T) {
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.String())
		mu.Unlock()
		w.Write([]byte("via proxy"))
	}))
	t.Cleanup(proxy.Close)
	proxyURL, _ := url.Parse(proxy.URL)
	policy := NewPolicy(nil, "https://registry.example/")
	policy.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "public.example":
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
		case "rebound.example":
			return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.7")}, nil
		}
		return nil, errors.New("no such host")
	}
	cfg := testConfig(newFakeClock())
	cfg.Policy = policy
	c := New(cfg, &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}})
	for _, u := range []string{"http://public.example/doc", "http://unresolvable.example/doc"} {
		if r := mustGet(t, c, u); string(r.Body) != "via proxy" {
			t.Fatalf("%s through the proxy: %q", u, r.Body)
		}
	}
	for _, u := range []string{"http://rebound.example/doc", "http://169.254.169.254/latest/meta-data/"} {
		_, err := c.Get(context.Background(), u)
		assertFault(t, err, fault.KindUnavailable, ErrAddressRefused)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(proxied, []string{"http://public.example/doc", "http://unresolvable.example/doc"}) {
		t.Errorf("the proxy was asked for %q, want only the public and the unresolvable names", proxied)
	}
}

func TestNonPublic(t *testing.T) {
	for _, ip := range []string{
		"127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
		"192.0.0.8", "198.18.0.1", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "ff01::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2002:a9fe:a9fe::1",
		"fec0::1", "2001:db8::1",
	} {
		if nonPublic(netip.MustParseAddr(ip)) == "" {
			t.Errorf("%s is taken for a public address", ip)
		}
	}
	for _, ip := range []string{
		"8.8.8.8", "1.1.1.1", "104.16.0.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "100.63.255.255", "192.169.0.1",
		"2606:4700::1111", "2a00:1450:4001::200e", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8",
	} {
		if r := nonPublic(netip.MustParseAddr(ip)); r != "" {
			t.Errorf("%s is refused as a %s", ip, r)
		}
	}
}

// TestPolicyExceptionIsExactHostPort: the exception is the configured
// host:port, with the scheme's default port; nothing else on that host.
func TestPolicyExceptionIsExactHostPort(t *testing.T) {
	p := NewPolicy(nil, "http://127.0.0.1:8081/npm/", "https://Mirror.Internal/", "http://[::1]:9000")
	for addr, want := range map[string]bool{
		"127.0.0.1:8081": true, "127.0.0.1:8082": false, "mirror.internal:443": true, "MIRROR.internal:443": true,
		"mirror.internal:80": false, "[::1]:9000": true, "[::1]:9001": false, "localhost:8081": false,
	} {
		if got := p.configured(addr); got != want {
			t.Errorf("configured(%s) = %v, want %v", addr, got, want)
		}
	}
	if err := p.CheckURL(&url.URL{Scheme: "http", Host: "127.0.0.1:8082"}); !errors.Is(err, ErrAddressRefused) {
		t.Errorf("127.0.0.1:8082: %v", err)
	}
	if err := p.CheckURL(&url.URL{Scheme: "http", Host: "127.0.0.1:8081"}); err != nil {
		t.Errorf("127.0.0.1:8081: %v", err)
	}
	var nilPolicy *Policy
	if err := nilPolicy.CheckURL(&url.URL{Scheme: "gopher", Host: "127.0.0.1"}); err != nil {
		t.Errorf("a nil policy refused: %v", err)
	}
}
