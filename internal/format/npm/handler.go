package npm

import (
	"cmp"
	"context"
	"encoding/json"
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
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/lru"
	"coffer/internal/osv"
	"coffer/internal/store"
)

// Engine is what the npm protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackageIndex(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	VersionsMetadata(ctx context.Context, ids []int64) (map[int64]string, error)
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
	UpdatePackageMetadata(ctx context.Context, ref artifact.PackageRef, update func(current string) (string, error)) (*artifact.Package, error)
	UpdateVersionMetadata(ctx context.Context, ref artifact.PackageRef, versions []string, update func(v *store.Version) error) (*artifact.BatchResult, error)
	UpdatePackage(ctx context.Context, ref artifact.PackageRef, expectedRev string, change artifact.PackageChange) (*artifact.PackageUpdate, error)
	DescribePackage(ctx context.Context, ref artifact.PackageRef) (*artifact.Package, error)
	ListPackageVersions(ctx context.Context, ref artifact.PackageRef, f artifact.VersionFilter, page artifact.PageRequest) (*artifact.VersionList, error)
	ListPackageVersionAssets(ctx context.Context, ref artifact.VersionRef, page artifact.PageRequest) (*artifact.AssetList, error)
	ListPackages(ctx context.Context, ref artifact.RepoRef, f artifact.PackageFilter, page artifact.PageRequest) ([]artifact.Package, string, error)
	LatestVersions(ctx context.Context, packageIDs []int64) (map[int64]store.Version, error)
	DeletePackageVersions(ctx context.Context, ref artifact.PackageRef, versions []string, expectedStatus string) (*artifact.BatchResult, error)
	DeletePackage(ctx context.Context, ref artifact.PackageRef) (*artifact.Package, error)
	DescribeRepository(ctx context.Context, ref artifact.RepoRef) (*artifact.Repository, error)
	ExternalURL(connection string) string
	ExternalConnectionsReached(ctx context.Context, ref artifact.RepoRef, format string) ([]artifact.ExternalSource, error)
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

// Protocol serves the npm registry API.
var Protocol = format.Plugin{Format: artifact.FormatNpm, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Config{Fetcher: d.Fetcher, MaxPublishSize: d.Limits.MaxAssetSize, TempDir: d.Limits.SpoolDir, Log: d.Log,
			Advisories: d.Advisories})
	}}

// Config configures a Handler.
type Config struct {
	// Fetcher reaches public:npmjs: packuments, tarballs and the audit
	// relay (default: one that fetches nothing).
	Fetcher *format.Fetcher
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
	// Advisories returns the OSV advisory index npm audits are answered
	// from when public:npmjs is not reached or fails (see audit); nil, or
	// a nil index, is none.
	Advisories func() *osv.Index
}

// Handler serves the npm registry protocol on a repository endpoint.
type Handler struct {
	svc        Engine
	authz      auth.Authorizer
	up         *format.Fetcher
	router     *format.Router
	httpClient *http.Client
	log        *slog.Logger
	docs       *lru.Cache[*document]
	fragments  *lru.Cache[string] // kept as strings: a build reads them without a copy
	maxPublish int64
	maxDoc     int64
	tempDir    string
	advisories func() *osv.Index
	// builds runs one packument build per document at a time.
	builds singleflight.Group
	// releasePending: a return of memory after big builds is scheduled.
	releasePending atomic.Bool
}

// New returns the npm handler.
func New(svc Engine, authz auth.Authorizer, cfg Config) *Handler {
	log := cmp.Or(cfg.Log, format.Discard)
	size := cmp.Or(cfg.CacheBytes, DefaultCacheBytes)
	h := &Handler{svc: svc, authz: authz, up: format.FetcherOr(cfg.Fetcher, log), log: log,
		docs: lru.New[*document](size / 2), fragments: lru.New[string](size / 8),
		maxPublish: cfg.MaxPublishSize, maxDoc: cfg.MaxDocumentSize, tempDir: cfg.TempDir, advisories: cfg.Advisories}
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
	h.router = format.NewRouter(format.Router{Format: artifact.FormatNpm, Routes: h.routes(), Params: map[string]format.Param{"name": nameParam},
		Authorizer: authz, ARNs: svc, Render: h.writeError, IgnoreTrailingSlash: true,
		NoRoute: func(w http.ResponseWriter, r *http.Request, _ *format.Target) {
			h.notFound(w, r, "no such npm registry route")
		}})
	return h
}

