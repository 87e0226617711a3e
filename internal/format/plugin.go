package format

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/format/guide"
	"coffer/internal/osv"
)

// Plugin is a native package-format protocol as coffer assembles it: each
// format package exports one, and internal/formats lists them all.
type Plugin struct {
	// Format is the format's name in the format table
	// (artifact.LookupFormat): the data plane serves the plug-in under
	// /<Format>/d/<domain>-<owner>/<repository>/.
	Format string
	// New builds the protocol's handler from the shared dependencies; the
	// data plane has authenticated the token and put the request's Target
	// in its context.
	New func(d Deps) http.Handler
	// Guides are the connection instructions of the format's clients, one
	// console tab each.
	Guides []guide.Guide
}

// Deps are what every format is built from, declared once in the
// composition root.
type Deps struct {
	// Engine is the artifact service: every read, publish and rule.
	Engine *artifact.Service
	// Authorizer decides (and audits) the routes' actions.
	Authorizer auth.Authorizer
	// Fetcher reaches external connections and stages what they send.
	Fetcher *Fetcher
	Log     *slog.Logger
	Limits  Limits
	// Advisories returns the advisory index imported from OSV data, which
	// a format may answer its clients' audits from (npm audit); nil, or a
	// nil or empty index, is no local data. It is called per request: a
	// refresh swaps the index.
	Advisories func() *osv.Index
}

// Limits bound what one request may make the server hold.
type Limits struct {
	// MaxAssetSize is the largest asset a client may upload.
	MaxAssetSize int64
	// SpoolDir holds uploads while they are checked (under the data dir,
	// emptied at start).
	SpoolDir string
}

// Engine is what every format uses of the artifact service: reads through
// the search order, publishes, a version's record and the ARNs actions are
// checked on. A format's own Engine interface embeds it and adds what its
// protocol needs; *artifact.Service implements them all.
type Engine interface {
	AssetReader
	ARNs
	PutAsset(ctx context.Context, req artifact.PutAssetRequest, body io.Reader) (*artifact.PublishResult, error)
	DescribePackageVersion(ctx context.Context, ref artifact.VersionRef) (*artifact.Version, error)
}
