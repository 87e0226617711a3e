package supplychain_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/format/npm/npmtest"
)

const day = 24 * time.Hour

// npmProject writes package.json and an .npmrc pointing at registry with
// token into a new directory.
func npmProject(t *testing.T, name, registry, token string, deps map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	d := []string{}
	for k, v := range deps {
		d = append(d, fmt.Sprintf("%q: %q", k, v))
	}
	writeFiles(t, dir, map[string]string{
		"package.json": fmt.Sprintf(`{"name": %q, "version": "1.0.0", "private": true, "dependencies": {%s}}`, name, strings.Join(d, ", ")),
		".npmrc": "registry=" + registry + "\n//" + strings.TrimPrefix(registry, "http://") + ":_authToken=" + token +
			"\nupdate-notifier=false\nfund=false\naudit=false\n",
	})
	return dir
}

// npm runs npm in dir with a cache of its own, so that nothing comes from
// an earlier install.
func (w *world) npm(dir string, args ...string) (string, error) {
	w.T.Helper()
	return w.Run(dir, "npm", append(args, "--cache", w.T.TempDir())...)
}

func (w *world) npmMust(dir string, args ...string) string {
	w.T.Helper()
	out, err := w.npm(dir, args...)
	if err != nil {
		w.T.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, tail(out))
	}
	return out
}

// locked returns the version of each node_modules entry of a lockfile,
// with its resolved URL and integrity.
func locked(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for path, e := range get(readJSON(t, filepath.Join(dir, "package-lock.json")), "packages").(map[string]any) {
		if path != "" {
			out[path] = str(e, "version") + " " + str(e, "resolved") + " " + str(e, "integrity")
		}
	}
	return out
}

func lockedVersion(t *testing.T, dir, pkg string) string {
	t.Helper()
	v, _, _ := strings.Cut(locked(t, dir)["node_modules/"+pkg], " ")
	return v
}

// osvRecords writes OSV records into a new directory, one file each.
func osvRecords(t *testing.T, records map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for id, doc := range records {
		writeFiles(t, dir, map[string]string{id + ".json": doc})
	}
	return dir
}

