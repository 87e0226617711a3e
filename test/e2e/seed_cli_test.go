package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// awsCLI runs the aws CLI against one coffer with the root credentials file
// and an isolated home.
type awsCLI struct {
	t        *testing.T
	endpoint string
	env      []string
	dir      string // working directory of commands run with dir ""
}

func newAWSCLI(t *testing.T, c *coffer) *awsCLI {
	need(t, "aws")
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "HOME=") {
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(c.DataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1")
	return &awsCLI{t: t, endpoint: c.URL, env: env}
}

// run runs `aws codeartifact <args>` and returns stdout, stderr and the exit code.
func (a *awsCLI) run(dir string, args ...string) (string, string, int) {
	a.t.Helper()
	full := append([]string{"codeartifact"}, args...)
	full = append(full, "--endpoint-url", a.endpoint, "--output", "json")
	cmd := exec.Command("aws", full...)
	if dir == "" {
		dir = a.dir
	}
	cmd.Env, cmd.Dir = a.env, dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		a.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// ok runs a command that must succeed and decodes its JSON output.
func (a *awsCLI) ok(dir string, args ...string) map[string]any {
	a.t.Helper()
	out, errOut, code := a.run(dir, args...)
	if code != 0 {
		a.t.Fatalf("aws codeartifact %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	m := map[string]any{}
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			a.t.Fatalf("aws codeartifact %s: output is not JSON: %v\n%s", args[0], err, out)
		}
	}
	return m
}

// fails runs a command that must fail with the given AWS error type.
func (a *awsCLI) fails(errType string, args ...string) string {
	a.t.Helper()
	_, errOut, code := a.run("", args...)
	if code == 0 || !strings.Contains(errOut, "("+errType+")") {
		a.t.Fatalf("aws codeartifact %s: want failure %s, got exit %d: %s", args[0], errType, code, errOut)
	}
	return errOut
}

// makeTarGz writes a .tar.gz holding one file and returns its bytes.
func makeTarGz(t *testing.T, path, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write([]byte(content))
	tw.Close()
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hexSum(b []byte) (md5s, sha1s, sha256s, sha512s string) {
	m, s1, s2, s5 := md5.Sum(b), sha1.Sum(b), sha256.Sum256(b), sha512.Sum512(b)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:]), hex.EncodeToString(s5[:])
}

// TestSeedWithAWSCLI runs the seed story with the real aws CLI, then restarts
// coffer on the same data dir and checks that everything is still there.
func TestSeedWithAWSCLI(t *testing.T) {
	need(t, "tar")
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	st, err := os.Stat(filepath.Join(dataDir, "root-credentials"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("root-credentials: %v, mode %v", err, st.Mode())
	}
	if strings.Contains(c.Logs.String(), secretOf(t, dataDir)) {
		t.Fatal("the root secret appears in the logs")
	}
	aws := newAWSCLI(t, c)
	work := t.TempDir()
	aws.dir = work

	dom := aws.ok(work, "create-domain", "--domain", "my-domain")
	owner := str(dom, "domain", "owner")
	if str(dom, "domain", "name") != "my-domain" || str(dom, "domain", "status") != "Active" || !regexp.MustCompile(`^\d{12}$`).MatchString(owner) {
		t.Fatalf("create-domain: %v", dom)
	}
	if str(dom, "domain", "arn") != "arn:aws:codeartifact:us-east-1:"+owner+":domain/my-domain" {
		t.Fatalf("domain arn: %v", dom)
	}
	aws.fails("ConflictException", "create-domain", "--domain", "my-domain")

	store := aws.ok(work, "create-repository", "--domain", "my-domain", "--repository", "my-repo-store", "--description", "upstream store")
	if str(store, "repository", "name") != "my-repo-store" {
		t.Fatalf("create-repository: %v", store)
	}
	assoc := aws.ok(work, "associate-external-connection", "--domain", "my-domain", "--repository", "my-repo-store", "--external-connection", "public:maven-central")
	if str(assoc, "repository", "externalConnections", 0, "externalConnectionName") != "public:maven-central" ||
		str(assoc, "repository", "externalConnections", 0, "packageFormat") != "maven" {
		t.Fatalf("associate-external-connection: %v", assoc)
	}
	repo := aws.ok(work, "create-repository", "--domain", "my-domain", "--repository", "my-repo", "--upstreams", "repositoryName=my-repo-store")
	if str(repo, "repository", "upstreams", 0, "repositoryName") != "my-repo-store" {
		t.Fatalf("create-repository with upstream: %v", repo)
	}
	aws.fails("ValidationException", "update-repository", "--domain", "my-domain", "--repository", "my-repo-store", "--upstreams", "repositoryName=my-repo")

	tok := aws.ok(work, "get-authorization-token", "--domain", "my-domain")
	token := str(tok, "authorizationToken")
	if !regexp.MustCompile(`^[A-Za-z0-9_.-]{40,}$`).MatchString(token) {
		t.Fatalf("authorization token is not an opaque URL-safe string: %q", token)
	}
	exp, _ := get(tok, "expiration").(float64) // CLI v1 prints the wire's epoch seconds
	if until := time.Until(time.Unix(int64(exp), 0)); until < 11*time.Hour || until > 13*time.Hour {
		t.Fatalf("token expiration %v is not about 12 h from now", get(tok, "expiration"))
	}
	ep := aws.ok(work, "get-repository-endpoint", "--domain", "my-domain", "--repository", "my-repo", "--format", "maven")
	if want := c.URL + "/maven/d/my-domain-" + owner + "/my-repo/"; str(ep, "repositoryEndpoint") != want {
		t.Fatalf("endpoint %q, want %q", str(ep, "repositoryEndpoint"), want)
	}

	// The generic publish of the seed.
	const message = "The secret mission starts at dawn.\n"
	asset := makeTarGz(t, filepath.Join(work, "secret-mission.tar.gz"), "secret-mission.txt", message)
	md5s, sha1s, sha256s, sha512s := hexSum(asset)
	pub := []string{"publish-package-version", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission", "--package-version", "1.0.0",
		"--asset-content", "secret-mission.tar.gz", "--asset-name", "secret-mission.tar.gz"}

	// A wrong SHA-256 is refused and stores nothing.
	wrong := strings.Repeat("0", 64)
	aws.fails("ValidationException", append(append([]string{}, pub...), "--asset-sha256", wrong)...)
	aws.fails("ResourceNotFoundException", "describe-package", "--domain", "my-domain", "--repository", "my-repo",
		"--format", "generic", "--namespace", "secret-mission", "--package", "secret-mission")

	res := aws.ok(work, append(append([]string{}, pub...), "--asset-sha256", sha256s)...)
	if str(res, "status") != "Published" || str(res, "version") != "1.0.0" || str(res, "asset", "name") != "secret-mission.tar.gz" {
		t.Fatalf("publish: %v", res)
	}
	if get(res, "asset", "size") != float64(len(asset)) || str(res, "asset", "hashes", "MD5") != md5s ||
		str(res, "asset", "hashes", "SHA-1") != sha1s || str(res, "asset", "hashes", "SHA-256") != sha256s ||
		str(res, "asset", "hashes", "SHA-512") != sha512s {
		t.Fatalf("publish reported wrong size or hashes: %v", res)
	}
	// Publishing the identical bytes again succeeds; other bytes under the same name conflict.
	aws.ok(work, append(append([]string{}, pub...), "--asset-sha256", sha256s)...)
	other := makeTarGz(t, filepath.Join(work, "other.tar.gz"), "secret-mission.txt", "something else\n")
	_, _, otherSHA, _ := hexSum(other)
	aws.fails("ConflictException", "publish-package-version", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission", "--package-version", "1.0.0",
		"--asset-content", filepath.Join(work, "other.tar.gz"), "--asset-name", "secret-mission.tar.gz", "--asset-sha256", otherSHA)

	pkg := aws.ok(work, "describe-package", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission")
	if str(pkg, "package", "originConfiguration", "restrictions", "publish") != "ALLOW" ||
		str(pkg, "package", "originConfiguration", "restrictions", "upstream") != "BLOCK" {
		t.Fatalf("origin defaults after a first publish: %v", pkg)
	}
	vers := aws.ok(work, "list-package-versions", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission")
	if str(vers, "versions", 0, "version") != "1.0.0" || str(vers, "versions", 0, "status") != "Published" || get(vers, "versions", 1) != nil ||
		str(vers, "defaultDisplayVersion") != "1.0.0" || str(vers, "versions", 0, "origin", "originType") != "INTERNAL" {
		t.Fatalf("list-package-versions: %v", vers)
	}
	assets := aws.ok(work, "list-package-version-assets", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission", "--package-version", "1.0.0")
	if str(assets, "assets", 0, "name") != "secret-mission.tar.gz" || str(assets, "assets", 0, "hashes", "SHA-512") != sha512s || get(assets, "assets", 1) != nil {
		t.Fatalf("list-package-version-assets: %v", assets)
	}
	revision := str(assets, "versionRevision")

	download := func(dir string) {
		t.Helper()
		got := aws.ok(dir, "get-package-version-asset", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
			"--namespace", "secret-mission", "--package", "secret-mission", "--package-version", "1.0.0",
			"--asset", "secret-mission.tar.gz", "downloaded.tar.gz")
		if str(got, "assetName") != "secret-mission.tar.gz" || str(got, "packageVersion") != "1.0.0" || str(got, "packageVersionRevision") != revision {
			t.Fatalf("get-package-version-asset headers: %v (revision %s)", got, revision)
		}
		b, err := os.ReadFile(filepath.Join(dir, "downloaded.tar.gz"))
		if err != nil || !bytes.Equal(b, asset) {
			t.Fatalf("downloaded asset differs from the published one (%v)", err)
		}
		x := exec.Command("tar", "-xzvf", "downloaded.tar.gz")
		x.Dir = dir
		if out, err := x.CombinedOutput(); err != nil || !strings.Contains(string(out), "secret-mission.txt") {
			t.Fatalf("tar -xzvf: %v\n%s", err, out)
		}
		msg, err := os.ReadFile(filepath.Join(dir, "secret-mission.txt"))
		if err != nil || string(msg) != message {
			t.Fatalf("the original message is not there: %q %v", msg, err)
		}
	}
	download(t.TempDir())

	// --unfinished keeps a version Unfinished until a final publish.
	unf := []string{"publish-package-version", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission", "--package-version", "2.0.0"}
	part1 := aws.ok(work, append(append([]string{}, unf...), "--asset-content", "secret-mission.tar.gz", "--asset-name", "part1.tar.gz",
		"--asset-sha256", sha256s, "--unfinished")...)
	if str(part1, "status") != "Unfinished" {
		t.Fatalf("--unfinished publish: %v", part1)
	}
	part2 := aws.ok(work, append(append([]string{}, unf...), "--asset-content", "other.tar.gz", "--asset-name", "part2.tar.gz",
		"--asset-sha256", otherSHA)...)
	if str(part2, "status") != "Published" {
		t.Fatalf("final publish: %v", part2)
	}

	// Restart on the same data dir: everything is still there, byte-identical.
	c.Stop()
	c2 := startCoffer(t, dataDir)
	aws2 := newAWSCLI(t, c2)
	aws2.dir = work
	aws2.ok(work, "describe-domain", "--domain", "my-domain")
	aws = aws2
	download(t.TempDir())
	v2 := aws.ok(work, "describe-package-version", "--domain", "my-domain", "--repository", "my-repo", "--format", "generic",
		"--namespace", "secret-mission", "--package", "secret-mission", "--package-version", "2.0.0")
	if str(v2, "packageVersion", "status") != "Published" {
		t.Fatalf("after restart: %v", v2)
	}
}

// secretOf reads the root secret from the credentials file.
func secretOf(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "root-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`aws_secret_access_key = (\S+)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no secret in root-credentials:\n%s", b)
	}
	return m[1]
}

// TestCLIRejectsBadCredentials checks that a wrong secret or an unknown key
// gets AWS's error and changes nothing.
func TestCLIRejectsBadCredentials(t *testing.T) {
	c := startCoffer(t, t.TempDir())
	aws := newAWSCLI(t, c)
	creds := filepath.Join(t.TempDir(), "credentials")
	b, _ := os.ReadFile(filepath.Join(c.DataDir, "root-credentials"))
	bad := strings.Replace(string(b), secretOf(t, c.DataDir), "wrong"+secretOf(t, c.DataDir)[5:], 1)
	if err := os.WriteFile(creds, []byte(bad+"\n[unknown]\naws_access_key_id = AKIAUNKNOWNUNKNOWN00\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, e := range aws.env {
		if strings.HasPrefix(e, "AWS_SHARED_CREDENTIALS_FILE=") {
			aws.env[i] = "AWS_SHARED_CREDENTIALS_FILE=" + creds
		}
	}
	aws.fails("InvalidSignatureException", "create-domain", "--domain", "bad-sig")
	aws.env = append(aws.env, "AWS_PROFILE=unknown")
	aws.fails("UnrecognizedClientException", "create-domain", "--domain", "bad-key")

	good := newAWSCLI(t, c)
	if doms := good.ok("", "list-domains"); get(doms, "domains", 0) != nil {
		t.Fatalf("a refused request created something: %v", doms)
	}
}
