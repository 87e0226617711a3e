// Package nugetver reads and normalises NuGet versions as
// NuGet.Versioning does; the engine's format row uses it for the API's
// version inputs, the nuget plug-in for everything else.
package nugetver

import (
	"strconv"
	"strings"
)

// Version is a NuGet version as NuGet.Versioning reads it:
// Major[.Minor[.Patch[.Revision]]][-Release][+Metadata].
type Version struct {
	Parts    [4]int // Major, Minor, Patch, Revision
	Release  string // dot-separated labels, "" for none
	Metadata string // build metadata, "" for none
	Original string // as written
}

// maxVersionLength bounds a version string (the API's PackageVersion limit).
const maxVersionLength = 255

// ParseVersion reads a version as NuGetVersion.TryParse does: one to four
// decimal parts (leading zeros allowed, each fitting in 31 bits), then an
// optional -release of dot-separated non-empty [0-9A-Za-z-] labels and an
// optional +metadata of such labels. Surrounding spaces are not allowed.
func ParseVersion(s string) (Version, bool) {
	v := Version{Original: s}
	if s == "" || len(s) > maxVersionLength {
		return v, false
	}
	rest, meta, hasMeta := strings.Cut(s, "+")
	core, rel, hasRel := strings.Cut(rest, "-")
	if hasMeta {
		if !labels(meta) {
			return v, false
		}
		v.Metadata = meta
	}
	if hasRel {
		if !labels(rel) {
			return v, false
		}
		v.Release = rel
	}
	parts := strings.Split(core, ".")
	if len(parts) > 4 {
		return v, false
	}
	for i, p := range parts {
		if p == "" || len(p) > 10 {
			return v, false
		}
		for j := 0; j < len(p); j++ {
			if p[j] < '0' || p[j] > '9' {
				return v, false
			}
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return v, false
		}
		v.Parts[i] = int(n)
	}
	return v, true
}

// labels checks a dot-separated list of non-empty [0-9A-Za-z-] labels.
func labels(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Normalized is the version as NuGet normalises it (NuGetVersion's
// ToNormalizedString): leading zeros stripped, at least three parts, the
// fourth only when it is not 0, the release label kept in its case,
// build metadata dropped.
func (v Version) Normalized() string {
	b := make([]byte, 0, 16+len(v.Release))
	for i := 0; i < 3; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(v.Parts[i]), 10)
	}
	if v.Parts[3] != 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(v.Parts[3]), 10)
	}
	if v.Release != "" {
		b = append(b, '-')
		b = append(b, v.Release...)
	}
	return string(b)
}

// Key is the version as stored and as the flat container spells it: the
// normalised version in lower case (NuGet compares versions ignoring case,
// so 1.0.0-Beta and 1.0.0-beta are one version).
func (v Version) Key() string { return strings.ToLower(v.Normalized()) }

// IsSemVer2 reports whether only a SemVer 2.0.0 aware client can read the
// version: it has build metadata or a release of several labels.
func (v Version) IsSemVer2() bool {
	return v.Metadata != "" || strings.Contains(v.Release, ".")
}

// IsPrerelease reports whether the version has a release label.
func (v Version) IsPrerelease() bool { return v.Release != "" }

// NormalizeVersion is the stored key of a version string, or "" when it is
// no NuGet version.
func NormalizeVersion(s string) string {
	v, ok := ParseVersion(s)
	if !ok {
		return ""
	}
	return v.Key()
}

// Compare orders versions by NuGet's precedence: the numeric parts, then a
// release before its absence, labels one by one (numeric ones numerically
// and before alphanumeric ones, those compared ignoring case), a shorter
// list of labels first. Metadata is ignored.
func Compare(a, b Version) int {
	for i := range a.Parts {
		if a.Parts[i] != b.Parts[i] {
			if a.Parts[i] < b.Parts[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case a.Release == "" && b.Release == "":
		return 0
	case a.Release == "":
		return 1
	case b.Release == "":
		return -1
	}
	al, bl := strings.Split(a.Release, "."), strings.Split(b.Release, ".")
	for i := 0; i < len(al) && i < len(bl); i++ {
		x, ex := strconv.ParseUint(al[i], 10, 64)
		y, ey := strconv.ParseUint(bl[i], 10, 64)
		switch {
		case ex == nil && ey == nil:
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		case ex == nil:
			return -1
		case ey == nil:
			return 1
		default:
			if c := strings.Compare(strings.ToLower(al[i]), strings.ToLower(bl[i])); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(al) < len(bl):
		return -1
	case len(al) > len(bl):
		return 1
	}
	return 0
}

// Stored is the form a version is stored and looked up under: its
// normalised key, or v unchanged when it is no NuGet version (the API
// then answers it not found).
func Stored(v string) string {
	if k := NormalizeVersion(v); k != "" {
		return k
	}
	return v
}

// ValidID reports whether id is a NuGet package id: at most 100
// characters, word characters separated by single '.' or '-' (NuGet's
// PackageIdValidator: ^\w+([.-]\w+)*$, ASCII here).
func ValidID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	prevSep := true
	for i := 0; i < len(id); i++ {
		c := id[i]
		word := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		switch {
		case word:
			prevSep = false
		case c == '.' || c == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}
