package pypi

import (
	"slices"
	"testing"
)

func TestNormalizeVersion(t *testing.T) {
	for in, want := range map[string]string{
		"1.0":              "1.0",
		"1.0.0":            "1.0.0",
		"v1.01":            "1.1",
		"1.0.0-Alpha1":     "1.0.0a1",
		"1.0a":             "1.0a0",
		"1.0.BETA.2":       "1.0b2",
		"1.0c1":            "1.0rc1",
		"1.0-preview-3":    "1.0rc3",
		"1.0-1":            "1.0.post1",
		"1.0.rev":          "1.0.post0",
		"1.0_r2":           "1.0.post2",
		"1.0dev":           "1.0.dev0",
		"1.0-DEV-07":       "1.0.dev7",
		"0!1.0":            "1.0",
		"2!1.0":            "2!1.0",
		"1.0+Ubuntu-1.01":  "1.0+ubuntu.1.1",
		" 1.2.3 ":          "1.2.3",
		"1.0a1.post2.dev3": "1.0a1.post2.dev3",
		"2019.04.001":      "2019.4.1",
	} {
		got, ok := NormalizeVersion(in)
		if !ok || got != want {
			t.Errorf("NormalizeVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "1.0-foo", "latest", "1..0", "1.0+", "1.0+a..b", "a1.0", "1.0.x"} {
		if got, ok := NormalizeVersion(bad); ok {
			t.Errorf("NormalizeVersion(%q) = %q, want invalid", bad, got)
		}
	}
}

func TestVersionKeyAndEquivalents(t *testing.T) {
	for _, same := range [][2]string{{"1.0", "1.0.0"}, {"1", "1.0.0.0"}, {"1.0a1", "1.0.0a1"}, {"v1.0.post1", "1.0.0-1"}} {
		if !sameVersion(same[0], same[1]) {
			t.Errorf("%s and %s should be the same release", same[0], same[1])
		}
	}
	for _, diff := range [][2]string{{"1.0", "1.0.1"}, {"1.0", "1.0a1"}, {"1.0", "1.0+local"}, {"1.0", "1.0.post0"}} {
		if sameVersion(diff[0], diff[1]) {
			t.Errorf("%s and %s should differ", diff[0], diff[1])
		}
	}
	v, _ := ParseVersion("1.0.0rc1")
	if got, want := v.Equivalents(), []string{"1rc1", "1.0rc1", "1.0.0rc1", "1.0.0.0rc1", "1.0.0.0.0rc1", "1.0.0.0.0.0rc1"}; !slices.Equal(got, want) {
		t.Errorf("Equivalents = %v, want %v", got, want)
	}
}

func TestCompareVersions(t *testing.T) {
	// PEP 440's examples of ordering, plus local versions.
	order := []string{
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
		"1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7",
		"1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "2!0.1",
	}
	for i := range order {
		for j := range order {
			a, _ := ParseVersion(order[i])
			b, _ := ParseVersion(order[j])
			want := cmpInt(i, j)
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a, _ := ParseVersion("1.0")
	b, _ := ParseVersion("1.0.0")
	if a.Compare(b) != 0 {
		t.Error("1.0 and 1.0.0 should compare equal")
	}
}
