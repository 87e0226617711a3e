// Package format holds what every native package-format protocol shares: the
// repository a data-plane request targets. Each format lives in its own
// sub-package (format/npm, format/maven, ...) that parses its protocol and
// calls the artifact service; none of them touches storage.
package format

import (
	"context"

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
