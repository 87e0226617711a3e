package sqlstore

import (
	"strings"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// IAM users, groups, memberships and roles; policies.go holds the managed
// and inline policies. Names compare and order case-insensitively along the
// index that makes them unique (Dialect.NoCase); paths and ARNs compare
// exactly.

const (
	userColumns  = "unique_id, name, path, arn, created_time"
	groupColumns = "unique_id, name, path, arn, created_time"
	roleColumns  = "unique_id, name, path, arn, description, assume_role_policy, max_session_duration, created_time"
)

// nameIs is the condition that the name column col equals the one
// placeholder, case-insensitively.
func (d *Dialect) nameIs(col string) string { return d.NoCase(col) + " = " + d.NoCaseArg }

// qualify prefixes each column of a column list with a table alias.
func qualify(alias, columns string) string {
	return alias + "." + strings.ReplaceAll(columns, ", ", ", "+alias+".")
}

// listIAM lists the rows of an IAM entity table whose path starts with
// pathPrefix, a page at a time by name.
func listIAM[T any](t *Tx, table, columns string, scan func(Row) (T, error), pathPrefix string, p store.Page) ([]T, error) {
	w := where{d: t.d}
	w.prefix("path", pathPrefix)
	if p.After != "" {
		w.add(t.d.NoCase("name")+" > "+t.d.NoCaseArg, p.After)
	}
	return list(t, scan, "SELECT "+columns+" FROM "+table+w.String()+" ORDER BY "+t.d.NoCase("name")+w.limit(p), w.args...)
}

// createIAM inserts an entity of table unless a unique key refuses it: then
// the error says whether the generated unique id (very unlikely) or, else,
// the name is taken.
func (t *Tx) createIAM(table, kind, columns, name, uniqueID string, args ...any) error {
	n, err := t.exec("INSERT INTO "+table+" ("+columns+") VALUES (?"+strings.Repeat(", ?", len(args)-1)+") ON CONFLICT DO NOTHING", args...)
	if err != nil {
		return t.wrap(err, "create "+kind)
	}
	if n == 0 {
		return t.iamConflict(table, kind, name, uniqueID)
	}
	return nil
}

// iamConflict is the error of a create that a unique key of table refused.
func (t *Tx) iamConflict(table, kind, name, uniqueID string) error {
	var idTaken bool
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM "+table+" WHERE unique_id = ?)", uniqueID).Scan(&idTaken); err != nil {
		return t.wrap(err, "create "+kind)
	}
	if idTaken {
		return fault.Conflict(kind, uniqueID, "%s id %s already exists", kind, uniqueID)
	}
	return fault.Conflict(kind, name, "%s with name %s already exists.", strings.ToUpper(kind[:1])+kind[1:], name)
}

// rowID returns the internal id of the entity of table named name.
func (t *Tx) rowID(table, name string, notFound func() error) (int64, error) {
	var id int64
	err := t.queryRow("SELECT id FROM "+table+" WHERE "+t.d.nameIs("name"), name).Scan(&id)
	if err != nil {
		return 0, t.getErr(err, "get "+table, notFound)
	}
	return id, nil
}

func scanUser(r Row) (store.IAMUser, error) {
	var u store.IAMUser
	var created int64
	err := r.Scan(&u.UserID, &u.Name, &u.Path, &u.ARN, &created)
	u.CreatedTime = fromNanos(created)
	return u, err
}

func userNotFound(name string) func() error {
	return func() error { return fault.NotFound("user", name, "The user with name %s cannot be found.", name) }
}

// CreateUser implements store.Identities.
func (t *Tx) CreateUser(u *store.IAMUser) error {
	return t.createIAM("iam_users", "user", userColumns, u.Name, u.UserID, u.UserID, u.Name, u.Path, u.ARN, nanos(u.CreatedTime))
}

// GetUser implements store.Identities.
func (t *Tx) GetUser(name string) (*store.IAMUser, error) {
	u, err := scanUser(t.queryRow("SELECT "+userColumns+" FROM iam_users WHERE "+t.d.nameIs("name"), name))
	if err != nil {
		return nil, t.getErr(err, "get user", userNotFound(name))
	}
	return &u, nil
}

// ListUsers implements store.Identities.
func (t *Tx) ListUsers(pathPrefix string, p store.Page) ([]store.IAMUser, error) {
	us, err := listIAM(t, "iam_users", userColumns, scanUser, pathPrefix, p)
	return us, t.wrap(err, "list users")
}

// DeleteUser implements store.Identities; the user's memberships go with it,
// nothing else does.
func (t *Tx) DeleteUser(name string) error {
	err := t.execOne(userNotFound(name), "DELETE FROM iam_users WHERE "+t.d.nameIs("name"), name)
	return t.wrap(err, "delete user")
}

func scanGroup(r Row) (store.IAMGroup, error) {
	var g store.IAMGroup
	var created int64
	err := r.Scan(&g.GroupID, &g.Name, &g.Path, &g.ARN, &created)
	g.CreatedTime = fromNanos(created)
	return g, err
}

func groupNotFound(name string) func() error {
	return func() error { return fault.NotFound("group", name, "The group with name %s cannot be found.", name) }
}

// CreateGroup implements store.Identities.
func (t *Tx) CreateGroup(g *store.IAMGroup) error {
	return t.createIAM("iam_groups", "group", groupColumns, g.Name, g.GroupID, g.GroupID, g.Name, g.Path, g.ARN, nanos(g.CreatedTime))
}

