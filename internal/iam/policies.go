package iam

import (
	"fmt"
	"strconv"
	"strings"

	"coffer/internal/auth/policy"
	"coffer/internal/store"
)

// maxPolicyVersions is IAM's quota of versions per managed policy.
const maxPolicyVersions = 5

// checkDocument validates a policy document: too large is LimitExceeded
// (IAM's quota error), invalid is MalformedPolicyDocument.
func (id *Identity) checkDocument(doc string, kind policy.Kind, max int, quota string) error {
	if policySize(doc) > max {
		return limitExceeded("Cannot exceed quota for %s: %d", quota, max)
	}
	if _, err := id.parsed.parse(doc, kind); err != nil {
		return malformedPolicy(err)
	}
	return nil
}

// policySize counts characters as IAM's size quotas do: whitespace outside
// strings is free.
func policySize(doc string) int {
	n, inString, escaped := 0, false, false
	for _, r := range doc {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		default:
			n++
			inString = r == '"'
		}
	}
	return n
}

func xmlPolicyOf(p *store.ManagedPolicy, attachments int, withDescription bool) xmlPolicy {
	x := xmlPolicy{PolicyName: p.Name, PolicyID: p.PolicyID, ARN: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: attachments, IsAttachable: true, CreateDate: isoTime(p.CreatedTime), UpdateDate: isoTime(p.UpdateTime)}
	if withDescription {
		x.Description = p.Description
	}
	return x
}

type policyResult struct {
	Policy xmlPolicy `xml:"Policy"`
}

func (c *call) createPolicy() (any, error) {
	name, err := c.required(pPolicyName)
	if err != nil {
		return nil, err
	}
	path, err := c.path()
	if err != nil {
		return nil, err
	}
	desc, err := c.str(pDescription)
	if err != nil {
		return nil, err
	}
	doc, err := c.required(pPolicyDocument)
	if err != nil {
		return nil, err
	}
	if err := c.id.checkDocument(doc, policy.KindIdentity, policy.MaxManagedPolicySize, "PolicySize"); err != nil {
		return nil, err
	}
	now := c.id.now()
	p := &store.ManagedPolicy{PolicyID: newID("ANPA"), Name: name, Path: path, ARN: c.id.entityARN("policy", path, name),
		Description: desc, DefaultVersionID: "v1", CreatedTime: now, UpdateTime: now}
	if err := c.authorize(p.ARN); err != nil {
		return nil, err
	}
	err = c.write(func(tx store.Tx) error {
		return tx.CreatePolicy(p, &store.PolicyVersion{PolicyARN: p.ARN, VersionID: "v1", Document: doc, CreatedTime: now})
	})
	if err != nil {
		return nil, conflict(err, func() error {
			return alreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
		})
	}
	return policyResult{xmlPolicyOf(p, 0, true)}, nil
}

// policyTarget reads the PolicyArn parameter and authorizes the call on it.
func (c *call) policyTarget() (string, error) {
	arn, err := c.required(pPolicyARN)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") < 5 {
		return "", invalidInput("ARN %s is not valid.", arn)
	}
	return arn, c.authorize(arn)
}

func policyMissing(arn string) error { return noSuchEntity("Policy %s was not found.", arn) }

func versionMissing(arn, v string) error {
	return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, v)
}

func (c *call) getPolicy() (any, error) {
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	var p *store.ManagedPolicy
	var n int
	err = c.read(func(tx store.Tx) error {
		if p, err = tx.GetPolicy(arn); err != nil {
			return err
		}
		n, err = tx.PolicyAttachmentCount(arn)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return policyMissing(arn) })
	}
	return policyResult{xmlPolicyOf(p, n, true)}, nil
}

type policyVersionResult struct {
	PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
}

func (c *call) getPolicyVersion() (any, error) {
	vid, err := c.required(pVersionID)
	if err != nil {
		return nil, err
	}
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	var p *store.ManagedPolicy
	var v *store.PolicyVersion
	err = c.read(func(tx store.Tx) error {
		if p, err = tx.GetPolicy(arn); err != nil {
			return err
		}
		v, err = tx.GetPolicyVersion(arn, vid)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return versionMissing(arn, vid) })
	}
	return policyVersionResult{xmlPolicyVersion{Document: encodeDocument(v.Document), VersionID: v.VersionID,
		IsDefaultVersion: v.VersionID == p.DefaultVersionID, CreateDate: isoTime(v.CreatedTime)}}, nil
}

type listPoliciesResult struct {
	Policies list[xmlPolicy] `xml:"Policies"`
	paged
}

