package rubygems

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests here put this codec in front of the real clients: a test
// server serves what it writes (compact index, full index, quick specs,
// dependencies API) for gems built by gem build, and gem install and
// bundle lock must resolve and install from it. The server is a map of
// files, not the repository's handler.

type testRepo struct {
	files    map[string][]byte
	compact  bool // HEAD / answers 200: gem install takes the compact index
	depsAPI  bool // api/v1/dependencies answers
	specs    []*Spec
	mu       sync.Mutex
	requests []string
}

func (r *testRepo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Method+" "+req.URL.RequestURI())
	r.mu.Unlock()
	path := strings.TrimPrefix(req.URL.Path, "/")
	switch {
	case path == "":
		if !r.compact {
			http.NotFound(w, req)
		}
		return
	case path == "api/v1/dependencies" && r.depsAPI:
		var list []VersionDependencies
		for _, name := range strings.Split(req.URL.Query().Get("gems"), ",") {
			for _, s := range r.specs {
				if s.Name == name {
					list = append(list, VersionDependencies{Name: s.Name, Number: s.Version, Platform: s.Platform, Dependencies: s.Dependencies})
				}
			}
		}
		body, err := MarshalDependencies(list)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(body)
		return
	}
	body, ok := r.files[path]
	if !ok || (!r.compact && (path == "versions" || strings.HasPrefix(path, "info/"))) {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("ETag", ETag(body))
	w.Header().Set("Repr-Digest", ReprDigest(body))
	http.ServeContent(w, req, path, time.Time{}, bytes.NewReader(body))
}