// GetGroup implements store.Identities.
func (t *Tx) GetGroup(name string) (*store.IAMGroup, error) {
	g, err := scanGroup(t.queryRow("SELECT "+groupColumns+" FROM iam_groups WHERE "+t.d.nameIs("name"), name))
	if err != nil {
		return nil, t.getErr(err, "get group", groupNotFound(name))
	}
	return &g, nil
}

// ListGroups implements store.Identities.
func (t *Tx) ListGroups(pathPrefix string, p store.Page) ([]store.IAMGroup, error) {
	gs, err := listIAM(t, "iam_groups", groupColumns, scanGroup, pathPrefix, p)
	return gs, t.wrap(err, "list groups")
}

// DeleteGroup implements store.Identities; the group's memberships go with
// it, nothing else does.
func (t *Tx) DeleteGroup(name string) error {
	err := t.execOne(groupNotFound(name), "DELETE FROM iam_groups WHERE "+t.d.nameIs("name"), name)
	return t.wrap(err, "delete group")
}

// memberIDs resolves a group and a user name to their internal ids.
func (t *Tx) memberIDs(group, user string) (groupID, userID int64, err error) {
	if groupID, err = t.rowID("iam_groups", group, groupNotFound(group)); err != nil {
		return 0, 0, err
	}
	userID, err = t.rowID("iam_users", user, userNotFound(user))
	return groupID, userID, err
}

// AddUserToGroup implements store.Identities.
func (t *Tx) AddUserToGroup(group, user string) error {
	g, u, err := t.memberIDs(group, user)
	if err != nil {
		return t.wrap(err, "add user to group")
	}
	_, err = t.exec("INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", g, u)
	return t.wrap(err, "add user to group")
}

// RemoveUserFromGroup implements store.Identities.
func (t *Tx) RemoveUserFromGroup(group, user string) error {
	g, u, err := t.memberIDs(group, user)
	if err != nil {
		return t.wrap(err, "remove user from group")
	}
	err = t.execOne(func() error {
		return fault.NotFound("group-membership", user, "The user %s is not a member of the group %s.", user, group)
	}, "DELETE FROM iam_group_members WHERE group_id = ? AND user_id = ?", g, u)
	return t.wrap(err, "remove user from group")
}

// ListGroupsForUser implements store.Identities.
func (t *Tx) ListGroupsForUser(user string) ([]store.IAMGroup, error) {
	u, err := t.rowID("iam_users", user, userNotFound(user))
	if err != nil {
		return nil, t.wrap(err, "list groups for user")
	}
	gs, err := list(t, scanGroup, "SELECT "+qualify("g", groupColumns)+
		" FROM iam_group_members m JOIN iam_groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY "+t.d.NoCase("g.name"), u)
	return gs, t.wrap(err, "list groups for user")
}

// ListGroupMembers implements store.Identities.
func (t *Tx) ListGroupMembers(group string) ([]store.IAMUser, error) {
	g, err := t.rowID("iam_groups", group, groupNotFound(group))
	if err != nil {
		return nil, t.wrap(err, "list group members")
	}
	us, err := list(t, scanUser, "SELECT "+qualify("u", userColumns)+
		" FROM iam_group_members m JOIN iam_users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY "+t.d.NoCase("u.name"), g)
	return us, t.wrap(err, "list group members")
}

func scanRole(r Row) (store.IAMRole, error) {
	var ro store.IAMRole
	var created int64
	err := r.Scan(&ro.RoleID, &ro.Name, &ro.Path, &ro.ARN, &ro.Description, &ro.AssumeRolePolicy,
		&ro.MaxSessionDuration, &created)
	ro.CreatedTime = fromNanos(created)
	return ro, err
}

func roleNotFound(name string) func() error {
	return func() error { return fault.NotFound("role", name, "The role with name %s cannot be found.", name) }
}

// CreateRole implements store.Identities.
func (t *Tx) CreateRole(r *store.IAMRole) error {
	return t.createIAM("iam_roles", "role", roleColumns, r.Name, r.RoleID,
		r.RoleID, r.Name, r.Path, r.ARN, r.Description, r.AssumeRolePolicy, r.MaxSessionDuration, nanos(r.CreatedTime))
}

// GetRole implements store.Identities.
func (t *Tx) GetRole(name string) (*store.IAMRole, error) {
	r, err := scanRole(t.queryRow("SELECT "+roleColumns+" FROM iam_roles WHERE "+t.d.nameIs("name"), name))
	if err != nil {
		return nil, t.getErr(err, "get role", roleNotFound(name))
	}
	return &r, nil
}

// ListRoles implements store.Identities.
func (t *Tx) ListRoles(pathPrefix string, p store.Page) ([]store.IAMRole, error) {
	rs, err := listIAM(t, "iam_roles", roleColumns, scanRole, pathPrefix, p)
	return rs, t.wrap(err, "list roles")
}

// UpdateRole implements store.Identities.
func (t *Tx) UpdateRole(r *store.IAMRole) error {
	err := t.execOne(roleNotFound(r.Name),
		"UPDATE iam_roles SET description = ?, assume_role_policy = ?, max_session_duration = ? WHERE "+t.d.nameIs("name"),
		r.Description, r.AssumeRolePolicy, r.MaxSessionDuration, r.Name)
	return t.wrap(err, "update role")
}

// DeleteRole implements store.Identities; nothing goes with the role.
func (t *Tx) DeleteRole(name string) error {
	err := t.execOne(roleNotFound(name), "DELETE FROM iam_roles WHERE "+t.d.nameIs("name"), name)
	return t.wrap(err, "delete role")
}
