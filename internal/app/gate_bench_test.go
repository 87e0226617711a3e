package app

// What the supply-chain gate costs the hot paths (issue 17): an assembled
// coffer (New, SQLite and files in a temporary data dir) with fixture
// upstream registries, measured with no rule and no advisory ("none") and
// with 1,000 rules and 200,000 OSV records ("loaded"), in one run:
//
//	go test ./internal/app -run '^$' -bench 'Gate|OSVIndexBuild' -benchtime 2s
//
// TestGateFixtures writes the same rules and OSV zip for bench/gate.sh.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"coffer/internal/advisory"
	"coffer/internal/artifact"
	"coffer/internal/auth"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/config"
	"coffer/internal/format/npm/npmtest"
	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/osv/ecosystems"
	"coffer/internal/rules/ruleops"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

const (
	gbAccount  = "123456789012"
	gbDomain   = "dx"
	gbNpm      = "gate-bench"
	gbPyPI     = "gate-bench-py"
	gbVersions = 50 // half stored, half listed by the upstream only
	gbRules    = 1000
	gbRecords  = 200000
	gbCorgi    = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
	gbPEP691   = "application/vnd.pypi.simple.v1+json"
	gbRootKey  = "AKIAGATEBENCH0000001"
)

// gbRepos are the benchmarked domain's repositories: app reads through
// npm-store (public:npmjs) and pypi-store (public:pypi); team-a and team-b
// only carry rules.
var gbRepos = []string{"npm-store", "pypi-store", "app", "team-a", "team-b"}

// gbOthers are the other domains with rules.
var gbOthers = []string{"other-1", "other-2", "other-3", "other-4", "other-5", "other-6", "other-7", "other-8"}

