package iam

import (
	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/store"
)

// Role session durations, in seconds.
const (
	minSessionDuration     = 900
	defaultSessionDuration = 3600
	maxSessionDuration     = 43200
	chainedSessionLimit    = 3600 // role chaining: a role session assuming a role
)

func xmlRoleOf(r *store.IAMRole) xmlRole {
	return xmlRole{Path: r.Path, RoleName: r.Name, RoleID: r.RoleID, ARN: r.ARN, CreateDate: isoTime(r.CreatedTime),
		AssumeRolePolicyDocument: encodeDocument(r.AssumeRolePolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
}

type roleResult struct {
	Role xmlRole `xml:"Role"`
}

// trustPolicy reads and validates a trust policy parameter.
func (c *call) trustPolicy(p param) (string, error) {
	doc, err := c.required(p)
	if err != nil {
		return "", err
	}
	return doc, c.id.checkDocument(doc, policy.KindTrust, policy.MaxTrustPolicySize, "ACLSizePerRole")
}

func (c *call) createRole() (any, error) {
	name, err := c.required(pRoleName)
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
	maxDur, err := c.intParam("MaxSessionDuration", defaultSessionDuration, maxSessionDuration, defaultSessionDuration)
	if err != nil {
		return nil, err
	}
	doc, err := c.trustPolicy(pTrustDocument)
	if err != nil {
		return nil, err
	}
	tags, err := c.tagList(false)
	if err != nil {
		return nil, err
	}
	r := &store.IAMRole{RoleID: newID("AROA"), Name: name, Path: path, ARN: c.id.entityARN("role", path, name),
		Description: desc, AssumeRolePolicy: doc, MaxSessionDuration: maxDur, CreatedTime: c.id.now()}
	if len(tags) > 0 {
		c.ctx = auth.WithRequestTags(c.ctx, tagMap(tags))
	}
	if err := c.authorize(r.ARN); err != nil {
		return nil, err
	}
	err = c.write(func(tx store.Tx) error {
		if err := tx.CreateRole(r); err != nil {
			return err
		}
		return putEntityTags(tx, r.ARN, tagQuota(roleEntity), tags)
	})
	if err != nil {
		return nil, conflict(err, func() error { return alreadyExists("Role with name %s already exists.", name) })
	}
	x := xmlRoleOf(r)
	x.Tags = xmlTags(tags)
	return roleResult{x}, nil
}

// role reads the role the request names, authorized.
func (c *call) role() (*store.IAMRole, error) {
	name, _, err := c.target(roleEntity)
	if err != nil {
		return nil, err
	}
	var r *store.IAMRole
	err = c.read(func(tx store.Tx) error {
		r, err = tx.GetRole(name)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return roleEntity.missing(name) })
	}
	return r, nil
}

func (c *call) getRole() (any, error) {
	r, err := c.role()
	if err != nil {
		return nil, err
	}
	var tags []store.Tag
	if err := c.read(func(tx store.Tx) error {
		tags, err = tx.ListTags(r.ARN)
		return err
	}); err != nil {
		return nil, err
	}
	x := xmlRoleOf(r)
	x.Tags = xmlTags(tags)
	return roleResult{x}, nil
}

type listRolesResult struct {
	Roles list[xmlRole] `xml:"Roles"`
	paged
}

func (c *call) listRoles() (any, error) {
	prefix, err := c.pathPrefix()
	if err != nil {
		return nil, err
	}
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.id.entityARN("role", prefix, "")); err != nil {
		return nil, err
	}
	var roles []store.IAMRole
	err = c.read(func(tx store.Tx) error {
		roles, err = tx.ListRoles(prefix, pr.storePage())
		return err
	})
	if err != nil {
		return nil, err
	}
	roles, pg := cut(roles, pr, func(r *store.IAMRole) string { return r.Name })
	res := listRolesResult{paged: pg}
	for i := range roles {
		res.Roles.Member = append(res.Roles.Member, xmlRoleOf(&roles[i]))
	}
	return res, nil
}

// deleteRole refuses while the role has policies. Its sessions stop working
// at once: their keys are bound to the role's id.
func (c *call) deleteRole() (any, error) {
	name, arn, err := c.target(roleEntity)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := roleEntity.exists(tx, name, arn); err != nil {
			return err
		}
		if err := noPolicies(tx, arn); err != nil {
			return err
		}
		if err := deleteEntityTags(tx, arn); err != nil {
			return err
		}
		return tx.DeleteRole(name)
	})
}

// updateRole changes a role in one transaction: fn edits the record read.
func (c *call) updateRole(fn func(r *store.IAMRole)) (*store.IAMRole, error) {
	name, arn, err := c.target(roleEntity)
	if err != nil {
		return nil, err
	}
	var r *store.IAMRole
	err = c.write(func(tx store.Tx) error {
		if err := roleEntity.exists(tx, name, arn); err != nil {
			return err
		}
		if r, err = tx.GetRole(name); err != nil {
			return err
		}
		fn(r)
		return tx.UpdateRole(r)
	})
	return r, notFound(err, func() error { return roleEntity.missing(name) })
}

func (c *call) updateAssumeRolePolicy() (any, error) {
	doc, err := c.trustPolicy(pPolicyDocument)
	if err != nil {
		return nil, err
	}
	_, err = c.updateRole(func(r *store.IAMRole) { r.AssumeRolePolicy = doc })
	return nil, err
}

// updateRoleAction is UpdateRole: Description and MaxSessionDuration, each
// changed only when given. Its result element is empty.
func (c *call) updateRoleAction() (any, error) {
	desc, err := c.str(pDescription)
	if err != nil {
		return nil, err
	}
	maxDur, err := c.intParam("MaxSessionDuration", defaultSessionDuration, maxSessionDuration, 0)
	if err != nil {
		return nil, err
	}
	setDesc := c.form.Has(pDescription.name)
	_, err = c.updateRole(func(r *store.IAMRole) {
		if setDesc {
			r.Description = desc
		}
		if maxDur != 0 {
			r.MaxSessionDuration = maxDur
		}
	})
	return struct{}{}, err
}

func (c *call) updateRoleDescription() (any, error) {
	if !c.form.Has(pDescription.name) {
		return nil, missing(pDescription)
	}
	desc, err := c.str(pDescription)
	if err != nil {
		return nil, err
	}
	r, err := c.updateRole(func(r *store.IAMRole) { r.Description = desc })
	if err != nil {
		return nil, err
	}
	return roleResult{xmlRoleOf(r)}, nil
}
