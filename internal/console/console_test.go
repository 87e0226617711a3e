package console

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/store"
)

const (
	appRepo    = "/console/domains/acme/repositories/app/"
	versionURI = appRepo + "version?format=generic&namespace=tools&package=tool&version=1.0.0"
	packageURI = appRepo + "package?format=generic&namespace=tools&package=tool"
)

func TestBrowseAsRoot(t *testing.T) {
	h := newHarness(t)
	asset := h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)

	r := b.get("/console/")
	if r.StatusCode != 200 || !strings.Contains(r.body, `href="/console/domains/acme/"`) || !strings.Contains(r.body, `id="principal"`) {
		t.Fatalf("domains page: %d\n%s", r.StatusCode, r.body)
	}
	for _, hd := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if r.Header.Get(hd) == "" {
			t.Errorf("missing %s", hd)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}

	r = b.get("/console/domains/acme/")
	for _, want := range []string{`id="repositories"`, `href="/console/domains/acme/repositories/app/"`, `id="domain-policy-none"`, `id="get-token"`, `id="storage-used" data-bytes="15"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("domain page lacks %s", want)
		}
	}

	r = b.get(appRepo)
	if r.StatusCode != 200 {
		t.Fatalf("repository page: %d\n%s", r.StatusCode, r.body)
	}
	rows := tableRows(t, r.body, "packages")
	if len(rows) != 1 {
		t.Fatalf("packages rows: %v", rows)
	}
	row := rows[0]
	v, _ := h.svc.DescribePackageVersion(context.Background(), h.ref("1.0.0"))
	want := map[string]string{"name": "tool", "namespace": "tools", "format": "generic", "latest-version": "1.0.0",
		"latest-published": v.PublishedTime.UTC().Format("2006-01-02 15:04:05 UTC"), "publish": "ALLOW", "upstream": "BLOCK"}
	for k, w := range want {
		if row[k] != w {
			t.Errorf("packages cell %s = %q, want %q", k, row[k], w)
		}
	}
	// The flow: app (1) ← team (2) ← store (3) ← public:npmjs, and "gone" missing.
	for _, want := range []string{`class="flow-node flow-this" data-name="app"`, `class="flow-node flow-repository" data-name="team"`,
		`class="flow-node flow-external" data-name="public:npmjs"`, `class="flow-node flow-missing" data-name="gone"`, `gone (missing)`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("repository page lacks %s", want)
		}
	}

	r = b.get(packageURI)
	if !strings.Contains(r.body, `id="origin-form"`) || len(tableRows(t, r.body, "versions")) != 1 {
		t.Fatalf("package page:\n%s", r.body)
	}

	r = b.get(versionURI)
	rows = tableRows(t, r.body, "assets")
	if len(rows) != 1 {
		t.Fatalf("asset rows: %v", rows)
	}
	sums := map[string]string{"md5": hexOf(md5.Sum(asset)), "sha1": hexOf(sha1.Sum(asset)), "sha256": hexOf(sha256.Sum256(asset)), "sha512": hexOf(sha512.Sum512(asset))}
	for k, w := range sums {
		if !strings.Contains(rows[0]["hashes"], w) || !strings.Contains(r.body, `<code class="`+k+`">`+w+`</code>`) {
			t.Errorf("%s: want %s in %q", k, w, rows[0]["hashes"])
		}
	}
	for _, want := range []string{`id="status-form"`, `id="delete-form"`, `id="dispose-form"`, `id="no-dependencies"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("version page lacks %s", want)
		}
	}
	link := regexp.MustCompile(`href="(/console/[^"]*asset\?[^"]*)"`).FindStringSubmatch(r.body)
	if link == nil {
		t.Fatal("no download link")
	}
	r = b.get(html.UnescapeString(link[1]))
	if r.StatusCode != 200 || r.body != string(asset) || r.Header.Get("Content-Disposition") != `attachment; filename=tool.tar.gz` {
		t.Fatalf("download: %d %q %q", r.StatusCode, r.Header.Get("Content-Disposition"), r.body)
	}

	if _, err := h.svc.CreatePackageGroup(context.Background(), artifact.DomainRef{Name: "acme"}, "/generic/tools/*", "team@example.com", "Team tools", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.UpdatePackageGroupOriginConfiguration(context.Background(), artifact.DomainRef{Name: "acme"}, "/generic/tools/*",
		artifact.GroupOriginUpdate{Restrictions: map[string]string{"EXTERNAL_UPSTREAM": "BLOCK"}}); err != nil {
		t.Fatal(err)
	}
	r = b.get("/console/domains/acme/groups")
	groups := tableRows(t, r.body, "package-groups")
	if len(groups) != 2 || groups[0]["pattern"] != "/*" || groups[1]["pattern"] != "/generic/tools/*" || groups[1]["parent"] != "/*" ||
		!strings.HasPrefix(groups[1]["restriction"], "ALLOW inherited from /*") || !strings.Contains(r.body, `restriction-EXTERNAL_UPSTREAM"><span class="badge mode-BLOCK">BLOCK`) {
		t.Fatalf("groups: %v", groups)
	}
	if r := b.get(packageURI); !strings.Contains(r.body, `id="package-group">/generic/tools/*</a>`) {
		t.Errorf("the package page does not name the package's group")
	}
	for _, p := range []string{appRepo + "connect?client=maven", appRepo + "connect?client=npm", appRepo + "flow.svg"} {
		if r := b.get(p); r.StatusCode != 200 {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	if r := b.get("/console/domains/nope/"); r.StatusCode != 404 {
		t.Errorf("unknown domain: %d", r.StatusCode)
	}
	if r := b.get("/console/nowhere"); r.StatusCode != 404 {
		t.Errorf("unknown page: %d", r.StatusCode)
	}
}

func hexOf[T [16]byte | [20]byte | [32]byte | [64]byte](sum T) string {
	switch s := any(sum).(type) {
	case [16]byte:
		return hex.EncodeToString(s[:])
	case [20]byte:
		return hex.EncodeToString(s[:])
	case [32]byte:
		return hex.EncodeToString(s[:])
	case [64]byte:
		return hex.EncodeToString(s[:])
	}
	return ""
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<td class="([^"]+)"[^>]*>(.*?)</td>`)
	tagRE  = regexp.MustCompile(`<[^>]+>`)
	spaceR = regexp.MustCompile(`\s+`)
)

