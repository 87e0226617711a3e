package swift_test

import (
	"strings"
	"testing"

	"coffer/internal/format/swift"
)

func TestValidScope(t *testing.T) {
	for s, want := range map[string]bool{
		"mona": true, "MONA": true, "a": true, "a-b": true, "a1-b2-c3": true, strings.Repeat("a", 39): true,
		"": false, strings.Repeat("a", 40): false, "-a": false, "a-": false, "a--b": false, "a_b": false,
		"a.b": false, "a b": false, "ä": false, "a/b": false,
	} {
		if got := swift.ValidScope(s); got != want {
			t.Errorf("ValidScope(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{
		"LinkedList": true, "linked_list": true, "linked-list": true, "a": true, strings.Repeat("a", 100): true,
		"": false, strings.Repeat("a", 101): false, "_a": false, "a_": false, "a__b": false, "a-_b": false,
		"a.b": false, "-a": false, "a b": false,
	} {
		if got := swift.ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for s, want := range map[string]bool{
		"1.0.0": true, "0.0.0": true, "1.2.3-alpha.1": true, "1.2.3+build.5": true, "1.2.3-rc.1+b": true,
		"1.0.0-0A.is.legal": true, "1.0.0-x-y-z.--": true,
		"1.0": false, "1": false, "01.0.0": false, "1.0.0-": false, "1.0.0-01": false, "1.0.0+": false,
		"1.0.0-a..b": false, "v1.0.0": false, "1.0.0.0": false, "1.0.0-ä": false, "": false,
		"99999999999999999999.0.0": false,
	} {
		if _, got := swift.ParseVersion(s); got != want {
			t.Errorf("ParseVersion(%q) ok = %v, want %v", s, got, want)
		}
	}
}

func TestVersionPrecedence(t *testing.T) {
	// SemVer 2.0.0 §11's example, in increasing precedence.
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0"}
	for i := 0; i+1 < len(order); i++ {
		a, _ := swift.ParseVersion(order[i])
		b, _ := swift.ParseVersion(order[i+1])
		if a.Compare(b) >= 0 || b.Compare(a) <= 0 {
			t.Errorf("%s should precede %s", order[i], order[i+1])
		}
	}
	a, _ := swift.ParseVersion("1.0.0+a")
	b, _ := swift.ParseVersion("1.0.0+b")
	if a.Compare(b) != 0 {
		t.Errorf("build metadata must not count in precedence")
	}
}

func TestNormalize(t *testing.T) {
	if s, n := swift.Normalize("Mona", "LinkedList"); s != "mona" || n != "linkedlist" {
		t.Errorf("Normalize = %s %s", s, n)
	}
	if got := swift.AssetName("LinkedList", "1.0.0"); got != "linkedlist-1.0.0.zip" {
		t.Errorf("AssetName = %s", got)
	}
}

func TestCheckAccept(t *testing.T) {
	for _, tc := range []struct {
		accept string
		status int
	}{
		{"", 0},
		{"application/vnd.swift.registry.v1+json", 0},
		{"application/vnd.swift.registry.v1+zip", 0},
		{"application/vnd.swift.registry.v1+swift", 0},
		{"application/vnd.swift.registry.v1", 0},
		{"application/vnd.swift.registry+json", 0},
		{"application/json", 0},
		{"*/*", 0},
		{"application/vnd.swift.registry.v2+json", 415},
		{"application/vnd.swift.registry.v10", 415},
		{"application/vnd.swift.registry.vX+json", 400},
		{"application/vnd.swift.registry.v+json", 400},
		{"application/vnd.swift.registry.v1+xml", 400},
		{"application/vnd.swift.registry.v2+json, application/vnd.swift.registry.v1+json", 0},
	} {
		var values []string
		if tc.accept != "" {
			values = []string{tc.accept}
		}
		err := swift.CheckAccept(values)
		status := 0
		if err != nil {
			status = swift.StatusOf(err)
		}
		if status != tc.status {
			t.Errorf("Accept %q: %d (%v), want %d", tc.accept, status, err, tc.status)
		}
	}
}
