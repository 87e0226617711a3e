package cargo

import (
	"strings"
	"testing"

	"coffer/internal/fault"
)

func TestCheckName(t *testing.T) {
	good := []string{"a", "serde", "serde_json", "foo-bar", "Inflector", "A1-_x", "libc2", "z" + strings.Repeat("9", 63), "testing", "stdx", "com0", "com10", "lpt"}
	bad := []string{
		"", "1abc", "_foo", "-foo", "foo.bar", "foo bar", "foo/bar", "föo", "foo\x00",
		"a" + strings.Repeat("b", 64),
		// reserved, in any spelling
		"std", "STD", "core", "alloc", "proc_macro", "proc-macro", "Proc_Macro", "compiler_builtins", "rust-installer", "rust_installer", "test",
		"nul", "NUL", "con", "aux", "prn", "com1", "COM9", "lpt1", "lpt9",
	}
	for _, n := range good {
		if err := CheckName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range bad {
		err := CheckName(n)
		if err == nil {
			t.Errorf("%q accepted", n)
		} else if fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%q: %v is not a validation fault", n, err)
		}
		if ValidName(n) {
			t.Errorf("ValidName(%q)", n)
		}
	}
	// Messages stay printable and short whatever the input.
	err := CheckName("x\x01" + strings.Repeat("y", 500))
	if msg := err.Error(); strings.ContainsRune(msg, 1) || len(msg) > 200 {
		t.Errorf("message %q", msg)
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"foo-bar": "foo_bar", "Foo_Bar": "foo_bar", "FOO-BAR": "foo_bar", "serde": "serde", "a-b_c-": "a_b_c_",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
	if Canonical("foo-bar") != Canonical("FOO_bar") || Canonical("foobar") == Canonical("foo-bar") {
		t.Error("canonical forms do not identify crates")
	}
}

func TestIndexPath(t *testing.T) {
	for name, want := range map[string]string{
		"a":          "1/a",
		"Z":          "1/z",
		"ab":         "2/ab",
		"abc":        "3/a/abc",
		"Oth":        "3/o/oth",
		"abcd":       "ab/cd/abcd",
		"serde":      "se/rd/serde",
		"Serde_JSON": "se/rd/serde_json",
		"demo-lib":   "de/mo/demo-lib",
		"dep-a":      "de/p-/dep-a",
		"a-_b":       "a-/_b/a-_b",
		"Inflector":  "in/fl/inflector",
	} {
		if got := IndexPath(name); got != want {
			t.Errorf("IndexPath(%q) = %q, want %q", name, got, want)
		}
		got, ok := ParseIndexPath(want)
		if !ok || got != strings.ToLower(name) {
			t.Errorf("ParseIndexPath(%q) = %q, %v", want, got, ok)
		}
	}
	for _, p := range []string{
		"", "/", "a", "1/", "1/ab", "2/a", "2/abc", "3/b/abc", "3/abc", "3/a/b/abc", "ab/cd/abce", "ab/cd/abcd/", "/se/rd/serde",
		"se/rd/Serde", "SE/RD/serde", "Se/rd/serde", "se/rd/serde.json", "config.json", "co/nf/config.json",
		"1/_", "2/1a", "12/34/1234", "se//rd/serde", "se/rd/../serde", "./se/rd/serde", "se/rd/ser%64e",
		"ab/cd/abcd" + strings.Repeat("e", 61),
	} {
		if n, ok := ParseIndexPath(p); ok {
			t.Errorf("ParseIndexPath(%q) = %q", p, n)
		}
	}
}

func TestVersion(t *testing.T) {
	good := []string{
		"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92",
		"1.0.0-alpha+001", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD",
		"1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", "18446744073709551615.0.0", "1.0.0--", "1.0.0-0A",
	}
	bad := []string{
		"", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01", "1.2.3-a..b",
		"1.2.3+a..b", "1.2.3 ", " 1.2.3", "1.2.3-a b", "1.2.3-α", "18446744073709551616.0.0", "1.2.3-a+b+c", "-1.2.3",
		"1.2.3+" + strings.Repeat("a", 250), "1..3", "a.b.c",
	}
	for _, v := range good {
		if !ValidVersion(v) || CheckVersion(v) != nil {
			t.Errorf("%q refused", v)
		}
	}
	for _, v := range bad {
		if ValidVersion(v) {
			t.Errorf("%q accepted", v)
		}
		if err := CheckVersion(v); fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%q: %v", v, err)
		}
	}
	if VersionKey("1.0.0-rc.1+build.5") != "1.0.0-rc.1" || VersionKey("2.0.0") != "2.0.0" {
		t.Error("VersionKey")
	}
}
