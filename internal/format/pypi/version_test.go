package pypi

import (
	"slices"
	"strings"
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

// TestVersionOrder: Version.order sorts as Compare does, and is equal
// exactly for versions of the same release (Key).
func TestVersionOrder(t *testing.T) {
	parts := []string{"0", "1", "2", "10", "01", "0.0", "1.0", "1.0.0", "1.2", "1.10", "2!1", "1!0"}
	pre := []string{"", "a1", "a2", "b0", "rc1", "c1", "alpha10", "pre3"}
	post := []string{"", ".post0", ".post1", "-3", ".post10"}
	dev := []string{"", ".dev0", ".dev2", ".dev10"}
	local := []string{"", "+abc", "+abc.1", "+1", "+2.a", "+abd", "+ab", "+1.2", "+01"}
	var vs []Version
	var names []string
	for _, r := range parts {
		for _, p := range pre {
			for _, po := range post {
				for _, d := range dev {
					for _, l := range local {
						s := r + p + po + d + l
						v, ok := ParseVersion(s)
						if !ok {
							t.Fatalf("%q does not parse", s)
						}
						vs, names = append(vs, v), append(names, s)
					}
				}
			}
		}
	}
	orders, keys := make([]string, len(vs)), make([]string, len(vs))
	for i, v := range vs {
		orders[i], keys[i] = v.order(), v.Key()
	}
	for i := 0; i < len(vs); i++ {
		for j := i; j < len(vs); j += 1 + j%61 {
			want := vs[i].Compare(vs[j])
			if got := strings.Compare(orders[i], orders[j]); got != want {
				t.Fatalf("%q vs %q: order %d, Compare %d", names[i], names[j], got, want)
			}
			if (orders[i] == orders[j]) != (keys[i] == keys[j]) {
				t.Fatalf("%q vs %q: order equal %v, Key equal %v", names[i], names[j], orders[i] == orders[j], keys[i] == keys[j])
			}
		}
	}
}
