package rubygems

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/format"
	"coffer/internal/lru"
)

// The protocol handler (this file, push.go, index_serve.go, upstream.go,
// relay.go, offers.go, meta.go) serves a repository endpoint to gem and Bundler on
// top of the codec. What it serves:
//
//	""                                      200: gem install (RubyGems ≥ 3.3) takes the compact index
//	versions, info/<gem>, names             the compact index (ETag = quoted MD5, Repr-Digest, Digest, Range)
//	api/v1/dependencies?gems=a,b            the dependencies API (Marshal)
//	specs.4.8.gz, latest_specs.4.8.gz,      the full index
//	prerelease_specs.4.8.gz
//	quick/Marshal.4.8/<full>.gemspec.rz     a build's quick spec, derived from its .gem
//	gems/<full>.gem                         the .gem, read through the engine (upstreams, public:ruby-gems-org)
//	POST api/v1/gems                        gem push
//	DELETE api/v1/gems/yank                 gem yank: the version becomes Unlisted
//
// What every index lists of a gem is one document, its info file: the
// Published versions the repository shows (its own and its upstream
// repositories', ViewPackage) merged with what the external connection's
// info/<gem> offers (own versions win; Withheld versions are left out).
// Each stored build records its info line in the version's Metadata
// (meta.go), so no index ever opens a .gem. The gem set (gemSet) is the
// gems stored in the repository and its upstream repositories, and, from
// the external connection, the gems their runtime dependencies name
// (transitively, up to maxExternalGems). When the repository reaches an
// external connection, versions and names are the connection's own file,
// relayed byte for byte from the blob store, followed by the gem set's
// lines, whose info checksums (the last line of a gem wins in Bundler)
// are those of coffer's info files (relay.go); otherwise, and in the full
// index, they list the gem set alone.

// Engine is what the RubyGems protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
	ExternalConnectionsReached(ctx context.Context, ref artifact.RepoRef, format string) ([]artifact.ExternalSource, error)
	PackageNames(ctx context.Context, ref artifact.RepoRef, format string) ([]string, error)
	SetVersionStatus(ctx context.Context, ref artifact.VersionRef, status string) (*artifact.Version, error)
}

var _ Engine = (*artifact.Service)(nil)

// The codeartifact actions this protocol checks.
const (
	actionRead    = auth.ActionReadFromRepository
	actionPublish = auth.ActionPublishPackageVersion
	actionStatus  = auth.ActionUpdatePackageVersionsStatus
)

// Protocol serves gem and Bundler.
var Protocol = format.Plugin{Format: artifact.FormatRuby, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Config{Fetcher: d.Fetcher, MaxUploadSize: d.Limits.MaxAssetSize, TempDir: d.Limits.SpoolDir, Log: d.Log})
	}}

// Config configures a Handler.
type Config struct {
	// Fetcher reaches public:ruby-gems-org (default: one that fetches
	// nothing).
	Fetcher *format.Fetcher
	// CacheBytes bounds the rendered documents kept in memory (default
	// 64 MiB).
	CacheBytes int64
	// MaxUploadSize bounds one pushed .gem (default 1 GiB).
	MaxUploadSize int64
	// TempDir holds pushed gems while they are checked (default
	// os.TempDir()).
	TempDir string
	Log     *slog.Logger
}

// Handler serves the RubyGems protocols on a repository endpoint.
type Handler struct {
	svc       Engine
	authz     auth.Authorizer
	up        *format.Fetcher
	router    *format.Router
	log       *slog.Logger
	infos     *lru.Cache[*document]
	indexes   *lru.Cache[*document]
	quick     *lru.Cache[[]byte]
	maxUpload int64
	tempDir   string

	// The relayed versions and names files (relay.go).
	relays     *lru.Cache[*relayDoc]
	relayBases *lru.Cache[*relayBase]
	baseMu     sync.Mutex   // one relayBaseOf reading at a time
	relayGen   atomic.Int64 // bumped when a relayed blob was collected
	refreshing sync.Map
}

// New returns the RubyGems handler.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cmp.Or(cfg.Log, format.Discard)
	size := cmp.Or(cfg.CacheBytes, 64<<20)
	h := &Handler{svc: svc, authz: authz, up: format.FetcherOr(cfg.Fetcher, log), log: log,
		infos: lru.New[*document](size / 2), indexes: lru.New[*document](size / 4), quick: lru.New[[]byte](size / 4),
		maxUpload: cmp.Or(cfg.MaxUploadSize, 1<<30), tempDir: cmp.Or(cfg.TempDir, os.TempDir()),
		relays: lru.New[*relayDoc](size / 8), relayBases: lru.New[*relayBase](64 << 10)}
	h.router = format.NewRouter(format.Router{Format: artifact.FormatRuby, Authorizer: authz, ARNs: svc, Render: h.writeError, Routes: []format.Route{
		{Method: http.MethodGet, Path: "", Action: actionRead, Handle: serveRoot},
		{Method: http.MethodGet, Path: "versions", Action: actionRead, Handle: h.serveVersions},
		{Method: http.MethodGet, Path: "names", Action: actionRead, Handle: h.serveNames},
		{Method: http.MethodGet, Path: "info/{gem}", Action: actionRead, Handle: h.serveInfo},
		{Method: http.MethodGet, Path: "api/v1/dependencies", Action: actionRead, Handle: h.serveDependencies},
		{Method: http.MethodGet, Path: "specs.4.8.gz", Action: actionRead, Handle: h.serveSpecs},
		{Method: http.MethodGet, Path: "latest_specs.4.8.gz", Action: actionRead, Handle: h.serveSpecs},
		{Method: http.MethodGet, Path: "prerelease_specs.4.8.gz", Action: actionRead, Handle: h.serveSpecs},
		{Method: http.MethodGet, Path: "quick/Marshal.4.8/{file}", Action: actionRead, Handle: h.serveQuickSpec},
		{Method: http.MethodGet, Path: "gems/{file}", Action: actionRead, Handle: h.serveGem},
		{Method: http.MethodPost, Path: "api/v1/gems", Handle: h.push,
			InHandler: "the gem is named inside the pushed .gem: PublishPackageVersion is checked on it as soon as its metadata is read, before its content"},
		{Method: http.MethodDelete, Path: "api/v1/gems/yank", Handle: h.yank,
			InHandler: "the gem is named in the form: UpdatePackageVersionsStatus is checked on it before the status changes"},
	}})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// serveRoot answers the endpoint itself: RubyGems ≥ 3.3 asks for it to
// decide that the source has a compact index (a failure makes it fall back
// to the full index).
func serveRoot(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodGet {
		w.Write([]byte("RubyGems repository " + c.Target.Repository + "\n"))
	}
	return nil
}

func (h *Handler) packageARN(t *format.Target, name string) string {
	return h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatRuby, "", name)
}

func packageRef(t *format.Target, name string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: t.RepoIn(t.Repository), Format: artifact.FormatRuby, Package: name}
}

func versionRef(t *format.Target, name, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, name), Version: version}
}

// writeError answers in gem's terms: gem push and yank print the body, so
// it is a plain-text reason, with the status of the fault's kind.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	format.WriteError(w, r, h.log, "rubygems", err)
}
