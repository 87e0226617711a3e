package iam

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/auth/sigv4"
	"coffer/internal/store"
)

func TestIdentityPolicies(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	alice := e.user("alice")
	shared := e.policy("Shared", allow("codeartifact:ReadFromRepository", "*"))
	groupOnly := e.policy("GroupOnly", allow("codeartifact:PublishPackageVersion", "*"))
	must[*iam.CreateGroupOutput](t)(r.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must[*iam.AddUserToGroupOutput](t)(r.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))
	must[*iam.PutGroupPolicyOutput](t)(r.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("GroupInline"),
		PolicyDocument: aws.String(allow("codeartifact:Describe*", "*"))}))
	must[*iam.AttachGroupPolicyOutput](t)(r.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(groupOnly)}))
	must[*iam.AttachGroupPolicyOutput](t)(r.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(shared)}))
	must[*iam.AttachUserPolicyOutput](t)(r.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(shared)}))
	must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("ReadOnly"),
		PolicyDocument: aws.String(allow("codeartifact:List*", "*"))}))

	ak, _ := alice.Retrieve(ctx)
	cred := must[*sigv4.Credential](t)(e.id.Lookup(ctx, ak.AccessKeyID))
	p := cred.Principal
	if p.Type != auth.TypeUser || p.Username != "alice" || p.ARN != "arn:aws:iam::123456789012:user/alice" || p.AccessKeyID != ak.AccessKeyID || p.SessionExpiry != (time.Time{}) {
		t.Fatalf("principal %+v", p)
	}
	got := must[[]policy.Labeled](t)(e.id.IdentityPolicies(ctx, p))
	labels := make([]string, len(got))
	for i, l := range got {
		labels[i] = l.Label
		if l.Policy == nil {
			t.Fatalf("%s has no policy", l.Label)
		}
	}
	want := []string{"user:alice/inline:ReadOnly", "policy:" + shared, "group:devs/inline:GroupInline", "policy:" + groupOnly}
	if !slices.Equal(labels, want) {
		t.Fatalf("labels %v, want %v", labels, want)
	}
	// The managed policy's default version is what applies.
	must[*iam.CreatePolicyVersionOutput](t)(r.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(groupOnly),
		PolicyDocument: aws.String(allow("codeartifact:DeletePackageVersions", "*")), SetAsDefault: true}))
	got = must[[]policy.Labeled](t)(e.id.IdentityPolicies(ctx, p))
	req := &policy.Request{Action: "codeartifact:DeletePackageVersions", Resource: "arn:aws:codeartifact:us-east-1:123456789012:package/d/r/npm//x", Principal: policy.PrincipalInfo{ARN: p.ARN, Account: p.Account}}
	if !policy.Evaluate(req, got, nil, true).Allowed {
		t.Fatal("the new default version does not apply")
	}
	req.Action = "codeartifact:PublishPackageVersion"
	if policy.Evaluate(req, got, nil, true).Allowed {
		t.Fatal("the old default version still applies")
	}

	// Root has none; a role session has its role's.
	rootCred := must[*sigv4.Credential](t)(e.id.Lookup(ctx, rootAK))
	if rp := rootCred.Principal; rp.Type != auth.TypeAccount || rp.UserID != testAccount || rp.ARN != e.id.RootARN() {
		t.Fatalf("root principal %+v", rp)
	}
	if ps := must[[]policy.Labeled](t)(e.id.IdentityPolicies(ctx, rootCred.Principal)); len(ps) != 0 {
		t.Fatalf("root policies %v", ps)
	}
	must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustDoc("arn:aws:iam::123456789012:user/alice"))}))
	must[*iam.AttachRolePolicyOutput](t)(r.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(shared)}))
	must[*iam.PutRolePolicyOutput](t)(r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("x"), PolicyDocument: aws.String(allow("s3:*", "*"))}))
	out := must[*sts.AssumeRoleOutput](t)(e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("sess")}))
	sp := must[*sigv4.Credential](t)(e.id.Lookup(ctx, *out.Credentials.AccessKeyId)).Principal
	got = must[[]policy.Labeled](t)(e.id.IdentityPolicies(ctx, sp))
	if len(got) != 2 || got[0].Label != "role:r/inline:x" || got[1].Label != "policy:"+shared {
		t.Fatalf("role session policies %v", got)
	}
	if sp.Type != auth.TypeAssumedRole || sp.RoleARN != "arn:aws:iam::123456789012:role/r" {
		t.Fatalf("session principal %+v", sp)
	}
}

