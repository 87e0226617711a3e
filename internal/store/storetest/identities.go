package storetest

import (
	"fmt"
	"strings"
	"testing"

	"coffer/internal/store"
)

// The IAM identities: users, groups and their memberships, roles, managed
// policies with their versions and attachments, inline policies.

const iamAccount = "arn:aws:iam::111122223333:"

func iamARN(kind, path, name string) string { return iamAccount + kind + path + name }

func addUser(t *testing.T, s store.Store, name, path string) *store.IAMUser {
	t.Helper()
	u := &store.IAMUser{UserID: "AIDA" + strings.ToUpper(name), Name: name, Path: path,
		ARN: iamARN("user", path, name), CreatedTime: at(10)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateUser(u) })
	return u
}

func addGroup(t *testing.T, s store.Store, name, path string) *store.IAMGroup {
	t.Helper()
	g := &store.IAMGroup{GroupID: "AGPA" + strings.ToUpper(name), Name: name, Path: path,
		ARN: iamARN("group", path, name), CreatedTime: at(11)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateGroup(g) })
	return g
}

func addRole(t *testing.T, s store.Store, name, path string) *store.IAMRole {
	t.Helper()
	r := &store.IAMRole{RoleID: "AROA" + strings.ToUpper(name), Name: name, Path: path,
		ARN: iamARN("role", path, name), AssumeRolePolicy: trustPolicy("ec2.amazonaws.com"),
		MaxSessionDuration: 3600, CreatedTime: at(12)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateRole(r) })
	return r
}

// addPolicy creates a managed policy with its version v1 and returns both.
func addPolicy(t *testing.T, s store.Store, name, path string) (*store.ManagedPolicy, *store.PolicyVersion) {
	t.Helper()
	p := &store.ManagedPolicy{PolicyID: "ANPA" + strings.ToUpper(name), Name: name, Path: path,
		ARN: iamARN("policy", path, name), DefaultVersionID: "v1", CreatedTime: at(13), UpdateTime: at(13)}
	v1 := &store.PolicyVersion{PolicyARN: p.ARN, VersionID: "v1", Document: allowDoc("s3:GetObject"), CreatedTime: at(13)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePolicy(p, v1) })
	return p, v1
}

func allowDoc(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
}

func trustPolicy(service string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service +
		`"},"Action":"sts:AssumeRole"}]}`
}

func normUser(u store.IAMUser) store.IAMUser {
	u.CreatedTime = u.CreatedTime.UTC()
	return u
}

func normGroup(g store.IAMGroup) store.IAMGroup {
	g.CreatedTime = g.CreatedTime.UTC()
	return g
}

func normRole(r store.IAMRole) store.IAMRole {
	r.CreatedTime = r.CreatedTime.UTC()
	return r
}

func normPolicy(p store.ManagedPolicy) store.ManagedPolicy {
	p.CreatedTime = p.CreatedTime.UTC()
	p.UpdateTime = p.UpdateTime.UTC()
	return p
}

func normPolicyVersion(v store.PolicyVersion) store.PolicyVersion {
	v.CreatedTime = v.CreatedTime.UTC()
	return v
}

func testIAMUsers(t *testing.T, s store.Store) {
	u := addUser(t, s, "Alice", "/eng/")
	got := get(t, s, func(tx store.Tx) (*store.IAMUser, error) { return tx.GetUser("Alice") })
	check(t, "GetUser", normUser(*got), *u)
	// Names compare case-insensitively and come back as created.
	got = get(t, s, func(tx store.Tx) (*store.IAMUser, error) { return tx.GetUser("aLICE") })
	check(t, "GetUser in another case", normUser(*got), *u)
	list := get(t, s, func(tx store.Tx) ([]store.IAMUser, error) { return tx.ListUsers("", store.Page{}) })
	check(t, "ListUsers", normAll(list, normUser), []store.IAMUser{*u})

	// A user with nothing but a name and an id.
	bare := &store.IAMUser{UserID: "AIDABARE", Name: "bare"}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateUser(bare) })
	got = get(t, s, func(tx store.Tx) (*store.IAMUser, error) { return tx.GetUser("bare") })
	check(t, "bare user", normUser(*got), *bare)

	mustWrite(t, s, func(tx store.Tx) error {
		dup := &store.IAMUser{UserID: "AIDAOTHER", Name: "ALICE", Path: "/other/", ARN: iamARN("user", "/other/", "ALICE")}
		wantConflict(t, "user name in another case", tx.CreateUser(dup))
		dup = &store.IAMUser{UserID: u.UserID, Name: "alice2", Path: "/", ARN: iamARN("user", "/", "alice2")}
		wantConflict(t, "duplicate user id", tx.CreateUser(dup))
		// The conflicts failed their statements, not the transaction.
		_, err := tx.GetUser("Alice")
		return err
	})
	wantNotFound(t, "missing user", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetUser("nobody")) }))
	wantNotFound(t, "delete missing user", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteUser("nobody") }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteUser("ALICE") })
	wantNotFound(t, "deleted user", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetUser("Alice")) }))
	wantNotFound(t, "delete user twice", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteUser("Alice") }))
	get(t, s, func(tx store.Tx) (*store.IAMUser, error) { return tx.GetUser("bare") })
	// The name is free again, in any case.
	addUser(t, s, "alice", "/")
}

