package format

import (
	"io"
	"net/http"
	"strconv"

	"coffer/internal/upstream"
)

// Tee streams an asset's first download from an external connection to the
// client that asked for it while the engine stores it. The body's last byte
// is held back until the engine has recorded the asset, and released only if
// the record is what was streamed: a client never receives a whole body that
// was not stored (a failed verification or commit, or a concurrent read's
// record holding other bytes, cut the connection instead).
type Tee struct {
	w         http.ResponseWriter // nil: nothing is streamed
	hold      holdBack
	started   bool
	clientErr error
	streamed  string // SHA-256 of the download
}

// NewTee returns a Tee to w, or one that streams nothing when w is nil
// (a HEAD, a checksum request).
func NewTee(w http.ResponseWriter) *Tee { return &Tee{w: w} }

// Enabled reports whether the Tee streams to a client.
func (t *Tee) Enabled() bool { return t.w != nil }

// Begin is the upstream tee's start, once the upstream answered 200: it
// sends the response's headers and returns where the body goes.
func (t *Tee) Begin(contentType string, m upstream.Meta) io.Writer {
	t.started = true
	hd := t.w.Header()
	hd.Set("Content-Type", contentType)
	if m.Size >= 0 {
		hd.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	}
	if !m.LastModified.IsZero() {
		hd.Set("Last-Modified", m.LastModified.UTC().Format(http.TimeFormat))
	}
	t.w.WriteHeader(http.StatusOK)
	t.hold.W = t.w
	return &t.hold
}

// Fetched records the outcome of the download this Tee was given to.
func (t *Tee) Fetched(res *upstream.Result) {
	t.clientErr, t.streamed = res.TeeErr, res.Digests.SHA256
}

// Started reports whether the response has begun: after that, a failure
// can only be told to the client by cutting the connection.
func (t *Tee) Started() bool { return t.started }

// Complete sends the held-back byte once the engine recorded the asset
// whose SHA-256 is recorded. false means the client did not get exactly
// that asset and the handler must cut the connection
// (panic(http.ErrAbortHandler)).
func (t *Tee) Complete(recorded string) bool {
	return t.clientErr == nil && recorded == t.streamed && t.hold.Release()
}
