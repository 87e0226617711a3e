package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrAddressRefused is the cause of an error made from a connection the
// Policy refused; test it with errors.Is, read the details with errors.As
// and *AddressError.
var ErrAddressRefused = errors.New("upstream address not allowed")

// AddressError is a connection (or a URL) the Policy refused.
type AddressError struct {
	// Host is the host:port the client was to connect to (a redirect's or
	// a document URL's target), or the URL when the scheme is refused.
	Host string
	// IP is the address Host resolved to, when the refusal came from it.
	IP string
	// Reason says why: "loopback address", "scheme ftp", ...
	Reason string
}

func (e *AddressError) Error() string {
	target := e.Host
	if host, _, err := net.SplitHostPort(e.Host); e.IP != "" && e.IP != e.Host && (err != nil || host != e.IP) {
		target += " (" + e.IP + ")"
	}
	return fmt.Sprintf("connection to %s refused: %s; an upstream may only lead to public http(s) addresses or to a configured external connection", target, e.Reason)
}

func (e *AddressError) Unwrap() error { return ErrAddressRefused }

// Policy decides where the Client may connect, so that an upstream cannot
// make coffer reach its own network (a blind SSRF through a redirect, or
// through a URL inside a document such as an npm dist.tarball or a PyPI
// file link): only http and https, and only public unicast addresses,
// except for the configured external connections themselves. A connection
// to a loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), shared
// (100.64/10), link-local (169.254/16 with the cloud metadata service,
// fe80::/10), unspecified, multicast or otherwise reserved address is
// refused unless the host:port dialled is exactly the host:port of one of
// the configured connection URLs (an air-gapped mirror at
// http://10.0.0.5:8080/, a test fixture on loopback): a fixture on
// 127.0.0.1:A that redirects to 127.0.0.1:B is refused.
//
// The check is made when a connection is dialled, on the address the name
// resolved to (net.Dialer.Control), so that a name that resolves to a
// private address, or a DNS answer that changes between a check and the
// connection (rebinding), cannot get around it. When the environment
// configures an HTTP proxy, the proxy (operator configuration) may be
// dialled, and the target of each proxied request is checked before: an
// IP literal at once, a name by resolving it here when this host can (the
// proxy resolves it again: a best effort).
//
// A refusal is logged at warn and fails the request with an error wrapping
// an *AddressError (ErrAddressRefused), which the Client reports as
// fault.KindUnavailable, without retrying.
//
// A nil *Policy allows everything (unit tests that build a Client directly);
// the formats always install one built from the configured external
// connections.
type Policy struct {
	allowed map[string]bool // host:port of the configured connections
	log     *slog.Logger
	proxies sync.Map // host:port of proxies the environment named
	// lookup resolves a proxied request's host (tests replace it).
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// NewPolicy returns the policy for a process whose external connections
// point at connectionURLs (their host:port may be reached whatever address
// they resolve to); refusals are logged to log (which may be nil).
func NewPolicy(log *slog.Logger, connectionURLs ...string) *Policy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Policy{allowed: map[string]bool{}, log: log, lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}
	for _, s := range connectionURLs {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			continue
		}
		if hp, ok := hostPort(u); ok {
			p.allowed[hp] = true
		}
	}
	return p
}

// hostPort is a URL's host:port as a transport dials it: lower-case host,
// the scheme's default port when none is given.
func hostPort(u *url.URL) (string, bool) {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return "", false
		}
	}
	return net.JoinHostPort(host, port), true
}

// configured reports whether addr (host:port) is a configured connection's.
func (p *Policy) configured(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return p.allowed[net.JoinHostPort(strings.ToLower(host), port)]
}

// refuse logs and returns a refusal.
func (p *Policy) refuse(e *AddressError) error {
	p.log.Warn("refused an upstream connection", "host", e.Host, "ip", e.IP, "reason", e.Reason)
	return e
}

// CheckURL refuses a URL the client must not request: a scheme other than
// http or https, or a host that is an IP literal of a non-public address
// (not a configured connection's). Names are checked when they are dialled.
func (p *Policy) CheckURL(u *url.URL) error {
	if p == nil {
		return nil
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return p.refuse(&AddressError{Host: u.Redacted(), Reason: "scheme " + strings.ToLower(u.Scheme) + " is not http or https"})
	}
	hp, ok := hostPort(u)
	if !ok {
		return p.refuse(&AddressError{Host: u.Redacted(), Reason: "no host"})
	}
	if p.configured(hp) {
		return nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if reason := nonPublic(ip); reason != "" {
			return p.refuse(&AddressError{Host: hp, IP: ip.String(), Reason: reason})
		}
	}
	return nil
}

// checkRedirect is an http.Client's CheckRedirect: at most 10 redirects,
// each to a URL CheckURL allows.
func (p *Policy) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return p.CheckURL(req.URL)
}

// control is a net.Dialer's Control for a dial of addr (host:port as the
// transport asked for it): it refuses a resolved address that is not
// public, after DNS, just before the connection is made.
func (p *Policy) control(addr string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return p.refuse(&AddressError{Host: addr, IP: address, Reason: "unparsable address"})
		}
		if reason := nonPublic(ap.Addr()); reason != "" {
			return p.refuse(&AddressError{Host: addr, IP: ap.Addr().String(), Reason: reason})
		}
		return nil
	}
}

