// Package upstream is the HTTP client for external connections: the public
// registries (Maven Central, npmjs, PyPI, ...) that a repository may proxy,
// at the URL the operator configured. The resolution engine in
// internal/artifact and each format use it; it knows nothing of formats,
// repositories or metadata stores.
//
// It offers two operations:
//
//   - Get reads a metadata document (maven-metadata.xml, an npm packument,
//     a PyPI simple page, a checksum file) into memory, or, WithDecode,
//     parses it as it is read and keeps only what the decoder made of it.
//     Documents are kept in a bounded in-memory cache and revalidated with
//     If-None-Match / If-Modified-Since once they are older than
//     Config.MetadataTTL. When the upstream fails, the last good copy is
//     returned marked Stale (a failing upstream never hides what is cached).
//     The documents being read at once draw on a Budget of bytes shared by
//     the process's clients, so that several huge documents cannot
//     multiply the memory they take.
//
//   - Fetch downloads an artifact into a Sink (a blob.Store): the body is
//     streamed through the store's one-pass hasher into a staging file, and
//     optionally to the first client as it arrives (WithTee); the digests
//     are checked against an Expectation (the checksums the upstream
//     publishes) before Commit. On any failure the staged data is discarded:
//     the store never holds a partial or corrupt blob.
//
// Both operations are deduplicated: concurrent calls for the same key share
// one upstream request (a flight). The flight runs detached from any one
// caller's context; a caller that gives up leaves the flight, and the flight
// is cancelled only when no caller waits for it any more.
//
// Both are bounded: in total time (Config.Timeout), in time to the response
// headers (Config.HeaderTimeout), in body throughput (Config.MinBodyRate over
// Config.RateWindow) and in size (Config.MaxSize, Config.MaxMetadataSize).
// GET is idempotent, so connection errors and 5xx answers are retried with
// backoff, but only before any byte of the body has been read.
//
// A 404 or 410 is remembered per URL for Config.NegativeTTL (the negative
// cache), so that a missing artifact asked for in a loop costs one upstream
// request per TTL.
//
// With a Policy (Config.Policy; the formats always set one), an upstream
// cannot lead the client anywhere but to public http(s) addresses and the
// configured external connections: redirects, and URLs taken from
// documents (an npm dist.tarball, a PyPI file link), to loopback, private,
// link-local or other non-public addresses are refused when they are
// dialled, after name resolution.
//
// Errors are fault categories:
//
//	fault.KindNotFound       the upstream answered 404 or 410 (or did recently)
//	fault.KindUnavailable    anything else the upstream did wrong: no connection,
//	                         timeout, 5xx or other unexpected status, reset or
//	                         truncated body, body too slow, checksum mismatch,
//	                         a document the decoder cannot read, an address
//	                         the Policy refuses (ErrAddressRefused, not retried)
//	fault.KindQuotaExceeded  the artifact or document is larger than the
//	                         configured limit (ErrTooLarge)
//	fault.KindInternal       the sink (blob store) failed, or a bug (a panic
//	                         during a flight is recovered into this kind)
//
// The cause is wrapped where it helps a caller or a metric decide: errors.Is
// with ErrTimeout, ErrSlowBody, ErrTruncated, ErrTooLarge,
// ErrChecksumMismatch or ErrAddressRefused, and errors.As with *StatusError
// and *AddressError. A caller's own context
// cancellation is returned as the context's error, not as a fault. After a
// tee has started, Fetch wraps any error in a *TeeError (see WithTee).
//
// A checksum mismatch is Unavailable, not Validation: the client asked for
// nothing invalid; the upstream (or something between it and us) served
// bytes that disagree with its own checksums, which is upstream trouble that
// may go away on a later attempt, and 503 tells clients to retry.
package upstream

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"coffer/internal/fault"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout            = 5 * time.Minute
	DefaultConnectTimeout     = 10 * time.Second
	DefaultHeaderTimeout      = 30 * time.Second
	DefaultMinBodyRate        = 16 << 10 // bytes per second
	DefaultRateWindow         = 10 * time.Second
	DefaultMaxSize            = 5 << 30
	DefaultMaxMetadataSize    = 128 << 20
	DefaultNegativeTTL        = 5 * time.Minute
	DefaultNegativeCacheSize  = 10000
	DefaultMetadataTTL        = 30 * time.Minute
	DefaultMetadataCacheBytes = 64 << 20
	DefaultUserAgent          = "coffer"
	DefaultRetries            = 2
	DefaultRetryBackoff       = 200 * time.Millisecond
)

