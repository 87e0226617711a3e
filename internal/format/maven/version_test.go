package maven

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The orderings and equalities of Maven's own ComparableVersionTest.
var (
	qualifierOrder = []string{"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2",
		"1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123"}
	numberOrder = []string{"2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
		"2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m"}
	equalVersions = [][2]string{
		{"1", "1"}, {"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"}, {"1", "1.0-0"}, {"1.0", "1.0-0"},
		{"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1-a"}, {"1.0.0a", "1-a"},
		{"1x", "1-x"}, {"1x", "1.0-x"}, {"1x", "1.0.0-x"}, {"1.0x", "1-x"}, {"1.0.0x", "1-x"},
		{"1ga", "1"}, {"1release", "1"}, {"1final", "1"}, {"1cr", "1rc"},
		{"1a1", "1-alpha-1"}, {"1b2", "1-beta-2"}, {"1m3", "1-milestone-3"},
		{"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"}, {"1Ga", "1"}, {"1GA", "1"}, {"1RELEASE", "1"},
		{"1FINAL", "1"}, {"1Cr", "1Rc"}, {"1cR", "1rC"}, {"1m3", "1Milestone3"}, {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
		{"1.0.0-00", "1"}, {"00001.2", "1.2"},
	}
)

func checkOrder(t *testing.T, order []string) {
	t.Helper()
	for i := range order {
		for j := range order {
			got := CompareVersions(order[i], order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}

func TestVersionOrder(t *testing.T) {
	checkOrder(t, qualifierOrder)
	checkOrder(t, numberOrder)
	checkOrder(t, []string{"1.0-alpha-1", "1.0-beta-1", "1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0.1", "1.2", "1.10", "10.0"})
	// Large numbers compare numerically, whatever their size.
	checkOrder(t, []string{"1.9", "1.123456789", "1.1234567890", "1.123456789012345678", "1.1234567890123456789012"})
	for _, eq := range equalVersions {
		if c := CompareVersions(eq[0], eq[1]); c != 0 {
			t.Errorf("CompareVersions(%q, %q) = %d, want 0", eq[0], eq[1], c)
		}
		if c := CompareVersions(eq[1], eq[0]); c != 0 {
			t.Errorf("CompareVersions(%q, %q) = %d, want 0", eq[1], eq[0], c)
		}
	}
}

func TestVersionSortIsStable(t *testing.T) {
	want := slices.Clone(numberOrder)
	got := slices.Clone(numberOrder)
	rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortFunc(got, CompareVersions)
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %v", got)
	}
}

func TestParseBuild(t *testing.T) {
	b, ok := ParseBuild("1.1.0-20261125.181235-1")
	if !ok || b != (Build{Base: "1.1.0", Timestamp: "20261125.181235", BuildNumber: 1}) || b.Version() != "1.1.0-20261125.181235-1" || b.Snapshot() != "1.1.0-SNAPSHOT" {
		t.Errorf("ParseBuild = %+v, %v", b, ok)
	}
	for _, s := range []string{"1.1.0", "1.1.0-SNAPSHOT", "1.1.0-20261125-1", "1.1.0-20261125.181235", "20261125.181235-1", "1-20261125.181235-0"} {
		if b, ok := ParseBuild(s); ok {
			t.Errorf("ParseBuild(%q) = %+v", s, b)
		}
	}
	older, _ := ParseBuild("1.0-20261125.181235-9")
	newer, _ := ParseBuild("1.0-20261125.181236-1")
	next, _ := ParseBuild("1.0-20261125.181236-2")
	if !newer.Newer(older) || older.Newer(newer) || !next.Newer(newer) || newer.Newer(newer) {
		t.Error("Build.Newer")
	}
}
