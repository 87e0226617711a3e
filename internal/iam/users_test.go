package iam

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestUserKeyCallerIdentity(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	u := must[*iam.CreateUserOutput](t)(e.root().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/dev/")}))
	if got, want := *u.User.Arn, "arn:aws:iam::123456789012:user/dev/alice"; got != want {
		t.Fatalf("arn %s, want %s", got, want)
	}
	if !strings.HasPrefix(*u.User.UserId, "AIDA") || len(*u.User.UserId) != 21 || u.User.CreateDate == nil {
		t.Fatalf("user %+v", u.User)
	}
	k := must[*iam.CreateAccessKeyOutput](t)(e.root().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	if *k.AccessKey.UserName != "alice" || !strings.HasPrefix(*k.AccessKey.AccessKeyId, "AKIA") || k.AccessKey.Status != types.StatusTypeActive {
		t.Fatalf("key %+v", k.AccessKey)
	}
	alice := creds(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")

	who := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *who.Arn != *u.User.Arn || *who.UserId != *u.User.UserId || *who.Account != testAccount {
		t.Fatalf("caller %s %s %s", *who.Arn, *who.UserId, *who.Account)
	}
	root := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(creds(rootAK, rootSK, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *root.Arn != "arn:aws:iam::123456789012:root" || *root.UserId != testAccount {
		t.Fatalf("root %s %s", *root.Arn, *root.UserId)
	}

	// A wrong secret, an unknown key, a token on a long-term key.
	_, err := e.stsAs(creds(*k.AccessKey.AccessKeyId, "wrong", "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "SignatureDoesNotMatch", 403, "")
	_, err = e.iamAs(creds("AKIANOSUCHKEY0000000", "x", "")).ListUsers(ctx, &iam.ListUsersInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "security token")
	_, err = e.stsAs(creds(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "tok")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")

	// GetUser without a name is the caller; the user needs iam:GetUser on itself.
	_, err = e.iamAs(alice).GetUser(ctx, &iam.GetUserInput{})
	wantErr(t, err, "AccessDenied", 403, "iam:GetUser on resource: arn:aws:iam::123456789012:user/dev/alice")
	must[*iam.PutUserPolicyOutput](t)(e.root().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"),
		PolicyName: aws.String("self"), PolicyDocument: aws.String(allow("iam:GetUser", "arn:aws:iam::*:user/*/${aws:username}"))}))
	me := must[*iam.GetUserOutput](t)(e.iamAs(alice).GetUser(ctx, &iam.GetUserInput{}))
	if *me.User.UserName != "alice" || *me.User.Path != "/dev/" {
		t.Fatalf("get-user %+v", me.User)
	}
	rootUser := must[*iam.GetUserOutput](t)(e.root().GetUser(ctx, &iam.GetUserInput{}))
	if *rootUser.User.Arn != e.id.RootARN() || *rootUser.User.UserId != testAccount {
		t.Fatalf("root get-user %+v", rootUser.User)
	}
	_, err = e.root().GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = e.root().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	wantErr(t, err, "EntityAlreadyExists", 409, "User with name ALICE already exists.")
	_, err = e.root().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name")})
	wantErr(t, err, "ValidationError", 400, "userName")
	_, err = e.root().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x"), Path: aws.String("nopath")})
	wantErr(t, err, "ValidationError", 400, "path")
}

func TestAuthorizationFollowsAttachments(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	bob := e.user("bob")
	_, err := e.iamAs(bob).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/carol")

	arn := e.policy("CreateUsers", allow("iam:CreateUser", "arn:aws:iam::123456789012:user/*"))
	must[*iam.AttachUserPolicyOutput](t)(e.root().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}))
	must[*iam.CreateUserOutput](t)(e.iamAs(bob).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}))
	// Only what the policy allows.
	_, err = e.iamAs(bob).DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")})
	wantErr(t, err, "AccessDenied", 403, "iam:DeleteUser")

	must[*iam.DetachUserPolicyOutput](t)(e.root().DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}))
	_, err = e.iamAs(bob).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")})
	wantErr(t, err, "AccessDenied", 403, "")

	// Through a group, and an explicit deny wins.
	must[*iam.CreateGroupOutput](t)(e.root().CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}))
	must[*iam.AddUserToGroupOutput](t)(e.root().AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("bob")}))
	must[*iam.AttachGroupPolicyOutput](t)(e.root().AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(arn)}))
	must[*iam.CreateUserOutput](t)(e.iamAs(bob).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}))
	must[*iam.PutUserPolicyOutput](t)(e.root().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("no"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*"}}`)}))
	_, err = e.iamAs(bob).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("erin")})
	wantErr(t, err, "AccessDenied", 403, "explicit deny")

	// A missing entity is reported only to callers allowed to act on it.
	_, err = e.iamAs(bob).GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nosuch")})
	wantErr(t, err, "AccessDenied", 403, "")
	_, err = e.root().GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nosuch")})
	wantErr(t, err, "NoSuchEntity", 404, "")
}

