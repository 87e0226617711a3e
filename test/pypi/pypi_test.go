package pypi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/testproc"
)

// clients runs the aws CLI, twine and pip with an isolated HOME (which
// holds ~/.pypirc and ~/.config/pip/pip.conf as `aws codeartifact login`
// writes them), the root credentials of the coffer data dir, and none of
// this machine's pip settings that would change what pip asks for.
type clients struct {
	testproc.Runner
	home string
}

func newClients(t *testing.T, dataDir string) *clients {
	need(t, "aws")
	need(t, "twine")
	need(t, "python3")
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), k == "HOME", k == "XDG_CONFIG_HOME", k == "PIP_FIND_LINKS", k == "PIP_INDEX_URL",
			k == "PIP_EXTRA_INDEX_URL", k == "PIP_CONFIG_FILE", k == "PIP_REQUIRE_VIRTUALENV", k == "VIRTUAL_ENV":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring", "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1")
	return &clients{Runner: testproc.Runner{T: t, Env: env}, home: home}
}

// venv creates a fresh virtual environment and returns its bin directory.
func (c *clients) venv() string {
	c.T.Helper()
	dir := filepath.Join(c.T.TempDir(), "venv")
	c.Must("", "python3", "-m", "venv", dir)
	return filepath.Join(dir, "bin")
}

// origin returns "publish/upstream" of a package in a list-packages result.
func origin(pkgs []any, name string) string {
	for _, p := range pkgs {
		if str(p, "package") == name {
			return str(p, "originConfiguration", "restrictions", "publish") + "/" + str(p, "originConfiguration", "restrictions", "upstream")
		}
	}
	return "absent"
}

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

