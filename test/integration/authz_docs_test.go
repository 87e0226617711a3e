package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The AWSCodeArtifactAdminAccess managed policy (CodeArtifact User Guide,
// "AWS managed policies for AWS CodeArtifact").
const codeartifactAdmin = `{"Version":"2012-10-17","Statement":[{"Action":["codeartifact:*"],"Effect":"Allow","Resource":"*"},` +
	`{"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`

// protectRepositories is the domain policy of the CodeArtifact User Guide,
// "Delete a repository", "Protect repositories from being deleted", verbatim.
const protectRepositories = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRepositoryDeletion","Action":["codeartifact:DeleteRepository"],` +
	`"Effect":"Deny","Resource":"*","Principal":"*"}]}`

func repoARN(repo string) string {
	return "arn:aws:codeartifact:us-east-1:" + account + ":repository/dx/" + repo
}

// TestDomainPolicyGovernsTheDomainsResources: "The domain policy is evaluated
// for all operations against the domain and all resources within the domain"
// (CodeArtifact User Guide, "Domain policies"), together with the repository
// policy; the policy being replaced, and only it, does not take part in its
// own replacement; the account root obeys an explicit Deny as on AWS.
func TestDomainPolicyGovernsTheDomainsResources(t *testing.T) {
	e := newEnv(t)
	e.setup("keep", "scratch", "other")
	admin := e.user("admin")
	e.putUserPolicy("admin", "AWSCodeArtifactAdminAccess", codeartifactAdmin)
	dom := aws.String("dx")
	putDomain := func(c *codeartifact.Client, doc string) error {
		_, err := c.PutDomainPermissionsPolicy(ctx, &codeartifact.PutDomainPermissionsPolicyInput{Domain: dom, PolicyDocument: aws.String(doc)})
		return err
	}
	deleteRepo := func(c *codeartifact.Client, repo string) error {
		_, err := c.DeleteRepository(ctx, &codeartifact.DeleteRepositoryInput{Domain: dom, Repository: aws.String(repo)})
		return err
	}

	// The documented protection stops the administrator and the root alike.
	must(0, putDomain(e.CA, protectRepositories))(t)
	deny := wantErr[*types.AccessDeniedException](t, deleteRepo(admin, "scratch"))
	if !strings.Contains(aws.ToString(deny.Message), "explicit deny in domain-policy DenyRepositoryDeletion") {
		t.Fatalf("denial: %q", aws.ToString(deny.Message))
	}
	wantErr[*types.AccessDeniedException](t, deleteRepo(e.CA, "scratch"))
	must(admin.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: dom, Repository: aws.String("scratch")}))(t)

	// "If you later decide that you need to delete a repository": NotResource
	// exempts one repository; the others stay protected.
	must(0, putDomain(admin, `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRepositoryDeletion","Action":["codeartifact:DeleteRepository"],`+
		`"Effect":"Deny","NotResource":"`+repoARN("scratch")+`","Principal":"*"}]}`))(t)
	must(0, deleteRepo(admin, "scratch"))(t)
	wantErr[*types.AccessDeniedException](t, deleteRepo(admin, "keep"))
	must(0, putDomain(admin, protectRepositories))(t)

	// A domain policy that denies changing repository policies: the
	// repository policy is skipped while it is replaced, the domain policy
	// is not.
	must(0, putDomain(e.CA, `{"Version":"2012-10-17","Statement":[{"Sid":"Frozen","Effect":"Deny","Principal":"*",`+
		`"Action":"codeartifact:PutRepositoryPermissionsPolicy","Resource":"*"}]}`))(t)
	_, err := admin.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{Domain: dom, Repository: aws.String("keep"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository"}]}`)})
	wantErr[*types.AccessDeniedException](t, err)
	// ... and a repository policy that denies its own replacement does not
	// lock the owner out.
	must(0, putDomain(e.CA, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"*"}]}`))(t)
	lock := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"codeartifact:*","Resource":"*"}]}`
	must(admin.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{Domain: dom, Repository: aws.String("keep"), PolicyDocument: aws.String(lock)}))(t)
	wantErr[*types.AccessDeniedException](t, must2(admin.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: dom, Repository: aws.String("keep")})))
	must(admin.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{Domain: dom, Repository: aws.String("keep"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"*"}]}`)}))(t)

	// A domain-policy Allow for a repository action, with Resource "*",
	// grants it on every repository of the domain to a user it names.
	dev := e.user("dev")
	devARN := "arn:aws:iam::" + account + ":user/dev"
	describe := &codeartifact.DescribeRepositoryInput{Domain: dom, Repository: aws.String("other")}
	wantErr[*types.AccessDeniedException](t, must2(dev.DescribeRepository(ctx, describe)))
	must(0, putDomain(e.CA, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+devARN+`"},`+
		`"Action":["codeartifact:CreateRepository","codeartifact:DescribeRepository"],"Resource":"*"}]}`))(t)
	must(dev.DescribeRepository(ctx, describe))(t)
	must(dev.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: dom, Repository: aws.String("keep")}))(t)

	// Package resources too: a domain-policy Deny on a package action.
	must(e.publish(coords{"other", "ns", "lib"}, "1.0.0", "lib.bin", []byte("lib"), false))(t)
	pkg := &codeartifact.ListPackageVersionsInput{Domain: dom, Repository: aws.String("other"), Format: types.PackageFormatGeneric,
		Namespace: aws.String("ns"), Package: aws.String("lib")}
	must(admin.ListPackageVersions(ctx, pkg))(t)
	must(0, putDomain(e.CA, `{"Version":"2012-10-17","Statement":[{"Sid":"NoVersions","Effect":"Deny","Principal":{"AWS":"`+account+`"},`+
		`"Action":"codeartifact:ListPackageVersions","Resource":"arn:aws:codeartifact:us-east-1:`+account+`:package/dx/other/*"}]}`))(t)
	wantErr[*types.AccessDeniedException](t, must2(admin.ListPackageVersions(ctx, pkg)))

	// The root lifts any Deny: the domain policy never takes part in its own replacement.
	must(0, putDomain(e.CA, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"codeartifact:*","Resource":"*"}]}`))(t)
	wantErr[*types.AccessDeniedException](t, must2(e.CA.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: dom})))
	must(0, putDomain(e.CA, protectRepositories))(t)
	must(e.CA.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: dom}))(t)
}

// TestTagConditionKeys: aws:RequestTag and aws:TagKeys on CreateDomain,
// CreateRepository, CreatePackageGroup, TagResource and UntagResource
// (CodeArtifact User Guide, "Using tags to control access to CodeArtifact
// resources", Examples 1 and 4), sts:DurationSeconds on
// sts:GetServiceBearerToken ("Limit authorization token duration") and
// aws:PrincipalTag on both planes.
func TestTagConditionKeys(t *testing.T) {
	e := newEnv(t)
	e.setup("blue", "red")
	dom := aws.String("dx")
	for repo, team := range map[string]string{"blue": "blue", "red": "red"} {
		must(e.CA.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: aws.String(repoARN(repo)),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(team)}}}))(t)
	}
	must(e.publish(coords{"blue", "ns", "lib"}, "1.0.0", "lib.bin", []byte("lib"), false))(t)
	must(e.publish(coords{"red", "ns", "lib"}, "1.0.0", "lib.bin", []byte("lib"), false))(t)
	tg := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

	// Example 1: the admin policy limited by a Deny unless costcenter is 1 or 2.
	lim := e.user("limited")
	e.putUserPolicy("limited", "AWSCodeArtifactAdminAccess", codeartifactAdmin)
	e.putUserPolicy("limited", "example1", `{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Deny","Action":"codeartifact:CreateRepository","Resource":"*","Condition":{"Null":{"aws:RequestTag/costcenter":"true"}}},`+
		`{"Effect":"Deny","Action":"codeartifact:CreateRepository","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:RequestTag/costcenter":["1","2"]}}}]}`)
	create := func(c *codeartifact.Client, name string, tags ...types.Tag) error {
		_, err := c.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: dom, Repository: aws.String(name), Tags: tags})
		return err
	}
	wantErr[*types.AccessDeniedException](t, create(lim, "r1"))
	wantErr[*types.AccessDeniedException](t, create(lim, "r1", tg("costcenter", "3")))
	must(0, create(lim, "r1", tg("costcenter", "2")))(t)

	// Example 4: CreateRepository and TagResource only with Key1=Value1 and no other key.
	ex4 := e.user("ex4")
	e.putUserPolicy("ex4", "example4", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codeartifact:CreateRepository","codeartifact:TagResource"],`+
		`"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/Key1":"Value1"},"ForAllValues:StringEquals":{"aws:TagKeys":["Key1"]}}}]}`)
	wantErr[*types.AccessDeniedException](t, create(ex4, "r2"))
	wantErr[*types.AccessDeniedException](t, create(ex4, "r2", tg("Key1", "Value1"), tg("Key2", "x")))
	wantErr[*types.AccessDeniedException](t, create(ex4, "r2", tg("key1", "Value1")))
	must(0, create(ex4, "r2", tg("Key1", "Value1")))(t)
	tagRes := func(c *codeartifact.Client, arn string, tags ...types.Tag) error {
		_, err := c.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
		return err
	}
	must(0, tagRes(ex4, repoARN("r2"), tg("Key1", "Value1")))(t)
	wantErr[*types.AccessDeniedException](t, tagRes(ex4, repoARN("r2"), tg("Key1", "Value2")))

	// CreateDomain and CreatePackageGroup carry their tags the same way.
	e.putUserPolicy("ex4", "more", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codeartifact:CreateDomain","codeartifact:CreatePackageGroup"],`+
		`"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/owner":"${aws:username}"}}}]}`)
	_, err := ex4.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("ex4-dom")})
	wantErr[*types.AccessDeniedException](t, err)
	must(ex4.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("ex4-dom"), Tags: []types.Tag{tg("owner", "ex4")}}))(t)
	_, err = ex4.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: dom, PackageGroup: aws.String("/generic/ns/*"),
		Tags: []types.Tag{tg("owner", "someone-else")}})
	wantErr[*types.AccessDeniedException](t, err)
	must(ex4.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: dom, PackageGroup: aws.String("/generic/ns/*"),
		Tags: []types.Tag{tg("owner", "ex4")}}))(t)

	// UntagResource: aws:TagKeys are the keys removed.
	e.putUserPolicy("limited", "keep-costcenter", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"codeartifact:UntagResource",`+
		`"Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["costcenter"]}}}]}`)
	untag := func(keys ...string) error {
		_, err := lim.UntagResource(ctx, &codeartifact.UntagResourceInput{ResourceArn: aws.String(repoARN("r1")), TagKeys: keys})
		return err
	}
	wantErr[*types.AccessDeniedException](t, untag("other", "costcenter"))
	must(0, untag("other"))(t)

	// sts:DurationSeconds: the second "Limit authorization token duration"
	// example; absent durationSeconds is the 43200-second default.
	tok := e.user("tok")
	e.putUserPolicy("tok", "limit", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"},`+
		`{"Sid":"sts","Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"NumericLessThanEquals":{"sts:DurationSeconds":3600},`+
		`"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`)
	getToken := func(c *codeartifact.Client, seconds *int64) (string, error) {
		out, err := c.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: dom, DurationSeconds: seconds})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.AuthorizationToken), nil
	}
	wantErr[*types.AccessDeniedException](t, must2(getToken(tok, nil)))
	wantErr[*types.AccessDeniedException](t, must2(getToken(tok, aws.Int64(7200))))
	must(getToken(tok, aws.Int64(3600)))(t)
	must(getToken(tok, aws.Int64(0)))(t)

	// aws:PrincipalTag from the user's tags, on the control plane and with
	// a token on the data plane; untagging the user takes effect at once.
	e.putUserPolicy("tok", "limit", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codeartifact:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"},`+
		`{"Effect":"Allow","Action":["codeartifact:ReadFromRepository","codeartifact:DescribeRepository"],"Resource":"*",`+
		`"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`)
	ic := iamClient(t, e.URL, rootKey, rootSecret)
	must(ic.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("tok"), Tags: []iamtypes.Tag{{Key: aws.String("Team"), Value: aws.String("blue")}}}))(t)
	must(tok.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: dom, Repository: aws.String("blue")}))(t)
	wantErr[*types.AccessDeniedException](t, must2(tok.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: dom, Repository: aws.String("red")})))
	token := must(getToken(tok, nil))(t)
	asset := func(repo string) string {
		return e.URL + "/generic/d/dx-" + account + "/" + repo + "/ns/lib/1.0.0/lib.bin"
	}
	if code := readGeneric(t, asset("blue"), token); code != http.StatusOK {
		t.Fatalf("data-plane read with a matching principal tag: %d", code)
	}
	if code := readGeneric(t, asset("red"), token); code != http.StatusForbidden {
		t.Fatalf("data-plane read with another team's tag: %d", code)
	}
	must(ic.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("tok"), TagKeys: []string{"team"}}))(t)
	if code := readGeneric(t, asset("blue"), token); code != http.StatusForbidden {
		t.Fatalf("data-plane read after the user was untagged: %d", code)
	}
}

