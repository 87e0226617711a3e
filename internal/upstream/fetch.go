package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"coffer/internal/blob"
)

// Sink is where Fetch stores what it downloads; blob.Store satisfies it.
// Stage must read r to its end (or fail), hash it, and stage nothing if it
// fails; see blob.Store.
type Sink interface {
	Stage(ctx context.Context, r io.Reader, maxSize int64) (blob.Staged, error)
}

var _ Sink = blob.Store(nil)

// Expectation is what the caller knows about an artifact before fetching it,
// usually from the upstream's own checksum files (Maven's .sha1, fetched
// first with Get and ParseChecksum), its metadata (npm's dist.integrity,
// PyPI's #sha256= fragment, a Cargo index's cksum) or both. Fetch commits
// nothing that disagrees with any field that is set. With no field set the
// content is checked only against the upstream's Content-Length.
type Expectation struct {
	// Size is the exact size in bytes; 0 means unknown.
	Size int64
	// Hex digests, either case; empty means unknown.
	SHA256, SHA512, SHA1, MD5 string
	// VerifyWith, if set, is called with the digests of the downloaded
	// content; an error rejects it (reported as ErrChecksumMismatch).
	VerifyWith func(blob.Digests) error
}

// Check returns nil if d satisfies e, or an error wrapping
// ErrChecksumMismatch that names the first disagreement.
func (e Expectation) Check(d blob.Digests) error {
	if e.Size > 0 && d.Size != e.Size {
		return fmt.Errorf("%w: size is %d, expected %d", ErrChecksumMismatch, d.Size, e.Size)
	}
	for _, h := range []struct{ name, want, got string }{
		{"SHA-256", e.SHA256, d.SHA256}, {"SHA-512", e.SHA512, d.SHA512},
		{"SHA-1", e.SHA1, d.SHA1}, {"MD5", e.MD5, d.MD5},
	} {
		if h.want != "" && !strings.EqualFold(strings.TrimSpace(h.want), h.got) {
			return fmt.Errorf("%w: %s is %s, expected %s", ErrChecksumMismatch, h.name, h.got, h.want)
		}
	}
	if e.VerifyWith != nil {
		if err := e.VerifyWith(d); err != nil {
			return fmt.Errorf("%w: %w", ErrChecksumMismatch, err)
		}
	}
	return nil
}

// Result describes a fetched artifact, now a committed blob in the Sink.
type Result struct {
	// URL is where the content finally came from (after redirects).
	URL     string
	Digests blob.Digests
	// Created reports whether this call created the blob: true only for
	// the caller that led the download, and only if no identical blob was
	// in the store already. A caller that records the blob and fails may
	// delete it only if Created (the blob-store rule: remove only what this
	// request created).
	Created      bool
	ContentType  string
	ETag         string
	LastModified time.Time // zero if the upstream did not say
	// Shared reports that this caller waited for a download another caller
	// started: nothing was teed to it; serve the blob from the store.
	Shared bool
	// Teed is how many bytes reached this caller's tee.
	Teed int64
	// TeeErr is the error the tee's Write returned, if it failed; the
	// download went on without the tee and the blob is complete, but the
	// client's response is broken and must be aborted.
	TeeErr error
}

// Meta is what the upstream said about a body, given to a tee before its
// first byte.
type Meta struct {
	// Size is the body's length from Content-Length or, failing that, the
	// Expectation; -1 if unknown.
	Size         int64
	ContentType  string
	ETag         string
	LastModified time.Time
}

