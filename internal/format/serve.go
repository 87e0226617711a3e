package format

import (
	"context"
	"io"
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// AssetReader is the engine's read of one asset through a repository
// (artifact.Service.ReadAsset).
type AssetReader interface {
	ReadAsset(ctx context.Context, req artifact.ReadRequest) (*artifact.ReadResult, error)
}

// AssetResponse is what differs between the formats' answers to a GET or
// HEAD of an asset read through the engine (ServeAsset).
type AssetResponse struct {
	// ContentType is the asset's Content-Type, streamed or served.
	ContentType string
	// Headers, when set, adds the format's headers (checksums) to a stored
	// asset's response, after Content-Type and ETag (the quoted SHA-256),
	// which it may replace.
	Headers func(h http.Header, b store.Blob)
	// Respond, when set, answers in place of the asset's body (a Maven
	// checksum file); the first download is then not streamed.
	Respond func(w http.ResponseWriter, r *http.Request, a store.Asset)
	// Served, when set, runs once the response is over, or cut, with the
	// read's result (work after a fresh ingestion).
	Served func(res *artifact.ReadResult)
	// WriteError answers a failed read in the format's terms.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
}

// ServeAsset answers a GET or HEAD of one asset: it asks engine for it with
// the request that request builds around d, the read's Download (a GET's
// first download from an external connection streams to this client while
// it is stored), then either completes that stream or serves the stored
// asset with http.ServeContent (Range, conditional requests, HEAD). A
// streamed body that the engine did not record as it was streamed ends in
// a cut connection (panic(http.ErrAbortHandler)), never in an error
// response after part of a body.
func ServeAsset(w http.ResponseWriter, r *http.Request, engine AssetReader, o AssetResponse, request func(d *Download) artifact.ReadRequest) {
	var client http.ResponseWriter
	if r.Method == http.MethodGet && o.Respond == nil {
		client = w // stream the first download to this client while it is stored
	}
	d := NewDownload(client, o.ContentType)
	res, err := engine.ReadAsset(r.Context(), request(d))
	if err != nil {
		if d.tee.Started() {
			// Part of the body went out: only a cut connection tells the
			// client that it is not the asset.
			panic(http.ErrAbortHandler)
		}
		o.WriteError(w, r, err)
		return
	}
	defer res.Object.Close()
	if o.Served != nil {
		defer o.Served(res)
	}
	if d.tee.Started() {
		if !d.tee.Complete(res.Asset.Blob.SHA256) {
			panic(http.ErrAbortHandler)
		}
		return
	}
	a := res.Asset
	if o.Respond != nil {
		o.Respond(w, r, a)
		return
	}
	if rd, ok := res.Object.(blob.Redirector); ok && r.Method == http.MethodGet {
		// A large asset on an object store: the client fetches it from
		// there, and this node's bandwidth stays free (--blob-redirect-size).
		if url, ok, err := rd.RedirectURL(r.Context()); err != nil {
			o.WriteError(w, r, err)
			return
		} else if ok {
			w.Header().Set("Cache-Control", "no-store") // the URL expires
			http.Redirect(w, r, url, http.StatusTemporaryRedirect)
			return
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", o.ContentType)
	hd.Set("ETag", `"`+a.Blob.SHA256+`"`)
	if o.Headers != nil {
		o.Headers(hd, a.Blob)
	}
	http.ServeContent(w, r, "", a.CreatedTime, res.Object.Reader())
}

// Download is one read's download from an external connection, for its
// FetchFunc: it streams the body to the client through a Tee while the
// upstream client stores it, and to a copy the format reads on the way.
type Download struct {
	tee         *Tee
	contentType string
	copy        io.Writer // nil: none
	client      io.Writer // where the tee takes the body, nil if nowhere
}

// NewDownload returns the Download of a read that streams to client, or
// nowhere when client is nil (a HEAD, a checksum, a fetch of the engine's
// own).
func NewDownload(client http.ResponseWriter, contentType string) *Download {
	return &Download{tee: NewTee(client), contentType: contentType}
}

// CopyTo also gives the body of the download to c as it arrives (a Maven
// POM, read for its metadata); c must not fail.
func (d *Download) CopyTo(c io.Writer) { d.copy = c }

// Fetch is Fetcher.Fetch with the Download's tee and copy.
func (d *Download) Fetch(ctx context.Context, f *Fetcher, key, url string, exp upstream.Expectation) (*upstream.Result, error) {
	var opts []upstream.Option
	if d.tee.Enabled() || d.copy != nil {
		opts = append(opts, upstream.WithTee(d.start))
	}
	res, err := f.Fetch(ctx, key, url, exp, opts...)
	if err != nil {
		return nil, err
	}
	d.tee.Fetched(res)
	return res, nil
}

// start is the upstream tee's start: called once the upstream answered 200.
func (d *Download) start(m upstream.Meta) io.Writer {
	if d.tee.Enabled() {
		d.client = d.tee.Begin(d.contentType, m)
	}
	if d.copy == nil {
		return d.client
	}
	return copyWriter{d}
}

// copyWriter receives the body as it arrives from the upstream.
type copyWriter struct{ d *Download }

func (c copyWriter) Write(p []byte) (int, error) {
	c.d.copy.Write(p)
	if c.d.client == nil {
		return len(p), nil
	}
	return c.d.client.Write(p)
}
