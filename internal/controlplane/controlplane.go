// Package controlplane serves the AWS CodeArtifact REST-JSON API (the
// botocore model codeartifact/2018-09-22) as an http.Handler, so that
// `aws codeartifact --endpoint-url`, boto3 and the AWS SDKs work unchanged.
//
// It only translates: it parses and validates each operation's input exactly
// as the model defines it, asks the Authorizer, calls the artifact service and
// renders the model's output shape or error. Rules live in artifact.
//
// Authentication (SigV4) happens before this handler; it expects an
// auth.Principal in the request context.
package controlplane

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
)

// AllowAll is an auth.Authorizer that allows everything (root-only installations, tests).
type AllowAll struct{}

// Authorize allows every action.
func (AllowAll) Authorize(context.Context, string, string) error { return nil }

// TokenMinter issues data-plane authorization tokens.
type TokenMinter interface {
	// Mint issues an authorization token for the principal in ctx scoped to the domain. duration is already validated (0 means
	// "until the caller's session expires"; the minter resolves it).
	Mint(ctx context.Context, domain *artifact.Domain, duration time.Duration) (token string, expires time.Time, err error)
}

// Config holds what the control plane needs to know about the installation.
type Config struct {
	// PublicURL is the base URL clients reach, e.g. http://127.0.0.1:8080,
	// without a trailing slash. GetRepositoryEndpoint prefixes it.
	PublicURL string
}

// New returns the CodeArtifact API handler. svc is required. A nil authz
// refuses every request (fail closed); a nil tokens makes
// GetAuthorizationToken fail with an internal error; a nil log discards.
func New(cfg Config, svc *artifact.Service, authz auth.Authorizer, tokens TokenMinter, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if authz == nil {
		authz = denyAll{}
	}
	h := &handler{cfg: cfg, svc: svc, authz: authz, tokens: tokens, log: log}
	h.mux = h.newMux()
	return h
}

// handler is the control-plane http.Handler. It holds no per-request state.
type handler struct {
	cfg    Config
	svc    *artifact.Service
	authz  auth.Authorizer
	tokens TokenMinter
	log    *slog.Logger
	mux    *http.ServeMux
}
