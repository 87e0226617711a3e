// Package swift serves the Swift package registry protocol (SE-0292, the
// registry service specification of swift-package-manager's
// Documentation/PackageRegistry/Registry.md) on a repository endpoint:
// release lists, release metadata, manifests, source archives, the
// identifiers lookup, login and publish. A package's namespace is its
// scope; scope and name are stored in lower case. Swift has no external
// connection: reads go through the repository and its upstreams only.
package swift

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format"
)

// Engine is what the swift protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ViewPackageIndex(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	VersionsMetadata(ctx context.Context, ids []int64) (map[int64]string, error)
	SearchOrder(ctx context.Context, ref artifact.RepoRef) ([]string, error)
	ListPackages(ctx context.Context, ref artifact.RepoRef, f artifact.PackageFilter, page artifact.PageRequest) ([]artifact.Package, string, error)
}

var _ Engine = (*artifact.Service)(nil)

// Protocol serves the Swift package registry.
var Protocol = format.Plugin{Format: artifact.FormatSwift, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Options{MaxArchiveSize: d.Limits.MaxAssetSize, SpoolDir: d.Limits.SpoolDir, Log: d.Log})
	}}

// Options configure a Handler.
type Options struct {
	// MaxArchiveSize bounds one published source archive (default 5 GiB).
	MaxArchiveSize int64
	// SpoolDir holds published archives while they are checked (default
	// os.TempDir()).
	SpoolDir string
	Log      *slog.Logger
}

// Handler serves the registry of a repository endpoint.
type Handler struct {
	svc        Engine
	authz      auth.Authorizer
	router     *format.Router
	log        *slog.Logger
	maxArchive int64
	spoolDir   string
}

// apiVersion is the registry API version served (Content-Version).
const apiVersion = "1"

// New returns the swift handler.
func New(svc Engine, authz auth.Authorizer, o Options) *Handler {
	h := &Handler{svc: svc, authz: authz, log: cmp.Or(o.Log, format.Discard),
		maxArchive: cmp.Or(o.MaxArchiveSize, 5<<30), spoolDir: cmp.Or(o.SpoolDir, os.TempDir())}
	read := auth.ActionReadFromRepository
	// Publishing is authorized on the package the path names, before the
	// body is read.
	release := func(c *format.Call) (string, string, error) {
		scope, name, version := c.Param("scope"), c.Param("name"), c.Param("version")
		switch {
		case !ValidScope(scope):
			return "", "", fault.Validation("invalid package scope %q", printable(scope))
		case !ValidName(name):
			return "", "", fault.Validation("invalid package name %q", printable(name))
		case !ValidVersion(version):
			return "", "", fault.Validation("invalid version %q: a release version is a Semantic Versioning 2.0.0 version", printable(version))
		}
		ns, n := Normalize(scope, name)
		return ns, n, nil
	}
	h.router = format.NewRouter(format.Router{Format: artifact.FormatSwift, Authorizer: authz, ARNs: svc, Render: h.writeError,
		IgnoreTrailingSlash: true, Routes: []format.Route{
			{Method: http.MethodGet, Path: "identifiers", Action: read, Handle: h.api(h.identifiers)},
			{Method: http.MethodPost, Path: "login", Action: read, Handle: h.api(h.login)},
			{Method: http.MethodGet, Path: "{scope}/{name}", Action: read, Handle: h.api(h.releases)},
			{Method: http.MethodGet, Path: "{scope}/{name}/{version}", Action: read, Handle: h.api(h.release)},
			{Method: http.MethodPut, Path: "{scope}/{name}/{version}", Action: auth.ActionPublishPackageVersion, Package: release, Handle: h.api(h.publish)},
			{Method: http.MethodGet, Path: "{scope}/{name}/{version}/Package.swift", Action: read, Handle: h.api(h.manifest)},
		}})
	return h
}

// ServeHTTP sets Content-Version on every answer (Registry.md §3.5) and
// routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Version", apiVersion)
	h.router.ServeHTTP(w, r)
}

// api checks, once the route's action is authorized, the API version the
// request's Accept asks for.
func (h *Handler) api(next func(w http.ResponseWriter, r *http.Request, c *format.Call) error) func(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return func(w http.ResponseWriter, r *http.Request, c *format.Call) error {
		if err := CheckAccept(r.Header.Values("Accept")); err != nil {
			return err
		}
		return next(w, r, c)
	}
}

// CheckAccept applies Registry.md §3.5 to a request's Accept header:
// application/vnd.swift.registry[.v1][+json|+zip|+swift] and any other
// media range (or none) are served with version 1; a registry media type
// naming another valid version is 415, one whose version is malformed
// 400. SwiftPM sends application/vnd.swift.registry.v1+{json,zip,swift}.
func CheckAccept(values []string) error {
	const prefix = "application/vnd.swift.registry"
	var refusal error
	for _, v := range values {
		for _, mr := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(mr, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			rest, ok := strings.CutPrefix(mt, prefix)
			if !ok {
				return nil
			}
			ver, media, _ := strings.Cut(rest, "+")
			switch media {
			case "", "json", "zip", "swift":
			default:
				refusal = &statusError{http.StatusBadRequest, "invalid media type " + printable(mt)}
				continue
			}
			if ver == "" || ver == ".v1" {
				return nil
			}
			n, ok := strings.CutPrefix(ver, ".v")
			if ok && n != "" && strings.Trim(n, "0123456789") == "" {
				refusal = &statusError{http.StatusUnsupportedMediaType, "unsupported API version " + printable(n)}
			} else if refusal == nil {
				refusal = &statusError{http.StatusBadRequest, "invalid API version"}
			}
		}
	}
	return refusal
}

// writeError answers with a problem details document: the status the
// specification names (415, 422) or that of the fault's kind.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if se, ok := asStatusError(err); ok {
		WriteProblem(w, se.status, se.detail)
		return
	}
	status, msg, ok := format.ErrorStatus(w, r, h.log, artifact.FormatSwift, err)
	if ok {
		WriteProblem(w, status, msg)
	}
}

// login serves POST login (swift package-registry login): the route's
// ReadFromRepository check has accepted the credentials.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// packageRef addresses a package by its stored (lower-case) scope and name.
func packageRef(t *format.Target, scope, name string) artifact.PackageRef {
	ns, n := Normalize(scope, name)
	return artifact.PackageRef{RepoRef: t.Repo(), Format: artifact.FormatSwift, Namespace: ns, Package: n}
}

func versionRef(t *format.Target, scope, name, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(t, scope, name), Version: version}
}

// AssetName is the one asset of a release: its source archive, named by
// the stored package name.
func AssetName(name, version string) string {
	_, n := Normalize("", name)
	return n + "-" + version + ".zip"
}

// serveDoc answers with a rendered document through http.ServeContent
// (HEAD, If-None-Match), its ETag the body's SHA-256.
func serveDoc(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
