package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/gate"
	"coffer/internal/rules"
)

// decisionGate is a supply-chain gate (artifact.Gate and its Verdicts)
// deciding each version of every package as told, by version string.
type decisionGate struct {
	decide map[string]rules.Decision
	err    error // Snapshot's error
}

func (g *decisionGate) Snapshot(context.Context) (artifact.Verdicts, error) {
	if g.err != nil {
		return nil, g.err
	}
	return g, nil
}
func (g *decisionGate) Refused(context.Context, rules.Subject, rules.Decision) {}
func (g *decisionGate) Active(owner, domain, format, namespace, name string) bool {
	return len(g.decide) > 0
}
func (g *decisionGate) Decide(sub rules.Subject, now time.Time) rules.Decision {
	if d, ok := g.decide[sub.Version]; ok {
		return d
	}
	return rules.Decision{Allowed: true}
}
func (g *decisionGate) Timed(owner, domain string) bool { return false }
func (g *decisionGate) Stamp() string                   { return "decision-gate" }

// denyAuthz denies one action and leaves the others to the wrapped one.
type denyAuthz struct {
	auth.Authorizer
	action string
}

func (a denyAuthz) Authorize(ctx context.Context, action, resource string) error {
	if action == a.action {
		return errors.New("denied by the test")
	}
	return a.Authorizer.Authorize(ctx, action, resource)
}

// publishTool publishes generic tools/tool at version in repo.
func (h *harness) publishTool(repo, version string) {
	h.t.Helper()
	ref := h.ref(version)
	ref.Repository = repo
	asset := []byte("tool " + version + "\n")
	sum := sha256.Sum256(asset)
	if _, err := h.svc.PublishPackageVersion(context.Background(), artifact.PublishRequest{VersionRef: ref, Asset: "tool.tar.gz",
		SHA256: hex.EncodeToString(sum[:])}, bytes.NewReader(asset)); err != nil {
		h.t.Fatal(err)
	}
}

var withheldRowRE = regexp.MustCompile(`(?s)<tr data-version="([^"]+)" data-state="([^"]+)"[^>]*>(.*?)</tr>`)

// withheldRows reads the package page's withheld table by version: cell
// text by the cell's class, "state" the row's data-state, and "<class>
// html" each cell's markup.
func withheldRows(page string) map[string]map[string]string {
	out := map[string]map[string]string{}
	i := strings.Index(page, `id="withheld"`)
	if i < 0 {
		return out
	}
	body := page[i:]
	body = body[:strings.Index(body, "</table>")]
	for _, row := range withheldRowRE.FindAllStringSubmatch(body, -1) {
		cells := map[string]string{"data-state": row[2]}
		for _, c := range cellRE.FindAllStringSubmatch(row[3], -1) {
			cls, _, _ := strings.Cut(c[1], " ")
			cells[cls] = strings.TrimSpace(spaceR.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(c[2], " ")), " "))
			cells[cls+" html"] = c[2]
		}
		out[html.UnescapeString(row[1])] = cells
	}
	return out
}

