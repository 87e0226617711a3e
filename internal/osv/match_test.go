package osv

import (
	"strings"
	"testing"
)

// semverOnly is a table with the one order this package has of its own.
var semverOnly = Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}}

func rangeRecord(typ string, events ...Event) *Record {
	return &Record{ID: "T-1", Affected: []Affected{{
		Package: Package{Ecosystem: "npm", Name: "p"},
		Ranges:  []Range{{Type: typ, Events: events}},
	}}}
}

func ev(k EventKind, v string) Event { return Event{k, v} }

// The cases under "schema" are the OSV schema's examples (docs/schema.md,
// section "Examples": unfixed, fixed, multiple range, last_affected vs
// fixed) evaluated with its "Evaluation" pseudocode.
func TestAffectsRanges(t *testing.T) {
	type check struct {
		v    string
		want bool
	}
	for _, tc := range []struct {
		name   string
		events []Event
		checks []check
	}{
		{"schema: unfixed", []Event{ev(Introduced, "0")},
			[]check{{"0.0.1", true}, {"99.0.0", true}, {"1.0.0-alpha", true}}},
		{"schema: fixed", []Event{ev(Introduced, "0"), ev(Fixed, "1.0.2")},
			[]check{{"1.0.1", true}, {"1.0.2", false}, {"1.0.2-rc.1", true}, {"2.0.0", false}}},
		{"schema: multiple", []Event{ev(Introduced, "1.0.0"), ev(Fixed, "1.0.2"), ev(Introduced, "3.0.0"), ev(Fixed, "3.2.5")},
			[]check{{"0.9.0", false}, {"1.0.0", true}, {"1.0.1", true}, {"1.0.2", false}, {"2.5.0", false}, {"3.0.0", true}, {"3.2.4", true}, {"3.2.5", false}, {"4.0.0", false}}},
		{"schema: last_affected inclusive", []Event{ev(Introduced, "0"), ev(LastAffected, "2.1.214")},
			[]check{{"2.1.213", true}, {"2.1.214", true}, {"2.1.215", false}}},
		{"schema: fixed exclusive", []Event{ev(Introduced, "0"), ev(Fixed, "2.1.214")},
			[]check{{"2.1.213", true}, {"2.1.214", false}}},
		{"unsorted events", []Event{ev(Fixed, "3.2.5"), ev(Introduced, "3.0.0"), ev(Fixed, "1.0.2"), ev(Introduced, "1.0.0")},
			[]check{{"1.0.1", true}, {"2.0.0", false}, {"3.1.0", true}, {"3.2.5", false}}},
		{"limit", []Event{ev(Introduced, "1.0.0"), ev(Limit, "2.0.0")},
			[]check{{"0.5.0", false}, {"1.5.0", true}, {"2.0.0", false}, {"3.0.0", false}}},
		{"limit star", []Event{ev(Introduced, "1.0.0"), ev(Limit, "*")},
			[]check{{"1.5.0", true}, {"9.0.0", true}}},
		{"several limits", []Event{ev(Introduced, "0"), ev(Limit, "1.0.0"), ev(Limit, "3.0.0")},
			[]check{{"0.1.0", true}, {"2.0.0", true}, {"3.0.0", false}}},
		{"introduced only", []Event{ev(Introduced, "1.2.3")},
			[]check{{"1.2.2", false}, {"1.2.3", true}, {"5.0.0", true}}},
		{"v prefix and short forms", []Event{ev(Introduced, "v1.0"), ev(Fixed, "1.1")},
			[]check{{"1.0.0", true}, {"v1.0.5", true}, {"1.1.0", false}}},
		{"build metadata ignored", []Event{ev(Introduced, "0"), ev(Fixed, "1.0.0+build.1")},
			[]check{{"1.0.0", false}, {"0.9.9+x", true}}},
	} {
		for _, typ := range []string{RangeSemVer, RangeEcosystem} {
			rec := rangeRecord(typ, tc.events...)
			for _, c := range tc.checks {
				if got := semverOnly.Affects(rec, "npm", "p", c.v); got != c.want {
					t.Errorf("%s (%s): %s affected %v, want %v", tc.name, typ, c.v, got, c.want)
				}
			}
		}
	}
}