// tableRows returns the body rows of the table with the id, cell text by
// the cell's first class.
func tableRows(t *testing.T, page, id string) []map[string]string {
	t.Helper()
	i := strings.Index(page, `<table class="table`)
	j := strings.Index(page, `id="`+id+`"`)
	if j < 0 || i < 0 {
		t.Fatalf("no table %s", id)
	}
	rest := page[j:]
	body := rest[strings.Index(rest, "<tbody>"):strings.Index(rest, "</tbody>")]
	var out []map[string]string
	for _, row := range rowRE.FindAllStringSubmatch(body, -1) {
		cells := map[string]string{}
		for _, c := range cellRE.FindAllStringSubmatch(row[1], -1) {
			cls, _, _ := strings.Cut(c[1], " ")
			if cls == "num" {
				cls = strings.Fields(c[1])[1]
			}
			cells[cls] = strings.TrimSpace(spaceR.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(c[2], " ")), " "))
		}
		out = append(out, cells)
	}
	return out
}

func TestSignInFailures(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	for _, c := range []struct{ key, secret, token string }{
		{rootKey, "wrong", ""}, {"AKIAUNKNOWN000000001", rootSecret, ""}, {"", "", ""}, {rootKey, rootSecret, "unexpected-session-token"},
	} {
		r := b.trySignIn(c.key, c.secret, c.token, "")
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, `id="login-error"`) || b.cookie(sessionCookie) != nil {
			t.Errorf("sign-in %q/%q: %d", c.key, c.secret, r.StatusCode)
		}
	}
	// Without the sign-in form's double-submit token.
	r := b.post("/console/login", url.Values{"access_key_id": {rootKey}, "secret_access_key": {rootSecret}})
	if r.StatusCode != http.StatusForbidden || b.cookie(sessionCookie) != nil {
		t.Errorf("sign-in without token: %d", r.StatusCode)
	}
	// From another site.
	page := b.get("/console/login")
	tok := csrfField.FindStringSubmatch(page.body)[1]
	r = b.post("/console/login", url.Values{"csrf": {tok}, "access_key_id": {rootKey}, "secret_access_key": {rootSecret}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.StatusCode != http.StatusForbidden || b.cookie(sessionCookie) != nil {
		t.Errorf("cross-site sign-in: %d", r.StatusCode)
	}
}

func TestTemporaryCredentials(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	if r := b.trySignIn(tempKey, tempSecret, "", ""); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, "session token") {
		t.Fatalf("temporary key without its token: %d", r.StatusCode)
	}
	if r := b.trySignIn(tempKey, tempSecret, "wrong-token", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("temporary key with a wrong token: %d", r.StatusCode)
	}
	r := b.trySignIn(tempKey, tempSecret, tempToken, "")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("temporary key with its token: %d\n%s", r.StatusCode, r.body)
	}
	for _, c := range r.Cookies() {
		if c.Name == sessionCookie && (c.MaxAge > 3600 || c.MaxAge < 3500) {
			t.Errorf("the session outlives the role session: max-age %d", c.MaxAge)
		}
	}
	if r := b.get("/console/"); r.StatusCode != 200 || !strings.Contains(r.body, roleARN) {
		t.Fatalf("signed in with temporary credentials: %d", r.StatusCode)
	}
	h.advance(time.Hour)
	if r := b.get("/console/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after the role session expired: %d", r.StatusCode)
	}
}

