package console_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// cofferRules runs `coffer rules <verb> --endpoint-url URL --domain acme
// <args>` with the CLI's credentials and decodes its JSON output: the API's
// account of what the console did.
func cofferRules(t *testing.T, a *awsCLI, verb string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(cofferBin, append([]string{"rules", verb, "--endpoint-url", a.url, "--domain", "acme"}, args...)...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("coffer rules %s: %v\n%s", verb, err, errb.String())
	}
	m := map[string]any{}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("coffer rules %s: %v\n%s", verb, err, out.String())
	}
	return m
}

// ruleTable reads the rules table of the page: cell text by class, and id.
func ruleTable(p *page) []row {
	p.t.Helper()
	return eval[[]row](p, `Array.from(document.querySelectorAll("#rules tbody tr[data-id]")).map(tr =>
		Object.assign({id: tr.dataset.id}, Object.fromEntries(Array.from(tr.querySelectorAll("td")).map(td => {
			const t = td.querySelector("time");
			return [td.classList[0], t && td.classList[0] !== "created" ? t.getAttribute("datetime") : td.querySelector(".none") ? "" : td.innerText.trim()];
		}))))`)
}

// TestRulesInChromium signs in to the console of a real coffer, adds a
// cooldown and a block rule with the supply-chain rules page's forms, sees
// them listed (and the API list them), has a bad value refused on the page,
// and deletes one.
func TestRulesInChromium(t *testing.T) {
	p := newPage(t) // fails at once without chromium
	// Its own folder, so that the other browser test's shots stay.
	p.shots = filepath.Join(p.shots, "rules")
	if err := os.MkdirAll(p.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(p.shots, "[0-9][0-9]-*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	c := startCoffer(t, t.TempDir())
	root := newAWSCLI(t, c, filepath.Join(c.DataDir, "root-credentials"))
	rootKey, rootSecret := rootCredentials(t, c.DataDir)
	root.ca("create-domain", "--domain", "acme")
	root.ca("create-repository", "--domain", "acme", "--repository", "npm-store", "--description", "Cache of npmjs.com")
	root.ca("associate-external-connection", "--domain", "acme", "--repository", "npm-store", "--external-connection", "public:npmjs")
	root.ca("create-repository", "--domain", "acme", "--repository", "app", "--upstreams", "repositoryName=npm-store")

	p.signIn(c.URL, rootKey, rootSecret)
	p.open(c.URL + "/console/domains/acme/")
	if status := p.click("#rules-link"); status != 200 || !strings.HasSuffix(p.location(), "/console/domains/acme/rules") || !p.has("#no-rules") {
		t.Fatalf("rules page: %d at %s", status, p.location())
	}
	p.shot("rules-empty")

	// A cooldown for the whole domain (the scope the form starts with).
	if got := eval[string](p, `document.getElementById("cooldown-scope").value`); got != "domain" {
		t.Fatalf("the cooldown form's scope starts at %q", got)
	}
	p.do(chromedp.SendKeys(chromedp.ID("cooldown-value"), "72h"))
	if status := p.click("#cooldown-submit"); status != 200 || p.text("#notice") != "Rule saved." {
		t.Fatalf("add cooldown: %d %q", status, p.text("#notice"))
	}

	// A block of left-pad below 1.3.0 in the repository app, the package given by name with its format.
	p.do(chromedp.SetValue(chromedp.ID("block-scope"), "repository:app"), chromedp.SendKeys(chromedp.ID("block-package"), "left-pad"),
		chromedp.SetValue(chromedp.ID("block-format"), "npm"), chromedp.SendKeys(chromedp.ID("block-versions"), "<1.3.0"),
		chromedp.SendKeys(chromedp.ID("block-reason"), "MAL-2018-1 look-alike"))
	if status := p.click("#block-submit"); status != 200 || p.text("#notice") != "Rule saved." {
		t.Fatalf("add block: %d %q", status, p.text("#notice"))
	}
	rows := ruleTable(p)
	if len(rows) != 2 {
		t.Fatalf("rules table: %v", rows)
	}
	cool, block := rows[0], rows[1]
	if !strings.HasPrefix(cool["scope"], "domain") || !strings.HasPrefix(cool["kind"], "cooldown") || cool["rule"] != "72h (3 days)" ||
		!strings.HasPrefix(block["scope"], "repository") || !strings.HasSuffix(block["scope"], "app") || !strings.HasPrefix(block["kind"], "block") ||
		block["rule"] != "/npm//left-pad$" || block["versions"] != "<1.3.0" || block["reason"] != "MAL-2018-1 look-alike" ||
		!strings.Contains(block["created"], ":root") {
		t.Fatalf("rules table: %v", rows)
	}
	if !p.has("#rule-" + block["id"] + ".rule-new") {
		t.Error("the rule just added is not highlighted")
	}
	p.shot("rules-added")

	// The API lists what the console stored.
	api := cofferRules(t, root, "list")
	listed, _ := get(api, "rules").([]any)
	ids := map[string]map[string]any{}
	for _, r := range listed {
		ids[str(r, "id")] = r.(map[string]any)
	}
	if len(listed) != 2 || str(ids[cool["id"]], "cooldown") != "72h0m0s" || str(ids[block["id"]], "package") != "/npm//left-pad$" ||
		str(ids[block["id"]], "repository") != "app" || str(ids[block["id"]], "versions") != "<1.3.0" {
		t.Fatalf("coffer rules list after the console's changes: %v", api)
	}

	// A value the rules refuse is shown by its form, which keeps what was typed.
	p.do(chromedp.SendKeys(chromedp.ID("freeze-value"), "next tuesday"))
	if status := p.click("#freeze-submit"); status != 400 || !strings.Contains(p.text("#freeze-form .rule-error"), "must be an RFC 3339 time") {
		t.Fatalf("bad freeze: %d", status)
	}
	if got := eval[string](p, `document.getElementById("freeze-value").value`); got != "next tuesday" {
		t.Errorf("the refused form lost its value: %q", got)
	}
	p.shot("rules-refused")

	// Delete the block.
	if status := p.click("#delete-" + block["id"]); status != 200 || p.text("#notice") != "Rule deleted." {
		t.Fatalf("delete: %d %q", status, p.text("#notice"))
	}
	if rows := ruleTable(p); len(rows) != 1 || rows[0]["id"] != cool["id"] {
		t.Fatalf("rules after the delete: %v", rows)
	}
	p.shot("rules-deleted")
	if listed, _ := get(cofferRules(t, root, "list"), "rules").([]any); len(listed) != 1 || str(listed[0], "id") != cool["id"] {
		t.Fatalf("coffer rules list after the delete: %v", listed)
	}

	// Audited as the API audits: the decision and what changed.
	audit, err := os.ReadFile(filepath.Join(c.DataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`"principal":"[^"]*:root"[^\n]*"action":"coffer:PutRule","resource":"[^"]*:repository/acme/app","decision":"allow"`,
		`"action":"coffer:PutRule","resource":"[^"]*:domain/acme/rule/` + block["id"] + `","decision":"allow","reason":"block repository app: /npm//left-pad\$ \\u003c1.3.0 \(reason: \\"MAL-2018-1 look-alike\\"\)"`,
		`"action":"coffer:DeleteRule","resource":"[^"]*:domain/acme/rule/` + block["id"] + `","decision":"allow"`,
	} {
		if !regexp.MustCompile(re).Match(audit) {
			t.Errorf("audit log lacks %s\n%s", re, audit)
		}
	}
	t.Logf("screenshots in %s", p.shots)
}
