package controlplane

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
)

// route is one model operation: its HTTP binding and the method serving it.
type route struct {
	op     string
	method string
	path   string
	serve  func(*handler, http.ResponseWriter, *http.Request) error
}

// routes lists every operation of the model. Dispatch is on method + exact
// path: several operations share a path and differ only by verb.
func routes() []route {
	return []route{
		// domains (domains.go)
		{"CreateDomain", http.MethodPost, "/v1/domain", (*handler).createDomain},
		{"DescribeDomain", http.MethodGet, "/v1/domain", (*handler).describeDomain},
		{"DeleteDomain", http.MethodDelete, "/v1/domain", (*handler).deleteDomain},
		{"ListDomains", http.MethodPost, "/v1/domains", (*handler).listDomains},
		{"PutDomainPermissionsPolicy", http.MethodPut, "/v1/domain/permissions/policy", (*handler).putDomainPolicy},
		{"GetDomainPermissionsPolicy", http.MethodGet, "/v1/domain/permissions/policy", (*handler).getDomainPolicy},
		{"DeleteDomainPermissionsPolicy", http.MethodDelete, "/v1/domain/permissions/policy", (*handler).deleteDomainPolicy},

		// repositories (repositories.go)
		{"CreateRepository", http.MethodPost, "/v1/repository", (*handler).createRepository},
		{"DescribeRepository", http.MethodGet, "/v1/repository", (*handler).describeRepository},
		{"UpdateRepository", http.MethodPut, "/v1/repository", (*handler).updateRepository},
		{"DeleteRepository", http.MethodDelete, "/v1/repository", (*handler).deleteRepository},
		{"ListRepositories", http.MethodPost, "/v1/repositories", (*handler).listRepositories},
		{"ListRepositoriesInDomain", http.MethodPost, "/v1/domain/repositories", (*handler).listRepositoriesInDomain},
		{"AssociateExternalConnection", http.MethodPost, "/v1/repository/external-connection", (*handler).associateExternalConnection},
		{"DisassociateExternalConnection", http.MethodDelete, "/v1/repository/external-connection", (*handler).disassociateExternalConnection},
		{"GetRepositoryEndpoint", http.MethodGet, "/v1/repository/endpoint", (*handler).getRepositoryEndpoint},
		{"PutRepositoryPermissionsPolicy", http.MethodPut, "/v1/repository/permissions/policy", (*handler).putRepositoryPolicy},
		{"GetRepositoryPermissionsPolicy", http.MethodGet, "/v1/repository/permissions/policy", (*handler).getRepositoryPolicy},
		// The model really spells Delete's path in the plural.
		{"DeleteRepositoryPermissionsPolicy", http.MethodDelete, "/v1/repository/permissions/policies", (*handler).deleteRepositoryPolicy},

		// authorization tokens (tokens.go)
		{"GetAuthorizationToken", http.MethodPost, "/v1/authorization-token", (*handler).getAuthorizationToken},

		// packages (packages.go)
		{"ListPackages", http.MethodPost, "/v1/packages", (*handler).listPackages},
		{"DescribePackage", http.MethodGet, "/v1/package", (*handler).describePackage},
		{"DeletePackage", http.MethodDelete, "/v1/package", (*handler).deletePackage},
		{"PutPackageOriginConfiguration", http.MethodPost, "/v1/package", (*handler).putPackageOriginConfiguration},

		// package versions and assets (versions.go, assets.go)
		{"ListPackageVersions", http.MethodPost, "/v1/package/versions", (*handler).listPackageVersions},
		{"DescribePackageVersion", http.MethodGet, "/v1/package/version", (*handler).describePackageVersion},
		{"GetPackageVersionReadme", http.MethodGet, "/v1/package/version/readme", (*handler).getPackageVersionReadme},
		{"ListPackageVersionDependencies", http.MethodPost, "/v1/package/version/dependencies", (*handler).listPackageVersionDependencies},
		{"UpdatePackageVersionsStatus", http.MethodPost, "/v1/package/versions/update_status", (*handler).updatePackageVersionsStatus},
		{"CopyPackageVersions", http.MethodPost, "/v1/package/versions/copy", (*handler).copyPackageVersions},
		{"DeletePackageVersions", http.MethodPost, "/v1/package/versions/delete", (*handler).deletePackageVersions},
		{"DisposePackageVersions", http.MethodPost, "/v1/package/versions/dispose", (*handler).disposePackageVersions},
		{"ListPackageVersionAssets", http.MethodPost, "/v1/package/version/assets", (*handler).listPackageVersionAssets},
		{"GetPackageVersionAsset", http.MethodGet, "/v1/package/version/asset", (*handler).getPackageVersionAsset},
		{"PublishPackageVersion", http.MethodPost, "/v1/package/version/publish", (*handler).publishPackageVersion},

		// package groups (groups.go: not supported yet)
		{"CreatePackageGroup", http.MethodPost, "/v1/package-group", (*handler).createPackageGroup},
		{"DescribePackageGroup", http.MethodGet, "/v1/package-group", (*handler).describePackageGroup},
		{"UpdatePackageGroup", http.MethodPut, "/v1/package-group", (*handler).updatePackageGroup},
		{"DeletePackageGroup", http.MethodDelete, "/v1/package-group", (*handler).deletePackageGroup},
		{"UpdatePackageGroupOriginConfiguration", http.MethodPut, "/v1/package-group-origin-configuration", (*handler).updatePackageGroupOriginConfiguration},
		{"ListPackageGroups", http.MethodPost, "/v1/package-groups", (*handler).listPackageGroups},
		{"ListSubPackageGroups", http.MethodPost, "/v1/package-groups/sub-groups", (*handler).listSubPackageGroups},
		{"ListAssociatedPackages", http.MethodGet, "/v1/list-associated-packages", (*handler).listAssociatedPackages},
		{"ListAllowedRepositoriesForGroup", http.MethodGet, "/v1/package-group-allowed-repositories", (*handler).listAllowedRepositoriesForGroup},
		{"GetAssociatedPackageGroup", http.MethodGet, "/v1/get-associated-package-group", (*handler).getAssociatedPackageGroup},

		// tags (tags.go)
		{"TagResource", http.MethodPost, "/v1/tag", (*handler).tagResource},
		{"UntagResource", http.MethodPost, "/v1/untag", (*handler).untagResource},
		{"ListTagsForResource", http.MethodPost, "/v1/tags", (*handler).listTagsForResource},
	}
}

