package ruby_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/testproc"
)

// TestLiveRubygemsOrg installs rack with Bundler through coffer proxying
// the real https://rubygems.org/ (public:ruby-gems-org at its default
// URL). It runs only with COFFER_LIVE_RUBY=1 (never in CI: it depends on
// the internet), and skips, saying why, when rubygems.org cannot be
// reached from this host.
func TestLiveRubygemsOrg(t *testing.T) {
	if os.Getenv("COFFER_LIVE_RUBY") != "1" {
		t.Skip("set COFFER_LIVE_RUBY=1 to install rack through coffer from the real rubygems.org")
	}
	bundle := needTool(t, "bundle")
	needTool(t, "ruby")
	testproc.Need(t, "aws")
	probe := &http.Client{Timeout: 20 * time.Second}
	resp, err := probe.Get("https://rubygems.org/info/rack")
	if err != nil {
		t.Skipf("rubygems.org is unreachable from this host: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Skipf("rubygems.org answered %s to GET /info/rack", resp.Status)
	}

	dataDir := t.TempDir()
	env := clientEnv(t, dataDir, true)
	cl := &testproc.Runner{T: t, Env: env}
	c := startCoffer(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "live")
	cl.AWS(c.URL, "create-repository", "--domain", "live", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "live", "--repository", "store", "--external-connection", "public:ruby-gems-org")
	cl.AWS(c.URL, "create-repository", "--domain", "live", "--repository", "app", "--upstreams", "repositoryName=store")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "live", "--repository", "app", "--format", "ruby"), "repositoryEndpoint")
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "live"), "authorizationToken")

	// The versions file relays rubygems.org's (tens of MB), then the
	// repository's lines.
	req, _ := http.NewRequest(http.MethodHead, endpoint+"versions", nil)
	req.SetBasicAuth("aws", token)
	long := &http.Client{Timeout: 5 * time.Minute}
	if resp, err := long.Do(req); err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength < 1<<20 {
		t.Fatalf("HEAD versions: %v %v", resp, err)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Gemfile"), []byte("source \""+endpoint+"\" do\n  gem \"rack\"\nend\n"), 0o644)
	b := &testproc.Runner{T: t, Env: append(append([]string(nil), env...), "BUNDLE_USER_CACHE="+filepath.Join(dir, "cache"),
		"BUNDLE_PATH="+filepath.Join(dir, "vendor"), "BUNDLE_USER_HOME="+filepath.Join(dir, "bundle-home"))}
	b.Must(dir, bundle, "config", "set", "--local", endpoint, "aws:"+token)
	out := b.Must(dir, bundle, "install")
	lock, err := os.ReadFile(filepath.Join(dir, "Gemfile.lock"))
	if err != nil || !strings.Contains(string(lock), "\n    rack (") {
		t.Fatalf("Gemfile.lock: %v\n%s\n%s", err, lock, out)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "vendor", "ruby", "*", "gems", "rack-*", "lib", "rack.rb")); len(m) == 0 {
		t.Errorf("rack is not installed:\n%s", out)
	}
	// Updating the lock revalidates the relayed versions file.
	b.Must(dir, bundle, "lock", "--update")
	pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "live", "--repository", "store", "--format", "ruby"), "packages")
	found := false
	for _, p := range pkgs {
		found = found || str(p, "package") == "rack"
	}
	if !found {
		t.Errorf("rack not retained in store: %v", pkgs)
	}
}