func TestAccessKeys(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	ak, _ := alice.Retrieve(ctx)
	must[*sts.GetCallerIdentityOutput](t)(e.stsAs(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))

	// A second key is fine; a third is over the quota.
	must[*iam.CreateAccessKeyOutput](t)(e.root().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	_, err := e.root().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	wantErr(t, err, "LimitExceeded", 409, "AccessKeysPerUser: 2")

	list := must[*iam.ListAccessKeysOutput](t)(e.root().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")}))
	if len(list.AccessKeyMetadata) != 2 || list.IsTruncated {
		t.Fatalf("keys %+v", list)
	}
	for _, k := range list.AccessKeyMetadata {
		if *k.UserName != "alice" || k.Status != types.StatusTypeActive {
			t.Fatalf("key %+v", k)
		}
	}

	// Last use is recorded (asynchronously) on a successful lookup.
	e.id.bg.Wait()
	lu := must[*iam.GetAccessKeyLastUsedOutput](t)(e.root().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(ak.AccessKeyID)}))
	if *lu.UserName != "alice" || lu.AccessKeyLastUsed == nil || lu.AccessKeyLastUsed.LastUsedDate == nil {
		t.Fatalf("last used %+v", lu.AccessKeyLastUsed)
	}

	// Inactive keys fail at once; active again, they work again.
	must[*iam.UpdateAccessKeyOutput](t)(e.root().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(ak.AccessKeyID), Status: types.StatusTypeInactive}))
	_, err = e.stsAs(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	must[*iam.UpdateAccessKeyOutput](t)(e.root().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(ak.AccessKeyID), Status: types.StatusTypeActive}))
	must[*sts.GetCallerIdentityOutput](t)(e.stsAs(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))

	_, err = e.root().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(ak.AccessKeyID), Status: "Sleepy"})
	wantErr(t, err, "ValidationError", 400, "status")
	// Another user's key is not found under this user, nor the root's.
	e.user("bob")
	_, err = e.root().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(ak.AccessKeyID)})
	wantErr(t, err, "NoSuchEntity", 404, "")
	_, err = e.root().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(ak.AccessKeyID)})
	wantErr(t, err, "NoSuchEntity", 404, "")

	// A user manages its own keys without naming itself, given the permission.
	must[*iam.PutUserPolicyOutput](t)(e.root().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("keys"),
		PolicyDocument: aws.String(allow("iam:*AccessKey*", "arn:aws:iam::123456789012:user/${aws:username}"))}))
	own := must[*iam.ListAccessKeysOutput](t)(e.iamAs(alice).ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))
	if len(own.AccessKeyMetadata) != 2 {
		t.Fatalf("own keys %+v", own.AccessKeyMetadata)
	}
	_, err = e.iamAs(alice).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	wantErr(t, err, "AccessDenied", 403, "user/bob")
	must[*iam.DeleteAccessKeyOutput](t)(e.iamAs(alice).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(ak.AccessKeyID)}))
	_, err = e.stsAs(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")

	// The root lists and makes its own keys.
	rk := must[*iam.ListAccessKeysOutput](t)(e.root().ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))
	if len(rk.AccessKeyMetadata) != 1 || *rk.AccessKeyMetadata[0].AccessKeyId != rootAK {
		t.Fatalf("root keys %+v", rk.AccessKeyMetadata)
	}
	nk := must[*iam.CreateAccessKeyOutput](t)(e.root().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))
	who := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(creds(*nk.AccessKey.AccessKeyId, *nk.AccessKey.SecretAccessKey, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *who.Arn != e.id.RootARN() {
		t.Fatalf("new root key is %s", *who.Arn)
	}
}

func TestDeletingAUserRevokesItsKeys(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	ak, _ := alice.Retrieve(ctx)
	must[*iam.DeleteAccessKeyOutput](t)(e.root().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(ak.AccessKeyID)}))
	must[*iam.DeleteUserOutput](t)(e.root().DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}))
	if _, err := e.id.Lookup(ctx, ak.AccessKeyID); !isNotFound(err) {
		t.Fatalf("lookup after delete: %v", err)
	}
}

