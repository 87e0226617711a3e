package ruby_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/testproc"
)

// recorder keeps the requests a test server received.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.reqs = append(r.reqs, s); r.mu.Unlock() }

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func (r *recorder) has(sub string) bool {
	for _, s := range r.all() {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (r *recorder) reset() { r.mu.Lock(); r.reqs = nil; r.mu.Unlock() }

// buildGem writes a gemspec and its lib file and runs gem build; it
// returns the .gem's path.
func buildGem(t *testing.T, cl *testproc.Runner, gem, name, version, deps string) string {
	t.Helper()
	dir := t.TempDir()
	spec := fmt.Sprintf(`Gem::Specification.new do |s|
  s.name = %q
  s.version = %q
  s.summary = "The %s test gem"
  s.description = "A gem built by coffer's ruby test"
  s.authors = ["Coffer Test"]
  s.email = "test@example.com"
  s.homepage = "https://example.com/%s"
  s.license = "MIT"
  s.files = ["lib/%s.rb"]
  s.required_ruby_version = ">= 2.7"
%s
end
`, name, version, name, name, name, deps)
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, name+".gemspec"), []byte(spec), 0o644)
	lib := fmt.Sprintf("module %s\n  VERSION = %q\nend\n", camel(name), version)
	os.WriteFile(filepath.Join(dir, "lib", name+".rb"), []byte(lib), 0o644)
	cl.Must(dir, gem, "build", name+".gemspec")
	return filepath.Join(dir, name+"-"+version+".gem")
}