func TestAffectsVersionsAndPackages(t *testing.T) {
	rec := &Record{ID: "T-2", Affected: []Affected{
		{Package: Package{Ecosystem: "npm", Name: "a"}, Versions: []string{"1.0.0", "1.0.1"}},
		{Package: Package{Ecosystem: "npm", Name: "b"},
			Ranges: []Range{{Type: RangeGit, Repo: "r", Events: []Event{ev(Introduced, "0")}}}},
		{Package: Package{Ecosystem: "Other", Name: "c"}, Versions: []string{"x1"},
			Ranges: []Range{{Type: RangeEcosystem, Events: []Event{ev(Introduced, "0"), ev(Fixed, "x5")}}}},
		{Package: Package{Ecosystem: "Other", Name: "d"},
			Ranges: []Range{{Type: RangeEcosystem, Events: []Event{ev(Introduced, "0")}}}},
	}}
	for _, tc := range []struct {
		eco, name, v string
		want         bool
	}{
		{"npm", "a", "1.0.0", true},
		{"npm", "a", "1.0.1", true},
		{"npm", "a", "1.0.2", false},
		{"npm", "A", "1.0.0", false},  // npm names are case-sensitive
		{"PyPI", "a", "1.0.0", false}, // another ecosystem
		{"npm", "b", "1.0.0", false},  // GIT ranges need the repository
		{"Other", "c", "x1", true},    // no comparator: explicit versions only
		{"Other", "c", "x2", false},   // ... and no ECOSYSTEM range
		{"npm", "a", "not-a-version", false},
	} {
		if got := semverOnly.Affects(rec, tc.eco, tc.name, tc.v); got != tc.want {
			t.Errorf("%s %s %s: %v, want %v", tc.eco, tc.name, tc.v, got, tc.want)
		}
	}
	// An unreadable version is matched by the versions list only.
	odd := rangeRecord(RangeSemVer, ev(Introduced, "0"), ev(Fixed, "9.0.0"))
	odd.Affected[0].Versions = []string{"weird"}
	if !semverOnly.Affects(odd, "npm", "p", "weird") || semverOnly.Affects(odd, "npm", "p", "other-weird") {
		t.Fatal("unreadable versions")
	}
	// ... except by "every version", which needs no reading.
	if !semverOnly.Affects(rangeRecord(RangeSemVer, ev(Introduced, "0")), "npm", "p", "other-weird") {
		t.Fatal("introduced 0 did not match an unreadable version")
	}
	rec.Withdrawn = "2024-01-01T00:00:00Z"
	if semverOnly.Affects(rec, "npm", "a", "1.0.0") {
		t.Fatal("withdrawn record matched")
	}
}

func TestEcosystemSuffix(t *testing.T) {
	tab := Ecosystems{"Maven": {Compare: CompareSemVer, Name: strings.ToLower}}
	rec := &Record{ID: "T-3", Affected: []Affected{{
		Package: Package{Ecosystem: "Maven:https://maven.google.com", Name: "G:A"},
		Ranges:  []Range{{Type: RangeEcosystem, Events: []Event{ev(Introduced, "0"), ev(Fixed, "2.0.0")}}},
	}}}
	if !tab.Affects(rec, "Maven:https://maven.google.com", "g:a", "1.0.0") {
		t.Fatal("suffixed ecosystem did not use its base row")
	}
	if tab.Affects(rec, "Maven", "g:a", "1.0.0") {
		t.Fatal("suffixed ecosystem matched the plain one")
	}
}

func TestCompareSemVer(t *testing.T) {
	order := []string{"", "garbage", "0.0.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0"}
	for i := range order {
		for j := range order {
			got := CompareSemVer(order[i], order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("CompareSemVer(%q, %q) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}