// newMux registers every route, a 405 answer for other verbs on each known
// path (a pattern with a method beats the same path without one) and a 404
// answer for everything else, all rendered as JSON errors.
func (h *handler) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range routes() {
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if err := rt.serve(h, w, r); err != nil {
				h.writeError(w, r, rt.op, err)
			}
		})
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	for path, methods := range allowed {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead) // ServeMux routes HEAD to GET patterns
		}
		slices.Sort(methods)
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeAPIError(w, r, http.StatusMethodNotAllowed, errorBody{
				Type:    typeUnknownOperation,
				Message: fmt.Sprintf("Method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow),
			})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, http.StatusNotFound, errorBody{
			Type:    typeUnknownOperation,
			Message: fmt.Sprintf("No CodeArtifact operation matches %s %s", r.Method, r.URL.Path),
		})
	})
	return mux
}

// ServeHTTP assigns the request id, refuses requests without a principal and
// turns a panic into an InternalServerException.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID(w, r)
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec == http.ErrAbortHandler {
			panic(rec)
		}
		h.log.Error("controlplane: panic", "request_id", w.Header().Get(headerRequestID),
			"method", r.Method, "path", r.URL.Path, "panic", rec, "stack", string(debug.Stack()))
		if sw.wrote {
			panic(http.ErrAbortHandler) // the response has begun: cut the connection
		}
		h.writeError(sw, r, "", fault.Internal(fmt.Errorf("panic: %v", rec), "panic"))
	}()
	if auth.PrincipalFrom(r.Context()) == nil {
		h.writeError(sw, r, "", fault.AccessDenied("The request carries no authenticated principal"))
		return
	}
	h.mux.ServeHTTP(sw, r)
}

// authorize checks codeartifact:<op> on resource.
func (h *handler) authorize(r *http.Request, op, resource string) error {
	return h.authz.Authorize(r.Context(), "codeartifact:"+op, resource)
}

// denyAll is the fail-closed Authorizer used when New gets none.
type denyAll struct{}

func (denyAll) Authorize(_ context.Context, action, _ string) error {
	return fault.AccessDenied("No authorizer is configured; %s is not allowed", action)
}

// statusWriter records whether the response has begun, so that a panic after
// that point aborts the connection instead of appending an error body. It
// passes ReadFrom through so that http.ServeContent keeps using sendfile.
type statusWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	w.wrote = true
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush forwards to the underlying writer when it can flush.
func (w *statusWriter) Flush() {
	w.wrote = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// owner is the domain owner an ARN names: the given one, or this installation's account.
func (h *handler) owner(o string) string {
	if o == "" {
		return h.svc.AccountID()
	}
	return o
}

func (h *handler) domainARN(d artifact.DomainRef) string {
	return h.svc.DomainARN(h.owner(d.Owner), d.Name)
}

func (h *handler) repoARN(d artifact.DomainRef, repository string) string {
	return h.svc.RepositoryARN(h.owner(d.Owner), d.Name, repository)
}

// packageARN names the package as the service stores it: ARNs carry
// normalised names (PEP 503 for PyPI, lower case for NuGet and Swift).
func (h *handler) packageARN(p artifact.PackageRef) string {
	ns, name := artifact.Normalize(p.Format, p.Namespace, p.Package)
	return h.svc.PackageARN(h.owner(p.Owner), p.Name, p.Repository, p.Format, ns, name)
}
