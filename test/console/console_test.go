package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	_ "modernc.org/sqlite"
)

// screenshotDir is where the pages' PNGs go: $COFFER_SCREENSHOTS, else
// test/console/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("COFFER_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Last run's shots, so that the folder shows this run only.
	old, _ := filepath.Glob(filepath.Join(abs, "[0-9][0-9]-*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	return abs
}

// page drives one headless Chromium tab.
type page struct {
	t     *testing.T
	ctx   context.Context
	shots string
	n     int
}

func newPage(t *testing.T) *page {
	t.Helper()
	chromium := need(t, "chromium", ".ci/run installs it: apt-get install -y chromium")
	ud := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(ud), chromedp.WindowSize(1366, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return &page{t: t, ctx: ctx, shots: screenshotDir(t)}
}

// open navigates and returns the HTTP status of the document.
func (p *page) open(u string) int64 {
	p.t.Helper()
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		p.t.Fatalf("navigate %s: %v", u, err)
	}
	return resp.Status
}

// click clicks and waits for the navigation it causes; it returns the status.
func (p *page) click(sel string) int64 {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (p *page) location() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return loc
}

// has reports whether the selector matches anything on the page.
func (p *page) has(sel string) bool {
	p.t.Helper()
	return eval[bool](p, fmt.Sprintf("document.querySelector(%q) !== null", sel))
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot writes a full-page PNG.
func (p *page) shot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	p.n++
	file := filepath.Join(p.shots, fmt.Sprintf("%02d-%s.png", p.n, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// signIn fills the sign-in form.
func (p *page) signIn(base, key, secret string) {
	p.t.Helper()
	p.open(base + "/console/")
	if !strings.Contains(p.location(), "/console/login?next=") {
		p.t.Fatalf("not sent to the sign-in page: %s", p.location())
	}
	p.do(chromedp.SendKeys(chromedp.ID("access_key_id"), key), chromedp.SendKeys(chromedp.ID("secret_access_key"), secret))
	if status := p.click("#sign-in"); status != 200 || !p.has("#principal") {
		p.t.Fatalf("sign-in: %d at %s", status, p.location())
	}
}

// rootCredentials reads the root key pair coffer wrote.
func rootCredentials(t *testing.T, dataDir string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "root-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id\s*=\s*(\S+)`).FindSubmatch(b)
	secret := regexp.MustCompile(`aws_secret_access_key\s*=\s*(\S+)`).FindSubmatch(b)
	if id == nil || secret == nil {
		t.Fatalf("root-credentials: %s", b)
	}
	return string(id[1]), string(secret[1])
}

// publish publishes one generic asset with the aws CLI (SHA-256 checked).
func publish(t *testing.T, aws *awsCLI, ns, pkg, version, asset string, content []byte, unfinished bool) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(aws.dir, asset), content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	args := []string{"publish-package-version", "--domain", "acme", "--repository", "app", "--format", "generic", "--namespace", ns,
		"--package", pkg, "--package-version", version, "--asset-content", asset, "--asset-name", asset, "--asset-sha256", hex.EncodeToString(sum[:])}
	if unfinished {
		args = append(args, "--unfinished")
	}
	aws.ca(args...)
}

// setReadme gives a version a readme. The generic format has none and the
// formats that carry one (npm, PyPI, ...) come later, so the test writes the
// column the way their publish will, in the running coffer's own database.
func setReadme(t *testing.T, dataDir, ns, pkg, version, readme string) {
	t.Helper()
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.Join(dataDir, "metadata.db")}).String() + "?_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE versions SET readme = ? WHERE version = ? AND package_id IN (
		SELECT p.id FROM packages p JOIN repositories r ON r.id = p.repository_id WHERE r.name = 'app' AND p.namespace = ? AND p.name = ?)`,
		readme, version, ns, pkg)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("readme: %d rows updated", n)
	}
}

type row map[string]string

// cliTime reads a timestamp the aws CLI printed: v1 prints the wire's epoch
// seconds, v2 an ISO 8601 string.
func cliTime(v any) time.Time {
	switch x := v.(type) {
	case float64:
		sec := int64(x)
		return time.Unix(sec, int64((x-float64(sec))*1e9)).UTC()
	case string:
		t, _ := time.Parse(time.RFC3339Nano, x)
		return t
	}
	return time.Time{}
}

// rows reads a table's body rows: cell text (a <time>'s datetime, "" for the
// "—" of an empty value) by the cell's first class.
func rows(p *page, table string) []row {
	p.t.Helper()
	return eval[[]row](p, `Array.from(document.querySelectorAll(`+"`#"+table+` tbody tr:not(.empty-row)`+"`"+`)).map(tr =>
		Object.fromEntries(Array.from(tr.querySelectorAll("td")).map(td => {
			const t = td.querySelector("time");
			const cls = td.classList.contains("num") ? td.classList[1] : td.classList[0];
			return [cls, t ? t.getAttribute("datetime") : td.querySelector(".none") ? "" : td.innerText.trim()];
		})))`)
}

func TestConsoleInChromium(t *testing.T) {
	p := newPage(t) // fails at once without chromium
	c := startCoffer(t, t.TempDir())
	root := newAWSCLI(t, c, filepath.Join(c.DataDir, "root-credentials"))
	rootKey, rootSecret := rootCredentials(t, c.DataDir)

	// Data, through the real aws CLI: app → team → npm-store → public:npmjs,
	// and team also names a repository that was deleted since.
	owner := str(root.ca("create-domain", "--domain", "acme"), "domain", "owner")
	root.ca("create-repository", "--domain", "acme", "--repository", "npm-store", "--description", "Cache of npmjs.com")
	root.ca("associate-external-connection", "--domain", "acme", "--repository", "npm-store", "--external-connection", "public:npmjs")
	root.ca("create-repository", "--domain", "acme", "--repository", "old-mirror")
	root.ca("create-repository", "--domain", "acme", "--repository", "team", "--description", "Shared team packages",
		"--upstreams", "repositoryName=npm-store", "repositoryName=old-mirror")
	root.ca("delete-repository", "--domain", "acme", "--repository", "old-mirror")
	root.ca("create-repository", "--domain", "acme", "--repository", "app", "--description", "Build artifacts of the app",
		"--upstreams", "repositoryName=team")
	cli100 := []byte("cli 1.0.0 build\n")
	cli110 := []byte("cli 1.1.0 build, faster\n")
	publish(t, root, "tools", "cli", "1.0.0", "cli-1.0.0.tar.gz", cli100, false)
	publish(t, root, "tools", "cli", "1.1.0", "cli-1.1.0.tar.gz", cli110, false)
	publish(t, root, "tools", "lib", "2.0.0", "lib-2.0.0.tar.gz", bytes.Repeat([]byte("library "), 4096), true)
	publish(t, root, "tools", "lib", "2.0.0", "lib-2.0.0.sbom.json", []byte(`{"bomFormat":"CycloneDX"}`), false)
	publish(t, root, "docs", "handbook", "0.1.0", "handbook.pdf", []byte("%PDF-1.4 handbook\n"), false)
	root.ca("put-package-origin-configuration", "--domain", "acme", "--repository", "app", "--format", "generic", "--namespace", "tools",
		"--package", "reserved", "--restrictions", "publish=BLOCK,upstream=BLOCK")
	setReadme(t, c.DataDir, "tools", "cli", "1.1.0", "# cli\n\nThe **team** command line.\n\n<script>document.title='pwned-script'</script>\n\n"+
		"<img src=x onerror=\"document.title='pwned-img'\">\n\n[docs](javascript:document.title='pwned-link') · [home](https://example.com/cli)\n")

	// A read-only IAM user, with the real aws CLI against coffer's IAM API.
	root.ok("iam", "create-user", "--user-name", "auditor")
	key := root.ok("iam", "create-access-key", "--user-name", "auditor")
	readerKey, readerSecret := str(key, "AccessKey", "AccessKeyId"), str(key, "AccessKey", "SecretAccessKey")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codeartifact:Describe*","codeartifact:List*","codeartifact:Get*"],"Resource":"*"}]}`
	root.ok("iam", "put-user-policy", "--user-name", "auditor", "--policy-name", "read-only", "--policy-document", policy)

	// ---- root: sign in and browse domain → repository → package → version ----
	p.open(c.URL + "/console/")
	p.shot("sign-in")
	p.signIn(c.URL, rootKey, rootSecret)
	if got := rows(p, "domains"); len(got) != 1 || got[0]["name"] != "acme" || got[0]["repositories"] != "3" {
		t.Fatalf("domains table: %v", got)
	}
	p.shot("domains")
	p.click(`#domains a[href="/console/domains/acme/"]`)
	desc := root.ca("describe-domain", "--domain", "acme")
	if p.text("#repository-count") != fmt.Sprint(get(desc, "domain", "repositoryCount")) || p.text("#asset-count") != "5" {
		t.Fatalf("domain summary: %s repositories (API %v), %s assets (5 published)", p.text("#repository-count"),
			get(desc, "domain", "repositoryCount"), p.text("#asset-count"))
	}
	if got, want := eval[string](p, `document.getElementById("storage-used").dataset.bytes`), fmt.Sprint(get(desc, "domain", "assetSizeBytes")); got != want {
		t.Errorf("storage used %s bytes, describe-domain says %s", got, want)
	}
	if !p.has("#get-token") || !p.has("#domain-policy-none") {
		t.Error("domain page lacks the token button or the policy section")
	}
	p.shot("domain")

	p.click(`#repositories a[href="/console/domains/acme/repositories/app/"]`)
	if p.text("#repository-description") != "Build artifacts of the app" {
		t.Errorf("description %q", p.text("#repository-description"))
	}
	// The packages table against the API.
	list := root.ca("list-packages", "--domain", "acme", "--repository", "app")
	table := rows(p, "packages")
	apiPkgs, _ := get(list, "packages").([]any)
	if len(table) != len(apiPkgs) || len(table) != 4 {
		t.Fatalf("packages table has %d rows, list-packages %d: %v", len(table), len(apiPkgs), table)
	}
	for i, ap := range apiPkgs {
		r := table[i]
		want := row{"name": str(ap, "package"), "namespace": str(ap, "namespace"), "format": str(ap, "format"),
			"publish": str(ap, "originConfiguration", "restrictions", "publish"), "upstream": str(ap, "originConfiguration", "restrictions", "upstream")}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("row %d %s = %q, API says %q", i, k, r[k], v)
			}
		}
		versions := root.ca("list-package-versions", "--domain", "acme", "--repository", "app", "--format", "generic",
			"--namespace", want["namespace"], "--package", want["name"])
		latest := str(versions, "defaultDisplayVersion")
		if r["latest-version"] != latest {
			t.Errorf("%s latest version %q, API defaultDisplayVersion %q", want["name"], r["latest-version"], latest)
		}
		if latest == "" {
			if r["latest-published"] != "" {
				t.Errorf("%s has a publish date without versions: %q", want["name"], r["latest-published"])
			}
			continue
		}
		pv := root.ca("describe-package-version", "--domain", "acme", "--repository", "app", "--format", "generic",
			"--namespace", want["namespace"], "--package", want["name"], "--package-version", latest)
		apiTime := cliTime(get(pv, "packageVersion", "publishedTime"))
		pageTime, err := time.Parse(time.RFC3339, r["latest-published"])
		if err != nil || apiTime.IsZero() || !apiTime.Truncate(time.Second).Equal(pageTime) {
			t.Errorf("%s latest publish date %q, API %v", want["name"], r["latest-published"], get(pv, "packageVersion", "publishedTime"))
		}
	}
	// The package flow diagram.
	nodes := eval[[]string](p, `Array.from(document.querySelectorAll("#package-flow .flow-node")).map(g => g.classList[1] + ":" + g.dataset.name)`)
	for _, want := range []string{"flow-this:app", "flow-repository:team", "flow-repository:npm-store", "flow-external:public:npmjs", "flow-missing:old-mirror"} {
		if !strings.Contains(strings.Join(nodes, " "), want) {
			t.Errorf("flow lacks %s: %v", want, nodes)
		}
	}
	p.shot("repository")

	// Filter: format and name prefix (server side, by GET form).
	p.do(chromedp.SendKeys(chromedp.ID("f-prefix"), "li"))
	p.click("#filter-apply")
	if got := rows(p, "packages"); len(got) != 1 || got[0]["name"] != "lib" || !strings.Contains(p.location(), "prefix=li") {
		t.Fatalf("filtered table: %v at %s", got, p.location())
	}
	p.shot("repository-filtered")

	p.open(c.URL + "/console/domains/acme/repositories/app/")
	p.click(`#packages td.name a[href*="package=cli"]`)
	if got := rows(p, "versions"); len(got) != 2 || got[0]["version"] != "1.0.0" || got[0]["status"] != "Published" || got[0]["origin-type"] != "INTERNAL" {
		t.Fatalf("versions table: %v", got)
	}
	p.shot("package")

	// Change an origin control in the UI; the API reports it.
	p.do(chromedp.Click(chromedp.ID("publish-block")), chromedp.Click(chromedp.ID("upstream-allow")))
	if status := p.click("#origin-save"); status != 200 || p.text("#notice") != "Origin controls saved." {
		t.Fatalf("origin form: %d %q", status, p.text("#notice"))
	}
	dp := root.ca("describe-package", "--domain", "acme", "--repository", "app", "--format", "generic", "--namespace", "tools", "--package", "cli")
	if str(dp, "package", "originConfiguration", "restrictions", "publish") != "BLOCK" || str(dp, "package", "originConfiguration", "restrictions", "upstream") != "ALLOW" {
		t.Fatalf("describe-package after the UI change: %v", dp)
	}
	p.shot("package-origin-saved")

	// Version page: assets and hashes against list-package-version-assets; the readme renders inert.
	p.click(`#versions td.version a[href*="version=1.1.0"]`)
	assets := root.ca("list-package-version-assets", "--domain", "acme", "--repository", "app", "--format", "generic",
		"--namespace", "tools", "--package", "cli", "--package-version", "1.1.0")
	pageAssets := eval[[]row](p, `Array.from(document.querySelectorAll("#assets tbody tr:not(.empty-row)")).map(tr => ({
		name: tr.querySelector(".asset-name").innerText.trim(), size: tr.querySelector("td.size").dataset.bytes,
		md5: tr.querySelector("code.md5").innerText, sha1: tr.querySelector("code.sha1").innerText,
		sha256: tr.querySelector("code.sha256").innerText, sha512: tr.querySelector("code.sha512").innerText}))`)
	apiAssets, _ := get(assets, "assets").([]any)
	if len(pageAssets) != 1 || len(apiAssets) != 1 {
		t.Fatalf("assets: page %v, API %v", pageAssets, apiAssets)
	}
	a := apiAssets[0]
	want := row{"name": str(a, "name"), "size": fmt.Sprint(get(a, "size")), "md5": str(a, "hashes", "MD5"), "sha1": str(a, "hashes", "SHA-1"),
		"sha256": str(a, "hashes", "SHA-256"), "sha512": str(a, "hashes", "SHA-512")}
	for k, v := range want {
		if pageAssets[0][k] != v || v == "" {
			t.Errorf("asset %s: page %q, API %q", k, pageAssets[0][k], v)
		}
	}
	if title := eval[string](p, "document.title"); strings.Contains(title, "pwned") {
		t.Fatalf("the readme ran script: title %q", title)
	}
	readme := eval[string](p, `document.getElementById("readme").innerHTML`)
	if !strings.Contains(readme, "<strong>team</strong>") || strings.Contains(readme, "<script") || strings.Contains(readme, "onerror") ||
		strings.Contains(readme, "javascript:") || !strings.Contains(readme, "nofollow") {
		t.Fatalf("readme HTML: %s", readme)
	}
	p.shot("version")

	// Update a version's status in the UI.
	p.open(c.URL + "/console/domains/acme/repositories/app/version?format=generic&namespace=tools&package=cli&version=1.0.0")
	p.do(chromedp.SetValue(chromedp.ID("status-target"), "Unlisted"))
	if status := p.click("#status-save"); status != 200 || p.text("#version-status") != "Unlisted" {
		t.Fatalf("status form: %d %q", status, p.text("#version-status"))
	}
	pv := root.ca("describe-package-version", "--domain", "acme", "--repository", "app", "--format", "generic",
		"--namespace", "tools", "--package", "cli", "--package-version", "1.0.0")
	if str(pv, "packageVersion", "status") != "Unlisted" {
		t.Fatalf("describe-package-version after the UI change: %v", pv)
	}
	p.shot("version-unlisted")

	// Connection instructions with the real endpoint.
	p.open(c.URL + "/console/domains/acme/repositories/app/")
	p.click("#connect-link")
	ep := str(root.ca("get-repository-endpoint", "--domain", "acme", "--repository", "app", "--format", "maven"), "repositoryEndpoint")
	if p.text("#endpoint") != ep || !strings.Contains(p.text("#code-maven-settings"), "<url>"+ep+"</url>") ||
		!strings.Contains(p.text("#code-maven-settings"), "<mirrorOf>*</mirrorOf>") {
		t.Fatalf("maven instructions: endpoint %q (API %q)\n%s", p.text("#endpoint"), ep, p.text("#code-maven-settings"))
	}
	p.shot("connect-maven")
	p.click("#tab-npm")
	npmEP := str(root.ca("get-repository-endpoint", "--domain", "acme", "--repository", "app", "--format", "npm"), "repositoryEndpoint")
	if !strings.Contains(p.text("#code-npmrc"), "registry="+npmEP) {
		t.Fatalf("npmrc: %s", p.text("#code-npmrc"))
	}
	p.shot("connect-npm")
	p.click("#tab-pip")
	p.shot("connect-pip")

	// Mint a token in the UI and use it on the data plane.
	p.click("#get-token")
	token := eval[string](p, `document.getElementById("token").value`)
	if len(token) < 40 {
		t.Fatalf("token %q", token)
	}
	p.shot("token")
	genericEP := str(root.ca("get-repository-endpoint", "--domain", "acme", "--repository", "app", "--format", "generic"), "repositoryEndpoint")
	req, _ := http.NewRequest(http.MethodGet, genericEP+"tools/cli/1.1.0/cli-1.1.0.tar.gz", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, cli110) {
		t.Fatalf("asset with the console's token: %d %q", resp.StatusCode, body)
	}
	if strings.Contains(c.Logs.String(), token) {
		t.Fatal("the token appears in coffer's log")
	}

	// Package groups: a group made with the aws CLI, on its page and on the package's.
	root.ca("create-package-group", "--domain", "acme", "--package-group", "/generic/tools/*", "--description", "Team tools",
		"--contact-info", "team@example.com")
	root.ca("update-package-group-origin-configuration", "--domain", "acme", "--package-group", "/generic/tools/*",
		"--restrictions", "EXTERNAL_UPSTREAM=BLOCK")
	p.open(c.URL + "/console/domains/acme/groups")
	groups := eval[[]row](p, `Array.from(document.querySelectorAll("#package-groups tbody tr")).map(tr => ({
		pattern: tr.querySelector(".pattern").innerText.trim(), parent: tr.querySelector(".parent").innerText.trim(),
		external: tr.querySelector(".restriction-EXTERNAL_UPSTREAM .badge").innerText.trim(),
		publish: tr.querySelector(".restriction-PUBLISH .badge").innerText.trim()}))`)
	if len(groups) != 2 || groups[0]["pattern"] != "/*" || groups[1]["pattern"] != "/generic/tools/*" || groups[1]["parent"] != "/*" ||
		groups[1]["external"] != "BLOCK" || groups[1]["publish"] != "ALLOW" {
		t.Fatalf("package groups table: %v", groups)
	}
	p.shot("package-groups")
	p.open(c.URL + "/console/domains/acme/repositories/app/package?format=generic&namespace=tools&package=cli")
	assoc := root.ca("get-associated-package-group", "--domain", "acme", "--format", "generic", "--namespace", "tools", "--package", "cli")
	if p.text("#package-group") != str(assoc, "packageGroup", "pattern") {
		t.Fatalf("package page group %q, API %q", p.text("#package-group"), str(assoc, "packageGroup", "pattern"))
	}
	p.shot("package-with-group")
	if status := p.open(c.URL + "/console/domains/acme/repositories/team/flow.svg"); status != 200 {
		t.Fatalf("flow.svg: %d", status)
	}
	p.shot("flow-svg")

	// Sign out.
	p.open(c.URL + "/console/")
	p.click("#logout-form button")
	if !strings.Contains(p.location(), "/console/login") {
		t.Fatalf("after sign-out: %s", p.location())
	}
	if status := p.open(c.URL + "/console/domains/acme/"); status != 200 || !strings.Contains(p.location(), "/console/login?next=") {
		t.Fatalf("signed-out page: %d %s", status, p.location())
	}

	// ---- the read-only user: no action forms, and a forged POST is refused ----
	p.signIn(c.URL, readerKey, readerSecret)
	if !strings.Contains(p.text("#principal"), ":user/auditor") {
		t.Fatalf("principal %q", p.text("#principal"))
	}
	p.open(c.URL + "/console/domains/acme/")
	if p.has("#get-token") {
		t.Error("the reader sees the token button (no sts:GetServiceBearerToken)")
	}
	pkgURL := c.URL + "/console/domains/acme/repositories/app/package?format=generic&namespace=docs&package=handbook"
	p.open(pkgURL)
	if p.has("#origin-form") || !p.has("#origin-readonly") {
		t.Fatal("the reader sees the origin form")
	}
	p.shot("reader-package")
	p.open(c.URL + "/console/domains/acme/repositories/app/version?format=generic&namespace=docs&package=handbook&version=0.1.0")
	for _, form := range []string{"#status-form", "#delete-form", "#dispose-form"} {
		if p.has(form) {
			t.Errorf("the reader sees %s", form)
		}
	}
	p.shot("reader-version")
	// Forge the origin-control form in the reader's own page, with the reader's own CSRF token.
	p.open(pkgURL)
	status, err := chromedp.RunResponse(p.ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.createElement("form");
		f.method = "post";
		f.action = "/console/domains/acme/repositories/app/package/origin";
		const add = (k, v) => { const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i); };
		add("csrf", document.querySelector("#logout-form input[name=csrf]").value);
		add("format", "generic"); add("namespace", "docs"); add("package", "handbook");
		add("publish", "BLOCK"); add("upstream", "ALLOW");
		document.body.appendChild(f);
		f.submit();
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if status.Status != http.StatusForbidden || !strings.Contains(p.text("#error"), "not authorized to perform: codeartifact:PutPackageOriginConfiguration") {
		t.Fatalf("forged POST as the reader: %d %q", status.Status, p.text("#error"))
	}
	p.shot("reader-forged-post-refused")
	dp = root.ca("describe-package", "--domain", "acme", "--repository", "app", "--format", "generic", "--namespace", "docs", "--package", "handbook")
	if str(dp, "package", "originConfiguration", "restrictions", "publish") != "ALLOW" || str(dp, "package", "originConfiguration", "restrictions", "upstream") != "BLOCK" {
		t.Fatalf("the refused POST changed the package: %v", dp)
	}
	audit, err := os.ReadFile(filepath.Join(c.DataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	denied := regexp.MustCompile(`"principal":"arn:aws:iam::` + owner + `:user/auditor"[^\n]*"action":"codeartifact:PutPackageOriginConfiguration"[^\n]*"decision":"deny"`)
	allowed := regexp.MustCompile(`"principal":"arn:aws:iam::` + owner + `:root"[^\n]*"action":"codeartifact:PutPackageOriginConfiguration"[^\n]*"decision":"allow"`)
	if !denied.Match(audit) || !allowed.Match(audit) || strings.Contains(string(audit), rootSecret) || strings.Contains(string(audit), token) {
		t.Fatalf("audit log:\n%s", audit)
	}
	t.Logf("screenshots in %s", p.shots)
}
