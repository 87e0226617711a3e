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
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format"
)

// Handler serves generic assets.
type Handler struct {
	svc   *artifact.Service
	authz auth.Authorizer
}

// New returns the generic-format handler.
func New(svc *artifact.Service, authz auth.Authorizer) *Handler {
	return &Handler{svc: svc, authz: authz}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := format.TargetFrom(r.Context())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "generic packages are published with the PublishPackageVersion API", http.StatusMethodNotAllowed)
		return
	}
	if err := h.authz.Authorize(r.Context(), auth.ActionReadFromRepository, h.svc.RepositoryARN(t.DomainOwner, t.Domain, t.Repository)); err != nil {
		writeError(w, r, err)
		return
	}
	parts := strings.Split(t.Path, "/")
	if len(parts) != 4 {
		http.Error(w, "expected <namespace>/<package>/<version>/<asset>", http.StatusNotFound)
		return
	}
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil || u == "" {
			http.Error(w, "malformed path", http.StatusBadRequest)
			return
		}
		parts[i] = u
	}
	ref := artifact.VersionRef{PackageRef: artifact.PackageRef{
		RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: t.DomainOwner, Name: t.Domain}, Repository: t.Repository},
		Format:  artifact.FormatGeneric, Namespace: parts[0], Package: parts[1]}, Version: parts[2]}
	v, a, obj, err := h.svc.GetPackageVersionAsset(r.Context(), ref, parts[3], "")
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer obj.Close()
	if v.Status == artifact.StatusUnfinished {
		http.Error(w, "package version "+v.Version.Version+" is not published yet", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+a.Blob.SHA256+`"`)
	w.Header().Set("X-Checksum-SHA256", a.Blob.SHA256)
	w.Header().Set("X-Checksum-SHA1", a.Blob.SHA1)
	w.Header().Set("X-Checksum-MD5", a.Blob.MD5)
	http.ServeContent(w, r, a.Name, a.CreatedTime, obj.Reader())
}

// writeError answers with the shared native-protocol mapping
// (format.WriteError), except that a version whose assets cannot be
// downloaded (Archived, Disposed: a Conflict) is 404 here, as for a plain
// HTTP file server.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fault.ErrConflict) {
		http.Error(w, fault.As(err).Message, http.StatusNotFound)
		return
	}
	format.WriteError(w, r, slog.Default(), "generic", err)
}