// request is one npm request: its target and where it reached the
// repository.
type request struct {
	t *format.Target
	// base is the repository endpoint as the client reached it (scheme,
	// host, path, ending in "/"): documents point tarballs at it.
	base string
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// routes is npm's route table. {name} is a package name: one segment, or
// two for a scope written with a plain slash (@scope/name as well as
// @scope%2fname).
func (h *Handler) routes() []format.Route {
	const (
		get, put, post, del = http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete
	)
	pkg := func(c *format.Call) (string, string, error) {
		n, err := callName(c)
		return n.Scope, n.Base, err
	}
	return []format.Route{
		{Method: get, Path: "-/ping", Action: actionRead, Handle: h.ping},
		{Method: get, Path: "-/whoami", Action: actionRead, Handle: h.whoami},
		{Method: get, Path: "-/v1/search", Action: actionRead, Handle: named(h.search)},
		{Method: post, Path: "-/npm/v1/security/advisories/bulk", Action: actionRead, Handle: named(h.audit(auditBulk))},
		{Method: post, Path: "-/npm/v1/security/audits/quick", Action: actionRead, Handle: named(h.audit(auditQuick))},
		{Method: get, Path: "-/package/{name}/dist-tags", Action: actionRead, Handle: named(h.listTags)},
		{Method: put, Path: "-/package/{name}/dist-tags/{tag}", Action: actionMetadata, Package: pkg, Handle: named(h.setTag)},
		{Method: post, Path: "-/package/{name}/dist-tags/{tag}", Action: actionMetadata, Package: pkg, Handle: named(h.setTag)},
		{Method: del, Path: "-/package/{name}/dist-tags/{tag}", Action: actionMetadata, Package: pkg, Handle: named(h.deleteTag)},
		{Method: get, Path: "{name}", Action: actionRead, Handle: named(h.servePackument)},
		{Method: put, Path: "{name}", Handle: named(h.put), InHandler: publishChecks},
		{Method: put, Path: "{name}/-rev/{rev}", Handle: named(h.put), InHandler: publishChecks},
		{Method: del, Path: "{name}/-rev/{rev}", Action: actionDelete, Package: pkg, Handle: named(h.unpublishPackage)},
		{Method: get, Path: "{name}/-/{file}", Action: actionRead, Handle: named(h.serveTarball)},
		{Method: del, Path: "{name}/-/{file}/-rev/{rev}", Action: actionDelete, Package: pkg, Handle: named(h.unpublishTarball)},
		{Method: get, Path: "{name}/{version}", Action: actionRead, Handle: named(h.serveVersion)},
	}
}

// publishChecks is why a PUT of a package document authorizes itself.
const publishChecks = "the document decides the action: a publish needs PublishPackageVersion, an unpublish DeletePackageVersions, " +
	"a deprecation or dist-tag change PutPackageMetadata, all on the package; read as the body streams, before anything is stored"

// named adapts a handler to a route: the call's request and validated
// package name (the zero Name on routes without one).
func named(f func(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call)) func(http.ResponseWriter, *http.Request, *format.Call) error {
	return func(w http.ResponseWriter, r *http.Request, c *format.Call) error {
		rq, n, err := call(r, c)
		if err != nil {
			return err
		}
		f(w, r, rq, n, c)
		return nil
	}
}

// nameParam reads a package name from the path: one segment, or "@scope"
// and the next. The "-" of the registry's own routes is no name.
func nameParam(segs []string) (string, int, bool) {
	if len(segs) == 0 || segs[0] == "" || segs[0] == "-" {
		return "", 0, false
	}
	if s := segs[0]; strings.HasPrefix(s, "@") && !strings.Contains(s, "/") {
		if len(segs) < 2 {
			return "", 0, false
		}
		return s + "/" + segs[1], 2, true
	}
	return segs[0], 1, true
}

// callName is the call's package name, validated.
func callName(c *format.Call) (Name, error) {
	n, ok := ParseName(c.Param("name"))
	if !ok {
		return Name{}, fault.Validation("%q is not a valid npm package name", c.Param("name"))
	}
	return n, nil
}

// call is the request and package name of a call.
func call(r *http.Request, c *format.Call) (*request, Name, error) {
	rq := &request{t: c.Target, base: c.Target.EndpointBase(r)}
	if c.Param("name") == "" {
		return rq, Name{}, nil
	}
	n, err := callName(c)
	return rq, n, err
}

// tarballURL is where a document points a version's tarball.
func (rq *request) tarballURL(n Name, version string) string {
	return rq.base + n.Path() + "/-/" + url.PathEscape(n.TarballName(version))
}

func (h *Handler) packageARN(t *format.Target, n Name) string {
	return h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatNpm, n.Scope, n.Base)
}

func packageRefIn(t *format.Target, repository string, n Name) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: t.RepoIn(repository), Format: artifact.FormatNpm, Namespace: n.Scope, Package: n.Base}
}

func packageRef(t *format.Target, n Name) artifact.PackageRef {
	return packageRefIn(t, t.Repository, n)
}

func versionRef(t *format.Target, n Name, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, n), Version: version}
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

// ping answers npm ping (and npm doctor): {} once the caller may read.
func (h *Handler) ping(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// whoami answers npm whoami with the name of the token's principal.
func (h *Handler) whoami(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	writeJSON(w, http.StatusOK, map[string]string{"username": principalName(c.Target.Principal)})
	return nil
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
