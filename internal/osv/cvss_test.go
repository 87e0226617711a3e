package osv

import "testing"

// The vectors and scores are the CVSS v3.1 specification's examples
// document (first.org, "CVSS v3.1 Examples") and the OSV schema's own
// severity example.
func TestCVSS3Score(t *testing.T) {
	for _, tc := range []struct {
		vector string
		want   float64
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},     // CVE-2013-1937 phpMyAdmin XSS
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},     // CVE-2013-0375 MySQL
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},     // CVE-2014-3566 POODLE
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},     // CVE-2012-1516 VMware
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},     // CVE-2014-0160 Heartbleed
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},     // CVE-2014-6271 Shellshock
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},     // CVE-2012-0384 Cisco IOS
		{"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8},     // CVE-2015-1098 Apple iWork
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 6.8},     // OSV schema severity example
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},    // the maximum
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},       // no impact
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},     // v3.0 prefix
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P", 9.8}, // temporal ignored
		{"CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N", 9.8},     // any order
	} {
		got, err := CVSS3Score(tc.vector)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.vector, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:2.0/AV:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",          // A missing
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",      // bad value
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // twice
		"CVSS:3.1/AVN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
	} {
		if _, err := CVSS3Score(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Roundup examples from the v3.1 specification, appendix A.
func TestRoundup(t *testing.T) {
	for in, want := range map[float64]float64{4.02: 4.1, 4.00: 4.0, 4.000000000000001: 4.0, 0.01: 0.1, 9.91: 10.0} {
		if got := roundup(in); got != want {
			t.Errorf("roundup(%v) = %v, want %v", in, got, want)
		}
	}
}
