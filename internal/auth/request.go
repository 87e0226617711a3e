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
// The principal's and the request's keys are made when a condition asks
// for them (globalKeys): most requests are decided without any.
func PolicyRequest(ctx context.Context, p *Principal, tags map[string]string, action, resource string, now time.Time) *policy.Request {
	g := &globalKeys{p: p, tags: tags, now: now.UTC(), info: RequestInfoFrom(ctx)}
	req := &policy.Request{Action: action, Resource: resource,
		Principal: policy.PrincipalInfo{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}, Keys: g.value}
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

// globalKeys are the condition keys of a principal and a request.
type globalKeys struct {
	p    *Principal
	tags map[string]string
	now  time.Time
	info RequestInfo
}

// value is policy.Request.Keys: the values of the lower-cased key, nil
// when the request does not have it.
func (g *globalKeys) value(key string) []string {
	switch key {
	case "aws:principalarn":
		return []string{g.p.PrincipalARN()}
	case "aws:principalaccount":
		return []string{g.p.Account}
	case "aws:principaltype":
		return []string{g.p.Type}
	case "aws:userid":
		return []string{g.p.UserID}
	case "aws:username":
		return nonEmpty(g.p.Username)
	case "aws:federatedprovider":
		// A web-identity session's provider, for its whole life; the
		// session itself is an assumed role, not a federated principal.
		return nonEmpty(g.p.Federated)
	case "aws:currenttime":
		return []string{g.now.Format(time.RFC3339)}
	case "aws:epochtime":
		return []string{strconv.FormatInt(g.now.Unix(), 10)}
	case "aws:securetransport":
		return []string{strconv.FormatBool(g.info.Secure)}
	case "aws:sourceip":
		return nonEmpty(g.info.SourceIP)
	}
	if name, ok := strings.CutPrefix(key, "aws:principaltag/"); ok {
		for k, v := range g.tags {
			if strings.EqualFold(k, name) {
				return []string{v}
			}
		}
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