// dialContext wraps a dialer: a dial to a configured connection or to a
// proxy the environment names goes through as is; any other is checked
// after resolution.
func (p *Policy) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if p.configured(addr) {
			return d.DialContext(ctx, network, addr)
		}
		if _, ok := p.proxies.Load(strings.ToLower(addr)); ok {
			return d.DialContext(ctx, network, addr)
		}
		checked := *d
		checked.Control = p.control(addr)
		return checked.DialContext(ctx, network, addr)
	}
}

// wrapDial checks the connections of a dial function the policy cannot
// hook before the connection (a transport's own DialContext): the remote
// address is checked once connected, before any byte is sent.
func (p *Policy) wrapDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil || p.configured(addr) {
			return conn, err
		}
		if _, ok := p.proxies.Load(strings.ToLower(addr)); ok {
			return conn, nil
		}
		if err := p.control(addr)(network, conn.RemoteAddr().String(), nil); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// proxy wraps a transport's Proxy function: the proxy it names may be
// dialled, and a proxied request's target is checked here, since the
// proxy, not this process, connects to it.
func (p *Policy) proxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		pu, err := next(req)
		if err != nil || pu == nil {
			return pu, err
		}
		if hp, ok := hostPort(pu); ok {
			p.proxies.Store(hp, true)
		}
		if err := p.CheckURL(req.URL); err != nil {
			return nil, err
		}
		hp, _ := hostPort(req.URL)
		if p.configured(hp) {
			return pu, nil
		}
		host := strings.Trim(req.URL.Hostname(), "[]")
		if _, err := netip.ParseAddr(host); err == nil {
			return pu, nil // an IP literal: CheckURL judged it
		}
		ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
		defer cancel()
		// A name this host cannot resolve (behind a proxy, often only
		// the proxy can) is left to the proxy.
		ips, _ := p.lookup(ctx, host)
		for _, ip := range ips {
			if reason := nonPublic(ip); reason != "" {
				return nil, p.refuse(&AddressError{Host: hp, IP: ip.String(), Reason: reason})
			}
		}
		return pu, nil
	}
}

// client returns an http.Client that enforces the policy: built from
// scratch when base is nil, else a copy of base whose transport (an
// *http.Transport, cloned) dials through the policy.
func (p *Policy) client(base *http.Client, connectTimeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	if base == nil {
		return &http.Client{CheckRedirect: p.checkRedirect, Transport: &http.Transport{
			Proxy:                 p.proxy(http.ProxyFromEnvironment),
			DialContext:           p.dialContext(dialer),
			TLSHandshakeTimeout:   connectTimeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}}
	}
	c := *base
	next := base.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := p.checkRedirect(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	switch t := rt.(type) {
	case *http.Transport:
		t = t.Clone()
		if t.Proxy != nil {
			t.Proxy = p.proxy(t.Proxy)
		}
		switch {
		case t.DialContext != nil:
			t.DialContext = p.wrapDial(t.DialContext)
		default:
			t.DialContext = p.dialContext(dialer)
		}
		c.Transport = t
	default:
		// A transport the policy cannot hook: each request's URL is
		// checked (IP literals and schemes only).
		c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if err := p.CheckURL(req.URL); err != nil {
				return nil, err
			}
			return rt.RoundTrip(req)
		})
	}
	return &c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// special lists the blocks, beyond what netip classifies, that are not
// public unicast addresses (RFC 6890 and its updates).
var special = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	{netip.MustParsePrefix("100::/64"), "discard-only address"},
	{netip.MustParsePrefix("2001::/32"), "Teredo address"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address"},
}

// Blocks that embed an IPv4 address.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// nonPublic returns why ip is not a public unicast address, or "".
// Addresses that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are
// judged by it.
func nonPublic(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip), nat64Local.Contains(ip):
			if r := nonPublic(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
				return "NAT64 address of a " + r
			}
		case sixToFour.Contains(ip):
			if r := nonPublic(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
				return "6to4 address of a " + r
			}
		}
	}
	switch {
	case !ip.IsValid():
		return "invalid address"
	case ip.IsUnspecified():
		return "unspecified address"
	case ip.IsLoopback():
		return "loopback address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast address"
	case ip.IsPrivate():
		return "private address"
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return s.reason
		}
	}
	return ""
}

// URLSource knows the base URLs of the configured external connections;
// *artifact.Service is one.
type URLSource interface {
	ExternalURLs() []string
}

// PolicyFor returns cfg with Config.Policy, when it has none, set to the
// policy of the external connections src knows (if src is a URLSource):
// how each format's handler installs the policy from the service it is
// given. Refusals are logged to log.
func PolicyFor(cfg Config, src any, log *slog.Logger) Config {
	if cfg.Policy != nil {
		return cfg
	}
	if s, ok := src.(URLSource); ok {
		cfg.Policy = NewPolicy(log, s.ExternalURLs()...)
	}
	return cfg
}