// Config bounds and tunes a Client. A zero field takes its default; where a
// field says so, a negative value disables the feature.
type Config struct {
	// Timeout bounds one whole upstream operation: connecting, every retry,
	// the headers and the entire body. Default 5 minutes.
	Timeout time.Duration
	// ConnectTimeout bounds dialling (TCP and TLS handshakes). It applies
	// only to the http.Client that New builds when given none. Default 10 s.
	ConnectTimeout time.Duration
	// HeaderTimeout bounds each attempt from sending the request (connecting
	// included) to receiving the response headers. Default 30 s.
	HeaderTimeout time.Duration
	// MinBodyRate is the slowest acceptable body, in bytes per second,
	// averaged over the last RateWindow. A body that falls below it is
	// aborted (ErrSlowBody). Only time spent waiting for the upstream
	// counts: a slow client behind a tee or a slow disk does not make the
	// upstream look slow. Default 16 KiB/s; negative disables the check.
	MinBodyRate int64
	// RateWindow is the sliding window over which MinBodyRate is measured,
	// and also the grace period: no body is judged before it has been read
	// for one window. Default 10 s.
	RateWindow time.Duration
	// MaxSize is the largest artifact Fetch accepts. Default 5 GiB;
	// negative means no limit.
	MaxSize int64
	// MaxMetadataSize is the largest document Get accepts (it is held in
	// memory, or decoded as it is read). Default 128 MiB; negative means no
	// limit.
	MaxMetadataSize int64
	// NegativeTTL is how long a 404 or 410 is remembered per URL. Default 5
	// minutes; negative disables negative caching.
	NegativeTTL time.Duration
	// NegativeCacheSize bounds the number of URLs remembered as missing; the
	// least recently used are forgotten first. Default 10000.
	NegativeCacheSize int
	// MetadataTTL is how long a document from Get is used without asking
	// the upstream; after it, Get revalidates. Default 30 minutes; negative
	// means always revalidate.
	MetadataTTL time.Duration
	// MetadataCacheBytes bounds the bodies Get keeps in memory, least
	// recently used evicted first. Default 64 MiB; negative disables the
	// in-memory cache (callers may still pass their own copy, WithCached).
	MetadataCacheBytes int64
	// UserAgent is sent with every request. Default "coffer".
	UserAgent string
	// Retries is how many times a request is repeated after a connection
	// error or a 5xx answer, before any byte of the body. Default 2;
	// negative means no retry.
	Retries int
	// RetryBackoff is the wait before the first retry; it doubles for each
	// further retry, with up to 50% random jitter added. Default 200 ms.
	RetryBackoff time.Duration
	// Now is the clock for the TTLs (tests inject one). Timeouts and the
	// body rate always use real time. Default time.Now.
	Now func() time.Time
	// Observe, if set, is called once at the end of every upstream
	// exchange (not for cache hits), for metrics and logs. It must be quick
	// and safe for concurrent use.
	Observe func(Event)
	// OnJoin, when set, is called each time a Fetch caller joins a download
	// already in flight for the same key (metrics; tests that must know every
	// caller shares one download).
	OnJoin func(key string)
	// Policy restricts where the client may connect (see Policy): every
	// request, redirect and connection goes through it. nil allows every
	// address; the formats always set one built from the configured
	// external connections.
	Policy *Policy
	// Budget bounds the bytes of the documents Get reads at once (see
	// Budget). nil is the process's shared budget of DefaultDocumentBudget
	// bytes; NewBudget(-1) is none.
	Budget *Budget
}

// Event describes one upstream exchange, for Config.Observe.
type Event struct {
	Op       string // "get" or "fetch"
	URL      string
	Status   int // the last HTTP status received, 0 if none
	Attempts int // requests sent, retries included
	Bytes    int64
	Duration time.Duration
	Err      error // nil on success (a 304 is a success)
}

