package maven

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/format"
	"coffer/internal/lru"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// Engine is what the Maven protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	ReadAsset(ctx context.Context, req artifact.ReadRequest) (*artifact.ReadResult, error)
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
	PutAsset(ctx context.Context, req artifact.PutAssetRequest, body io.Reader) (*artifact.PublishResult, error)
	SetVersionStatus(ctx context.Context, ref artifact.VersionRef, status string) (*artifact.Version, error)
	PutPackageMetadata(ctx context.Context, ref artifact.PackageRef, metadata string) (*artifact.Package, error)
	DescribePackage(ctx context.Context, ref artifact.PackageRef) (*artifact.Package, error)
	DescribePackageVersion(ctx context.Context, ref artifact.VersionRef) (*artifact.Version, error)
	ListPackageVersions(ctx context.Context, ref artifact.PackageRef, f artifact.VersionFilter, page artifact.PageRequest) (*artifact.VersionList, error)
	GetPackageVersionAsset(ctx context.Context, ref artifact.VersionRef, asset, revision string) (*artifact.Version, *store.Asset, blob.Object, error)
	UpdateVersionMetadata(ctx context.Context, ref artifact.PackageRef, versions []string, update func(v *store.Version) error) (*artifact.BatchResult, error)
	RepositoryARN(owner, domain, repository string) string
	PackageARN(owner, domain, repository, format, namespace, pkg string) string
}

var _ Engine = (*artifact.Service)(nil)

// Config configures a Handler.
type Config struct {
	// Sink stages and commits what is fetched from external connections
	// (the domain's blob store).
	Sink upstream.Sink
	// Upstream tunes the external-connection client; HTTPClient, if set,
	// is the client it uses. Unless Upstream has a Policy, the handler
	// installs the one of the external connections svc knows
	// (upstream.PolicyFor).
	Upstream   upstream.Config
	HTTPClient *http.Client
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
	sink      upstream.Sink
	up        *upstream.Client
	log       *slog.Logger
	docs      *lru.Cache[*document]
	views     viewGroup
	maxUpload int64
}

// New returns the Maven handler, with the process's one upstream client
// for the Maven external connections.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	size := cfg.MetadataCacheBytes
	if size <= 0 {
		size = 64 << 20
	}
	maxUpload := cfg.MaxUploadSize
	if maxUpload <= 0 {
		maxUpload = 5 << 30
	}
	return &Handler{svc: svc, authz: authz, sink: cfg.Sink, up: upstream.New(upstream.PolicyFor(cfg.Upstream, svc, log), cfg.HTTPClient), log: log,
		docs: lru.New[*document](size), maxUpload: maxUpload}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := format.TargetFrom(r.Context())
	if t == nil {
		http.Error(w, "no repository target", http.StatusInternalServerError)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut:
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if t.Path == "" || strings.HasSuffix(t.Path, "/") {
		// Directory listings are not served.
		if err := h.authz.Authorize(r.Context(), auth.ActionReadFromRepository, h.repoARN(t)); err != nil {
			h.writeError(w, r, err)
			return
		}
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	p, err := ParsePath(t.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPut {
		h.put(w, r, t, p)
		return
	}
	h.get(w, r, t, p)
}

func (h *Handler) repoARN(t *format.Target) string {
	return h.svc.RepositoryARN(t.DomainOwner, t.Domain, t.Repository)
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