func (r *testRepo) requested(prefix string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.requests {
		if strings.HasPrefix(q, prefix) {
			return true
		}
	}
	return false
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// buildGem runs gem build on a gemspec and returns the .gem's bytes.
func buildGem(t testing.TB, gemspec string) []byte {
	t.Helper()
	gemCmd := needTool(t, "gem")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "x.rb"), []byte("# x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.gemspec"), []byte(gemspec), 0o644)
	cmd := exec.Command(gemCmd, "build", "x.gemspec")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "SOURCE_DATE_EPOCH=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gem build: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.gem"))
	if len(matches) != 1 {
		t.Fatalf("gem build made %v", matches)
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestRepo indexes gems the way a repository serves them.
func newTestRepo(t testing.TB, gems ...[]byte) *testRepo {
	t.Helper()
	r := &testRepo{files: map[string][]byte{}}
	byName := map[string][]InfoVersion{}
	var order []string
	var all []GemFile
	for _, raw := range gems {
		g, err := ReadGem(bytes.NewReader(raw), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		s := g.Spec
		r.specs = append(r.specs, s)
		r.files["gems/"+s.FileName()] = raw
		rz, err := QuickSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		r.files[QuickSpecDir+s.File().SpecFileName()] = rz
		if _, ok := byName[s.Name]; !ok {
			order = append(order, s.Name)
		}
		byName[s.Name] = append(byName[s.Name], InfoFromSpec(s, g.SHA256))
		all = append(all, s.File())
	}
	var gv []GemVersions
	for _, name := range order {
		r.files["info/"+name] = Info(byName[name])
		gv = append(gv, GemVersions{Name: name, Builds: byName[name]})
	}
	r.files["versions"] = Versions(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), VersionsLines(gv))
	r.files["names"] = Names(order)
	specs, latest, pre := SpecIndexes(all)
	for name, list := range map[string][]GemFile{"specs.4.8": specs, "latest_specs.4.8": latest, "prerelease_specs.4.8": pre} {
		m, err := MarshalSpecs(list)
		if err != nil {
			t.Fatal(err)
		}
		r.files[name] = m
		r.files[name+".gz"] = gzipBytes(t, m)
	}
	return r
}

const rackGemspec = `Gem::Specification.new do |s|
  s.name = "rack"
  s.version = "3.0.0"
  s.summary = "A stand-in rack"
  s.authors = ["T"]
  s.license = "MIT"
  s.files = ["lib/x.rb"]
end
`

const oldRackGemspec = `Gem::Specification.new do |s|
  s.name = "rack"
  s.version = "1.6.0"
  s.summary = "A rack too old for coffer_tiny"
  s.authors = ["T"]
  s.license = "MIT"
  s.files = ["lib/x.rb"]
end
`

func runClient(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "GEM_HOME="+filepath.Join(dir, "gemhome"), "GEM_PATH="+filepath.Join(dir, "gemhome"),
		"BUNDLE_USER_HOME="+filepath.Join(dir, "bundle"), "BUNDLE_APP_CONFIG="+filepath.Join(dir, "bundle-config"),
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1", "http_proxy=", "HTTP_PROXY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestGemInstallFromCodec(t *testing.T) {
	gemCmd := needTool(t, "gem")
	t.Parallel()
	tiny := readFixture(t, "coffer_tiny-0.1.0.gem")
	plat := readFixture(t, "coffer_tiny-0.2.0.pre1-x86_64-linux.gem")
	rack, oldRack := buildGem(t, rackGemspec), buildGem(t, oldRackGemspec)
	for _, mode := range []string{"compact index", "full index"} {
		t.Run(mode, func(t *testing.T) {
			repo := newTestRepo(t, tiny, plat, oldRack, rack)
			repo.compact = mode == "compact index"
			srv := httptest.NewServer(repo)
			defer srv.Close()
			dir := t.TempDir()
			install := filepath.Join(dir, "install")
			runClient(t, dir, gemCmd, "install", "--clear-sources", "--source", srv.URL+"/", "--install-dir", install,
				"--no-document", "coffer_tiny")
			for _, spec := range []string{"coffer_tiny-0.1.0.gemspec", "rack-3.0.0.gemspec"} {
				if _, err := os.Stat(filepath.Join(install, "specifications", spec)); err != nil {
					t.Errorf("%s not installed: %v\nrequests: %v", spec, err, repo.requests)
				}
			}
			t.Logf("requests: %v", repo.requests)
			if repo.compact != repo.requested("GET /info/coffer_tiny") || repo.compact == repo.requested("GET /specs.4.8.gz") {
				t.Errorf("the %s was not used: %v", mode, repo.requests)
			}
			if !repo.requested("GET /quick/Marshal.4.8/coffer_tiny-0.1.0.gemspec.rz") || !repo.requested("GET /gems/rack-3.0.0.gem") {
				t.Errorf("requests: %v", repo.requests)
			}
		})
	}
}

func TestBundleLockFromCodec(t *testing.T) {
	bundle := needTool(t, "bundle")
	t.Parallel()
	tiny := readFixture(t, "coffer_tiny-0.1.0.gem")
	rack, oldRack := buildGem(t, rackGemspec), buildGem(t, oldRackGemspec)
	for _, mode := range []string{"compact index", "dependencies API"} {
		t.Run(mode, func(t *testing.T) {
			repo := newTestRepo(t, tiny, oldRack, rack)
			repo.compact = mode == "compact index"
			repo.depsAPI = !repo.compact
			srv := httptest.NewServer(repo)
			defer srv.Close()
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "Gemfile"), []byte("source \""+srv.URL+"\"\ngem \"coffer_tiny\"\n"), 0o644)
			runClient(t, dir, bundle, "lock")
			lock, err := os.ReadFile(filepath.Join(dir, "Gemfile.lock"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"    coffer_tiny (0.1.0)\n      rack (>= 2.0, < 4)\n", "    rack (3.0.0)\n"} {
				if !strings.Contains(string(lock), want) {
					t.Errorf("Gemfile.lock lacks %q:\n%s\nrequests: %v", want, lock, repo.requests)
				}
			}
			t.Logf("requests: %v", repo.requests)
			used := "GET /info/coffer_tiny"
			if !repo.compact {
				used = "GET /api/v1/dependencies?gems=coffer_tiny"
			}
			if !repo.requested(used) {
				t.Errorf("the %s was not used: %v", mode, repo.requests)
			}
		})
	}
}
