package npm

import (
	"strings"

	"github.com/Masterminds/semver/v3"
)

// maxVersionLength is npm's bound on a version string.
const maxVersionLength = 256

// parseVersion parses a strict SemVer 2.0.0 version (what npm publishes
// after normalising package.json): MAJOR.MINOR.PATCH, optional -prerelease
// and +build, no leading zeros, no "v" prefix.
func parseVersion(s string) (*semver.Version, bool) {
	if len(s) > maxVersionLength {
		return nil, false
	}
	v, err := semver.StrictNewVersion(s)
	return v, err == nil
}

// compareVersions orders version strings: SemVer precedence where both
// parse (then the strings, so that builds differ), valid versions after
// invalid ones, invalid ones by string.
func compareVersions(a, b string) int {
	va, oka := parseVersion(a)
	vb, okb := parseVersion(b)
	switch {
	case oka && okb:
		if c := va.Compare(vb); c != 0 {
			return c
		}
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(a, b)
}

// validTag reports whether s may name a dist-tag: 1 to 128 printable
// characters without "/", "%" or whitespace, and not something npm would
// read as a version or a range (npm refuses tags that are valid SemVer
// ranges, so that "npm install pkg@<tag>" stays unambiguous).
func validTag(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("/%<>=~^|*\"\\", c) >= 0 {
			return false
		}
	}
	t := strings.TrimPrefix(s, "v")
	if t != "" && (t[0] >= '0' && t[0] <= '9') {
		return false
	}
	return s != "x" && s != "X"
}
