package iam

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestManagedPolicies(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"codeartifact:Get*\", \"Resource\": \"*\"}]\n}"
	cp := must[*iam.CreatePolicyOutput](t)(r.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Read"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(doc), Description: aws.String("read things")}))
	arn := *cp.Policy.Arn
	if arn != "arn:aws:iam::123456789012:policy/team/Read" || *cp.Policy.DefaultVersionId != "v1" || !strings.HasPrefix(*cp.Policy.PolicyId, "ANPA") {
		t.Fatalf("policy %+v", cp.Policy)
	}
	_, err := r.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(doc)})
	wantErr(t, err, "EntityAlreadyExists", 409, "")

	// Documents come back URL-encoded and unchanged.
	v1 := must[*iam.GetPolicyVersionOutput](t)(r.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))
	if got, _ := url.QueryUnescape(*v1.PolicyVersion.Document); got != doc || !v1.PolicyVersion.IsDefaultVersion {
		t.Fatalf("document %q", *v1.PolicyVersion.Document)
	}
	if strings.ContainsAny(*v1.PolicyVersion.Document, " {\"+") {
		t.Fatalf("document not encoded: %q", *v1.PolicyVersion.Document)
	}

	// Versions: up to five, the default cannot go, a new default applies.
	for i := 2; i <= 5; i++ {
		v := must[*iam.CreatePolicyVersionOutput](t)(r.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn),
			PolicyDocument: aws.String(allow(fmt.Sprintf("s3:Get%d", i), "*")), SetAsDefault: i == 3}))
		if *v.PolicyVersion.VersionId != fmt.Sprintf("v%d", i) || v.PolicyVersion.IsDefaultVersion != (i == 3) {
			t.Fatalf("version %+v", v.PolicyVersion)
		}
	}
	_, err = r.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc)})
	wantErr(t, err, "LimitExceeded", 409, "up to 5 versions")
	gp := must[*iam.GetPolicyOutput](t)(r.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))
	if *gp.Policy.DefaultVersionId != "v3" || *gp.Policy.AttachmentCount != 0 || *gp.Policy.Description != "read things" {
		t.Fatalf("policy %+v", gp.Policy)
	}
	_, err = r.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantErr(t, err, "DeleteConflict", 409, "")
	must[*iam.DeletePolicyVersionOutput](t)(r.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))
	_, err = r.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	must[*iam.SetDefaultPolicyVersionOutput](t)(r.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")}))
	_, err = r.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	vs := must[*iam.ListPolicyVersionsOutput](t)(r.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))
	var ids []string
	for _, v := range vs.Versions {
		ids = append(ids, fmt.Sprintf("%s:%v", *v.VersionId, v.IsDefaultVersion))
	}
	if strings.Join(ids, ",") != "v2:false,v3:false,v4:false,v5:true" {
		t.Fatalf("versions %v", ids)
	}
	// A new version after a deletion never reuses a number below the highest.
	must[*iam.CreatePolicyVersionOutput](t)(r.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc)}))
	must[*iam.GetPolicyVersionOutput](t)(r.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")}))

	// Listing: Local and All are ours, AWS is empty; OnlyAttached filters.
	e.policy("Other", allow("s3:*", "*"))
	must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	must[*iam.AttachUserPolicyOutput](t)(r.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
	for _, tc := range []struct {
		in   iam.ListPoliciesInput
		want string
	}{
		{iam.ListPoliciesInput{}, "Other,Read"},
		{iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}, "Other,Read"},
		{iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAll, OnlyAttached: true}, "Read"},
		{iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}, ""},
		{iam.ListPoliciesInput{PathPrefix: aws.String("/team/")}, "Read"},
		{iam.ListPoliciesInput{MaxItems: aws.Int32(1)}, "Other"},
	} {
		out := must[*iam.ListPoliciesOutput](t)(r.ListPolicies(ctx, &tc.in))
		var names []string
		for _, p := range out.Policies {
			names = append(names, *p.PolicyName)
			if *p.PolicyName == "Read" && *p.AttachmentCount != 1 {
				t.Fatalf("attachment count %d", *p.AttachmentCount)
			}
		}
		if strings.Join(names, ",") != tc.want {
			t.Fatalf("%+v: %v", tc.in, names)
		}
	}
	att := must[*iam.ListAttachedUserPoliciesOutput](t)(r.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("u")}))
	if len(att.AttachedPolicies) != 1 || *att.AttachedPolicies[0].PolicyArn != arn || *att.AttachedPolicies[0].PolicyName != "Read" {
		t.Fatalf("attached %+v", att.AttachedPolicies)
	}
	_, err = r.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/Nope")})
	wantErr(t, err, "NoSuchEntity", 404, "does not exist")
	_, err = r.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: aws.String(arn)})
	wantErr(t, err, "NoSuchEntity", 404, "nobody")
	_, err = r.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(e.policy("Third", allow("s3:*", "*")))})
	wantErr(t, err, "NoSuchEntity", 404, "")
}

