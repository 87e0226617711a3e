package swift

import (
	"strconv"
	"strings"
)

// ValidScope reports whether s is a package scope (Registry.md §3.6.1):
// alphanumerics and single inner hyphens, 1–39 characters,
// \A[a-zA-Z0-9](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){0,38}\z.
func ValidScope(s string) bool { return validIdent(s, 39, "-") }

// ValidName reports whether s is a package name (Registry.md §3.6.2):
// alphanumerics with single inner hyphens or underscores, 1–100
// characters, \A[a-zA-Z0-9](?:[a-zA-Z0-9]|[-_](?=[a-zA-Z0-9])){0,99}\z.
func ValidName(s string) bool { return validIdent(s, 100, "-_") }

func validIdent(s string, max int, seps string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c):
		case strings.IndexByte(seps, c) >= 0:
			// a separator is neither first nor last and is followed by an
			// alphanumeric
			if i == 0 || i+1 >= len(s) || !isAlnum(s[i+1]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Normalize is the stored form of a scope and name: both are
// case-insensitive (§3.6), so they are kept in lower case, as the format
// row does for the API and ARNs.
func Normalize(scope, name string) (string, string) {
	return strings.ToLower(scope), strings.ToLower(name)
}

// Version is a parsed SemVer 2.0 version.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string // pre-release identifiers, nil for a release
	Build               string
}

// ParseVersion parses a SemVer 2.0.0 version: MAJOR.MINOR.PATCH with
// numbers without leading zeros, an optional pre-release of dot-separated
// non-empty [0-9A-Za-z-] identifiers (numeric ones without leading
// zeros) and optional build metadata of such identifiers.
func ParseVersion(s string) (Version, bool) {
	var v Version
	if len(s) == 0 || len(s) > 255 {
		return v, false
	}
	rest, build, hasBuild := strings.Cut(s, "+")
	if hasBuild {
		if !identifiers(build, false) {
			return v, false
		}
		v.Build = build
	}
	core, pre, hasPre := strings.Cut(rest, "-")
	if hasPre {
		if !identifiers(pre, true) {
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
		if !numeric(p) {
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

// ValidVersion reports whether s is a SemVer 2.0.0 version.
func ValidVersion(s string) bool { _, ok := ParseVersion(s); return ok }

// numeric: digits without a leading zero (but "0").
func numeric(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// identifiers checks dot-separated SemVer identifiers; pre-release ones
// that are all digits must have no leading zero.
func identifiers(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		digits := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !isAlnum(c) && c != '-' {
				return false
			}
			if c < '0' || c > '9' {
				digits = false
			}
		}
		if pre && digits && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// Compare orders versions by SemVer precedence (build metadata ignored).
func (v Version) Compare(o Version) int {
	for _, d := range [][2]uint64{{v.Major, o.Major}, {v.Minor, o.Minor}, {v.Patch, o.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(v.Pre) == 0 && len(o.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(o.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(o.Pre); i++ {
		a, b := v.Pre[i], o.Pre[i]
		an, bn := numeric(a), numeric(b)
		switch {
		case an && bn:
			if len(a) != len(b) {
				if len(a) < len(b) {
					return -1
				}
				return 1
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
	switch {
	case len(v.Pre) < len(o.Pre):
		return -1
	case len(v.Pre) > len(o.Pre):
		return 1
	}
	return 0
}

// compareStrings orders two version strings by precedence; an invalid
// one sorts before every valid one, and two invalid ones by text.
func compareStrings(a, b string) int {
	va, oka := ParseVersion(a)
	vb, okb := ParseVersion(b)
	switch {
	case oka && okb:
		if c := va.Compare(vb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(a, b)
}
