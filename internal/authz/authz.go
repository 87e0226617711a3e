// Package authz decides every authorization question of coffer in one place:
// the CodeArtifact control plane, the data plane and the console ask
// Authorize(ctx, action, resource). The decision follows AWS's evaluation
// logic (package auth/policy): an explicit Deny anywhere wins; otherwise an
// Allow in the principal's identity policies or in the resource's
// permissions policy (domain policy for domain resources, repository policy
// for repository and package resources) allows; otherwise the request is
// implicitly denied. The account root is always allowed. What a decision
// reads (policies, attachments, resource tags) is remembered only until the
// store commits its next write, so a detached policy or a changed resource
// policy takes effect on the next request, tokens included.
package authz

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/fault"
	"coffer/internal/gencache"
	"coffer/internal/store"
)

// IdentityPolicies returns the identity policies that apply to a principal.
type IdentityPolicies func(ctx context.Context, p *auth.Principal) ([]policy.Labeled, error)

// Authorizer evaluates policies for the control and data planes.
type Authorizer struct {
	svc      *artifact.Service
	identity IdentityPolicies
	audit    *audit.Log
	now      func() time.Time
	// resources remembers each resource's tags and policy until the
	// store's next write.
	resources *gencache.Cache[string, resourceContext]
}

// New returns an Authorizer.
func New(svc *artifact.Service, identity IdentityPolicies, log *audit.Log) *Authorizer {
	return &Authorizer{svc: svc, identity: identity, audit: log, now: time.Now, resources: gencache.New[string, resourceContext](4096)}
}

// *Authorizer is the auth.Authorizer every surface asks.
var _ auth.Authorizer = (*Authorizer)(nil)

// Authorize allows or refuses the principal in ctx the action on resource.
func (a *Authorizer) Authorize(ctx context.Context, action, resource string) error {
	p := auth.PrincipalFrom(ctx)
	ri := auth.RequestInfoFrom(ctx)
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: action, Resource: resource}
	if p == nil {
		ev.Decision, ev.Reason = "deny", "no authenticated principal"
		a.audit.Record(ev)
		return fault.AccessDenied("Access denied: the request carries no credentials")
	}
	ev.Principal = p.ARN
	if p.IsRoot() && p.Account == a.svc.AccountID() {
		if mutating(action) {
			ev.Decision, ev.Reason = "allow", "account root"
			a.audit.Record(ev)
		}
		return nil
	}
	d, err := a.decide(ctx, p, ri, action, resource)
	if err != nil {
		return err
	}
	if d.Allowed {
		if mutating(action) {
			ev.Decision, ev.Reason = "allow", reason(d)
			a.audit.Record(ev)
		}
		return nil
	}
	ev.Decision, ev.Reason = "deny", reason(d)
	a.audit.Record(ev)
	why := "no identity-based policy allows the " + action + " action"
	if d.ExplicitDeny {
		why = "of an explicit deny in " + reason(d)
	}
	return fault.AccessDenied("User: %s is not authorized to perform: %s on resource: %s because %s", p.ARN, action, resource, why)
}

func reason(d policy.Decision) string {
	if d.Source == "" && d.Statement == "" {
		return "implicit deny"
	}
	return strings.TrimSpace(d.Source + " " + d.Statement)
}

// mutating reports whether an action changes something (or mints a
// credential), which the audit log records even when allowed.
func mutating(action string) bool {
	_, name, _ := strings.Cut(action, ":")
	if name == "GetAuthorizationToken" {
		return true
	}
	for _, read := range []string{"Describe", "Get", "List", "ReadFromRepository"} {
		if strings.HasPrefix(name, read) {
			return false
		}
	}
	return true
}

