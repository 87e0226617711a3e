package migrate

import (
	"errors"
	"fmt"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// iam copies the IAM entities with their unique ids and ARNs as they are.
// Managed policies come first: attaching one needs it to exist.
func (c *copier) iam() error {
	if err := page(c, func(p store.Page) ([]store.ManagedPolicy, error) { return c.src.ListPolicies("", p) }, policyKey, c.policy); err != nil {
		return err
	}
	if err := page(c, func(p store.Page) ([]store.IAMUser, error) { return c.src.ListUsers("", p) }, userKey, c.user); err != nil {
		return err
	}
	if err := page(c, func(p store.Page) ([]store.IAMGroup, error) { return c.src.ListGroups("", p) }, iamGroupKey, c.group); err != nil {
		return err
	}
	return page(c, func(p store.Page) ([]store.IAMRole, error) { return c.src.ListRoles("", p) }, roleKey, c.role)
}

// policy copies a managed policy with every version in creation order.
func (c *copier) policy(p *store.ManagedPolicy) error {
	versions, err := c.src.ListPolicyVersions(p.ARN)
	if err != nil {
		return fmt.Errorf("policy %s: %w", p.ARN, err)
	}
	var first *store.PolicyVersion
	if len(versions) > 0 {
		first = &versions[0]
	}
	if err := c.dst.CreatePolicy(p, first); err != nil {
		return fmt.Errorf("policy %s: %w", p.ARN, err)
	}
	for i := 1; i < len(versions); i++ {
		if err := c.dst.CreatePolicyVersion(&versions[i]); err != nil {
			return fmt.Errorf("policy %s version %s: %w", p.ARN, versions[i].VersionID, err)
		}
	}
	// The default version and update time as they were, whatever the
	// driver assumed at creation (v1 and the creation time).
	if err := c.dst.UpdatePolicy(p); err != nil {
		return fmt.Errorf("policy %s: %w", p.ARN, err)
	}
	c.counts.Policies++
	c.counts.PolicyVersions += int64(len(versions))
	return nil
}

func (c *copier) user(u *store.IAMUser) error {
	if err := c.dst.CreateUser(u); err != nil {
		return fmt.Errorf("IAM user %s: %w", u.Name, err)
	}
	c.counts.Users++
	return c.principalPolicies(u.ARN)
}

// group copies a group with its members (users are copied already).
func (c *copier) group(g *store.IAMGroup) error {
	if err := c.dst.CreateGroup(g); err != nil {
		return fmt.Errorf("IAM group %s: %w", g.Name, err)
	}
	members, err := c.src.ListGroupMembers(g.Name)
	if err != nil {
		return fmt.Errorf("IAM group %s: %w", g.Name, err)
	}
	for _, u := range members {
		if err := c.dst.AddUserToGroup(g.Name, u.Name); err != nil {
			return fmt.Errorf("IAM group %s: member %s: %w", g.Name, u.Name, err)
		}
		c.counts.Memberships++
	}
	c.counts.Groups++
	return c.principalPolicies(g.ARN)
}

func (c *copier) role(r *store.IAMRole) error {
	if err := c.dst.CreateRole(r); err != nil {
		return fmt.Errorf("IAM role %s: %w", r.Name, err)
	}
	c.counts.Roles++
	return c.principalPolicies(r.ARN)
}

// principalPolicies copies the managed policies attached to a user, group or
// role and its inline policies. Both are keyed by the principal's ARN, which
// is the same in the target.
func (c *copier) principalPolicies(arn string) error {
	attached, err := c.src.ListAttachedPolicies(arn)
	if err != nil {
		return fmt.Errorf("policies attached to %s: %w", arn, err)
	}
	for _, p := range attached {
		if err := c.dst.AttachPolicy(arn, p.ARN); err != nil {
			return fmt.Errorf("attach %s to %s: %w", p.ARN, arn, err)
		}
		c.counts.Attachments++
	}
	inline, err := c.src.ListInlinePolicies(arn)
	if err != nil {
		return fmt.Errorf("inline policies of %s: %w", arn, err)
	}
	for i := range inline {
		p := &inline[i]
		// PutInlinePolicy is an upsert: refuse to overwrite what a forced
		// target already holds.
		if _, err := c.dst.GetInlinePolicy(arn, p.Name); err == nil {
			return fault.Conflict("inline-policy", p.Name, "inline policy %s of %s: the target already holds one", p.Name, arn)
		} else if !errors.Is(err, fault.ErrNotFound) {
			return fmt.Errorf("inline policy %s of %s: %w", p.Name, arn, err)
		}
		if err := c.dst.PutInlinePolicy(p); err != nil {
			return fmt.Errorf("inline policy %s of %s: %w", p.Name, arn, err)
		}
		c.counts.InlinePolicies++
	}
	return nil
}