func TestGzipAndMaskedCSRF(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	first := b.csrf
	b.get("/console/")
	if b.csrf == first {
		t.Fatal("the CSRF token is the same in two responses")
	}
	for _, tok := range []string{first, b.csrf} {
		r := b.post(appRepo+"package/origin", url.Values{"csrf": {tok}, "format": {"generic"}, "namespace": {"tools"}, "package": {"tool"},
			"publish": {"ALLOW"}, "upstream": {"BLOCK"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Errorf("masked token %d: %d", len(tok), r.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+appRepo, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("repository page: Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	css, _ := staticURL("console.css")
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+css, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
	}
}

func TestSessionCookie(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	r := b.trySignIn(rootKey, rootSecret, "", "")
	var set *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == sessionCookie {
			set = c
		}
	}
	if set == nil || !set.HttpOnly || set.SameSite != http.SameSiteStrictMode || set.Path != "/console/" || set.MaxAge < 7*3600 || set.MaxAge > 8*3600 {
		t.Fatalf("session cookie %+v", set)
	}
	if strings.Contains(set.Value, rootKey) || strings.Contains(set.Value, rootSecret) {
		t.Fatal("the cookie shows the key")
	}
	if r := b.get("/console/"); r.StatusCode != 200 {
		t.Fatalf("signed in: %d", r.StatusCode)
	}

	// Tampered: every flipped byte makes it invalid.
	good := set.Value
	for _, i := range []int{0, len(good) / 2, len(good) - 1} {
		bad := []byte(good)
		bad[i] ^= 1
		if bad[i] == '-' || bad[i] == '_' || (bad[i] >= '0' && bad[i] <= '9') || (bad[i] >= 'A' && bad[i] <= 'Z') || (bad[i] >= 'a' && bad[i] <= 'z') {
			b.setCookie(sessionCookie, string(bad))
			if r := b.get("/console/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/console/login?next=") {
				t.Errorf("tampered cookie (byte %d): %d", i, r.StatusCode)
			}
		}
	}
	b.setCookie(sessionCookie, "garbage")
	if r := b.get("/console/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("garbage cookie: %d", r.StatusCode)
	}
	// A value sealed for another purpose does not open as a session.
	other := h.console.cfg.Sealer.Seal([]byte(`{"k":"`+rootKey+`"}`), "something-else")
	b.setCookie(sessionCookie, encodeKey(string(other)))
	if r := b.get("/console/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("foreign sealed value: %d", r.StatusCode)
	}

	// Expiry: valid until 8 h, not after.
	b.setCookie(sessionCookie, good)
	h.advance(8*time.Hour - time.Minute)
	if r := b.get("/console/"); r.StatusCode != 200 {
		t.Errorf("before expiry: %d", r.StatusCode)
	}
	h.advance(2 * time.Minute)
	if r := b.get("/console/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after expiry: %d", r.StatusCode)
	}

	// Deactivating the key signs out at once.
	b2 := h.browser()
	b2.signIn(readerKey, readerSecret)
	h.keys.deactivate(readerKey)
	r = b2.get("/console/domains/acme/")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), url.QueryEscape("/console/domains/acme/")) {
		t.Errorf("deactivated key: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// Sign-out clears the cookie.
	b3 := h.browser()
	b3.signIn(rootKey, rootSecret)
	r = b3.post("/console/logout", url.Values{"csrf": {b3.csrf}})
	if r.StatusCode != http.StatusSeeOther || b3.cookie(sessionCookie) != nil {
		t.Errorf("sign-out: %d, cookie %v", r.StatusCode, b3.cookie(sessionCookie))
	}
	if r := b3.get("/console/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", r.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "format": {"generic"}, "namespace": {"tools"}, "package": {"tool"}, "publish": {"BLOCK"}, "upstream": {"ALLOW"}}
	}
	other := h.browser()
	other.signIn(rootKey, rootSecret)
	for name, c := range map[string]struct {
		form    url.Values
		headers []string
	}{
		"missing":            {form(""), nil},
		"wrong":              {form(strings.Repeat("A", len(b.csrf))), nil},
		"another session's":  {form(other.csrf), nil},
		"cross-site fetch":   {form(b.csrf), []string{"Sec-Fetch-Site", "cross-site"}},
		"same-site fetch":    {form(b.csrf), []string{"Sec-Fetch-Site", "same-site"}},
		"foreign origin":     {form(b.csrf), []string{"Origin", "https://evil.example"}},
		"opaque origin":      {form(b.csrf), []string{"Origin", "null"}},
		"scheme-less origin": {form(b.csrf), []string{"Origin", "evil.example"}},
	} {
		r := b.post(appRepo+"package/origin", c.form, c.headers...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d", name, r.StatusCode)
		}
	}
	p, _ := h.svc.DescribePackage(context.Background(), h.ref("").PackageRef)
	if p.Publish != "ALLOW" || p.Upstream != "BLOCK" {
		t.Fatalf("a refused form changed the package: %+v", p)
	}
	r := b.post(appRepo+"package/origin", form(b.csrf), "Origin", h.srv.URL, "Sec-Fetch-Site", "same-origin")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=origin") {
		t.Fatalf("valid form: %d\n%s", r.StatusCode, r.body)
	}
	p, _ = h.svc.DescribePackage(context.Background(), h.ref("").PackageRef)
	if p.Publish != "BLOCK" || p.Upstream != "ALLOW" {
		t.Fatalf("origin controls not saved: %+v", p)
	}
	// No session at all.
	anon := h.browser()
	if r := anon.post(appRepo+"package/origin", form(b.csrf)); r.StatusCode != http.StatusForbidden {
		t.Errorf("no session: %d", r.StatusCode)
	}
}

func TestNextRedirect(t *testing.T) {
	h := newHarness(t)
	h.seed()
	for next, want := range map[string]string{
		"":                                  "/console/",
		"/console/domains/acme/":            "/console/domains/acme/",
		"/console/domains/acme/?after=abc":  "/console/domains/acme/?after=abc",
		"https://evil.example/":             "/console/",
		"//evil.example/console/":           "/console/",
		"/\\evil.example":                   "/console/",
		"/console//evil.example":            "/console/",
		"/console/../v1/domains":            "/console/",
		"/console/%2e%2e/v1":                "/console/",
		"/console/%2F%2Fevil.example":       "/console/",
		"/consolex":                         "/console/",
		"javascript:alert(1)":               "/console/",
		"/console/\r\nSet-Cookie: x=1":      "/console/",
		"/console/domains/acme/\\..\\..\\x": "/console/",
	} {
		b := h.browser()
		r := b.trySignIn(rootKey, rootSecret, "", next)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("next %q: %d → %q, want %q", next, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
	// The redirect to the sign-in page carries the page asked for.
	b := h.browser()
	r := b.get("/console/domains/acme/?x=1")
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/console/login?next="+url.QueryEscape("/console/domains/acme/?x=1") {
		t.Fatalf("redirect to sign-in: %d %q", r.StatusCode, loc)
	}
}

func TestReadOnlyPrincipal(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(readerKey, readerSecret)
	r := b.get(packageURI)
	if r.StatusCode != 200 || strings.Contains(r.body, `id="origin-form"`) || !strings.Contains(r.body, `id="origin-readonly"`) {
		t.Fatalf("package page as reader: %d\n%s", r.StatusCode, r.body)
	}
	r = b.get(versionURI)
	for _, form := range []string{`id="status-form"`, `id="delete-form"`, `id="dispose-form"`, `id="version-actions"`} {
		if strings.Contains(r.body, form) {
			t.Errorf("reader sees %s", form)
		}
	}
	if !strings.Contains(r.body, "Download") {
		t.Error("reader cannot download")
	}
	r = b.get("/console/domains/acme/")
	if strings.Contains(r.body, `id="get-token"`) {
		t.Error("reader sees the token button")
	}
	base := url.Values{"csrf": {b.csrf}, "format": {"generic"}, "namespace": {"tools"}, "package": {"tool"}, "version": {"1.0.0"}}
	with := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for path, c := range map[string]struct {
		form   url.Values
		action string
	}{
		appRepo + "package/origin":    {with("publish", "BLOCK", "upstream", "ALLOW"), auth.ActionPutPackageOriginConfiguration},
		appRepo + "version/status":    {with("status", "Archived"), auth.ActionUpdatePackageVersionsStatus},
		appRepo + "version/delete":    {with("confirm", "yes"), auth.ActionDeletePackageVersions},
		appRepo + "version/dispose":   {with("confirm", "yes"), auth.ActionDisposePackageVersions},
		appRepo + "version/dispose#2": {with(), auth.ActionDisposePackageVersions},
		"/console/domains/acme/token": {with(), auth.ActionGetAuthorizationToken},
	} {
		path, _, _ = strings.Cut(path, "#")
		r := b.post(path, c.form)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "Access denied") {
			t.Errorf("reader POST %s: %d", path, r.StatusCode)
		}
		if !h.authz.denied(c.action) {
			t.Errorf("%s: the denial of %s was not decided by the authorizer", path, c.action)
		}
	}
	v, err := h.svc.DescribePackageVersion(context.Background(), h.ref("1.0.0"))
	p, _ := h.svc.DescribePackage(context.Background(), h.ref("").PackageRef)
	if err != nil || v.Status != "Published" || p.Publish != "ALLOW" {
		t.Fatalf("a refused action changed something: %v %+v %+v", err, v, p)
	}
}

func TestVersionActions(t *testing.T) {
	h := newHarness(t)
	h.seed()
	ctx := context.Background()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	v, _ := h.svc.DescribePackageVersion(ctx, h.ref("1.0.0"))
	coords := url.Values{"csrf": {b.csrf}, "format": {"generic"}, "namespace": {"tools"}, "package": {"tool"}, "version": {"1.0.0"}}
	form := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range coords {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	r := b.post(appRepo+"version/status", form("status", "Unlisted", "revision", v.Revision))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("status: %d\n%s", r.StatusCode, r.body)
	}
	if v, _ := h.svc.DescribePackageVersion(ctx, h.ref("1.0.0")); v.Status != "Unlisted" {
		t.Fatalf("status is %s", v.Status)
	}
	if r := b.post(appRepo+"version/status", form("status", "Archived", "revision", "stale")); r.StatusCode != http.StatusConflict {
		t.Errorf("stale revision: %d", r.StatusCode)
	}
	if r := b.post(appRepo+"version/status", form("status", "Disposed")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("status Disposed: %d", r.StatusCode)
	}
	// Without the confirmation box: a confirmation page, nothing disposed.
	r = b.post(appRepo+"version/dispose", form())
	if r.StatusCode != 200 || !strings.Contains(r.body, `id="confirm-form"`) {
		t.Fatalf("unconfirmed dispose: %d\n%s", r.StatusCode, r.body)
	}
	if v, _ := h.svc.DescribePackageVersion(ctx, h.ref("1.0.0")); v.Status != "Unlisted" {
		t.Fatalf("unconfirmed dispose changed the status to %s", v.Status)
	}
	if r := b.post(appRepo+"version/dispose", form("confirm", "yes")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("dispose: %d\n%s", r.StatusCode, r.body)
	}
	if v, _ := h.svc.DescribePackageVersion(ctx, h.ref("1.0.0")); v.Status != "Disposed" {
		t.Fatalf("after dispose: %s", v.Status)
	}
	if r := b.get(versionURI); strings.Contains(r.body, `id="dispose-form"`) || strings.Contains(r.body, `id="status-form"`) {
		t.Error("a disposed version still offers dispose or status")
	}
	if r := b.post(appRepo+"version/delete", form("confirm", "yes")); r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=deleted") {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if _, err := h.svc.DescribePackageVersion(ctx, h.ref("1.0.0")); err == nil {
		t.Fatal("the version is still there")
	}
	if r := b.get(versionURI); r.StatusCode != 404 {
		t.Errorf("deleted version page: %d", r.StatusCode)
	}
}