func testIAMGroups(t *testing.T, s store.Store) {
	g := addGroup(t, s, "Admins", "/ops/")
	got := get(t, s, func(tx store.Tx) (*store.IAMGroup, error) { return tx.GetGroup("Admins") })
	check(t, "GetGroup", normGroup(*got), *g)
	got = get(t, s, func(tx store.Tx) (*store.IAMGroup, error) { return tx.GetGroup("ADMINS") })
	check(t, "GetGroup in another case", normGroup(*got), *g)
	list := get(t, s, func(tx store.Tx) ([]store.IAMGroup, error) { return tx.ListGroups("/", store.Page{}) })
	check(t, "ListGroups", normAll(list, normGroup), []store.IAMGroup{*g})

	dup := &store.IAMGroup{GroupID: "AGPAOTHER", Name: "admins", Path: "/", ARN: iamARN("group", "/", "admins")}
	wantConflict(t, "group name in another case", writeErr(t, s, func(tx store.Tx) error { return tx.CreateGroup(dup) }))
	dup = &store.IAMGroup{GroupID: g.GroupID, Name: "admins2", Path: "/", ARN: iamARN("group", "/", "admins2")}
	wantConflict(t, "duplicate group id", writeErr(t, s, func(tx store.Tx) error { return tx.CreateGroup(dup) }))
	// Users and groups have separate names.
	addUser(t, s, "Admins", "/")

	wantNotFound(t, "missing group", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetGroup("nobody")) }))
	wantNotFound(t, "delete missing group", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteGroup("nobody") }))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteGroup("admins") })
	wantNotFound(t, "deleted group", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetGroup("Admins")) }))
	get(t, s, func(tx store.Tx) (*store.IAMUser, error) { return tx.GetUser("Admins") })
	addGroup(t, s, "admins", "/")
}

