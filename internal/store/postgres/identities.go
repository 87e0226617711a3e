package postgres

import (
	"strconv"
	"strings"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// IAM users, groups, memberships and roles; policies.go holds the managed
// and inline policies. Names compare case-insensitively through lower(),
// which the unique indexes of 0001_init.sql are built on: "lower(name) =
// " + nocase(arg) is an index lookup, and ORDER BY lower(name) an index
// order.

const (
	userColumns  = "unique_id, name, path, arn, created_time"
	groupColumns = "unique_id, name, path, arn, created_time"
	roleColumns  = "unique_id, name, path, arn, description, assume_role_policy, max_session_duration, created_time"
)

// nocase is the case-folded form of a placeholder, to compare with
// lower(name): folded in byte order ("C"), ASCII only, like the column.
func nocase(placeholder string) string { return "lower(" + placeholder + ` COLLATE "C")` }

// qualify prefixes each column of a column list with a table alias.
func qualify(alias, columns string) string {
	return alias + "." + strings.ReplaceAll(columns, ", ", ", "+alias+".")
}

// listIAM lists the rows of an IAM entity table whose path starts with
// pathPrefix, a page at a time by name.
func listIAM[T any](t *tx, table, columns string, scan func(scanner) (T, error), pathPrefix string, p store.Page) ([]T, error) {
	var q query
	q.prefix("path", pathPrefix)
	if p.After != "" {
		q.where("lower(name) > " + nocase(q.arg(p.After)))
	}
	return listRows(t, scan, "SELECT "+columns+" FROM "+table+q.conditions()+" ORDER BY lower(name)"+q.limit(p), q.args...)
}

// iamConflict is the error of a create that a unique key refused: the
// generated unique id (very unlikely) or, else, the name.
func (t *tx) iamConflict(table, kind, name, uniqueID string) error {
	var idTaken bool
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM "+table+" WHERE unique_id = $1)", uniqueID).Scan(&idTaken); err != nil {
		return wrap(err, "create "+kind)
	}
	if idTaken {
		return fault.Conflict(kind, uniqueID, "%s id %s already exists", kind, uniqueID)
	}
	return fault.Conflict(kind, name, "%s with name %s already exists.", strings.ToUpper(kind[:1])+kind[1:], name)
}

