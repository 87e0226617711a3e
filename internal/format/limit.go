package format

import (
	"io"
	"net/http"

	"coffer/internal/fault"
)

// TooLarge is the error of an upload over the limit: QuotaExceeded, which
// the native protocols answer with 413 (see ErrorStatus).
func TooLarge(what string, limit int64) error {
	return fault.Quota("asset", "", "The %s is larger than the limit of %d bytes", what, limit)
}

// CheckLength refuses, before anything is read, a request that declares a
// Content-Length over limit (TooLarge). A request without one (chunked)
// passes: LimitBody bounds what is read of it.
func CheckLength(r *http.Request, what string, limit int64) error {
	if r.ContentLength > limit {
		return TooLarge(what, limit)
	}
	return nil
}

// Body is a request body read under a limit that the handler may change
// while it reads (a PyPI upload is allowed a few bytes until its project
// is authorized, then the asset limit). Reading past the limit fails with
// the limit's error, at the byte that crosses it: the bytes up to the
// limit are delivered first, and nothing beyond one buffer is read from
// the client. The error is sticky.
type Body struct {
	r      io.ReadCloser
	read   int64
	limit  int64
	over   error // returned when more than limit bytes arrive
	failed error
}

// LimitBody replaces r.Body with a Body that fails with over once more
// than limit bytes arrive, and returns it.
func LimitBody(r *http.Request, limit int64, over error) *Body {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	b := &Body{r: body, limit: limit, over: over}
	r.Body = b
	return b
}

// SetLimit changes the limit, counted from the start of the body, and the
// error that crossing it gives.
func (b *Body) SetLimit(limit int64, over error) { b.limit, b.over = limit, over }

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	if len(p) == 0 {
		return 0, nil
	}
	left := b.limit - b.read
	if left < 0 {
		left = 0
	}
	if int64(len(p)) > left+1 {
		p = p[:left+1] // one byte more than allowed tells whether there is more
	}
	n, err := b.r.Read(p)
	if int64(n) > left {
		b.read += left
		b.failed = b.over
		return int(left), b.failed
	}
	b.read += int64(n)
	return n, err
}

// Close implements io.Closer.
func (b *Body) Close() error { return b.r.Close() }
