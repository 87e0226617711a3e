package osv

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestNPMRanges(t *testing.T) {
	semverRange := func(events ...Event) []Range { return []Range{{Type: RangeSemVer, Events: events}} }
	cases := []struct {
		name     string
		ranges   []Range
		versions []string
		want     string
	}{
		{"fixed", semverRange(ev(Introduced, "1.0.0"), ev(Fixed, "1.2.3")), nil, ">=1.0.0 <1.2.3"},
		{"from the start", semverRange(ev(Introduced, "0"), ev(Fixed, "1.2.3")), nil, ">=0.0.0 <1.2.3"},
		{"every version", semverRange(ev(Introduced, "0")), nil, ">=0.0.0"},
		{"open", semverRange(ev(Introduced, "2.0.0")), nil, ">=2.0.0"},
		{"last affected", semverRange(ev(Introduced, "1.0.0"), ev(LastAffected, "1.4.0")), nil, ">=1.0.0 <=1.4.0"},
		{"explicit versions", nil, []string{"2.0.0", "3.0.0-rc.1"}, "=2.0.0 || =3.0.0-rc.1"},
		{"range and versions", semverRange(ev(Introduced, "1.0.0"), ev(Fixed, "1.2.3")), []string{"2.0.0"}, ">=1.0.0 <1.2.3 || =2.0.0"},
		// Events out of order, several intervals in one range.
		{"timeline", semverRange(ev(Fixed, "2.1.0"), ev(Introduced, "2.0.0"), ev(Fixed, "1.5.0"), ev(Introduced, "1.0.0")), nil,
			">=1.0.0 <1.5.0 || >=2.0.0 <2.1.0"},
		{"two ranges", []Range{
			{Type: RangeSemVer, Events: []Event{ev(Introduced, "1.0.0"), ev(Fixed, "1.0.5")}},
			{Type: RangeEcosystem, Events: []Event{ev(Introduced, "2.0.0-beta.1"), ev(Fixed, "2.0.1")}}}, nil,
			">=1.0.0 <1.0.5 || >=2.0.0-beta.1 <2.0.1"},
		// A second introduced while affected changes nothing; a fixed
		// while not affected neither.
		{"redundant events", semverRange(ev(Introduced, "1.0.0"), ev(Introduced, "1.1.0"), ev(Fixed, "1.2.0"), ev(Fixed, "1.3.0")), nil, ">=1.0.0 <1.2.0"},
		{"empty interval", semverRange(ev(Introduced, "1.0.0"), ev(Fixed, "1.0.0")), nil, ""},
		{"limit", semverRange(ev(Introduced, "1.0.0"), ev(Limit, "1.9.0"), ev(Limit, "1.8.0")), nil, ">=1.0.0 <1.9.0"},
		{"limit star", semverRange(ev(Introduced, "1.0.0"), ev(Limit, "*")), nil, ">=1.0.0"},
		// Versions written as npm reads them.
		{"completed", semverRange(ev(Introduced, "v1.2"), ev(Fixed, "2")), []string{"v3.0.0"}, ">=1.2.0 <2.0.0 || =3.0.0"},
		// npm could not read the interval: left out.
		{"not semver", semverRange(ev(Introduced, "x.y"), ev(Fixed, "1.0.0")), []string{"banana", "1.0.0"}, "=1.0.0"},
		{"duplicates", []Range{
			{Type: RangeSemVer, Events: []Event{ev(Introduced, "0")}},
			{Type: RangeSemVer, Events: []Event{ev(Introduced, "0")}}}, []string{"1.0.0", "1.0.0"}, ">=0.0.0 || =1.0.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := NewIndex(Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}})
			x.Add(&Record{ID: "GHSA-1", Affected: []Affected{{Package: Package{Ecosystem: "npm", Name: "p"}, Ranges: c.ranges, Versions: c.versions}}})
			got := x.Advisories("npm", "p")
			if len(got) != 1 {
				t.Fatalf("%d advisories", len(got))
			}
			if got[0].Ranges != c.want {
				t.Errorf("ranges %q, want %q", got[0].Ranges, c.want)
			}
		})
	}
}

