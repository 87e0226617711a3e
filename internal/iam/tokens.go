package iam

import (
	"context"
	"errors"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/auth/token"
	"coffer/internal/fault"
)

// DefaultTokenDuration is the lifetime of a token when the caller asks for
// none, and the lifetime used for duration 0 by callers without a session.
const DefaultTokenDuration = 12 * time.Hour

// Mint issues an authorization token for the principal in ctx, scoped to the
// domain. A zero duration means "until the caller's session expires"
// (DefaultTokenDuration for long-term keys).
func (id *Identity) Mint(ctx context.Context, domain *artifact.Domain, duration time.Duration) (string, time.Time, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return "", time.Time{}, fault.AccessDenied("no authenticated principal")
	}
	now := id.now()
	exp := now.Add(duration)
	if duration == 0 {
		exp = now.Add(DefaultTokenDuration)
		if !p.SessionExpiry.IsZero() {
			exp = p.SessionExpiry
		}
	}
	exp = exp.Truncate(time.Second)
	tok, err := id.tokens.Mint(token.Claims{DomainOwner: domain.Owner, Domain: domain.Name, PrincipalARN: p.ARN,
		AccessKeyID: p.AccessKeyID, IssuedAt: now, Expires: exp})
	return tok, exp, err
}

// TokenPrincipal verifies an authorization token presented on the data plane
// for the domain (owner, name) and returns its principal, rebuilt from the
// key that minted the token exactly as Lookup would. That key must still be
// active and its user or role must still exist, so deactivating or deleting
// either takes effect at once. As in CodeArtifact, a token minted by a role
// session with an explicit duration outlives the session (its key record is
// kept for a day after it expires, longer than any token lives).
func (id *Identity) TokenPrincipal(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
	now := id.now()
	c, err := id.tokens.Verify(tok, now)
	if err != nil {
		return nil, err
	}
	if c.DomainOwner != owner || c.Domain != domain {
		return nil, fault.Unauthenticated("InvalidToken", "the authorization token was issued for another domain")
	}
	_, p, err := id.activeKey(ctx, c.AccessKeyID)
	switch {
	case errors.Is(err, fault.ErrNotFound), err == nil && p.ARN != c.PrincipalARN:
		return nil, fault.Unauthenticated("InvalidToken", "the credentials that issued this authorization token are no longer valid")
	case err != nil:
		return nil, err
	}
	p.AccessKeyID = ""
	return p, nil
}