func TestMalformedAndOversizedPolicies(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	for _, doc := range []string{
		`{`,
		`{"Version":"2012-10-17"}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,                                        // no Resource
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,         // principal in an identity policy
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`,                         // bad effect
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Nope":{}}}]}`, // bad operator
	} {
		_, err := r.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
		wantErr(t, err, "MalformedPolicyDocument", 400, "")
		_, err = r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
		wantErr(t, err, "MalformedPolicyDocument", 400, "")
	}

	// Sizes: managed 6144 per document; inline 2048 for all of a user's together.
	padded := func(n int) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("a", n) + `","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	}
	_, err := r.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(padded(6100))})
	wantErr(t, err, "LimitExceeded", 409, "PolicySize: 6144")
	must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("a"), PolicyDocument: aws.String(padded(1000))}))
	_, err = r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("b"), PolicyDocument: aws.String(padded(1000))})
	wantErr(t, err, "LimitExceeded", 409, "2048")
	// Replacing a policy counts its new size only.
	must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("A"), PolicyDocument: aws.String(padded(1900))}))
	got := must[*iam.GetUserPolicyOutput](t)(r.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("a")}))
	if d, _ := url.QueryUnescape(*got.PolicyDocument); d != padded(1900) || *got.UserName != "u" {
		t.Fatalf("inline policy %s %s", *got.UserName, d)
	}
	// Groups allow 5120, roles 10240.
	must[*iam.CreateGroupOutput](t)(r.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.PutGroupPolicyOutput](t)(r.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("a"), PolicyDocument: aws.String(padded(5000))}))
	_, err = r.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("a"), PolicyDocument: aws.String(padded(5100))})
	wantErr(t, err, "LimitExceeded", 409, "5120")
	must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustDoc(testAccount))}))
	must[*iam.PutRolePolicyOutput](t)(r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("a"), PolicyDocument: aws.String(padded(10000))}))
	_, err = r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("b"), PolicyDocument: aws.String(padded(500))})
	wantErr(t, err, "LimitExceeded", 409, "10240")
	gr := must[*iam.GetRolePolicyOutput](t)(r.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("a")}))
	if *gr.RoleName != "r" || *gr.PolicyName != "a" {
		t.Fatalf("role policy %+v", gr)
	}
	_, err = r.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("zz")})
	wantErr(t, err, "NoSuchEntity", 404, "")
}

func TestAttachmentQuota(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	must[*iam.CreateGroupOutput](t)(r.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	for i := range 11 {
		arn := e.policy(fmt.Sprintf("p%02d", i), allow("s3:*", "*"))
		_, err := r.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(arn)})
		if i < 10 && err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			wantErr(t, err, "LimitExceeded", 409, "PoliciesPerGroup")
		}
	}
	// Re-attaching is idempotent, even at the quota.
	must[*iam.AttachGroupPolicyOutput](t)(r.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"),
		PolicyArn: aws.String("arn:aws:iam::123456789012:policy/p00")}))
	att := must[*iam.ListAttachedGroupPoliciesOutput](t)(r.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("g"), MaxItems: aws.Int32(4)}))
	if len(att.AttachedPolicies) != 4 || !att.IsTruncated {
		t.Fatalf("attached page %+v", att)
	}
}

func TestGroups(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	g := must[*iam.CreateGroupOutput](t)(r.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")}))
	if *g.Group.Arn != "arn:aws:iam::123456789012:group/eng/devs" || !strings.HasPrefix(*g.Group.GroupId, "AGPA") {
		t.Fatalf("group %+v", g.Group)
	}
	must[*iam.CreateGroupOutput](t)(r.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}))
	for _, u := range []string{"a", "b", "c"} {
		must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
		must[*iam.AddUserToGroupOutput](t)(r.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))
	}
	must[*iam.AddUserToGroupOutput](t)(r.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("a")}))
	gg := must[*iam.GetGroupOutput](t)(r.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(2)}))
	if len(gg.Users) != 2 || !gg.IsTruncated || *gg.Group.GroupName != "devs" {
		t.Fatalf("get-group %+v", gg)
	}
	gg = must[*iam.GetGroupOutput](t)(r.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs"), Marker: gg.Marker}))
	if len(gg.Users) != 1 || *gg.Users[0].UserName != "c" || gg.IsTruncated {
		t.Fatalf("get-group page 2 %+v", gg.Users)
	}
	fu := must[*iam.ListGroupsForUserOutput](t)(r.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("a")}))
	if len(fu.Groups) != 2 {
		t.Fatalf("groups for user %+v", fu.Groups)
	}
	lg := must[*iam.ListGroupsOutput](t)(r.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/eng")}))
	if len(lg.Groups) != 1 || *lg.Groups[0].GroupName != "devs" {
		t.Fatalf("list groups %+v", lg.Groups)
	}
	must[*iam.RemoveUserFromGroupOutput](t)(r.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("a")}))
	_, err := r.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("a")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	_, err = r.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("zed")})
	wantErr(t, err, "NoSuchEntity", 404, "zed")
	must[*iam.DeleteGroupOutput](t)(r.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}))
}
