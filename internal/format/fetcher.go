package format

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/upstream"
)

// Fetcher is how formats reach external connections: the process's one
// upstream client (address policy, retries, deduplication, document and
// negative caches) and the blob staging fetched files go to. Formats hold a
// Fetcher, never the blob store: what they fetch is staged and verified
// here, and recorded by the engine.
type Fetcher struct {
	client *upstream.Client
	blobs  blob.Store
}

// FetcherConfig configures NewFetcher.
type FetcherConfig struct {
	// Blobs is the store fetched files are staged into; without it nothing
	// is fetched (Fetch answers Unavailable).
	Blobs blob.Store
	// Upstream tunes the client; unless it has a Policy, the policy of the
	// external connections URLs knows is installed (upstream.PolicyFor).
	Upstream upstream.Config
	URLs     upstream.URLSource
	// HTTPClient, if set, is the client's http.Client.
	HTTPClient *http.Client
	Log        *slog.Logger
}

// NewFetcher returns a Fetcher with its own upstream client.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var src any
	if cfg.URLs != nil {
		src = cfg.URLs
	}
	return &Fetcher{client: upstream.New(upstream.PolicyFor(cfg.Upstream, src, log), cfg.HTTPClient), blobs: cfg.Blobs}
}

// FetcherOr is f, or when f is nil one that fetches nothing (a format
// built without external connections, in tests).
func FetcherOr(f *Fetcher, log *slog.Logger) *Fetcher {
	if f != nil {
		return f
	}
	return NewFetcher(FetcherConfig{Log: log})
}

// Discard is the logger of a format given none.
var Discard = slog.New(slog.DiscardHandler)

// Get fetches a document (upstream.Client.Get).
func (f *Fetcher) Get(ctx context.Context, url string, opts ...upstream.Option) (*upstream.Response, error) {
	return f.client.Get(ctx, url, opts...)
}

// Checksum fetches a checksum file (upstream.Client.Checksum).
func (f *Fetcher) Checksum(ctx context.Context, url string, opts ...upstream.Option) (string, error) {
	return f.client.Checksum(ctx, url, opts...)
}

// Fetch downloads an artifact into blob staging, verified against expect
// (upstream.Client.Fetch).
func (f *Fetcher) Fetch(ctx context.Context, key, url string, expect upstream.Expectation, opts ...upstream.Option) (*upstream.Result, error) {
	if f.blobs == nil {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "this server fetches nothing from external connections"}
	}
	if bs, prefix := artifact.FetchStore(ctx); bs != nil {
		// A FetchFunc of an encrypted domain: into its store, and never
		// shared with a download into another store.
		return f.client.Fetch(ctx, prefix+cmp.Or(key, url), url, expect, bs, opts...)
	}
	return f.client.Fetch(ctx, key, url, expect, f.blobs, opts...)
}

// Stage stores content a format derives from a fetched file (a wheel's
// core metadata), up to maxSize bytes. Fetch, Stage and Open use the store
// of an encrypted domain when called from its FetchFunc (artifact.FetchStore).
func (f *Fetcher) Stage(ctx context.Context, r io.Reader, maxSize int64) (blob.Staged, error) {
	if f.blobs == nil {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "this server stores nothing from external connections"}
	}
	return f.store(ctx).Stage(ctx, r, maxSize)
}

// Open reads back a stored file by its SHA-256, for a format that derives
// content from what it fetched.
func (f *Fetcher) Open(ctx context.Context, sha256 string) (blob.Object, error) {
	if f.blobs == nil {
		return nil, fault.NotFound("blob", sha256, "no stored file %s", sha256)
	}
	return f.store(ctx).Open(ctx, sha256)
}

// store is where a call under ctx stores and reads: the store of the domain
// whose FetchFunc runs (artifact.FetchStore), else the Fetcher's.
func (f *Fetcher) store(ctx context.Context) blob.Store {
	if bs, _ := artifact.FetchStore(ctx); bs != nil {
		return bs
	}
	return f.blobs
}

// HTTPClient is the client's http.Client, under the address policy, for the
// other requests a format relays to an external connection (npm's audit).
func (f *Fetcher) HTTPClient() *http.Client { return f.client.HTTPClient() }
