package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func iamClient(t *testing.T, url, key, secret string) *iam.Client {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, "")),
		awsconfig.WithRetryMaxAttempts(1), awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })
}

// user creates an IAM user with an access key and returns a CodeArtifact
// client signed by it.
func (e *env) user(name string) *codeartifact.Client {
	t := e.t
	ic := iamClient(t, e.URL, rootKey, rootSecret)
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))(t)
	k := must(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))(t).AccessKey
	return newClient(t, e.URL, aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "")
}

func (e *env) putUserPolicy(user, name, doc string) {
	ic := iamClient(e.t, e.URL, rootKey, rootSecret)
	must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))(e.t)
}

func readGeneric(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAuthorizationEverywhere(t *testing.T) {
	e := newEnv(t)
	e.setup("repo", "blue", "red")
	must(e.publish(coords{"repo", "ns", "lib"}, "1.0.0", "lib.bin", []byte("lib"), false))(t)
	dev := e.user("dev")
	devARN := "arn:aws:iam::" + account + ":user/dev"
	list := &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo")}
	tokenIn := &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("dx")}

	// No policy: nothing is allowed.
	deny := wantErr[*types.AccessDeniedException](t, must2(dev.ListPackages(ctx, list)))
	if !strings.Contains(aws.ToString(deny.Message), devARN) || !strings.Contains(aws.ToString(deny.Message), "codeartifact:ListPackages") {
		t.Fatalf("denial message: %q", aws.ToString(deny.Message))
	}
	wantErr[*types.AccessDeniedException](t, must2(dev.GetAuthorizationToken(ctx, tokenIn)))

	// A repository policy naming the user grants it in the same account,
	// without any identity policy.
	repoPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"DevReads","Effect":"Allow","Principal":{"AWS":"` + devARN + `"},` +
		`"Action":["codeartifact:ListPackages","codeartifact:ReadFromRepository"],"Resource":"*"}]}`
	must(e.CA.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{Domain: aws.String("dx"),
		Repository: aws.String("repo"), PolicyDocument: aws.String(repoPolicy)}))(t)
	if got := must(dev.ListPackages(ctx, list))(t).Packages; len(got) != 1 {
		t.Fatalf("ListPackages through the repository policy: %+v", got)
	}
	// The token needs GetAuthorizationToken on the domain and sts:GetServiceBearerToken.
	domainPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + devARN + `"},` +
		`"Action":"codeartifact:GetAuthorizationToken","Resource":"*"}]}`
	must(e.CA.PutDomainPermissionsPolicy(ctx, &codeartifact.PutDomainPermissionsPolicyInput{Domain: aws.String("dx"), PolicyDocument: aws.String(domainPolicy)}))(t)
	wantErr[*types.AccessDeniedException](t, must2(dev.GetAuthorizationToken(ctx, tokenIn)))
	e.putUserPolicy("dev", "bearer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*",`+
		`"Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`)
	token := aws.ToString(must(dev.GetAuthorizationToken(ctx, tokenIn))(t).AuthorizationToken)
	asset := e.URL + "/generic/d/dx-" + account + "/repo/ns/lib/1.0.0/lib.bin"
	if code := readGeneric(t, asset, token); code != 200 {
		t.Fatalf("data-plane read through the repository policy: %d", code)
	}

	// An explicit deny in an identity policy beats the resource policy's allow,
	// on the control plane and on the data plane, at once.
	e.putUserPolicy("dev", "no-reads", `{"Version":"2012-10-17","Statement":[{"Sid":"NoReads","Effect":"Deny",`+
		`"Action":["codeartifact:ListPackages","codeartifact:ReadFromRepository"],"Resource":"*"}]}`)
	deny = wantErr[*types.AccessDeniedException](t, must2(dev.ListPackages(ctx, list)))
	if !strings.Contains(aws.ToString(deny.Message), "explicit deny") {
		t.Fatalf("explicit deny message: %q", aws.ToString(deny.Message))
	}
	if code := readGeneric(t, asset, token); code != http.StatusForbidden {
		t.Fatalf("data-plane read with an explicit deny: %d", code)
	}
	ic := iamClient(t, e.URL, rootKey, rootSecret)
	must(ic.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("no-reads")}))(t)
	if code := readGeneric(t, asset, token); code != 200 {
		t.Fatalf("data-plane read after the deny was removed: %d", code)
	}
	must(e.CA.DeleteRepositoryPermissionsPolicy(ctx, &codeartifact.DeleteRepositoryPermissionsPolicyInput{Domain: aws.String("dx"), Repository: aws.String("repo")}))(t)
	if code := readGeneric(t, asset, token); code != http.StatusForbidden {
		t.Fatalf("data-plane read after the repository policy was deleted: %d", code)
	}

	// Resource tags in conditions.
	for repo, team := range map[string]string{"blue": "blue", "red": "red"} {
		must(e.CA.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: aws.String("arn:aws:codeartifact:us-east-1:" + account + ":repository/dx/" + repo),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(team)}}}))(t)
	}
	e.putUserPolicy("dev", "blue-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:DescribeRepository",`+
		`"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}`)
	must(dev.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: aws.String("dx"), Repository: aws.String("blue")}))(t)
	wantErr[*types.AccessDeniedException](t, must2(dev.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: aws.String("dx"), Repository: aws.String("red")})))

	// Policy variables: a user may publish only under a namespace named after it.
	e.putUserPolicy("dev", "own-namespace", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:PublishPackageVersion",`+
		`"Resource":"arn:aws:codeartifact:us-east-1:`+account+`:package/dx/repo/generic/${aws:username}/*"}]}`)
	devPublish := func(ns string) error {
		content := []byte("by dev")
		_, err := dev.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: aws.String("dx"), Repository: aws.String("repo"),
			Format: types.PackageFormatGeneric, Namespace: aws.String(ns), Package: aws.String("tool"), PackageVersion: aws.String("1.0.0"),
			AssetName: aws.String("t.bin"), AssetContent: strings.NewReader(string(content)), AssetSHA256: aws.String(sha(content))})
		return err
	}
	if err := devPublish("dev"); err != nil {
		t.Fatalf("publish under the user's own namespace: %v", err)
	}
	wantErr[*types.AccessDeniedException](t, devPublish("ops"))

	// Malformed resource policies are refused with a message that points at the problem.
	v := wantErr[*types.ValidationException](t, must2(e.CA.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{
		Domain: aws.String("dx"), Repository: aws.String("repo"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"codeartifact:*"}]}`)})))
	if !strings.Contains(aws.ToString(v.Message), "Maybe") {
		t.Fatalf("malformed policy message: %q", aws.ToString(v.Message))
	}
}
