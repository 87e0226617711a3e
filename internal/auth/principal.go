// Package auth holds who is calling (Principal) and the shared pieces of
// authentication and authorization: SigV4 verification (auth/sigv4),
// authorization tokens (auth/token) and the policy language (auth/policy).
package auth

import (
	"context"
	"time"
)

// Principal types, as reported by aws:PrincipalType.
const (
	TypeAccount     = "Account"     // the account root
	TypeUser        = "User"        // an IAM user
	TypeAssumedRole = "AssumedRole" // a role session from sts:AssumeRole
)

// Principal is an authenticated caller.
type Principal struct {
	// ARN is the caller's ARN: arn:aws:iam::<acct>:root, arn:aws:iam::<acct>:user/<name>,
	// or arn:aws:sts::<acct>:assumed-role/<role>/<session>.
	ARN     string
	Account string
	Type    string
	// UserID is aws:userid (the account id for root, the user id for users,
	// "<role-id>:<session>" for role sessions).
	UserID string
	// Username is aws:username (users only).
	Username string
	// RoleARN is the assumed role's ARN (role sessions only).
	RoleARN string
	// AccessKeyID is the key the request was signed with ("" for token auth).
	AccessKeyID string
	// SessionExpiry is when temporary credentials expire (zero for long-term keys).
	SessionExpiry time.Time
	// SessionTags are the tags a role session was given (for web-identity
	// sessions, from the token's https://aws.amazon.com/tags claim). They
	// take precedence over the role's own tags in aws:PrincipalTag/<key>.
	SessionTags map[string]string
	// Federated is the identity provider ARN a web-identity session came
	// from ("" otherwise).
	Federated string
}

// IsRoot reports whether p is the account root.
func (p *Principal) IsRoot() bool { return p != nil && p.Type == TypeAccount }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// RequestInfo is what authorization conditions may ask about the request
// itself (aws:SourceIp, aws:SecureTransport).
type RequestInfo struct {
	RequestID string
	SourceIP  string
	Secure    bool
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// RequestInfoFrom returns the request info in ctx (zero outside a request).
func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return ri
}
