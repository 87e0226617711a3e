package npm

import (
	"strings"
)

// MaxNameLength is the longest package name npm accepts for new packages
// (validate-npm-package-name), scope included.
const MaxNameLength = 214

// Name is an npm package name: "@scope/base" or "base". In CodeArtifact
// terms the scope, without "@", is the package's namespace and Base its
// name (spec §6: @types/react is namespace "types", package "react").
type Name struct {
	Scope string // without "@"; "" when unscoped
	Base  string
}

// String is the name as npm spells it.
func (n Name) String() string {
	if n.Scope == "" {
		return n.Base
	}
	return "@" + n.Scope + "/" + n.Base
}

// Escaped is the name as one URL path segment, the way npm sends it
// ("@scope%2fbase").
func (n Name) Escaped() string {
	if n.Scope == "" {
		return n.Base
	}
	return "@" + n.Scope + "%2f" + n.Base
}

// Path is the name as URL path segments, the way tarball URLs spell it
// ("@scope/base").
func (n Name) Path() string { return n.String() }

// TarballName is the file name of a version's tarball: "<base>-<version>.tgz"
// (the scope is not part of it).
func (n Name) TarballName(version string) string { return n.Base + "-" + version + ".tgz" }

// ParseName splits an npm package name and checks it against the rules
// every existing npm name follows (validate-npm-package-name's
// validForOldPackages): 1 to 214 characters, each part URL-safe
// (encodeURIComponent leaves it as is), not starting with "." or "_", no
// surrounding spaces, not "node_modules" or "favicon.ico". Upper-case
// letters and ~'!()* are accepted here, since old public packages have
// them; ValidNewName is stricter.
func ParseName(s string) (Name, bool) {
	if s == "" || len(s) > MaxNameLength {
		return Name{}, false
	}
	var n Name
	if strings.HasPrefix(s, "@") {
		scope, base, ok := strings.Cut(s[1:], "/")
		if !ok {
			return Name{}, false
		}
		n = Name{Scope: scope, Base: base}
		if !validPart(scope) {
			return Name{}, false
		}
	} else {
		n = Name{Base: s}
		if s == "node_modules" || s == "favicon.ico" {
			return Name{}, false
		}
	}
	if !validPart(n.Base) {
		return Name{}, false
	}
	return n, true
}

// validPart checks one part of a name (scope or base).
func validPart(p string) bool {
	if p == "" || p[0] == '.' || p[0] == '_' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !uriComponentSafe(p[i]) {
			return false
		}
	}
	return true
}

// uriComponentSafe reports whether encodeURIComponent leaves c as is.
func uriComponentSafe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()", c) >= 0
}

// ValidNewName reports whether a name may be given to a new package:
// ParseName's rules, plus lower case only and none of ~'!()*
// (validate-npm-package-name's validForNewPackages). Publishing requires it.
func ValidNewName(n Name) bool {
	for _, p := range []string{n.Scope, n.Base} {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if c >= 'A' && c <= 'Z' || strings.IndexByte("~'!()*", c) >= 0 {
				return false
			}
		}
	}
	return true
}

// nameFromSegments reads a package name from the start of a path split into
// unescaped segments: "@scope%2fbase" arrives as one segment "@scope/base",
// "@scope/base" as two. It returns the name and how many segments it took.
func nameFromSegments(segs []string) (Name, int, bool) {
	if len(segs) == 0 {
		return Name{}, 0, false
	}
	s, used := segs[0], 1
	if strings.HasPrefix(s, "@") && !strings.Contains(s, "/") {
		if len(segs) < 2 {
			return Name{}, 0, false
		}
		s, used = s+"/"+segs[1], 2
	}
	n, ok := ParseName(s)
	return n, used, ok
}
