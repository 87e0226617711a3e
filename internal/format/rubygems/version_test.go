package rubygems

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.0", "1.0"},
		{" 1.0\n", "1.0"},
		{"", "0"},
		{"1.0-rc1", "1.0.pre.rc1"},
		{"1.0.0-beta.2", "1.0.0.pre.beta.2"},
		{"1.a", "1.a"},
		{"0.2.0.pre1", "0.2.0.pre1"},
		{"20240101", "20240101"},
	} {
		got, err := CanonicalVersion(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalVersion(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a", "1..0", "1.0 beta", "-1", "1.0-", "v1", "1_0", "1.0+build", ".1", "1.", "0--", "1.0-a-", strings.Repeat("1", 256)} {
		if got, err := CanonicalVersion(bad); err == nil {
			t.Errorf("CanonicalVersion(%q) = %q", bad, got)
		}
	}
	for v, want := range map[string]bool{"1.0": true, "1.0-rc1": false, "": false, " 1": false, "1.0.pre.rc1": true} {
		if ValidVersion(v) != want {
			t.Errorf("ValidVersion(%q) = %v", v, !want)
		}
	}
	for v, want := range map[string]bool{"1.0": false, "1.0.a": true, "1.0.pre.rc1": true, "2": false} {
		if IsPrerelease(v) != want {
			t.Errorf("IsPrerelease(%q) = %v", v, !want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0},
		{"1.0", "1.0.0", 0},
		{"01", "1", 0},
		{"1.0.a", "1.0", -1},
		{"1.0.b1", "1.0.a2", 1},
		{"1.0.a10", "1.0.a9", 1},
		{"1.10", "1.9", 1},
		{"0.0.1", "0.0.0.1", 1},
		{"2.0.0.rc1", "2.0.0", -1},
		{"1.0.0.pre", "1.0.0.rc", -1},
		{"5.x", "5.0", -1},
		{"1.0.0.1", "1.0.0", 1},
		{"1.0.a.0", "1.0.a", 0},
		{"99999999999999999999", "100000000000000000000", -1},
		{"1.B", "1.a", -1},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

var versionSample = []string{
	"1.0", "1", "1.0.0", "0.9", "1.0.a", "1.0.b1", "1.0.a10", "1.0.a9", "1.10", "1.9", "2.0.0.rc1", "2.0.0",
	"1.0.0.pre", "1.0.0.rc", "5.x", "5.0", "0.0.0.1", "0.0.1", "3.0.0.beta.2", "3.0.0.beta.10", "3.0.0.beta",
	"10.0", "9.99.99", "1.0.0.1", "1.2.3.4.5.6", "0", "0.a", "1.B", "1.a", "20240101", "2.7.0.preview1",
}

// TestVersionOrderIsRubys sorts versions here and with Gem::Version.
func TestVersionOrderIsRubys(t *testing.T) {
	out := runRuby(t, `require "rubygems"
vs = ARGV.map { |v| Gem::Version.new(v) }
ARGV.each { |a| puts ARGV.map { |b| (Gem::Version.new(a) <=> Gem::Version.new(b)).to_s }.join(" ") }`, versionSample...)
	rows := strings.Split(strings.TrimSpace(out), "\n")
	for i, a := range versionSample {
		cols := strings.Fields(rows[i])
		for j, b := range versionSample {
			if got := fmt.Sprint(CompareVersions(a, b)); got != cols[j] {
				t.Errorf("CompareVersions(%s, %s) = %s, Ruby says %s", a, b, got, cols[j])
			}
		}
	}
}

func TestRequirement(t *testing.T) {
	for _, tc := range []struct {
		in, str, compact string
	}{
		{">= 1.0, < 2", ">= 1.0, < 2", "< 2&>= 1.0"},
		{"1.0", "= 1.0", "= 1.0"},
		{"", ">= 0", ">= 0"},
		{">=0", ">= 0", ">= 0"},
		{"~> 1.2,  ~> 1.2, != 1.2.5", "~> 1.2, != 1.2.5", "!= 1.2.5&~> 1.2"},
		{"> 1.0-rc1", "> 1.0.pre.rc1", "> 1.0.pre.rc1"},
		{"~> 1.15, >= 1.15.5", "~> 1.15, >= 1.15.5", ">= 1.15.5&~> 1.15"},
	} {
		r, err := ParseRequirement(tc.in)
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.str || r.CompactString() != tc.compact {
			t.Errorf("ParseRequirement(%q) = %q / %q, want %q / %q", tc.in, r.String(), r.CompactString(), tc.str, tc.compact)
		}
		again, err := ParseRequirement(r.String())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Errorf("ParseRequirement(String()) = %v, %v", again, err)
		}
		back, err := parseRequirement(r.CompactString(), "&")
		if err != nil || back.CompactString() != r.CompactString() {
			t.Errorf("parse of CompactString = %v, %v", back, err)
		}
	}
	for _, bad := range []string{">> 1", "= ", "1, ,2", "~>", "1.0 2.0", "=1,", strings.Repeat("1,", 70) + "1"} {
		if r, err := ParseRequirement(bad); err == nil {
			t.Errorf("ParseRequirement(%q) = %v", bad, r)
		}
	}
	var empty Requirement
	if !empty.IsDefault() || empty.String() != ">= 0" || DefaultRequirement.Prerelease() {
		t.Error("the empty requirement is not the default")
	}
	if !(Requirement{{">=", "1.0.a"}}).Prerelease() {
		t.Error("Prerelease")
	}
}

var requirementSample = []string{"~> 1.2", "~> 1.2.3", "~> 1", "~> 1.2.a", "!= 1.2.5", "> 1.0, < 2", "= 1.2", "<= 1.2.3", ">= 0", "~> 2.0.0.rc1", "~> 0.9"}

// TestSatisfiedByIsRubys checks every sample version against every sample
// requirement here and with Gem::Requirement#satisfied_by?.
func TestSatisfiedByIsRubys(t *testing.T) {
	vs := strings.Join(versionSample, " ")
	out := runRuby(t, `require "rubygems"
vs = ARGV.shift.split(" ").map { |v| Gem::Version.new(v) }
ARGV.each { |r| req = Gem::Requirement.new(*r.split(", ")); puts vs.map { |v| req.satisfied_by?(v) ? "1" : "0" }.join }`,
		append([]string{vs}, requirementSample...)...)
	rows := strings.Fields(out)
	for i, rs := range requirementSample {
		r, err := ParseRequirement(rs)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range versionSample {
			got := "0"
			if r.SatisfiedBy(v) {
				got = "1"
			}
			if got != rows[i][j:j+1] {
				t.Errorf("(%s).SatisfiedBy(%s) = %s, Ruby says %s", rs, v, got, rows[i][j:j+1])
			}
		}
	}
}

func TestBumpAndRelease(t *testing.T) {
	for v, want := range map[string]string{"1.2.3": "1.3", "1": "2", "1.2.a": "2", "9.9": "10", "1.99": "2", "0.a": "1"} {
		if got := bump(v); got != want {
			t.Errorf("bump(%s) = %s, want %s", v, got, want)
		}
	}
	for v, want := range map[string]string{"1.2.3": "1.2.3", "1.2.a.4": "1.2", "1.0.pre.rc1": "1.0"} {
		if got := release(v); got != want {
			t.Errorf("release(%s) = %s, want %s", v, got, want)
		}
	}
}