// WithTee streams the body of a Fetch to the caller's own client while it is
// being stored. Once the upstream has answered 200 (and the announced size
// is within the limits), start is called with the response's Meta and
// returns the writer that receives the body as it arrives, or nil to receive
// nothing. start can set the client's headers (Content-Length from
// Meta.Size, so that a client can tell a cut-off transfer) and should call
// WriteHeader itself.
//
// start and the writer are called from the download's goroutine while the
// caller is blocked in Fetch; Fetch does not return before the last call to
// either has returned, so a handler may pass its http.ResponseWriter. Only a
// caller that starts the download (the leader) tees; a caller that joins a
// download in progress gets Result.Shared and serves the committed blob. A
// slow tee slows the download (for every waiter) but does not count against
// Config.MinBodyRate. If the writer fails, the download continues without it
// (Result.TeeErr). Get ignores this option.
//
// Once start has been called the client has, or may have, received part of
// a response, so a failure can no longer be reported as an error status. The
// caller's pattern, in a handler:
//
//	res, err := client.Fetch(ctx, key, url, exp, store, upstream.WithTee(start))
//	var te *upstream.TeeError
//	switch {
//	case errors.As(err, &te), err == nil && res.TeeErr != nil:
//		panic(http.ErrAbortHandler) // cut the connection: the client sees a failed transfer, not a bad file
//	case err != nil:
//		return err // nothing was sent: map the fault kind to a status
//	case res.Shared:
//		// serve res.Digests.SHA256 from the store
//	}
//	// else the whole verified body has been sent
func WithTee(start func(Meta) io.Writer) Option {
	return func(o *options) { o.tee = start }
}

// TeeError is the error Fetch returns when it fails after the tee started:
// the bytes the client received must not be taken for the artifact. Err is
// the failure (with its fault kind); the caller must abort the client's
// response (see WithTee).
type TeeError struct {
	Teed int64 // bytes the tee received
	Err  error
}

func (e *TeeError) Error() string {
	return fmt.Sprintf("%v (after %d bytes were streamed to the client)", e.Err, e.Teed)
}

func (e *TeeError) Unwrap() error { return e.Err }

// Fetch downloads url into sink and returns the committed blob's digests.
//
// Calls with the same key (the blob's identity for the caller, such as the
// external connection and the asset's coordinates; url if empty) share one
// download while it lasts: the first caller leads, later callers wait for its
// Result (Shared set) or its error. The leader's url, expect, sink and
// options are the ones used, so calls that share a key must mean the same
// thing by them. A caller whose ctx ends leaves with ctx's error; the download
// goes on for the others, and is cancelled (and its data discarded) only when
// every caller has left. Fetch does not look in the store first: the caller
// serves what is cached without asking the upstream (so that a failing
// upstream never hides it) and calls Fetch only on a miss. A Fetch that races
// with the end of an identical one downloads again (harmlessly: the blob is
// content-addressed, Result.Created is then false).
//
// The body is streamed into sink.Stage (and to the leader's tee) while it is
// hashed, limited to Config.MaxSize (or WithMaxSize), checked against the
// Content-Length and against expect, and only then committed. On any failure
// nothing is committed and nothing stays staged. Errors are described in the
// package documentation; a URL known to be missing (negative cache) fails
// with fault.KindNotFound without a request.
func (c *Client) Fetch(ctx context.Context, key, url string, expect Expectation, sink Sink, opts ...Option) (*Result, error) {
	if key == "" {
		key = url
	}
	if c.neg.missing(url, c.cfg.Now()) {
		return nil, notFound(url, errors.New("upstream recently answered not found"))
	}
	o := c.options(opts)
	var tee *teeState
	if o.tee != nil {
		tee = &teeState{start: o.tee}
	}
	res, leader, err := c.fetches.do(ctx, key, func(fctx context.Context) (Result, error) {
		return c.download(fctx, url, expect, sink, o, tee)
	})
	if leader && tee != nil {
		// Make sure the download goroutine no longer touches the
		// caller's writer, even though it may still be running.
		tee.detach()
	}
	if err != nil {
		if leader && tee != nil && tee.started {
			return nil, &TeeError{Teed: tee.n, Err: err}
		}
		return nil, err
	}
	res.Shared = !leader
	res.Created = res.Created && leader
	if leader && tee != nil {
		res.Teed, res.TeeErr = tee.n, tee.err
	}
	return &res, nil
}

