package iam

import (
	"coffer/internal/auth"
	"coffer/internal/store"
)

func xmlUserOf(u *store.IAMUser) xmlUser {
	return xmlUser{Path: u.Path, UserName: u.Name, UserID: u.UserID, ARN: u.ARN, CreateDate: isoTime(u.CreatedTime)}
}

type userResult struct {
	User xmlUser `xml:"User"`
}

func (c *call) createUser() (any, error) {
	name, err := c.required(pUserName)
	if err != nil {
		return nil, err
	}
	path, err := c.path()
	if err != nil {
		return nil, err
	}
	tags, err := c.tagList(false)
	if err != nil {
		return nil, err
	}
	u := &store.IAMUser{UserID: newID("AIDA"), Name: name, Path: path, ARN: c.id.entityARN("user", path, name), CreatedTime: c.id.now()}
	if len(tags) > 0 {
		c.ctx = auth.WithRequestTags(c.ctx, tagMap(tags))
	}
	if err := c.authorize(u.ARN); err != nil {
		return nil, err
	}
	err = c.write(func(tx store.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		return putEntityTags(tx, u.ARN, tagQuota(userEntity), tags)
	})
	if err != nil {
		return nil, conflict(err, func() error { return alreadyExists("User with name %s already exists.", name) })
	}
	x := xmlUserOf(u)
	x.Tags = xmlTags(tags)
	return userResult{x}, nil
}

// getUser describes the named user, or without UserName the caller: the
// root (its account id and ARN) or the caller's own user.
func (c *call) getUser() (any, error) {
	if c.form.Get(pUserName.name) == "" {
		switch c.p.Type {
		case auth.TypeAccount:
			return c.rootUser()
		case auth.TypeUser:
			c.form.Set(pUserName.name, c.p.Username)
		default:
			return nil, validationError("Must specify userName when calling with non-User credentials")
		}
	}
	name, _, err := c.target(userEntity)
	if err != nil {
		return nil, err
	}
	var u *store.IAMUser
	var tags []store.Tag
	err = c.read(func(tx store.Tx) error {
		var err error
		if u, err = tx.GetUser(name); err != nil {
			return err
		}
		tags, err = tx.ListTags(u.ARN)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return userEntity.missing(name) })
	}
	x := xmlUserOf(u)
	x.Tags = xmlTags(tags)
	return userResult{x}, nil
}

// rootUser is GetUser for the root: the account id as user id, and the
// creation of its oldest key as the account's creation date.
func (c *call) rootUser() (any, error) {
	if err := c.authorize(c.id.RootARN()); err != nil {
		return nil, err
	}
	u := xmlUser{UserID: c.id.accountID, ARN: c.id.RootARN()}
	err := c.read(func(tx store.Tx) error {
		keys, err := tx.ListAccessKeys(c.id.RootARN())
		for _, k := range keys {
			if d := isoTime(k.CreatedTime); u.CreateDate == "" || d < u.CreateDate {
				u.CreateDate = d
			}
		}
		return err
	})
	return userResult{u}, err
}

type listUsersResult struct {
	Users list[xmlUser] `xml:"Users"`
	paged
}

func (c *call) listUsers() (any, error) {
	prefix, err := c.pathPrefix()
	if err != nil {
		return nil, err
	}
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.id.entityARN("user", prefix, "")); err != nil {
		return nil, err
	}
	var users []store.IAMUser
	err = c.read(func(tx store.Tx) error {
		users, err = tx.ListUsers(prefix, pr.storePage())
		return err
	})
	if err != nil {
		return nil, err
	}
	users, pg := cut(users, pr, func(u *store.IAMUser) string { return u.Name })
	res := listUsersResult{paged: pg}
	for i := range users {
		res.Users.Member = append(res.Users.Member, xmlUserOf(&users[i]))
	}
	return res, nil
}

// deleteUser refuses, as IAM does, while the user has access keys, group
// memberships, attached or inline policies.
func (c *call) deleteUser() (any, error) {
	name, arn, err := c.target(userEntity)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := userEntity.exists(tx, name, arn); err != nil {
			return err
		}
		if keys, err := tx.ListAccessKeys(arn); err != nil {
			return err
		} else if len(keys) > 0 {
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		}
		if groups, err := tx.ListGroupsForUser(name); err != nil {
			return err
		} else if len(groups) > 0 {
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		if err := noPolicies(tx, arn); err != nil {
			return err
		}
		if err := deleteEntityTags(tx, arn); err != nil {
			return err
		}
		return tx.DeleteUser(name)
	})
}

// noPolicies is the DeleteConflict check shared by users, groups and roles.
func noPolicies(tx store.Tx, arn string) error {
	if attached, err := tx.ListAttachedPolicies(arn); err != nil {
		return err
	} else if len(attached) > 0 {
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	if inline, err := tx.ListInlinePolicies(arn); err != nil {
		return err
	} else if len(inline) > 0 {
		return deleteConflict("Cannot delete entity, must delete policies first.")
	}
	return nil
}
