package iam

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"coffer/internal/auth/sigv4"
)

func TestAssumeRole(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	alice := e.user("alice")
	e.user("bob")
	trust := trustDoc("arn:aws:iam::123456789012:user/alice")
	role := must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("CI"), MaxSessionDuration: aws.Int32(7200)}))
	if *role.Role.Arn != "arn:aws:iam::123456789012:role/ci/deployer" || !strings.HasPrefix(*role.Role.RoleId, "AROA") || *role.Role.MaxSessionDuration != 7200 {
		t.Fatalf("role %+v", role.Role)
	}
	if doc, _ := url.QueryUnescape(*role.Role.AssumeRolePolicyDocument); doc != trust {
		t.Fatalf("trust policy comes back as %s", *role.Role.AssumeRolePolicyDocument)
	}

	out := must[*sts.AssumeRoleOutput](t)(e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn,
		RoleSessionName: aws.String("build-42"), DurationSeconds: aws.Int32(900)}))
	c := out.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || *c.SecretAccessKey == "" || *c.SessionToken == "" {
		t.Fatalf("credentials %+v", c)
	}
	if d := time.Until(*c.Expiration); d < 14*time.Minute || d > 16*time.Minute {
		t.Fatalf("expiration in %v", d)
	}
	wantARN := "arn:aws:sts::123456789012:assumed-role/deployer/build-42"
	if *out.AssumedRoleUser.Arn != wantARN || *out.AssumedRoleUser.AssumedRoleId != *role.Role.RoleId+":build-42" {
		t.Fatalf("assumed role user %+v", out.AssumedRoleUser)
	}
	session := creds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	who := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *who.Arn != wantARN || *who.UserId != *role.Role.RoleId+":build-42" {
		t.Fatalf("session is %s %s", *who.Arn, *who.UserId)
	}
	p := must[*sigv4.Credential](t)(e.id.Lookup(ctx, *c.AccessKeyId))
	if p.Principal.RoleARN != *role.Role.Arn || p.Principal.SessionExpiry.IsZero() || p.SessionToken != *c.SessionToken {
		t.Fatalf("lookup %+v", p.Principal)
	}

	// The session has the role's permissions, nothing more.
	_, err := e.iamAs(session).ListUsers(ctx, &iam.ListUsersInput{})
	wantErr(t, err, "AccessDenied", 403, "User: "+wantARN+" is not authorized to perform: iam:ListUsers")
	must[*iam.PutRolePolicyOutput](t)(r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(allow("iam:ListUsers", "*"))}))
	must[*iam.ListUsersOutput](t)(e.iamAs(session).ListUsers(ctx, &iam.ListUsersInput{}))

	// Wrong or missing session token.
	_, err = e.stsAs(creds(*c.AccessKeyId, *c.SecretAccessKey, "forged")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	_, err = e.stsAs(creds(*c.AccessKeyId, *c.SecretAccessKey, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")

	// Durations: above the role's maximum, below STS's minimum, role chaining.
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7201)})
	wantErr(t, err, "ValidationError", 400, "MaxSessionDuration")
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)})
	wantErr(t, err, "ValidationError", 400, "durationSeconds")
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("bad name!")})
	wantErr(t, err, "ValidationError", 400, "roleSessionName")
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1"), Policy: aws.String(allow("*", "*"))})
	wantErr(t, err, "ValidationError", 400, "Session policies")

	// Callers the trust policy does not name, and missing roles, are refused alike.
	bob := e.user("bobby")
	_, err = e.stsAs(bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "is not authorized to perform: sts:AssumeRole on resource: "+*role.Role.Arn)
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/nosuch"), RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "")
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/deployer"), RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "") // the path is part of the ARN

	// A trust policy naming the account delegates to identity policies;
	// the root is the account and needs none.
	acct := must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("acct"), AssumeRolePolicyDocument: aws.String(trustDoc("arn:aws:iam::123456789012:root"))}))
	_, err = e.stsAs(bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: acct.Role.Arn, RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "")
	must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bobby"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(allow("sts:AssumeRole", *acct.Role.Arn))}))
	must[*sts.AssumeRoleOutput](t)(e.stsAs(bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: acct.Role.Arn, RoleSessionName: aws.String("s1")}))
	rs := must[*sts.AssumeRoleOutput](t)(e.stsAs(creds(rootAK, rootSK, "")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: acct.Role.Arn, RoleSessionName: aws.String("root")}))

	// Role chaining is limited to an hour.
	must[*iam.PutRolePolicyOutput](t)(r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("acct"), PolicyName: aws.String("chain"),
		PolicyDocument: aws.String(allow("sts:AssumeRole", *acct.Role.Arn))}))
	rsc := creds(*rs.Credentials.AccessKeyId, *rs.Credentials.SecretAccessKey, *rs.Credentials.SessionToken)
	_, err = e.stsAs(rsc).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: acct.Role.Arn, RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(3601)})
	wantErr(t, err, "ValidationError", 400, "role chaining")
	must[*sts.AssumeRoleOutput](t)(e.stsAs(rsc).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: acct.Role.Arn, RoleSessionName: aws.String("chain")}))

	// Changing the trust policy takes effect at once.
	must[*iam.UpdateAssumeRolePolicyOutput](t)(r.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deployer"),
		PolicyDocument: aws.String(trustDoc("arn:aws:iam::123456789012:user/bobby"))}))
	_, err = e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s2")})
	wantErr(t, err, "AccessDenied", 403, "")
	must[*sts.AssumeRoleOutput](t)(e.stsAs(bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s2")}))

	// UpdateRole; deleting the role ends its sessions.
	must[*iam.UpdateRoleOutput](t)(r.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("deployer"), MaxSessionDuration: aws.Int32(43200)}))
	got := must[*iam.GetRoleOutput](t)(r.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deployer")}))
	if *got.Role.MaxSessionDuration != 43200 || *got.Role.Description != "CI" {
		t.Fatalf("after update %+v", got.Role)
	}
	_, err = r.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("deployer"), MaxSessionDuration: aws.Int32(100)})
	wantErr(t, err, "ValidationError", 400, "maxSessionDuration")
	must[*iam.DeleteRolePolicyOutput](t)(r.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("list")}))
	must[*iam.DeleteRoleOutput](t)(r.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}))
	_, err = e.stsAs(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
}

