package npm_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os/exec"
	"strings"
	"testing"
)

// auditOSV are the OSV records TestNPMAuditFromOSV imports: an advisory
// for a package published to coffer, a malicious-packages entry without a
// summary, and an advisory for the fixture's fx-b 2.0.0 (which fx-a
// depends on).
var auditOSV = map[string]string{
	"GHSA-osv1-vuln-0001.json": `{"id": "GHSA-osv1-vuln-0001", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2099-0001"],
	  "summary": "Prototype pollution in osv-vulnlib",
	  "affected": [{"package": {"ecosystem": "npm", "name": "osv-vulnlib"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}],
	  "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2099-0001"}],
	  "database_specific": {"severity": "HIGH"}}`,
	"MAL-2099-0001.json": `{"id": "MAL-2099-0001", "modified": "2026-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "npm", "name": "osv-evil"}, "versions": ["1.0.0"]}]}`,
	"GHSA-osv2-fxbb-0002.json": `{"id": "GHSA-osv2-fxbb-0002", "modified": "2026-01-01T00:00:00Z", "summary": "ReDoS in fx-b",
	  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"}],
	  "affected": [{"package": {"ecosystem": "npm", "name": "fx-b"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.1"}]}]}]}`,
}

// npmAudit is what the test reads of `npm audit --json` (npm 7 and later).
type npmAudit struct {
	Vulnerabilities map[string]struct {
		Severity string `json:"severity"`
		Range    string `json:"range"`
		Via      []json.RawMessage
	} `json:"vulnerabilities"`
	Metadata struct {
		Vulnerabilities map[string]int `json:"vulnerabilities"`
	} `json:"metadata"`
}

// via is an advisory npm names in a vulnerability's "via".
type via struct {
	Source   int    `json:"source"`
	Name     string `json:"name"`
	Title    string `json:"title"`
	URL      string `json:"url"`
	Severity string `json:"severity"`
	Range    string `json:"range"`
}

// runAudit runs `npm audit --json` in dir; it exits 1 when it finds
// something.
func runAudit(t *testing.T, cl *clients, dir string, wantFindings bool) npmAudit {
	t.Helper()
	out, err := cl.Run(dir, "npm", "audit", "--json")
	var ee *exec.ExitError
	if wantFindings && (err == nil || !errorAs(err, &ee) || ee.ExitCode() != 1) || !wantFindings && err != nil {
		t.Errorf("npm audit --json: %v (findings expected: %v)\n%s", err, wantFindings, tail(out))
	}
	var a npmAudit
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("npm audit --json: not JSON: %v\n%s", err, tail(out))
	}
	return a
}

func errorAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// vias decodes a vulnerability's advisories (npm lists a dependency's
// name instead for vulnerabilities it inherits).
func vias(t *testing.T, raw []json.RawMessage) []via {
	t.Helper()
	var out []via
	for _, r := range raw {
		var v via
		if json.Unmarshal(r, &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

func osvNumber(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() & 0x7fffffff)
}

// TestNPMAuditFromOSV: the real npm (and pnpm) audit against a real
// coffer whose OSV data was imported with `coffer osv import`: a
// repository with no path to public:npmjs is answered from it, as is one
// whose public:npmjs (the fixture) fails the audit; while the fixture
// answers, its answer is npm's.
func TestNPMAuditFromOSV(t *testing.T) {
	f := newFixture(t)
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir, "--external-connection", "public:npmjs="+f.srv.URL+"/")
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "internal")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "npm-store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "npm-store", "--external-connection", "public:npmjs")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "proxied", "--upstreams", "repositoryName=npm-store")
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "demo"), "authorizationToken")
	endpoint := func(repo string) string {
		return str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", repo, "--format", "npm"), "repositoryEndpoint")
	}
	internal, proxied := endpoint("internal"), endpoint("proxied")
	npmrc := func(registry string) string {
		return "registry=" + registry + "\n//" + strings.TrimPrefix(registry, "http://") + ":_authToken=" + token + "\n"
	}

	// The internal repository's own packages, installed before the
	// advisories exist.
	for _, name := range []string{"osv-vulnlib", "osv-evil", "osv-clean"} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"package.json": fmt.Sprintf(`{"name": %q, "version": "1.0.0", "main": "index.js"}`, name),
			"index.js":     "module.exports = 1;\n",
			".npmrc":       npmrc(internal),
		})
		cl.Must(dir, "npm", "publish")
	}
	app := t.TempDir()
	writeFiles(t, app, map[string]string{
		"package.json": `{"name": "app", "version": "1.0.0", "private": true,
		  "dependencies": {"osv-vulnlib": "1.0.0", "osv-evil": "1.0.0", "osv-clean": "1.0.0"}}`,
		".npmrc": npmrc(internal),
	})
	cl.Must(app, "npm", "install", "--no-audit")
	if a := runAudit(t, cl, app, false); len(a.Vulnerabilities) != 0 {
		t.Errorf("npm audit before the import: %+v", a.Vulnerabilities)
	}
	proxiedApp := t.TempDir()
	writeFiles(t, proxiedApp, map[string]string{
		"package.json": `{"name": "proxied-app", "version": "1.0.0", "private": true, "dependencies": {"fx-a": "^1.0.0"}}`,
		".npmrc":       npmrc(proxied),
	})
	cl.Must(proxiedApp, "npm", "install", "--no-audit")

	records := t.TempDir()
	writeFiles(t, records, auditOSV)
	imported := cl.Must("", cofferBin, "osv", "import", "--endpoint-url", c.URL, "--name", "audit-test", records)
	if !strings.Contains(imported, `"audit-test"`) {
		t.Fatalf("coffer osv import: %s", imported)
	}

	// No path to public:npmjs: the imported advisories.
	a := runAudit(t, cl, app, true)
	if got := a.Metadata.Vulnerabilities; got["high"] != 1 || got["critical"] != 1 || got["total"] != 2 {
		t.Errorf("counts %v", got)
	}
	vuln := a.Vulnerabilities["osv-vulnlib"]
	v := vias(t, vuln.Via)
	want := via{Source: osvNumber("GHSA-osv1-vuln-0001"), Name: "osv-vulnlib", Title: "Prototype pollution in osv-vulnlib",
		URL: "https://nvd.nist.gov/vuln/detail/CVE-2099-0001", Severity: "high", Range: ">=0.0.0 <1.0.1"}
	if vuln.Severity != "high" || len(v) != 1 || v[0] != want {
		t.Errorf("osv-vulnlib: %s %+v, want %+v", vuln.Severity, v, want)
	}
	evil := a.Vulnerabilities["osv-evil"]
	v = vias(t, evil.Via)
	want = via{Source: osvNumber("MAL-2099-0001"), Name: "osv-evil", Title: "Malware in osv-evil",
		URL: "https://osv.dev/vulnerability/MAL-2099-0001", Severity: "critical", Range: "=1.0.0"}
	if evil.Severity != "critical" || len(v) != 1 || v[0] != want {
		t.Errorf("osv-evil: %s %+v, want %+v", evil.Severity, v, want)
	}
	if _, ok := a.Vulnerabilities["osv-clean"]; ok {
		t.Errorf("osv-clean reported: %+v", a.Vulnerabilities)
	}
	// npm's own gate on the answer.
	if out, err := cl.Run(app, "npm", "audit", "--audit-level=critical"); err == nil || !strings.Contains(out, "Malware in osv-evil") {
		t.Errorf("npm audit --audit-level=critical: %v\n%s", err, tail(out))
	}

	// pnpm audits through the same endpoint.
	pnpm := pinnedTool(t, cl, "pnpm", pnpmVersion)
	pnpmApp := t.TempDir()
	writeFiles(t, pnpmApp, map[string]string{
		"package.json":        `{"name": "pnpm-app", "version": "1.0.0", "private": true, "dependencies": {"osv-vulnlib": "1.0.0", "osv-clean": "1.0.0"}}`,
		".npmrc":              npmrc(internal),
		"pnpm-workspace.yaml": "minimumReleaseAge: 0\n",
	})
	cl.Must(pnpmApp, pnpm, "install")
	out, err := cl.Run(pnpmApp, pnpm, "audit", "--json") // exits 1 when it finds something
	var pa struct {
		Advisories map[string]struct {
			ModuleName         string `json:"module_name"`
			Title              string `json:"title"`
			Severity           string `json:"severity"`
			VulnerableVersions string `json:"vulnerable_versions"`
			URL                string `json:"url"`
		} `json:"advisories"`
		Metadata struct {
			Vulnerabilities map[string]int `json:"vulnerabilities"`
		} `json:"metadata"`
	}
	if jerr := json.Unmarshal([]byte(out), &pa); err == nil || jerr != nil {
		t.Fatalf("pnpm audit --json: %v %v\n%s", err, jerr, tail(out))
	}
	pv := pa.Advisories[fmt.Sprint(osvNumber("GHSA-osv1-vuln-0001"))]
	if len(pa.Advisories) != 1 || pv.ModuleName != "osv-vulnlib" || pv.Title != "Prototype pollution in osv-vulnlib" || pv.Severity != "high" ||
		pv.VulnerableVersions != ">=0.0.0 <1.0.1" || pv.URL != "https://nvd.nist.gov/vuln/detail/CVE-2099-0001" || pa.Metadata.Vulnerabilities["high"] != 1 {
		t.Errorf("pnpm audit --json:\n%s", out)
	}

	// public:npmjs answers (the fixture knows no advisories): its answer.
	if a := runAudit(t, cl, proxiedApp, false); len(a.Vulnerabilities) != 0 {
		t.Errorf("npm audit relayed: %+v", a.Vulnerabilities)
	}
	const bulk = "/-/npm/v1/security/advisories/bulk"
	if n := f.reg.Count(bulk); n != 1 {
		t.Errorf("the fixture was asked %d times", n)
	}
	// It fails: the imported advisories.
	f.reg.Fail(bulk, 502)
	a = runAudit(t, cl, proxiedApp, true)
	fxb := a.Vulnerabilities["fx-b"]
	v = vias(t, fxb.Via)
	want = via{Source: osvNumber("GHSA-osv2-fxbb-0002"), Name: "fx-b", Title: "ReDoS in fx-b",
		URL: "https://osv.dev/vulnerability/GHSA-osv2-fxbb-0002", Severity: "moderate", Range: ">=2.0.0 <2.0.1"}
	if fxb.Severity != "moderate" || len(v) != 1 || v[0] != want || a.Metadata.Vulnerabilities["total"] < 1 {
		t.Errorf("fx-b after the relay failed: %s %+v, want %+v (%v)", fxb.Severity, v, want, a.Metadata.Vulnerabilities)
	}
	if n := f.reg.Count(bulk); n < 2 {
		t.Errorf("the failing fixture was asked %d times", n)
	}
}