// buildSdist builds Foo_Bar's sdist with setuptools (a setup.py project,
// so that pip can read its metadata offline with --no-use-pep517).
func buildSdist(t *testing.T, c *clients, version, out string) string {
	t.Helper()
	proj := t.TempDir()
	setup := fmt.Sprintf("from setuptools import setup\nsetup(name=\"Foo_Bar\", version=%q, py_modules=[\"foo_bar\"], "+
		"install_requires=[\"fixture-dep>=2\"], description=\"tiny test package\", python_requires=\">=3.8\")\n", version)
	if err := os.WriteFile(filepath.Join(proj, "setup.py"), []byte(setup), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, "foo_bar.py"), []byte("def greet(w):\n    return \"hello \" + w\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSpace(lastLine(c.Must(proj, "python3", "-c", "from setuptools import build_meta as b; print(b.build_sdist("+fmt.Sprintf("%q", out)+"))")))
	return filepath.Join(out, name)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// htmlProxy is a reverse proxy in front of coffer that asks for simple
// pages as text/html only, so that pip reads coffer's PEP 503 HTML (pip has
// no switch for it). It records the content types of the pages served.
type htmlProxy struct {
	srv   *httptest.Server
	mu    sync.Mutex
	types []string
}

func newHTMLProxy(t *testing.T, target string) *htmlProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &htmlProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // as NewSingleHostReverseProxy leaves it
		if strings.Contains(pr.Out.URL.Path, "/simple/") {
			pr.Out.Header.Set("Accept", "text/html")
		}
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		if strings.Contains(resp.Request.URL.Path, "/simple/") {
			p.mu.Lock()
			p.types = append(p.types, resp.Header.Get("Content-Type"))
			p.mu.Unlock()
		}
		return nil
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

// postUpload sends a legacy upload like twine's, with the given digest.
func postUpload(t *testing.T, endpoint, token, name, version, filename string, content []byte, sha256 string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ft := "sdist"
	if strings.HasSuffix(filename, ".whl") {
		ft = "bdist_wheel"
	}
	for _, kv := range [][2]string{{"name", name}, {"version", version}, {"filetype", ft}, {"pyversion", "py3"}, {"metadata_version", "2.1"},
		{"sha256_digest", sha256}, {":action", "file_upload"}, {"protocol_version", "1"}} {
		mw.WriteField(kv[0], kv[1])
	}
	w, _ := mw.CreateFormFile("content", filename)
	w.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", endpoint, &buf)
	req.SetBasicAuth("aws", token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func httpGet(t *testing.T, u, token, accept string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth("aws", token)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestPipAndTwine(t *testing.T) {
	// The fixture "PyPI": a static PEP 691/503 index of wheels built here.
	idx := pypitest.NewIndex()
	dep2 := pypitest.Dist{Name: "fixture-dep", Version: "2.0", Summary: "the upstream dependency"}
	depWheel := idx.AddWheel(dep2, true)
	oldDep := idx.AddWheel(pypitest.Dist{Name: "fixture-dep", Version: "1.0"}, false)
	reason := "superseded"
	oldDep.Yanked = &reason
	upstreamSrv := httptest.NewServer(idx)
	defer upstreamSrv.Close()

	dataDir := t.TempDir()
	c := startCoffer(t, dataDir, "--external-connection", "public:pypi="+upstreamSrv.URL+"/")
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "store", "--external-connection", "public:pypi")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "app", "--upstreams", "repositoryName=store")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "app", "--format", "pypi"), "repositoryEndpoint")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(c.URL) + `/pypi/d/demo-[0-9]{12}/app/$`).MatchString(endpoint) {
		t.Fatalf("endpoint %q", endpoint)
	}

	// aws codeartifact login configures twine and pip.
	out := cl.Must("", "aws", "codeartifact", "login", "--tool", "twine", "--domain", "demo", "--repository", "app", "--endpoint-url", c.URL)
	if !strings.Contains(out, "Successfully configured twine") {
		t.Fatalf("login --tool twine:\n%s", out)
	}
	out = cl.Must("", "aws", "codeartifact", "login", "--tool", "pip", "--domain", "demo", "--repository", "app", "--endpoint-url", c.URL)
	if !strings.Contains(out, "Successfully configured pip") {
		t.Fatalf("login --tool pip:\n%s", out)
	}
	pipConf, err := os.ReadFile(filepath.Join(cl.home, ".config", "pip", "pip.conf"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`index-url = http://aws:([^@]+)@` + regexp.QuoteMeta(strings.TrimPrefix(endpoint, "http://")) + `simple/`).FindStringSubmatch(string(pipConf))
	if m == nil {
		t.Fatalf("pip.conf:\n%s", pipConf)
	}
	token := m[1]
	if pypirc, err := os.ReadFile(filepath.Join(cl.home, ".pypirc")); err != nil || !strings.Contains(string(pypirc), "repository = "+endpoint) {
		t.Fatalf(".pypirc: %v\n%s", err, pypirc)
	}

	// twine uploads a wheel built with the standard library and an sdist
	// built with setuptools.
	dist := t.TempDir()
	fooBar := pypitest.Dist{Name: "Foo_Bar", Version: "1.0.0", Requires: []string{"fixture-dep>=2"}, Description: "# Foo Bar\n\nSays hello through coffer.\n"}
	wheelName, wheel := fooBar.Wheel()
	if err := os.WriteFile(filepath.Join(dist, wheelName), wheel, 0o644); err != nil {
		t.Fatal(err)
	}
	sdistPath := buildSdist(t, cl, "1.0.0", dist)
	sdist, err := os.ReadFile(sdistPath)
	if err != nil {
		t.Fatal(err)
	}
	out = cl.Must("", "twine", "upload", "--non-interactive", "--repository", "codeartifact", filepath.Join(dist, wheelName), sdistPath)
	if strings.Contains(out, "ERROR") {
		t.Fatalf("twine upload:\n%s", out)
	}

	// pip installs it by name, with the dependency that only the upstream
	// has, using the PEP 658 metadata files.
	bin := cl.venv()
	out = cl.Must("", filepath.Join(bin, "pip"), "install", "--no-cache-dir", "-v", "Foo_Bar")
	if !regexp.MustCompile(`Successfully installed (?i:fixture-dep-2\.0 foo[-_.]bar-1\.0\.0|foo[-_.]bar-1\.0\.0 fixture-dep-2\.0)`).MatchString(out) {
		t.Fatalf("pip install Foo_Bar:\n%s", tail(out))
	}
	for _, f := range []string{wheelName, depWheel.Name} {
		if !regexp.MustCompile(`Obtaining dependency information for .* from http://\S+/` + regexp.QuoteMeta(f) + `\.metadata`).MatchString(out) {
			t.Errorf("pip did not use the PEP 658 file of %s:\n%s", f, tail(out))
		}
	}
	if got := strings.TrimSpace(cl.Must("", filepath.Join(bin, "python"), "-c", "import foo_bar, fixture_dep; print(foo_bar.greet('coffer'), fixture_dep.__version__)")); got != "hello coffer 2.0" {
		t.Errorf("installed code says %q", got)
	}
	for _, name := range []string{"foo-bar", "foo.bar", "FOO_bar==1.0"} {
		out = cl.Must("", filepath.Join(bin, "pip"), "install", "--no-cache-dir", "--force-reinstall", "--no-deps", name)
		if !regexp.MustCompile(`Successfully installed (?i:foo[-_.]bar)-1\.0\.0`).MatchString(out) {
			t.Errorf("pip install %s:\n%s", name, tail(out))
		}
	}
	reqs := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(reqs, []byte(fmt.Sprintf("foo-bar==1.0.0 --hash=sha256:%s\nfixture-dep==2.0 --hash=sha256:%s\n",
		pypitest.SHA256(wheel), pypitest.SHA256(depWheel.Data))), 0o644); err != nil {
		t.Fatal(err)
	}
	out = cl.Must("", filepath.Join(bin, "pip"), "install", "--no-cache-dir", "--force-reinstall", "--require-hashes", "-r", reqs)
	if !strings.Contains(out, "Successfully installed") {
		t.Errorf("pip install --require-hashes:\n%s", tail(out))
	}
	for _, p := range []string{"/files/" + depWheel.Name, "/files/" + depWheel.Name + ".metadata", "/simple/fixture-dep/"} {
		if n := idx.Count(p); n != 1 {
			t.Errorf("the fixture index served %s %d times, want once", p, n)
		}
	}

	// Both representations, as pip and a browser ask.
	page := endpoint + "simple/foo-bar/"
	status, ct, body := httpGet(t, page, token, "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
	if status != 200 || ct != "application/vnd.pypi.simple.v1+json" || !bytes.Contains(body, []byte(`"core-metadata":{"sha256":"`+pypitest.SHA256(fooBar.Metadata())+`"}`)) {
		t.Errorf("JSON page: %d %s %s", status, ct, body)
	}
	status, ct, body = httpGet(t, page, token, "text/html")
	if status != 200 || !strings.HasPrefix(ct, "text/html") || !bytes.Contains(body, []byte(`#sha256=`+pypitest.SHA256(sdist)+`" data-requires-python="&gt;=3.8">`)) {
		t.Errorf("HTML page: %d %s %s", status, ct, body)
	}

	// pip reads the HTML form too: wheel and sdist download through a proxy
	// that asks for text/html only.
	proxy := newHTMLProxy(t, c.URL)
	proxyIndex := "http://aws:" + token + "@" + strings.TrimPrefix(proxy.srv.URL, "http://") + strings.TrimPrefix(endpoint, c.URL) + "simple/"
	dl := t.TempDir()
	out = cl.Must("", filepath.Join(bin, "pip"), "download", "--no-cache-dir", "--no-deps", "-v", "-d", dl, "--index-url", proxyIndex, "foo.bar")
	// pip reads an sdist's metadata by running its setup.py (egg_info, with
	// the venv's setuptools). It allows that legacy path only when the
	// wheel package is importable, and wheel cannot be installed offline
	// here; egg_info does not use it, so a stand-in module does.
	site := strings.TrimSpace(cl.Must("", filepath.Join(bin, "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
	if err := os.MkdirAll(filepath.Join(site, "wheel"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "wheel", "__init__.py"), []byte("# stand-in: lets pip take the setup.py egg_info path\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out += cl.Must("", filepath.Join(bin, "pip"), "download", "--no-cache-dir", "--no-deps", "--no-binary", ":all:", "--no-use-pep517", "-d", dl, "--index-url", proxyIndex, "Foo_Bar==1.0.0")
	for name, want := range map[string][]byte{wheelName: wheel, filepath.Base(sdistPath): sdist} {
		if got, err := os.ReadFile(filepath.Join(dl, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("pip download through HTML: %s: %v\n%s", name, err, tail(out))
		}
	}
	if !strings.Contains(out, wheelName+".metadata") {
		t.Errorf("pip did not use the PEP 658 file from the HTML page:\n%s", tail(out))
	}
	proxy.mu.Lock()
	types := slices.Clone(proxy.types)
	proxy.mu.Unlock()
	if len(types) == 0 || slices.ContainsFunc(types, func(s string) bool { return !strings.HasPrefix(s, "text/html") }) {
		t.Errorf("pages through the HTML proxy had content types %v", types)
	}

	// What coffer recorded, as the aws CLI sees it.
	for repo, want := range map[string]map[string]string{
		"store": {"fixture-dep": "BLOCK/ALLOW", "foo-bar": "absent"},
		"app":   {"fixture-dep": "BLOCK/ALLOW", "foo-bar": "ALLOW/BLOCK"},
	} {
		pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "demo", "--repository", repo, "--format", "pypi"), "packages")
		for name, w := range want {
			if got := origin(pkgs, name); got != w {
				t.Errorf("%s: %s is %s, want %s", repo, name, got, w)
			}
		}
	}
	pv := []string{"--domain", "demo", "--repository", "app", "--format", "pypi", "--package", "Foo_Bar", "--package-version", "1.0.0"}
	deps := list(cl.AWS(c.URL, append([]string{"list-package-version-dependencies"}, pv...)...), "dependencies")
	if len(deps) != 1 || str(deps[0], "package") != "fixture-dep" || str(deps[0], "versionRequirement") != ">=2" ||
		str(deps[0], "dependencyType") != "Requires-Dist" {
		t.Errorf("dependencies %v", deps)
	}
	if readme := str(cl.AWS(c.URL, append([]string{"get-package-version-readme"}, pv...)...), "readme"); readme != strings.TrimSpace(fooBar.Description) {
		t.Errorf("readme %q", readme)
	}
	var assets []string
	for _, a := range list(cl.AWS(c.URL, append([]string{"list-package-version-assets"}, pv...)...), "assets") {
		assets = append(assets, str(a, "name"))
	}
	slices.Sort(assets)
	if want := []string{filepath.Base(sdistPath), wheelName, wheelName + ".metadata"}; !slices.Equal(assets, want) {
		t.Errorf("assets %v, want %v", assets, want)
	}

	// A tampered upload is refused and stores nothing; other bytes under a
	// published file name are a 409 that twine reports.
	next := pypitest.Dist{Name: "Foo_Bar", Version: "1.1.0"}
	nextName, nextWheel := next.Wheel()
	if status, msg := postUpload(t, endpoint, token, "Foo_Bar", "1.1.0", nextName, nextWheel, strings.Repeat("0", 64)); status != 400 || !strings.Contains(msg, "sha256_digest") {
		t.Errorf("tampered upload: %d %s", status, msg)
	}
	versions := list(cl.AWS(c.URL, "list-package-versions", "--domain", "demo", "--repository", "app", "--format", "pypi", "--package", "foo-bar"), "versions")
	if len(versions) != 1 || str(versions[0], "version") != "1.0.0" {
		t.Errorf("after a tampered upload: %v", versions)
	}
	changed := fooBar
	changed.Summary = "other bytes"
	_, changedWheel := changed.Wheel()
	other := filepath.Join(t.TempDir(), wheelName)
	if err := os.WriteFile(other, changedWheel, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := cl.Run("", "twine", "upload", "--non-interactive", "--repository", "codeartifact", other); err == nil || !strings.Contains(out, "409") {
		t.Errorf("twine re-upload of other bytes: %v\n%s", err, out)
	}

	// Yanking is the Unlisted status: pip skips an Unlisted 1.1.0 unless
	// it is pinned.
	nextPath := filepath.Join(t.TempDir(), nextName)
	if err := os.WriteFile(nextPath, nextWheel, 0o644); err != nil {
		t.Fatal(err)
	}
	cl.Must("", "twine", "upload", "--non-interactive", "--repository", "codeartifact", nextPath)
	cl.AWS(c.URL, "update-package-versions-status", "--domain", "demo", "--repository", "app", "--format", "pypi", "--package", "foo-bar",
		"--versions", "1.1.0", "--target-status", "Unlisted")
	dl2 := t.TempDir()
	out = cl.Must("", filepath.Join(bin, "pip"), "download", "--no-cache-dir", "--no-deps", "--only-binary", ":all:", "-d", dl2, "foo-bar")
	if _, err := os.Stat(filepath.Join(dl2, wheelName)); err != nil {
		t.Errorf("unpinned download did not pick 1.0.0 over the Unlisted 1.1.0:\n%s", tail(out))
	}
	out = cl.Must("", filepath.Join(bin, "pip"), "download", "--no-cache-dir", "--no-deps", "-d", dl2, "foo-bar==1.1.0")
	if _, err := os.Stat(filepath.Join(dl2, nextName)); err != nil || !strings.Contains(out, "Reason for being yanked: Unlisted") {
		t.Errorf("pinned download of the Unlisted 1.1.0: %v\n%s", err, tail(out))
	}

	// The fixture index goes away and coffer restarts: a new venv installs
	// the same from what coffer keeps.
	upstreamSrv.Close()
	c.Stop()
	c2 := startCoffer(t, dataDir, "--external-connection", "public:pypi="+upstreamSrv.URL+"/")
	cl.Must("", "aws", "codeartifact", "login", "--tool", "pip", "--domain", "demo", "--repository", "app", "--endpoint-url", c2.URL)
	bin2 := cl.venv()
	out = cl.Must("", filepath.Join(bin2, "pip"), "install", "--no-cache-dir", "Foo_Bar")
	if !regexp.MustCompile(`Successfully installed (?i:fixture-dep-2\.0 foo[-_.]bar-1\.0\.0|foo[-_.]bar-1\.0\.0 fixture-dep-2\.0)`).MatchString(out) {
		t.Errorf("install without the upstream:\n%s", tail(out))
	}
}

// TestPipInstallBenchmark (COFFER_PYPI_BENCH=1) times `pip install` of 50
// packages into an empty target directory: through coffer with the files
// cached (warm) and first through the external connection (cold), against
// the same from the static index that coffer proxies.
func TestPipInstallBenchmark(t *testing.T) {
	if os.Getenv("COFFER_PYPI_BENCH") == "" {
		t.Skip("set COFFER_PYPI_BENCH=1 to run the pip install benchmark")
	}
	idx := pypitest.NewIndex()
	var reqs strings.Builder
	for i := range 50 {
		d := pypitest.Dist{Name: fmt.Sprintf("bench-pkg-%02d", i), Version: "1.0.0", Padding: 20000}
		idx.AddWheel(d, true)
		fmt.Fprintf(&reqs, "%s==1.0.0\n", d.Name)
	}
	static := httptest.NewServer(idx)
	defer static.Close()
	req := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(req, []byte(reqs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir, "--external-connection", "public:pypi="+static.URL+"/")
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "bench")
	cl.AWS(c.URL, "create-repository", "--domain", "bench", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "bench", "--repository", "store", "--external-connection", "public:pypi")
	cl.AWS(c.URL, "create-repository", "--domain", "bench", "--repository", "app", "--upstreams", "repositoryName=store")
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "bench"), "authorizationToken")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "bench", "--repository", "app", "--format", "pypi"), "repositoryEndpoint")
	cofferIndex := "http://aws:" + token + "@" + strings.TrimPrefix(endpoint, "http://") + "simple/"
	bin := cl.venv()
	install := func(index string) time.Duration {
		target := t.TempDir()
		start := time.Now()
		out, err := cl.Run("", filepath.Join(bin, "pip"), "install", "--no-cache-dir", "--no-deps", "--target", target, "--index-url", index, "-r", req)
		d := time.Since(start)
		if err != nil || !strings.Contains(out, "Successfully installed") {
			t.Fatalf("pip install: %v\n%s", err, tail(out))
		}
		return d
	}
	cold := install(cofferIndex)
	var warm, direct []time.Duration
	for range 5 {
		warm = append(warm, install(cofferIndex))
		direct = append(direct, install(static.URL+"/simple/"))
	}
	slices.Sort(warm)
	slices.Sort(direct)
	t.Logf("pip install of 50 packages: coffer cold %v; coffer warm median %v (min %v); static index median %v (min %v)",
		cold.Round(10*time.Millisecond), warm[2].Round(10*time.Millisecond), warm[0].Round(10*time.Millisecond),
		direct[2].Round(10*time.Millisecond), direct[0].Round(10*time.Millisecond))
}
