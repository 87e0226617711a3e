package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// seedPolicy is the least-privilege policy of the seed, verbatim.
const seedPolicy = `{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["codeartifact:GetAuthorizationToken",
    "codeartifact:GetRepositoryEndpoint","codeartifact:ReadFromRepository"],"Resource":"*"},
  {"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*",
   "Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`

// runAWS runs the aws CLI with env in dir and returns stdout, stderr, exit code.
func runAWS(t *testing.T, env []string, dir string, args ...string) (string, string, int) {
	t.Helper()
	return runProgram(t, env, dir, "aws", args...)
}

// runProgram runs program with env in dir and returns stdout, stderr, exit code.
func runProgram(t *testing.T, env []string, dir, program string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(program, args...)
	cmd.Env, cmd.Dir = env, dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

func awsOK(t *testing.T, env []string, dir string, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := runAWS(t, env, dir, append(args, "--output", "json")...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	m := map[string]any{}
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: %v\n%s", args[0], err, out)
		}
	}
	return m
}

func awsFails(t *testing.T, env []string, dir, errType string, args ...string) {
	t.Helper()
	_, errOut, code := runAWS(t, env, dir, args...)
	if code == 0 || !strings.Contains(errOut, "("+errType+")") {
		t.Fatalf("aws %s: want %s, got exit %d: %s", strings.Join(args, " "), errType, code, errOut)
	}
}

