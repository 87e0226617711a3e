package maven

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/lru"
	"coffer/internal/store"
)

// Engine is what the Maven protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
	SetVersionStatus(ctx context.Context, ref artifact.VersionRef, status string) (*artifact.Version, error)
	PutPackageMetadata(ctx context.Context, ref artifact.PackageRef, metadata string) (*artifact.Package, error)
	DescribePackage(ctx context.Context, ref artifact.PackageRef) (*artifact.Package, error)
	ListPackageVersions(ctx context.Context, ref artifact.PackageRef, f artifact.VersionFilter, page artifact.PageRequest) (*artifact.VersionList, error)
	GetPackageVersionAsset(ctx context.Context, ref artifact.VersionRef, asset, revision string) (*artifact.Version, *store.Asset, blob.Object, error)
	UpdateVersionMetadata(ctx context.Context, ref artifact.PackageRef, versions []string, update func(v *store.Version) error) (*artifact.BatchResult, error)
}

var _ Engine = (*artifact.Service)(nil)

// Protocol serves the Maven repository layout.
var Protocol = format.Plugin{Format: artifact.FormatMaven, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Config{Fetcher: d.Fetcher, MaxUploadSize: d.Limits.MaxAssetSize, Log: d.Log})
	}}

// Config configures a Handler.
type Config struct {
	// Fetcher reaches the Maven external connections (default: one that
	// fetches nothing).
	Fetcher *format.Fetcher
	// MetadataCacheBytes bounds the rendered maven-metadata.xml documents
	// kept in memory (default 64 MiB).
	MetadataCacheBytes int64
	// MaxUploadSize bounds one uploaded file (default 5 GiB): a PUT whose
	// Content-Length is larger is refused before it is read, a streamed
	// one as soon as it crosses the limit (413).
	MaxUploadSize int64
	Log           *slog.Logger
}

// Handler serves the Maven repository protocol on a repository endpoint.
type Handler struct {
	svc       Engine
	authz     auth.Authorizer
	up        *format.Fetcher
	log       *slog.Logger
	router    *format.Router
	docs      *lru.Cache[*document]
	views     viewGroup
	maxUpload int64
}

// New returns the Maven handler.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cmp.Or(cfg.Log, format.Discard)
	h := &Handler{svc: svc, authz: authz, up: format.FetcherOr(cfg.Fetcher, log), log: log,
		docs: lru.New[*document](cmp.Or(cfg.MetadataCacheBytes, 64<<20)), maxUpload: cmp.Or(cfg.MaxUploadSize, 5<<30)}
	h.router = format.NewRouter(format.Router{Format: artifact.FormatMaven, Authorizer: authz, ARNs: svc, Render: h.writeError, Routes: []format.Route{
		{Method: http.MethodGet, Path: "{path...}", Action: auth.ActionReadFromRepository, Handle: h.get},
		{Method: http.MethodPut, Path: "{path...}", Handle: h.put,
			InHandler: "the action depends on the file (PublishPackageVersion, PutPackageMetadata or both), checked on the package before the body is read"},
	}})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// parse reads the repository path of a call: directories are not served.
func parse(c *format.Call) (Path, error) {
	path := c.Param("path")
	if path == "" || strings.HasSuffix(path, "/") {
		return Path{}, fault.NotFound("file", path, "not found")
	}
	p, err := ParsePath(path)
	if err != nil {
		return Path{}, fault.Validation("%s", err.Error())
	}
	return p, nil
}

func (h *Handler) packageARN(t *format.Target, p Path) string {
	return h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatMaven, p.GroupID, p.ArtifactID)
}

func packageRef(t *format.Target, p Path) artifact.PackageRef {
	return artifact.PackageRef{
		RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: t.DomainOwner, Name: t.Domain}, Repository: t.Repository},
		Format:  artifact.FormatMaven, Namespace: p.GroupID, Package: p.ArtifactID}
}

func versionRef(t *format.Target, p Path, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, p), Version: version}
}

// writeError answers in Maven's shape: a plain-text reason and the status
// of the fault's kind.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	format.WriteError(w, r, h.log, "maven", err)
}

// contentType is the Content-Type of a repository file by its extension.
func contentType(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "application/octet-stream"
	}
	switch strings.ToLower(name[i+1:]) {
	case "jar", "war", "ear", "rar", "aar":
		return "application/java-archive"
	case "pom", "xml":
		return "text/xml"
	case "md5", "sha1", "sha256", "sha512", "asc":
		return "text/plain"
	case "module", "json":
		return "application/json"
	case "zip":
		return "application/zip"
	}
	return "application/octet-stream"
}

// digestOf returns the lower-case hex digest of the algorithm.
func digestOf(d store.Blob, alg string) string {
	switch alg {
	case MD5:
		return d.MD5
	case SHA1:
		return d.SHA1
	case SHA256:
		return d.SHA256
	case SHA512:
		return d.SHA512
	}
	return ""
}
