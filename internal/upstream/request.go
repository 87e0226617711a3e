package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// Internal cancellation causes, told apart with context.Cause.
var (
	errHeaderTimeout = errors.New("no response headers in time")
	errWholeTimeout  = errors.New("whole request timed out")
	errAbandoned     = errors.New("every caller gave up waiting")
)

// exchange is a response being read: a 200 (or a 304 when asked for one),
// whose body is wrapped in the size limit and the rate guard.
type exchange struct {
	url    string
	resp   *http.Response
	body   *bodyReader
	ctx    context.Context // the attempt's context
	cancel context.CancelCauseFunc
}

func (x *exchange) close() {
	x.body.stop()
	x.resp.Body.Close()
	x.cancel(nil)
}

// bodyErr turns an error met while reading the body (directly or through a
// sink) into the error to return: our own limits first, then the reasons the
// request was cancelled, then a plain read failure.
func (x *exchange) bodyErr(err error) error {
	if x.body.max >= 0 && x.body.n > x.body.max {
		return tooLarge(x.url, x.body.max)
	}
	if cerr := cancelErr(x.ctx, x.url); cerr != nil {
		return cerr
	}
	if x.body.err == nil {
		return err // not a read error: the sink's own
	}
	if errors.Is(x.body.err, io.ErrUnexpectedEOF) || x.resp.ContentLength >= 0 {
		return unavailable(fmt.Errorf("%w: %w", ErrTruncated, x.body.err), "reading %s from upstream failed after %d bytes", x.url, x.body.n)
	}
	return unavailable(x.body.err, "reading %s from upstream failed after %d bytes", x.url, x.body.n)
}

// cancelErr explains why ctx (an attempt's context or one derived from it)
// is done, or returns nil if it is not.
func cancelErr(ctx context.Context, url string) error {
	if ctx.Err() == nil {
		return nil
	}
	switch cause := context.Cause(ctx); cause {
	case errHeaderTimeout:
		return unavailable(ErrTimeout, "upstream sent no response headers for %s in time", url)
	case errWholeTimeout:
		return unavailable(ErrTimeout, "upstream request for %s did not complete in time", url)
	case ErrSlowBody:
		return unavailable(ErrSlowBody, "upstream sent %s too slowly", url)
	default:
		return ctx.Err() // a caller gave up
	}
}

// stats describes the attempts open made, for Observe.
type stats struct {
	attempts int
	status   int // the last status received, 0 if none
}

// open sends GET url, retrying connection errors and 5xx answers, and
// returns the exchange for a 200, or for a 304 when conditional is set. Any
// other status is an error: NotFound for 404 and 410 (which open also records
// in the negative cache), Unavailable otherwise. maxBody < 0 means no limit.
func (c *Client) open(ctx context.Context, url string, header http.Header, conditional bool, maxBody int64) (*exchange, stats, error) {
	var st stats
	for {
		if st.attempts > 0 {
			if err := c.backoff(ctx, url, st.attempts); err != nil {
				return nil, st, err
			}
		}
		st.attempts++
		x, retry, err := c.try(ctx, url, header, conditional, maxBody)
		if x != nil {
			st.status = x.resp.StatusCode
			return x, st, nil
		}
		if se := (*StatusError)(nil); errors.As(err, &se) {
			st.status = se.StatusCode
		}
		if !retry || st.attempts > c.cfg.Retries || ctx.Err() != nil {
			return nil, st, err
		}
	}
}

// try makes one attempt. retry reports whether a failure may be retried.
func (c *Client) try(ctx context.Context, url string, header http.Header, conditional bool, maxBody int64) (x *exchange, retry bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		cancel(nil)
		return nil, false, unavailable(err, "bad upstream URL %q", url)
	}
	if err := c.cfg.Policy.CheckURL(req.URL); err != nil {
		cancel(nil)
		return nil, false, refused(url, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)

	timer := time.AfterFunc(c.cfg.HeaderTimeout, func() { cancel(errHeaderTimeout) })
	resp, err := c.http.Do(req)
	if !timer.Stop() && err == nil {
		// The headers came just as the timer fired: the request is
		// cancelled all the same.
		resp.Body.Close()
		err = actx.Err()
	}
	if err != nil {
		cerr := cancelErr(actx, url) // before cancel, which would hide why
		cancel(nil)
		if cerr != nil {
			return nil, false, cerr
		}
		if errors.Is(err, ErrAddressRefused) {
			return nil, false, refused(url, err)
		}
		// Connection refused or reset, DNS, TLS: nothing of a body
		// was read, and GET is idempotent.
		return nil, true, unavailable(err, "upstream request for %s failed", url)
	}

	switch code := resp.StatusCode; {
	case code == http.StatusOK, code == http.StatusNotModified && conditional:
		x := &exchange{url: url, resp: resp, ctx: actx, cancel: cancel,
			body: &bodyReader{r: resp.Body, max: maxBody}}
		if c.cfg.MinBodyRate > 0 {
			x.body.guard = startRateGuard(c.cfg.MinBodyRate, c.cfg.RateWindow, func() { cancel(ErrSlowBody) })
		}
		return x, false, nil
	case code == http.StatusNotFound, code == http.StatusGone:
		drain(resp)
		cancel(nil)
		se := &StatusError{URL: url, StatusCode: code}
		if c.cfg.NegativeTTL > 0 {
			c.neg.add(url, c.cfg.Now().Add(c.cfg.NegativeTTL))
		}
		return nil, false, notFound(url, se)
	default:
		drain(resp)
		cancel(nil)
		se := &StatusError{URL: url, StatusCode: code}
		return nil, code >= 500, unavailable(se, "upstream answered %d for %s", code, url)
	}
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// backoff waits before retry n (1 for the first retry).
func (c *Client) backoff(ctx context.Context, url string, n int) error {
	d := c.cfg.RetryBackoff << (n - 1)
	d += time.Duration(rand.Int64N(int64(d)/2 + 1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return cancelErr(ctx, url)
	}
}

// bodyReader counts the body, enforces the size limit and feeds the rate
// guard. err is the first read error other than io.EOF.
type bodyReader struct {
	r     io.Reader
	n     int64
	max   int64 // < 0: no limit
	guard *rateGuard
	err   error
	// lease, when set, is the document's draw on the Budget: no byte is
	// read beyond what it covers (waiting for more is bounded by ctx).
	lease *lease
	ctx   context.Context
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.max >= 0 && int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1] // one byte more than allowed tells the limit is passed
	}
	if b.lease != nil && len(p) > 0 {
		covers := b.lease.covers()
		if covers >= 0 && b.n >= covers {
			if err := b.lease.ensure(b.ctx, b.n+int64(len(p))); err != nil {
				b.err = err
				return 0, err
			}
			covers = b.lease.covers()
		}
		if covers >= 0 && int64(len(p)) > covers-b.n {
			p = p[:covers-b.n]
		}
	}
	if b.guard != nil {
		b.guard.enter()
	}
	n, err := b.r.Read(p)
	if b.guard != nil {
		b.guard.exit(n)
	}
	b.n += int64(n)
	if b.max >= 0 && b.n > b.max {
		err = ErrTooLarge
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (b *bodyReader) stop() {
	if b.guard != nil {
		b.guard.stop()
	}
}