func (a *Authorizer) decide(ctx context.Context, p *auth.Principal, ri auth.RequestInfo, action, resource string) (policy.Decision, error) {
	identity, err := a.identity(ctx, p)
	if err != nil {
		return policy.Decision{}, err
	}
	req := &policy.Request{Action: action, Resource: resource,
		Principal: policy.PrincipalInfo{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}}
	now := a.now().UTC()
	req.Set("aws:PrincipalArn", p.ARN)
	req.Set("aws:PrincipalAccount", p.Account)
	req.Set("aws:PrincipalType", p.Type)
	req.Set("aws:userid", p.UserID)
	if p.Username != "" {
		req.Set("aws:username", p.Username)
	}
	req.Set("aws:CurrentTime", now.Format(time.RFC3339))
	req.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	req.Set("aws:SecureTransport", strconv.FormatBool(ri.Secure))
	if ri.SourceIP != "" {
		req.Set("aws:SourceIp", ri.SourceIP)
	}
	if action == auth.ActionGetServiceBearerToken {
		req.Set("sts:AWSServiceName", "codeartifact.amazonaws.com")
	}
	resourcePolicies, err := a.resourcePolicies(ctx, req, action, resource)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.Evaluate(req, identity, resourcePolicies, p.Account == a.svc.AccountID()), nil
}

// resourcePolicies loads the permissions policy that governs resource and
// adds the resource's tags to the request context. What it reads is
// remembered until the store's next write.
func (a *Authorizer) resourcePolicies(ctx context.Context, req *policy.Request, action, resource string) ([]policy.Labeled, error) {
	key := resource
	if strings.HasSuffix(action, "PermissionsPolicy") {
		key = action + "\x00" + resource
	}
	gen := a.svc.Generation()
	r, ok := a.resources.Get(key, gen)
	if !ok {
		var err error
		if r, err = a.loadResource(ctx, action, resource); err != nil {
			return nil, err
		}
		a.resources.Put(key, gen, r)
	}
	for _, t := range r.tags {
		req.Set("aws:ResourceTag/"+t.Key, t.Value)
	}
	return r.policies, nil
}

// resourceContext is what a decision needs of a resource.
type resourceContext struct {
	tags     []store.Tag
	policies []policy.Labeled // shared: never changed
}

func (a *Authorizer) loadResource(ctx context.Context, action, resource string) (resourceContext, error) {
	var out resourceContext
	parsed, ok := artifact.ParseResourceARN(resource)
	if !ok {
		return out, nil
	}
	kind := parsed.Type
	ref := artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: parsed.Account, Name: parsed.Domain}, Repository: parsed.Repository}
	tagARN := a.svc.DomainARN(ref.Owner, ref.Name)
	switch kind {
	case "package-group":
		// Groups carry their own tags and are governed by the domain policy.
		tagARN, kind = resource, "domain"
	case "repository", "package":
		tagARN = a.svc.RepositoryARN(ref.Owner, ref.Name, ref.Repository)
	}
	tags, err := a.svc.ResourceTags(ctx, tagARN)
	if err != nil {
		return out, err
	}
	out.tags = tags
	var rp *artifact.ResourcePolicy
	label := "domain-policy"
	switch {
	case kind == "domain" && action != "codeartifact:PutDomainPermissionsPolicy":
		rp, err = a.svc.GetDomainPolicy(ctx, ref.DomainRef)
	case kind != "domain" && action != "codeartifact:PutRepositoryPermissionsPolicy":
		label = "repository-policy"
		rp, err = a.svc.GetRepositoryPolicy(ctx, ref)
	default:
		// The policy being replaced does not take part in its own
		// replacement, so an owner cannot lock themselves out.
		return out, nil
	}
	if errors.Is(err, fault.ErrNotFound) {
		return out, nil
	} else if err != nil {
		return out, err
	}
	doc, err := policy.ParseWith(rp.Document, policy.ParseOptions{Kind: policy.KindResource})
	if err != nil {
		return out, fault.Internal(err, "stored %s of %s does not parse", label, resource)
	}
	out.policies = []policy.Labeled{{Label: label, Policy: doc}}
	return out, nil
}
