package npm

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/lru"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// Engine is what the npm protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	ReadAsset(ctx context.Context, req artifact.ReadRequest) (*artifact.ReadResult, error)
	ViewPackageIndex(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	VersionsMetadata(ctx context.Context, ids []int64) (map[int64]string, error)
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
	PutAsset(ctx context.Context, req artifact.PutAssetRequest, body io.Reader) (*artifact.PublishResult, error)
	UpdatePackageMetadata(ctx context.Context, ref artifact.PackageRef, update func(current string) (string, error)) (*artifact.Package, error)
	UpdateVersionMetadata(ctx context.Context, ref artifact.PackageRef, versions []string, update func(v *store.Version) error) (*artifact.BatchResult, error)
	UpdatePackage(ctx context.Context, ref artifact.PackageRef, expectedRev string, change artifact.PackageChange) (*artifact.PackageUpdate, error)
	DescribePackage(ctx context.Context, ref artifact.PackageRef) (*artifact.Package, error)
	DescribePackageVersion(ctx context.Context, ref artifact.VersionRef) (*artifact.Version, error)
	ListPackageVersions(ctx context.Context, ref artifact.PackageRef, f artifact.VersionFilter, page artifact.PageRequest) (*artifact.VersionList, error)
	ListPackageVersionAssets(ctx context.Context, ref artifact.VersionRef, page artifact.PageRequest) (*artifact.AssetList, error)
	ListPackages(ctx context.Context, ref artifact.RepoRef, f artifact.PackageFilter, page artifact.PageRequest) ([]artifact.Package, string, error)
	LatestVersions(ctx context.Context, packageIDs []int64) (map[int64]store.Version, error)
	DeletePackageVersions(ctx context.Context, ref artifact.PackageRef, versions []string, expectedStatus string) (*artifact.BatchResult, error)
	DeletePackage(ctx context.Context, ref artifact.PackageRef) (*artifact.Package, error)
	DescribeRepository(ctx context.Context, ref artifact.RepoRef) (*artifact.Repository, error)
	ExternalURL(connection string) string
	ExternalConnectionsReached(ctx context.Context, ref artifact.RepoRef, format string) ([]artifact.ExternalSource, error)
	RepositoryARN(owner, domain, repository string) string
	PackageARN(owner, domain, repository, format, namespace, pkg string) string
}

var _ Engine = (*artifact.Service)(nil)

// The codeartifact actions this protocol checks, by short names.
const (
	actionRead     = auth.ActionReadFromRepository
	actionPublish  = auth.ActionPublishPackageVersion
	actionMetadata = auth.ActionPutPackageMetadata
	actionDelete   = auth.ActionDeletePackageVersions
)

// npmjs is the external connection of the public npm registry.
const npmjs = "public:npmjs"

// assetName is the one asset of an npm package version, as CodeArtifact
// names it in ListPackageVersionAssets (spec §6); clients download it as
// <name>/-/<base>-<version>.tgz.
const assetName = "package.tgz"

// Defaults of Config.
const (
	DefaultCacheBytes      = 128 << 20
	DefaultMaxPublishSize  = 2 << 30
	DefaultMaxDocumentSize = 64 << 20
)

// Config configures a Handler.
type Config struct {
	// Blobs is the domain's blob store: tarballs fetched from public:npmjs
	// are staged into it (without it, nothing is fetched).
	Blobs blob.Store
	// Upstream tunes the external-connection client; HTTPClient, if set,
	// is the client it uses (and the audit proxy's). Unless Upstream has a
	// Policy, the handler installs the one of the external connections
	// svc knows (upstream.PolicyFor).
	Upstream   upstream.Config
	HTTPClient *http.Client
	// CacheBytes bounds the rendered packuments and per-version fragments
	// kept in memory (default 128 MiB); parsed upstream packuments are
	// cached with their documents by the upstream client.
	CacheBytes int64
	// MaxPublishSize bounds the tarball of one publish: the process's
	// largest asset. npm's own limit on CodeArtifact, 2 GiB, is the
	// default and the ceiling.
	MaxPublishSize int64
	// MaxDocumentSize bounds the JSON of a publish or metadata update, the
	// tarball's base64 excepted (default 64 MiB).
	MaxDocumentSize int64
	// TempDir holds a tarball that arrives before its version document
	// while the rest of the body is read (default os.TempDir()); the file
	// is removed when the request ends, however it ends.
	TempDir string
	Log     *slog.Logger
}

