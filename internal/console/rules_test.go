package console

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/rules"
	"coffer/internal/store"
)

const (
	rulesPath  = "/console/domains/acme/rules"
	domainARN  = "arn:aws:codeartifact:us-east-1:" + account + ":domain/acme"
	appRepoARN = "arn:aws:codeartifact:us-east-1:" + account + ":repository/acme/app"
)

// grantAuthz is fakeAuthz plus grants of "principal action resource".
type grantAuthz struct {
	*fakeAuthz
	grants map[string]bool
}

func (a *grantAuthz) Authorize(ctx context.Context, action, resource string) error {
	if p := auth.PrincipalFrom(ctx); p != nil && a.grants[p.ARN+" "+action+" "+resource] {
		a.mu.Lock()
		a.decisions = append(a.decisions, action+" "+resource+" allow")
		a.mu.Unlock()
		return nil
	}
	return a.fakeAuthz.Authorize(ctx, action, resource)
}

// withRules gives the harness's console an audit log and the grants, and
// restarts it; it returns the audit log's buffer.
func (h *harness) withRules(grants ...string) *bytes.Buffer {
	h.t.Helper()
	g := map[string]bool{}
	for _, s := range grants {
		g[s] = true
	}
	var log bytes.Buffer
	h.cfg.Audit = audit.New(&log)
	h.cfg.Authorizer = &grantAuthz{fakeAuthz: h.authz, grants: g}
	h.cfg.Probe = &grantAuthz{fakeAuthz: &fakeAuthz{}, grants: g}
	h.restart()
	return &log
}

func (h *harness) storedRules() []rules.Rule {
	h.t.Helper()
	var out []rules.Rule
	err := h.meta.Read(context.Background(), func(tx store.Tx) (err error) {
		out, err = rules.List(tx, account, "acme")
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) storedRule(pred func(rules.Rule) bool) *rules.Rule {
	h.t.Helper()
	for _, r := range h.storedRules() {
		if pred(r) {
			return &r
		}
	}
	return nil
}

var ruleRowRE = regexp.MustCompile(`(?s)<tr id="rule-([^"]+)"[^>]*>(.*?)</tr>`)

// ruleRows reads the rules table: cell text by the cell's class, and "id".
func ruleRows(t *testing.T, page string) []map[string]string {
	t.Helper()
	if !strings.Contains(page, `id="rules"`) {
		t.Fatalf("no rules table:\n%s", page)
	}
	var out []map[string]string
	for _, row := range ruleRowRE.FindAllStringSubmatch(page, -1) {
		cells := map[string]string{"id": row[1]}
		for _, c := range cellRE.FindAllStringSubmatch(row[2], -1) {
			cls, _, _ := strings.Cut(c[1], " ")
			cells[cls] = strings.TrimSpace(spaceR.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(c[2], " ")), " "))
		}
		out = append(out, cells)
	}
	return out
}

