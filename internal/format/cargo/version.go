package cargo

import (
	"strconv"
	"strings"

	"coffer/internal/fault"
)

// MaxVersionLength bounds a version string: the longest PackageVersion
// the CodeArtifact API accepts.
const MaxVersionLength = 255

// ValidVersion reports whether v is a SemVer 2.0.0 version as cargo's
// semver parser reads it: MAJOR.MINOR.PATCH (decimal, no leading zeros,
// each fitting in 64 bits), an optional -prerelease of dot-separated
// non-empty [0-9A-Za-z-] identifiers (numeric ones without leading
// zeros) and an optional +build of such identifiers (leading zeros
// allowed); no "v" prefix, no spaces. At most MaxVersionLength bytes.
func ValidVersion(v string) bool {
	if v == "" || len(v) > MaxVersionLength {
		return false
	}
	core, build, hasBuild := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !numericIdent(p) {
			return false
		}
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			return false
		}
	}
	if hasPre && !identifiers(pre, true) {
		return false
	}
	if hasBuild && !identifiers(build, false) {
		return false
	}
	return true
}

// CheckVersion is ValidVersion as a validation fault.
func CheckVersion(v string) error {
	if !ValidVersion(v) {
		return fault.Validation("invalid version `%s`: it must be a SemVer 2.0 version such as 1.2.3 or 1.0.0-beta.1", printable(v))
	}
	return nil
}

// numericIdent reports whether s is a decimal number without leading
// zeros.
func numericIdent(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// identifiers checks a dot-separated prerelease or build list. In a
// prerelease, an all-digit identifier must not have leading zeros.
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
			digits = digits && isDigit(c)
		}
		if pre && digits && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// VersionKey is the part of a version that tells releases apart: the
// version without its build metadata. Cargo's requirements cannot choose
// between 1.0.0+a and 1.0.0+b, so a registry keeps one version per key,
// as the public registry does.
func VersionKey(v string) string {
	core, _, _ := strings.Cut(v, "+")
	return core
}