func (c Config) withDefaults() Config {
	dur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	dur(&c.Timeout, DefaultTimeout)
	dur(&c.ConnectTimeout, DefaultConnectTimeout)
	dur(&c.HeaderTimeout, DefaultHeaderTimeout)
	dur(&c.RateWindow, DefaultRateWindow)
	dur(&c.NegativeTTL, DefaultNegativeTTL)
	dur(&c.MetadataTTL, DefaultMetadataTTL)
	dur(&c.RetryBackoff, DefaultRetryBackoff)
	if c.MinBodyRate == 0 {
		c.MinBodyRate = DefaultMinBodyRate
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxMetadataSize == 0 {
		c.MaxMetadataSize = DefaultMaxMetadataSize
	}
	if c.NegativeCacheSize <= 0 {
		c.NegativeCacheSize = DefaultNegativeCacheSize
	}
	if c.MetadataCacheBytes == 0 {
		c.MetadataCacheBytes = DefaultMetadataCacheBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Client fetches from external connections. It is safe for concurrent use;
// make one per process and share it, since the deduplication and the caches
// live in it.
type Client struct {
	cfg  Config
	http *http.Client

	fetches group[Result]
	gets    group[Response]
	neg     *negativeCache
	meta    *lru[*Document] // nil when disabled
	budget  *Budget
}

// HTTPClient returns the http.Client the Client uses: one that enforces
// Config.Policy, for the other requests a format makes to an external
// connection (npm's audit relay).
func (c *Client) HTTPClient() *http.Client { return c.http }

// New returns a Client. httpClient may be nil: New then builds one whose
// transport honours Config.ConnectTimeout and the proxy environment
// variables. A given httpClient is used as is (its own Timeout, if set,
// applies on top of Config's bounds); New sets nothing on it.
//
// With Config.Policy, the client is one that enforces it: New builds it, or
// copies httpClient with the policy's redirect check and a clone of its
// transport (an *http.Transport) whose dials the policy checks.
func New(cfg Config, httpClient *http.Client) *Client {
	cfg = cfg.withDefaults()
	if cfg.Policy != nil {
		httpClient = cfg.Policy.client(httpClient, cfg.ConnectTimeout)
	}
	if httpClient == nil {
		dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
		httpClient = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   cfg.ConnectTimeout,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}}
	}
	c := &Client{cfg: cfg, http: httpClient, neg: newNegativeCache(cfg.NegativeCacheSize), budget: cfg.Budget}
	if c.budget == nil {
		c.budget = defaultBudget
	}
	c.fetches.joined = cfg.OnJoin
	if cfg.MetadataCacheBytes > 0 {
		c.meta = newLRU[*Document](cfg.MetadataCacheBytes)
	}
	return c
}

// Causes wrapped in the errors the Client returns; test them with errors.Is.
var (
	// ErrTimeout: Config.Timeout or Config.HeaderTimeout expired.
	ErrTimeout = errors.New("upstream timed out")
	// ErrSlowBody: the body arrived slower than Config.MinBodyRate.
	ErrSlowBody = errors.New("upstream body too slow")
	// ErrTruncated: the connection failed or ended before the whole body
	// (as announced by Content-Length) had arrived.
	ErrTruncated = errors.New("upstream body truncated")
	// ErrTooLarge: the body exceeds the configured size limit.
	ErrTooLarge = errors.New("upstream body too large")
	// ErrChecksumMismatch: the content disagrees with the Expectation.
	ErrChecksumMismatch = errors.New("upstream content does not match its checksum")
)

// StatusError is the cause of an error made from an unexpected upstream
// HTTP status (404 and 410 included).
type StatusError struct {
	URL        string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("upstream answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// unavailable returns a fault.KindUnavailable error with cause err.
func unavailable(err error, format string, args ...any) error {
	return &fault.Error{Kind: fault.KindUnavailable, Message: fmt.Sprintf(format, args...), Err: err}
}

func notFound(url string, err error) error {
	e := fault.NotFound("upstream", url, "%s not found upstream", url)
	e.Err = err
	return e
}

// refused is the error of a request the Policy refused (not retried: the
// address will not change).
func refused(url string, err error) error {
	var ae *AddressError
	if errors.As(err, &ae) {
		return unavailable(err, "upstream request for %s refused: %v", url, ae)
	}
	return unavailable(err, "upstream request for %s refused: %v", url, err)
}

func tooLarge(url string, limit int64) error {
	e := fault.Quota("asset", url, "%s exceeds the size limit of %d bytes", url, limit)
	e.Err = ErrTooLarge
	return e
}

// Option adjusts one Get or Fetch call.
type Option func(*options)

type options struct {
	header     http.Header
	maxSize    int64
	cached     *Document
	tee        func(Meta) io.Writer
	decodeName string
	decode     Decoder
}

// WithHeader adds a request header (for example Accept, to ask npm for an
// abbreviated packument). For Get the extra headers are part of the cache
// key.
func WithHeader(name, value string) Option {
	return func(o *options) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(name, value)
	}
}

// WithMaxSize overrides Config.MaxSize (Fetch) or Config.MaxMetadataSize
// (Get) for one call; negative means no limit, 0 keeps the configured one.
func WithMaxSize(n int64) Option {
	return func(o *options) { o.maxSize = n }
}

func (c *Client) options(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		opt(o)
	}
	return o
}