func camel(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(s, "_") {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

// fixtureRegistry is the fixture "rubygems.org": versions and names,
// info/<gem> with each build's checksum, and the .gem files.
type fixtureRegistry struct {
	recorder
	versions, names string
	info            map[string]string
	gems            map[string][]byte
}

func (f *fixtureRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.add(r.Method + " " + r.URL.Path)
	if doc, ok := map[string]string{"/versions": f.versions, "/names": f.names}[r.URL.Path]; ok && doc != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("ETag", `"`+md5Hex(doc)+`"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(doc))
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/info/"); ok {
		if doc, ok := f.info[name]; ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, doc)
			return
		}
	}
	if b, ok := f.gems[strings.TrimPrefix(r.URL.Path, "/gems/")]; ok {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
		return
	}
	http.NotFound(w, r)
}

func md5Hex(s string) string {
	m := md5.Sum([]byte(s))
	return hex.EncodeToString(m[:])
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fileExists fails the test unless path exists.
func fileExists(t *testing.T, path, context string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("%s: %v", context, err)
	}
}

// clientEnv is the environment of gem, bundle and aws: a home of their
// own, the root credentials coffer writes in dataDir, nothing of the
// caller's ruby or AWS settings, and no proxy (unless keepProxy, for a
// test that reaches the internet).
func clientEnv(t *testing.T, dataDir string, keepProxy bool) []string {
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600)
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		proxy := strings.EqualFold(k, "http_proxy") || strings.EqualFold(k, "https_proxy") || strings.EqualFold(k, "no_proxy")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "BUNDLE_"), strings.HasPrefix(k, "GEM_"), k == "HOME", k == "RUBYGEMS_HOST",
			proxy && !keepProxy, strings.EqualFold(k, "no_proxy"), k == "RUBYOPT":
		default:
			env = append(env, e)
		}
	}
	return append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1", "GEM_SPEC_CACHE="+filepath.Join(home, "spec-cache"))
}

func TestGemAndBundler(t *testing.T) {
	gem, bundle := needTool(t, "gem"), needTool(t, "bundle")
	needTool(t, "ruby")
	testproc.Need(t, "aws")

	dataDir := t.TempDir()
	env := clientEnv(t, dataDir, false)
	cl := &testproc.Runner{T: t, Env: env}
	with := func(extra ...string) *testproc.Runner {
		return &testproc.Runner{T: t, Env: append(append([]string(nil), env...), extra...)}
	}

	// The fixture registry's gem, built by gem build.
	upGem := buildGem(t, cl, gem, "fx_upstream", "1.2.0", "")
	upBytes, err := os.ReadFile(upGem)
	if err != nil {
		t.Fatal(err)
	}
	// fx_only: a gem only the registry has, and no stored gem depends on.
	onlyGem := buildGem(t, cl, gem, "fx_only", "0.3.0", "")
	onlyBytes, err := os.ReadFile(onlyGem)
	if err != nil {
		t.Fatal(err)
	}
	upInfo := "---\n1.2.0 |checksum:" + sha256Hex(upBytes) + ",ruby:>= 2.7\n"
	onlyInfo := "---\n0.3.0 |checksum:" + sha256Hex(onlyBytes) + ",ruby:>= 2.7\n"
	// The registry's versions file lists fx_upstream with the checksum
	// of its info file (coffer's is the same bytes), and fx_only with the
	// checksum of an info file other than the one coffer serves: Bundler
	// must take coffer's.
	reg := &fixtureRegistry{
		versions: "created_at: 2024-04-01T00:00:05Z\n---\nfx_only 0.3.0 " + md5Hex(onlyInfo+"0.2.0 |checksum:0\n") +
			"\nfx_upstream 1.2.0 " + md5Hex(upInfo) + "\nzz_public_only 9.9.9 " + md5Hex("---\n") + "\n",
		names: "---\nfx_only\nfx_upstream\nzz_public_only\n",
		info:  map[string]string{"fx_upstream": upInfo, "fx_only": onlyInfo},
		gems:  map[string][]byte{"fx_upstream-1.2.0.gem": upBytes, "fx_only-0.3.0.gem": onlyBytes}}
	upSrv := httptest.NewServer(reg)
	defer upSrv.Close()

	c := startCoffer(t, dataDir, "--external-connection", "public:ruby-gems-org="+upSrv.URL+"/")
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "store", "--external-connection", "public:ruby-gems-org")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "app", "--upstreams", "repositoryName=store")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "app", "--format", "ruby"), "repositoryEndpoint")
	if !strings.HasPrefix(endpoint, c.URL+"/ruby/d/demo-") || !strings.HasSuffix(endpoint, "/app/") {
		t.Fatalf("endpoint %q", endpoint)
	}
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "demo"), "authorizationToken")
	if token == "" {
		t.Fatal("no token")
	}
	host := strings.TrimSuffix(endpoint, "/")

	// gem build and gem push: the key as "Bearer <token>" and as the bare
	// token, which gem sends verbatim in Authorization.
	base := buildGem(t, cl, gem, "coffer_base", "1.0.0", "")
	oldBase := buildGem(t, cl, gem, "coffer_base", "0.9.0", "")
	app := buildGem(t, cl, gem, "coffer_app", "1.0.0",
		"  s.add_runtime_dependency \"coffer_base\", \"~> 1.0\"\n  s.add_runtime_dependency \"fx_upstream\", \">= 1.0\"\n  s.add_development_dependency \"rake\", \"~> 13.0\"")
	bearer, bare := with("GEM_HOST_API_KEY=Bearer "+token), with("GEM_HOST_API_KEY="+token)
	if out := bearer.Must("", gem, "push", "--host", host, base); !strings.Contains(out, "Successfully registered gem: coffer_base (1.0.0)") {
		t.Errorf("gem push: %s", out)
	}
	bearer.Must("", gem, "push", "--host", host, oldBase)
	if out := bare.Must("", gem, "push", "--host", host, app); !strings.Contains(out, "Successfully registered gem: coffer_app (1.0.0)") {
		t.Errorf("gem push with the bare token: %s", out)
	}
	// A second push of other bytes under the same version is refused.
	other := buildGem(t, cl, gem, "coffer_base", "1.0.0", "  s.summary = \"other bytes\"")
	if out, err := bearer.Run("", gem, "push", "--host", host, other); err == nil && !strings.Contains(out, "409") && !strings.Contains(strings.ToLower(out), "conflict") && !strings.Contains(out, "already") {
		t.Errorf("pushing other bytes of coffer_base 1.0.0 was accepted: %s", out)
	}
	// Without a key the push is refused.
	if out, err := cl.Run("", gem, "push", "--host", host, base); err == nil && strings.Contains(out, "Successfully") {
		t.Errorf("a push without a key succeeded: %s", out)
	}

	// What coffer recorded of coffer_app: summary, homepage, license and
	// runtime and development dependencies.
	desc := cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "app", "--format", "ruby",
		"--package", "coffer_app", "--package-version", "1.0.0")
	if str(desc, "packageVersion", "summary") != "The coffer_app test gem" || str(desc, "packageVersion", "homePage") != "https://example.com/coffer_app" ||
		str(desc, "packageVersion", "status") != "Published" {
		t.Errorf("describe-package-version: %v", desc)
	}
	deps := cl.AWS(c.URL, "list-package-version-dependencies", "--domain", "demo", "--repository", "app", "--format", "ruby",
		"--package", "coffer_app", "--package-version", "1.0.0")
	var got []string
	for _, d := range list(deps, "dependencies") {
		got = append(got, str(d, "package")+" "+str(d, "dependencyType")+" "+str(d, "versionRequirement"))
	}
	for _, want := range []string{"coffer_base runtime ~> 1.0", "fx_upstream runtime >= 1.0", "rake development ~> 13.0"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("dependencies lack %q: %v", want, got)
		}
	}

	// gem yank: coffer_base 0.9.0 becomes Unlisted and leaves the index.
	if out := bearer.Must("", gem, "yank", "--host", host, "coffer_base", "-v", "0.9.0"); !strings.Contains(out, "Successfully deleted gem") {
		t.Errorf("gem yank: %s", out)
	}
	if s := str(cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "app", "--format", "ruby",
		"--package", "coffer_base", "--package-version", "0.9.0"), "packageVersion", "status"); s != "Unlisted" {
		t.Errorf("yanked coffer_base 0.9.0 is %s, want Unlisted", s)
	}
	info := httpGet(t, endpoint+"info/coffer_base", token)
	if strings.Contains(info, "0.9.0") || !strings.Contains(info, "1.0.0 |checksum:") {
		t.Errorf("info/coffer_base after the yank:\n%s", info)
	}

	// A proxy in front of coffer that records the requests and, for the
	// full-index install, hides the compact index as CodeArtifact does
	// (RubyGems asks for the source's root to decide).
	var hideCompact bool
	var hideMu sync.Mutex
	seen := &recorder{}
	target, _ := url.Parse(c.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
		defer func() { seen.add(r.Method + " " + r.URL.RequestURI() + " " + fmt.Sprint(w.status)) }()
		hideMu.Lock()
		hide := hideCompact
		hideMu.Unlock()
		rest := strings.TrimPrefix(r.URL.Path, strings.TrimPrefix(endpoint, c.URL))
		if hide && (rest == "" || rest == "versions" || strings.HasPrefix(rest, "info/")) {
			http.NotFound(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	proxied := strings.Replace(proxy.URL, "http://", "http://aws:"+token+"@", 1) + strings.TrimPrefix(endpoint, c.URL)
	setHide := func(v bool) { hideMu.Lock(); hideCompact = v; hideMu.Unlock() }

	gemInstall := func(name, mode string) {
		t.Helper()
		dir := t.TempDir()
		seen.reset()
		setHide(mode == "full index")
		out := with("GEM_SPEC_CACHE="+filepath.Join(dir, "specs")).Must("", gem, "install", "--clear-sources", "--source", proxied,
			"--install-dir", dir, "--no-document", "coffer_app")
		for _, spec := range []string{"coffer_app-1.0.0", "coffer_base-1.0.0", "fx_upstream-1.2.0"} {
			fileExists(t, filepath.Join(dir, "specifications", spec+".gemspec"), name+": "+spec+" not installed\n"+out)
		}
		compact, full := seen.has("/info/coffer_app"), seen.has("/specs.4.8.gz")
		if (mode == "compact index") != compact || (mode == "full index") != full {
			t.Errorf("%s: the %s was not used: %v", name, mode, seen.all())
		}
		if !seen.has("/quick/Marshal.4.8/coffer_app-1.0.0.gemspec.rz") || !seen.has("/gems/fx_upstream-1.2.0.gem") {
			t.Errorf("%s: requests %v", name, seen.all())
		}
	}
	gemInstall("gem install (compact index)", "compact index")
	if !reg.has("GET /gems/fx_upstream-1.2.0.gem") {
		t.Errorf("the upstream gem was not fetched from the fixture registry: %v", reg.all())
	}
	gemInstall("gem install (full index)", "full index")
	setHide(false)

	// bundle install from a Gemfile with a source block.
	bundleInstall := func(name string, between func() (want, not string)) {
		t.Helper()
		dir := t.TempDir()
		gemfile := "source \"" + proxy.URL + strings.TrimPrefix(endpoint, c.URL) + "\" do\n  gem \"coffer_app\"\nend\n"
		os.WriteFile(filepath.Join(dir, "Gemfile"), []byte(gemfile), 0o644)
		seen.reset()
		b := with("BUNDLE_USER_CACHE="+filepath.Join(dir, "cache"), "BUNDLE_PATH="+filepath.Join(dir, "vendor"),
			"BUNDLE_USER_HOME="+filepath.Join(dir, "bundle-home"))
		b.Must(dir, bundle, "config", "set", "--local", proxy.URL+strings.TrimPrefix(endpoint, c.URL), "aws:"+token)
		out := b.Must(dir, bundle, "install")
		lock, err := os.ReadFile(filepath.Join(dir, "Gemfile.lock"))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		for _, want := range []string{"    coffer_app (1.0.0)\n      coffer_base (~> 1.0)\n      fx_upstream (>= 1.0)\n", "    coffer_base (1.0.0)\n", "    fx_upstream (1.2.0)\n"} {
			if !strings.Contains(string(lock), want) {
				t.Errorf("%s: Gemfile.lock lacks %q:\n%s", name, want, lock)
			}
		}
		if !seen.has("/versions") || !seen.has("/info/fx_upstream") {
			t.Errorf("%s: Bundler did not use the compact index: %v", name, seen.all())
		}
		// Updating the lock revalidates the compact index: an unchanged
		// versions file is a 304; one that grew at its end is fetched
		// with a Range request, appended, and checked against the ETag
		// without a second, whole fetch.
		want, not := "/versions 304", "/versions 200"
		if between != nil {
			want, not = between()
		}
		seen.reset()
		b.Must(dir, bundle, "lock", "--update")
		if !seen.has(want) || seen.has(not) {
			t.Errorf("%s: bundle lock --update: want %q and no %q: %v", name, want, not, seen.all())
		}
	}
	bundleInstall("bundle install", func() (string, string) {
		// A new gem whose name sorts last: its versions line is appended.
		bearer.Must("", gem, "push", "--host", host, buildGem(t, cl, gem, "zz_extra", "1.0.0", ""))
		return "/versions 206", "/versions 200"
	})

	// bundle install of a gem only the registry has, which no stored gem
	// depends on: the versions file relays the registry's, so Bundler
	// reads info/fx_only. Before it is fetched, the checksum the versions
	// file gives fx_only is the registry's, not that of coffer's info
	// file, which Bundler takes all the same (it checks the file against
	// the ETag). Once fetched, fx_only is stored: the repository's lines
	// give it coffer's checksum, so updating the lock reads the versions
	// file again (whole: a line was inserted before its end, so an
	// append would be corrupt) and no longer the info file.
	lastChecksum := func(versions, gem string) string {
		sum := ""
		for _, l := range strings.Split(versions, "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == gem {
				sum = f[2]
			}
		}
		return sum
	}
	if versions, info := httpGet(t, endpoint+"versions", token), httpGet(t, endpoint+"info/fx_only", token); !strings.HasPrefix(versions, reg.versions) ||
		lastChecksum(versions, "fx_only") == md5Hex(info) || info != onlyInfo {
		t.Errorf("before fx_only is fetched: versions\n%s\ninfo/fx_only\n%s", versions, info)
	}
	bundleOnly := func(name string) {
		t.Helper()
		dir := t.TempDir()
		src := proxy.URL + strings.TrimPrefix(endpoint, c.URL)
		os.WriteFile(filepath.Join(dir, "Gemfile"), []byte("source \""+src+"\" do\n  gem \"fx_only\"\nend\n"), 0o644)
		seen.reset()
		b := with("BUNDLE_USER_CACHE="+filepath.Join(dir, "cache"), "BUNDLE_PATH="+filepath.Join(dir, "vendor"),
			"BUNDLE_USER_HOME="+filepath.Join(dir, "bundle-home"))
		b.Must(dir, bundle, "config", "set", "--local", src, "aws:"+token)
		out := b.Must(dir, bundle, "install")
		lock, err := os.ReadFile(filepath.Join(dir, "Gemfile.lock"))
		if err != nil || !strings.Contains(string(lock), "    fx_only (0.3.0)\n") {
			t.Errorf("%s: Gemfile.lock %v:\n%s\n%s", name, err, lock, out)
		}
		if !seen.has("/versions 200") || !seen.has("/info/fx_only 200") || !seen.has("/gems/fx_only-0.3.0.gem 200") {
			t.Errorf("%s: requests %v", name, seen.all())
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "vendor", "ruby", "*", "gems", "fx_only-0.3.0", "lib", "fx_only.rb")); len(m) == 0 {
			t.Errorf("%s: fx_only not installed\n%s", name, out)
		}
		if versions := httpGet(t, endpoint+"versions", token); lastChecksum(versions, "fx_only") != md5Hex(onlyInfo) {
			t.Errorf("%s: fx_only's last versions line has not coffer's info checksum:\n%s", name, versions)
		}
		seen.reset()
		b.Must(dir, bundle, "lock", "--update")
		if !seen.has("/versions ") || seen.has("/versions 206") || seen.has("/info/fx_only") {
			t.Errorf("%s: bundle lock --update: %v", name, seen.all())
		}
	}
	bundleOnly("bundle install of a registry-only gem")

	// What the installs retained: fx_upstream in store (which holds the
	// connection) and app, with its origin controls.
	for _, repo := range []string{"store", "app"} {
		pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "demo", "--repository", repo, "--format", "ruby"), "packages")
		found := false
		for _, p := range pkgs {
			if str(p, "package") == "fx_upstream" {
				found = true
				if o := str(p, "originConfiguration", "restrictions", "publish") + "/" + str(p, "originConfiguration", "restrictions", "upstream"); o != "BLOCK/ALLOW" {
					t.Errorf("%s: fx_upstream origin %s", repo, o)
				}
			}
		}
		if !found {
			t.Errorf("fx_upstream not retained in %s: %v", repo, pkgs)
		}
	}

	// Offline: the fixture registry is stopped; everything comes from
	// what coffer kept.
	upSrv.Close()
	reg.reset()
	gemInstall("offline gem install (compact index)", "compact index")
	gemInstall("offline gem install (full index)", "full index")
	setHide(false)
	bundleInstall("offline bundle install", nil)
	bundleOnly("offline bundle install of a registry-only gem")
	if len(reg.all()) != 0 {
		t.Errorf("the stopped registry was reached: %v", reg.all())
	}
}

// httpGet reads a document with Basic credentials.
func httpGet(t *testing.T, u, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth("aws", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

// statusWriter records a response's status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }
