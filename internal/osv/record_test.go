package osv

import (
	"strings"
	"testing"
)

// ghsaRecord has the shape of a GitHub advisory as osv.dev exports it.
const ghsaRecord = `{
  "schema_version": "1.6.0",
  "id": "GHSA-xxxx-yyyy-zzzz",
  "modified": "2024-01-02T00:00:00Z",
  "published": "2023-12-01T00:00:00Z",
  "aliases": ["CVE-2023-0001"],
  "summary": "Prototype pollution in left-pad",
  "details": "Longer text.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "npm", "name": "left-pad", "purl": "pkg:npm/left-pad"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}],
    "database_specific": {"source": "x"}
  }],
  "references": [{"type": "ADVISORY", "url": "https://example.invalid/a"}],
  "database_specific": {"severity": "MODERATE", "cwe_ids": ["CWE-1321"], "github_reviewed": true}
}`

// malRecord has the shape of a malicious-packages entry.
const malRecord = `{
  "modified": "2024-05-01T00:00:00Z",
  "published": "2024-05-01T00:00:00Z",
  "schema_version": "1.5.0",
  "id": "MAL-2024-1234",
  "summary": "Malicious code in evil-pkg (npm)",
  "details": "Any computer that has this package installed should be considered compromised.",
  "affected": [{
    "package": {"ecosystem": "npm", "name": "evil-pkg"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
    "database_specific": {"malicious-packages-origins": [{"source": "ghsa-malware", "id": "GHSA-aaaa-bbbb-cccc"}]}
  }],
  "database_specific": {"malicious-packages-origins": [{"source": "ghsa-malware"}]}
}`

func TestParseRecords(t *testing.T) {
	r, err := Parse([]byte(ghsaRecord))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "GHSA-xxxx-yyyy-zzzz" || r.IsMalicious() || r.IsWithdrawn() {
		t.Fatalf("%+v", r)
	}
	if got := r.Affected[0].Ranges[0].Events; len(got) != 2 || got[0] != (Event{Introduced, "0"}) || got[1] != (Event{Fixed, "1.3.0"}) {
		t.Fatalf("events %+v", got)
	}
	// The database's own class wins over the CVSS score (9.8).
	if c := r.Class(); c != Moderate {
		t.Fatalf("class %v", c)
	}
	m, err := Parse([]byte(malRecord))
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsMalicious() || m.Class() != Unknown {
		t.Fatalf("malicious %v class %v", m.IsMalicious(), m.Class())
	}
}

func TestMaliciousByAlias(t *testing.T) {
	for _, tc := range []struct {
		id      string
		aliases []string
		want    bool
	}{
		{"MAL-2022-1", nil, true},
		{"mal-2022-1", nil, true},
		{"GHSA-1", []string{"CVE-1", "MAL-2023-9"}, true},
		{"GHSA-1", []string{"CVE-1"}, false},
		{"MALWARE-1", nil, false},
		{"MAL-", nil, false},
	} {
		r := &Record{ID: tc.id, Aliases: tc.aliases}
		if got := r.IsMalicious(); got != tc.want {
			t.Errorf("%s %v: %v", tc.id, tc.aliases, got)
		}
	}
}

func TestClassFromCVSS(t *testing.T) {
	rec := func(sev, affSev string, vectors ...string) *Record {
		r := &Record{ID: "X"}
		for _, v := range vectors {
			r.Severity = append(r.Severity, SeverityScore{Type: "CVSS_V3", Score: v})
		}
		r.Affected = []Affected{{Package: Package{"npm", "a", ""}}}
		if sev != "" {
			r.DatabaseSpecific = []byte(`{"severity":"` + sev + `"}`)
		}
		if affSev != "" {
			r.Affected[0].DatabaseSpecific = []byte(`{"severity":"` + affSev + `"}`)
		}
		return r
	}
	numeric := rec("", "", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N")
	numeric.DatabaseSpecific = []byte(`{"severity": 5}`)
	for _, tc := range []struct {
		r    *Record
		want Severity
	}{
		{numeric, Low},
		{rec("", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Critical},
		{rec("", "", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"), Moderate},
		{rec("", "", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), High},
		{rec("", "", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"), Low},
		{rec("", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), Unknown},
		{rec("", "", "garbage"), Unknown},
		{rec("critical", "", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"), Critical},
		{rec("", "HIGH"), High},
		{rec("", "MEDIUM"), Moderate},
		{rec("5", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), High}, // unknown class: CVSS decides
	} {
		if got := tc.r.Class(); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.r.Severity, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"not json", `{`, "unexpected EOF"},
		{"no id", `{"modified":"x"}`, "no id"},
		{"two kinds", `{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}`, "both"},
		{"no kind", `{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{}]}]}]}`, "none of"},
		{"empty version", `{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":""}]}]}]}`, "empty version"},
		{"no introduced", `{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}`, "no introduced"},
		{"no type", `{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"events":[{"introduced":"0"}]}]}]}`, "no type"},
		{"half a package", `{"id":"A","affected":[{"package":{"ecosystem":"npm"}}]}`, "ecosystem and name"},
		{"trailing", `{"id":"A"} {"id":"B"}`, "trailing"},
		{"wrong type", `{"id":"A","aliases":"MAL-1"}`, "cannot unmarshal"},
		{"too large", `{"id":"A","details":"` + strings.Repeat("x", MaxRecordSize) + `"}`, "more than"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A GIT-only entry without a package is valid (schema: package is
	// optional for such entries).
	if _, err := Parse([]byte(`{"id":"OSV-1","affected":[{"ranges":[{"type":"GIT","repo":"https://example.invalid/r","events":[{"introduced":"abc"}]}]}]}`)); err != nil {
		t.Fatal(err)
	}
}