// gateRules returns n rules as the API takes them: in domain (repositories
// repos) about two fifths of them, the rest spread over the other domains
// (each with a repository "team"). Every scope kind (domain, repository,
// package group, external connection) has a cooldown, a freeze, and some a
// severity rule; then blocks (exact packages with version ranges,
// namespaces, name prefixes, in npm, PyPI and Maven) and exemptions (exact
// versions, patterns). None refuses a version of npmPkgs or pypiPkgs that
// is below 90: their blocks cover only versions from 90 up, the freezes
// that apply to them are in 2030, and the cooldowns are shorter than the
// age of the fixtures.
func gateRules(domain string, repos, others, npmPkgs, pypiPkgs []string, n int) []ruleops.Input {
	var out []ruleops.Input
	gen := func(dom string, repos, npmPkgs, pypiPkgs []string, quota int) {
		type scope struct {
			ruleops.Input
			applies bool // may apply to the benchmarked packages
		}
		var scopes []scope
		scopes = append(scopes, scope{ruleops.Input{Domain: dom}, true})
		for _, r := range repos {
			scopes = append(scopes, scope{ruleops.Input{Domain: dom, Repository: r}, !strings.HasPrefix(r, "team")})
		}
		groups := map[string]bool{"/npm/*": true, "/pypi/*": true, "/npm/corp/*": false, "/pypi//internal-~": false,
			"/maven/com.example/*": false, "/npm//left~": false}
		for _, p := range append(append([]string{}, npmPkgs...), pypiPkgs...) {
			f := "npm"
			if !slices.Contains(npmPkgs, p) {
				f = "pypi"
			}
			groups["/"+f+"//"+p[:min(4, len(p))]+"~"] = true
			groups["/"+f+"//"+p+"$"] = true
		}
		for _, g := range slices.Sorted(maps.Keys(groups)) {
			scopes = append(scopes, scope{ruleops.Input{Domain: dom, PackageGroup: g}, groups[g]})
		}
		for _, c := range []string{"public:npmjs", "public:pypi", "public:maven-central"} {
			scopes = append(scopes, scope{ruleops.Input{Domain: dom, ExternalConnection: c}, c != "public:maven-central"})
		}
		start := len(out)
		for i, s := range scopes {
			in := s.Input
			in.Cooldown = []string{"72h", "48h", "24h", "168h"}[i%4]
			out = append(out, in)
			in = s.Input
			in.FreezeAt = "2030-01-01T00:00:00Z"
			if !s.applies {
				in.FreezeAt = "2025-06-01T00:00:00Z"
			}
			out = append(out, in)
			if i%2 == 0 {
				in = s.Input
				in.BlockSeverity = []string{"CRITICAL", "HIGH", "MODERATE"}[i%3]
				out = append(out, in)
			}
		}
		for i := 0; len(out)-start < quota; i++ {
			in := scopes[i%len(scopes)].Input
			in.Reason = "bench-" + strconv.Itoa(i)
			k := len(out)
			switch i % 10 {
			case 0:
				in.Block, in.Versions = fmt.Sprintf("/npm//pkg-%05d$", k), "<1.0.0||>=2.0.0,<2.1.0"
			case 1:
				in.Block = fmt.Sprintf("/npm/scope-%d/*", k)
			case 2:
				in.Block = fmt.Sprintf("/npm//evil-%d~", k)
			case 3:
				in.Block, in.Versions = fmt.Sprintf("/pypi//proj-%05d$", k), "<0.9"
			case 4:
				in.Block, in.Versions = fmt.Sprintf("/maven/org.example%d/lib$", k), ">=3.0,<3.2"
			case 5:
				if len(npmPkgs) > 0 {
					in.Block, in.Versions = "/npm//"+npmPkgs[i/10%len(npmPkgs)]+"$", fmt.Sprintf(">=%d.0.0", 90+i)
				} else {
					in.Block = fmt.Sprintf("/npm//typo-%d$", k)
				}
			case 6:
				if len(pypiPkgs) > 0 {
					in.Block, in.Versions = "/pypi//"+pypiPkgs[i/10%len(pypiPkgs)]+"$", fmt.Sprintf(">=%d.0", 90+i)
				} else {
					in.Block = fmt.Sprintf("/pypi//typo-%d$", k)
				}
			case 7:
				in.Exempt, in.Version = fmt.Sprintf("/npm//pkg-%05d$", k), fmt.Sprintf("1.2.%d", k)
			case 8:
				in.Exempt = fmt.Sprintf("/npm/scope-%d/*", k)
			default:
				if len(npmPkgs) > 0 {
					in.Exempt, in.Version = "/npm//"+npmPkgs[i/10%len(npmPkgs)]+"$", fmt.Sprintf("0.0.%d-exempt", k)
				} else {
					in.Exempt, in.Version = fmt.Sprintf("/pypi//proj-%05d$", k), "1.0"
				}
			}
			out = append(out, in)
		}
	}
	mine := n * 2 / 5
	gen(domain, repos, npmPkgs, pypiPkgs, mine)
	for i, d := range others {
		q := (n - len(out)) / (len(others) - i)
		gen(d, []string{"team"}, nil, nil, q)
	}
	return out
}

// distinctRules fails unless the rules have n different ids (a rule set
// again under the same id replaces the first).
func distinctRules(tb testing.TB, ins []ruleops.Input, n int) {
	tb.Helper()
	ops := &ruleops.Service{}
	ids := map[string]bool{}
	for _, in := range ins {
		in.DomainOwner = gbAccount
		r, err := ops.Rule(in)
		if err != nil {
			tb.Fatalf("rule %+v: %v", in, err)
		}
		ids[r.ID] = true
	}
	if len(ids) != n || len(ins) != n {
		tb.Fatalf("%d rules with %d different ids, want %d", len(ins), len(ids), n)
	}
}