func testIAMMembership(t *testing.T, s store.Store) {
	alice, bob := addUser(t, s, "alice", "/"), addUser(t, s, "Bob", "/eng/")
	addUser(t, s, "carol", "/")
	admins, devs, ops := addGroup(t, s, "admins", "/"), addGroup(t, s, "Devs", "/eng/"), addGroup(t, s, "ops", "/")
	groupsOf := func(user string) []store.IAMGroup {
		t.Helper()
		return normAll(get(t, s, func(tx store.Tx) ([]store.IAMGroup, error) { return tx.ListGroupsForUser(user) }), normGroup)
	}
	membersOf := func(group string) []store.IAMUser {
		t.Helper()
		return normAll(get(t, s, func(tx store.Tx) ([]store.IAMUser, error) { return tx.ListGroupMembers(group) }), normUser)
	}
	check(t, "groups of a user in none", len(groupsOf("alice")), 0)
	check(t, "members of an empty group", len(membersOf("admins")), 0)

	mustWrite(t, s, func(tx store.Tx) error {
		for _, m := range [][2]string{{"ops", "alice"}, {"admins", "alice"}, {"Devs", "alice"}, {"devs", "Bob"},
			{"ADMINS", "ALICE"}, {"admins", "alice"}} { // again, in any case: no change
			if err := tx.AddUserToGroup(m[0], m[1]); err != nil {
				return fmt.Errorf("add %s to %s: %w", m[1], m[0], err)
			}
		}
		return nil
	})
	// Groups and members come back whole, ordered by name.
	check(t, "groups of alice", groupsOf("ALICE"), []store.IAMGroup{*admins, *devs, *ops})
	check(t, "groups of Bob", groupsOf("bob"), []store.IAMGroup{*devs})
	check(t, "groups of carol", len(groupsOf("carol")), 0)
	check(t, "members of Devs", membersOf("devs"), []store.IAMUser{*alice, *bob})
	check(t, "members of admins", membersOf("admins"), []store.IAMUser{*alice})

	mustWrite(t, s, func(tx store.Tx) error {
		wantNotFound(t, "add to a missing group", tx.AddUserToGroup("nogroup", "alice"))
		wantNotFound(t, "add a missing user", tx.AddUserToGroup("admins", "nobody"))
		wantNotFound(t, "remove a non-member", tx.RemoveUserFromGroup("admins", "carol"))
		wantNotFound(t, "remove from a missing group", tx.RemoveUserFromGroup("nogroup", "alice"))
		wantNotFound(t, "remove a missing user", tx.RemoveUserFromGroup("admins", "nobody"))
		return nil
	})
	wantNotFound(t, "groups of a missing user", readErr(t, s, func(tx store.Tx) error { return discard(tx.ListGroupsForUser("nobody")) }))
	wantNotFound(t, "members of a missing group", readErr(t, s, func(tx store.Tx) error { return discard(tx.ListGroupMembers("nogroup")) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.RemoveUserFromGroup("OPS", "Alice") })
	check(t, "groups of alice after removal", groupsOf("alice"), []store.IAMGroup{*admins, *devs})
	check(t, "members of ops after removal", len(membersOf("ops")), 0)
	wantNotFound(t, "remove twice", writeErr(t, s, func(tx store.Tx) error { return tx.RemoveUserFromGroup("ops", "alice") }))

	// Deleting a user or a group takes its memberships with it: none is
	// left dangling for a new entity of the same name to inherit.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteUser("bob") })
	check(t, "members of Devs after deleting Bob", membersOf("Devs"), []store.IAMUser{*alice})
	addUser(t, s, "bob", "/")
	check(t, "groups of a new bob", len(groupsOf("bob")), 0)
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteGroup("devs") })
	check(t, "groups of alice after deleting Devs", groupsOf("alice"), []store.IAMGroup{*admins})
	addGroup(t, s, "devs", "/")
	check(t, "members of a new devs", len(membersOf("devs")), 0)
}

func testIAMRoles(t *testing.T, s store.Store) {
	r := &store.IAMRole{RoleID: "AROAEXAMPLE", Name: "Deployer", Path: "/service-role/",
		ARN: iamARN("role", "/service-role/", "Deployer"), Description: "deploys things",
		AssumeRolePolicy: trustPolicy("codebuild.amazonaws.com"), MaxSessionDuration: 7200, CreatedTime: at(5)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateRole(r) })
	got := get(t, s, func(tx store.Tx) (*store.IAMRole, error) { return tx.GetRole("Deployer") })
	check(t, "GetRole", normRole(*got), *r)
	got = get(t, s, func(tx store.Tx) (*store.IAMRole, error) { return tx.GetRole("deployer") })
	check(t, "GetRole in another case", normRole(*got), *r)
	list := get(t, s, func(tx store.Tx) ([]store.IAMRole, error) { return tx.ListRoles("/service-role/", store.Page{}) })
	check(t, "ListRoles", normAll(list, normRole), []store.IAMRole{*r})

	dup := &store.IAMRole{RoleID: "AROAOTHER", Name: "DEPLOYER", Path: "/", ARN: iamARN("role", "/", "DEPLOYER")}
	wantConflict(t, "role name in another case", writeErr(t, s, func(tx store.Tx) error { return tx.CreateRole(dup) }))
	dup = &store.IAMRole{RoleID: r.RoleID, Name: "other", Path: "/", ARN: iamARN("role", "/", "other")}
	wantConflict(t, "duplicate role id", writeErr(t, s, func(tx store.Tx) error { return tx.CreateRole(dup) }))

	// UpdateRole changes the description, the trust policy and the maximum
	// session duration, by name in any case; nothing else.
	upd := *r
	upd.Name = "DEPLOYER"
	upd.Path, upd.ARN, upd.RoleID, upd.CreatedTime = "/x/", "arn:x", "AROAX", at(99)
	upd.Description, upd.AssumeRolePolicy, upd.MaxSessionDuration = "", trustPolicy("ec2.amazonaws.com"), 43200
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateRole(&upd) })
	want := *r
	want.Description, want.AssumeRolePolicy, want.MaxSessionDuration = upd.Description, upd.AssumeRolePolicy, upd.MaxSessionDuration
	got = get(t, s, func(tx store.Tx) (*store.IAMRole, error) { return tx.GetRole("Deployer") })
	check(t, "updated role", normRole(*got), want)
	missing := want
	missing.Name = "nobody"
	wantNotFound(t, "update missing role", writeErr(t, s, func(tx store.Tx) error { return tx.UpdateRole(&missing) }))

	wantNotFound(t, "missing role", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetRole("nobody")) }))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRole("deployer") })
	wantNotFound(t, "deleted role", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetRole("Deployer")) }))
	wantNotFound(t, "delete missing role", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteRole("Deployer") }))
	addRole(t, s, "deployer", "/")
}