func TestPackagePageWithheld(t *testing.T) {
	h := newHarness(t)
	h.seed() // tools/tool 1.0.0 in app
	h.publishTool("app", "1.1.0")
	h.publishTool("app", "2.0.0")
	h.publishTool("app", "3.0.0")
	h.publishTool("app", "4.0.0")
	available := h.now.Add(48 * time.Hour).Truncate(time.Second).UTC()
	h.svc.SetGate(&decisionGate{decide: map[string]rules.Decision{
		"1.0.0": {Rule: "MAL-2024-7", Advisory: "MAL-2024-7", Reason: "malicious: MAL-2024-7"},
		"1.1.0": {Rule: "r-block1", Reason: "blocked: look-alike of tool"},
		"2.0.0": {Rule: "r-cool1", AvailableAt: available, Reason: "in cooldown of 72h0m0s until " + available.Format(time.RFC3339)},
		"3.0.0": {Rule: "r-sev1", Advisory: "GHSA-abcd-efgh-ijkl", Reason: "vulnerable: GHSA-abcd-efgh-ijkl (HIGH, blocked from HIGH)"},
	}})
	h.withRules() // the root may list the rules; the reader may not

	b := h.browser()
	b.signIn(rootKey, rootSecret)
	r := b.get(packageURI)
	if r.StatusCode != 200 || !strings.Contains(r.body, `id="withheld-panel"`) || !strings.Contains(r.body, "Withheld by supply-chain rules") {
		t.Fatalf("package page: %d\n%s", r.StatusCode, r.body)
	}
	rows := withheldRows(r.body)
	if len(rows) != 4 || rows["4.0.0"] != nil {
		t.Fatalf("withheld rows: %v", rows)
	}
	rulesLink := func(id string) string { return `href="/console/domains/acme/rules?rule=` + id + `#rule-` + id + `"` }

	mal := rows["1.0.0"]
	if mal["data-state"] != "quarantined" || mal["state"] != "Quarantined — malicious" || mal["reason"] != "malicious: MAL-2024-7" ||
		mal["rule"] != "—" || mal["advisory"] != "MAL-2024-7" || !strings.Contains(mal["advisory html"], `href="https://osv.dev/vulnerability/MAL-2024-7"`) ||
		mal["available"] != "—" || mal["repository"] != "app" ||
		!strings.Contains(mal["version html"], `href="/console/domains/acme/repositories/app/version?`) {
		t.Errorf("quarantined row: %v", mal)
	}
	block := rows["1.1.0"]
	if block["data-state"] != "withheld" || block["state"] != "Withheld" || block["reason"] != "blocked: look-alike of tool" ||
		block["rule"] != "r-block1" || !strings.Contains(block["rule html"], rulesLink("r-block1")) || block["advisory"] != "—" {
		t.Errorf("blocked row: %v", block)
	}
	cool := rows["2.0.0"]
	if cool["data-state"] != "withheld" || cool["available"] != available.Format("2006-01-02 15:04:05 UTC") ||
		!strings.Contains(cool["available html"], `datetime="`+available.Format(time.RFC3339)+`"`) || !strings.Contains(cool["rule html"], rulesLink("r-cool1")) {
		t.Errorf("cooldown row: %v", cool)
	}
	vuln := rows["3.0.0"]
	if vuln["data-state"] != "withheld" || vuln["state"] != "Withheld" || vuln["rule"] != "r-sev1" || vuln["advisory"] != "GHSA-abcd-efgh-ijkl" ||
		!strings.Contains(vuln["advisory html"], `href="https://osv.dev/vulnerability/GHSA-abcd-efgh-ijkl"`) || !strings.Contains(vuln["rule html"], rulesLink("r-sev1")) {
		t.Errorf("vulnerable row: %v", vuln)
	}

	// The versions table (app's own versions) marks the withheld ones.
	versions := map[string]string{}
	for _, row := range tableRows(t, r.body, "versions") {
		versions[row["version"]] = row["status"]
	}
	for _, want := range []string{"1.0.0 quarantined", "1.1.0 withheld", "2.0.0 withheld", "3.0.0 withheld", "4.0.0"} {
		if _, ok := versions[want]; !ok {
			t.Errorf("versions table lacks %q: %v", want, versions)
		}
	}
	if !strings.Contains(r.body, `<a href="#withheld-panel" class="badge state-quarantined"`) {
		t.Error("no quarantined tag in the versions table")
	}

	// The reader may list the versions (the API's authorization) but not
	// the rules: the rule is named, not linked.
	rd := h.browser()
	rd.signIn(readerKey, readerSecret)
	r = rd.get(packageURI)
	rows = withheldRows(r.body)
	if len(rows) != 4 || rows["1.1.0"]["rule"] != "r-block1" || strings.Contains(rows["1.1.0"]["rule html"], "href") {
		t.Errorf("withheld rows for the reader: %v", rows)
	}
	if !h.cfg.Probe.(*grantAuthz).denied("coffer:ListRules") {
		t.Error("the rules link was not asked for")
	}

	// Without codeartifact:ListPackageVersions, nothing of the versions.
	h.cfg.Authorizer = denyAuthz{h.cfg.Authorizer, auth.ActionListPackageVersions}
	h.cfg.Probe = denyAuthz{h.cfg.Probe, auth.ActionListPackageVersions}
	h.restart()
	r = rd.get(packageURI)
	if r.StatusCode != 200 || !strings.Contains(r.body, `id="versions-denied"`) || strings.Contains(r.body, "withheld") {
		t.Errorf("package page without ListPackageVersions: %d\n%s", r.StatusCode, r.body)
	}
}