func TestMintToken(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	r := b.post("/console/domains/acme/token", url.Values{"csrf": {b.csrf}, "duration": {"3600"}, "return": {appRepo + "connect?client=npm"}})
	if r.StatusCode != 200 || !strings.Contains(r.body, "token-for-"+rootARN+"-acme") || r.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(r.body, `href="`+html.EscapeString(appRepo+"connect?client=npm")+`"`) {
		t.Fatalf("token page: %d\n%s", r.StatusCode, r.body)
	}
	r = b.post("/console/domains/acme/token", url.Values{"csrf": {b.csrf}, "return": {"https://evil.example/"}})
	if !strings.Contains(r.body, `id="token-back">`) || !strings.Contains(r.body, `href="/console/" id="token-back"`) {
		t.Errorf("token page back link is not safe:\n%s", r.body)
	}
}

func TestReadmeRendersInert(t *testing.T) {
	h := newHarness(t)
	h.seed()
	readme := "# Tool\n\nUse **it**.\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n" +
		"[click](javascript:alert(1)) [data](data:text/html,<script>alert(1)</script>) [home](https://example.com/)\n\n" +
		"<a href=\"https://example.com\" onclick=\"alert(1)\">raw</a>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n" +
		"```\n<script>code</script>\n```\n"
	err := h.meta.Write(context.Background(), func(tx store.Tx) error {
		_, _, p, err := findPkg(tx)
		if err != nil {
			return err
		}
		v, err := tx.GetVersion(p.ID, "1.0.0")
		if err != nil {
			return err
		}
		v.Readme = readme
		return tx.UpdateVersion(v)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	r := b.get(versionURI)
	i := strings.Index(r.body, `<article class="readme" id="readme">`)
	if i < 0 {
		t.Fatalf("no readme:\n%s", r.body)
	}
	got := r.body[i : strings.Index(r.body[i:], "</article>")+i]
	for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "<iframe", "data:text"} {
		if strings.Contains(strings.ToLower(got), bad) {
			t.Errorf("readme keeps %q:\n%s", bad, got)
		}
	}
	for _, good := range []string{"<h1", "<strong>it</strong>", `href="https://example.com/"`, "nofollow", "noopener", "&lt;script&gt;code&lt;/script&gt;"} {
		if !strings.Contains(got, good) {
			t.Errorf("readme lacks %q:\n%s", good, got)
		}
	}
}

func findPkg(tx store.Tx) (*store.Domain, *store.Repository, *store.Package, error) {
	d, err := tx.GetDomain(account, "acme")
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := tx.GetRepository(d.ID, "app")
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := tx.GetPackage(r.ID, "generic", "tools", "tool")
	return d, r, p, err
}

func TestRenderReadmeUnit(t *testing.T) {
	for _, src := range []string{
		"<script>alert(1)</script>", "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](  javascript:alert(1))",
		"<svg onload=alert(1)>", "<a href='javascript:alert(1)'>x</a>", "![x](javascript:alert(1))", "<style>body{}</style>",
		"<form action=https://evil.example><input name=x></form>", "[x](vbscript:msgbox)",
	} {
		out := strings.ToLower(string(renderReadme(src)))
		for _, bad := range []string{"<script", "javascript:", "onload", "<style", "<form", "<input", "vbscript:", "<svg"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q renders %q", src, out)
			}
		}
	}
}