func testIAMPolicies(t *testing.T, s store.Store) {
	p := &store.ManagedPolicy{PolicyID: "ANPAEXAMPLE", Name: "ReadOnly", Path: "/team/",
		ARN: iamARN("policy", "/team/", "ReadOnly"), Description: "read only", DefaultVersionID: "v1",
		CreatedTime: at(20), UpdateTime: at(21)}
	v1 := &store.PolicyVersion{PolicyARN: p.ARN, VersionID: "v1", Document: allowDoc("codeartifact:Get*"), CreatedTime: at(20)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePolicy(p, v1) })
	got := get(t, s, func(tx store.Tx) (*store.ManagedPolicy, error) { return tx.GetPolicy(p.ARN) })
	check(t, "GetPolicy", normPolicy(*got), *p)
	gotV := get(t, s, func(tx store.Tx) (*store.PolicyVersion, error) { return tx.GetPolicyVersion(p.ARN, "v1") })
	check(t, "first version", normPolicyVersion(*gotV), *v1)
	list := get(t, s, func(tx store.Tx) ([]store.ManagedPolicy, error) { return tx.ListPolicies("/team/", store.Page{}) })
	check(t, "ListPolicies", normAll(list, normPolicy), []store.ManagedPolicy{*p})

	mustWrite(t, s, func(tx store.Tx) error {
		// The name is taken whatever the path and case.
		dup := &store.ManagedPolicy{PolicyID: "ANPAOTHER", Name: "READONLY", Path: "/other/",
			ARN: iamARN("policy", "/other/", "READONLY"), DefaultVersionID: "v1"}
		wantConflict(t, "policy name in another case", tx.CreatePolicy(dup, &store.PolicyVersion{PolicyARN: dup.ARN, VersionID: "v1"}))
		dup = &store.ManagedPolicy{PolicyID: p.PolicyID, Name: "Other", Path: "/", ARN: iamARN("policy", "/", "Other")}
		wantConflict(t, "duplicate policy id", tx.CreatePolicy(dup, &store.PolicyVersion{PolicyARN: dup.ARN, VersionID: "v1"}))
		_, err := tx.GetPolicy(p.ARN)
		return err
	})
	wantNotFound(t, "policy of a failed create", readErr(t, s, func(tx store.Tx) error {
		return discard(tx.GetPolicy(iamARN("policy", "/other/", "READONLY")))
	}))
	wantNotFound(t, "missing policy", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPolicy(iamARN("policy", "/", "nope"))) }))

	// UpdatePolicy changes the default version and the update time only.
	upd := *p
	upd.DefaultVersionID, upd.UpdateTime = "v2", at(30)
	upd.Name, upd.Path, upd.Description, upd.PolicyID, upd.CreatedTime = "X", "/x/", "changed", "ANPAX", at(99)
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(&upd) })
	p.DefaultVersionID, p.UpdateTime = "v2", at(30)
	got = get(t, s, func(tx store.Tx) (*store.ManagedPolicy, error) { return tx.GetPolicy(p.ARN) })
	check(t, "updated policy", normPolicy(*got), *p)
	missing := *p
	missing.ARN = iamARN("policy", "/", "nope")
	wantNotFound(t, "update missing policy", writeErr(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(&missing) }))

	// Deleting a policy deletes its versions; the name is then free, and a
	// new policy of the same ARN starts afresh.
	mustWrite(t, s, func(tx store.Tx) error {
		return tx.CreatePolicyVersion(&store.PolicyVersion{PolicyARN: p.ARN, VersionID: "v2", Document: "{}", CreatedTime: at(30)})
	})
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePolicy(p.ARN) })
	wantNotFound(t, "deleted policy", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPolicy(p.ARN)) }))
	wantNotFound(t, "version of a deleted policy", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPolicyVersion(p.ARN, "v2")) }))
	wantNotFound(t, "delete missing policy", writeErr(t, s, func(tx store.Tx) error { return tx.DeletePolicy(p.ARN) }))
	again, againV1 := addPolicy(t, s, "ReadOnly", "/team/")
	versions := get(t, s, func(tx store.Tx) ([]store.PolicyVersion, error) { return tx.ListPolicyVersions(again.ARN) })
	check(t, "versions of a re-created policy", normAll(versions, normPolicyVersion), []store.PolicyVersion{*againV1})
}

