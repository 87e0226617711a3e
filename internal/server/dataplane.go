package server

import (
	"context"
	"net"
	"net/http"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/quota"
)

// TokenAuth verifies a data-plane authorization token for a domain and
// returns its principal.
type TokenAuth func(ctx context.Context, token, owner, domain string) (*auth.Principal, error)

// DataPlaneOption configures DataPlane.
type DataPlaneOption func(*dataPlane)

type dataPlane struct {
	audit  *audit.Log
	limits *quota.Limits
}

// RateLimits applies l's data-plane rates (nil: none).
func RateLimits(l *quota.Limits) DataPlaneOption {
	return func(d *dataPlane) { d.limits = l }
}

// AuditAuthFailures writes every refused token to l (rate-limited per
// source, see audit.Log.RecordLimited).
func AuditAuthFailures(l *audit.Log) DataPlaneOption {
	return func(d *dataPlane) { d.audit = l }
}

// DataPlane routes /<format>/d/<domain>-<owner>/<repository>/<path> to the
// format's handler after authenticating the token. Formats without a handler
// answer 404: the generic format has no native protocol, only the API.
func DataPlane(formats map[string]http.Handler, tokens TokenAuth, opts ...DataPlaneOption) http.Handler {
	var d dataPlane
	for _, o := range opts {
		o(&d)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, ok := parseTarget(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := formats[t.Format]
		if h == nil {
			http.Error(w, "the "+t.Format+" format has no native protocol here; use the CodeArtifact API", http.StatusNotFound)
			return
		}
		tok := BearerToken(r)
		if tok == "" {
			if !d.refuseUnauthenticated(w, r, h, t) {
				refuse(w, r, h, t, errNoToken)
			}
			return
		}
		p, err := tokens(r.Context(), tok, t.DomainOwner, t.Domain)
		if err != nil {
			d.recordRefusal(r, tok, err)
			if !d.refuseUnauthenticated(w, r, h, t) {
				refuse(w, r, h, t, err)
			}
			return
		}
		t.Principal = p
		setPrincipal(r, p)
		if d.limits.DataPlaneLimited() {
			if ok, wait := d.limits.DataPlane(p.ARN, quota.RepoKey{Owner: t.DomainOwner, Domain: t.Domain, Repository: t.Repository}); !ok {
				t.Refused = throttled(w, r, t.Format, wait, "Rate exceeded")
			}
		}
		h.ServeHTTP(w, r.WithContext(format.WithTarget(auth.WithPrincipal(r.Context(), p), t)))
	})
}

// errNoToken is the refusal of a request without credentials: 401 with a
// Basic challenge, after which Maven, cargo and pip send their token.
var errNoToken = fault.Unauthenticated("", "authentication required")

// refuse answers the request with err in the format's own error shape
// (npm's JSON, Swift's problem details, ...) without routing it: the
// format renders Target.Refused. A token that cannot be checked because
// the store is down is the store's failure (503), not the client's (401).
func refuse(w http.ResponseWriter, r *http.Request, h http.Handler, t *format.Target, err error) {
	t.Refused = err
	h.ServeHTTP(w, r.WithContext(format.WithTarget(r.Context(), t)))
}

// refuseUnauthenticated answers, in the format's shape, a request without
// a valid token from a source over its rate, and reports whether it did.
func (d *dataPlane) refuseUnauthenticated(w http.ResponseWriter, r *http.Request, h http.Handler, t *format.Target) bool {
	if !d.limits.DataPlaneLimited() {
		return false
	}
	ok, wait := d.limits.Unauthenticated(auth.RequestInfoFrom(r.Context()).SourceIP)
	if ok {
		return false
	}
	refuse(w, r, h, t, throttled(w, r, t.Format, wait, "Rate exceeded for requests without a valid token"))
	return true
}

// maxAuditedPath bounds the path an audit record repeats.
const maxAuditedPath = 1024

// recordRefusal audits a refused token: source, method and path, and why,
// never the token. A request without credentials is no audit event: Maven
// and cargo send every first request that way and add the token after the
// challenge. The records are rate-limited per source, so a flood of bad
// tokens cannot fill the disk.
func (d *dataPlane) recordRefusal(r *http.Request, tok string, err error) {
	if d.audit == nil {
		return
	}
	ri := auth.RequestInfoFrom(r.Context())
	source := ri.SourceIP
	if source == "" {
		source = r.RemoteAddr
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			source = host
		}
	}
	reason := "the authorization token could not be verified"
	if f := fault.As(err); f.Kind == fault.KindUnauthenticated && !strings.Contains(f.Message, tok) {
		reason = f.Message
	}
	method, path := r.Method, r.URL.Path
	if len(method) > 16 {
		method = method[:16] + "..."
	}
	if len(path) > maxAuditedPath {
		path = strings.ToValidUTF8(path[:maxAuditedPath], "") + "..."
	}
	d.audit.RecordLimited(audit.Event{RequestID: ri.RequestID, SourceIP: source, Action: method + " " + path,
		Decision: "unauthenticated", Reason: reason})
}

// parseTarget splits /<format>/d/<domain>-<owner>/<repository>/<rest>. The
// domain may contain hyphens; the owner is what follows the last one.
func parseTarget(path string) (*format.Target, bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 5)
	if len(parts) < 4 || parts[1] != "d" {
		return nil, false
	}
	fmtName := parts[0]
	known := false
	for _, f := range artifact.Formats {
		known = known || f == fmtName
	}
	i := strings.LastIndexByte(parts[2], '-')
	if !known || i <= 0 || i == len(parts[2])-1 || parts[3] == "" {
		return nil, false
	}
	t := &format.Target{Format: fmtName, Domain: parts[2][:i], DomainOwner: parts[2][i+1:], Repository: parts[3]}
	if len(parts) == 5 {
		t.Path = parts[4]
	}
	return t, true
}