func TestTokens(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	ak, _ := alice.Retrieve(ctx)
	dom := &artifact.Domain{Domain: store.Domain{Owner: testAccount, Name: "demo"}}
	mint := func(akid string, d time.Duration) (string, time.Time) {
		t.Helper()
		p := must[*sigv4.Credential](t)(e.id.Lookup(ctx, akid)).Principal
		tok, exp, err := e.id.Mint(auth.WithPrincipal(ctx, p), dom, d)
		if err != nil {
			t.Fatal(err)
		}
		return tok, exp
	}
	tok, exp := mint(ak.AccessKeyID, 0)
	if d := time.Until(exp); d < DefaultTokenDuration-time.Minute || d > DefaultTokenDuration {
		t.Fatalf("long-term key token lasts %v", d)
	}
	p := must[*auth.Principal](t)(e.id.TokenPrincipal(ctx, tok, testAccount, "demo"))
	lp := must[*sigv4.Credential](t)(e.id.Lookup(ctx, ak.AccessKeyID)).Principal
	lp.AccessKeyID = ""
	if !reflect.DeepEqual(p, lp) {
		t.Fatalf("token principal %+v, lookup %+v", p, lp)
	}
	if _, err := e.id.TokenPrincipal(ctx, tok, testAccount, "other"); err == nil {
		t.Fatal("token accepted for another domain")
	}
	must[*iam.UpdateAccessKeyOutput](t)(e.root().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(ak.AccessKeyID), Status: types.StatusTypeInactive}))
	if _, err := e.id.TokenPrincipal(ctx, tok, testAccount, "demo"); err == nil {
		t.Fatal("token of an inactive key accepted")
	}
	must[*iam.UpdateAccessKeyOutput](t)(e.root().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(ak.AccessKeyID), Status: types.StatusTypeActive}))

	// Role sessions: duration 0 is the session's end; an explicit duration
	// outlives the session (a 15-minute session can mint a 12-hour token).
	must[*iam.CreateRoleOutput](t)(e.root().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustDoc("arn:aws:iam::123456789012:user/alice"))}))
	out := must[*sts.AssumeRoleOutput](t)(e.stsAs(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"),
		RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900)}))
	stok, sexp := mint(*out.Credentials.AccessKeyId, 0)
	if !sexp.Equal(*out.Credentials.Expiration) {
		t.Fatalf("session token expires %v, session %v", sexp, *out.Credentials.Expiration)
	}
	ltok, lexp := mint(*out.Credentials.AccessKeyId, 12*time.Hour)
	if time.Until(lexp) < 11*time.Hour {
		t.Fatalf("explicit duration ignored: %v", lexp)
	}
	sp := must[*auth.Principal](t)(e.id.TokenPrincipal(ctx, ltok, testAccount, "demo"))
	if sp.Type != auth.TypeAssumedRole || sp.ARN != "arn:aws:sts::123456789012:assumed-role/r/s1" {
		t.Fatalf("session token principal %+v", sp)
	}
	e.id.now = func() time.Time { return time.Now().UTC().Add(20 * time.Minute) }
	if _, err := e.id.TokenPrincipal(ctx, ltok, testAccount, "demo"); err != nil {
		t.Fatalf("a 12-hour token died with its 15-minute session: %v", err)
	}
	if _, err := e.id.TokenPrincipal(ctx, stok, testAccount, "demo"); err == nil {
		t.Fatal("expired token accepted")
	}
}

// TestRootKeyFromEnvironment re-opens with another secret for the same
// root key id: the new secret replaces the old one.
func TestRootKeyFromEnvironment(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	id2, err := Open(ctx, e.meta, e.id.sealer, Options{AccountID: testAccount, RootAccessKeyID: rootAK, RootSecretAccessKey: "another-secret"}, e.id.log)
	if err != nil {
		t.Fatal(err)
	}
	c := must[*sigv4.Credential](t)(id2.Lookup(ctx, rootAK))
	if c.SecretAccessKey != "another-secret" || !c.Principal.IsRoot() {
		t.Fatalf("root key after re-open: %+v", c.Principal)
	}
}