// getAsset downloads a generic asset from the repository endpoint with a token.
func getAsset(t *testing.T, endpoint, token, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, endpoint+path, nil)
	req.SetBasicAuth("aws", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestSeedSecurityWithAWSCLI reproduces the seed's least-privilege story with
// the real aws CLI: a build role with the seed policy, assumed through a
// role_arn profile, can get a token and read, cannot publish; a publishing
// policy makes publish work; without the policy no token is issued.
func TestSeedSecurityWithAWSCLI(t *testing.T) {
	c := startCoffer(t, t.TempDir())
	root := newAWSCLI(t, c)
	work := t.TempDir()
	root.dir = work
	rootEnv := append(append([]string{}, root.env...), "AWS_ENDPOINT_URL_IAM="+c.URL, "AWS_ENDPOINT_URL_STS="+c.URL)
	acct := str(root.ok("", "create-domain", "--domain", "corp"), "domain", "owner")
	root.ok("", "create-repository", "--domain", "corp", "--repository", "libs")
	asset := makeTarGz(t, filepath.Join(work, "lib.tar.gz"), "lib.txt", "library v1\n")
	_, _, sum, _ := hexSum(asset)
	root.ok("", "publish-package-version", "--domain", "corp", "--repository", "libs", "--format", "generic", "--namespace", "team",
		"--package", "lib", "--package-version", "1.0.0", "--asset-content", "lib.tar.gz", "--asset-name", "lib.tar.gz", "--asset-sha256", sum)

	// IAM: a user for the build machine, the seed policy, a role it may assume.
	awsOK(t, rootEnv, work, "iam", "create-user", "--user-name", "builder")
	key := awsOK(t, rootEnv, work, "iam", "create-access-key", "--user-name", "builder")
	if err := os.WriteFile(filepath.Join(work, "policy.json"), []byte(seedPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	readARN := str(awsOK(t, rootEnv, work, "iam", "create-policy", "--policy-name", "codeartifact-read", "--policy-document", "file://policy.json"), "Policy", "Arn")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/builder"},"Action":"sts:AssumeRole"}]}`
	_ = os.WriteFile(filepath.Join(work, "trust.json"), []byte(trust), 0o600)
	roleARN := str(awsOK(t, rootEnv, work, "iam", "create-role", "--role-name", "build", "--assume-role-policy-document", "file://trust.json"), "Role", "Arn")
	awsOK(t, rootEnv, work, "iam", "attach-role-policy", "--role-name", "build", "--policy-arn", readARN)

	// The build machine: a profile with role_arn + source_profile, so the CLI
	// itself calls sts:AssumeRole.
	home := t.TempDir()
	creds := "[base]\naws_access_key_id = " + str(key, "AccessKey", "AccessKeyId") + "\naws_secret_access_key = " + str(key, "AccessKey", "SecretAccessKey") + "\n"
	config := "[profile build]\nrole_arn = " + roleARN + "\nsource_profile = base\nrole_session_name = ci-job\nregion = us-east-1\n"
	_ = os.WriteFile(filepath.Join(home, "credentials"), []byte(creds), 0o600)
	_ = os.WriteFile(filepath.Join(home, "config"), []byte(config), 0o600)
	var build []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "HOME=") {
			build = append(build, e)
		}
	}
	build = append(build, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PROFILE=build", "AWS_ENDPOINT_URL_STS="+c.URL)
	ca := func(args ...string) []string {
		return append(append([]string{"codeartifact"}, args...), "--endpoint-url", c.URL)
	}

	who := awsOK(t, build, work, "sts", "get-caller-identity")
	if !strings.Contains(str(who, "Arn"), ":assumed-role/build/ci-job") {
		t.Fatalf("get-caller-identity through the role profile: %v", who)
	}
	tok := awsOK(t, build, work, ca("get-authorization-token", "--domain", "corp")...)
	token := str(tok, "authorizationToken")
	ep := str(awsOK(t, build, work, ca("get-repository-endpoint", "--domain", "corp", "--repository", "libs", "--format", "generic")...), "repositoryEndpoint")
	if code, body := getAsset(t, ep, token, "team/lib/1.0.0/lib.tar.gz"); code != 200 || !bytes.Equal(body, asset) {
		t.Fatalf("read with the token: %d (%d bytes)", code, len(body))
	}
	pub := ca("publish-package-version", "--domain", "corp", "--repository", "libs", "--format", "generic", "--namespace", "team",
		"--package", "lib", "--package-version", "2.0.0", "--asset-content", "lib.tar.gz", "--asset-name", "lib.tar.gz", "--asset-sha256", sum)
	awsFails(t, build, work, "AccessDeniedException", pub...)
	awsFails(t, build, work, "AccessDeniedException", ca("list-package-versions", "--domain", "corp", "--repository", "libs", "--format", "generic",
		"--namespace", "team", "--package", "lib")...)

	// A publishing policy on the role makes the publish work.
	publish := `{"Version":"2012-10-17","Statement":[{"Sid":"Publish","Effect":"Allow","Action":"codeartifact:PublishPackageVersion",` +
		`"Resource":"arn:aws:codeartifact:us-east-1:` + acct + `:package/corp/libs/generic/team/*"}]}`
	_ = os.WriteFile(filepath.Join(work, "publish.json"), []byte(publish), 0o600)
	pubARN := str(awsOK(t, rootEnv, work, "iam", "create-policy", "--policy-name", "codeartifact-publish", "--policy-document", "file://publish.json"), "Policy", "Arn")
	awsOK(t, rootEnv, work, "iam", "attach-role-policy", "--role-name", "build", "--policy-arn", pubARN)
	if res := awsOK(t, build, work, pub...); str(res, "status") != "Published" {
		t.Fatalf("publish with the publishing policy: %v", res)
	}

	// Without the read policy: no token, and the token already issued stops reading at once.
	awsOK(t, rootEnv, work, "iam", "detach-role-policy", "--role-name", "build", "--policy-arn", readARN)
	awsFails(t, build, work, "AccessDeniedException", ca("get-authorization-token", "--domain", "corp")...)
	if code, _ := getAsset(t, ep, token, "team/lib/1.0.0/lib.tar.gz"); code != http.StatusForbidden {
		t.Fatalf("read after the policy was detached: %d, want 403", code)
	}

	// Tampered and foreign tokens are refused.
	if code, _ := getAsset(t, ep, token[:len(token)-4]+"AAAA", "team/lib/1.0.0/lib.tar.gz"); code != http.StatusUnauthorized {
		t.Fatalf("tampered token: %d", code)
	}
	root.ok("", "create-domain", "--domain", "other")
	otherTok := str(root.ok("", "get-authorization-token", "--domain", "other"), "authorizationToken")
	if code, _ := getAsset(t, ep, otherTok, "team/lib/1.0.0/lib.tar.gz"); code != http.StatusUnauthorized {
		t.Fatalf("token of another domain: %d", code)
	}

	// A deactivated key can no longer assume the role.
	awsOK(t, rootEnv, work, "iam", "update-access-key", "--user-name", "builder", "--access-key-id", str(key, "AccessKey", "AccessKeyId"), "--status", "Inactive")
	_ = os.RemoveAll(filepath.Join(home, ".aws", "cli", "cache"))
	awsFails(t, build, work, "InvalidClientTokenId", "sts", "get-caller-identity")

	// The audit log names the denial and the statement that allowed the publish.
	audit, err := os.ReadFile(filepath.Join(c.DataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(audit), `"action":"codeartifact:PublishPackageVersion"`) || !strings.Contains(string(audit), `"decision":"deny"`) ||
		!strings.Contains(string(audit), "Publish") {
		t.Fatalf("audit log lacks the publish decisions:\n%s", audit)
	}
	if !strings.Contains(string(audit), `"action":"iam:AttachRolePolicy"`) || !strings.Contains(string(audit), `"action":"sts:AssumeRole"`) {
		t.Fatalf("audit log lacks the IAM and STS calls:\n%s", audit)
	}
	if strings.Contains(string(audit), str(key, "AccessKey", "SecretAccessKey")) || strings.Contains(string(audit), token) {
		t.Fatal("the audit log contains a secret")
	}
}