func TestDeleteConflicts(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	alice := e.user("alice")
	ak, _ := alice.Retrieve(ctx)
	pol := e.policy("P", allow("iam:Get*", "*"))
	must[*iam.CreateGroupOutput](t)(r.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("role"), AssumeRolePolicyDocument: aws.String(trustDoc(testAccount))}))

	steps := []struct {
		name  string
		del   func() error
		msg   string
		clear func() error
	}{
		{"user with keys", func() error {
			_, err := r.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		},
			"access keys", func() error {
				_, err := r.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(ak.AccessKeyID)})
				return err
			}},
		{"user in a group", func() error {
			if _, err := r.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("alice")}); err != nil {
				return err
			}
			_, err := r.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}, "group", nil},
		{"group with members", func() error {
			_, err := r.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		},
			"remove users", func() error {
				_, err := r.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("g"), UserName: aws.String("alice")})
				return err
			}},
		{"user with an attached policy", func() error {
			if _, err := r.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(pol)}); err != nil {
				return err
			}
			_, err := r.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}, "detach", nil},
		{"attached policy", func() error {
			_, err := r.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(pol)})
			return err
		},
			"attached", func() error {
				_, err := r.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(pol)})
				return err
			}},
		{"user with an inline policy", func() error {
			if _, err := r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("i"), PolicyDocument: aws.String(allow("s3:*", "*"))}); err != nil {
				return err
			}
			_, err := r.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}, "delete policies", func() error {
			_, err := r.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("i")})
			return err
		}},
		{"group with an inline policy", func() error {
			if _, err := r.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("i"), PolicyDocument: aws.String(allow("s3:*", "*"))}); err != nil {
				return err
			}
			_, err := r.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		}, "delete policies", func() error {
			_, err := r.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("i")})
			return err
		}},
		{"group with an attached policy", func() error {
			if _, err := r.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(pol)}); err != nil {
				return err
			}
			_, err := r.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		}, "detach", func() error {
			_, err := r.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(pol)})
			return err
		}},
		{"role with an inline policy", func() error {
			if _, err := r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("role"), PolicyName: aws.String("i"), PolicyDocument: aws.String(allow("s3:*", "*"))}); err != nil {
				return err
			}
			_, err := r.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("role")})
			return err
		}, "delete policies", func() error {
			_, err := r.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("role"), PolicyName: aws.String("i")})
			return err
		}},
		{"role with an attached policy", func() error {
			if _, err := r.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("role"), PolicyArn: aws.String(pol)}); err != nil {
				return err
			}
			_, err := r.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("role")})
			return err
		}, "detach", func() error {
			_, err := r.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("role"), PolicyArn: aws.String(pol)})
			return err
		}},
		{"default policy version", func() error {
			_, err := r.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(pol), VersionId: aws.String("v1")})
			return err
		}, "default version", nil},
	}
	for _, s := range steps {
		wantErr(t, s.del(), "DeleteConflict", 409, s.msg)
		if s.clear != nil {
			if err := s.clear(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
	}
	// Everything is deletable now.
	for _, err := range []error{
		func() error {
			_, err := r.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}(),
		func() error {
			_, err := r.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		}(),
		func() error {
			_, err := r.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("role")})
			return err
		}(),
		func() error {
			_, err := r.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(pol)})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := r.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(pol)})
	wantErr(t, err, "NoSuchEntity", 404, "")
}

func TestPagination(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("user%d", i)
		want = append(want, name)
		must[*iam.CreateUserOutput](t)(r.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
		must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("user0"),
			PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(allow("s3:Get*", "*"))}))
	}
	first := must[*iam.ListUsersOutput](t)(r.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(3)}))
	if len(first.Users) != 3 || !first.IsTruncated || first.Marker == nil {
		t.Fatalf("first page %d truncated=%v", len(first.Users), first.IsTruncated)
	}
	var got []string
	pages := 0
	for p := iam.NewListUsersPaginator(r, &iam.ListUsersInput{MaxItems: aws.Int32(3)}); p.HasMorePages(); pages++ {
		out := must[*iam.ListUsersOutput](t)(p.NextPage(ctx))
		for _, u := range out.Users {
			got = append(got, *u.UserName)
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages: %v", pages, got)
	}

	got, pages = nil, 0
	for p := iam.NewListUserPoliciesPaginator(r, &iam.ListUserPoliciesInput{UserName: aws.String("user0"), MaxItems: aws.Int32(2)}); p.HasMorePages(); pages++ {
		out := must[*iam.ListUserPoliciesOutput](t)(p.NextPage(ctx))
		got = append(got, out.PolicyNames...)
	}
	if pages != 4 || strings.Join(got, ",") != "p0,p1,p2,p3,p4,p5,p6" {
		t.Fatalf("%d pages: %v", pages, got)
	}

	_, err := r.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)})
	wantErr(t, err, "ValidationError", 400, "maxItems")
	_, err = r.ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("!!!")})
	wantErr(t, err, "ValidationError", 400, "Marker")
	pre := must[*iam.ListUsersOutput](t)(r.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/nothing/")}))
	if len(pre.Users) != 0 || pre.IsTruncated {
		t.Fatalf("path prefix: %+v", pre.Users)
	}
}