func testIAMPolicyVersions(t *testing.T, s store.Store) {
	p, v1 := addPolicy(t, s, "Versioned", "/")
	other, otherV1 := addPolicy(t, s, "Other", "/")
	list := func(arn string) []store.PolicyVersion {
		t.Helper()
		return normAll(get(t, s, func(tx store.Tx) ([]store.PolicyVersion, error) { return tx.ListPolicyVersions(arn) }), normPolicyVersion)
	}
	version := func(id string, i int) *store.PolicyVersion {
		return &store.PolicyVersion{PolicyARN: p.ARN, VersionID: id, Document: allowDoc("s3:" + id), CreatedTime: at(100 + i)}
	}
	v2, v3 := version("v2", 2), version("v3", 3)
	mustWrite(t, s, func(tx store.Tx) error {
		if err := tx.CreatePolicyVersion(v2); err != nil {
			return err
		}
		return tx.CreatePolicyVersion(v3)
	})
	check(t, "versions", list(p.ARN), []store.PolicyVersion{*v1, *v2, *v3})
	check(t, "versions of the other policy", list(other.ARN), []store.PolicyVersion{*otherV1})
	got := get(t, s, func(tx store.Tx) (*store.PolicyVersion, error) { return tx.GetPolicyVersion(p.ARN, "v2") })
	check(t, "GetPolicyVersion", normPolicyVersion(*got), *v2)

	mustWrite(t, s, func(tx store.Tx) error {
		wantConflict(t, "duplicate version", tx.CreatePolicyVersion(version("v2", 9)))
		missing := version("v9", 9)
		missing.PolicyARN = iamARN("policy", "/", "nope")
		wantNotFound(t, "version of a missing policy", tx.CreatePolicyVersion(missing))
		return nil
	})
	wantNotFound(t, "missing version", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPolicyVersion(p.ARN, "v9")) }))
	wantNotFound(t, "version of another policy", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPolicyVersion(other.ARN, "v2")) }))
	wantNotFound(t, "versions of a missing policy", readErr(t, s, func(tx store.Tx) error {
		return discard(tx.ListPolicyVersions(iamARN("policy", "/", "nope")))
	}))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePolicyVersion(p.ARN, "v2") })
	check(t, "versions after deleting v2", list(p.ARN), []store.PolicyVersion{*v1, *v3})
	wantNotFound(t, "delete a version twice", writeErr(t, s, func(tx store.Tx) error { return tx.DeletePolicyVersion(p.ARN, "v2") }))
	wantNotFound(t, "delete a version of another policy", writeErr(t, s, func(tx store.Tx) error { return tx.DeletePolicyVersion(other.ARN, "v3") }))
	wantNotFound(t, "delete a version of a missing policy", writeErr(t, s, func(tx store.Tx) error {
		return tx.DeletePolicyVersion(iamARN("policy", "/", "nope"), "v1")
	}))
	// Deleting the newest version, then creating one, keeps creation order.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePolicyVersion(p.ARN, "v3") })
	v4, v5 := version("v4", 4), version("v5", 5)
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePolicyVersion(v4) })
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePolicyVersion(v5) })
	check(t, "versions after delete and create", list(p.ARN), []store.PolicyVersion{*v1, *v4, *v5})
	check(t, "other policy at the end", list(other.ARN), []store.PolicyVersion{*otherV1})
}

