// Package generic serves generic-format assets on the repository endpoint so
// that scripts can fetch them with plain HTTP and an authorization token:
//
//	GET|HEAD /generic/d/<domain>-<owner>/<repository>/<namespace>/<package>/<version>/<asset>
//
// CodeArtifact offers generic packages through its API only; this read-only
// route is coffer's addition, authorized like every native read
// (codeartifact:ReadFromRepository). Publishing stays an API operation
// because it needs the asset's SHA-256 up front.
package generic

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// Protocol serves generic assets on the repository endpoint.
var Protocol = format.Plugin{Format: artifact.FormatGeneric, Guides: Guides,
	New: func(d format.Deps) http.Handler { return New(d.Engine, d.Authorizer, d.Log) }}

// handler serves generic assets.
type handler struct {
	svc format.AssetReader
	log *slog.Logger
}

// New returns the generic-format handler.
func New(svc *artifact.Service, authz auth.Authorizer, log *slog.Logger) http.Handler {
	h := &handler{svc: svc, log: cmp.Or(log, format.Discard)}
	return format.NewRouter(format.Router{Format: artifact.FormatGeneric, Authorizer: authz, ARNs: svc, Render: h.writeError,
		Routes: []format.Route{
			{Method: http.MethodGet, Path: "{namespace}/{package}/{version}/{asset}", Action: auth.ActionReadFromRepository, Handle: h.serveAsset},
		}})
}

// serveAsset serves one asset of a readable version the repository holds
// (generic packages never come through upstreams: the format table's row).
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	ref := artifact.VersionRef{PackageRef: artifact.PackageRef{
		RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: t.DomainOwner, Name: t.Domain}, Repository: t.Repository},
		Format:  artifact.FormatGeneric, Namespace: c.Param("namespace"), Package: c.Param("package")}, Version: c.Param("version")}
	format.ServeAsset(w, r, h.svc, format.AssetResponse{ContentType: "application/octet-stream", WriteError: h.writeError,
		Headers: func(hd http.Header, b store.Blob) {
			hd.Set("X-Checksum-SHA256", b.SHA256)
			hd.Set("X-Checksum-SHA1", b.SHA1)
			hd.Set("X-Checksum-MD5", b.MD5)
		}},
		func(*format.Download) artifact.ReadRequest {
			return artifact.ReadRequest{VersionRef: ref, Asset: c.Param("asset")}
		})
	return nil
}

// writeError answers with the shared native-protocol mapping
// (format.WriteError), except that a version whose assets cannot be
// downloaded (Archived, Disposed: a Conflict) is 404 here, as for a plain
// HTTP file server.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fault.ErrConflict) {
		http.Error(w, fault.As(err).Message, http.StatusNotFound)
		return
	}
	format.WriteError(w, r, h.log, "generic", err)
}