func TestFlowSVGEscapesAndParses(t *testing.T) {
	evil := `<script>alert("x")</script>&'`
	g := &flowGraph{repo: evil}
	g.root = &flowNode{Kind: nodeThis, Name: evil, Order: 1}
	up := &flowNode{Kind: nodeRepo, Name: "up\"><script>", Order: 2, depth: 1, URL: "/console/?a=1&b=\"2\""}
	miss := &flowNode{Kind: nodeMissing, Name: "gone<&>", depth: 1}
	ext := &flowNode{Kind: nodeExternal, Name: "public:npmjs", depth: 2}
	g.root.children = []*flowNode{up, miss}
	up.children = []*flowNode{ext}
	g.nodes = []*flowNode{g.root, up, miss, ext}
	g.edges = []flowEdge{{up, g.root}, {miss, g.root}, {ext, up}}
	svg := g.svg()
	if strings.Contains(svg, "<script") || strings.Contains(svg, `"x"`) {
		t.Fatalf("unescaped:\n%s", svg)
	}
	d := xml.NewDecoder(strings.NewReader(svg))
	var texts []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not XML: %v\n%s", err, svg)
		}
		if cd, ok := tok.(xml.CharData); ok {
			texts = append(texts, string(cd))
		}
	}
	if !strings.Contains(strings.Join(texts, "|"), evil) {
		t.Errorf("the name does not survive escaping: %v", texts)
	}
}

