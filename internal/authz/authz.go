// Package authz decides every authorization question of coffer in one place:
// the CodeArtifact control plane, the data plane and the console ask
// Authorize(ctx, action, resource). The decision follows AWS's evaluation
// logic (package auth/policy): an explicit Deny anywhere wins; otherwise an
// Allow in the principal's identity policies or in one of the resource's
// permissions policies allows; otherwise the request is implicitly denied.
// The domain policy takes part in every decision on the domain and on every
// resource in it, and a repository's policy in those on the repository and
// its packages, so a repository or package decision reads both. The account
// root needs no Allow, but an explicit Deny in a resource policy stops it
// too, as in AWS. What a decision reads (policies, attachments, resource
// and principal tags) is remembered only until the store commits its next
// write, so a detached policy or a changed resource policy takes effect on
// the next request, tokens included.
package authz

import (
	"context"
	"errors"
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

// Identities tells the authorizer what it needs to know of a principal.
type Identities interface {
	// IdentityPolicies returns the identity policies that apply to p.
	IdentityPolicies(ctx context.Context, p *auth.Principal) ([]policy.Labeled, error)
	// PrincipalTags returns the tags of p (aws:PrincipalTag/<key>).
	PrincipalTags(ctx context.Context, p *auth.Principal) (map[string]string, error)
}

// Authorizer evaluates policies for the control and data planes.
type Authorizer struct {
	svc      *artifact.Service
	identity Identities
	audit    *audit.Log
	now      func() time.Time
	// resources remembers each resource's tags and policies until the
	// store's next write.
	resources *gencache.Cache[string, resourceContext]
}

// New returns an Authorizer.
func New(svc *artifact.Service, identity Identities, log *audit.Log) *Authorizer {
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
	d, err := a.decide(ctx, p, action, resource)
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

func (a *Authorizer) decide(ctx context.Context, p *auth.Principal, action, resource string) (policy.Decision, error) {
	root := p.IsRoot() && p.Account == a.svc.AccountID()
	var identity []policy.Labeled
	var tags map[string]string
	if !root {
		var err error
		if identity, err = a.identity.IdentityPolicies(ctx, p); err != nil {
			return policy.Decision{}, err
		}
		if tags, err = a.identity.PrincipalTags(ctx, p); err != nil {
			return policy.Decision{}, err
		}
	}
	req := auth.PolicyRequest(ctx, p, tags, action, resource, a.now())
	if action == auth.ActionGetServiceBearerToken {
		req.Set("sts:AWSServiceName", "codeartifact.amazonaws.com")
	}
	resourcePolicies, err := a.resourcePolicies(ctx, req, action, resource)
	if err != nil {
		return policy.Decision{}, err
	}
	d := policy.Evaluate(req, identity, resourcePolicies, p.Account == a.svc.AccountID())
	if root && !d.ExplicitDeny {
		// The root needs no Allow; only an explicit Deny in a resource
		// policy stops it (the policy being replaced never takes part, so
		// the root can always lift a Deny).
		d = policy.Decision{Allowed: true, Source: "account root"}
	}
	return d, nil
}

// resourcePolicies loads the permissions policies that govern resource
// (its domain's, and for a repository or package its repository's) and
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
	policies []policy.Labeled // domain policy, then repository policy; shared: never changed
}

func (a *Authorizer) loadResource(ctx context.Context, action, resource string) (resourceContext, error) {
	var out resourceContext
	parsed, ok := artifact.ParseResourceARN(resource)
	if !ok {
		return out, nil
	}
	ref := artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: parsed.Account, Name: parsed.Domain}, Repository: parsed.Repository}
	tagARN := a.svc.DomainARN(ref.Owner, ref.Name)
	inRepository := false
	switch parsed.Type {
	case "package-group":
		tagARN = resource // groups carry their own tags
	case "repository", "package":
		tagARN, inRepository = a.svc.RepositoryARN(ref.Owner, ref.Name, ref.Repository), true
	}
	tags, err := a.svc.ResourceTags(ctx, tagARN)
	if err != nil {
		return out, err
	}
	out.tags = tags
	// The policy being replaced does not take part in its own replacement,
	// so an owner cannot lock themselves out; the other one still does.
	if action != "codeartifact:PutDomainPermissionsPolicy" {
		err := a.addPolicy(&out, "domain-policy", resource, func() (*artifact.ResourcePolicy, error) {
			return a.svc.GetDomainPolicy(ctx, ref.DomainRef)
		})
		if err != nil {
			return out, err
		}
	}
	if inRepository && action != "codeartifact:PutRepositoryPermissionsPolicy" {
		err := a.addPolicy(&out, "repository-policy", resource, func() (*artifact.ResourcePolicy, error) {
			return a.svc.GetRepositoryPolicy(ctx, ref)
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// addPolicy appends the policy get reads, if there is one, under label.
func (a *Authorizer) addPolicy(out *resourceContext, label, resource string, get func() (*artifact.ResourcePolicy, error)) error {
	rp, err := get()
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	doc, err := policy.ParseWith(rp.Document, policy.ParseOptions{Kind: policy.KindResource})
	if err != nil {
		return fault.Internal(err, "stored %s of %s does not parse", label, resource)
	}
	out.policies = append(out.policies, policy.Labeled{Label: label, Policy: doc})
	return nil
}
