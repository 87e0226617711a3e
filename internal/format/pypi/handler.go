package pypi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/format"
	"coffer/internal/lru"
	"coffer/internal/upstream"
)

// Engine is what the PyPI protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	ReadAsset(ctx context.Context, req artifact.ReadRequest) (*artifact.ReadResult, error)
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	PutAsset(ctx context.Context, req artifact.PutAssetRequest, body io.Reader) (*artifact.PublishResult, error)
	DescribePackageVersion(ctx context.Context, ref artifact.VersionRef) (*artifact.Version, error)
	ListPackageVersionAssets(ctx context.Context, ref artifact.VersionRef, page artifact.PageRequest) (*artifact.AssetList, error)
	ListPackages(ctx context.Context, ref artifact.RepoRef, f artifact.PackageFilter, page artifact.PageRequest) ([]artifact.Package, string, error)
	DescribeRepository(ctx context.Context, ref artifact.RepoRef) (*artifact.Repository, error)
	SearchOrder(ctx context.Context, ref artifact.RepoRef) ([]string, error)
	RepositoryARN(owner, domain, repository string) string
	PackageARN(owner, domain, repository, format, namespace, pkg string) string
}

var _ Engine = (*artifact.Service)(nil)

// The codeartifact actions this protocol checks, by short names.
const (
	actionRead    = auth.ActionReadFromRepository
	actionPublish = auth.ActionPublishPackageVersion
)

// Config configures a Handler.
type Config struct {
	// Blobs is the domain's blob store: files fetched from public:pypi are
	// staged into it, and read back to extract their core metadata.
	Blobs blob.Store
	// Upstream tunes the external-connection client; HTTPClient, if set,
	// is the client it uses. Unless Upstream has a Policy, the handler
	// installs the one of the external connections svc knows
	// (upstream.PolicyFor).
	Upstream   upstream.Config
	HTTPClient *http.Client
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
	blobs     blob.Store
	up        *upstream.Client
	log       *slog.Logger
	pages     *lru.Cache[*renderedPage]
	fragments *lru.Cache[[]storedFile]
	maxUpload int64
	tempDir   string
	// wrapSpool, when set (by tests), wraps what uploads are spooled to,
	// to inject write failures such as ENOSPC.
	wrapSpool func(io.Writer) io.Writer
}

// New returns the PyPI handler, with the process's one upstream client for
// public:pypi.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	size := cfg.PageCacheBytes
	if size <= 0 {
		size = 64 << 20
	}
	maxUpload := cfg.MaxUploadSize
	if maxUpload <= 0 {
		maxUpload = 5 << 30
	}
	tmp := cfg.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	return &Handler{svc: svc, authz: authz, blobs: cfg.Blobs, up: upstream.New(upstream.PolicyFor(cfg.Upstream, svc, log), cfg.HTTPClient), log: log,
		pages: lru.New[*renderedPage](size / 2), fragments: lru.New[[]storedFile](size / 4),
		maxUpload: maxUpload, tempDir: tmp}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := format.TargetFrom(r.Context())
	if t == nil {
		http.Error(w, "no repository target", http.StatusInternalServerError)
		return
	}
	p := t.Path
	if r.Method == http.MethodPost {
		if p != "" && p != "legacy/" {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "uploads go to the repository endpoint itself", http.StatusMethodNotAllowed)
			return
		}
		h.upload(w, r, t)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := h.authz.Authorize(r.Context(), actionRead, h.repoARN(t)); err != nil {
		h.writeError(w, r, err)
		return
	}
	switch {
	case p == "" || p == "simple":
		redirect(w, r, t, "simple/")
	case p == "simple/":
		h.serveIndex(w, r, t)
	case strings.HasPrefix(p, "simple/"):
		rest := strings.TrimPrefix(p, "simple/")
		name, slash := strings.CutSuffix(rest, "/")
		if name == "" || strings.Contains(name, "/") || !ValidName(name) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if norm := NormalizeName(name); norm != name || !slash {
			redirect(w, r, t, "simple/"+norm+"/")
			return
		}
		h.serveProject(w, r, t, name)
	case strings.HasPrefix(p, "files/"):
		parts := strings.Split(strings.TrimPrefix(p, "files/"), "/")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			http.Error(w, "expected files/<project>/<version>/<file>", http.StatusNotFound)
			return
		}
		h.serveFile(w, r, t, parts[0], parts[1], parts[2])
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
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

func (h *Handler) repoARN(t *format.Target) string {
	return h.svc.RepositoryARN(t.DomainOwner, t.Domain, t.Repository)
}

func (h *Handler) packageARN(t *format.Target, project string) string {
	return h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatPypi, "", NormalizeName(project))
}

func repoRef(t *format.Target, repository string) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: t.DomainOwner, Name: t.Domain}, Repository: repository}
}

func packageRef(t *format.Target, project string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: repoRef(t, t.Repository), Format: artifact.FormatPypi, Package: project}
}

func versionRef(t *format.Target, project, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, project), Version: version}
}

// writeError answers in pip's and twine's terms: a plain-text reason and
// the status of the fault's kind.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	format.WriteError(w, r, h.log, "pypi", err)
}
