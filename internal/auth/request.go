package auth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"coffer/internal/auth/policy"
)

// RequestKeys are condition keys taken from an operation's own parameters.
// An operation puts them in the context it passes to the authorizer for the
// one check they belong to.
type RequestKeys struct {
	// Tags are the tags the request attaches (CreateDomain, CreateRepository,
	// CreatePackageGroup, TagResource, iam:TagUser, ...): aws:RequestTag/<key>,
	// their keys aws:TagKeys.
	Tags map[string]string
	// TagKeys are keys a request names without values (UntagResource,
	// iam:UntagUser): aws:TagKeys.
	TagKeys []string
	// DurationSeconds is sts:DurationSeconds of sts:GetServiceBearerToken,
	// the lifetime asked of a CodeArtifact token (-1: not set).
	DurationSeconds int64
}

type requestKeysKey struct{}

// RequestKeysFrom returns the request keys in ctx.
func RequestKeysFrom(ctx context.Context) RequestKeys {
	if rk, ok := ctx.Value(requestKeysKey{}).(RequestKeys); ok {
		return rk
	}
	return RequestKeys{DurationSeconds: -1}
}

// WithRequestTags returns ctx carrying the tags a request attaches.
func WithRequestTags(ctx context.Context, tags map[string]string) context.Context {
	rk := RequestKeysFrom(ctx)
	rk.Tags = tags
	return context.WithValue(ctx, requestKeysKey{}, rk)
}

// WithTagKeys returns ctx carrying the tag keys a request removes.
func WithTagKeys(ctx context.Context, keys []string) context.Context {
	rk := RequestKeysFrom(ctx)
	rk.TagKeys = keys
	return context.WithValue(ctx, requestKeysKey{}, rk)
}

// WithDurationSeconds returns ctx carrying sts:DurationSeconds.
func WithDurationSeconds(ctx context.Context, seconds int64) context.Context {
	rk := RequestKeysFrom(ctx)
	rk.DurationSeconds = seconds
	return context.WithValue(ctx, requestKeysKey{}, rk)
}

// PrincipalARN is aws:PrincipalArn: the role's ARN (with its path) for a
// role session, the caller's own ARN otherwise.
func (p *Principal) PrincipalARN() string {
	if p.Type == TypeAssumedRole && p.RoleARN != "" {
		return p.RoleARN
	}
	return p.ARN
}

// PolicyRequest is the authorization question "may p perform action on
// resource", with the global condition keys AWS sets for it: the
// principal's (aws:PrincipalTag/<key> from tags), the request's (time,
// source address, transport) and those the operation put in ctx
// (RequestKeys). The authorizer of every surface builds its requests here.
func PolicyRequest(ctx context.Context, p *Principal, tags map[string]string, action, resource string, now time.Time) *policy.Request {
	req := &policy.Request{Action: action, Resource: resource,
		Principal: policy.PrincipalInfo{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}}
	now = now.UTC()
	req.Set("aws:PrincipalArn", p.PrincipalARN())
	req.Set("aws:PrincipalAccount", p.Account)
	req.Set("aws:PrincipalType", p.Type)
	req.Set("aws:userid", p.UserID)
	if p.Username != "" {
		req.Set("aws:username", p.Username)
	}
	for k, v := range tags {
		req.Set("aws:PrincipalTag/"+k, v)
	}
	if p.Federated != "" {
		// A web-identity session's provider, for its whole life; the
		// session itself is an assumed role, not a federated principal.
		req.Set("aws:FederatedProvider", p.Federated)
	}
	req.Set("aws:CurrentTime", now.Format(time.RFC3339))
	req.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	ri := RequestInfoFrom(ctx)
	req.Set("aws:SecureTransport", strconv.FormatBool(ri.Secure))
	if ri.SourceIP != "" {
		req.Set("aws:SourceIp", ri.SourceIP)
	}
	rk := RequestKeysFrom(ctx)
	keys := rk.TagKeys
	if len(rk.Tags) > 0 {
		keys = make([]string, 0, len(rk.Tags))
		for k, v := range rk.Tags {
			// Condition key names are case-insensitive: tags whose keys
			// differ only in case are values of one key.
			ck := "aws:requesttag/" + strings.ToLower(k)
			req.Set(ck, append(req.Context[ck], v)...)
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		req.Set("aws:TagKeys", keys...)
	}
	if rk.DurationSeconds >= 0 {
		req.Set("sts:DurationSeconds", strconv.FormatInt(rk.DurationSeconds, 10))
	}
	return req
}