func testIAMAttachments(t *testing.T, s store.Store) {
	beta, _ := addPolicy(t, s, "Beta", "/")
	alpha, _ := addPolicy(t, s, "alpha", "/x/")
	gamma, _ := addPolicy(t, s, "Gamma", "/")
	user, group, role := iamARN("user", "/", "alice"), iamARN("group", "/", "devs"), iamARN("role", "/", "ci")
	attached := func(principal string) []store.ManagedPolicy {
		t.Helper()
		return normAll(get(t, s, func(tx store.Tx) ([]store.ManagedPolicy, error) { return tx.ListAttachedPolicies(principal) }), normPolicy)
	}
	count := func(policy string) int {
		t.Helper()
		return get(t, s, func(tx store.Tx) (int, error) { return tx.PolicyAttachmentCount(policy) })
	}
	check(t, "attached to a principal with none", len(attached(user)), 0)
	check(t, "count of an unattached policy", count(beta.ARN), 0)

	mustWrite(t, s, func(tx store.Tx) error {
		for _, a := range [][2]string{{user, beta.ARN}, {user, alpha.ARN}, {group, beta.ARN}, {role, beta.ARN},
			{user, beta.ARN}} { // again: no change
			if err := tx.AttachPolicy(a[0], a[1]); err != nil {
				return fmt.Errorf("attach %s to %s: %w", a[1], a[0], err)
			}
		}
		// A policy that does not exist cannot be attached, and the
		// transaction goes on.
		wantNotFound(t, "attach a missing policy", tx.AttachPolicy(user, iamARN("policy", "/", "nope")))
		return nil
	})
	// Attached policies come back whole, ordered by name.
	check(t, "attached to the user", attached(user), []store.ManagedPolicy{*alpha, *beta})
	check(t, "attached to the group", attached(group), []store.ManagedPolicy{*beta})
	check(t, "attached to an unknown principal", len(attached(iamARN("user", "/", "nobody"))), 0)
	check(t, "count of Beta", count(beta.ARN), 3)
	check(t, "count of alpha", count(alpha.ARN), 1)
	check(t, "count of Gamma", count(gamma.ARN), 0)
	check(t, "count of a missing policy", count(iamARN("policy", "/", "nope")), 0)

	// The listing reads the policy rows as they are now.
	alpha.DefaultVersionID, alpha.UpdateTime = "v2", at(50)
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(alpha) })
	check(t, "attached after a policy update", attached(user), []store.ManagedPolicy{*alpha, *beta})

	mustWrite(t, s, func(tx store.Tx) error { return tx.DetachPolicy(role, beta.ARN) })
	check(t, "count after detach", count(beta.ARN), 2)
	check(t, "attached to the role after detach", len(attached(role)), 0)
	wantNotFound(t, "detach twice", writeErr(t, s, func(tx store.Tx) error { return tx.DetachPolicy(role, beta.ARN) }))
	wantNotFound(t, "detach an unattached policy", writeErr(t, s, func(tx store.Tx) error { return tx.DetachPolicy(user, gamma.ARN) }))
	wantNotFound(t, "detach a missing policy", writeErr(t, s, func(tx store.Tx) error {
		return tx.DetachPolicy(user, iamARN("policy", "/", "nope"))
	}))

	// A deleted policy is attached to nothing, and a new policy of the same
	// ARN starts unattached.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePolicy(beta.ARN) })
	check(t, "attached to the user after deleting Beta", attached(user), []store.ManagedPolicy{*alpha})
	check(t, "attached to the group after deleting Beta", len(attached(group)), 0)
	addPolicy(t, s, "Beta", "/")
	check(t, "count of a re-created policy", count(beta.ARN), 0)
}