func TestFlowSVGRoute(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	r := b.get(appRepo + "flow.svg")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/svg+xml") {
		t.Fatalf("flow.svg: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if err := xml.Unmarshal([]byte(r.body), new(struct{})); err != nil {
		t.Fatalf("flow.svg is not XML: %v", err)
	}
	// Search order: app 1, team 2, store 3; gone is not searched.
	for _, want := range []string{">1</text>", ">2</text>", ">3</text>", "Missing: repository deleted"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("flow.svg lacks %s", want)
		}
	}
	if strings.Contains(r.body, ">4</text>") {
		t.Error("the missing repository got a search position")
	}
}

func TestPackagesPagination(t *testing.T) {
	h := newHarness(t)
	h.seed()
	ctx := context.Background()
	repo := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "acme"}, Repository: "app"}
	for i := range 120 {
		ns := "alpha"
		if i%2 == 1 {
			ns = "beta"
		}
		if _, err := h.svc.PutPackageOriginConfiguration(ctx, artifact.PackageRef{RepoRef: repo, Format: "generic", Namespace: ns,
			Package: fmt.Sprintf("pkg-%03d", i)}, "ALLOW", "BLOCK"); err != nil {
			t.Fatal(err)
		}
	}
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	seen := map[string]bool{}
	next := appRepo
	pages := 0
	for next != "" {
		r := b.get(next)
		rows := tableRows(t, r.body, "packages")
		pages++
		for _, row := range rows {
			k := row["namespace"] + "/" + row["name"]
			if seen[k] {
				t.Fatalf("%s on two pages", k)
			}
			seen[k] = true
		}
		m := regexp.MustCompile(`id="page-next" href="([^"]+)"`).FindStringSubmatch(r.body)
		if pages == 1 && (len(rows) != 50 || m == nil || strings.Contains(r.body, `id="page-first"`)) {
			t.Fatalf("first page: %d rows, next %v", len(rows), m)
		}
		if pages > 1 && !strings.Contains(r.body, `id="page-first"`) {
			t.Error("no first-page link")
		}
		next = ""
		if m != nil {
			next = html.UnescapeString(m[1])
			next, _, _ = strings.Cut(next, "#")
		}
	}
	if pages != 3 || len(seen) != 121 {
		t.Fatalf("%d pages, %d packages", pages, len(seen))
	}
	// Filters: name prefix, namespace prefix, origin controls, with the page size kept on the next link.
	r := b.get(appRepo + "?prefix=pkg-01&namespace=be&size=25")
	rows := tableRows(t, r.body, "packages")
	if len(rows) != 5 {
		t.Fatalf("filtered rows: %v", rows)
	}
	for _, row := range rows {
		if row["namespace"] != "beta" || !strings.HasPrefix(row["name"], "pkg-01") || row["latest-version"] != "—" {
			t.Errorf("row %v", row)
		}
	}
	r = b.get(appRepo + "?namespace=alpha&size=25")
	if m := regexp.MustCompile(`id="page-next" href="([^"]+)"`).FindStringSubmatch(r.body); m == nil ||
		!strings.Contains(m[1], "namespace=alpha") || !strings.Contains(m[1], "size=25") {
		t.Errorf("next link loses the filter: %v", m)
	}
	if r := b.get(appRepo + "?format=bogus"); !strings.Contains(r.body, `id="filter-error"`) {
		t.Error("a bad format is not reported")
	}
	if r := b.get(appRepo + "?after=!!!"); r.StatusCode != 200 || !strings.Contains(r.body, `id="filter-error"`) {
		t.Errorf("a bad page key: %d", r.StatusCode)
	}
	if r := b.get(appRepo + "?upstream=ALLOW"); len(tableRows(t, r.body, "packages")) != 0 {
		t.Error("upstream=ALLOW matches packages that block upstreams")
	}
}

