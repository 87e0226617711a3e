package pypi

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/format"
	"coffer/internal/lru"
)

// Engine is what the PyPI protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ListPackageVersionAssets(ctx context.Context, ref artifact.VersionRef, page artifact.PageRequest) (*artifact.AssetList, error)
	PackageNames(ctx context.Context, ref artifact.RepoRef, format string) ([]string, error)
	DescribeRepository(ctx context.Context, ref artifact.RepoRef) (*artifact.Repository, error)
}

var _ Engine = (*artifact.Service)(nil)

// The codeartifact actions this protocol checks, by short names.
const (
	actionRead    = auth.ActionReadFromRepository
	actionPublish = auth.ActionPublishPackageVersion
)

// Protocol serves the simple repository API and the upload API.
var Protocol = format.Plugin{Format: artifact.FormatPypi, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Config{Fetcher: d.Fetcher, MaxUploadSize: d.Limits.MaxAssetSize, TempDir: d.Limits.SpoolDir, Log: d.Log})
	}}

// Config configures a Handler.
type Config struct {
	// Fetcher reaches public:pypi: files fetched are staged through it and
	// read back to extract their core metadata (default: one that fetches
	// nothing).
	Fetcher *format.Fetcher
	// PageCacheBytes bounds the rendered simple pages and per-version file
	// lists kept in memory (default 64 MiB).
	PageCacheBytes int64
	// MaxUploadSize bounds one uploaded file (default 5 GiB).
	MaxUploadSize int64
	// TempDir holds uploads while they are checked (default os.TempDir()).
	TempDir string
	Log     *slog.Logger
}

// Handler serves the PyPI simple repository API and the legacy upload API
// on a repository endpoint.
type Handler struct {
	svc       Engine
	authz     auth.Authorizer
	up        *format.Fetcher
	router    *format.Router
	log       *slog.Logger
	pages     *lru.Cache[*renderedPage]
	fragments *lru.Cache[[]storedFile]
	maxUpload int64
	tempDir   string
	// wrapSpool, when set (by tests), wraps what uploads are spooled to,
	// to inject write failures such as ENOSPC.
	wrapSpool func(io.Writer) io.Writer
}

// New returns the PyPI handler.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cmp.Or(cfg.Log, format.Discard)
	size := cmp.Or(cfg.PageCacheBytes, 64<<20)
	h := &Handler{svc: svc, authz: authz, up: format.FetcherOr(cfg.Fetcher, log), log: log,
		pages: lru.New[*renderedPage](size / 2), fragments: lru.New[[]storedFile](size / 4),
		maxUpload: cmp.Or(cfg.MaxUploadSize, 5<<30), tempDir: cmp.Or(cfg.TempDir, os.TempDir())}
	upload := format.Route{Method: http.MethodPost, Handle: h.upload,
		InHandler: "the project is named in the form: PublishPackageVersion is checked on it before the file part is read"}
	uploadLegacy := upload
	uploadLegacy.Path = "legacy/"
	h.router = format.NewRouter(format.Router{Format: artifact.FormatPypi, Authorizer: authz, ARNs: svc, Render: h.writeError, Routes: []format.Route{
		upload, uploadLegacy,
		{Method: http.MethodGet, Path: "", Action: actionRead, Handle: toIndex},
		{Method: http.MethodGet, Path: "simple", Action: actionRead, Handle: toIndex},
		{Method: http.MethodGet, Path: "simple/", Action: actionRead, Handle: h.serveIndex},
		{Method: http.MethodGet, Path: "simple/{project}", Action: actionRead, Handle: h.serveProject},
		{Method: http.MethodGet, Path: "simple/{project}/", Action: actionRead, Handle: h.serveProject},
		{Method: http.MethodGet, Path: "files/{project}/{version}/{file}", Action: actionRead, Handle: h.serveFile},
	}})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// toIndex sends the endpoint itself to the simple index.
func toIndex(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	redirect(w, r, c.Target, "simple/")
	return nil
}

// redirect answers 301 with the repository endpoint's rel, keeping the
// query string.
func redirect(w http.ResponseWriter, r *http.Request, t *format.Target, rel string) {
	prefix := strings.TrimSuffix(r.URL.Path, t.Path)
	loc := (&url.URL{Path: prefix + rel}).EscapedPath()
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, loc, http.StatusMovedPermanently)
}

func (h *Handler) packageARN(t *format.Target, project string) string {
	return h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatPypi, "", NormalizeName(project))
}

func packageRef(t *format.Target, project string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: t.RepoIn(t.Repository), Format: artifact.FormatPypi, Package: project}
}

func versionRef(t *format.Target, project, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, project), Version: version}
}

// writeError answers in pip's and twine's terms: a plain-text reason and
// the status of the fault's kind.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	format.WriteError(w, r, h.log, "pypi", err)
}
