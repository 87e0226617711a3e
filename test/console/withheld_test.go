package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/format/npm/npmtest"
	"coffer/internal/testproc"
)

// TestWithheldInChromium publishes two versions of a package with the aws
// CLI, blocks one with `coffer rules set`, and sees the console's package
// page show it withheld, with the reason and a link to the rule, as the
// coffer API (`coffer check withheld`) lists it; the link leads to the
// rule on the rules page. Then an npm version cached from the public
// registry (a fake) is marked malicious by an advisory imported with
// `coffer osv import`, and its package page shows it quarantined.
func TestWithheldInChromium(t *testing.T) {
	p := newPage(t) // fails at once without chromium
	// Its own folder, so that the other browser tests' shots stay.
	p.shots = filepath.Join(p.shots, "withheld")
	if err := os.MkdirAll(p.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(p.shots, "[0-9][0-9]-*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	npmjs := npmtest.NewRegistry()
	npmjs.Add(npmtest.Package{Name: "evilish", Version: "1.0.0"})
	npmjs.Add(npmtest.Package{Name: "evilish", Version: "1.0.1"})
	up := httptest.NewServer(npmjs)
	defer up.Close()
	c := testproc.Start(t, cofferBin, t.TempDir(), "--external-connection", "public:npmjs="+up.URL+"/")
	root := newAWSCLI(t, c, filepath.Join(c.DataDir, "root-credentials"))
	rootKey, rootSecret := rootCredentials(t, c.DataDir)
	root.ca("create-domain", "--domain", "acme")
	root.ca("create-repository", "--domain", "acme", "--repository", "app")
	publish(t, root, "tools", "cli", "1.0.0", "cli-1.0.0.tar.gz", []byte("cli 1.0.0, the bad build\n"), false)
	publish(t, root, "tools", "cli", "1.1.0", "cli-1.1.0.tar.gz", []byte("cli 1.1.0\n"), false)

	// A block rule refuses stored versions too.
	set := cofferRules(t, root, "set", "--repository", "app", "--block", "/generic/tools/cli$", "--versions", "=1.0.0",
		"--reason", "INC-42 bad build")
	ruleID := str(set, "rule", "id")
	if ruleID == "" {
		t.Fatalf("coffer rules set: %v", set)
	}

	// The API's account of it.
	cmd := exec.Command(cofferBin, "check", "withheld", "--endpoint-url", root.url, "--domain", "acme", "--repository", "app",
		"--format", "generic", "--namespace", "tools", "--package", "cli")
	cmd.Env, cmd.Dir = root.env, root.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("coffer check withheld: %v\n%s", err, errb.String())
	}
	var api struct {
		Versions []map[string]any `json:"versions"`
	}
	if err := json.Unmarshal(out.Bytes(), &api); err != nil || len(api.Versions) != 1 {
		t.Fatalf("coffer check withheld: %v\n%s", err, out.String())
	}
	w := api.Versions[0]
	if str(w, "version") != "1.0.0" || str(w, "state") != "withheld" || str(w, "reason") != "blocked: INC-42 bad build" || str(w, "rule") != ruleID {
		t.Fatalf("coffer check withheld: %v", w)
	}

	p.signIn(c.URL, rootKey, rootSecret)
	if status := p.open(c.URL + "/console/domains/acme/repositories/app/package?format=generic&namespace=tools&package=cli"); status != 200 {
		t.Fatalf("package page: %d", status)
	}
	if got := p.text("#withheld-panel h2"); got != "Withheld by supply-chain rules" {
		t.Fatalf("withheld panel heading %q", got)
	}
	withheld := rows(p, "withheld")
	if len(withheld) != 1 {
		t.Fatalf("withheld table: %v", withheld)
	}
	if r := withheld[0]; r["version"] != "1.0.0" || r["state"] != "Withheld" || r["reason"] != "blocked: INC-42 bad build" || r["rule"] != ruleID ||
		r["advisory"] != "" || r["available"] != "" || r["repository"] != "app" {
		t.Fatalf("withheld row: %v", r)
	}
	versions := map[string]bool{}
	for _, r := range rows(p, "versions") {
		versions[r["version"]] = true
	}
	if !versions["1.0.0 withheld"] || !versions["1.1.0"] || len(versions) != 2 {
		t.Fatalf("versions table: %v", versions)
	}
	p.shot("package-withheld")

	// The rule's id leads to its row on the rules page, highlighted.
	if status := p.click("#withheld td.rule a"); status != 200 || !strings.Contains(p.location(), "/console/domains/acme/rules?rule="+ruleID) {
		t.Fatalf("rule link: %d at %s", status, p.location())
	}
	if !p.has("#rule-"+ruleID+".rule-new") || !p.has("#withheld-info") {
		t.Error("the rules page does not highlight the rule or explain withheld versions")
	}
	p.shot("rules-from-withheld")

	// A cached npm version an imported advisory marks malicious is quarantined.
	root.ca("create-repository", "--domain", "acme", "--repository", "npm-store")
	root.ca("associate-external-connection", "--domain", "acme", "--repository", "npm-store", "--external-connection", "public:npmjs")
	endpoint := str(root.ca("get-repository-endpoint", "--domain", "acme", "--repository", "npm-store", "--format", "npm"), "repositoryEndpoint")
	token := str(root.ca("get-authorization-token", "--domain", "acme"), "authorizationToken")
	for _, path := range []string{"evilish", "evilish/-/evilish-1.0.0.tgz"} {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(endpoint, "/")+"/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s through npm-store: %d", path, resp.StatusCode)
		}
	}
	advisories := t.TempDir()
	if err := os.WriteFile(filepath.Join(advisories, "MAL-2026-2001.json"), []byte(`{"id": "MAL-2026-2001", "modified": "2026-11-01T00:00:00Z",
		"summary": "Malicious code in evilish (npm)", "affected": [{"package": {"ecosystem": "npm", "name": "evilish"}, "versions": ["1.0.0"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(cofferBin, "osv", "import", "--endpoint-url", root.url, advisories)
	cmd.Env, cmd.Dir = root.env, root.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("coffer osv import: %v\n%s", err, out)
	}
	if status := p.open(c.URL + "/console/domains/acme/repositories/npm-store/package?format=npm&package=evilish"); status != 200 {
		t.Fatalf("npm package page: %d", status)
	}
	withheld = rows(p, "withheld")
	if len(withheld) != 1 {
		t.Fatalf("withheld table of evilish: %v", withheld)
	}
	if r := withheld[0]; r["version"] != "1.0.0" || r["state"] != "Quarantined — malicious" || r["reason"] != "malicious: MAL-2026-2001" ||
		r["rule"] != "" || r["advisory"] != "MAL-2026-2001" || r["repository"] != "npm-store" {
		t.Fatalf("quarantined row: %v", r)
	}
	if href := eval[string](p, `document.querySelector("#withheld td.advisory a").href`); href != "https://osv.dev/vulnerability/MAL-2026-2001" {
		t.Errorf("advisory link %q", href)
	}
	if got := p.text("#versions .badge.state-quarantined"); got != "quarantined" {
		t.Errorf("versions table tag %q", got)
	}
	p.shot("package-quarantined")
	t.Logf("screenshots in %s", p.shots)
}