func TestPackagePageNothingWithheld(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	for name, g := range map[string]artifact.Gate{"no gate": nil, "gate allowing all": &decisionGate{decide: map[string]rules.Decision{"9.9.9": {Reason: "x"}}}} {
		h.svc.SetGate(g)
		if r := b.get(packageURI); r.StatusCode != 200 || strings.Contains(r.body, "withheld") || !strings.Contains(r.body, `id="versions"`) {
			t.Errorf("%s: %d\n%s", name, r.StatusCode, r.body)
		}
	}
	// Rules that cannot be read leave the page up, with a notice.
	h.svc.SetGate(&decisionGate{err: errors.New("database is locked")})
	r := b.get(packageURI)
	if r.StatusCode != 200 || !strings.Contains(r.body, `id="withheld-error"`) || !strings.Contains(r.body, "the supply-chain rules could not be read") ||
		!strings.Contains(r.body, `id="versions"`) {
		t.Errorf("gate failing: %d\n%s", r.StatusCode, r.body)
	}
}

// A block added with the rules page's form withholds the version on the
// package page, with the form's reason and a link back to the rule (the
// real gate over the console's store).
func TestPackagePageWithheldByRulesForm(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.publishTool("app", "1.1.0")
	h.svc.SetGate(gate.New(gate.Config{Rules: rules.NewLoader(h.meta, rules.Options{Compare: gate.CompareVersions}), Log: slog.New(slog.DiscardHandler)}))
	h.withRules()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	if r := b.get(packageURI); strings.Contains(r.body, "withheld") {
		t.Fatalf("withheld before any rule:\n%s", r.body)
	}
	if r := b.post(rulesPath, addForm(b.csrf, "block", "repository:app", "package", "/generic/tools/tool$", "versions", "=1.0.0",
		"reason", "INC-7 bad build")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add block: %d\n%s", r.StatusCode, r.body)
	}
	rule := h.storedRule(func(r rules.Rule) bool { return r.Kind == rules.KindBlock })
	if rule == nil {
		t.Fatal("no block stored")
	}
	r := b.get(packageURI)
	rows := withheldRows(r.body)
	w := rows["1.0.0"]
	if len(rows) != 1 || w["data-state"] != "withheld" || w["reason"] != "blocked: INC-7 bad build" || w["rule"] != rule.ID ||
		!strings.Contains(w["rule html"], `href="/console/domains/acme/rules?rule=`+rule.ID+`#rule-`+rule.ID+`"`) {
		t.Fatalf("withheld rows: %v\n%s", rows, r.body)
	}
	versions := map[string]bool{}
	for _, row := range tableRows(t, r.body, "versions") {
		versions[row["version"]] = true
	}
	if !versions["1.0.0 withheld"] || !versions["1.1.0"] {
		t.Errorf("versions table: %v", versions)
	}
	// The link lands on the rule, highlighted; the page explains where withheld versions are shown.
	if r := b.get("/console/domains/acme/rules?rule=" + rule.ID); !strings.Contains(r.body, `id="rule-`+rule.ID+`" data-id="`+rule.ID+`" class=" rule-new"`) &&
		!strings.Contains(r.body, `id="rule-`+rule.ID+`" data-id="`+rule.ID+`" class="scope-start rule-new"`) || !strings.Contains(r.body, `id="withheld-info"`) {
		t.Errorf("rules page from the link:\n%s", r.body)
	}
	// Deleting the rule offers the version again.
	b.post(rulesPath+"/delete", map[string][]string{"csrf": {b.csrf}, "id": {rule.ID}})
	if r := b.get(packageURI); strings.Contains(r.body, "withheld") {
		t.Errorf("withheld after the rule was deleted:\n%s", r.body)
	}
}
