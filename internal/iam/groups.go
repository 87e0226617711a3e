package iam

import (
	"coffer/internal/store"
)

// maxGroupsPerUser is IAM's quota of groups a user may belong to.
const maxGroupsPerUser = 10

func xmlGroupOf(g *store.IAMGroup) xmlGroup {
	return xmlGroup{Path: g.Path, GroupName: g.Name, GroupID: g.GroupID, ARN: g.ARN, CreateDate: isoTime(g.CreatedTime)}
}

type groupResult struct {
	Group xmlGroup `xml:"Group"`
}

func (c *call) createGroup() (any, error) {
	name, err := c.required(pGroupName)
	if err != nil {
		return nil, err
	}
	path, err := c.path()
	if err != nil {
		return nil, err
	}
	g := &store.IAMGroup{GroupID: newID("AGPA"), Name: name, Path: path, ARN: c.id.entityARN("group", path, name), CreatedTime: c.id.now()}
	if err := c.authorize(g.ARN); err != nil {
		return nil, err
	}
	err = c.write(func(tx store.Tx) error { return tx.CreateGroup(g) })
	if err != nil {
		return nil, conflict(err, func() error { return alreadyExists("Group with name %s already exists.", name) })
	}
	return groupResult{xmlGroupOf(g)}, nil
}

type getGroupResult struct {
	Group xmlGroup      `xml:"Group"`
	Users list[xmlUser] `xml:"Users"`
	paged
}

// getGroup describes a group with its members, paged.
func (c *call) getGroup() (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	name, _, err := c.target(groupEntity)
	if err != nil {
		return nil, err
	}
	var g *store.IAMGroup
	var members []store.IAMUser
	err = c.read(func(tx store.Tx) error {
		if g, err = tx.GetGroup(name); err != nil {
			return err
		}
		members, err = tx.ListGroupMembers(name)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return groupEntity.missing(name) })
	}
	members, pg := pageOf(members, pr, func(u *store.IAMUser) string { return u.Name })
	res := getGroupResult{Group: xmlGroupOf(g), paged: pg}
	for i := range members {
		res.Users.Member = append(res.Users.Member, xmlUserOf(&members[i]))
	}
	return res, nil
}

type listGroupsResult struct {
	Groups list[xmlGroup] `xml:"Groups"`
	paged
}

func (c *call) listGroups() (any, error) {
	prefix, err := c.pathPrefix()
	if err != nil {
		return nil, err
	}
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.id.entityARN("group", prefix, "")); err != nil {
		return nil, err
	}
	var groups []store.IAMGroup
	err = c.read(func(tx store.Tx) error {
		groups, err = tx.ListGroups(prefix, pr.storePage())
		return err
	})
	if err != nil {
		return nil, err
	}
	groups, pg := cut(groups, pr, func(g *store.IAMGroup) string { return g.Name })
	return groupList(groups, pg), nil
}

func groupList(groups []store.IAMGroup, pg paged) listGroupsResult {
	res := listGroupsResult{paged: pg}
	for i := range groups {
		res.Groups.Member = append(res.Groups.Member, xmlGroupOf(&groups[i]))
	}
	return res
}

// deleteGroup refuses while the group has members or policies.
func (c *call) deleteGroup() (any, error) {
	name, arn, err := c.target(groupEntity)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := groupEntity.exists(tx, name, arn); err != nil {
			return err
		}
		if members, err := tx.ListGroupMembers(name); err != nil {
			return err
		} else if len(members) > 0 {
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		if err := noPolicies(tx, arn); err != nil {
			return err
		}
		return tx.DeleteGroup(name)
	})
}

// addUserToGroup is authorized on the group, as IAM does.
func (c *call) addUserToGroup() (any, error) {
	user, err := c.required(pUserName)
	if err != nil {
		return nil, err
	}
	group, arn, err := c.target(groupEntity)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := groupEntity.exists(tx, group, arn); err != nil {
			return err
		}
		if _, err := tx.GetUser(user); err != nil {
			return notFound(err, func() error { return userEntity.missing(user) })
		}
		groups, err := tx.ListGroupsForUser(user)
		if err != nil {
			return err
		}
		member := false
		for _, g := range groups {
			member = member || g.ARN == arn
		}
		if !member && len(groups) >= maxGroupsPerUser {
			return limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		return tx.AddUserToGroup(group, user)
	})
}

func (c *call) removeUserFromGroup() (any, error) {
	user, err := c.required(pUserName)
	if err != nil {
		return nil, err
	}
	group, arn, err := c.target(groupEntity)
	if err != nil {
		return nil, err
	}
	return nil, c.write(func(tx store.Tx) error {
		if err := groupEntity.exists(tx, group, arn); err != nil {
			return err
		}
		if _, err := tx.GetUser(user); err != nil {
			return notFound(err, func() error { return userEntity.missing(user) })
		}
		err := tx.RemoveUserFromGroup(group, user)
		return notFound(err, func() error {
			return noSuchEntity("The user with name %s is not a member of the group %s.", user, group)
		})
	})
}

func (c *call) listGroupsForUser() (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	name, _, err := c.target(userEntity)
	if err != nil {
		return nil, err
	}
	var groups []store.IAMGroup
	err = c.read(func(tx store.Tx) error {
		groups, err = tx.ListGroupsForUser(name)
		return err
	})
	if err != nil {
		return nil, notFound(err, func() error { return userEntity.missing(name) })
	}
	groups, pg := pageOf(groups, pr, func(g *store.IAMGroup) string { return g.Name })
	return groupList(groups, pg), nil
}
