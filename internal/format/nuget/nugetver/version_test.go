package nugetver

import "testing"

// The normalisation cases are NuGet.Versioning's (NuGetVersion
// ToNormalizedString) and the CodeArtifact guide's examples.
func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"1.01.1":           "1.1.1",
		"1.0.0.0":          "1.0.0",
		"1.0.7+r3456":      "1.0.7",
		"12.0.03.0":        "12.0.3",
		"1":                "1.0.0",
		"1.2":              "1.2.0",
		"1.2.3.4":          "1.2.3.4",
		"01.002.0003.0004": "1.2.3.4",
		"1.0.0-Beta":       "1.0.0-Beta",
		"1.0.0-beta.1+sha": "1.0.0-beta.1",
		"1.0.0.0-rc":       "1.0.0-rc",
		"2147483647.0.0":   "2147483647.0.0",
	} {
		v, ok := ParseVersion(in)
		if !ok || v.Normalized() != want {
			t.Errorf("%q: %q %v, want %q", in, v.Normalized(), ok, want)
		}
	}
	for _, bad := range []string{"", "a", "1.", ".1", "1..2", "1.2.3.4.5", "1.0-", "1.0+", "1.0-beta..1", "1.0-be_ta",
		"v1.0", " 1.0", "1.0 ", "2147483648.0.0", "-1.0", "1.0.0-", "1.0.0+a+b"} {
		if _, ok := ParseVersion(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if NormalizeVersion("1.0.0-BETA") != "1.0.0-beta" {
		t.Error("the key is not lower case")
	}
}

func TestSemVer2(t *testing.T) {
	for in, want := range map[string]bool{"1.0.0": false, "1.0.0-beta": false, "1.0.0-beta.1": true, "1.0.0+git": true} {
		v, _ := ParseVersion(in)
		if v.IsSemVer2() != want {
			t.Errorf("%s: %v", in, !want)
		}
	}
}

func TestCompare(t *testing.T) {
	order := []string{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-BETA", "1.0.0-beta.2", "1.0.0-beta.11",
		"1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.0.1", "1.10.0", "2.0.0"}
	for i := 0; i+1 < len(order); i++ {
		a, _ := ParseVersion(order[i])
		b, _ := ParseVersion(order[i+1])
		if Compare(a, b) >= 0 || Compare(b, a) <= 0 {
			t.Errorf("%s !< %s", order[i], order[i+1])
		}
	}
	a, _ := ParseVersion("1.0.0-Beta+x")
	b, _ := ParseVersion("1.0.0-beta")
	if Compare(a, b) != 0 {
		t.Error("case or metadata changes the order")
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{"Newtonsoft.Json": true, "a": true, "A_b-c.d": true, "": false, ".a": false, "a.": false,
		"a..b": false, "a b": false, "a/b": false, "é": false} {
		if ValidID(id) != want {
			t.Errorf("%q: %v", id, !want)
		}
	}
}
