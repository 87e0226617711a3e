package ecosystems

import (
	"testing"

	"coffer/internal/osv"
)

type check struct {
	name, version string
	want          bool
}

func record(eco, name string, versions []string, events ...osv.Event) *osv.Record {
	return &osv.Record{ID: "T-1", Affected: []osv.Affected{{
		Package:  osv.Package{Ecosystem: eco, Name: name},
		Versions: versions,
		Ranges:   []osv.Range{{Type: osv.RangeEcosystem, Events: events}},
	}}}
}

func in(v string) osv.Event    { return osv.Event{Kind: osv.Introduced, Version: v} }
func fixed(v string) osv.Event { return osv.Event{Kind: osv.Fixed, Version: v} }
func last(v string) osv.Event  { return osv.Event{Kind: osv.LastAffected, Version: v} }

// Each ecosystem's own order and name rule, through the same evaluation.
func TestEcosystems(t *testing.T) {
	tab := Table()
	for _, tc := range []struct {
		eco    string
		rec    *osv.Record
		checks []check
	}{
		{Npm, record(Npm, "@scope/pkg", nil, in("1.0.0-beta.2"), fixed("1.0.0")), []check{
			{"@scope/pkg", "1.0.0-beta.1", false}, {"@scope/pkg", "1.0.0-beta.10", true},
			{"@scope/pkg", "1.0.0", false}, {"@Scope/Pkg", "1.0.0-rc.1", false},
		}},
		{PyPI, record(PyPI, "Foo_Bar", []string{"0.9"}, in("1.0"), fixed("2.0rc1")), []check{
			{"foo-bar", "0.9.0", true}, // versions list equality is PEP 440's
			{"foo.bar", "0.9.1", false}, {"FOO-BAR", "1.0.0", true}, {"foo-bar", "1.0.post1", true},
			{"foo-bar", "2.0b9", true}, {"foo-bar", "2.0rc1", false}, {"foo-bar", "2.0", false},
			{"foo-bar", "1.0.dev1", false}, {"foo-bar", "not a version", false},
		}},
		{Maven, record(Maven, "org.example:lib", nil, in("0"), last("1.10")), []check{
			{"org.example:lib", "1.9", true}, {"org.example:lib", "1.10", true},
			{"org.example:lib", "1.10.0", true}, // ComparableVersion: 1.10 == 1.10.0
			{"org.example:lib", "1.10-SNAPSHOT", true}, {"org.example:lib", "1.10.1", false},
			{"org.example:lib", "1.11-alpha-1", false}, {"org.example:other", "1.0", false},
		}},
		{CratesIO, record(CratesIO, "Serde-JSON", nil, in("1.0.0"), fixed("1.0.5")), []check{
			{"serde_json", "1.0.4", true}, {"serde-json", "1.0.5", false}, {"serde_json", "0.9.0", false},
		}},
		{RubyGems, record(RubyGems, "rails", []string{"7.1.0.rc1"}, in("6.0.0"), fixed("6.1")), []check{
			{"rails", "6.0.9", true}, {"rails", "6.1.0", false}, {"rails", "6.1.a", true},
			{"rails", "6", true}, // Gem::Version: 6 == 6.0.0
			{"rails", "7.1.0.rc1", true}, {"rails", "7.1.0", false}, {"Rails", "6.0.9", false},
		}},
		{NuGet, record(NuGet, "Newtonsoft.Json", []string{"13.0.0-beta1"}, in("0"), fixed("13.0.1")), []check{
			{"newtonsoft.json", "12.0.3", true}, {"NEWTONSOFT.JSON", "13.0.1", false},
			{"newtonsoft.json", "13.0.1-preview", true}, {"newtonsoft.json", "13.0.0.0", true},
			{"newtonsoft.json", "13.0.0-BETA1", true}, {"newtonsoft.json", "13.0.1.0", false},
		}},
	} {
		x := osv.NewIndex(tab)
		x.Add(tc.rec)
		for _, c := range tc.checks {
			if got := tab.Affects(tc.rec, tc.eco, c.name, c.version); got != c.want {
				t.Errorf("%s %s %s: Affects %v, want %v", tc.eco, c.name, c.version, got, c.want)
			}
			if got := len(x.Lookup(tc.eco, c.name, c.version)) == 1; got != c.want {
				t.Errorf("%s %s %s: Lookup %v, want %v", tc.eco, c.name, c.version, got, c.want)
			}
		}
	}
}

// The malicious-packages feed's usual PyPI entry: explicit versions, no
// ranges, found under the name and version as a client spells them.
func TestMaliciousPyPI(t *testing.T) {
	rec, err := osv.Parse([]byte(`{"id": "MAL-2024-0001", "modified": "2025-01-01T00:00:00Z",
		"summary": "Malicious code in a-oder (PyPI)",
		"affected": [{"package": {"ecosystem": "PyPI", "name": "a-oder"}, "versions": ["8.0.0"]}],
		"database_specific": {"malicious-packages-origins": [{"source": "x", "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	x := osv.NewIndex(Table())
	x.Add(rec)
	if got := x.Lookup(PyPI, "A_Oder", "8.0"); len(got) != 1 || !got[0].Malicious {
		t.Fatalf("lookup %v", got)
	}
	if got := x.Lookup(PyPI, "a-oder", "8.0.1"); len(got) != 0 {
		t.Fatalf("other version matched: %v", got)
	}
}

func TestPackage(t *testing.T) {
	for _, tc := range []struct {
		format, ns, name, eco, osvName string
		ok                             bool
	}{
		{"npm", "", "left-pad", Npm, "left-pad", true},
		{"npm", "types", "node", Npm, "@types/node", true},
		{"pypi", "", "requests", PyPI, "requests", true},
		{"maven", "org.apache", "commons", Maven, "org.apache:commons", true},
		{"cargo", "", "serde", CratesIO, "serde", true},
		{"ruby", "", "rails", RubyGems, "rails", true},
		{"nuget", "", "newtonsoft.json", NuGet, "newtonsoft.json", true},
		{"swift", "apple", "swift-nio", "", "", false},
		{"generic", "ns", "x", "", "", false},
	} {
		eco, name, ok := Package(tc.format, tc.ns, tc.name)
		if eco != tc.eco || name != tc.osvName || ok != tc.ok {
			t.Errorf("Package(%s, %s, %s) = %s %s %v", tc.format, tc.ns, tc.name, eco, name, ok)
		}
	}
}