func TestSessionExpiry(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	role := must[*iam.CreateRoleOutput](t)(e.root().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"),
		AssumeRolePolicyDocument: aws.String(trustDoc("arn:aws:iam::123456789012:user/alice"))}))
	out := must[*sts.AssumeRoleOutput](t)(e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn,
		RoleSessionName: aws.String("s0"), DurationSeconds: aws.Int32(900)}))
	c := out.Credentials
	session := creds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	must[*sts.GetCallerIdentityOutput](t)(e.stsAs(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	// The verifier refuses the expired session with ExpiredToken.
	e.shift.Store(int64(16 * time.Minute))
	_, err := e.stsAs(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "ExpiredToken", 403, "")
}

func TestCreateRoleValidation(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	_, err := r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(allow("sts:AssumeRole", "*"))})
	wantErr(t, err, "MalformedPolicyDocument", 400, "")
	_, err = r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustDoc(testAccount)), MaxSessionDuration: aws.Int32(43201)})
	wantErr(t, err, "ValidationError", 400, "")
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("a", 2100) + `","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`
	_, err = r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(big)})
	wantErr(t, err, "LimitExceeded", 409, "ACLSizePerRole")
	must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustDoc(testAccount))}))
	_, err = r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(trustDoc(testAccount))})
	wantErr(t, err, "EntityAlreadyExists", 409, "")
	roles := must[*iam.ListRolesOutput](t)(r.ListRoles(ctx, &iam.ListRolesInput{}))
	if len(roles.Roles) != 1 || *roles.Roles[0].RoleName != "r" || *roles.Roles[0].MaxSessionDuration != 3600 {
		t.Fatalf("roles %+v", roles.Roles)
	}
}
