package cargo

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"os"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/lru"
)

// Engine is what the cargo protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ViewPackageIndex(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
	ListPackages(ctx context.Context, ref artifact.RepoRef, f artifact.PackageFilter, page artifact.PageRequest) ([]artifact.Package, string, error)
	UpdatePackageVersionsStatus(ctx context.Context, ref artifact.PackageRef, u artifact.StatusUpdate) (*artifact.BatchResult, error)
}

var _ Engine = (*artifact.Service)(nil)

// Protocol serves cargo's sparse registry: config.json, index files,
// downloads, publish, yank, search.
var Protocol = format.Plugin{Format: artifact.FormatCargo, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Options{Fetcher: d.Fetcher, MaxCrateSize: d.Limits.MaxAssetSize, SpoolDir: d.Limits.SpoolDir, Log: d.Log})
	}}

// Options configure a Handler.
type Options struct {
	// Fetcher reaches public:crates-io (default: one that fetches nothing).
	Fetcher *format.Fetcher
	// IndexCacheBytes bounds the rendered index files kept in memory
	// (default 64 MiB).
	IndexCacheBytes int64
	// MaxCrateSize bounds one published .crate (default 5 GiB; cargo's
	// own length prefix cannot say more than 4 GiB).
	MaxCrateSize int64
	// SpoolDir holds published crates while they are checked (default
	// os.TempDir()).
	SpoolDir string
	Log      *slog.Logger
}

// Handler serves the sparse registry of a repository endpoint.
type Handler struct {
	svc      Engine
	authz    auth.Authorizer
	up       *format.Fetcher
	router   *format.Router
	log      *slog.Logger
	index    *lru.Cache[*indexFile]
	maxCrate int64
	spoolDir string
}

// maxMetadata bounds the JSON metadata of a publish, read before the
// publish is authorized (a README travels in it).
const maxMetadata = 10 << 20

// New returns the cargo handler.
func New(svc Engine, authz auth.Authorizer, cfg Options) *Handler {
	log := cmp.Or(cfg.Log, format.Discard)
	h := &Handler{svc: svc, authz: authz, up: format.FetcherOr(cfg.Fetcher, log), log: log,
		index: lru.New[*indexFile](cmp.Or(cfg.IndexCacheBytes, 64<<20)), maxCrate: cmp.Or(cfg.MaxCrateSize, 5<<30),
		spoolDir: cmp.Or(cfg.SpoolDir, os.TempDir())}
	read, update := auth.ActionReadFromRepository, auth.ActionUpdatePackageVersionsStatus
	crate := func(c *format.Call) (string, string, error) {
		name := c.Param("crate")
		if !nameSyntax(name, false) {
			return "", "", fault.NotFound("package", name, "invalid crate name `%s`", printable(name))
		}
		return "", Canonical(name), nil
	}
	h.router = format.NewRouter(format.Router{Format: artifact.FormatCargo, Authorizer: authz, ARNs: svc, Render: h.writeError, Routes: []format.Route{
		{Method: http.MethodGet, Path: "config.json", Action: read, Handle: h.serveConfig},
		{Method: http.MethodPut, Path: "api/v1/crates/new", Handle: h.publish,
			InHandler: "the crate is named in the JSON metadata: PublishPackageVersion is checked on it before the .crate is read"},
		{Method: http.MethodGet, Path: "api/v1/crates", Action: read, Handle: h.search},
		{Method: http.MethodGet, Path: "api/v1/crates/{crate}/{version}/download", Action: read, Handle: h.download},
		{Method: http.MethodDelete, Path: "api/v1/crates/{crate}/{version}/yank", Action: update, Package: crate, Handle: h.yank},
		{Method: http.MethodPut, Path: "api/v1/crates/{crate}/{version}/unyank", Action: update, Package: crate, Handle: h.unyank},
		{Method: http.MethodGet, Path: "api/v1/crates/{crate}/owners", Action: read, Handle: ownersUnsupported},
		{Method: http.MethodPut, Path: "api/v1/crates/{crate}/owners", Action: read, Handle: ownersUnsupported},
		{Method: http.MethodDelete, Path: "api/v1/crates/{crate}/owners", Action: read, Handle: ownersUnsupported},
		{Method: http.MethodGet, Path: "{path...}", Action: read, Handle: h.serveIndex},
	}})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// ownersUnsupported answers cargo owner: crates have no owners here, the
// repository's permissions policy says who may publish.
func ownersUnsupported(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return fault.Validation("crate owners are not supported by this registry: who may publish is set by the repository's permissions policy")
}

// serveConfig serves config.json: dl and api point back at this
// endpoint as the client reached it, and auth-required makes cargo send
// its token on every request.
func (h *Handler) serveConfig(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	b := Config(c.Target.EndpointBase(r))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
	return nil
}

// packageRef addresses a crate by its canonical name (the stored one).
func packageRef(t *format.Target, name string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: t.Repo(), Format: artifact.FormatCargo, Package: Canonical(name)}
}

func versionRef(t *format.Target, name, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, name), Version: version}
}

// assetName is the one asset of a crate version.
func assetName(name, version string) string { return Canonical(name) + "-" + version + ".crate" }

// writeError answers in cargo's terms: {"errors":[{"detail":…}]}, which
// cargo prints, with the status of the fault's kind (a 401 carries the
// WWW-Authenticate challenge).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, ok := format.ErrorStatus(w, r, h.log, "cargo", err)
	if ok {
		WriteError(w, status, msg)
	}
}