// TestRoleSessionPrincipalArn: a role session's aws:PrincipalArn is the
// role's ARN, with its path (IAM User Guide, global condition keys,
// aws:PrincipalArn), on the control plane and on the data plane, whose
// token principal is rebuilt from the session's key; the role's tags are
// the session's aws:PrincipalTag.
func TestRoleSessionPrincipalArn(t *testing.T) {
	e := newEnv(t)
	e.setup("repo")
	must(e.publish(coords{"repo", "ns", "lib"}, "1.0.0", "lib.bin", []byte("lib"), false))(t)
	e.user("dev")
	ic := iamClient(t, e.URL, rootKey, rootSecret)
	devKey := must(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")}))(t).AccessKey
	e.putUserPolicy("dev", "assume", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	roleARN := "arn:aws:iam::" + account + ":role/ci/builder"
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("builder"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + account + `"},"Action":"sts:AssumeRole"}]}`),
		Tags:                     []iamtypes.Tag{{Key: aws.String("stage"), Value: aws.String("ci")}}}))(t)
	must(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codeartifact:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["codeartifact:ReadFromRepository","codeartifact:ListPackages"],"Resource":"*",` +
			`"Condition":{"ArnEquals":{"aws:PrincipalArn":"` + roleARN + `"},"StringEquals":{"aws:PrincipalTag/stage":"ci"}}}]}`)}))(t)

	stsClient := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(devKey.AccessKeyId), aws.ToString(devKey.SecretAccessKey), "")})
	out := must(stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("job-1")}))(t)
	c := out.Credentials
	session := newClient(t, e.URL, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	must(session.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo")}))(t)
	token := aws.ToString(must(session.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("dx")}))(t).AuthorizationToken)
	asset := e.URL + "/generic/d/dx-" + account + "/repo/ns/lib/1.0.0/lib.bin"
	if code := readGeneric(t, asset, token); code != http.StatusOK {
		t.Fatalf("data-plane read by the role session: %d", code)
	}
	// A policy naming the session ARN as aws:PrincipalArn matches nothing.
	must(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:ListPackages","Resource":"*",` +
			`"Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:sts::` + account + `:assumed-role/builder/job-1"}}}]}`)}))(t)
	wantErr[*types.AccessDeniedException](t, must2(session.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo")})))
}