func testIAMInlinePolicies(t *testing.T, s store.Store) {
	user, role := iamARN("user", "/", "alice"), iamARN("role", "/", "ci")
	list := func(owner string) []store.InlinePolicy {
		t.Helper()
		return get(t, s, func(tx store.Tx) ([]store.InlinePolicy, error) { return tx.ListInlinePolicies(owner) })
	}
	inline := func(owner, name, doc string) store.InlinePolicy {
		return store.InlinePolicy{OwnerARN: owner, Name: name, Document: doc}
	}
	put := func(ps ...store.InlinePolicy) {
		t.Helper()
		mustWrite(t, s, func(tx store.Tx) error {
			for _, p := range ps {
				if err := tx.PutInlinePolicy(&p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	check(t, "inline policies of an owner with none", len(list(user)), 0)
	s3 := inline(user, "S3Read", allowDoc("s3:GetObject"))
	put(s3, inline(user, "codeartifact", allowDoc("codeartifact:*")), inline(user, "Build", allowDoc("codebuild:*")),
		inline(role, "S3Read", allowDoc("s3:*")))
	got := get(t, s, func(tx store.Tx) (*store.InlinePolicy, error) { return tx.GetInlinePolicy(user, "S3Read") })
	check(t, "GetInlinePolicy", *got, s3)
	got = get(t, s, func(tx store.Tx) (*store.InlinePolicy, error) { return tx.GetInlinePolicy(user, "s3read") })
	check(t, "GetInlinePolicy in another case", *got, s3)
	check(t, "inline policies", list(user), []store.InlinePolicy{
		inline(user, "Build", allowDoc("codebuild:*")), inline(user, "codeartifact", allowDoc("codeartifact:*")), s3})

	// Put replaces the document of the policy of that name in any case,
	// which keeps the name it was created with.
	put(inline(user, "s3READ", allowDoc("s3:ListBucket")))
	s3.Document = allowDoc("s3:ListBucket")
	got = get(t, s, func(tx store.Tx) (*store.InlinePolicy, error) { return tx.GetInlinePolicy(user, "S3Read") })
	check(t, "replaced inline policy", *got, s3)
	check(t, "inline policies after replace", len(list(user)), 3)
	check(t, "inline policies of the role", list(role), []store.InlinePolicy{inline(role, "S3Read", allowDoc("s3:*"))})

	wantNotFound(t, "missing inline policy", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetInlinePolicy(user, "nope")) }))
	wantNotFound(t, "inline policy of another owner", readErr(t, s, func(tx store.Tx) error {
		return discard(tx.GetInlinePolicy(role, "Build"))
	}))
	wantNotFound(t, "delete missing inline policy", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteInlinePolicy(user, "nope") }))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteInlinePolicy(user, "S3READ") })
	wantNotFound(t, "deleted inline policy", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetInlinePolicy(user, "S3Read")) }))
	wantNotFound(t, "delete inline policy twice", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteInlinePolicy(user, "S3Read") }))
	check(t, "inline policies after delete", len(list(user)), 2)
	check(t, "inline policies of the role after delete", len(list(role)), 1)
}

// testIAMDeleteAll checks that deleting an entity leaves its policies, and
// that DeleteAllInlinePolicies then removes its inline policies and
// attachments, and nobody else's.
func testIAMDeleteAll(t *testing.T, s store.Store) {
	u := addUser(t, s, "bob", "/")
	bob, bob2 := u.ARN, iamARN("user", "/", "bob2") // one ARN a prefix of the other
	p1, _ := addPolicy(t, s, "P1", "/")
	p2, _ := addPolicy(t, s, "P2", "/")
	mustWrite(t, s, func(tx store.Tx) error {
		for _, p := range []store.InlinePolicy{{OwnerARN: bob, Name: "a", Document: "{}"}, {OwnerARN: bob, Name: "b", Document: "{}"},
			{OwnerARN: bob2, Name: "a", Document: "{}"}} {
			if err := tx.PutInlinePolicy(&p); err != nil {
				return err
			}
		}
		for _, a := range [][2]string{{bob, p1.ARN}, {bob, p2.ARN}, {bob2, p1.ARN}} {
			if err := tx.AttachPolicy(a[0], a[1]); err != nil {
				return err
			}
		}
		return nil
	})
	inlineCount := func(owner string) int {
		t.Helper()
		return len(get(t, s, func(tx store.Tx) ([]store.InlinePolicy, error) { return tx.ListInlinePolicies(owner) }))
	}
	attachedCount := func(owner string) int {
		t.Helper()
		return len(get(t, s, func(tx store.Tx) ([]store.ManagedPolicy, error) { return tx.ListAttachedPolicies(owner) }))
	}

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteUser("bob") })
	check(t, "inline policies of a deleted user", inlineCount(bob), 2)
	check(t, "attachments of a deleted user", attachedCount(bob), 2)

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAllInlinePolicies(bob) })
	check(t, "inline policies after DeleteAll", inlineCount(bob), 0)
	check(t, "attachments after DeleteAll", attachedCount(bob), 0)
	check(t, "inline policies of bob2", inlineCount(bob2), 1)
	check(t, "attachments of bob2", attachedCount(bob2), 1)
	check(t, "count of P1", get(t, s, func(tx store.Tx) (int, error) { return tx.PolicyAttachmentCount(p1.ARN) }), 1)
	check(t, "count of P2", get(t, s, func(tx store.Tx) (int, error) { return tx.PolicyAttachmentCount(p2.ARN) }), 0)
	// The policies themselves stay.
	get(t, s, func(tx store.Tx) (*store.ManagedPolicy, error) { return tx.GetPolicy(p2.ARN) })
	// Nothing to delete is no error.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAllInlinePolicies(bob) })
}

