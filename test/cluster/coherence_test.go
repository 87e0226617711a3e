package cluster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// TestClusterCoherence: a write acknowledged by one node is seen by the
// next request on any other node — a detached policy, a deactivated key, a
// new version, a status change — although every node caches what it read.
func TestClusterCoherence(t *testing.T) {
	c := newCluster(t, 3)
	root := c.runner()
	root.AWS(c.URL, "create-domain", "--domain", "acme")
	root.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "main")

	// A user whose only permission is a managed policy, created on node 0.
	iam := func(node int, args ...string) string {
		return root.Must("", "aws", append(append([]string{"iam"}, args...), "--endpoint-url", c.nodes[node].URL, "--output", "json")...)
	}
	iam(0, "create-user", "--user-name", "builder")
	policyARN := str(decode(t, iam(0, "create-policy", "--policy-name", "read", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"}]}`)), "Policy", "Arn")
	key := decode(t, iam(0, "create-access-key", "--user-name", "builder"))
	keyID := str(key, "AccessKey", "AccessKeyId")
	user := userRunner(t, root, keyID, str(key, "AccessKey", "SecretAccessKey"))
	listDomains := func(node int) (string, error) {
		return user.Run("", "aws", "codeartifact", "list-domains", "--endpoint-url", c.nodes[node].URL, "--output", "json")
	}
	mustRefuse := func(node int, what, want string) {
		t.Helper()
		out, err := listDomains(node)
		if err == nil || !strings.Contains(out, want) {
			t.Fatalf("%s: node %d answered (err %v): %s", what, node, err, out)
		}
	}
	mustAllow := func(node int, what string) {
		t.Helper()
		if out, err := listDomains(node); err != nil || !strings.Contains(out, `"acme"`) {
			t.Fatalf("%s: node %d refused (err %v): %s", what, node, err, out)
		}
	}

	mustRefuse(1, "before any policy", "AccessDenied")
	iam(0, "attach-user-policy", "--user-name", "builder", "--policy-arn", policyARN)
	for n := range 3 { // warms every node's caches of the key and the policies
		mustAllow(n, "policy attached on node 0")
	}
	iam(0, "detach-user-policy", "--user-name", "builder", "--policy-arn", policyARN)
	mustRefuse(1, "policy detached on node 0", "AccessDenied")
	mustRefuse(2, "policy detached on node 0", "AccessDenied")

	iam(2, "attach-user-policy", "--user-name", "builder", "--policy-arn", policyARN)
	mustAllow(0, "policy attached again on node 2")
	mustAllow(1, "policy attached again on node 2")
	iam(1, "update-access-key", "--user-name", "builder", "--access-key-id", keyID, "--status", "Inactive")
	mustRefuse(0, "key deactivated on node 1", "UnrecognizedClientException")
	mustRefuse(2, "key deactivated on node 1", "UnrecognizedClientException")

	// A new version published on one node is listed by the others; a
	// status change on one is what the next read on another sees.
	dir := t.TempDir()
	publish := func(node int, version string) {
		path := filepath.Join(dir, version)
		writeFile(t, path, "content of "+version)
		root.AWS(c.nodes[node].URL, "publish-package-version", "--domain", "acme", "--repository", "main", "--format", "generic",
			"--namespace", "ns", "--package", "p", "--package-version", version, "--asset-content", path,
			"--asset-name", "a.txt", "--asset-sha256", sha256Hex("content of "+version))
	}
	versions := func(node int) string {
		v := root.AWS(c.nodes[node].URL, "list-package-versions", "--domain", "acme", "--repository", "main",
			"--format", "generic", "--namespace", "ns", "--package", "p")
		var out []string
		for _, pv := range list(v, "versions") {
			out = append(out, str(pv, "version")+"="+str(pv, "status"))
		}
		return strings.Join(out, " ")
	}
	publish(0, "1.0.0")
	for n := range 3 {
		if got := versions(n); got != "1.0.0=Published" {
			t.Fatalf("node %d lists %q", n, got)
		}
	}
	publish(1, "2.0.0")
	for _, n := range []int{2, 0} {
		if got := versions(n); got != "1.0.0=Published 2.0.0=Published" && got != "2.0.0=Published 1.0.0=Published" {
			t.Fatalf("after a publish on node 1, node %d lists %q", n, got)
		}
	}
	root.AWS(c.nodes[2].URL, "update-package-versions-status", "--domain", "acme", "--repository", "main", "--format", "generic",
		"--namespace", "ns", "--package", "p", "--versions", "1.0.0", "--target-status", "Archived")
	for _, n := range []int{0, 1} {
		if got := versions(n); !strings.Contains(got, "1.0.0=Archived") {
			t.Fatalf("after archiving on node 2, node %d lists %q", n, got)
		}
	}
}

// userRunner runs clients as an IAM user with an access key.
func userRunner(t *testing.T, root *testproc.Runner, keyID, secret string) *testproc.Runner {
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("[coffer]\naws_access_key_id = "+keyID+"\naws_secret_access_key = "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range root.Env {
		if !strings.HasPrefix(e, "AWS_SHARED_CREDENTIALS_FILE=") {
			env = append(env, e)
		}
	}
	return &testproc.Runner{T: t, Env: append(env, "AWS_SHARED_CREDENTIALS_FILE="+creds)}
}
