package server

import (
	"context"
	"net/http"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/format"
)

// TokenAuth verifies a data-plane authorization token for a domain and
// returns its principal.
type TokenAuth func(ctx context.Context, token, owner, domain string) (*auth.Principal, error)

// DataPlane routes /<format>/d/<domain>-<owner>/<repository>/<path> to the
// format's handler after authenticating the token. Formats without a handler
// answer 404: the generic format has no native protocol, only the API.
func DataPlane(formats map[string]http.Handler, tokens TokenAuth) http.Handler {
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
			Unauthorized(w, nil)
			return
		}
		p, err := tokens(r.Context(), tok, t.DomainOwner, t.Domain)
		if err != nil {
			Unauthorized(w, err)
			return
		}
		t.Principal = p
		setPrincipal(r, p)
		h.ServeHTTP(w, r.WithContext(format.WithTarget(auth.WithPrincipal(r.Context(), p), t)))
	})
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