// Handler serves the npm registry protocol on a repository endpoint.
type Handler struct {
	svc        Engine
	authz      auth.Authorizer
	blobs      blob.Store
	up         *upstream.Client
	httpClient *http.Client
	log        *slog.Logger
	docs       *lru.Cache[*document]
	fragments  *lru.Cache[[]byte]
	maxPublish int64
	maxDoc     int64
	tempDir    string
	// builds runs one packument build per document at a time.
	builds singleflight.Group
	// releasePending: a return of memory after big builds is scheduled.
	releasePending atomic.Bool
}

// New returns the npm handler, with the process's one upstream client for
// public:npmjs.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	size := cfg.CacheBytes
	if size <= 0 {
		size = DefaultCacheBytes
	}
	h := &Handler{svc: svc, authz: authz, blobs: cfg.Blobs, up: upstream.New(upstream.PolicyFor(cfg.Upstream, svc, log), cfg.HTTPClient), log: log,
		docs: lru.New[*document](size / 2), fragments: lru.New[[]byte](size / 8),
		maxPublish: cfg.MaxPublishSize, maxDoc: cfg.MaxDocumentSize, tempDir: cfg.TempDir, httpClient: cfg.HTTPClient}
	if h.maxPublish <= 0 || h.maxPublish > DefaultMaxPublishSize {
		h.maxPublish = DefaultMaxPublishSize
	}
	if h.maxDoc <= 0 {
		h.maxDoc = DefaultMaxDocumentSize
	}
	if h.tempDir == "" {
		h.tempDir = os.TempDir()
	}
	// The audit relay reaches public:npmjs through the upstream client's
	// own http.Client, under its address policy.
	h.httpClient = h.up.HTTPClient()
	return h
}

// request is one npm request: its target and the path segments after the
// repository endpoint.
type request struct {
	t    *format.Target
	segs []string
	// base is the repository endpoint as the client reached it (scheme,
	// host, path, ending in "/"): documents point tarballs at it.
	base string
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := format.TargetFrom(r.Context())
	if t == nil {
		http.Error(w, "no repository target", http.StatusInternalServerError)
		return
	}
	rq := &request{t: t, base: endpointBase(r, t)}
	if t.Path != "" {
		escaped := r.URL.EscapedPath()
		if parts := strings.SplitN(strings.TrimPrefix(escaped, "/"), "/", 5); len(parts) == 5 {
			rq.segs = splitPath(parts[4], t.Path)
		} else {
			rq.segs = strings.Split(t.Path, "/")
		}
	}
	if len(rq.segs) > 0 && rq.segs[len(rq.segs)-1] == "" {
		rq.segs = rq.segs[:len(rq.segs)-1] // a trailing slash
	}
	if len(rq.segs) == 0 {
		h.notFound(w, r, "this is an npm registry; ask for a package")
		return
	}
	if rq.segs[0] == "-" {
		h.serveSpecial(w, r, rq)
		return
	}
	name, used, ok := nameFromSegments(rq.segs)
	if !ok {
		h.writeError(w, r, fault.Validation("%q is not a valid npm package name", strings.Join(rq.segs, "/")))
		return
	}
	rest := rq.segs[used:]
	switch {
	case len(rest) == 0:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.servePackument(w, r, rq, name)
		case http.MethodPut:
			h.put(w, r, rq, name, "")
		default:
			methodNotAllowed(w, r, "GET, HEAD, PUT")
		}
	case len(rest) == 2 && rest[0] == "-rev":
		switch r.Method {
		case http.MethodPut:
			h.put(w, r, rq, name, rest[1])
		case http.MethodDelete:
			h.unpublishPackage(w, r, rq, name, rest[1])
		default:
			methodNotAllowed(w, r, "PUT, DELETE")
		}
	case len(rest) == 2 && rest[0] == "-":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		h.serveTarball(w, r, rq, name, rest[1])
	case len(rest) == 4 && rest[0] == "-" && rest[2] == "-rev":
		if r.Method != http.MethodDelete {
			methodNotAllowed(w, r, "DELETE")
			return
		}
		h.unpublishTarball(w, r, rq, name, rest[1], rest[3])
	case len(rest) == 1 && rest[0] != "-" && rest[0] != "-rev":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		h.serveVersion(w, r, rq, name, rest[0])
	default:
		h.notFound(w, r, "no such npm registry route")
	}
}