// writeOSVZip writes n synthetic OSV records as an osv.dev export zip: half
// npm, half PyPI, over n/2 package names (pkg-NNNNN, some scoped; Proj_NNNNN,
// which PyPI normalises); one in ten MAL- (every version, or a list), the
// rest GHSA-like with a CVE alias, CVSS and a severity class, SEMVER ranges
// for npm and ECOSYSTEM ranges for PyPI, some with two affected entries.
// Two records of each of npmPkgs and pypiPkgs name the package but only
// versions from 90 up.
func writeOSVZip(w io.Writer, n int, npmPkgs, pypiPkgs []string) error {
	zw := zip.NewWriter(w)
	put := func(rec map[string]any) error {
		f, err := zw.Create(rec["id"].(string) + ".json")
		if err != nil {
			return err
		}
		return json.NewEncoder(f).Encode(rec)
	}
	pkg := func(eco, name string) map[string]any { return map[string]any{"ecosystem": eco, "name": name} }
	ev := func(kv ...string) []map[string]string {
		var out []map[string]string
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, map[string]string{kv[i]: kv[i+1]})
		}
		return out
	}
	sev := []string{"LOW", "MODERATE", "HIGH", "CRITICAL"}
	names := n / 2
	if names > 50000 {
		names = 50000
	}
	for i := range n - 2*(len(npmPkgs)+len(pypiPkgs)) {
		npm := i%2 == 0
		j := i / 2 % names
		eco, name, rtype := "npm", fmt.Sprintf("pkg-%05d", j), "SEMVER"
		if j%7 == 0 {
			name = fmt.Sprintf("@scope-%d/pkg-%05d", j%100, j)
		}
		if !npm {
			eco, name, rtype = "PyPI", fmt.Sprintf("Proj_%05d", j), "ECOSYSTEM"
		}
		rec := map[string]any{"schema_version": "1.6.0", "modified": "2026-01-02T03:04:05Z", "published": "2025-06-07T08:09:10Z"}
		if i%10 == 0 {
			rec["id"] = fmt.Sprintf("MAL-2025-%06d", i)
			rec["summary"] = "Malicious code in " + name + " (" + eco + ")"
			rec["details"] = "The package runs a script at install time that sends the environment to a remote host."
			a := map[string]any{"package": pkg(eco, name)}
			if i%20 == 0 {
				a["ranges"] = []map[string]any{{"type": rtype, "events": ev("introduced", "0")}}
			} else {
				a["versions"] = []string{"0.0.1", fmt.Sprintf("0.0.%d", 2+i%5), "6.6.6"}
			}
			rec["affected"] = []any{a}
			rec["database_specific"] = map[string]any{"malicious-packages-origins": []map[string]string{{"source": "ghsa-malware", "sha256": strings.Repeat("ab", 32)}}}
		} else {
			id := fmt.Sprintf("GHSA-%04x-%04x-%04x", i&0xffff, (i>>16)&0xffff, (i*7919)&0xffff)
			cve := fmt.Sprintf("CVE-2025-%05d", i)
			rec["id"], rec["aliases"] = id, []string{cve}
			rec["summary"] = "Prototype pollution in " + name
			rec["details"] = "Versions before the fix let a crafted input modify the prototype of Object, which may lead to remote code execution."
			rec["severity"] = []map[string]string{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}
			maj := i % 5
			var ranges []map[string]any
			if npm {
				ranges = []map[string]any{{"type": "SEMVER", "events": ev("introduced", "0", "fixed", fmt.Sprintf("%d.%d.%d", maj, i%13, i%7))}}
			} else {
				ranges = []map[string]any{{"type": "ECOSYSTEM", "events": ev("introduced", "0", "fixed", fmt.Sprintf("%d.%d", maj, i%13))}}
			}
			affected := []any{map[string]any{"package": pkg(eco, name), "ranges": ranges}}
			if i%20 == 1 {
				r2 := []map[string]any{{"type": rtype, "events": ev("introduced", fmt.Sprintf("%d.0.0", maj+1), "last_affected", fmt.Sprintf("%d.4.0", maj+1))}}
				if !npm {
					r2 = []map[string]any{{"type": rtype, "events": ev("introduced", fmt.Sprintf("%d.0", maj+1), "last_affected", fmt.Sprintf("%d.4", maj+1))}}
				}
				affected = append(affected, map[string]any{"package": pkg(eco, name), "ranges": r2})
			}
			rec["affected"] = affected
			rec["references"] = []map[string]string{{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/" + cve},
				{"type": "WEB", "url": "https://github.com/advisories/" + id}}
			rec["database_specific"] = map[string]any{"cwe_ids": []string{"CWE-1321"}, "severity": sev[i%4], "github_reviewed": true}
		}
		if err := put(rec); err != nil {
			return err
		}
	}
	// Records naming the benchmarked packages, none of their versions below 90.
	for k, p := range append(append([]string{}, npmPkgs...), pypiPkgs...) {
		eco, rtype, v := "npm", "SEMVER", "90.0.0"
		if k >= len(npmPkgs) {
			eco, rtype, v = "PyPI", "ECOSYSTEM", "90.0"
		}
		if err := put(map[string]any{"id": fmt.Sprintf("MAL-2026-%06d", k), "modified": "2026-01-02T03:04:05Z",
			"summary": "Malicious code in " + p, "affected": []any{map[string]any{"package": pkg(eco, p), "versions": []string{v, "99.0.0"}}}}); err != nil {
			return err
		}
		if err := put(map[string]any{"id": fmt.Sprintf("GHSA-bnch-%04d-xxxx", k), "modified": "2026-01-02T03:04:05Z", "aliases": []string{fmt.Sprintf("CVE-2026-%05d", k)},
			"summary": "Denial of service in " + p, "database_specific": map[string]any{"severity": "CRITICAL"},
			"affected": []any{map[string]any{"package": pkg(eco, p), "ranges": []map[string]any{{"type": rtype, "events": ev("introduced", v, "fixed", "91.0")}}}}}); err != nil {
			return err
		}
	}
	return zw.Close()
}