func addForm(csrf, kind, scope string, kv ...string) url.Values {
	f := url.Values{"csrf": {csrf}, "kind": {kind}, "scope": {scope}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestRulesPageAddListDelete(t *testing.T) {
	h := newHarness(t)
	h.seed()
	log := h.withRules()
	b := h.browser()
	b.signIn(rootKey, rootSecret)

	if r := b.get("/console/domains/acme/"); !strings.Contains(r.body, `href="`+rulesPath+`" id="rules-link"`) {
		t.Fatalf("the domain page does not link the rules page:\n%s", r.body)
	}
	r := b.get(rulesPath)
	if r.StatusCode != 200 || !strings.Contains(r.body, `id="no-rules"`) {
		t.Fatalf("empty rules page: %d\n%s", r.StatusCode, r.body)
	}
	for _, want := range []string{`id="cooldown-form"`, `id="freeze-form"`, `id="block-form"`, `id="exempt-form"`,
		`<option value="domain" selected>`, `<option value="packageGroup">`, `<option value="repository:app">`, `<option value="repository:store">`,
		`<option value="externalConnection:public:npmjs">`, `name="package_group"`, `Supply-chain rules`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("rules page lacks %s", want)
		}
	}
	if strings.Contains(r.body, `repository:gone`) {
		t.Error("a deleted repository is offered as a scope")
	}

	// Add one rule of each kind, at four scopes.
	for _, f := range []url.Values{
		addForm(b.csrf, "cooldown", "domain", "cooldown", "72h"),
		addForm(b.csrf, "block", "repository:app", "package", "left-pad", "format", "npm", "versions", "<1.3.0", "reason", "MAL-1"),
		addForm(b.csrf, "exempt", "packageGroup", "package_group", "/npm/*", "package", "@acme/ui@1.2.3", "format", "npm", "reason", "INC-9 hotfix"),
		addForm(b.csrf, "freeze", "externalConnection:public:npmjs", "freeze_at", "2026-01-02 15:04"),
	} {
		r := b.post(rulesPath, f)
		loc := r.Header.Get("Location")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, rulesPath+"?done=added&rule=r-") {
			t.Fatalf("add %s: %d %q\n%s", f.Get("kind"), r.StatusCode, loc, r.body)
		}
		if r := b.get(loc); r.StatusCode != 200 || !strings.Contains(r.body, `id="notice" role="status">Rule saved.`) || !strings.Contains(r.body, "rule-new") {
			t.Fatalf("after adding %s: %d\n%s", f.Get("kind"), r.StatusCode, r.body)
		}
	}
	stored := h.storedRules()
	if len(stored) != 4 {
		t.Fatalf("stored rules: %+v", stored)
	}
	block := h.storedRule(func(r rules.Rule) bool { return r.Kind == rules.KindBlock })
	exempt := h.storedRule(func(r rules.Rule) bool { return r.Kind == rules.KindExempt })
	freeze := h.storedRule(func(r rules.Rule) bool { return r.Kind == rules.KindFreeze })
	if block == nil || block.Package != "/npm//left-pad$" || block.Versions != "<1.3.0" || block.Repository != "app" || block.CreatedBy != rootARN ||
		exempt == nil || exempt.Package != "/npm/acme/ui$" || exempt.Version != "1.2.3" || exempt.PackageGroup != "/npm/*" ||
		freeze == nil || freeze.FreezeAt != "2026-01-02T15:04:00Z" || freeze.ExternalConnection != "public:npmjs" {
		t.Fatalf("stored rules: %+v", stored)
	}

	// Listed by scope, from the domain to external connections.
	rows := ruleRows(t, b.get(rulesPath).body)
	want := []map[string]string{
		{"scope": "domain acme", "kind": "cooldown", "rule": "72h (3 days)", "versions": "—", "reason": "—"},
		{"scope": "repository app", "kind": "block", "rule": "/npm//left-pad$", "versions": "<1.3.0", "reason": "MAL-1", "id": block.ID},
		{"scope": "packageGroup /npm/*", "kind": "exempt", "rule": "/npm/acme/ui$", "versions": "1.2.3", "reason": "INC-9 hotfix"},
		{"scope": "externalConnection public:npmjs", "kind": "freeze", "rule": "published after 2026-01-02 15:04:00 UTC"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rules table: %v", rows)
	}
	for i, w := range want {
		for k, v := range w {
			got := rows[i][k]
			if k == "kind" {
				got, _, _ = strings.Cut(got, " ")
			}
			if got != v {
				t.Errorf("row %d %s = %q, want %q", i, k, got, v)
			}
		}
		if !strings.Contains(rows[i]["created"], rootARN) || !strings.Contains(rows[i]["actions"], "Delete") {
			t.Errorf("row %d: created %q, actions %q", i, rows[i]["created"], rows[i]["actions"])
		}
	}

	// Setting a scope's cooldown again replaces it.
	b.post(rulesPath, addForm(b.csrf, "cooldown", "domain", "cooldown", "90m"))
	if c := h.storedRule(func(r rules.Rule) bool { return r.Kind == rules.KindCooldown }); c == nil || c.Cooldown != "1h30m0s" || len(h.storedRules()) != 4 {
		t.Fatalf("second cooldown: %+v", h.storedRules())
	}

	// Delete the block.
	r = b.post(rulesPath+"/delete", url.Values{"csrf": {b.csrf}, "id": {block.ID}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != rulesPath+"?done=deleted" {
		t.Fatalf("delete: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if h.storedRule(func(r rules.Rule) bool { return r.ID == block.ID }) != nil {
		t.Fatal("the deleted rule is still stored")
	}
	if r := b.get(rulesPath + "?done=deleted"); strings.Contains(r.body, block.ID) || !strings.Contains(r.body, "Rule deleted.") {
		t.Errorf("rules page after the delete:\n%s", r.body)
	}
	if r := b.post(rulesPath+"/delete", url.Values{"csrf": {b.csrf}, "id": {block.ID}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %d", r.StatusCode)
	}

	// Decided with the API's actions on the API's resources, and audited as the API audits.
	h.authz.mu.Lock()
	decisions := strings.Join(h.authz.decisions, "\n")
	h.authz.mu.Unlock()
	for _, d := range []string{
		"coffer:ListRules " + domainARN + " allow", "coffer:PutRule " + domainARN + " allow", "coffer:PutRule " + appRepoARN + " allow",
		"coffer:DeleteRule " + appRepoARN + " allow",
	} {
		if !strings.Contains(decisions, d) {
			t.Errorf("no decision %q in\n%s", d, decisions)
		}
	}
	for _, want := range []string{
		`"principal":"` + rootARN + `","sourceIp":"127.0.0.1","action":"coffer:PutRule","resource":"` + domainARN + `/rule/` + block.ID + `","decision":"allow","reason":"block repository app: /npm//left-pad$ \u003c1.3.0 (reason: \"MAL-1\")"`,
		`"reason":"exempt packageGroup /npm/*: /npm/acme/ui$ 1.2.3 (reason: \"INC-9 hotfix\")"`,
		`"action":"coffer:DeleteRule","resource":"` + domainARN + `/rule/` + block.ID + `"`,
		`"requestId":"req"`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("audit log lacks %s\n%s", want, log.String())
		}
	}
}

func TestRulesValidationShownOnPage(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.withRules()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	for name, c := range map[string]struct {
		form url.Values
		msg  string
	}{
		"bad cooldown":    {addForm(b.csrf, "cooldown", "domain", "cooldown", "forever"), "cooldown &#39;forever&#39; must be a positive duration"},
		"empty cooldown":  {addForm(b.csrf, "cooldown", "domain"), "Enter a cooldown"},
		"bad freeze":      {addForm(b.csrf, "freeze", "domain", "freeze_at", "tomorrow"), "must be an RFC 3339 time"},
		"no reason":       {addForm(b.csrf, "block", "domain", "package", "/npm//x$"), "needs a reason"},
		"name, no format": {addForm(b.csrf, "block", "domain", "package", "left-pad", "reason", "r"), "choose the package&#39;s format"},
		"bad pattern":     {addForm(b.csrf, "exempt", "domain", "package", "/nope/*", "reason", "r"), "not a package format"},
		"bad range":       {addForm(b.csrf, "block", "repository:app", "package", "/npm//x$", "versions", ">>1", "reason", "r"), "not a version range"},
		"version of many": {addForm(b.csrf, "exempt", "domain", "package", "/npm/*@1.0", "reason", "r"), "not a valid package group pattern"},
		"no group":        {addForm(b.csrf, "cooldown", "packageGroup", "cooldown", "1h"), "Enter the pattern of the package group"},
		"bad group":       {addForm(b.csrf, "cooldown", "packageGroup", "package_group", "npm", "cooldown", "1h"), "packageGroup"},
		"no scope":        {addForm(b.csrf, "cooldown", "", "cooldown", "1h"), "Choose where the rule applies"},
		"unknown conn":    {addForm(b.csrf, "cooldown", "externalConnection:public:nowhere", "cooldown", "1h"), "not an external connection coffer knows"},
		"unknown kind":    {addForm(b.csrf, "severity", "domain"), "Choose a kind of rule"},
	} {
		r := b.post(rulesPath, c.form)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, `id="rules"`) || !strings.Contains(r.body, c.msg) {
			t.Errorf("%s: %d, want 400 with %q on the rules page\n%s", name, r.StatusCode, c.msg, r.body)
			continue
		}
		if kind := c.form.Get("kind"); kind != "severity" {
			// The message is in the refused form, whose values are kept.
			i := strings.Index(r.body, `id="`+kind+`-form"`)
			j := strings.Index(r.body, `class="notice notice-error rule-error"`)
			if i < 0 || j < i || strings.Count(r.body, "rule-error") != 1 {
				t.Errorf("%s: the message is not in the %s form", name, kind)
			}
		}
	}
	r := b.post(rulesPath, addForm(b.csrf, "block", "repository:app", "package", "left-pad", "reason", "kept", "versions", "<1"))
	for _, want := range []string{`value="left-pad"`, `value="kept"`, `value="&lt;1"`, `<option value="repository:app" selected>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the refused form lost %s", want)
		}
	}
	if n := len(h.storedRules()); n != 0 {
		t.Fatalf("%d rules stored by refused forms", n)
	}
	if r := b.post(rulesPath+"/delete", url.Values{"csrf": {b.csrf}, "id": {"nope"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("delete of a malformed id: %d", r.StatusCode)
	}
	if r := b.post(rulesPath, addForm("", "cooldown", "domain", "cooldown", "1h")); r.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", r.StatusCode)
	}
	if r := b.post(rulesPath, addForm(b.csrf, "cooldown", "domain", "cooldown", "1h"), "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form: %d", r.StatusCode)
	}
	if r := b.post("/console/domains/nope/rules", addForm(b.csrf, "cooldown", "domain", "cooldown", "1h")); r.StatusCode != http.StatusNotFound {
		t.Errorf("rule for an unknown domain: %d", r.StatusCode)
	}
	if n := len(h.storedRules()); n != 0 {
		t.Fatalf("%d rules stored by refused forms", n)
	}
}

func TestRulesReadOnlyPrincipal(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.withRules()
	root := h.browser()
	root.signIn(rootKey, rootSecret)
	root.post(rulesPath, addForm(root.csrf, "cooldown", "domain", "cooldown", "1h"))
	id := h.storedRules()[0].ID

	b := h.browser()
	b.signIn(readerKey, readerSecret)
	if r := b.get("/console/domains/acme/"); strings.Contains(r.body, `id="rules-link"`) {
		t.Error("the reader (no coffer:ListRules) sees the rules link")
	}
	if r := b.get(rulesPath); r.StatusCode != http.StatusForbidden || !h.authz.denied("coffer:ListRules") {
		t.Errorf("rules page as the reader: %d", r.StatusCode)
	}
	if r := b.post(rulesPath, addForm(b.csrf, "cooldown", "domain", "cooldown", "2h")); r.StatusCode != http.StatusForbidden || !h.authz.denied("coffer:PutRule") {
		t.Errorf("add as the reader: %d", r.StatusCode)
	}
	if r := b.post(rulesPath+"/delete", url.Values{"csrf": {b.csrf}, "id": {id}}); r.StatusCode != http.StatusForbidden || !h.authz.denied("coffer:DeleteRule") {
		t.Errorf("delete as the reader: %d", r.StatusCode)
	}
	if got := h.storedRules(); len(got) != 1 || got[0].Cooldown != "1h0m0s" {
		t.Fatalf("refused actions changed the rules: %+v", got)
	}
}

// A principal allowed to list the domain's rules but to change only the
// repository app's is offered that scope only, and delete buttons only on
// that repository's rules.
func TestRulesRepositoryScopedPrincipal(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.withRules(readerARN+" coffer:ListRules "+domainARN, readerARN+" coffer:PutRule "+appRepoARN, readerARN+" coffer:DeleteRule "+appRepoARN)
	root := h.browser()
	root.signIn(rootKey, rootSecret)
	root.post(rulesPath, addForm(root.csrf, "cooldown", "domain", "cooldown", "1h"))

	b := h.browser()
	b.signIn(readerKey, readerSecret)
	if r := b.get("/console/domains/acme/"); !strings.Contains(r.body, `id="rules-link"`) {
		t.Error("no rules link for a principal allowed coffer:ListRules")
	}
	r := b.post(rulesPath, addForm(b.csrf, "block", "repository:app", "package", "/generic/tools/*", "reason", "frozen team tools"))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add on the allowed repository: %d\n%s", r.StatusCode, r.body)
	}
	r = b.get(rulesPath)
	if strings.Contains(r.body, `<option value="domain"`) || strings.Contains(r.body, `name="package_group"`) || strings.Contains(r.body, "externalConnection:") ||
		strings.Contains(r.body, `"repository:store"`) || !strings.Contains(r.body, `<option value="repository:app" selected>`) {
		t.Errorf("scopes offered to a principal allowed on app only:\n%s", r.body)
	}
	rows := ruleRows(t, r.body)
	if len(rows) != 2 || rows[0]["kind"] == "" || strings.Contains(rows[0]["actions"], "Delete") || !strings.Contains(rows[1]["actions"], "Delete") {
		t.Errorf("delete buttons: %v", rows)
	}
	if r := b.post(rulesPath, addForm(b.csrf, "cooldown", "domain", "cooldown", "2h")); r.StatusCode != http.StatusForbidden {
		t.Errorf("add on the domain: %d", r.StatusCode)
	}
	if r := b.post(rulesPath+"/delete", url.Values{"csrf": {b.csrf}, "id": {rows[0]["id"]}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("delete of the domain's rule: %d", r.StatusCode)
	}
	if r := b.post(rulesPath+"/delete", url.Values{"csrf": {b.csrf}, "id": {rows[1]["id"]}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("delete of the repository's rule: %d", r.StatusCode)
	}
	if got := h.storedRules(); len(got) != 1 || got[0].Kind != rules.KindCooldown {
		t.Fatalf("rules: %+v", got)
	}
}

func TestCooldownText(t *testing.T) {
	for in, want := range map[string]string{"72h0m0s": "72h (3 days)", "24h0m0s": "24h (1 day)", "1h30m0s": "1h30m", "30s": "30s",
		"2m0s": "2m", "1m30s": "1m30s", "bogus": "bogus"} {
		if got := cooldownText(in); got != want {
			t.Errorf("cooldownText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFreezeTime(t *testing.T) {
	for in, want := range map[string]string{"2026-01-02T15:04:05Z": "2026-01-02T15:04:05Z", "2026-01-02T15:04:05+02:00": "2026-01-02T15:04:05+02:00",
		"2026-01-02T15:04": "2026-01-02T15:04:00Z", "2026-01-02 15:04:05": "2026-01-02T15:04:05Z", "2026-01-02": "2026-01-02T00:00:00Z", "soon": "soon"} {
		if got := freezeTime(in); got != want {
			t.Errorf("freezeTime(%q) = %q, want %q", in, got, want)
		}
	}
}