func TestAdvisories(t *testing.T) {
	x := NewIndex(Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}, "PyPI": {Compare: CompareSemVer, Name: strings.ToLower}})
	pkg := func(name string, events ...Event) []Affected {
		return []Affected{{Package: Package{Ecosystem: "npm", Name: name}, Ranges: []Range{{Type: RangeSemVer, Events: events}}}}
	}
	long := strings.Repeat("é", 200) // 400 bytes: cut at 256, between characters
	recs := []*Record{
		// nvd first: the URL's tail is the CVE alias.
		{ID: "GHSA-aaaa", Aliases: []string{"GHSA-other", "CVE-2024-1"}, Summary: "  Prototype pollution  ",
			References:       []Reference{{"PACKAGE", "https://github.com/o/r"}, {"ADVISORY", "https://nvd.nist.gov/vuln/detail/CVE-2024-1"}, {"WEB", "https://x.invalid/"}},
			DatabaseSpecific: []byte(`{"severity":"HIGH"}`), Affected: pkg("lib", ev(Introduced, "1.0.0"), ev(Fixed, "1.2.3"))},
		// The record's own page: the tail is its id.
		{ID: "GHSA-bbbb", Summary: long, References: []Reference{{"WEB", "https://github.com/advisories/GHSA-bbbb"}},
			Affected: pkg("lib", ev(Introduced, "0"), ev(LastAffected, "0.9.0"))},
		// No ADVISORY or WEB reference: osv.dev.
		{ID: "MAL-2024-7", References: []Reference{{"REPORT", "https://r.invalid/1"}}, Affected: pkg("lib", ev(Introduced, "0"))},
		// A URL kept whole: its tail is no field of the record.
		{ID: "GHSA-cccc", Aliases: []string{"CVE-2024-2"}, References: []Reference{{"ADVISORY", "https://example.com/a/b?q=1"}},
			Affected: append(pkg("lib", ev(Introduced, "3.0.0"), ev(Fixed, "3.0.1")), Affected{Package: Package{Ecosystem: "npm", Name: "lib"}, Versions: []string{"4.0.0"}},
				Affected{Package: Package{Ecosystem: "PyPI", Name: "Lib"}, Versions: []string{"1.0"}})},
		{ID: "GHSA-dddd", References: []Reference{{"WEB", "no-slash"}}, Affected: pkg("other", ev(Introduced, "0"))},
	}
	for _, r := range recs {
		if !x.Add(r) {
			t.Fatalf("%s not added", r.ID)
		}
	}
	// The index keeps nothing of the records: changing them changes
	// nothing.
	for _, r := range recs {
		r.ID, r.Summary = "gone", "gone"
		for i := range r.Aliases {
			r.Aliases[i] = "gone"
		}
		for i := range r.References {
			r.References[i].URL = "gone"
		}
		for _, a := range r.Affected {
			for i := range a.Versions {
				a.Versions[i] = "gone"
			}
			for _, rg := range a.Ranges {
				for i := range rg.Events {
					rg.Events[i].Version = "gone"
				}
			}
		}
	}
	type want struct {
		id, summary, cve, url, ranges string
		sev                           Severity
		mal                           bool
	}
	wants := []want{
		{"GHSA-aaaa", "Prototype pollution", "CVE-2024-1", "https://nvd.nist.gov/vuln/detail/CVE-2024-1", ">=1.0.0 <1.2.3", High, false},
		{"GHSA-bbbb", strings.Repeat("é", 128), "", "https://github.com/advisories/GHSA-bbbb", ">=0.0.0 <=0.9.0", Unknown, false},
		{"MAL-2024-7", "", "", "https://osv.dev/vulnerability/MAL-2024-7", ">=0.0.0", Unknown, true},
		{"GHSA-cccc", "", "CVE-2024-2", "https://example.com/a/b?q=1", ">=3.0.0 <3.0.1 || =4.0.0", Unknown, false},
	}
	got := x.Advisories("npm", "lib")
	if len(got) != len(wants) {
		t.Fatalf("%d advisories: %+v", len(got), got)
	}
	for i, w := range wants {
		a := got[i]
		if g := (want{a.ID, a.Summary, a.CVE, a.URL, a.Ranges, a.Severity, a.Malicious}); g != w {
			t.Errorf("advisory %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if got := x.Advisories("npm", "other"); len(got) != 1 || got[0].URL != "no-slash" {
		t.Errorf("other: %+v", got)
	}
	if got := x.Advisories("PyPI", "LIB"); len(got) != 1 || got[0].ID != "GHSA-cccc" || got[0].Ranges != "=1.0.0" || !got[0].Affects("1.0") {
		t.Errorf("PyPI: %+v", got)
	}
	if got := x.Advisories("npm", "nothing"); got != nil {
		t.Errorf("nothing: %+v", got)
	}
	// Affects is Lookup's answer, advisory by advisory.
	for _, v := range []string{"0.1.0", "0.9.0", "0.9.1", "1.0.0", "1.2.3", "3.0.0", "3.0.1", "4.0.0", "not-a-version"} {
		var ids []string
		for _, a := range got0(x) {
			if a.Affects(v) {
				ids = append(ids, a.ID)
			}
		}
		var lookup []string
		for _, m := range x.Lookup("npm", "lib", v) {
			lookup = append(lookup, m.ID)
		}
		if strings.Join(ids, ",") != strings.Join(lookup, ",") {
			t.Errorf("%s: Affects says %v, Lookup %v", v, ids, lookup)
		}
	}
}

func got0(x *Index) []Advisory { return x.Advisories("npm", "lib") }

func TestURLPrefixesBounded(t *testing.T) {
	x := NewIndex(Ecosystems{})
	x.urlPre = append(x.urlPre, make([]span, maxURLPrefixes-len(x.urlPre))...)
	x.Add(&Record{ID: "A", References: []Reference{{"WEB", "https://new.invalid/A"}}, Affected: []Affected{{Package: Package{Ecosystem: "npm", Name: "p"}, Versions: []string{"1"}}}})
	if a := x.Advisories("npm", "p"); len(a) != 1 || a[0].URL != "https://new.invalid/A" || len(x.urlPre) != maxURLPrefixes {
		t.Fatalf("%+v, %d prefixes", a, len(x.urlPre))
	}
}

// BenchmarkAdvisories renders the advisories of one package of an index
// of 200,000 records.
func BenchmarkAdvisories(b *testing.B) {
	x := NewIndex(Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}})
	for i := range benchRecords {
		x.Add(synthetic(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if len(x.Advisories("npm", "package-12345")) == 0 {
			b.Fatal("none")
		}
	}
}

// TestNPMRangesAgree: for random SEMVER ranges (limits included) and
// versions lists over plain versions, the rendered range, read by an independent semver
// constraint parser, holds exactly the versions Affects holds.
func TestNPMRangesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	var domain []string
	for a := range 3 {
		for b := range 3 {
			for c := range 3 {
				domain = append(domain, fmt.Sprintf("%d.%d.%d", a, b, c))
			}
		}
	}
	kinds := []EventKind{Introduced, Fixed, LastAffected}
	for i := range 3000 {
		var ranges []Range
		for range 1 + rng.IntN(2) {
			events := []Event{ev(Introduced, domain[rng.IntN(len(domain))])}
			if rng.IntN(4) == 0 {
				events[0].Version = "0"
			}
			for range rng.IntN(5) {
				events = append(events, ev(kinds[rng.IntN(len(kinds))], domain[rng.IntN(len(domain))]))
			}
			if rng.IntN(5) == 0 {
				events = append(events, ev(Limit, domain[rng.IntN(len(domain))]))
			}
			ranges = append(ranges, Range{Type: RangeSemVer, Events: events})
		}
		var versions []string
		for range rng.IntN(3) {
			versions = append(versions, domain[rng.IntN(len(domain))])
		}
		x := NewIndex(Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}})
		x.Add(&Record{ID: fmt.Sprint(i), Affected: []Affected{{Package: Package{Ecosystem: "npm", Name: "p"}, Ranges: ranges, Versions: versions}}})
		a := x.Advisories("npm", "p")[0]
		var c *semver.Constraints
		if a.Ranges != "" {
			var err error
			if c, err = semver.NewConstraint(a.Ranges); err != nil {
				t.Fatalf("%q: %v", a.Ranges, err)
			}
		}
		for _, v := range domain {
			in := c != nil && c.Check(semver.MustParse(v))
			if in != a.Affects(v) {
				t.Fatalf("%+v %v: range %q holds %s: %v, Affects: %v", ranges, versions, a.Ranges, v, in, a.Affects(v))
			}
		}
	}
}