// allowAll authorizes everything (the rules are written as the root would).
type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

// gateEnv is an assembled coffer with fixture registries: npm package
// gate-bench and PyPI project gate-bench-py of 50 versions each, 25 of
// them downloaded through repository app (so stored in it and its
// upstream) and 25 only listed by the registries.
type gateEnv struct {
	tb      testing.TB
	app     *App
	token   string
	npm     string // packument path
	simple  string // simple page path
	tarball string // a stored tarball's path
	setup   time.Duration
}

// gbZip is the OSV zip of the loaded environment, made once per process.
var gbZip []byte

func newGateEnv(tb testing.TB, loaded bool) *gateEnv {
	tb.Helper()
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	reg := npmtest.NewRegistry()
	idx := pypitest.NewIndex()
	old := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := range gbVersions {
		reg.Add(npmtest.Package{Name: gbNpm, Version: fmt.Sprintf("1.%d.0", i), Dependencies: map[string]string{"dep-a": "^1.0.0", "dep-b": "~2.1.0"}})
		f := idx.AddWheel(pypitest.Dist{Name: gbPyPI, Version: fmt.Sprintf("1.%d", i)}, true)
		f.UploadTime = old.Add(time.Duration(i) * time.Hour)
	}
	npmUp, pypiUp := httptest.NewServer(reg), httptest.NewServer(idx)
	tb.Cleanup(npmUp.Close)
	tb.Cleanup(pypiUp.Close)

	cfg := config.Defaults()
	cfg.DataDir, cfg.AccountID = tb.TempDir(), gbAccount
	cfg.ExternalConnections = map[string]string{"public:npmjs": npmUp.URL + "/", "public:pypi": pypiUp.URL + "/"}
	getenv := func(k string) string {
		return map[string]string{"COFFER_ROOT_ACCESS_KEY_ID": gbRootKey, "COFFER_ROOT_SECRET_ACCESS_KEY": "gatebench/secret/key/0123456789abcdefghij"}[k]
	}
	a, err := New(ctx, cfg, getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cancel(); a.Close() })
	svc := a.Service
	dom, err := svc.CreateDomain(ctx, gbDomain, "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	repo := func(name string) artifact.RepoRef {
		return artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: gbAccount, Name: gbDomain}, Repository: name}
	}
	for _, r := range gbRepos {
		var ups []string
		if r == "app" {
			ups = []string{"npm-store", "pypi-store"}
		}
		if _, err := svc.CreateRepository(ctx, repo(r), "", ups, nil); err != nil {
			tb.Fatal(err)
		}
	}
	for r, c := range map[string]string{"npm-store": "public:npmjs", "pypi-store": "public:pypi"} {
		if _, err := svc.AssociateExternalConnection(ctx, repo(r), c); err != nil {
			tb.Fatal(err)
		}
	}
	root := &auth.Principal{ARN: a.Identity.RootARN(), Account: gbAccount, Type: auth.TypeAccount, UserID: gbAccount, AccessKeyID: gbRootKey}
	tok, _, err := a.Identity.Mint(auth.WithPrincipal(ctx, root), dom, 0)
	if err != nil {
		tb.Fatal(err)
	}
	e := &gateEnv{tb: tb, app: a, token: tok,
		npm:    "/npm/d/" + gbDomain + "-" + gbAccount + "/app/" + gbNpm,
		simple: "/pypi/d/" + gbDomain + "-" + gbAccount + "/app/simple/" + gbPyPI + "/"}

	// Half the versions downloaded (stored), in both formats.
	var doc struct {
		Versions map[string]struct {
			Dist struct{ Tarball string } `json:"dist"`
		} `json:"versions"`
	}
	e.get(e.npm, "application/json", "", &doc)
	for i := range gbVersions / 2 {
		u, err := url.Parse(doc.Versions[fmt.Sprintf("1.%d.0", i)].Dist.Tarball)
		if err != nil || u.Path == "" {
			tb.Fatalf("tarball URL of 1.%d.0: %q", i, doc.Versions[fmt.Sprintf("1.%d.0", i)].Dist.Tarball)
		}
		e.get(u.Path, "*/*", "", nil)
		if i == 0 {
			e.tarball = u.Path
		}
	}
	var page struct {
		Files []struct{ Filename, URL string } `json:"files"`
	}
	e.get(e.simple, gbPEP691, "", &page)
	base, _ := url.Parse("http://coffer.test" + e.simple)
	for i, f := range page.Files {
		if i%2 == 1 {
			continue
		}
		u, err := base.Parse(f.URL)
		if err != nil {
			tb.Fatal(err)
		}
		e.get(u.Path, "*/*", "", nil)
	}

	if loaded {
		e.load(ctx)
	}
	// Nothing withheld: every version is listed and the tarball served.
	var doc2 struct {
		Versions map[string]any `json:"versions"`
	}
	var page2 struct {
		Files []any `json:"files"`
	}
	e.get(e.npm, "application/json", "", &doc2)
	e.get(e.simple, gbPEP691, "", &page2)
	if len(doc2.Versions) != gbVersions || len(page2.Files) != gbVersions {
		tb.Fatalf("loaded=%v: %d npm versions and %d PyPI files listed, want %d", loaded, len(doc2.Versions), len(page2.Files), gbVersions)
	}
	e.get(e.tarball, "*/*", "", nil)
	e.setup = time.Since(start)
	return e
}

