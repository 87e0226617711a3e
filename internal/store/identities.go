package store

import "time"

// IAM entities. Names are unique per kind within the account (IAM compares
// them case-insensitively; drivers must too). Every entity also has a
// generated unique id (AIDA... for users, AGPA... groups, AROA... roles,
// ANPA... policies) and its ARN.

// IAMUser is an IAM user.
type IAMUser struct {
	UserID      string
	Name        string
	Path        string
	ARN         string
	CreatedTime time.Time
}

// IAMGroup is an IAM group.
type IAMGroup struct {
	GroupID     string
	Name        string
	Path        string
	ARN         string
	CreatedTime time.Time
}

// IAMRole is an IAM role with its trust policy.
type IAMRole struct {
	RoleID             string
	Name               string
	Path               string
	ARN                string
	Description        string
	AssumeRolePolicy   string // the trust policy document
	MaxSessionDuration int    // seconds, 3600–43200
	CreatedTime        time.Time
}

// ManagedPolicy is a customer-managed policy; its documents are versions.
type ManagedPolicy struct {
	PolicyID         string
	Name             string
	Path             string
	ARN              string
	Description      string
	DefaultVersionID string // "v1", "v2", ...
	CreatedTime      time.Time
	UpdateTime       time.Time
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	PolicyARN   string
	VersionID   string
	Document    string
	CreatedTime time.Time
}

// InlinePolicy is a policy embedded in a user, group or role (the owner).
type InlinePolicy struct {
	OwnerARN string
	Name     string
	Document string
}

// Identities stores IAM users, groups, roles and policies. Lookups by name
// and ARN return fault.ErrNotFound when absent; creating a duplicate name
// returns fault.ErrConflict. Names are looked up, and listings ordered and
// paged, case-insensitively; ARNs compare exactly. Deleting an entity does not
// cascade to what is keyed by its ARN (inline policies, attachments, access
// keys): the IAM rules (a user with keys or groups cannot be deleted...) are
// checked by the iam package before it deletes. Only memberships go with a
// deleted user or group, and versions and attachments with a deleted policy,
// so that no new entity of the same name inherits them.
type Identities interface {
	CreateUser(u *IAMUser) error
	GetUser(name string) (*IAMUser, error)
	// ListUsers orders by name; Page.After is the last name returned.
	ListUsers(pathPrefix string, p Page) ([]IAMUser, error)
	DeleteUser(name string) error

	CreateGroup(g *IAMGroup) error
	GetGroup(name string) (*IAMGroup, error)
	ListGroups(pathPrefix string, p Page) ([]IAMGroup, error)
	DeleteGroup(name string) error
	// AddUserToGroup is idempotent.
	AddUserToGroup(group, user string) error
	RemoveUserFromGroup(group, user string) error // ErrNotFound if not a member
	// ListGroupsForUser and ListGroupMembers order by name; ErrNotFound if
	// the user or group does not exist.
	ListGroupsForUser(user string) ([]IAMGroup, error)
	ListGroupMembers(group string) ([]IAMUser, error)

	CreateRole(r *IAMRole) error
	GetRole(name string) (*IAMRole, error)
	ListRoles(pathPrefix string, p Page) ([]IAMRole, error)
	UpdateRole(r *IAMRole) error // by name: description, trust policy, max session duration
	DeleteRole(name string) error

	// CreatePolicy stores the policy with its first version (v1, default).
	CreatePolicy(p *ManagedPolicy, v1 *PolicyVersion) error
	GetPolicy(arn string) (*ManagedPolicy, error)
	ListPolicies(pathPrefix string, p Page) ([]ManagedPolicy, error)
	UpdatePolicy(p *ManagedPolicy) error // by ARN: default version, update time
	DeletePolicy(arn string) error       // with its versions and attachments
	CreatePolicyVersion(v *PolicyVersion) error
	GetPolicyVersion(arn, versionID string) (*PolicyVersion, error)
	ListPolicyVersions(arn string) ([]PolicyVersion, error) // ordered by creation; ErrNotFound if no policy
	DeletePolicyVersion(arn, versionID string) error

	// AttachPolicy is idempotent; principalARN is a user, group or role ARN
	// (not checked). ErrNotFound if the policy does not exist.
	AttachPolicy(principalARN, policyARN string) error
	DetachPolicy(principalARN, policyARN string) error                 // ErrNotFound if not attached
	ListAttachedPolicies(principalARN string) ([]ManagedPolicy, error) // ordered by name
	// PolicyAttachmentCount counts the principals a policy is attached to.
	PolicyAttachmentCount(policyARN string) (int, error)

	PutInlinePolicy(p *InlinePolicy) error // upsert by (owner, name)
	GetInlinePolicy(ownerARN, name string) (*InlinePolicy, error)
	ListInlinePolicies(ownerARN string) ([]InlinePolicy, error) // ordered by name
	DeleteInlinePolicy(ownerARN, name string) error
	// DeleteAllInlinePolicies removes every inline policy and attachment of
	// a principal (used when a deleted user, group or role is cleaned up).
	DeleteAllInlinePolicies(ownerARN string) error
}
