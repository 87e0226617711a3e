package iam

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"coffer/internal/auth/sigv4"
)

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tagsOf(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestEntityTags covers the tag operations of users and roles and IAM's
// rules for them (IAM User Guide, "Tags for AWS Identity and Access
// Management resources": at most 50 per entity, keys case-insensitive with
// their case preserved, the aws: prefix reserved).
func TestEntityTags(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()

	u := must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"),
		Tags: []types.Tag{tag("Department", "finance"), tag("cost-center", "12")}}))
	if got := tagsOf(u.User.Tags); !maps.Equal(got, map[string]string{"Department": "finance", "cost-center": "12"}) {
		t.Fatalf("CreateUser tags %v", got)
	}
	got := must[*iam.GetUserOutput](t)(r.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}))
	if len(got.User.Tags) != 2 {
		t.Fatalf("GetUser tags %v", got.User.Tags)
	}
	// department=hr replaces Department=finance (keys are case-insensitive).
	must[*iam.TagUserOutput](t)(r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{tag("department", "hr"), tag("team", "blue")}}))
	list := must[*iam.ListUserTagsOutput](t)(r.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("alice")}))
	if got := tagsOf(list.Tags); !maps.Equal(got, map[string]string{"department": "hr", "cost-center": "12", "team": "blue"}) {
		t.Fatalf("after TagUser %v", got)
	}
	page := must[*iam.ListUserTagsOutput](t)(r.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("alice"), MaxItems: aws.Int32(2)}))
	if len(page.Tags) != 2 || !page.IsTruncated {
		t.Fatalf("first page %+v", page)
	}
	rest := must[*iam.ListUserTagsOutput](t)(r.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("alice"), Marker: page.Marker}))
	if len(rest.Tags) != 1 || rest.IsTruncated {
		t.Fatalf("second page %+v", rest)
	}
	must[*iam.UntagUserOutput](t)(r.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("alice"), TagKeys: []string{"TEAM", "absent"}}))
	list = must[*iam.ListUserTagsOutput](t)(r.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("alice")}))
	if got := tagsOf(list.Tags); !maps.Equal(got, map[string]string{"department": "hr", "cost-center": "12"}) {
		t.Fatalf("after UntagUser %v", got)
	}

	// Limits and errors.
	var fifty []types.Tag
	for i := range 49 {
		fifty = append(fifty, tag(fmt.Sprintf("k%02d", i), "v"))
	}
	_, err := r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: fifty})
	wantErr(t, err, "LimitExceeded", 409, "TagsPerUser: 50")
	_, err = r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: append(fifty, tag("a", "1"), tag("b", "2"))})
	wantErr(t, err, "ValidationError", 400, "less than or equal to 50")
	_, err = r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{tag("x", "1"), tag("X", "2")}})
	wantErr(t, err, "InvalidInput", 400, "Duplicate tag keys")
	_, err = r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{tag("aws:team", "1")}})
	wantErr(t, err, "InvalidInput", 400, "aws:")
	_, err = r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{tag("bad*key", "1")}})
	wantErr(t, err, "ValidationError", 400, "tags.1.member.key")
	_, err = r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{tag("k", string(make([]byte, 257)))}})
	wantErr(t, err, "ValidationError", 400, "tags.1.member.value")
	_, err = r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("nobody"), Tags: []types.Tag{tag("k", "v")}})
	wantErr(t, err, "NoSuchEntity", 404, "")
	_, err = r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Tags: []types.Tag{tag("aws:x", "1")}})
	wantErr(t, err, "InvalidInput", 400, "")
	if _, err := r.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); err == nil {
		t.Fatal("CreateUser with invalid tags created the user")
	}

	// Tags go with the user.
	must[*iam.DeleteUserOutput](t)(r.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}))
	must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	if got := must[*iam.GetUserOutput](t)(r.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})); len(got.User.Tags) != 0 {
		t.Fatalf("re-created user has tags %v", got.User.Tags)
	}

	// Roles: the same operations.
	role := must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("builder"),
		AssumeRolePolicyDocument: aws.String(trustDoc("123456789012")), Tags: []types.Tag{tag("team", "blue")}}))
	if got := tagsOf(role.Role.Tags); got["team"] != "blue" {
		t.Fatalf("CreateRole tags %v", got)
	}
	must[*iam.TagRoleOutput](t)(r.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("builder"), Tags: []types.Tag{tag("Team", "red"), tag("env", "ci")}}))
	gr := must[*iam.GetRoleOutput](t)(r.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("builder")}))
	if got := tagsOf(gr.Role.Tags); !maps.Equal(got, map[string]string{"Team": "red", "env": "ci"}) {
		t.Fatalf("GetRole tags %v", got)
	}
	must[*iam.UntagRoleOutput](t)(r.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("builder"), TagKeys: []string{"env"}}))
	lr := must[*iam.ListRoleTagsOutput](t)(r.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("builder")}))
	if got := tagsOf(lr.Tags); !maps.Equal(got, map[string]string{"Team": "red"}) {
		t.Fatalf("ListRoleTags %v", got)
	}
	must[*iam.DeleteRoleOutput](t)(r.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("builder")}))
	must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("builder"), AssumeRolePolicyDocument: aws.String(trustDoc("123456789012"))}))
	if lr := must[*iam.ListRoleTagsOutput](t)(r.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("builder")})); len(lr.Tags) != 0 {
		t.Fatalf("re-created role has tags %v", lr.Tags)
	}
}