// download is the leader's work, on the flight's goroutine.
func (c *Client) download(ctx context.Context, url string, expect Expectation, sink Sink, o *options, tee *teeState) (res Result, err error) {
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errWholeTimeout)
	defer cancel()

	maxSize := c.cfg.MaxSize
	if o.maxSize != 0 {
		maxSize = o.maxSize
	}
	header := o.header.Clone()
	if header == nil {
		header = http.Header{}
	}
	// The checksums are of the file as stored upstream; a transparent
	// decompression would change the bytes.
	header.Set("Accept-Encoding", "identity")

	x, st, err := c.open(ctx, url, header, false, maxSize)
	var n int64
	defer func() {
		if c.cfg.Observe != nil {
			c.cfg.Observe(Event{Op: "fetch", URL: url, Status: st.status, Attempts: st.attempts,
				Bytes: n, Duration: time.Since(start), Err: err})
		}
	}()
	if err != nil {
		return Result{}, err
	}
	defer x.close()
	resp := x.resp
	if maxSize >= 0 && resp.ContentLength > maxSize {
		return Result{}, tooLarge(url, maxSize)
	}
	if expect.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != expect.Size {
		return Result{}, unavailable(fmt.Errorf("%w: Content-Length is %d, expected %d", ErrChecksumMismatch, resp.ContentLength, expect.Size),
			"upstream content for %s does not match its checksum", url)
	}
	meta := Meta{Size: resp.ContentLength, ContentType: resp.Header.Get("Content-Type"),
		ETag: resp.Header.Get("ETag"), LastModified: lastModified(resp)}
	if meta.Size < 0 && expect.Size > 0 {
		meta.Size = expect.Size
	}

	var body io.Reader = x.body
	if tee != nil {
		tee.begin(meta)
		body = &teeReader{r: body, tee: tee}
	}
	staged, err := sink.Stage(x.ctx, body, maxSize)
	n = x.body.n
	if err != nil {
		return Result{}, x.bodyErr(err)
	}
	committed := false
	defer func() {
		if !committed {
			staged.Discard()
		}
	}()
	d := staged.Digests()
	if resp.ContentLength >= 0 && d.Size != resp.ContentLength {
		return Result{}, unavailable(ErrTruncated, "upstream sent %d bytes of %s, announced %d", d.Size, url, resp.ContentLength)
	}
	if err := expect.Check(d); err != nil {
		return Result{}, unavailable(err, "upstream content for %s does not match its checksum", url)
	}
	created, err := staged.Commit(ctx)
	if err != nil {
		if cerr := cancelErr(ctx, url); cerr != nil {
			return Result{}, cerr
		}
		return Result{}, err
	}
	committed = true
	return Result{URL: resp.Request.URL.String(), Digests: d, Created: created,
		ContentType: meta.ContentType, ETag: meta.ETag, LastModified: meta.LastModified}, nil
}

func lastModified(resp *http.Response) time.Time {
	t, err := http.ParseTime(resp.Header.Get("Last-Modified"))
	if err != nil {
		return time.Time{}
	}
	return t
}

// teeState is the leader's tee. Its mutex is held while the caller's start
// function or writer runs, so that detach waits for them to return.
type teeState struct {
	start func(Meta) io.Writer

	mu       sync.Mutex
	w        io.Writer
	detached bool
	started  bool
	n        int64
	err      error
}

func (t *teeState) begin(m Meta) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.detached {
		return
	}
	t.started = true
	t.w = t.start(m)
}

func (t *teeState) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return
	}
	n, err := t.w.Write(p)
	t.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		t.err = err
		t.w = nil
	}
}

func (t *teeState) detach() {
	t.mu.Lock()
	t.detached = true
	t.w = nil
	t.mu.Unlock()
}

// teeReader copies what is read from r to the tee.
type teeReader struct {
	r   io.Reader
	tee *teeState
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.tee.write(p[:n])
	}
	return n, err
}
