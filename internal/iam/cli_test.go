package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAWSCLI drives the real aws CLI (botocore) against the Query APIs: IAM
// with --endpoint-url, STS through AWS_ENDPOINT_URL_STS, and a role_arn +
// source_profile profile, which makes the CLI call sts:AssumeRole itself.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newTestEnv(t)
	home := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(home, ".aws", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	credsFile := write("credentials", "[coffer]\naws_access_key_id = "+rootAK+"\naws_secret_access_key = "+rootSK+"\n")
	configFile := write("config", "[profile coffer]\nregion = us-east-1\n")
	run := func(wantOK bool, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsBin, append(args, "--output", "json")...)
		cmd.Env = append(os.Environ(), "HOME="+home, "AWS_CONFIG_FILE="+configFile, "AWS_SHARED_CREDENTIALS_FILE="+credsFile,
			"AWS_ENDPOINT_URL_STS="+e.srv.URL, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
			"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_ENDPOINT_URL=", "AWS_ENDPOINT_URL_IAM=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if wantOK != (err == nil) {
			t.Fatalf("aws %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		if !wantOK {
			return map[string]any{"stderr": stderr.String()}
		}
		out := map[string]any{}
		if stdout.Len() > 0 {
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, stdout.String())
			}
		}
		return out
	}
	field := func(m map[string]any, path ...string) any {
		var v any = m
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v
	}

	iamArgs := func(args ...string) []string { return append(args, "--profile", "coffer", "--endpoint-url", e.srv.URL) }
	u := run(true, iamArgs("iam", "create-user", "--user-name", "cli-user", "--path", "/ci/")...)
	if field(u, "User", "Arn") != "arn:aws:iam::123456789012:user/ci/cli-user" {
		t.Fatalf("create-user: %v", u)
	}
	k := run(true, iamArgs("iam", "create-access-key", "--user-name", "cli-user")...)
	akid, secret := field(k, "AccessKey", "AccessKeyId").(string), field(k, "AccessKey", "SecretAccessKey").(string)
	who := run(true, "sts", "get-caller-identity", "--profile", "coffer")
	if who["Arn"] != e.id.RootARN() || who["Account"] != testAccount {
		t.Fatalf("get-caller-identity: %v", who)
	}
	fail := run(false, iamArgs("iam", "get-user", "--user-name", "nobody")...)
	if s := fail["stderr"].(string); !strings.Contains(s, "NoSuchEntity") || !strings.Contains(s, "cannot be found") {
		t.Fatalf("get-user error: %s", s)
	}
	users := run(true, iamArgs("iam", "list-users")...)
	if list, _ := users["Users"].([]any); len(list) != 1 {
		t.Fatalf("list-users: %v", users)
	}

	// A role the CLI assumes through a role_arn + source_profile profile.
	trust := trustDoc("arn:aws:iam::123456789012:user/ci/cli-user")
	if _, err := e.root().CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("ca-admin"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	role := run(true, iamArgs("iam", "get-role", "--role-name", "ca-admin")...)
	// botocore decodes the URL-encoded document into JSON.
	if stmt := field(role, "Role", "AssumeRolePolicyDocument", "Statement").([]any); len(stmt) != 1 {
		t.Fatalf("get-role document: %v", role)
	}
	write("credentials", "[coffer]\naws_access_key_id = "+rootAK+"\naws_secret_access_key = "+rootSK+"\n"+
		"[base]\naws_access_key_id = "+akid+"\naws_secret_access_key = "+secret+"\n")
	write("config", "[profile coffer]\nregion = us-east-1\n[profile ca]\nrole_arn = arn:aws:iam::123456789012:role/ca-admin\n"+
		"source_profile = base\nrole_session_name = cli-session\nregion = us-east-1\n")
	who = run(true, "sts", "get-caller-identity", "--profile", "ca")
	if who["Arn"] != "arn:aws:sts::123456789012:assumed-role/ca-admin/cli-session" {
		t.Fatalf("assumed role identity: %v", who)
	}
}