// createIAM inserts an entity unless a unique key refuses it.
func (t *tx) createIAM(table, kind, columns, name, uniqueID string, args ...any) error {
	ph := make([]string, len(args))
	for i := range args {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	tag, err := t.exec("INSERT INTO "+table+" ("+columns+") VALUES ("+strings.Join(ph, ", ")+") ON CONFLICT DO NOTHING", args...)
	if err != nil {
		return wrap(err, "create "+kind)
	}
	if tag.RowsAffected() == 0 {
		return t.iamConflict(table, kind, name, uniqueID)
	}
	return nil
}

// rowID returns the internal id of the entity of table named name.
func (t *tx) rowID(table, name string, notFound func() error) (int64, error) {
	var id int64
	err := t.queryRow("SELECT id FROM "+table+" WHERE lower(name) = "+nocase("$1"), name).Scan(&id)
	if err != nil {
		return 0, getErr(err, "get "+table, notFound)
	}
	return id, nil
}

func scanUser(r scanner) (store.IAMUser, error) {
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
func (t *tx) CreateUser(u *store.IAMUser) error {
	return t.createIAM("iam_users", "user", userColumns, u.Name, u.UserID, u.UserID, u.Name, u.Path, u.ARN, nanos(u.CreatedTime))
}

// GetUser implements store.Identities.
func (t *tx) GetUser(name string) (*store.IAMUser, error) {
	u, err := scanUser(t.queryRow("SELECT "+userColumns+" FROM iam_users WHERE lower(name) = "+nocase("$1"), name))
	if err != nil {
		return nil, getErr(err, "get user", userNotFound(name))
	}
	return &u, nil
}

// ListUsers implements store.Identities.
func (t *tx) ListUsers(pathPrefix string, p store.Page) ([]store.IAMUser, error) {
	us, err := listIAM(t, "iam_users", userColumns, scanUser, pathPrefix, p)
	return us, wrap(err, "list users")
}

// DeleteUser implements store.Identities; the user's memberships go with it,
// nothing else does.
func (t *tx) DeleteUser(name string) error {
	err := t.execOne(userNotFound(name), "DELETE FROM iam_users WHERE lower(name) = "+nocase("$1"), name)
	return wrap(err, "delete user")
}

func scanGroup(r scanner) (store.IAMGroup, error) {
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
func (t *tx) CreateGroup(g *store.IAMGroup) error {
	return t.createIAM("iam_groups", "group", groupColumns, g.Name, g.GroupID, g.GroupID, g.Name, g.Path, g.ARN, nanos(g.CreatedTime))
}

// GetGroup implements store.Identities.
func (t *tx) GetGroup(name string) (*store.IAMGroup, error) {
	g, err := scanGroup(t.queryRow("SELECT "+groupColumns+" FROM iam_groups WHERE lower(name) = "+nocase("$1"), name))
	if err != nil {
		return nil, getErr(err, "get group", groupNotFound(name))
	}
	return &g, nil
}

// ListGroups implements store.Identities.
func (t *tx) ListGroups(pathPrefix string, p store.Page) ([]store.IAMGroup, error) {
	gs, err := listIAM(t, "iam_groups", groupColumns, scanGroup, pathPrefix, p)
	return gs, wrap(err, "list groups")
}

// DeleteGroup implements store.Identities; the group's memberships go with
// it, nothing else does.
func (t *tx) DeleteGroup(name string) error {
	err := t.execOne(groupNotFound(name), "DELETE FROM iam_groups WHERE lower(name) = "+nocase("$1"), name)
	return wrap(err, "delete group")
}

// memberIDs resolves a group and a user name to their internal ids.
func (t *tx) memberIDs(group, user string) (groupID, userID int64, err error) {
	if groupID, err = t.rowID("iam_groups", group, groupNotFound(group)); err != nil {
		return 0, 0, err
	}
	userID, err = t.rowID("iam_users", user, userNotFound(user))
	return groupID, userID, err
}

// AddUserToGroup implements store.Identities.
func (t *tx) AddUserToGroup(group, user string) error {
	g, u, err := t.memberIDs(group, user)
	if err != nil {
		return wrap(err, "add user to group")
	}
	_, err = t.exec("INSERT INTO iam_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", g, u)
	return wrap(err, "add user to group")
}

// RemoveUserFromGroup implements store.Identities.
func (t *tx) RemoveUserFromGroup(group, user string) error {
	g, u, err := t.memberIDs(group, user)
	if err != nil {
		return wrap(err, "remove user from group")
	}
	err = t.execOne(func() error {
		return fault.NotFound("group-membership", user, "The user %s is not a member of the group %s.", user, group)
	}, "DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2", g, u)
	return wrap(err, "remove user from group")
}

// ListGroupsForUser implements store.Identities.
func (t *tx) ListGroupsForUser(user string) ([]store.IAMGroup, error) {
	u, err := t.rowID("iam_users", user, userNotFound(user))
	if err != nil {
		return nil, wrap(err, "list groups for user")
	}
	gs, err := listRows(t, scanGroup, "SELECT "+qualify("g", groupColumns)+
		" FROM iam_group_members m JOIN iam_groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY lower(g.name)", u)
	return gs, wrap(err, "list groups for user")
}

// ListGroupMembers implements store.Identities.
func (t *tx) ListGroupMembers(group string) ([]store.IAMUser, error) {
	g, err := t.rowID("iam_groups", group, groupNotFound(group))
	if err != nil {
		return nil, wrap(err, "list group members")
	}
	us, err := listRows(t, scanUser, "SELECT "+qualify("u", userColumns)+
		" FROM iam_group_members m JOIN iam_users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY lower(u.name)", g)
	return us, wrap(err, "list group members")
}

func scanRole(r scanner) (store.IAMRole, error) {
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
func (t *tx) CreateRole(r *store.IAMRole) error {
	return t.createIAM("iam_roles", "role", roleColumns, r.Name, r.RoleID,
		r.RoleID, r.Name, r.Path, r.ARN, r.Description, r.AssumeRolePolicy, r.MaxSessionDuration, nanos(r.CreatedTime))
}

// GetRole implements store.Identities.
func (t *tx) GetRole(name string) (*store.IAMRole, error) {
	r, err := scanRole(t.queryRow("SELECT "+roleColumns+" FROM iam_roles WHERE lower(name) = "+nocase("$1"), name))
	if err != nil {
		return nil, getErr(err, "get role", roleNotFound(name))
	}
	return &r, nil
}

// ListRoles implements store.Identities.
func (t *tx) ListRoles(pathPrefix string, p store.Page) ([]store.IAMRole, error) {
	rs, err := listIAM(t, "iam_roles", roleColumns, scanRole, pathPrefix, p)
	return rs, wrap(err, "list roles")
}

// UpdateRole implements store.Identities.
func (t *tx) UpdateRole(r *store.IAMRole) error {
	err := t.execOne(roleNotFound(r.Name),
		"UPDATE iam_roles SET description = $1, assume_role_policy = $2, max_session_duration = $3 WHERE lower(name) = "+nocase("$4"),
		r.Description, r.AssumeRolePolicy, r.MaxSessionDuration, r.Name)
	return wrap(err, "update role")
}

// DeleteRole implements store.Identities; nothing goes with the role.
func (t *tx) DeleteRole(name string) error {
	err := t.execOne(roleNotFound(name), "DELETE FROM iam_roles WHERE lower(name) = "+nocase("$1"), name)
	return wrap(err, "delete role")
}