// listPolicies lists the account's managed policies: Scope All and Local
// both mean ours; AWS (AWS-managed policies) is empty here.
func (c *call) listPolicies() (any, error) {
	scope := c.form.Get("Scope")
	switch scope {
	case "", "All", "Local", "AWS":
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	onlyAttached, err := c.boolParam("OnlyAttached")
	if err != nil {
		return nil, err
	}
	prefix, err := c.pathPrefix()
	if err != nil {
		return nil, err
	}
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.id.entityARN("policy", prefix, "")); err != nil {
		return nil, err
	}
	res := listPoliciesResult{}
	if scope == "AWS" {
		return res, nil
	}
	err = c.read(func(tx store.Tx) error {
		// OnlyAttached filters after reading, so it reads everything and
		// pages in memory; otherwise the store pages.
		sp := pr.storePage()
		if onlyAttached {
			sp = store.Page{}
		}
		ps, err := tx.ListPolicies(prefix, sp)
		if err != nil {
			return err
		}
		type counted struct {
			p store.ManagedPolicy
			n int
		}
		var all []counted
		for _, p := range ps {
			n, err := tx.PolicyAttachmentCount(p.ARN)
			if err != nil {
				return err
			}
			if !onlyAttached || n > 0 {
				all = append(all, counted{p, n})
			}
		}
		key := func(x *counted) string { return x.p.Name }
		var page []counted
		if onlyAttached {
			page, res.paged = pageOf(all, pr, key)
		} else {
			page, res.paged = cut(all, pr, key)
		}
		for _, x := range page {
			res.Policies.Member = append(res.Policies.Member, xmlPolicyOf(&x.p, x.n, false))
		}
		return nil
	})
	return res, err
}

type listPolicyVersionsResult struct {
	Versions list[xmlPolicyVersion] `xml:"Versions"`
	paged
}

func (c *call) listPolicyVersions() (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	var p *store.ManagedPolicy
	var vs []store.PolicyVersion
	err = c.read(func(tx store.Tx) error {
		if p, err = tx.GetPolicy(arn); err != nil {
			return err
		}
		vs, err = tx.ListPolicyVersions(arn)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return policyMissing(arn) })
	}
	vs, pg := pageOf(vs, pr, func(v *store.PolicyVersion) string { return fmt.Sprintf("%012d", versionNumber(v.VersionID)) })
	res := listPolicyVersionsResult{paged: pg}
	for _, v := range vs {
		res.Versions.Member = append(res.Versions.Member, xmlPolicyVersion{VersionID: v.VersionID,
			IsDefaultVersion: v.VersionID == p.DefaultVersionID, CreateDate: isoTime(v.CreatedTime)})
	}
	return res, nil
}

// versionNumber is n of "vn" (0 if unreadable).
func versionNumber(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(v, "v"))
	return n
}

// createPolicyVersion adds a version numbered one above the highest stored.
func (c *call) createPolicyVersion() (any, error) {
	doc, err := c.required(pPolicyDocument)
	if err != nil {
		return nil, err
	}
	setDefault, err := c.boolParam("SetAsDefault")
	if err != nil {
		return nil, err
	}
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	if err := c.id.checkDocument(doc, policy.KindIdentity, policy.MaxManagedPolicySize, "PolicySize"); err != nil {
		return nil, err
	}
	now := c.id.now()
	v := &store.PolicyVersion{PolicyARN: arn, Document: doc, CreatedTime: now}
	err = c.write(func(tx store.Tx) error {
		p, err := tx.GetPolicy(arn)
		if err != nil {
			return err
		}
		vs, err := tx.ListPolicyVersions(arn)
		if err != nil {
			return err
		}
		if len(vs) >= maxPolicyVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		last := 0
		for _, x := range vs {
			last = max(last, versionNumber(x.VersionID))
		}
		v.VersionID = "v" + strconv.Itoa(last+1)
		if err := tx.CreatePolicyVersion(v); err != nil {
			return err
		}
		if !setDefault {
			return nil
		}
		p.DefaultVersionID, p.UpdateTime = v.VersionID, now
		return tx.UpdatePolicy(p)
	})
	if err != nil {
		return nil, notFound(err, func() error { return policyMissing(arn) })
	}
	return policyVersionResult{xmlPolicyVersion{VersionID: v.VersionID, IsDefaultVersion: setDefault, CreateDate: isoTime(now)}}, nil
}

func (c *call) setDefaultPolicyVersion() (any, error) {
	vid, err := c.required(pVersionID)
	if err != nil {
		return nil, err
	}
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		p, err := tx.GetPolicy(arn)
		if err != nil {
			return notFound(err, func() error { return policyMissing(arn) })
		}
		if _, err := tx.GetPolicyVersion(arn, vid); err != nil {
			return notFound(err, func() error { return versionMissing(arn, vid) })
		}
		p.DefaultVersionID, p.UpdateTime = vid, c.id.now()
		return tx.UpdatePolicy(p)
	})
}

func (c *call) deletePolicyVersion() (any, error) {
	vid, err := c.required(pVersionID)
	if err != nil {
		return nil, err
	}
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		p, err := tx.GetPolicy(arn)
		if err != nil {
			return notFound(err, func() error { return policyMissing(arn) })
		}
		if strings.EqualFold(p.DefaultVersionID, vid) {
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		err = tx.DeletePolicyVersion(arn, vid)
		return notFound(err, func() error { return versionMissing(arn, vid) })
	})
}

// deletePolicy refuses while the policy is attached; its versions go with it.
func (c *call) deletePolicy() (any, error) {
	arn, err := c.policyTarget()
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if _, err := tx.GetPolicy(arn); err != nil {
			return notFound(err, func() error { return policyMissing(arn) })
		}
		n, err := tx.PolicyAttachmentCount(arn)
		if err != nil {
			return err
		}
		if n > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		return tx.DeletePolicy(arn)
	})
}
