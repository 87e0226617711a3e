package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runRules runs `coffer rules <args>` with env and returns stdout, stderr
// and the exit code.
func runRules(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runProgram(t, env, "", cofferBin, append([]string{"rules"}, args...)...)
}

func rulesOK(t *testing.T, env []string, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := runRules(t, env, args...)
	if code != 0 {
		t.Fatalf("coffer rules %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	m := map[string]any{}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("coffer rules %s: output is not JSON: %v\n%s", args[0], err, out)
	}
	return m
}

// TestRulesCLI drives `coffer rules set/list/delete` against a real coffer
// with the root credentials file coffer writes (AWS_SHARED_CREDENTIALS_FILE,
// AWS_PROFILE=coffer), and an IAM user made with the aws CLI that has no
// coffer: permission and is refused.
func TestRulesCLI(t *testing.T) {
	c := startCoffer(t, t.TempDir())
	root := newAWSCLI(t, c)
	root.ok("", "create-domain", "--domain", "corp")
	root.ok("", "create-repository", "--domain", "corp", "--repository", "libs")
	ep := []string{"--endpoint-url", c.URL, "--domain", "corp"}
	with := func(args ...string) []string {
		return append(append([]string{}, args[:1]...), append(ep, args[1:]...)...)
	}

	cool := rulesOK(t, root.env, with("set", "--cooldown", "72h")...)
	if str(cool, "rule", "kind") != "cooldown" || str(cool, "rule", "cooldown") != "72h0m0s" || !strings.HasPrefix(str(cool, "rule", "createdBy"), "arn:aws:iam::") {
		t.Errorf("set --cooldown: %v", cool)
	}
	rulesOK(t, root.env, with("set", "--repository", "libs", "--freeze", "2026-01-02T15:04:05Z")...)
	block := rulesOK(t, root.env, with("set", "--external-connection", "public:npmjs", "--block", "/npm//event-stream$", "--versions", "=3.3.6", "--reason", "MAL-2018-1")...)
	exempt := rulesOK(t, root.env, with("set", "--package-group", "/npm/*", "--format", "npm", "--exempt", "@acme/ui@1.2.3", "--reason", "INC-9 hotfix")...)
	if str(exempt, "rule", "package") != "/npm/acme/ui$" || str(exempt, "rule", "version") != "1.2.3" || str(exempt, "rule", "packageGroup") != "/npm/*" {
		t.Errorf("set --exempt: %v", exempt)
	}

	list := rulesOK(t, root.env, with("list")...)
	if n := len(get(list, "rules").([]any)); n != 4 {
		t.Errorf("list: %d rules, want 4: %v", n, list)
	}
	list = rulesOK(t, root.env, with("list", "--repository", "libs")...)
	if rs := get(list, "rules").([]any); len(rs) != 1 || str(rs[0], "kind") != "freeze" {
		t.Errorf("list --repository: %v", list)
	}

	// Errors go to stderr with a non-zero exit.
	out, errOut, code := runRules(t, root.env, with("set", "--block", "/npm//x$")...)
	if code == 0 || out != "" || !strings.Contains(errOut, "ValidationException") || !strings.Contains(errOut, "needs a reason") {
		t.Errorf("set --block without a reason: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// An IAM user without coffer: permissions is refused.
	rootEnv := append(append([]string{}, root.env...), "AWS_ENDPOINT_URL_IAM="+c.URL)
	awsOK(t, rootEnv, "", "iam", "create-user", "--user-name", "dev")
	key := awsOK(t, rootEnv, "", "iam", "create-access-key", "--user-name", "dev")
	home := t.TempDir()
	creds := "[dev]\naws_access_key_id = " + str(key, "AccessKey", "AccessKeyId") + "\naws_secret_access_key = " + str(key, "AccessKey", "SecretAccessKey") + "\n"
	if err := os.WriteFile(filepath.Join(home, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	var devEnv []string
	for _, e := range root.env {
		if !strings.HasPrefix(e, "AWS_SHARED_CREDENTIALS_FILE=") && !strings.HasPrefix(e, "AWS_PROFILE=") {
			devEnv = append(devEnv, e)
		}
	}
	devEnv = append(devEnv, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_PROFILE=dev")
	for _, args := range [][]string{with("set", "--cooldown", "1h"), with("list"), with("delete", "--id", str(block, "rule", "id"))} {
		_, errOut, code := runRules(t, devEnv, args...)
		if code == 0 || !strings.Contains(errOut, "AccessDeniedException") {
			t.Errorf("coffer rules %s as dev: exit %d, %s", args[0], code, errOut)
		}
	}

	del := rulesOK(t, root.env, with("delete", "--id", str(block, "rule", "id"))...)
	if str(del, "rule", "id") != str(block, "rule", "id") {
		t.Errorf("delete: %v", del)
	}
	if _, errOut, code := runRules(t, root.env, with("delete", "--id", str(block, "rule", "id"))...); code == 0 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("second delete: exit %d, %s", code, errOut)
	}
	if n := len(get(rulesOK(t, root.env, with("list")...), "rules").([]any)); n != 3 {
		t.Errorf("list after delete: %d rules", n)
	}
	audit, err := os.ReadFile(filepath.Join(c.DataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(audit), `"action":"coffer:PutRule"`) || !strings.Contains(string(audit), `:user/dev","sourceIp":"127.0.0.1","action":"coffer:PutRule"`) {
		t.Errorf("audit log lacks the rule changes or dev's refusals:\n%s", audit)
	}
}