func TestNpmGate(t *testing.T) {
	need(t, "npm")
	reg := npmtest.NewRegistry()
	up := httptest.NewServer(reg)
	defer up.Close()
	now := time.Now().UTC()
	add := func(name, version string, at time.Time) *npmtest.Version {
		v := reg.Add(npmtest.Package{Name: name, Version: version})
		reg.SetTime(name, version, at)
		return v
	}
	add("leftish", "1.0.0", now.Add(-30*day))
	add("leftish", "1.1.0", now.Add(-10*day))
	add("leftish", "2.0.0", now.Add(-time.Hour)) // the registry's latest, inside the cooldown
	evil := add("evilish", "1.0.0", now.Add(-30*day))
	add("evilish", "1.0.1", now.Add(-20*day))
	add("cachedish", "1.0.0", now.Add(-30*day))
	add("growing", "1.0.0", now.Add(-30*day))
	add("growing", "1.1.0", now.Add(-10*day))

	// Upstream documents are revalidated on every use, so that a version
	// the fixture publishes later is seen at once.
	w := newWorld(t, "--external-connection", "public:npmjs="+up.URL+"/", "--upstream-metadata-ttl", "1ms")
	w.aws("create-domain", "--domain", "acme")
	registry, token := w.repos("acme", "npm", "public:npmjs", "npm")
	rule := w.coffer("rules", "set", "--domain", "acme", "--repository", "npm", "--cooldown", "72h")
	if str(rule, "rule", "kind") != "cooldown" {
		t.Fatalf("rules set: %v", rule)
	}

	t.Run("cooldown", func(t *testing.T) {
		app := npmProject(t, "app", registry, token, nil)
		w.npmMust(app, "install", "leftish")
		if v := lockedVersion(t, app, "leftish"); v != "1.1.0" {
			t.Fatalf("npm install leftish resolved %q, want 1.1.0 (2.0.0 is an hour old, the cooldown 72h)", v)
		}
		out := w.npmMust(app, "view", "leftish", "dist-tags.latest", "versions", "--json")
		if !strings.Contains(out, `"dist-tags.latest": "1.1.0"`) || strings.Contains(out, "2.0.0") {
			t.Errorf("npm view: latest is not rewritten to 1.1.0 or 2.0.0 is listed:\n%s", out)
		}
		if out, err := w.npm(app, "install", "leftish@2.0.0"); err == nil || !strings.Contains(out, "ETARGET") {
			t.Errorf("npm install leftish@2.0.0 in cooldown: %v\n%s", err, tail(out))
		}
		// The tarball itself says why, in npm's error shape, and was never
		// fetched.
		code, body := httpGet(t, registry+"leftish/-/leftish-2.0.0.tgz", token)
		if code != http.StatusForbidden || !strings.Contains(body, `"error":`) || !strings.Contains(body, "in cooldown of 72h0m0s until") {
			t.Errorf("GET the tarball in cooldown: %d %s", code, body)
		}
		if n := reg.Count(npmtest.TarballPath("leftish", "2.0.0")); n != 0 {
			t.Errorf("the tarball in cooldown was fetched upstream %d times", n)
		}
	})

	// A cached version and a never-fetched one become malicious when OSV
	// data naming them is imported.
	cached := npmProject(t, "cached", registry, token, nil)
	w.npmMust(cached, "install", "cachedish@1.0.0")
	imported := w.coffer("osv", "import", osvRecords(t, map[string]string{
		"MAL-2026-1001": `{"id": "MAL-2026-1001", "modified": "2026-11-01T00:00:00Z", "summary": "Malicious code in evilish (npm)",
			"affected": [{"package": {"ecosystem": "npm", "name": "evilish"}, "versions": ["1.0.0"]}]}`,
		"MAL-2026-1002": `{"id": "MAL-2026-1002", "modified": "2026-11-01T00:00:00Z",
			"affected": [{"package": {"ecosystem": "npm", "name": "cachedish"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`,
		"GHSA-2222-3333-4444": `{"id": "GHSA-2222-3333-4444", "modified": "2026-11-01T00:00:00Z", "summary": "Prototype pollution in auditlib",
			"database_specific": {"severity": "HIGH"},
			"affected": [{"package": {"ecosystem": "npm", "name": "auditlib"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]}`,
	}))
	t.Logf("coffer osv import: %v", imported)

	t.Run("malicious", func(t *testing.T) {
		app := npmProject(t, "pinned", registry, token, map[string]string{"evilish": "1.0.0"})
		writeFiles(t, app, map[string]string{"package-lock.json": fmt.Sprintf(`{
  "name": "pinned", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "pinned", "version": "1.0.0", "dependencies": {"evilish": "1.0.0"}},
    "node_modules/evilish": {"version": "1.0.0", "resolved": "%sevilish/-/evilish-1.0.0.tgz", "integrity": "%s"}
  }
}`, registry, evil.Integrity)})
		out, err := w.npm(app, "ci")
		if err == nil || !strings.Contains(out, "403") || !strings.Contains(out, "malicious: MAL-2026-1001") {
			t.Errorf("npm ci of a lockfile pinning a malicious version: %v\n%s", err, tail(out))
		}
		if n := reg.Count(npmtest.TarballPath("evilish", "1.0.0")); n != 0 {
			t.Errorf("the malicious tarball was fetched upstream %d times", n)
		}
		// The pre-flight of the same lockfile says so before any build.
		pre, code := w.cofferExit("check", "lockfile", "--domain", "acme", "--repository", "npm", filepath.Join(app, "package-lock.json"))
		refused, _ := get(pre, "refused").([]any)
		if code == 0 || len(refused) != 1 || str(refused[0], "package") != "evilish" || str(refused[0], "state") != "quarantined" ||
			str(refused[0], "advisory") != "MAL-2026-1001" || get(pre, "checked") != 1.0 {
			t.Errorf("coffer check lockfile: exit %d, %v", code, pre)
		}
		// Resolution moves on to the version that is not malicious.
		fresh := npmProject(t, "fresh", registry, token, nil)
		w.npmMust(fresh, "install", "evilish@^1.0.0")
		if v := lockedVersion(t, fresh, "evilish"); v != "1.0.1" {
			t.Errorf("evilish@^1.0.0 resolved %q, want 1.0.1", v)
		}

		// The version cached before the import is quarantined: not served,
		// recorded in the audit log.
		if err := os.RemoveAll(filepath.Join(cached, "node_modules")); err != nil {
			t.Fatal(err)
		}
		out, err = w.npm(cached, "ci")
		if err == nil || !strings.Contains(out, "malicious: MAL-2026-1002") {
			t.Errorf("npm ci of a quarantined cached version: %v\n%s", err, tail(out))
		}
		withheld := w.coffer("check", "withheld", "--domain", "acme", "--repository", "npm", "--format", "npm", "--package", "cachedish")
		if vs, _ := get(withheld, "versions").([]any); len(vs) != 1 || str(vs[0], "version") != "1.0.0" || str(vs[0], "state") != "quarantined" ||
			!strings.Contains(str(vs[0], "reason"), "MAL-2026-1002") {
			t.Errorf("coffer check withheld: %v", withheld)
		}
		quarantined := w.coffer("check", "quarantined", "--domain", "acme")
		if !strings.Contains(fmt.Sprint(quarantined), "package:cachedish") || !strings.Contains(fmt.Sprint(quarantined), "advisory:MAL-2026-1002") {
			t.Errorf("coffer check quarantined: %v", quarantined)
		}
		auditLog, err := os.ReadFile(filepath.Join(w.c.DataDir, "audit.log"))
		if err != nil || !strings.Contains(string(auditLog), `"action":"coffer:QuarantinePackageVersion"`) ||
			!strings.Contains(string(auditLog), "npm//cachedish/1.0.0") {
			t.Errorf("no quarantine in the audit log (%v)", err)
		}
	})

	t.Run("freeze", func(t *testing.T) {
		w.aws("create-repository", "--domain", "acme", "--repository", "frozen", "--upstreams", "repositoryName=npm-store")
		frozen := str(w.aws("get-repository-endpoint", "--domain", "acme", "--repository", "frozen", "--format", "npm"), "repositoryEndpoint")
		first := npmProject(t, "app", frozen, token, map[string]string{"growing": "^1.0.0"})
		w.npmMust(first, "install")
		before := locked(t, first)
		freezeAt := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
		add("growing", "1.2.0", time.Now().UTC()) // published after the freeze time

		drifted := npmProject(t, "app", frozen, token, map[string]string{"growing": "^1.0.0"})
		w.npmMust(drifted, "install")
		if v := lockedVersion(t, drifted, "growing"); v != "1.2.0" {
			t.Fatalf("without a freeze the install resolved growing %q, want 1.2.0", v)
		}
		w.coffer("rules", "set", "--domain", "acme", "--repository", "frozen", "--freeze", freezeAt.Format(time.RFC3339))
		again := npmProject(t, "app", frozen, token, map[string]string{"growing": "^1.0.0"})
		w.npmMust(again, "install")
		after := locked(t, again)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("the frozen install differs from the first one:\nfirst %v\nnow   %v", before, after)
		}
	})

	t.Run("audit", func(t *testing.T) {
		// A repository with no path to the public registry: npm audit is
		// answered from the imported OSV data.
		w.aws("create-repository", "--domain", "acme", "--repository", "internal")
		internal := str(w.aws("get-repository-endpoint", "--domain", "acme", "--repository", "internal", "--format", "npm"), "repositoryEndpoint")
		pkg := t.TempDir()
		writeFiles(t, pkg, map[string]string{
			"package.json": `{"name": "auditlib", "version": "1.0.0", "main": "index.js"}`,
			"index.js":     "module.exports = 1;\n",
			".npmrc":       "//" + strings.TrimPrefix(internal, "http://") + ":_authToken=" + token + "\n",
		})
		w.npmMust(pkg, "publish", "--registry", internal)
		app := npmProject(t, "audited", internal, token, map[string]string{"auditlib": "1.0.0"})
		w.npmMust(app, "install")
		out, _ := w.npm(app, "audit", "--json") // exits 1 when it finds something
		if !strings.Contains(out, `"auditlib"`) || !strings.Contains(out, `"severity": "high"`) ||
			!strings.Contains(out, "Prototype pollution in auditlib") {
			t.Errorf("npm audit did not report the imported advisory:\n%s", tail(out))
		}
	})
}

// httpGet GETs u with the token and returns the status and body.
func httpGet(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
