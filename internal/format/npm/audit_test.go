package npm_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"reflect"
	"testing"

	"coffer/internal/format/npm"
	"coffer/internal/osv"
	"coffer/internal/osv/ecosystems"
)

// auditRecords are the OSV records the local audit tests answer from.
var auditRecords = []string{
	`{"id": "GHSA-1111-2222-3333", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-1111"],
	  "summary": "Prototype pollution in fx-vuln",
	  "affected": [{"package": {"ecosystem": "npm", "name": "fx-vuln"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.3"}]}]}],
	  "references": [{"type": "PACKAGE", "url": "https://github.com/o/fx-vuln"}, {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-1111"}],
	  "database_specific": {"severity": "HIGH"}}`,
	// No summary, no class: titled by its id, "moderate".
	`{"id": "GHSA-4444-5555-6666", "modified": "2024-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "npm", "name": "fx-vuln"}, "versions": ["2.0.0"]}]}`,
	// Affects no version the tests ask about.
	`{"id": "GHSA-7777-8888-9999", "modified": "2024-01-01T00:00:00Z", "summary": "Later",
	  "affected": [{"package": {"ecosystem": "npm", "name": "fx-vuln"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "5.0.0"}]}]}]}`,
	`{"id": "MAL-2024-9", "modified": "2024-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "npm", "name": "fx-evil"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`,
	`{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-01T00:00:00Z", "summary": "ReDoS in fx-low",
	  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L"}],
	  "affected": [{"package": {"ecosystem": "npm", "name": "fx-low"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "1.4.0"}]}]}]}`,
}

func auditIndex(t testing.TB) *osv.Index {
	t.Helper()
	x := osv.NewIndex(ecosystems.Table())
	for _, s := range auditRecords {
		r, err := osv.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if !x.Add(r) {
			t.Fatalf("%s not added", r.ID)
		}
	}
	return x
}

// fnvID is the advisory number npm is told: 31 bits of FNV-1a.
func fnvID(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() & 0x7fffffff)
}

// auditEnv is newEnv whose handler answers audits from index.
func auditEnv(t *testing.T, index func() *osv.Index) *env {
	e := newEnv(t)
	e.tune = func(c *npm.Config) { c.Advisories = index }
	e.restart()
	return e
}

const (
	bulkPath  = "-/npm/v1/security/advisories/bulk"
	quickPath = "-/npm/v1/security/audits/quick"
	bulkBody  = `{"fx-vuln":["1.1.0","2.0.0","3.0.0"],"fx-evil":["0.0.1"],"fx-clean":["1.0.0"],"fx-low":["2.0.0"]}`
)

// wantBulk is the bulk answer to bulkBody.
func wantBulk() map[string]any {
	adv := func(id, url, title, sev, versions string) map[string]any {
		return map[string]any{"id": float64(fnvID(id)), "url": url, "title": title, "severity": sev, "vulnerable_versions": versions,
			"cwe": []any{}, "cvss": map[string]any{"score": float64(0), "vectorString": nil}}
	}
	return map[string]any{
		"fx-vuln": []any{
			adv("GHSA-1111-2222-3333", "https://nvd.nist.gov/vuln/detail/CVE-2024-1111", "Prototype pollution in fx-vuln", "high", ">=1.0.0 <1.2.3"),
			adv("GHSA-4444-5555-6666", "https://osv.dev/vulnerability/GHSA-4444-5555-6666", "GHSA-4444-5555-6666", "moderate", "=2.0.0"),
		},
		"fx-evil": []any{adv("MAL-2024-9", "https://osv.dev/vulnerability/MAL-2024-9", "Malware in fx-evil", "critical", ">=0.0.0")},
	}
}

