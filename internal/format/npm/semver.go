package npm

import (
	"strconv"
	"strings"
)

// Semver is a parsed Semantic Versioning 2.0.0 version.
type Semver struct {
	Major, Minor, Patch uint64
	Pre                 []string // dot-separated prerelease identifiers
	Build               string
}

// ParseSemver parses a strict SemVer 2.0.0 version (what npm publishes
// after normalising package.json): MAJOR.MINOR.PATCH, optional -prerelease
// and +build, no leading zeros in numeric parts, at most 256 characters.
func ParseSemver(s string) (Semver, bool) {
	var v Semver
	if s == "" || len(s) > 256 {
		return v, false
	}
	rest, build, hasBuild := strings.Cut(s, "+")
	if hasBuild {
		if !validIdents(build, false) {
			return v, false
		}
		v.Build = build
	}
	core, pre, hasPre := strings.Cut(rest, "-")
	if hasPre {
		if !validIdents(pre, true) {
			return v, false
		}
		v.Pre = strings.Split(pre, ".")
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return v, false
	}
	nums := [3]*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		if !numeric(p) || len(p) > 1 && p[0] == '0' {
			return v, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return v, false
		}
		*nums[i] = n
	}
	return v, true
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validIdents checks dot-separated identifiers [0-9A-Za-z-]+; prerelease
// numeric identifiers must not have leading zeros.
func validIdents(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && numeric(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// Compare orders versions by SemVer precedence (build metadata ignored).
func (v Semver) Compare(w Semver) int {
	for _, d := range [3][2]uint64{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(v.Pre) == 0 && len(w.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(w.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(w.Pre); i++ {
		a, b := v.Pre[i], w.Pre[i]
		an, bn := numeric(a), numeric(b)
		switch {
		case an && bn:
			if len(a) != len(b) {
				return cmpInt(len(a), len(b))
			}
			if c := strings.Compare(a, b); c != 0 {
				return c
			}
		case an:
			return -1
		case bn:
			return 1
		default:
			if c := strings.Compare(a, b); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(v.Pre), len(w.Pre))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareVersions orders version strings: SemVer precedence where both
// parse (then the strings, so that builds differ), valid versions before
// invalid ones, invalid ones by string.
func compareVersions(a, b string) int {
	va, oka := ParseSemver(a)
	vb, okb := ParseSemver(b)
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
