package upstream

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Document is a metadata document as the upstream served it. Documents are
// shared between callers and the in-memory cache: never modify one, its Body
// included. A caller that persists a Document can give it back to a later
// Get (WithCached) to revalidate it instead of downloading it again.
type Document struct {
	URL string
	// Body is the document's bytes, nil when it was decoded as it was read
	// (WithDecode): Value is then what the decoder made of them.
	Body  []byte
	Value any
	// Size is the length of the body as the upstream sent it.
	Size         int64
	ContentType  string
	ETag         string
	LastModified string // the raw header, sent back as If-Modified-Since
	// FetchedAt is when Body was received, ValidatedAt when the upstream
	// last confirmed it (a 200 or a 304), both by Config.Now.
	FetchedAt   time.Time
	ValidatedAt time.Time
	// cost is what the document takes in the in-memory cache.
	cost int64
}

// Fingerprint writes the document's identity into h: its URL, validators,
// fetch time and size. Formats key what they render from upstream
// documents with it.
func (d *Document) Fingerprint(h *maphash.Hash) {
	for _, s := range []string{d.URL, d.ETag, d.LastModified} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(d.FetchedAt.UnixNano())))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(d.Size)))
}

// Decoder parses a document as it is read, so that its bytes need never
// be whole in memory: body is the response body (bounded, and drawn on the
// Budget like any document), d the Document being made (URL and headers
// set). It returns the value to keep in Document.Value and the bytes that
// value takes in memory (its cost in the cache). Whatever of the body it
// leaves unread is read and dropped. An error it returns that is not a
// failure to read the body makes the document unreadable
// (fault.KindUnavailable; a cached copy is then served Stale). A Decoder
// must not keep body.
type Decoder func(body io.Reader, d *Document) (value any, cost int64, err error)

// WithDecode has Get decode the document with dec (Document.Value) instead
// of keeping its bytes (Document.Body). name identifies the decoder: Gets
// of one URL with different decoders are cached apart.
func WithDecode(name string, dec Decoder) Option {
	return func(o *options) { o.decodeName, o.decode = name, dec }
}

// Freshness says where the Document of a Response came from.
type Freshness int

const (
	// Fresh: from the cache, validated less than Config.MetadataTTL ago; no
	// request was made.
	Fresh Freshness = iota
	// Fetched: the upstream sent it just now (200).
	Fetched
	// Revalidated: the upstream confirmed the cached copy (304).
	Revalidated
	// Stale: the upstream failed (Response.Err says how) and this is the
	// last good copy.
	Stale
)

func (f Freshness) String() string {
	switch f {
	case Fresh:
		return "fresh"
	case Fetched:
		return "fetched"
	case Revalidated:
		return "revalidated"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// Response is the result of Get.
type Response struct {
	*Document
	Freshness Freshness
	// Err is why a Stale document was served instead of a current one
	// (fault.KindNotFound if the upstream now says the document is gone).
	Err error
}

// WithCached gives Get the caller's own copy of the document (persisted from
// an earlier Response), used like the in-memory cache: served while younger
// than Config.MetadataTTL, then revalidated, and served Stale if the upstream
// fails. When both exist, the more recently validated copy is used. Fetch
// ignores this option.
func WithCached(d *Document) Option {
	return func(o *options) { o.cached = d }
}

// Get reads a small document (maven-metadata.xml, a packument, a simple page,
// a checksum file) at url into memory, at most Config.MaxMetadataSize bytes
// (or WithMaxSize). Concurrent Gets for the same URL and headers share one
// request.
//
// A cached copy (in memory, or WithCached) validated less than
// Config.MetadataTTL ago is returned without a request (Fresh). An older one
// is revalidated with If-None-Match and If-Modified-Since (Revalidated on
// 304). Whenever a cached copy exists and the upstream fails, whatever the
// failure (timeout, 5xx, 404...), Get returns that copy marked Stale with the
// failure in Response.Err, and a nil error: a failing upstream never hides
// what is cached. Without a cached copy, Get fails with fault.KindNotFound
// for 404 and 410 (remembered for Config.NegativeTTL: later Gets of the URL
// fail at once), fault.KindUnavailable for other upstream trouble and
// fault.KindQuotaExceeded (ErrTooLarge) for a document over the limit. A
// caller whose ctx ends gets ctx's error.
func (c *Client) Get(ctx context.Context, url string, opts ...Option) (*Response, error) {
	o := c.options(opts)
	key := cacheKey(url, o.header)
	if o.decode != nil {
		key += "\x00decode:" + o.decodeName
	}
	cached := o.cached
	if c.meta != nil {
		if d, ok := c.meta.get(key); ok && (cached == nil || d.ValidatedAt.After(cached.ValidatedAt)) {
			cached = d
		}
	}
	now := c.cfg.Now()
	if cached != nil && now.Sub(cached.ValidatedAt) < c.cfg.MetadataTTL {
		return &Response{Document: cached, Freshness: Fresh}, nil
	}
	var err error
	if c.neg.missing(url, now) {
		err = notFound(url, errors.New("upstream recently answered not found"))
	} else {
		flightKey := key
		if cached != nil {
			// Callers with different copies need different
			// conditional requests.
			flightKey += "\x00" + cached.ETag + "\x00" + cached.LastModified
		}
		var r Response
		r, _, err = c.gets.do(ctx, flightKey, func(fctx context.Context) (Response, error) {
			return c.get(fctx, url, key, o, cached)
		})
		if err == nil {
			return &r, nil
		}
	}
	if cached != nil && ctx.Err() == nil {
		return &Response{Document: cached, Freshness: Stale, Err: err}, nil
	}
	return nil, err
}

// get is the request of a Get, on the flight's goroutine.
func (c *Client) get(ctx context.Context, url, key string, o *options, cached *Document) (res Response, err error) {
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errWholeTimeout)
	defer cancel()

	maxSize := c.cfg.MaxMetadataSize
	if o.maxSize != 0 {
		maxSize = o.maxSize
	}
	header := o.header.Clone()
	if header == nil {
		header = http.Header{}
	}
	conditional := false
	if cached != nil {
		if cached.ETag != "" {
			header.Set("If-None-Match", cached.ETag)
			conditional = true
		}
		if cached.LastModified != "" {
			header.Set("If-Modified-Since", cached.LastModified)
			conditional = true
		}
	}

	x, st, err := c.open(ctx, url, header, conditional, maxSize)
	var n int64
	defer func() {
		if c.cfg.Observe != nil {
			c.cfg.Observe(Event{Op: "get", URL: url, Status: st.status, Attempts: st.attempts,
				Bytes: n, Duration: time.Since(start), Err: err})
		}
	}()
	if err != nil {
		return Response{}, err
	}
	defer x.close()
	resp := x.resp

	if resp.StatusCode == http.StatusNotModified {
		d := *cached
		d.ValidatedAt = c.cfg.Now()
		if v := resp.Header.Get("ETag"); v != "" {
			d.ETag = v
		}
		if v := resp.Header.Get("Last-Modified"); v != "" {
			d.LastModified = v
		}
		c.remember(key, &d)
		return Response{Document: &d, Freshness: Revalidated}, nil
	}
	if maxSize >= 0 && resp.ContentLength > maxSize {
		return Response{}, tooLarge(url, maxSize)
	}
	// The document draws on the budget while it is read and decoded.
	l := c.budget.newLease(maxSize)
	defer l.release()
	x.body.lease, x.body.ctx = l, x.ctx
	if resp.ContentLength > budgetFree {
		if err := l.ensure(x.ctx, resp.ContentLength); err != nil {
			x.body.err = err
			return Response{}, x.bodyErr(err)
		}
	}
	d := &Document{URL: url, ContentType: resp.Header.Get("Content-Type"),
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if o.decode != nil {
		v, cost, err := o.decode(x.body, d)
		if err == nil {
			// The rest, to its end: a truncated body is told.
			_, err = io.Copy(io.Discard, x.body)
		}
		n = x.body.n
		if err != nil {
			if berr := x.bodyErr(err); berr != err {
				return Response{}, berr
			}
			return Response{}, unavailable(err, "the upstream document %s is unreadable: %v", url, err)
		}
		d.Value, d.cost = v, cost
	} else {
		body, err := io.ReadAll(x.body)
		n = x.body.n
		if err != nil {
			return Response{}, x.bodyErr(err)
		}
		d.Body, d.cost = body, int64(len(body))
	}
	d.Size = n
	now := c.cfg.Now()
	d.FetchedAt, d.ValidatedAt = now, now
	c.remember(key, d)
	return Response{Document: d, Freshness: Fetched}, nil
}

func (c *Client) remember(key string, d *Document) {
	if c.meta != nil {
		c.meta.put(key, d, int64(len(key))+max(d.cost, int64(len(d.Body))))
	}
}

// cacheKey is url plus the extra request headers, which may change the
// answer (Accept).
func cacheKey(url string, h http.Header) string {
	if len(h) == 0 {
		return url
	}
	var b strings.Builder
	b.WriteString(url)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		b.WriteString("\x00" + k + ":" + strings.Join(h[k], ","))
	}
	return b.String()
}

// Checksum gets a checksum file (Maven's .sha1, .sha256, .sha512 or .md5
// beside an artifact) with Get and returns the digest it holds, lower-case
// hex, ready for an Expectation. A malformed file is fault.KindUnavailable.
func (c *Client) Checksum(ctx context.Context, url string, opts ...Option) (string, error) {
	r, err := c.Get(ctx, url, opts...)
	if err != nil {
		return "", err
	}
	sum, ok := ParseChecksum(r.Body)
	if !ok {
		return "", unavailable(errors.New("no digest found"), "malformed checksum file %s", url)
	}
	return sum, nil
}

// ParseChecksum extracts a digest from the content of a checksum file: the
// first whitespace-separated word of 32, 40, 64 or 128 hexadecimal digits
// (MD5, SHA-1, SHA-256, SHA-512), which covers a bare digest, the
// "digest  file-name" form of sha1sum and the BSD "SHA1 (file) = digest"
// form. It returns the digest in lower case.
func ParseChecksum(b []byte) (string, bool) {
	for _, w := range strings.Fields(string(b)) {
		switch len(w) {
		case 32, 40, 64, 128:
		default:
			continue
		}
		if isHex(w) {
			return strings.ToLower(w), true
		}
	}
	return "", false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}