// testIAMLists checks the listings of users, groups, roles and policies: by
// name compared case-insensitively, filtered by path prefix, page by page.
// The four kinds share one store and names, and must not mix.
func testIAMLists(t *testing.T, s store.Store) {
	entries := []struct{ name, path string }{
		{"carol", "/eng/backend/"}, {"Bob", "/eng/"}, {"alice", "/"}, {"Dave", "/engineering/"},
		{"_svc", "/a_b/"}, {"erin", "/axb/"}, {"frank", "/eng/"}, {"Zed", "/"},
	}
	// Case-insensitively, "_" (0x5f) sorts before the letters.
	order := []string{"_svc", "alice", "Bob", "carol", "Dave", "erin", "frank", "Zed"}
	for _, e := range entries {
		addUser(t, s, e.name, e.path)
		addGroup(t, s, e.name, e.path)
		addRole(t, s, e.name, e.path)
		addPolicy(t, s, e.name, e.path)
	}
	pathOf := map[string]string{}
	for _, e := range entries {
		pathOf[e.name] = e.path
	}
	names := func(n *string) string { return *n }
	kinds := []struct {
		kind string
		list func(tx store.Tx, prefix string, p store.Page) ([]string, error)
	}{
		{"users", func(tx store.Tx, prefix string, p store.Page) ([]string, error) {
			return namesOf(tx.ListUsers(prefix, p))(func(u store.IAMUser) string { return u.Name })
		}},
		{"groups", func(tx store.Tx, prefix string, p store.Page) ([]string, error) {
			return namesOf(tx.ListGroups(prefix, p))(func(g store.IAMGroup) string { return g.Name })
		}},
		{"roles", func(tx store.Tx, prefix string, p store.Page) ([]string, error) {
			return namesOf(tx.ListRoles(prefix, p))(func(r store.IAMRole) string { return r.Name })
		}},
		{"policies", func(tx store.Tx, prefix string, p store.Page) ([]string, error) {
			return namesOf(tx.ListPolicies(prefix, p))(func(p store.ManagedPolicy) string { return p.Name })
		}},
	}
	for _, k := range kinds {
		for _, prefix := range []string{"", "/", "/eng/", "/eng", "/eng/backend/", "/a_", "/nope/"} {
			var want []string
			for _, n := range order {
				if strings.HasPrefix(pathOf[n], prefix) {
					want = append(want, n)
				}
			}
			for _, limit := range []int{1, 2, 3, 100, 0} {
				got := pageAll(t, s, limit, func(tx store.Tx, p store.Page) ([]string, error) { return k.list(tx, prefix, p) }, names)
				check(t, fmt.Sprintf("%s under %q, %d a page", k.kind, prefix, limit), got, want)
			}
		}
		// The page key compares like the names, and need not name a record.
		for _, c := range []struct {
			after string
			want  []string
		}{
			{"carol", order[4:]}, {"CAROL", order[4:]}, {"c", order[3:]}, {"B", order[2:]}, {"zed", nil},
		} {
			got := get(t, s, func(tx store.Tx) ([]string, error) { return k.list(tx, "", store.Page{After: c.after}) })
			check(t, fmt.Sprintf("%s after %q", k.kind, c.after), got, c.want)
		}
	}
}

// namesOf maps a listing to the names of its records.
func namesOf[T any](xs []T, err error) func(func(T) string) ([]string, error) {
	return func(name func(T) string) ([]string, error) {
		if err != nil {
			return nil, err
		}
		var out []string
		for _, x := range xs {
			out = append(out, name(x))
		}
		return out, nil
	}
}