// TestTagConditions runs the IAM User Guide's examples of "Controlling
// access to and for IAM users and roles using tags" against the tag
// operations: iam:ResourceTag on the user acted on, aws:RequestTag on the
// tags passed, aws:TagKeys on the keys removed, and aws:PrincipalTag.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html
func TestTagConditions(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	admin := e.user("admin")
	for _, u := range []struct {
		name string
		tags []types.Tag
	}{{"emp", []types.Tag{tag("jobFunction", "employee"), tag("temporary", "yes")}}, {"boss", []types.Tag{tag("jobFunction", "manager")}},
		{"gone", []types.Tag{tag("status", "terminated")}}, {"kept", nil}} {
		must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name), Tags: u.tags}))
	}
	put := func(name, doc string) {
		t.Helper()
		must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
	}
	as := e.iamAs(admin)

	// "Controlling access to IAM resources": delete users tagged status=terminated.
	put("delete-terminated", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:DeleteUser","Resource":"*","Condition":{"StringLike":{"iam:ResourceTag/status":"terminated"}}}]}`)
	_, err := as.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("kept")})
	wantErr(t, err, "AccessDenied", 403, "iam:DeleteUser")
	must[*iam.DeleteUserOutput](t)(as.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("gone")}))

	// ... and edit the tags of users tagged jobFunction=employee.
	put("edit-employees", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUserTags","iam:TagUser","iam:UntagUser"],"Resource":"*","Condition":{"StringLike":{"iam:ResourceTag/jobFunction":"employee"}}}]}`)
	must[*iam.ListUserTagsOutput](t)(as.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("emp")}))
	_, err = as.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("boss")})
	wantErr(t, err, "AccessDenied", 403, "iam:ListUserTags")
	must[*iam.DeleteUserPolicyOutput](t)(r.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("edit-employees")}))

	// "Controlling access during IAM requests": tag users only with department HR or CS.
	put("tag-departments", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"StringLike":{"aws:RequestTag/department":["HR","CS"]}}}]}`)
	must[*iam.TagUserOutput](t)(as.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("kept"), Tags: []types.Tag{tag("department", "HR")}}))
	_, err = as.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("kept"), Tags: []types.Tag{tag("department", "Sales")}})
	wantErr(t, err, "AccessDenied", 403, "iam:TagUser")
	_, err = as.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("kept"), Tags: []types.Tag{tag("team", "x")}})
	wantErr(t, err, "AccessDenied", 403, "iam:TagUser")

	// "Controlling access based on tag keys": remove only the temporary tag.
	put("untag-temporary", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:UntagUser","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["temporary"]}}}]}`)
	must[*iam.UntagUserOutput](t)(as.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("emp"), TagKeys: []string{"temporary"}}))
	_, err = as.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("emp"), TagKeys: []string{"temporary", "jobFunction"}})
	wantErr(t, err, "AccessDenied", 403, "iam:UntagUser")

	// aws:RequestTag on CreateUser: only users created with a team tag.
	put("create-tagged", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}`)
	_, err = as.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("new1")})
	wantErr(t, err, "AccessDenied", 403, "iam:CreateUser")
	must[*iam.CreateUserOutput](t)(as.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("new1"), Tags: []types.Tag{tag("team", "blue")}}))

	// "Controlling access for IAM principals": the principal's tag must
	// equal the resource's; admin has none, so nothing matches until it is tagged.
	put("same-team", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/team":"${aws:PrincipalTag/team}"}}}}`)
	_, err = as.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("new1")})
	wantErr(t, err, "AccessDenied", 403, "iam:GetUser")
	must[*iam.TagUserOutput](t)(r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("admin"), Tags: []types.Tag{tag("Team", "blue")}}))
	must[*iam.GetUserOutput](t)(as.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("new1")}))
	_, err = as.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("boss")})
	wantErr(t, err, "AccessDenied", 403, "iam:GetUser")
}

