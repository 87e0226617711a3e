// Package format holds what every native package-format protocol shares: the
// repository a data-plane request targets. Each format lives in its own
// sub-package (format/npm, format/maven, ...) that parses its protocol and
// calls the artifact service; none of them touches storage.
package format

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
)

// Target is the repository a data-plane request addresses, parsed from
// /<format>/d/<domain>-<owner>/<repository>/<path>.
type Target struct {
	Format      string
	Domain      string
	DomainOwner string
	Repository  string
	// Path is what follows the repository endpoint, without a leading slash.
	Path string
	// Principal is the caller the authorization token belongs to.
	Principal *auth.Principal
	// Refused, when set, is what the data plane refuses the request with
	// before the protocol reads it (a rate limit); the format only
	// renders it in its own shape.
	Refused error
}

// Repo is the repository the request addresses.
func (t *Target) Repo() artifact.RepoRef { return t.RepoIn(t.Repository) }

// RepoIn is another repository of the target's domain (an upstream).
func (t *Target) RepoIn(repository string) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: t.DomainOwner, Name: t.Domain}, Repository: repository}
}

// EndpointBase is the repository endpoint as the client reached it, ending
// in "/": the request's origin and the path before t.Path. Documents link
// to it so that their links work through whatever name or proxy the client
// used.
func (t *Target) EndpointBase(r *http.Request) string {
	prefix := strings.TrimSuffix(r.URL.Path, t.Path)
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Origin(r) + (&url.URL{Path: prefix}).EscapedPath()
}

// Origin is the scheme and host the client reached: TLS, or the first
// X-Forwarded-Proto a proxy set, decides the scheme.
func Origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if p := strings.TrimSpace(first); strings.EqualFold(p, "http") || strings.EqualFold(p, "https") {
		scheme = strings.ToLower(p)
	}
	return scheme + "://" + r.Host
}

type targetKey struct{}

// WithTarget returns ctx carrying t.
func WithTarget(ctx context.Context, t *Target) context.Context {
	return context.WithValue(ctx, targetKey{}, t)
}

// TargetFrom returns the target in ctx, or nil.
func TargetFrom(ctx context.Context) *Target {
	t, _ := ctx.Value(targetKey{}).(*Target)
	return t
}
