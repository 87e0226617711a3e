package iam

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"sync"

	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// IdentityPolicies returns the parsed identity policies that apply to p: for
// an IAM user its inline and attached managed policies (default versions) and
// those of every group it belongs to; for a role session those of the role;
// none for the root (the authorizer lets the root through before asking) or
// for principals of other accounts. Attachments are read again after any
// committed write, so a detach takes effect on the next request. The result
// is shared: callers must not change it.
func (id *Identity) IdentityPolicies(ctx context.Context, p *auth.Principal) ([]policy.Labeled, error) {
	if p == nil || p.Account != id.accountID {
		return nil, nil
	}
	key := p.Type + "\x00" + p.ARN + "\x00" + p.RoleARN + "\x00" + p.Username + "\x00" + p.UserID
	gen := id.meta.Generation()
	if out, ok := id.policies.Get(key, gen); ok {
		return out, nil
	}
	out, err := id.readIdentityPolicies(ctx, p)
	if err == nil {
		id.policies.Put(key, gen, out)
	}
	return out, err
}

func (id *Identity) readIdentityPolicies(ctx context.Context, p *auth.Principal) ([]policy.Labeled, error) {
	var out []policy.Labeled
	err := id.meta.Read(ctx, func(tx store.Tx) error {
		c := collector{id: id, tx: tx, seen: map[string]bool{}}
		switch p.Type {
		case auth.TypeUser:
			u, err := tx.GetUser(p.Username)
			if errors.Is(err, fault.ErrNotFound) || err == nil && u.ARN != p.ARN {
				return nil
			} else if err != nil {
				return err
			}
			c.add("user:"+u.Name, u.ARN)
			groups, err := tx.ListGroupsForUser(u.Name)
			if err != nil {
				return err
			}
			for _, g := range groups {
				c.add("group:"+g.Name, g.ARN)
			}
		case auth.TypeAssumedRole:
			_, name, ok := id.splitARN(p.RoleARN, "role")
			if !ok {
				return nil
			}
			r, err := tx.GetRole(name)
			if errors.Is(err, fault.ErrNotFound) || err == nil && r.ARN != p.RoleARN {
				return nil
			} else if err != nil {
				return err
			}
			c.add("role:"+r.Name, r.ARN)
		}
		out = c.out
		return c.err
	})
	return out, err
}

// collector gathers the policies of principals, each managed policy once.
type collector struct {
	id   *Identity
	tx   store.Tx
	seen map[string]bool
	out  []policy.Labeled
	err  error
}

func (c *collector) add(label, ownerARN string) {
	if c.err != nil {
		return
	}
	inline, err := c.tx.ListInlinePolicies(ownerARN)
	if err != nil {
		c.err = err
		return
	}
	for _, ip := range inline {
		c.push(label+"/inline:"+ip.Name, ip.Document)
	}
	attached, err := c.tx.ListAttachedPolicies(ownerARN)
	if err != nil {
		c.err = err
		return
	}
	for _, mp := range attached {
		if c.seen[mp.ARN] {
			continue
		}
		c.seen[mp.ARN] = true
		v, err := c.tx.GetPolicyVersion(mp.ARN, mp.DefaultVersionID)
		if err != nil {
			c.err = err
			return
		}
		c.push("policy:"+mp.ARN, v.Document)
	}
}

func (c *collector) push(label, doc string) {
	if c.err != nil {
		return
	}
	p, err := c.id.parsed.parse(doc, policy.KindIdentity)
	if err != nil {
		// A stored policy that no longer parses must not be skipped: its
		// Deny statements would silently stop applying.
		c.err = fault.Internal(err, "stored policy %s does not parse", label)
		return
	}
	c.out = append(c.out, policy.Labeled{Label: label, Policy: p})
}

// policyCache keeps parsed documents by content, so a changed document (a
// new default version, a replaced inline policy) is a new entry by itself.
type policyCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*policy.Policy
}

const maxCachedPolicies = 2048

func (pc *policyCache) parse(doc string, kind policy.Kind) (*policy.Policy, error) {
	key := sha256.Sum256([]byte(strconv.Itoa(int(kind)) + "\x00" + doc))
	pc.mu.Lock()
	p, ok := pc.m[key]
	pc.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := policy.ParseWith(doc, policy.ParseOptions{Kind: kind})
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.m == nil || len(pc.m) >= maxCachedPolicies {
		pc.m = make(map[[sha256.Size]byte]*policy.Policy) // dropping all is cheap: parses are fast
	}
	pc.m[key] = p
	return p, nil
}

// principalRequest is the authorization question for p, with the global
// condition keys AWS sets (auth.PolicyRequest) and p's aws:PrincipalTag/<key>.
func (id *Identity) principalRequest(ctx context.Context, p *auth.Principal, action, resource string) (*policy.Request, error) {
	tags, err := id.PrincipalTags(ctx, p)
	if err != nil {
		return nil, err
	}
	return auth.PolicyRequest(ctx, p, tags, action, resource, id.now()), nil
}

// authorize allows the caller the call's action on resource: the root
// always, anyone else by an Allow in their identity policies (IAM has no
// resource policies). kv are extra condition keys and values.
func (c *call) authorize(resource string, kv ...string) error {
	p := c.p
	if p.IsRoot() && p.Account == c.id.accountID {
		return nil
	}
	action := c.prefix + ":" + c.action
	identity, err := c.id.IdentityPolicies(c.ctx, p)
	if err != nil {
		return err
	}
	req, err := c.id.principalRequest(c.ctx, p, action, resource)
	if err != nil {
		return err
	}
	rtags, err := c.id.resourceTags(c.ctx, resource)
	if err != nil {
		return err
	}
	for _, t := range rtags {
		req.Set("aws:ResourceTag/"+t.Key, t.Value)
		req.Set("iam:ResourceTag/"+t.Key, t.Value)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Set(kv[i], kv[i+1])
	}
	d := policy.Evaluate(req, identity, nil, p.Account == c.id.accountID)
	if d.Allowed {
		return nil
	}
	why := "because no identity-based policy allows the " + action + " action"
	if d.ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	return accessDenied("User: %s is not authorized to perform: %s on resource: %s %s", p.ARN, action, resource, why)
}
