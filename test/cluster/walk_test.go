package cluster_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// TestClusterWalkThrough is the aws CLI story through the balancer (each
// call may land on any node), then downloads through every node, then npm:
// a publish through one node and `npm ci` through the balancer.
func TestClusterWalkThrough(t *testing.T) {
	c := newCluster(t, 3)
	r := c.runner()
	owner := str(r.AWS(c.URL, "create-domain", "--domain", "acme"), "domain", "owner")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "releases")
	// Every node sees the same account, domain and repository at once.
	for i, n := range c.nodes {
		if got := str(r.AWS(n.URL, "describe-repository", "--domain", "acme", "--repository", "releases"), "repository", "domainOwner"); got != owner {
			t.Fatalf("node %d: domain owner %q, want %q", i, got, owner)
		}
	}

	dir := t.TempDir()
	asset := bytes.Repeat([]byte("coffer cluster asset\n"), 50_000) // ~1 MB
	path := filepath.Join(dir, "tool.tar.gz")
	if err := os.WriteFile(path, asset, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(asset)
	sha := hex.EncodeToString(sum[:])
	pub := r.AWS(c.URL, "publish-package-version", "--domain", "acme", "--repository", "releases", "--format", "generic",
		"--namespace", "tools", "--package", "tool", "--package-version", "1.0.0", "--asset-content", path,
		"--asset-name", "tool.tar.gz", "--asset-sha256", sha)
	if got := str(pub, "asset", "hashes", "SHA-256"); got != sha {
		t.Fatalf("published SHA-256 %q, want %q", got, sha)
	}
	// Six downloads through the balancer (each node twice, round-robin) and
	// one through each node: byte-identical every time.
	urls := []string{c.URL, c.URL, c.URL, c.URL, c.URL, c.URL}
	for _, n := range c.nodes {
		urls = append(urls, n.URL)
	}
	for i, u := range urls {
		out := filepath.Join(dir, "dl")
		r.AWS(u, "get-package-version-asset", "--domain", "acme", "--repository", "releases", "--format", "generic",
			"--namespace", "tools", "--package", "tool", "--package-version", "1.0.0", "--asset", "tool.tar.gz", out)
		if got, _ := os.ReadFile(out); !bytes.Equal(got, asset) {
			t.Fatalf("download %d through %s: %d bytes differ from the %d published", i, u, len(got), len(asset))
		}
	}
	// The blob is in the bucket, once, named by its SHA-256; the database
	// references it.
	var refs int
	rows := c.sql("SELECT count(*) FROM assets WHERE sha256 = $1", sha)
	for rows.Next() {
		_ = rows.Scan(&refs)
	}
	if refs != 1 {
		t.Fatalf("%d asset rows reference the blob, want 1", refs)
	}

	t.Run("npm", func(t *testing.T) { npmThroughCluster(t, c, r, owner) })
}

// npmThroughCluster publishes with npm through node 0 and installs through
// the balancer with a lock file, then again with `npm ci` and empty caches.
func npmThroughCluster(t *testing.T, c *cluster, r *testproc.Runner, owner string) {
	testproc.Need(t, "npm")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "js")
	token := str(r.AWS(c.URL, "get-authorization-token", "--domain", "acme"), "authorizationToken")
	path := "/npm/d/acme-" + owner + "/js/"
	npmrc := filepath.Join(t.TempDir(), "npmrc")
	var rc strings.Builder
	for _, base := range append([]string{c.URL}, nodeURLs(c)...) {
		rc.WriteString("//" + strings.TrimPrefix(base, "http://") + path + ":_authToken=" + token + "\n")
	}
	if err := os.WriteFile(npmrc, []byte(rc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	npm := &testproc.Runner{T: t, Env: append(r.Env, "npm_config_userconfig="+npmrc, "npm_config_cache="+t.TempDir(),
		"npm_config_audit=false", "npm_config_fund=false", "npm_config_update_notifier=false")}

	lib := t.TempDir()
	writeFile(t, filepath.Join(lib, "package.json"), `{"name":"@acme/lib","version":"1.2.3","main":"index.js"}`)
	writeFile(t, filepath.Join(lib, "index.js"), "module.exports = () => 'from the cluster';\n")
	npm.Must(lib, "npm", "publish", "--registry", c.nodes[0].URL+path)

	app := t.TempDir()
	writeFile(t, filepath.Join(app, "package.json"), `{"name":"app","version":"1.0.0","private":true,"dependencies":{"@acme/lib":"^1.2.0"}}`)
	npm.Must(app, "npm", "install", "--registry", c.URL+path)
	lock, _ := os.ReadFile(filepath.Join(app, "package-lock.json"))
	if !strings.Contains(string(lock), c.URL+path) {
		t.Fatalf("package-lock.json does not resolve through the balancer:\n%s", lock)
	}
	for range 3 { // npm ci three times with empty caches: each lands its requests on other nodes
		if err := os.RemoveAll(filepath.Join(app, "node_modules")); err != nil {
			t.Fatal(err)
		}
		npm.Env = append(npm.Env, "npm_config_cache="+t.TempDir())
		npm.Must(app, "npm", "ci", "--registry", c.URL+path)
		out := npm.Must(app, "node", "-e", "process.stdout.write(require('@acme/lib')())")
		if out != "from the cluster" {
			t.Fatalf("installed module says %q", out)
		}
	}
}

func nodeURLs(c *cluster) []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.URL)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