// load writes the 1,000 rules through the rules API's operations and
// imports the 200,000 OSV records.
func (e *gateEnv) load(ctx context.Context) {
	tb := e.tb
	ops := &ruleops.Service{Artifacts: e.app.Service, Store: e.app.meta, Authorizer: allowAll{}}
	for _, d := range gbOthers {
		if _, err := e.app.Service.CreateDomain(ctx, d, "", nil); err != nil {
			tb.Fatal(err)
		}
		if _, err := e.app.Service.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: gbAccount, Name: d}, Repository: "team"}, "", nil, nil); err != nil {
			tb.Fatal(err)
		}
	}
	list := gateRules(gbDomain, gbRepos, gbOthers, []string{gbNpm}, []string{gbPyPI}, gbRules)
	distinctRules(tb, list, gbRules)
	for _, in := range list {
		if _, err := ops.Put(ctx, in); err != nil {
			tb.Fatalf("rule %+v: %v", in, err)
		}
	}
	var stored []store.Setting
	if err := e.app.meta.Read(ctx, func(tx store.Tx) (err error) { stored, err = tx.ListSettingsPrefix("rules/"); return err }); err != nil {
		tb.Fatal(err)
	}
	if len(stored) != gbRules {
		tb.Fatalf("%d rules stored, want %d (two rules of the same id?)", len(stored), gbRules)
	}
	if gbZip == nil {
		var buf bytes.Buffer
		if err := writeOSVZip(&buf, gbRecords, []string{gbNpm}, []string{gbPyPI}); err != nil {
			tb.Fatal(err)
		}
		gbZip = buf.Bytes()
	}
	path := filepath.Join(tb.TempDir(), "osv.zip")
	if err := os.WriteFile(path, gbZip, 0o600); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	t0 := time.Now()
	info, err := e.app.Advisories.Import(ctx, "bench", f, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	if n := e.app.Advisories.Index().Len(); n != gbRecords || info.Records != gbRecords {
		tb.Fatalf("index of %d records (source: %d), want %d", n, info.Records, gbRecords)
	}
	tb.Logf("loaded: %d rules; OSV zip %.1f MB, %d records imported (checked, stored, indexed) in %v",
		len(list), float64(len(gbZip))/1e6, info.Records, time.Since(t0).Round(time.Millisecond))
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(s int)           { d.status = s }
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// serve runs one GET through coffer's handler without a socket, with the
// token as npm (Bearer) or pip (Basic) sends it.
func (e *gateEnv) serve(tb testing.TB, path, accept, encoding string) *discardWriter {
	req := httptest.NewRequest(http.MethodGet, "http://coffer.test"+path, nil)
	if strings.HasPrefix(path, "/pypi/") {
		req.SetBasicAuth("aws", e.token)
	} else {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	req.Header.Set("Accept", accept)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	w := &discardWriter{h: http.Header{}, status: http.StatusOK}
	e.app.Handler.ServeHTTP(w, req)
	if w.status != http.StatusOK || w.n == 0 {
		tb.Fatalf("GET %s: %d, %d bytes", path, w.status, w.n)
	}
	return w
}

// get is serve with the body kept and decoded into out (JSON; nil: not).
func (e *gateEnv) get(path, accept, encoding string, out any) {
	e.tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://coffer.test"+path, nil)
	if strings.HasPrefix(path, "/pypi/") {
		req.SetBasicAuth("aws", e.token)
	} else {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	req.Header.Set("Accept", accept)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.tb.Fatalf("GET %s: %d %.300s", path, rec.Code, rec.Body)
	}
	if out != nil {
		var body io.Reader = rec.Body
		if rec.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				e.tb.Fatal(err)
			}
			body = zr
		}
		if err := json.NewDecoder(body).Decode(out); err != nil {
			e.tb.Fatalf("GET %s: %v", path, err)
		}
	}
}

