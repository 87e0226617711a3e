package migrate

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// world is what the test published, to be found again after each migration.
type world struct {
	assets []asset
	// views are aws codeartifact commands whose JSON output must be the
	// same on every deployment: times, revisions, hashes, ARNs, tags.
	views [][]string
	// want holds their output on the source.
	want []map[string]any
	// ciCredentials is a credentials file with an IAM user's access key.
	ciCredentials string
}

type asset struct {
	format, namespace, pkg, version, name string
	content                               []byte
}

func (a asset) String() string {
	return a.format + ":" + a.namespace + "/" + a.pkg + "@" + a.version + "/" + a.name
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// publish fills the coffer at url: a domain with two repositories, generic
// packages with several assets (one shared by two versions), an npm
// package published with npm, tags, a package group, an IAM user with a
// managed policy and an access key.
func publish(t *testing.T, cl *clients, url string) *world {
	t.Helper()
	w := &world{}
	work := t.TempDir()
	owner := str(cl.AWS(url, "create-domain", "--domain", "acme"), "domain", "owner")
	cl.AWS(url, "create-repository", "--domain", "acme", "--repository", "releases", "--description", "generic releases")
	cl.AWS(url, "create-repository", "--domain", "acme", "--repository", "js", "--upstreams", "repositoryName=releases")
	domainARN := "arn:aws:codeartifact:us-east-1:" + owner + ":domain/acme"
	repoARN := "arn:aws:codeartifact:us-east-1:" + owner + ":repository/acme/releases"
	cl.AWS(url, "tag-resource", "--resource-arn", domainARN, "--tags", "key=team,value=platform", "key=cost,value=42")
	cl.AWS(url, "tag-resource", "--resource-arn", repoARN, "--tags", "key=kind,value=generic")
	group := cl.AWS(url, "create-package-group", "--domain", "acme", "--package-group", "/generic/tools/*",
		"--contact-info", "team@example.com", "--description", "team tools", "--tags", "key=group,value=tools")
	groupARN := str(group, "packageGroup", "arn")
	cl.AWS(url, "update-package-group-origin-configuration", "--domain", "acme", "--package-group", "/generic/tools/*",
		"--restrictions", "EXTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES",
		"--add-allowed-repositories", "originRestrictionType=EXTERNAL_UPSTREAM,repositoryName=releases")

	shared := []byte("the same bytes in two versions\n")
	generic := []asset{
		{"generic", "tools", "cli", "1.0.0", "cli-linux.tar.gz", randomBytes(3 << 20)},
		{"generic", "tools", "cli", "1.0.0", "cli-darwin.tar.gz", randomBytes(1 << 20)},
		{"generic", "tools", "cli", "1.0.0", "NOTICE", shared},
		{"generic", "tools", "cli", "1.1.0", "cli-linux.tar.gz", randomBytes(1 << 20)},
		{"generic", "tools", "lib", "0.1.0", "NOTICE", shared},
	}
	for i, a := range generic {
		path := filepath.Join(work, a.name)
		if err := os.WriteFile(path, a.content, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(a.content)
		args := []string{"publish-package-version", "--domain", "acme", "--repository", "releases", "--format", "generic",
			"--namespace", a.namespace, "--package", a.pkg, "--package-version", a.version, "--asset-content", path,
			"--asset-name", a.name, "--asset-sha256", hex.EncodeToString(sum[:])}
		if i+1 < len(generic) && generic[i+1].version == a.version && generic[i+1].pkg == a.pkg {
			args = append(args, "--unfinished") // more assets to come
		}
		cl.AWS(url, args...)
	}
	w.assets = append(w.assets, generic...)

	// npm, published with npm itself.
	out := cl.Must("", "aws", "codeartifact", "login", "--tool", "npm", "--domain", "acme", "--repository", "js", "--endpoint-url", url)
	if !strings.Contains(out, "Successfully configured npm") {
		t.Fatalf("aws codeartifact login --tool npm:\n%s", out)
	}
	for _, version := range []string{"1.0.0", "1.1.0"} {
		dir := t.TempDir()
		files := map[string]string{
			"package.json": `{"name":"coffer-migrate-hello","version":"` + version + `","main":"index.js","license":"MIT"}`,
			"index.js":     "module.exports = 'hello " + version + " from before the migration';\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if out := cl.Must(dir, "npm", "publish"); !strings.Contains(out, "coffer-migrate-hello@"+version) {
			t.Fatalf("npm publish %s:\n%s", version, out)
		}
	}
	// The tarballs as npm made them, downloaded from the source.
	for _, version := range []string{"1.0.0", "1.1.0"} {
		listed := cl.AWS(url, "list-package-version-assets", "--domain", "acme", "--repository", "js", "--format", "npm",
			"--package", "coffer-migrate-hello", "--package-version", version)
		a := asset{format: "npm", pkg: "coffer-migrate-hello", version: version, name: str(listed, "assets", 0, "name")}
		if a.name == "" || get(listed, "assets", 1) != nil {
			t.Fatalf("npm version %s: assets %v", version, listed)
		}
		a.content = download(t, &cl.Runner, url, a)
		w.assets = append(w.assets, a)
	}

	// IAM: a user whose key and managed policy must keep working.
	iam := func(args ...string) map[string]any {
		out := cl.Must("", "aws", append(append([]string{"iam"}, args...), "--endpoint-url", url, "--output", "json")...)
		m := map[string]any{}
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("aws iam %s: %v\n%s", args[0], err, out)
			}
		}
		return m
	}
	iam("create-user", "--user-name", "ci")
	key := iam("create-access-key", "--user-name", "ci")
	policy := iam("create-policy", "--policy-name", "read-all", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"}]}`)
	iam("attach-user-policy", "--user-name", "ci", "--policy-arn", str(policy, "Policy", "Arn"))
	w.ciCredentials = filepath.Join(t.TempDir(), "ci-credentials")
	creds := "[coffer]\naws_access_key_id = " + str(key, "AccessKey", "AccessKeyId") +
		"\naws_secret_access_key = " + str(key, "AccessKey", "SecretAccessKey") + "\n"
	if err := os.WriteFile(w.ciCredentials, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}

	d := []string{"--domain", "acme"}
	w.views = [][]string{
		append([]string{"describe-domain"}, d...),
		append([]string{"list-repositories-in-domain"}, d...),
		append([]string{"describe-repository", "--repository", "releases"}, d...),
		append([]string{"describe-repository", "--repository", "js"}, d...),
		{"list-tags-for-resource", "--resource-arn", domainARN},
		{"list-tags-for-resource", "--resource-arn", repoARN},
		{"list-tags-for-resource", "--resource-arn", groupARN},
		append([]string{"describe-package-group", "--package-group", "/generic/tools/*"}, d...),
		append([]string{"list-allowed-repositories-for-group", "--package-group", "/generic/tools/*",
			"--origin-restriction-type", "EXTERNAL_UPSTREAM"}, d...),
		append([]string{"list-packages", "--repository", "releases"}, d...),
		append([]string{"list-packages", "--repository", "js"}, d...),
	}
	seen := map[string]bool{}
	for _, a := range w.assets {
		pkg := append([]string{"--repository", repoOf(a), "--format", a.format, "--package", a.pkg}, d...)
		if a.namespace != "" {
			pkg = append(pkg, "--namespace", a.namespace)
		}
		if !seen[a.format+a.pkg] {
			seen[a.format+a.pkg] = true
			w.views = append(w.views, append([]string{"describe-package"}, pkg...), append([]string{"list-package-versions"}, pkg...))
		}
		if !seen[a.format+a.pkg+a.version] {
			seen[a.format+a.pkg+a.version] = true
			v := append(pkg, "--package-version", a.version)
			w.views = append(w.views, append([]string{"describe-package-version"}, v...),
				append([]string{"list-package-version-assets"}, v...))
		}
	}
	for _, v := range w.views {
		w.want = append(w.want, withoutBucket(t, cl.AWS(url, v...)))
	}
	return w
}

// withoutBucket checks the s3BucketArn of a domain description and drops
// it: it names the blob store of the deployment answering, which a
// migration changes on purpose.
func withoutBucket(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	d, ok := out["domain"].(map[string]any)
	if !ok {
		return out
	}
	if arn, _ := d["s3BucketArn"].(string); !strings.HasPrefix(arn, "arn:aws:s3:::") {
		t.Errorf("domain %v: s3BucketArn %q is not an S3 bucket ARN", d["name"], arn)
	}
	delete(d, "s3BucketArn")
	return out
}

func repoOf(a asset) string {
	if a.format == "npm" {
		return "js"
	}
	return "releases"
}

// download fetches an asset with aws codeartifact get-package-version-asset.
func download(t *testing.T, r interface {
	AWS(string, ...string) map[string]any
}, url string, a asset) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "asset")
	args := []string{"get-package-version-asset", "--domain", "acme", "--repository", repoOf(a), "--format", a.format,
		"--package", a.pkg, "--package-version", a.version, "--asset", a.name}
	if a.namespace != "" {
		args = append(args, "--namespace", a.namespace)
	}
	r.AWS(url, append(args, out)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// check finds the world again at url: the same views, every asset byte
// for byte, the IAM user's key and policy, and npm installing the package.
func (w *world) check(t *testing.T, cl *clients, url string) {
	t.Helper()
	for i, v := range w.views {
		if got := withoutBucket(t, cl.AWS(url, v...)); !reflect.DeepEqual(got, w.want[i]) {
			t.Errorf("aws codeartifact %s:\n got %v\nwant %v", strings.Join(v, " "), got, w.want[i])
		}
	}
	for _, a := range w.assets {
		if got := download(t, &cl.Runner, url, a); !bytes.Equal(got, a.content) {
			t.Errorf("%s: %d bytes differ from the %d published", a, len(got), len(a.content))
		}
	}
	// The IAM user's key, with its attached policy.
	ci := cl.with("AWS_SHARED_CREDENTIALS_FILE=" + w.ciCredentials)
	if got := ci.AWS(url, "list-packages", "--domain", "acme", "--repository", "releases"); len(get(got, "packages").([]any)) != 2 {
		t.Errorf("list-packages as the IAM user: %v", got)
	}
	// npm installs from the migrated deployment (a token its token key signs).
	out := cl.Must("", "aws", "codeartifact", "login", "--tool", "npm", "--domain", "acme", "--repository", "js", "--endpoint-url", url)
	if !strings.Contains(out, "Successfully configured npm") {
		t.Fatalf("aws codeartifact login --tool npm:\n%s", out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"consumer","version":"1.0.0","private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cl.Must(dir, "npm", "install", "--prefer-online", "coffer-migrate-hello@1.0.0")
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "coffer-migrate-hello", "index.js"))
	if err != nil || !strings.Contains(string(b), "hello 1.0.0 from before the migration") {
		t.Errorf("npm install from %s: %q %v", url, b, err)
	}
}
