package osv

import (
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Comparator orders two versions of one ecosystem: negative, zero or
// positive as a sorts before, with or after b. It must be a total order
// on every string (versions the ecosystem cannot read included), since
// records carry what their databases wrote.
type Comparator func(a, b string) int

// Ecosystem is what matching needs of one OSV ecosystem.
type Ecosystem struct {
	// Compare orders ECOSYSTEM ranges' versions. Nil: such ranges are not
	// evaluated (but for "introduced 0" alone, which needs no order) and
	// the explicit versions list matches by string.
	Compare Comparator
	// Valid, when set, tells versions Compare can order; a version it
	// refuses is matched against explicit versions only.
	Valid func(version string) bool
	// Name normalises a package name, so that the record's spelling and
	// the caller's meet (PEP 503 for PyPI, lower case for NuGet). Nil:
	// names are compared as given.
	Name func(name string) string
}

// Ecosystems maps an OSV ecosystem name ("npm", "PyPI", "Maven", ...) to
// its rules. An ecosystem with a ":suffix" ("Maven:https://...") uses the
// row of its base name but stays a separate ecosystem for lookups.
type Ecosystems map[string]Ecosystem

func (t Ecosystems) get(ecosystem string) Ecosystem {
	if e, ok := t[ecosystem]; ok {
		return e
	}
	if base, _, ok := strings.Cut(ecosystem, ":"); ok {
		return t[base]
	}
	return Ecosystem{}
}

// normName is the name as the table normalises it.
func (t Ecosystems) normName(ecosystem, name string) string {
	if f := t.get(ecosystem).Name; f != nil {
		return f(name)
	}
	return name
}

// CompareSemVer orders SemVer 2.0.0 versions by precedence (build metadata
// ignored), the order of SEMVER ranges in every ecosystem. A leading "v"
// and missing minor or patch parts are tolerated, as in the data; strings
// that are no version sort before every version, among themselves by
// bytes.
func CompareSemVer(a, b string) int {
	// Most versions in the data are plain MAJOR.MINOR.PATCH: compare
	// those without the parser's allocations.
	if x, ok := plainSemVer(a); ok {
		if y, ok := plainSemVer(b); ok {
			for i := range x {
				if x[i] != y[i] {
					if x[i] < y[i] {
						return -1
					}
					return 1
				}
			}
			return 0
		}
	}
	va, ea := semver.NewVersion(a)
	vb, eb := semver.NewVersion(b)
	switch {
	case ea == nil && eb == nil:
		return va.Compare(vb)
	case ea == nil:
		return 1
	case eb == nil:
		return -1
	}
	return strings.Compare(a, b)
}

// plainSemVer reads "[v]N[.N[.N]]" (decimal, no leading zeros, missing
// parts 0), the subset whose order needs no parser.
func plainSemVer(s string) (v [3]uint64, ok bool) {
	if len(s) > 0 && s[0] == 'v' {
		s = s[1:]
	}
	for i := 0; i < 3; i++ {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || n > 18 || (n > 1 && s[0] == '0') {
			return v, false
		}
		for _, c := range s[:n] {
			v[i] = v[i]*10 + uint64(c-'0')
		}
		s = s[n:]
		if s == "" {
			return v, true
		}
		if s[0] != '.' || i == 2 {
			return v, false
		}
		s = s[1:]
	}
	return v, false
}

// ValidSemVer reports whether CompareSemVer reads v as a version.
func ValidSemVer(v string) bool {
	if _, ok := plainSemVer(v); ok {
		return true
	}
	_, err := semver.NewVersion(v)
	return err == nil
}

// rangeOrder returns the comparator and validity test of a range in an
// ecosystem; nil when the range cannot be evaluated: GIT ranges need the
// repository's commit graph, ECOSYSTEM ranges the ecosystem's order. A
// range of only {"introduced": "0"} (every version: how the
// malicious-packages feed marks a package that was malicious throughout)
// needs no order and is evaluated in any ecosystem.
func (t Ecosystems) rangeOrder(rangeType, ecosystem string, events []Event) (Comparator, func(string) bool) {
	switch rangeType {
	case RangeSemVer:
		return CompareSemVer, ValidSemVer
	case RangeEcosystem:
		if e := t.get(ecosystem); e.Compare != nil {
			return e.Compare, e.Valid
		}
		if allVersions(events) {
			return strings.Compare, nil
		}
	}
	return nil, nil
}

// allVersions reports whether events are only "introduced 0".
func allVersions(events []Event) bool {
	for _, e := range events {
		if e.Kind != Introduced || e.Version != "0" {
			return false
		}
	}
	return len(events) > 0
}

// Affects reports whether version of the package is affected by rec,
// following the schema's evaluation algorithm (section "Evaluation"): a
// version is affected when an explicit versions entry equals it or it
// lies within one of the ranges. Withdrawn records affect nothing.
func (t Ecosystems) Affects(rec *Record, ecosystem, name, version string) bool {
	if rec.IsWithdrawn() {
		return false
	}
	want := t.normName(ecosystem, name)
	for i := range rec.Affected {
		a := &rec.Affected[i]
		if a.Package.Name == "" || a.Package.Ecosystem != ecosystem || t.normName(ecosystem, a.Package.Name) != want {
			continue
		}
		if t.inVersions(ecosystem, version, a.Versions) {
			return true
		}
		for _, r := range a.Ranges {
			if t.rangeAffects(r.Type, ecosystem, r.Events, version, false) {
				return true
			}
		}
	}
	return false
}

// rangeAffects evaluates one range; sorted says its events are already
// in order (the Index sorts them once).
func (t Ecosystems) rangeAffects(rangeType, ecosystem string, events []Event, version string, sorted bool) bool {
	cmp, valid := t.rangeOrder(rangeType, ecosystem, events)
	switch {
	case cmp == nil:
		return false
	case allVersions(events):
		return true // even a version the ecosystem cannot read
	case valid != nil && !valid(version):
		return false
	}
	if !sorted {
		events = sortEvents(cmp, events)
	}
	return inRange(cmp, version, events)
}

// inVersions is the schema's IncludedInVersions. Equality is the
// ecosystem's where it can read both ("1.0" is "1.0.0" in PyPI), else the
// strings'.
func (t Ecosystems) inVersions(ecosystem, v string, versions []string) bool {
	e := t.get(ecosystem)
	for _, w := range versions {
		if e.equalVersion(v, w) {
			return true
		}
	}
	return false
}

// equalVersion is one comparison of inVersions.
func (e Ecosystem) equalVersion(v, w string) bool {
	return w == v || e.Compare != nil && (e.Valid == nil || (e.Valid(v) && e.Valid(w))) && e.Compare(v, w) == 0
}

// sortEvents orders a range's events by version, "0" introduced first,
// keeping the written order among equal versions; limit events, which
// are read apart from the timeline, go last. The input is not changed.
func sortEvents(cmp Comparator, events []Event) []Event {
	out := make([]Event, 0, len(events))
	for _, e := range events {
		if e.Kind != Limit {
			out = append(out, e)
		}
	}
	n := len(out)
	for _, e := range events {
		if e.Kind == Limit {
			out = append(out, e)
		}
	}
	// Insertion sort: ranges have a handful of events, and it is stable.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && eventLess(cmp, out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func eventLess(cmp Comparator, a, b Event) bool {
	az, bz := a.Kind == Introduced && a.Version == "0", b.Kind == Introduced && b.Version == "0"
	if az || bz {
		return az && !bz
	}
	return cmp(a.Version, b.Version) < 0
}

// inRange is the schema's BeforeLimits and the IncludedInRanges loop for
// one range whose events are sorted.
func inRange(cmp Comparator, v string, events []Event) bool {
	limited, before := false, false
	for _, e := range events {
		if e.Kind == Limit {
			limited = true
			if e.Version == "*" || cmp(v, e.Version) < 0 {
				before = true
			}
		}
	}
	if limited && !before {
		return false
	}
	vulnerable := false
	for _, e := range events {
		switch e.Kind {
		case Introduced:
			if e.Version == "0" || cmp(v, e.Version) >= 0 {
				vulnerable = true
			}
		case Fixed:
			if cmp(v, e.Version) >= 0 {
				vulnerable = false
			}
		case LastAffected:
			if cmp(v, e.Version) > 0 {
				vulnerable = false
			}
		}
	}
	return vulnerable
}
