package iam

// The actions each API serves. An IAM action is authorized as
// "iam:<Action>" on the entity it targets (see call.authorize).

var iamAPI = &queryAPI{prefix: "iam", namespace: iamNamespace, version: "2010-05-08", ops: map[string]op{
	"CreateUser": (*call).createUser,
	"GetUser":    (*call).getUser,
	"ListUsers":  (*call).listUsers,
	"DeleteUser": (*call).deleteUser,

	"CreateAccessKey":      (*call).createAccessKey,
	"ListAccessKeys":       (*call).listAccessKeys,
	"UpdateAccessKey":      (*call).updateAccessKey,
	"DeleteAccessKey":      (*call).deleteAccessKey,
	"GetAccessKeyLastUsed": (*call).getAccessKeyLastUsed,

	"CreateGroup":         (*call).createGroup,
	"GetGroup":            (*call).getGroup,
	"ListGroups":          (*call).listGroups,
	"DeleteGroup":         (*call).deleteGroup,
	"AddUserToGroup":      (*call).addUserToGroup,
	"RemoveUserFromGroup": (*call).removeUserFromGroup,
	"ListGroupsForUser":   (*call).listGroupsForUser,

	"CreateRole":             (*call).createRole,
	"GetRole":                (*call).getRole,
	"ListRoles":              (*call).listRoles,
	"DeleteRole":             (*call).deleteRole,
	"UpdateAssumeRolePolicy": (*call).updateAssumeRolePolicy,
	"UpdateRole":             (*call).updateRoleAction,
	"UpdateRoleDescription":  (*call).updateRoleDescription,

	"CreatePolicy":            (*call).createPolicy,
	"GetPolicy":               (*call).getPolicy,
	"GetPolicyVersion":        (*call).getPolicyVersion,
	"ListPolicies":            (*call).listPolicies,
	"ListPolicyVersions":      (*call).listPolicyVersions,
	"CreatePolicyVersion":     (*call).createPolicyVersion,
	"SetDefaultPolicyVersion": (*call).setDefaultPolicyVersion,
	"DeletePolicyVersion":     (*call).deletePolicyVersion,
	"DeletePolicy":            (*call).deletePolicy,

	"AttachUserPolicy":          bind((*call).attachPolicy, userEntity),
	"DetachUserPolicy":          bind((*call).detachPolicy, userEntity),
	"ListAttachedUserPolicies":  bind((*call).listAttached, userEntity),
	"AttachGroupPolicy":         bind((*call).attachPolicy, groupEntity),
	"DetachGroupPolicy":         bind((*call).detachPolicy, groupEntity),
	"ListAttachedGroupPolicies": bind((*call).listAttached, groupEntity),
	"AttachRolePolicy":          bind((*call).attachPolicy, roleEntity),
	"DetachRolePolicy":          bind((*call).detachPolicy, roleEntity),
	"ListAttachedRolePolicies":  bind((*call).listAttached, roleEntity),

	"PutUserPolicy":     bind((*call).putInline, userEntity),
	"GetUserPolicy":     bind((*call).getInline, userEntity),
	"DeleteUserPolicy":  bind((*call).deleteInline, userEntity),
	"ListUserPolicies":  bind((*call).listInline, userEntity),
	"PutGroupPolicy":    bind((*call).putInline, groupEntity),
	"GetGroupPolicy":    bind((*call).getInline, groupEntity),
	"DeleteGroupPolicy": bind((*call).deleteInline, groupEntity),
	"ListGroupPolicies": bind((*call).listInline, groupEntity),
	"PutRolePolicy":     bind((*call).putInline, roleEntity),
	"GetRolePolicy":     bind((*call).getInline, roleEntity),
	"DeleteRolePolicy":  bind((*call).deleteInline, roleEntity),
	"ListRolePolicies":  bind((*call).listInline, roleEntity),

	"CreateOpenIDConnectProvider":             (*call).createOpenIDConnectProvider,
	"GetOpenIDConnectProvider":                (*call).getOpenIDConnectProvider,
	"ListOpenIDConnectProviders":              (*call).listOpenIDConnectProviders,
	"DeleteOpenIDConnectProvider":             (*call).deleteOpenIDConnectProvider,
	"AddClientIDToOpenIDConnectProvider":      (*call).addClientIDToOpenIDConnectProvider,
	"RemoveClientIDFromOpenIDConnectProvider": (*call).removeClientIDFromOpenIDConnectProvider,
	"UpdateOpenIDConnectProviderThumbprint":   (*call).updateOpenIDConnectProviderThumbprint,
	"TagOpenIDConnectProvider":                (*call).tagOpenIDConnectProvider,
	"UntagOpenIDConnectProvider":              (*call).untagOpenIDConnectProvider,
	"ListOpenIDConnectProviderTags":           (*call).listOpenIDConnectProviderTags,

	"TagUser":      bind((*call).tagEntity, userEntity),
	"UntagUser":    bind((*call).untagEntity, userEntity),
	"ListUserTags": bind((*call).listEntityTags, userEntity),
	"TagRole":      bind((*call).tagEntity, roleEntity),
	"UntagRole":    bind((*call).untagEntity, roleEntity),
	"ListRoleTags": bind((*call).listEntityTags, roleEntity),
}}

var stsAPI = &queryAPI{prefix: "sts", namespace: stsNamespace, version: "2011-06-15", ops: map[string]op{
	"AssumeRole":                (*call).assumeRole,
	"AssumeRoleWithWebIdentity": (*call).assumeRoleWithWebIdentity,
	"GetCallerIdentity":         (*call).getCallerIdentity,
}, unsigned: map[string]bool{"AssumeRoleWithWebIdentity": true}}

func bind(fn func(*call, *entity) (any, error), e *entity) op {
	return func(c *call) (any, error) { return fn(c, e) }
}