// TestPrincipalTags checks aws:PrincipalTag: a user's own tags; a role
// session's role tags overridden by session tags with the same key, keys
// compared ignoring case (STS API Reference, AssumeRole, Tags: "session
// tags override a role tag with the same key"; "you cannot have separate
// Department and department tag keys"); the role's ARN as aws:PrincipalArn
// for the role's trust decisions and the session's.
func TestPrincipalTags(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	alice := e.user("alice")
	must[*iam.TagUserOutput](t)(r.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{tag("team", "blue")}}))
	ak, _ := alice.Retrieve(ctx)
	lp := must[*sigv4.Credential](t)(e.id.Lookup(ctx, ak.AccessKeyID)).Principal
	if got := must[map[string]string](t)(e.id.PrincipalTags(ctx, lp)); !maps.Equal(got, map[string]string{"team": "blue"}) {
		t.Fatalf("user tags %v", got)
	}

	// A trust policy conditioned on the caller's tag (aws:PrincipalTag in sts:AssumeRole).
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole",` +
		`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`
	must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trust), Tags: []types.Tag{tag("Department", "Marketing"), tag("env", "prod")}}))
	out := must[*sts.AssumeRoleOutput](t)(e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/ci/deployer"),
		RoleSessionName: aws.String("s1")}))
	sp := must[*sigv4.Credential](t)(e.id.Lookup(ctx, *out.Credentials.AccessKeyId)).Principal
	if got := must[map[string]string](t)(e.id.PrincipalTags(ctx, sp)); !maps.Equal(got, map[string]string{"Department": "Marketing", "env": "prod"}) {
		t.Fatalf("role session tags %v", got)
	}
	withSession := *sp
	withSession.SessionTags = map[string]string{"department": "engineering"}
	if got := must[map[string]string](t)(e.id.PrincipalTags(ctx, &withSession)); !maps.Equal(got, map[string]string{"department": "engineering", "env": "prod"}) {
		t.Fatalf("session tags over role tags %v", got)
	}
	if got := sp.PrincipalARN(); got != "arn:aws:iam::123456789012:role/ci/deployer" {
		t.Fatalf("aws:PrincipalArn of the session %s", got)
	}
	must[*iam.UntagUserOutput](t)(r.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("alice"), TagKeys: []string{"team"}}))
	_, err := e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/ci/deployer"), RoleSessionName: aws.String("s2")})
	wantErr(t, err, "AccessDenied", 403, "sts:AssumeRole")

	// An IAM call by the session: aws:PrincipalArn is the role, with its path.
	must[*iam.PutRolePolicyOutput](t)(r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*",` +
			`"Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/ci/deployer"},"StringEquals":{"aws:PrincipalTag/env":"prod"}}}]}`)}))
	session := creds(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	must[*iam.ListUsersOutput](t)(e.iamAs(session).ListUsers(ctx, &iam.ListUsersInput{}))
}