// serveSpecial serves the /-/ routes.
func (h *Handler) serveSpecial(w http.ResponseWriter, r *http.Request, rq *request) {
	segs := rq.segs[1:]
	p := strings.Join(segs, "/")
	switch {
	case p == "ping":
		h.ping(w, r, rq)
	case p == "whoami":
		h.whoami(w, r, rq)
	case p == "v1/search":
		h.search(w, r, rq)
	case p == "npm/v1/security/advisories/bulk":
		h.audit(w, r, rq, auditBulk)
	case p == "npm/v1/security/audits/quick":
		h.audit(w, r, rq, auditQuick)
	case len(segs) >= 3 && segs[0] == "package":
		name, used, ok := nameFromSegments(segs[1:])
		rest := segs[1+used:]
		if !ok || len(rest) == 0 || rest[0] != "dist-tags" || len(rest) > 2 {
			h.notFound(w, r, "expected -/package/<name>/dist-tags[/<tag>]")
			return
		}
		if len(rest) == 1 {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				methodNotAllowed(w, r, "GET, HEAD")
				return
			}
			h.listTags(w, r, rq, name)
			return
		}
		switch r.Method {
		case http.MethodPut, http.MethodPost:
			h.setTag(w, r, rq, name, rest[1])
		case http.MethodDelete:
			h.deleteTag(w, r, rq, name, rest[1])
		default:
			methodNotAllowed(w, r, "PUT, DELETE")
		}
	default:
		h.notFound(w, r, "no such npm registry route: -/"+p)
	}
}

// endpointBase is the repository endpoint as the client reached it:
// scheme and Host of the request and the path before Target.Path.
func endpointBase(r *http.Request, t *format.Target) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); p == "http" || p == "https" {
		scheme = p
	}
	prefix := strings.TrimSuffix(r.URL.Path, t.Path)
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return scheme + "://" + r.Host + (&url.URL{Path: prefix}).EscapedPath()
}

// tarballURL is where a document points a version's tarball.
func (rq *request) tarballURL(n Name, version string) string {
	return rq.base + n.Path() + "/-/" + url.PathEscape(n.TarballName(version))
}

func (h *Handler) repoARN(t *format.Target) string {
	return h.svc.RepositoryARN(t.DomainOwner, t.Domain, t.Repository)
}

func (h *Handler) packageARN(t *format.Target, n Name) string {
	return h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatNpm, n.Scope, n.Base)
}

func repoRef(t *format.Target, repository string) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: t.DomainOwner, Name: t.Domain}, Repository: repository}
}

func packageRefIn(t *format.Target, repository string, n Name) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: repoRef(t, repository), Format: artifact.FormatNpm, Namespace: n.Scope, Package: n.Base}
}

func packageRef(t *format.Target, n Name) artifact.PackageRef {
	return packageRefIn(t, t.Repository, n)
}

func versionRef(t *format.Target, n Name, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, n), Version: version}
}

// authorizeRead checks codeartifact:ReadFromRepository on the repository.
func (h *Handler) authorizeRead(w http.ResponseWriter, r *http.Request, rq *request) bool {
	if err := h.authz.Authorize(r.Context(), actionRead, h.repoARN(rq.t)); err != nil {
		h.writeError(w, r, err)
		return false
	}
	return true
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers in npm's terms: {"error": "..."} (CouchDB's
// {"error":"not_found","reason": "..."} for a 404) with the status of the
// fault's kind; 401 carries a Basic challenge. Internal errors are logged,
// not shown.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, ok := format.ErrorStatus(w, r, h.log, "npm", err)
	if !ok {
		return
	}
	body := map[string]string{"error": msg}
	if status == http.StatusNotFound {
		body = map[string]string{"error": "not_found", "reason": msg}
	}
	w.Header().Del("Content-Encoding")
	w.Header().Del("ETag")
	w.Header().Del("Content-Length")
	writeJSON(w, status, body)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	h.writeError(w, r, fault.NotFound("route", r.URL.Path, "%s", msg))
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed here; allowed: " + allow})
}

// ping answers npm ping (and npm doctor): {} once the caller may read.
func (h *Handler) ping(w http.ResponseWriter, r *http.Request, rq *request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if !h.authorizeRead(w, r, rq) {
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// whoami answers npm whoami with the name of the token's principal.
func (h *Handler) whoami(w http.ResponseWriter, r *http.Request, rq *request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if !h.authorizeRead(w, r, rq) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"username": principalName(rq.t.Principal)})
}

// principalName is how npm shows the caller: an IAM user's name, the role
// and session of an assumed role, "root" for the account.
func principalName(p *auth.Principal) string {
	switch {
	case p == nil:
		return ""
	case p.Username != "":
		return p.Username
	case p.IsRoot():
		return "root"
	}
	arn := p.ARN
	if i := strings.Index(arn, ":assumed-role/"); i >= 0 {
		return arn[i+len(":assumed-role/"):]
	}
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// npmTime formats a time as the registry does.
func npmTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