// BenchmarkGate measures the hot paths with no rule and no advisory
// ("none") and with 1,000 rules and 200,000 OSV records ("loaded"): a
// packument served from the cache (full and abbreviated, gzip), a simple
// page served from the cache (HTML and PEP 691 JSON), and a stored npm
// tarball. Both packages have 50 versions, 25 stored and 25 listed by the
// registry only. Per path:
//   - none and loaded, back to back: ns/op, B/op, allocs/op; cpu-ns/op is
//     the process's CPU time per request (see cpuTime); writes/op counts
//     the store's write transactions per request (its generation), each of
//     which makes the rules loader look at the rules again;
//   - paired: batches of 100 requests to each, alternating, the order
//     swapped every pair, so that a machine shared with other work slows
//     both alike; it reports the medians of the batches' ns/op and
//     cpu-ns/op of each and the median of the pairs' relative cost
//     (delta-%, cpu-delta-%). Run it for long enough (-benchtime 10s).
//
// Both environments live in one process: the heap the GC scans holds the
// advisory index for both.
func BenchmarkGate(b *testing.B) {
	envs := [2]*gateEnv{newGateEnv(b, false), newGateEnv(b, true)}
	b.Logf("set-up: none %v, loaded %v", envs[0].setup.Round(time.Millisecond), envs[1].setup.Round(time.Millisecond))
	paths := []struct {
		name             string
		path             func(e *gateEnv) string
		accept, encoding string
	}{
		{"packument/full-gzip", func(e *gateEnv) string { return e.npm }, "application/json", "gzip"},
		{"packument/abbreviated-gzip", func(e *gateEnv) string { return e.npm }, gbCorgi, "gzip"},
		{"simple/html", func(e *gateEnv) string { return e.simple }, "text/html", ""},
		{"simple/json", func(e *gateEnv) string { return e.simple }, gbPEP691, ""},
		{"tarball/stored", func(e *gateEnv) string { return e.tarball }, "*/*", ""},
	}
	var summary []string
	for _, p := range paths {
		var allocs, sizes [2]float64
		for i, mode := range []string{"none", "loaded"} {
			e := envs[i]
			path := p.path(e)
			e.serve(b, path, p.accept, p.encoding) // cached
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				gen0, cpu0 := e.app.meta.Generation(), cpuTime()
				b.ReportAllocs()
				for b.Loop() {
					e.serve(b, path, p.accept, p.encoding)
				}
				cpu := cpuTime() - cpu0
				runtime.ReadMemStats(&ms1)
				allocs[i] = float64(ms1.Mallocs-ms0.Mallocs) / float64(b.N)
				sizes[i] = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(b.N)
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(e.app.meta.Generation()-gen0)/float64(b.N), "writes/op")
			})
		}
		const batch = 100
		var med [2][2]float64 // [none, loaded][wall, cpu]
		var delta [2]float64
		b.Run(p.name+"/paired", func(b *testing.B) {
			var per [2][2][]float64
			var ratios [2][]float64
			k := 0
			for b.Loop() {
				order := [2]int{0, 1}
				if k++; k%2 == 0 {
					order = [2]int{1, 0}
				}
				var w, c [2]float64
				for _, i := range order {
					e, path := envs[i], p.path(envs[i])
					t0, c0 := time.Now(), cpuTime()
					for range batch {
						e.serve(b, path, p.accept, p.encoding)
					}
					w[i] = float64(time.Since(t0).Nanoseconds()) / batch
					c[i] = float64((cpuTime() - c0).Nanoseconds()) / batch
					per[i][0], per[i][1] = append(per[i][0], w[i]), append(per[i][1], c[i])
				}
				ratios[0] = append(ratios[0], w[1]/w[0])
				if c[0] > 0 {
					ratios[1] = append(ratios[1], c[1]/c[0])
				}
			}
			for i := range 2 {
				for j := range 2 {
					med[i][j] = median(per[i][j])
				}
				delta[i] = 100 * (median(ratios[i]) - 1)
			}
			b.ReportMetric(med[0][0], "none-ns/op")
			b.ReportMetric(med[1][0], "loaded-ns/op")
			b.ReportMetric(med[0][1], "none-cpu-ns/op")
			b.ReportMetric(med[1][1], "loaded-cpu-ns/op")
			b.ReportMetric(delta[0], "delta-%")
			b.ReportMetric(delta[1], "cpu-delta-%")
		})
		summary = append(summary, fmt.Sprintf("%-27s none %7.0f ns/op %7.0f cpu-ns/op %6.0f B/op %4.0f allocs/op | loaded %7.0f ns/op %7.0f cpu-ns/op %6.0f B/op %4.0f allocs/op | %+.1f%% (cpu %+.1f%%)",
			p.name, med[0][0], med[0][1], sizes[0], allocs[0], med[1][0], med[1][1], sizes[1], allocs[1], delta[0], delta[1]))
	}
	b.Log("relative cost of the gate (medians of the paired batches):\n" + strings.Join(summary, "\n"))
}

