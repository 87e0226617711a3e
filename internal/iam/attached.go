package iam

import (
	"strings"

	"coffer/internal/auth/policy"
	"coffer/internal/store"
)

// Managed-policy attachments and inline policies of users, groups and roles.
// Each operation exists once per entity kind; the kind is bound when the
// action table is built.

// attachPolicy is authorized on the entity (with iam:PolicyARN set), as IAM
// does; the policy must exist.
func (c *call) attachPolicy(e *entity) (any, error) {
	pol, err := c.required(pPolicyARN)
	if err != nil {
		return nil, err
	}
	name, arn, err := c.target(e, "iam:PolicyARN", pol)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := e.exists(tx, name, arn); err != nil {
			return err
		}
		if _, err := tx.GetPolicy(pol); err != nil {
			return notFound(err, func() error { return noSuchEntity("Policy %s does not exist or is not attachable.", pol) })
		}
		attached, err := tx.ListAttachedPolicies(arn)
		if err != nil {
			return err
		}
		already := false
		for _, p := range attached {
			already = already || p.ARN == pol
		}
		if !already && len(attached) >= maxAttachedPolicies {
			return limitExceeded("Cannot exceed quota for %s: %d", e.quota, maxAttachedPolicies)
		}
		return tx.AttachPolicy(arn, pol)
	})
}

func (c *call) detachPolicy(e *entity) (any, error) {
	pol, err := c.required(pPolicyARN)
	if err != nil {
		return nil, err
	}
	name, arn, err := c.target(e, "iam:PolicyARN", pol)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := e.exists(tx, name, arn); err != nil {
			return err
		}
		err := tx.DetachPolicy(arn, pol)
		return notFound(err, func() error { return noSuchEntity("Policy %s was not found.", pol) })
	})
}

type listAttachedResult struct {
	AttachedPolicies list[xmlAttachedPolicy] `xml:"AttachedPolicies"`
	paged
}

func (c *call) listAttached(e *entity) (any, error) {
	prefix, err := c.pathPrefix()
	if err != nil {
		return nil, err
	}
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	_, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	var ps []store.ManagedPolicy
	err = c.read(func(tx store.Tx) error {
		ps, err = tx.ListAttachedPolicies(arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	var in []store.ManagedPolicy
	for _, p := range ps {
		if strings.HasPrefix(p.Path, prefix) {
			in = append(in, p)
		}
	}
	in, pg := pageOf(in, pr, func(p *store.ManagedPolicy) string { return p.Name })
	res := listAttachedResult{paged: pg}
	for _, p := range in {
		res.AttachedPolicies.Member = append(res.AttachedPolicies.Member, xmlAttachedPolicy{PolicyName: p.Name, PolicyARN: p.ARN})
	}
	return res, nil
}

// putInline adds or replaces an inline policy; the entity's inline policies
// together may not exceed its size quota.
func (c *call) putInline(e *entity) (any, error) {
	pname, err := c.required(pPolicyName)
	if err != nil {
		return nil, err
	}
	doc, err := c.required(pPolicyDocument)
	if err != nil {
		return nil, err
	}
	name, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	// The size quota is checked below, against all the entity's inline policies.
	if _, err := c.id.parsed.parse(doc, policy.KindIdentity); err != nil {
		return nil, malformedPolicy(err)
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := e.exists(tx, name, arn); err != nil {
			return err
		}
		others, err := tx.ListInlinePolicies(arn)
		if err != nil {
			return err
		}
		size := policySize(doc)
		for _, p := range others {
			if !strings.EqualFold(p.Name, pname) {
				size += policySize(p.Document)
			}
		}
		if size > e.inlineMax {
			return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", e.inlineMax, e.kind, name)
		}
		return tx.PutInlinePolicy(&store.InlinePolicy{OwnerARN: arn, Name: pname, Document: doc})
	})
}

// inlineResult is Get{User,Group,Role}Policy's result; only the owner's
// name element of its kind is present.
type inlineResult struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func inlineMissing(e *entity, pname string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", e.kind, pname)
}

func (c *call) getInline(e *entity) (any, error) {
	pname, err := c.required(pPolicyName)
	if err != nil {
		return nil, err
	}
	name, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	var p *store.InlinePolicy
	err = c.read(func(tx store.Tx) error {
		p, err = tx.GetInlinePolicy(arn, pname)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return inlineMissing(e, pname) })
	}
	res := inlineResult{PolicyName: p.Name, PolicyDocument: encodeDocument(p.Document)}
	switch e {
	case userEntity:
		res.UserName = name
	case groupEntity:
		res.GroupName = name
	default:
		res.RoleName = name
	}
	return res, nil
}

func (c *call) deleteInline(e *entity) (any, error) {
	pname, err := c.required(pPolicyName)
	if err != nil {
		return nil, err
	}
	_, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		err := tx.DeleteInlinePolicy(arn, pname)
		return notFound(err, func() error { return inlineMissing(e, pname) })
	})
}

type listInlineResult struct {
	PolicyNames list[string] `xml:"PolicyNames"`
	paged
}

func (c *call) listInline(e *entity) (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	_, arn, err := c.target(e)
	if err != nil {
		return nil, err
	}
	var ps []store.InlinePolicy
	err = c.read(func(tx store.Tx) error {
		ps, err = tx.ListInlinePolicies(arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	ps, pg := pageOf(ps, pr, func(p *store.InlinePolicy) string { return p.Name })
	res := listInlineResult{paged: pg}
	for _, p := range ps {
		res.PolicyNames.Member = append(res.PolicyNames.Member, p.Name)
	}
	return res, nil
}