func decode(t *testing.T, r response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	return v
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// TestAuditLocalBulk: without public:npmjs, the bulk audit (npm 7 and
// later) is answered from the index, in npm's shape: the advisories that
// affect a version asked about, nothing of the others.
func TestAuditLocalBulk(t *testing.T) {
	index := auditIndex(t)
	e := auditEnv(t, func() *osv.Index { return index })
	sameJSON(t, "bulk", decode(t, e.do("POST", "solo", bulkPath, []byte(bulkBody))), wantBulk())
	// Gzipped, as npm sends it.
	sameJSON(t, "gzipped bulk", decode(t, e.do("POST", "solo", bulkPath, gz([]byte(bulkBody)), "Content-Encoding", "gzip")), wantBulk())
	// Nothing affected, nothing known, not JSON: {}.
	for _, body := range []string{`{"fx-vuln":["1.2.3","4.0.0"],"fx-low":["1.4.1"]}`, `{"left-pad":["1.0.0"]}`, `{}`, `[1,2]`,
		`{"fx-vuln":"1.1.0","fx-evil":[1,null,{}]}`, `not json`, `{"fx-evil":["1.0.0"],"fx-vuln":["1.1.0"`} {
		if r := e.do("POST", "solo", bulkPath, []byte(body)); r.status != 200 || string(r.body) != "{}" {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	// last_affected is "<=".
	want := map[string]any{"fx-low": []any{map[string]any{"id": float64(fnvID("GHSA-aaaa-bbbb-cccc")), "url": "https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc",
		"title": "ReDoS in fx-low", "severity": "low", "vulnerable_versions": ">=0.0.0 <=1.4.0", "cwe": []any{}, "cvss": map[string]any{"score": float64(0), "vectorString": nil}}}}
	sameJSON(t, "fx-low", decode(t, e.do("POST", "solo", bulkPath, []byte(`{"fx-low":["1.4.0"],"fx-evil":null}`))), want)
}

// TestAuditLocalQuick: the quick audit (npm 6, pnpm) is answered in npm
// 6's report shape, with each finding's paths in the tree.
func TestAuditLocalQuick(t *testing.T) {
	index := auditIndex(t)
	e := auditEnv(t, func() *osv.Index { return index })
	body := `{"name":"app","version":"1.0.0","requires":{"fx-vuln":"^1.0.0","top":"^1.0.0"},"dependencies":{
	  "fx-vuln":{"version":"1.1.0","integrity":"sha512-x","requires":{}},
	  "top":{"version":"1.0.0","requires":{"fx-vuln":"2.0.0"},"dependencies":{
	    "fx-vuln":{"version":"2.0.0"},
	    "fx-evil":{"dev":true,"dependencies":{"fx-vuln":{"version":"1.1.0"}},"version":"0.0.1"}}},
	  "fx-clean":{"version":"1.0.0"}}}`
	got := decode(t, e.do("POST", "solo", quickPath, gz([]byte(body)), "Content-Encoding", "gzip"))
	h, l, m := fnvID("GHSA-1111-2222-3333"), fnvID("GHSA-4444-5555-6666"), fnvID("MAL-2024-9")
	resolve := func(id int, path string) map[string]any {
		return map[string]any{"id": float64(id), "path": path, "dev": false, "optional": false, "bundled": false}
	}
	advisory := func(id int, fields map[string]any) map[string]any {
		a := map[string]any{"id": float64(id), "created": nil, "updated": nil, "deleted": nil, "found_by": nil, "reported_by": nil,
			"access": "public", "cwe": "", "metadata": map[string]any{"module_type": "", "exploitability": float64(0), "affected_components": ""}}
		for k, v := range fields {
			a[k] = v
		}
		return a
	}
	want := map[string]any{
		"actions": []any{
			map[string]any{"action": "review", "module": "fx-vuln", "resolves": []any{resolve(h, "fx-vuln"), resolve(h, "top>fx-evil>fx-vuln")}},
			map[string]any{"action": "review", "module": "fx-vuln", "resolves": []any{resolve(l, "top>fx-vuln")}},
			map[string]any{"action": "review", "module": "fx-evil", "resolves": []any{resolve(m, "top>fx-evil")}},
		},
		"advisories": map[string]any{
			fmt.Sprint(h): advisory(h, map[string]any{
				"findings": []any{map[string]any{"version": "1.1.0", "paths": []any{"fx-vuln", "top>fx-evil>fx-vuln"}}},
				"title":    "Prototype pollution in fx-vuln", "module_name": "fx-vuln", "cves": []any{"CVE-2024-1111"},
				"vulnerable_versions": ">=1.0.0 <1.2.3", "patched_versions": ">=1.2.3", "overview": "Prototype pollution in fx-vuln",
				"recommendation": "Upgrade to a version in >=1.2.3.", "references": "https://nvd.nist.gov/vuln/detail/CVE-2024-1111",
				"severity": "high", "github_advisory_id": "GHSA-1111-2222-3333", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-1111"}),
			fmt.Sprint(l): advisory(l, map[string]any{
				"findings": []any{map[string]any{"version": "2.0.0", "paths": []any{"top>fx-vuln"}}},
				"title":    "GHSA-4444-5555-6666", "module_name": "fx-vuln", "cves": []any{},
				"vulnerable_versions": "=2.0.0", "patched_versions": ">2.0.0", "overview": "",
				"recommendation": "Upgrade to a version in >2.0.0.", "references": "https://osv.dev/vulnerability/GHSA-4444-5555-6666",
				"severity": "moderate", "github_advisory_id": "GHSA-4444-5555-6666", "url": "https://osv.dev/vulnerability/GHSA-4444-5555-6666"}),
			fmt.Sprint(m): advisory(m, map[string]any{
				"findings": []any{map[string]any{"version": "0.0.1", "paths": []any{"top>fx-evil"}}},
				"title":    "Malware in fx-evil", "module_name": "fx-evil", "cves": []any{},
				"vulnerable_versions": ">=0.0.0", "patched_versions": "<0.0.0", "overview": "",
				"recommendation": "Remove fx-evil: the affected versions are malicious (MAL-2024-9).", "references": "https://osv.dev/vulnerability/MAL-2024-9",
				"severity": "critical", "url": "https://osv.dev/vulnerability/MAL-2024-9"}),
		},
		"muted": []any{},
		"metadata": map[string]any{
			"vulnerabilities": map[string]any{"info": float64(0), "low": float64(0), "moderate": float64(1), "high": float64(2), "critical": float64(1)},
			"dependencies":    float64(3), "devDependencies": float64(0), "optionalDependencies": float64(0), "totalDependencies": float64(3),
		},
	}
	sameJSON(t, "quick", got, want)

	// Nothing found: the empty report, the dependencies counted.
	r := e.do("POST", "solo", quickPath, []byte(`{"dependencies":{"fx-vuln":{"version":"1.2.3"},"a":{"version":"1.0.0"}}}`))
	sameJSON(t, "quick, nothing found", decode(t, r), map[string]any{"actions": []any{}, "advisories": map[string]any{}, "muted": []any{},
		"metadata": map[string]any{"vulnerabilities": map[string]any{"info": float64(0), "low": float64(0), "moderate": float64(0), "high": float64(0), "critical": float64(0)},
			"dependencies": float64(2), "devDependencies": float64(0), "optionalDependencies": float64(0), "totalDependencies": float64(2)}})
}

// TestAuditRelayFirst: where public:npmjs is reached, its answer is the
// answer as long as it gives one; when it fails (an error status, or
// unreachable) the index answers.
func TestAuditRelayFirst(t *testing.T) {
	index := auditIndex(t)
	e := auditEnv(t, func() *osv.Index { return index })
	// The fixture answers the bulk audit {}.
	if r := e.do("POST", "app", bulkPath, []byte(bulkBody)); r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("relayed: %d %s", r.status, r.body)
	}
	if n := e.reg.Count("/" + bulkPath); n != 1 {
		t.Fatalf("the registry was asked %d times", n)
	}
	e.reg.Fail("/"+bulkPath, http.StatusServiceUnavailable)
	sameJSON(t, "after a 503", decode(t, e.do("POST", "app", bulkPath, gz([]byte(bulkBody)), "Content-Encoding", "gzip")), wantBulk())
	if n := e.reg.Count("/" + bulkPath); n != 2 {
		t.Fatalf("the registry was asked %d times", n)
	}
	// The fixture has no quick audit (404): the index answers.
	r := decode(t, e.do("POST", "app", quickPath, []byte(`{"dependencies":{"fx-evil":{"version":"1.0.0"}}}`)))
	if adv, _ := r.(map[string]any)["advisories"].(map[string]any); len(adv) != 1 || adv[fmt.Sprint(fnvID("MAL-2024-9"))] == nil {
		t.Fatalf("quick after a 404: %v", r)
	}
	// Unreachable.
	e.reg.Fail("/"+bulkPath, 0)
	e.up.Close()
	sameJSON(t, "unreachable", decode(t, e.do("POST", "app", bulkPath, []byte(bulkBody))), wantBulk())
}

// TestAuditNoIndex: no index, a nil one or an empty one: empty reports,
// as without the option.
func TestAuditNoIndex(t *testing.T) {
	for name, f := range map[string]func() *osv.Index{
		"nil func": nil, "nil index": func() *osv.Index { return nil },
		"empty index": func() *osv.Index { return osv.NewIndex(ecosystems.Table()) },
	} {
		t.Run(name, func(t *testing.T) {
			e := auditEnv(t, f)
			if r := e.do("POST", "solo", bulkPath, []byte(bulkBody)); r.status != 200 || string(r.body) != "{}" {
				t.Errorf("bulk: %d %s", r.status, r.body)
			}
			r := e.do("POST", "solo", quickPath, []byte(`{"dependencies":{"fx-evil":{"version":"1.0.0"}}}`))
			if m := decode(t, r).(map[string]any); len(m["advisories"].(map[string]any)) != 0 || m["metadata"].(map[string]any)["totalDependencies"] != float64(1) {
				t.Errorf("quick: %s", r.body)
			}
		})
	}
}

// TestAuditIndexSwapped: the index is asked for on each request, so that
// a refresh is seen at once.
func TestAuditIndexSwapped(t *testing.T) {
	var current *osv.Index
	e := auditEnv(t, func() *osv.Index { return current })
	if r := e.do("POST", "solo", bulkPath, []byte(bulkBody)); string(r.body) != "{}" {
		t.Fatalf("before: %s", r.body)
	}
	current = auditIndex(t)
	sameJSON(t, "after", decode(t, e.do("POST", "solo", bulkPath, []byte(bulkBody))), wantBulk())
}