// median of xs (0 when empty); sorts xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// cpuTime is the CPU time the process has used (user and system): on a
// machine shared with other work it tells the work per request better
// than the elapsed time, which counts the time spent waiting for a CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOSVIndexBuild measures what a node does when it builds the
// advisory index of 200,000 records (at start-up, or when a source changes
// on another node): advisory.Sources reads the stored zip and indexes every
// record. Reported: time per build, bytes allocated by it, the heap the
// index keeps (after a GC) and the peak heap in use during the build
// (sampled every 5 ms).
func BenchmarkOSVIndexBuild(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer meta.Close()
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	newSources := func() *advisory.Sources {
		return advisory.New(advisory.Config{Store: meta, Blobs: blobs, Ecosystems: ecosystems.Table(), SpoolDir: dir})
	}
	if gbZip == nil {
		var buf bytes.Buffer
		if err := writeOSVZip(&buf, gbRecords, []string{gbNpm}, []string{gbPyPI}); err != nil {
			b.Fatal(err)
		}
		gbZip = buf.Bytes()
	}
	zipPath := filepath.Join(dir, "osv.zip")
	if err := os.WriteFile(zipPath, gbZip, 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(zipPath)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if _, err := newSources().Import(ctx, "bench", f, "bench"); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.Logf("zip of %d records: %.1f MB; Import (check the zip, store it, build the index) took %v",
		gbRecords, float64(len(gbZip))/1e6, time.Since(t0).Round(time.Millisecond))

	var kept *advisory.Sources
	var retained, peak, allocated float64
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	for b.Loop() {
		kept = nil
		runtime.GC()
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0)
		var top atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > top.Load() {
					top.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		s := newSources()
		rctx, cancel := context.WithCancel(ctx)
		go s.Run(rctx)
		if err := s.Loaded(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		close(stop)
		<-sampled
		b.StopTimer()
		if n := s.Index().Len(); n != gbRecords {
			b.Fatalf("%d records indexed", n)
		}
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		allocated = float64(m1.TotalAlloc - m0.TotalAlloc)
		peak = float64(top.Load() - m0.HeapInuse)
		kept = s
		runtime.GC()
		var m2 runtime.MemStats
		runtime.ReadMemStats(&m2)
		retained = float64(int64(m2.HeapAlloc) - int64(m0.HeapAlloc))
		b.StartTimer()
	}
	runtime.KeepAlive(kept)
	b.ReportMetric(allocated/1e6, "MB-alloc/op")
	b.ReportMetric(retained/(1<<20), "MiB-kept")
	b.ReportMetric(peak/(1<<20), "MiB-peak-heap")
}

// TestGateFixtures writes, when COFFER_GATE_FIXTURES names a directory, the
// rules and the OSV zip bench/gate.sh loads into a coffer: rules.args, one
// `coffer rules set` argument list per line, and osv.zip. Parameters, all
// optional: COFFER_GATE_DOMAIN (bench), COFFER_GATE_REPOS (npm,team-1),
// COFFER_GATE_OTHERS (other-1..other-8), COFFER_GATE_NPM
// (bench-big,bench-small), COFFER_GATE_PYPI (none), COFFER_GATE_RULES
// (1000), COFFER_GATE_RECORDS (200000).
func TestGateFixtures(t *testing.T) {
	dir := os.Getenv("COFFER_GATE_FIXTURES")
	if dir == "" {
		t.Skip("COFFER_GATE_FIXTURES is not set (bench/gate.sh sets it)")
	}
	env := func(k, def string) string {
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return def
	}
	list := func(k, def string) []string {
		var out []string
		for _, s := range strings.Split(env(k, def), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	num := func(k string, def int) int {
		n, err := strconv.Atoi(env(k, strconv.Itoa(def)))
		if err != nil || n <= 0 {
			t.Fatalf("%s: %q is not a positive number", k, env(k, ""))
		}
		return n
	}
	npmPkgs, pypiPkgs := list("COFFER_GATE_NPM", "bench-big,bench-small"), list("COFFER_GATE_PYPI", "")
	ins := gateRules(env("COFFER_GATE_DOMAIN", "bench"), list("COFFER_GATE_REPOS", "npm,team-1"),
		list("COFFER_GATE_OTHERS", strings.Join(gbOthers, ",")), npmPkgs, pypiPkgs, num("COFFER_GATE_RULES", gbRules))
	if n := num("COFFER_GATE_RULES", gbRules); len(ins) == n {
		distinctRules(t, ins, n)
	} else {
		t.Logf("%d rules asked for; the fixed rules of every scope make %d", n, len(ins))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rf, err := os.Create(filepath.Join(dir, "rules.args"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(rf)
	for _, in := range ins {
		// No value holds a space or a quote: xargs splits the line as is.
		flags := []string{"--domain", in.Domain}
		add := func(flag, v string) {
			if v != "" {
				flags = append(flags, flag, v)
			}
		}
		add("--repository", in.Repository)
		add("--package-group", in.PackageGroup)
		add("--external-connection", in.ExternalConnection)
		add("--cooldown", in.Cooldown)
		add("--freeze", in.FreezeAt)
		add("--block", in.Block)
		add("--versions", in.Versions)
		if in.Exempt != "" {
			v := in.Exempt
			if in.Version != "" {
				v += "@" + in.Version
			}
			add("--exempt", v)
		}
		add("--block-severity", in.BlockSeverity)
		add("--reason", in.Reason)
		line := strings.Join(flags, " ")
		if strings.ContainsAny(line, "'\"\\") {
			t.Fatalf("a rule's flags need quoting: %s", line)
		}
		fmt.Fprintln(w, line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(dir, "osv.zip"))
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(zf, 1<<20)
	if err := writeOSVZip(bw, num("COFFER_GATE_RECORDS", gbRecords), npmPkgs, pypiPkgs); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d rules and %d OSV records into %s", len(ins), num("COFFER_GATE_RECORDS", gbRecords), dir)
}
