// Package encryption_test drives a domain encrypted at rest end to end: a
// real coffer process, a domain created with --encryption-key, then npm
// publish and install, twine upload and pip install (with a dependency
// ingested from a fixture PyPI), and a generic publish and download with the
// aws CLI, each byte-identical with identical digests. Then every file under
// <data-dir>/blobs is scanned: none may hold a 32-byte window of any of the
// plaintexts. TestEncryptedDomainNativeClients (clients_test.go) does the
// same with mvn, cargo, gem and bundler against one coffer process, and
// requires every blob file to begin with the encrypted-object magic.
package encryption_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/testproc"
)

var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

const keyARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestEncryptedDomain(t *testing.T) {
	for _, p := range []string{"aws", "npm", "twine", "python3"} {
		testproc.Need(t, p)
	}
	idx := pypitest.NewIndex()
	marker := randomHex(t, 64)
	dep := pypitest.Dist{Name: "enc-dep", Version: "2.0", Summary: "upstream dependency " + marker, Description: "dep " + marker}
	depWheel := idx.AddWheel(dep, true)
	upstream := httptest.NewServer(idx)
	defer upstream.Close()

	dir := t.TempDir()
	c := testproc.Start(t, cofferBin, dir, "--external-connection", "public:pypi="+upstream.URL+"/")
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "NPM_CONFIG_"), strings.HasPrefix(u, "PIP_"), strings.HasPrefix(u, "TWINE_"),
			strings.HasPrefix(u, "XDG_"), strings.HasPrefix(u, "COFFER_"), u == "HOME", u == "VIRTUAL_ENV":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NPM_CONFIG_USERCONFIG="+filepath.Join(home, ".npmrc"), "NPM_CONFIG_CACHE="+filepath.Join(home, ".npm"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring",
		"PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1")
	r := testproc.Runner{T: t, Env: env}
	aws := func(args ...string) map[string]any { t.Helper(); return r.AWS(c.URL, args...) }

	created := aws("create-domain", "--domain", "vault", "--encryption-key", keyARN)
	if got := testproc.Str(created, "domain", "encryptionKey"); got != keyARN {
		t.Fatalf("create-domain encryptionKey = %q, want %q", got, keyARN)
	}
	if got := testproc.Str(aws("describe-domain", "--domain", "vault"), "domain", "encryptionKey"); got != keyARN {
		t.Fatalf("describe-domain encryptionKey = %q, want %q", got, keyARN)
	}
	aws("create-repository", "--domain", "vault", "--repository", "store")
	aws("associate-external-connection", "--domain", "vault", "--repository", "store", "--external-connection", "public:pypi")
	aws("create-repository", "--domain", "vault", "--repository", "app", "--upstreams", "repositoryName=store")
	var plaintexts [][]byte

	// Generic: publish and download with the aws CLI.
	generic := make([]byte, 3<<20+12345)
	rand.Read(generic)
	copy(generic, marker)
	gpath := filepath.Join(t.TempDir(), "tool.bin")
	if err := os.WriteFile(gpath, generic, 0o644); err != nil {
		t.Fatal(err)
	}
	plaintexts = append(plaintexts, generic)
	sum := pypitest.SHA256(generic)
	aws("publish-package-version", "--domain", "vault", "--repository", "app", "--format", "generic", "--namespace", "tools",
		"--package", "tool", "--package-version", "1.0.0", "--asset-content", gpath, "--asset-name", "tool.bin", "--asset-sha256", sum)
	assets := aws("list-package-version-assets", "--domain", "vault", "--repository", "app", "--format", "generic", "--namespace", "tools",
		"--package", "tool", "--package-version", "1.0.0")
	a, _ := testproc.Get(assets, "assets", 0).(map[string]any)
	if testproc.Str(a, "hashes", "SHA-256") != sum || testproc.Get(a, "size") != float64(len(generic)) {
		t.Errorf("asset summary %v, want SHA-256 %s and size %d", a, sum, len(generic))
	}
	out := filepath.Join(t.TempDir(), "downloaded.bin")
	aws("get-package-version-asset", "--domain", "vault", "--repository", "app", "--format", "generic", "--namespace", "tools",
		"--package", "tool", "--package-version", "1.0.0", "--asset", "tool.bin", out)
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, generic) {
		t.Fatalf("the downloaded generic asset differs (%d bytes, %v)", len(got), err)
	}

	token := testproc.Str(aws("get-authorization-token", "--domain", "vault"), "authorizationToken")

	npmEndpoint := testproc.Str(aws("get-repository-endpoint", "--domain", "vault", "--repository", "app", "--format", "npm"), "repositoryEndpoint")

	// npm publish and install.
	host := strings.TrimPrefix(npmEndpoint, "http:")
	if err := os.WriteFile(filepath.Join(home, ".npmrc"), []byte("registry="+npmEndpoint+"\n"+host+":_authToken="+token+
		"\nupdate-notifier=false\nfund=false\naudit=false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pkgDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pkgDir, "package.json"), []byte(`{"name":"vault-pkg","version":"1.0.0","description":"encrypted"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	jsFile := "module.exports = " + `"` + marker + randomHex(t, 2000) + `";` + "\n"
	if err := os.WriteFile(filepath.Join(pkgDir, "index.js"), []byte(jsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Must(pkgDir, "npm", "publish")
	useDir := t.TempDir()
	os.WriteFile(filepath.Join(useDir, "package.json"), []byte(`{"name":"use","version":"1.0.0","private":true}`), 0o644)
	r.Must(useDir, "npm", "install", "vault-pkg@1.0.0")
	if got, err := os.ReadFile(filepath.Join(useDir, "node_modules", "vault-pkg", "index.js")); err != nil || string(got) != jsFile {
		t.Fatalf("npm installed index.js differs: %v", err)
	}
	tgz := httpGet(t, npmEndpoint+"vault-pkg/-/vault-pkg-1.0.0.tgz", "Bearer "+token, "")
	plaintexts = append(plaintexts, tgz, []byte(jsFile))
	// A Range request reads the middle of the encrypted blob.
	req, _ := http.NewRequest(http.MethodGet, npmEndpoint+"vault-pkg/-/vault-pkg-1.0.0.tgz", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Range", "bytes=100-299")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var part bytes.Buffer
	part.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part.Bytes(), tgz[100:300]) {
		t.Errorf("Range bytes=100-299: %d, %d bytes, equal %v", resp.StatusCode, part.Len(), bytes.Equal(part.Bytes(), tgz[100:300]))
	}

	// twine upload and pip install, with the dependency ingested from
	// the fixture PyPI.
	pypiEndpoint := testproc.Str(aws("get-repository-endpoint", "--domain", "vault", "--repository", "app", "--format", "pypi"), "repositoryEndpoint")
	app := pypitest.Dist{Name: "vault-app", Version: "1.0.0", Requires: []string{"enc-dep>=2"}, Description: "app " + marker}
	wheelName, wheel := app.Wheel()
	dist := t.TempDir()
	if err := os.WriteFile(filepath.Join(dist, wheelName), wheel, 0o644); err != nil {
		t.Fatal(err)
	}
	r.Must("", "twine", "upload", "--non-interactive", "--repository-url", pypiEndpoint, "-u", "aws", "-p", token, filepath.Join(dist, wheelName))
	venv := filepath.Join(t.TempDir(), "venv")
	r.Must("", "python3", "-m", "venv", venv)
	index := "http://aws:" + token + "@" + strings.TrimPrefix(pypiEndpoint, "http://") + "simple/"
	pipOut := r.Must("", filepath.Join(venv, "bin", "pip"), "install", "--no-cache-dir", "--index-url", index, "vault-app")
	if !strings.Contains(pipOut, "Successfully installed") || !strings.Contains(pipOut, "enc-dep-2.0") || !strings.Contains(pipOut, "vault-app-1.0.0") {
		t.Fatalf("pip install:\n%s", testproc.Tail(pipOut))
	}
	plaintexts = append(plaintexts, wheel, depWheel.Data, app.Metadata(), dep.Metadata())
	// The ingested dependency reads back byte-identical, with its digests.
	depAssets := aws("list-package-version-assets", "--domain", "vault", "--repository", "store", "--format", "pypi",
		"--package", "enc-dep", "--package-version", "2.0")
	found := false
	for _, x := range testproc.Get(depAssets, "assets").([]any) {
		if testproc.Str(x, "name") == depWheel.Name {
			found = testproc.Str(x, "hashes", "SHA-256") == pypitest.SHA256(depWheel.Data)
		}
	}
	if !found {
		t.Errorf("the ingested wheel is not in store with its SHA-256: %v", depAssets)
	}
	depOut := filepath.Join(t.TempDir(), depWheel.Name)
	aws("get-package-version-asset", "--domain", "vault", "--repository", "store", "--format", "pypi",
		"--package", "enc-dep", "--package-version", "2.0", "--asset", depWheel.Name, depOut)
	if got, _ := os.ReadFile(depOut); !bytes.Equal(got, depWheel.Data) {
		t.Error("the ingested wheel reads back differently")
	}

	// No file under blobs/ holds any 32-byte window of a plaintext.
	scanned := 0
	err = filepath.WalkDir(filepath.Join(dir, "blobs"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for i, p := range plaintexts {
			for _, w := range windows(p) {
				if bytes.Contains(b, w) {
					t.Errorf("%s holds plaintext %d (%d bytes)", path, i, len(p))
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 5 {
		t.Fatalf("only %d files under blobs/", scanned)
	}
	t.Logf("scanned %d files under blobs/ for %d plaintexts", scanned, len(plaintexts))
}

// windows returns 32-byte windows of p spread over it.
func windows(p []byte) [][]byte {
	if len(p) <= 32 {
		return [][]byte{p}
	}
	var out [][]byte
	for i := 0; i < 64; i++ {
		off := (len(p) - 32) * i / 63
		out = append(out, p[off:off+32])
	}
	return out
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// httpGet fetches url with an Authorization header (auth) or HTTP Basic
// with user aws (basic).
func httpGet(t *testing.T, url, auth, basic string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if basic != "" {
		req.SetBasicAuth("aws", basic)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, buf.String())
	}
	return buf.Bytes()
}