func TestConnectInstructions(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	ep := h.srv.URL + "/maven/d/acme-" + account + "/app/"
	r := b.get(appRepo + "connect?client=maven")
	for _, want := range []string{"&lt;id&gt;codeartifact&lt;/id&gt;", "&lt;username&gt;aws&lt;/username&gt;", "${env.CODEARTIFACT_AUTH_TOKEN}",
		"&lt;mirrorOf&gt;*&lt;/mirrorOf&gt;", "&lt;activeProfile&gt;default&lt;/activeProfile&gt;", "&lt;url&gt;" + ep + "&lt;/url&gt;",
		"get-authorization-token \\\n    --domain acme --domain-owner " + account, "--endpoint-url " + h.srv.URL} {
		if !strings.Contains(r.body, want) {
			t.Errorf("maven instructions lack %s", want)
		}
	}
	host := strings.TrimPrefix(h.srv.URL, "http://")
	checks := map[string][]string{
		"npm":     {"registry=" + h.srv.URL + "/npm/d/acme-" + account + "/app/", "//" + host + "/npm/d/acme-" + account + "/app/:_authToken=", "aws codeartifact login --tool npm"},
		"pip":     {"index-url = http://aws:TOKEN@" + host + "/pypi/d/acme-" + account + "/app/simple/"},
		"twine":   {"repository = " + h.srv.URL + "/pypi/d/acme-" + account + "/app/"},
		"cargo":   {"sparse+" + h.srv.URL + "/cargo/d/acme-" + account + "/app/", "cargo:token-from-stdout"},
		"nuget":   {h.srv.URL + "/nuget/d/acme-" + account + "/app/v3/index.json"},
		"gradle":  {"allowInsecureProtocol = true", "password System.env.CODEARTIFACT_AUTH_TOKEN"},
		"ruby":    {"source &#34;" + h.srv.URL + "/ruby/d/acme-" + account + "/app/&#34;"},
		"swift":   {"swift package-registry login " + h.srv.URL + "/swift/d/acme-" + account + "/app/login"},
		"generic": {"--asset-sha256"},
	}
	for client, wants := range checks {
		r := b.get(appRepo + "connect?client=" + client)
		for _, want := range wants {
			if !strings.Contains(html.UnescapeString(r.body), html.UnescapeString(want)) {
				t.Errorf("%s instructions lack %s", client, want)
			}
		}
	}
}
