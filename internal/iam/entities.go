package iam

import (
	"errors"

	"coffer/internal/auth/policy"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// entity is a kind of IAM identity that policies attach to: user, group or
// role. The attachment and inline-policy operations are written once for
// all three.
type entity struct {
	kind   string // "user", "group", "role"
	param  param  // its name parameter
	lookup func(tx store.Tx, name string) (arn string, err error)
	// quota is the name of the attached-policy quota; inlineMax the
	// aggregate size of its inline policies.
	quota     string
	inlineMax int
}

// maxAttachedPolicies is IAM's default quota of managed policies per user,
// group or role.
const maxAttachedPolicies = 10

var (
	userEntity = &entity{"user", pUserName, func(tx store.Tx, name string) (string, error) {
		u, err := tx.GetUser(name)
		if err != nil {
			return "", err
		}
		return u.ARN, nil
	}, "PoliciesPerUser", policy.MaxUserInlinePolicySize}
	groupEntity = &entity{"group", pGroupName, func(tx store.Tx, name string) (string, error) {
		g, err := tx.GetGroup(name)
		if err != nil {
			return "", err
		}
		return g.ARN, nil
	}, "PoliciesPerGroup", policy.MaxGroupInlinePolicySize}
	roleEntity = &entity{"role", pRoleName, func(tx store.Tx, name string) (string, error) {
		r, err := tx.GetRole(name)
		if err != nil {
			return "", err
		}
		return r.ARN, nil
	}, "PoliciesPerRole", policy.MaxRoleInlinePolicySize}
)

func (e *entity) missing(name string) error {
	return noSuchEntity("The %s with name %s cannot be found.", e.kind, name)
}

// target reads the entity named by the request, authorizes the call on it
// and returns its ARN. A missing entity is authorized on the ARN it would
// have with the default path, so that only callers allowed to act on it
// learn that it does not exist.
func (c *call) target(e *entity, kv ...string) (name, arn string, err error) {
	if name, err = c.required(e.param); err != nil {
		return "", "", err
	}
	err = c.read(func(tx store.Tx) error {
		arn, err = e.lookup(tx, name)
		return err
	})
	if errors.Is(err, fault.ErrNotFound) {
		if err := c.authorize(c.id.entityARN(e.kind, "/", name), kv...); err != nil {
			return "", "", err
		}
		return "", "", e.missing(name)
	}
	if err != nil {
		return "", "", err
	}
	return name, arn, c.authorize(arn, kv...)
}

// exists re-reads the entity inside a write transaction, so that nothing is
// attached to an entity deleted since target looked.
func (e *entity) exists(tx store.Tx, name, arn string) error {
	got, err := e.lookup(tx, name)
	if errors.Is(err, fault.ErrNotFound) || err == nil && got != arn {
		return e.missing(name)
	}
	return err
}
