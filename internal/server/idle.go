package server

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// BodyIdleTimeout is how long a request body may send nothing before its
// connection is closed. A fixed read timeout would cut large uploads on slow
// links; this one only ends bodies that stopped moving, which is what a
// slow-body attack does to hold connections and buffers.
const BodyIdleTimeout = time.Minute

// idleBodies gives every request body a read deadline that moves forward
// as the body is read (at most once a second, to keep the cost of a read
// unchanged), and lifts it when the body ends, so that it never fires
// while the handler writes a long response.
func idleBodies(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			// A shallow copy carries the wrapper: net/http inspects its own
			// request's body after the handler (to drain what is left, or
			// half-close before closing so an early answer reaches the
			// client), and must find it as it made it.
			r = r.WithContext(r.Context())
			body := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: timeout}
			r.Body = body
			w = &answerWriter{ResponseWriter: w, body: body}
		}
		next.ServeHTTP(w, r)
	})
}

type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	moved   time.Time // when the deadline was last moved
	done    bool
	ended   atomic.Bool // the body was read to its end
}

func (b *idleBody) Read(p []byte) (int, error) {
	if now := time.Now(); !b.done && now.Sub(b.moved) >= time.Second {
		_ = b.rc.SetReadDeadline(now.Add(b.timeout))
		b.moved = now
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		b.ended.Store(err == io.EOF)
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// answerWriter closes the connection after an answer given before the
// request body was read to its end (a refusal: 401, 403, 413, ...). Left
// open, net/http would first try to read up to 256 KiB of the unread body
// to keep the connection, so a client trickling its body, or stalled,
// would never hear the refusal. It forwards ReadFrom (sendfile) and
// Unwrap (http.ResponseController).
type answerWriter struct {
	http.ResponseWriter
	body  *idleBody
	wrote bool
}

func (a *answerWriter) WriteHeader(code int) {
	if !a.wrote {
		a.wrote = true
		if !a.body.ended.Load() {
			a.Header().Set("Connection", "close")
		}
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(p []byte) (int, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(p)
}

func (a *answerWriter) ReadFrom(r io.Reader) (int64, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	if rf, ok := a.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{a.ResponseWriter}, r)
}

func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }
