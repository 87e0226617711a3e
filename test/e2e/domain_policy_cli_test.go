package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliEnv is the environment of an aws CLI signing with one access key
// against c, IAM and STS included.
func cliEnv(t *testing.T, c *coffer, akid, secret string) []string {
	t.Helper()
	home := t.TempDir()
	creds := "[default]\naws_access_key_id = " + akid + "\naws_secret_access_key = " + secret + "\n"
	if err := os.WriteFile(filepath.Join(home, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(home, "config"), []byte("[default]\nregion = us-east-1\n"), 0o600)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "HOME=") {
			env = append(env, e)
		}
	}
	return append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ENDPOINT_URL_CODEARTIFACT="+c.URL, "AWS_ENDPOINT_URL_IAM="+c.URL, "AWS_ENDPOINT_URL_STS="+c.URL)
}

// TestDomainPolicyWithAWSCLI runs two documented CodeArtifact examples with
// the real aws CLI:
//   - "Protect repositories from being deleted" (User Guide, "Delete a
//     repository"): a domain policy denying codeartifact:DeleteRepository to
//     Principal "*" stops an administrator whose IAM policy allows
//     codeartifact:* — and the account root — until the policy is changed
//     to exempt the one repository with NotResource;
//   - tag-based access ("Using tags to control access to CodeArtifact
//     resources"): a user may create repositories only tagged with its own
//     team (aws:RequestTag against aws:PrincipalTag, aws:TagKeys), and
//     describe only repositories of its team (aws:ResourceTag).
func TestDomainPolicyWithAWSCLI(t *testing.T) {
	need(t, "aws")
	c := startCoffer(t, t.TempDir())
	work := t.TempDir()
	root := newAWSCLI(t, c)
	root.dir = work
	rootEnv := append(append([]string{}, root.env...), "AWS_ENDPOINT_URL_IAM="+c.URL, "AWS_ENDPOINT_URL_STS="+c.URL)
	acct := str(root.ok("", "create-domain", "--domain", "corp"), "domain", "owner")
	for _, r := range []string{"libs", "scratch"} {
		root.ok("", "create-repository", "--domain", "corp", "--repository", r)
	}
	write := func(name, body string) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + name
	}
	newUser := func(name, policy string, tags ...string) []string {
		t.Helper()
		args := []string{"iam", "create-user", "--user-name", name}
		if len(tags) > 0 {
			args = append(args, append([]string{"--tags"}, tags...)...)
		}
		awsOK(t, rootEnv, work, args...)
		awsOK(t, rootEnv, work, "iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", write(name+".json", policy))
		key := awsOK(t, rootEnv, work, "iam", "create-access-key", "--user-name", name)
		return cliEnv(t, c, str(key, "AccessKey", "AccessKeyId"), str(key, "AccessKey", "SecretAccessKey"))
	}

	// An administrator: AWSCodeArtifactAdminAccess, not the root.
	admin := newUser("admin", `{"Version":"2012-10-17","Statement":[{"Action":["codeartifact:*"],"Effect":"Allow","Resource":"*"},`+
		`{"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`)
	awsOK(t, admin, work, "codeartifact", "describe-repository", "--domain", "corp", "--repository", "scratch")

	// The documented domain policy, verbatim.
	protect := write("protect.json", `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyRepositoryDeletion",
            "Action": [
                "codeartifact:DeleteRepository"
            ],
            "Effect": "Deny",
            "Resource": "*",
            "Principal": "*"
        }
    ]
}`)
	awsOK(t, admin, work, "codeartifact", "put-domain-permissions-policy", "--domain", "corp", "--policy-document", protect)
	awsFails(t, admin, work, "AccessDeniedException", "codeartifact", "delete-repository", "--domain", "corp", "--repository", "scratch")
	awsFails(t, rootEnv, work, "AccessDeniedException", "codeartifact", "delete-repository", "--domain", "corp", "--repository", "scratch",
		"--endpoint-url", c.URL)
	// Other actions on the repositories are untouched.
	awsOK(t, admin, work, "codeartifact", "update-repository", "--domain", "corp", "--repository", "scratch", "--description", "still here")

	// "If you later decide that you need to delete a repository": exempt it
	// with NotResource, delete it, and the others stay protected.
	exempt := write("exempt.json", `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRepositoryDeletion","Action":["codeartifact:DeleteRepository"],`+
		`"Effect":"Deny","NotResource":"arn:aws:codeartifact:us-east-1:`+acct+`:repository/corp/scratch","Principal":"*"}]}`)
	awsOK(t, admin, work, "codeartifact", "put-domain-permissions-policy", "--domain", "corp", "--policy-document", exempt)
	awsOK(t, admin, work, "codeartifact", "delete-repository", "--domain", "corp", "--repository", "scratch")
	awsFails(t, admin, work, "AccessDeniedException", "codeartifact", "delete-repository", "--domain", "corp", "--repository", "libs")
	awsOK(t, admin, work, "codeartifact", "put-domain-permissions-policy", "--domain", "corp", "--policy-document", protect)
	pol := awsOK(t, admin, work, "codeartifact", "get-domain-permissions-policy", "--domain", "corp")
	if !strings.Contains(str(pol, "policy", "document"), "DenyRepositoryDeletion") {
		t.Fatalf("domain policy: %v", pol)
	}

	// Tag-based access: a developer of team blue (an IAM user tag).
	teamPolicy := `{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["codeartifact:CreateRepository","codeartifact:TagResource"],"Resource":"*",
   "Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}},
  {"Effect":"Allow","Action":"codeartifact:DescribeRepository","Resource":"*",
   "Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`
	dev := newUser("dev", teamPolicy, "Key=team,Value=blue")
	if tags := awsOK(t, rootEnv, work, "iam", "list-user-tags", "--user-name", "dev"); !strings.Contains(str(tags, "Tags", 0, "Value"), "blue") {
		t.Fatalf("list-user-tags: %v", tags)
	}
	awsOK(t, dev, work, "codeartifact", "create-repository", "--domain", "corp", "--repository", "blue-libs", "--tags", "key=team,value=blue")
	awsFails(t, dev, work, "AccessDeniedException", "codeartifact", "create-repository", "--domain", "corp", "--repository", "red-libs",
		"--tags", "key=team,value=red")
	awsFails(t, dev, work, "AccessDeniedException", "codeartifact", "create-repository", "--domain", "corp", "--repository", "untagged")
	awsFails(t, dev, work, "AccessDeniedException", "codeartifact", "create-repository", "--domain", "corp", "--repository", "extra",
		"--tags", "key=team,value=blue", "key=owner,value=dev")
	awsOK(t, dev, work, "codeartifact", "describe-repository", "--domain", "corp", "--repository", "blue-libs")
	awsFails(t, dev, work, "AccessDeniedException", "codeartifact", "describe-repository", "--domain", "corp", "--repository", "libs")

	// Moving the developer to team red (iam tag-user replaces the tag).
	awsOK(t, rootEnv, work, "iam", "tag-user", "--user-name", "dev", "--tags", "Key=team,Value=red")
	awsFails(t, dev, work, "AccessDeniedException", "codeartifact", "describe-repository", "--domain", "corp", "--repository", "blue-libs")
	awsOK(t, dev, work, "codeartifact", "create-repository", "--domain", "corp", "--repository", "red-libs", "--tags", "key=team,value=red")
	awsOK(t, dev, work, "codeartifact", "describe-repository", "--domain", "corp", "--repository", "red-libs")
	if u := awsOK(t, rootEnv, work, "iam", "get-user", "--user-name", "dev"); str(u, "User", "Tags", 0, "Value") != "red" {
		t.Fatalf("get-user: %v", u)
	}
}
