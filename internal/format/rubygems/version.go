package rubygems

import (
	"regexp"
	"sort"
	"strings"

	"coffer/internal/fault"
)

// maxField is rubygems.org's limit on a name, a version number or a
// platform (Gemcutter::MAX_FIELD_LENGTH).
const maxField = 255

// versionPattern is Gem::Version::VERSION_PATTERN, anchored.
var versionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// CanonicalVersion is the version Gem::Version.new makes of v: surrounding
// white space dropped, an empty string "0", and every "-" spelled ".pre."
// ("1.0-rc1" is "1.0.pre.rc1"). It fails, with a validation fault, on what
// Gem::Version refuses, on what it would turn into an invalid number, and
// on versions longer than rubygems.org accepts.
func CanonicalVersion(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "0", nil
	}
	c := strings.ReplaceAll(v, "-", ".pre.")
	// Gem::Version accepts "1--" and makes "1.pre..pre." of it, which is
	// no version any more: rubygems.org refuses such a number, and so do we.
	if len(c) > maxField || !versionPattern.MatchString(v) || !versionPattern.MatchString(c) {
		return "", fault.Validation("Malformed version number string %q", clip(v))
	}
	return c, nil
}

// ValidVersion reports whether v is a version number as a published gem
// carries it: canonical (CanonicalVersion(v) == v) and not empty.
func ValidVersion(v string) bool {
	c, err := CanonicalVersion(v)
	return err == nil && c == v
}

// IsPrerelease is Gem::Version#prerelease?: the version has a letter.
func IsPrerelease(v string) bool {
	return strings.IndexFunc(v, isLetter) >= 0
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// segment is one part of a version: a number (digits, leading zeros
// dropped, so that any length compares) or a run of letters.
type segment struct {
	num   string
	str   string
	isStr bool
}

func (s segment) zero() bool { return !s.isStr && s.num == "0" }

// segments is Gem::Version#segments: the runs of digits and of letters.
func segments(v string) []segment {
	var out []segment
	for i := 0; i < len(v); {
		c := v[i]
		j := i + 1
		switch {
		case c >= '0' && c <= '9':
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			n := strings.TrimLeft(v[i:j], "0")
			if n == "" {
				n = "0"
			}
			out = append(out, segment{num: n})
		case isLetter(rune(c)):
			for j < len(v) && isLetter(rune(v[j])) {
				j++
			}
			out = append(out, segment{str: v[i:j], isStr: true})
		}
		i = j
	}
	return out
}

// canonicalSegments is Gem::Version#canonical_segments: the numeric
// release part and the prerelease part, each without trailing zeros.
func canonicalSegments(v string) []segment {
	segs := segments(v)
	split := len(segs)
	for i, s := range segs {
		if s.isStr {
			split = i
			break
		}
	}
	trim := func(s []segment) []segment {
		for len(s) > 0 && s[len(s)-1].zero() {
			s = s[:len(s)-1]
		}
		return s
	}
	rel := trim(append([]segment(nil), segs[:split]...))
	return append(rel, trim(segs[split:])...)
}

func compareNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// CompareVersions orders two versions as Gem::Version#<=> does: numbers
// numerically, a letter segment before any number ("1.0.a" < "1.0"), and
// trailing zeros ignored ("1.0" == "1").
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	l, r := canonicalSegments(a), canonicalSegments(b)
	n := max(len(l), len(r))
	zero := segment{num: "0"}
	for i := 0; i < n; i++ {
		x, y := zero, zero
		if i < len(l) {
			x = l[i]
		}
		if i < len(r) {
			y = r[i]
		}
		switch {
		case x == y:
			continue
		case x.isStr && !y.isStr:
			return -1
		case !x.isStr && y.isStr:
			return 1
		case x.isStr:
			return strings.Compare(x.str, y.str)
		default:
			return compareNum(x.num, y.num)
		}
	}
	return 0
}

// SortVersions sorts versions in ascending Gem::Version order; equal
// versions keep their order.
func SortVersions(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool { return CompareVersions(vs[i], vs[j]) < 0 })
}

func joinSegments(segs []segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		if s.isStr {
			parts[i] = s.str
		} else {
			parts[i] = s.num
		}
	}
	return strings.Join(parts, ".")
}

// release is Gem::Version#release: the version without its prerelease part.
func release(v string) string {
	segs := segments(v)
	for i, s := range segs {
		if s.isStr {
			return joinSegments(segs[:i])
		}
	}
	return v
}

// bump is Gem::Version#bump: prerelease part and last number dropped, the
// new last number incremented ("1.2.3" -> "1.3", "1" -> "2").
func bump(v string) string {
	segs := segments(v)
	for i, s := range segs {
		if s.isStr {
			segs = segs[:i]
			break
		}
	}
	if len(segs) > 1 {
		segs = segs[:len(segs)-1]
	}
	if len(segs) == 0 {
		return "1"
	}
	segs[len(segs)-1].num = increment(segs[len(segs)-1].num)
	return joinSegments(segs)
}

// increment adds one to a decimal number of any length.
func increment(n string) string {
	b := []byte(n)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

// Requirement operators, as Gem::Requirement::OPS spells them.
var requirementOps = []string{"=", "!=", ">", "<", ">=", "<=", "~>"}

// Constraint is one [operator, version] pair of a Gem::Requirement.
type Constraint struct {
	Op      string
	Version string
}

func (c Constraint) String() string { return c.Op + " " + c.Version }

// Requirement is a Gem::Requirement: constraints that all hold. Its order
// is the order they were written in, which Gem::Requirement#to_s keeps.
// An empty Requirement is the default, ">= 0".
type Requirement []Constraint

// DefaultRequirement is ">= 0", what a dependency without constraints and
// a gem without required_ruby_version carry.
var DefaultRequirement = Requirement{{Op: ">=", Version: "0"}}

var requirementPattern = regexp.MustCompile(`^\s*(=|!=|>|<|>=|<=|~>)?\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)\s*$`)

// ParseConstraint is Gem::Requirement.parse: "op version" or a bare version
// (meaning "="), the version made canonical.
func ParseConstraint(s string) (Constraint, error) {
	m := requirementPattern.FindStringSubmatch(s)
	if m == nil || len(m[2]) > maxField {
		return Constraint{}, fault.Validation("Illformed requirement %q", clip(s))
	}
	op := m[1]
	if op == "" {
		op = "="
	}
	v, err := CanonicalVersion(m[2])
	if err != nil {
		return Constraint{}, err
	}
	return Constraint{Op: op, Version: v}, nil
}

// ParseRequirement reads constraints separated by "," (">= 1.0, < 2", how
// the dependencies API and rubygems.org write a requirement). Duplicates
// are dropped as Gem::Requirement.new does; nothing at all is the default
// requirement.
func ParseRequirement(s string) (Requirement, error) {
	return parseRequirement(s, ",")
}

func parseRequirement(s, sep string) (Requirement, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultRequirement, nil
	}
	parts := strings.Split(s, sep)
	if len(parts) > maxConstraints {
		return nil, fault.Validation("Requirement %q has more than %d constraints", clip(s), maxConstraints)
	}
	var r Requirement
	for _, p := range parts {
		c, err := ParseConstraint(p)
		if err != nil {
			return nil, err
		}
		r = r.add(c)
	}
	return r, nil
}

// maxConstraints bounds the constraints of one requirement.
const maxConstraints = 64

func (r Requirement) add(c Constraint) Requirement {
	for _, x := range r {
		if x == c {
			return r
		}
	}
	return append(r, c)
}

func (r Requirement) list() Requirement {
	if len(r) == 0 {
		return DefaultRequirement
	}
	return r
}

// String is Gem::Requirement#to_s: the constraints in their order, joined
// by ", " (">= 2.0, < 4").
func (r Requirement) String() string {
	l := r.list()
	parts := make([]string, len(l))
	for i, c := range l {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// CompactString is the requirement as the compact index writes it: the
// constraint strings sorted byte-wise and joined by "&" ("< 4&>= 2.0").
func (r Requirement) CompactString() string {
	l := r.list()
	parts := make([]string, len(l))
	for i, c := range l {
		parts[i] = c.String()
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

// IsDefault reports whether r is ">= 0" (Gem::Requirement#none?).
func (r Requirement) IsDefault() bool {
	l := r.list()
	return len(l) == 1 && l[0].Op == ">=" && l[0].Version == "0"
}

// Prerelease is Gem::Requirement#prerelease?: a version in it is one.
func (r Requirement) Prerelease() bool {
	for _, c := range r {
		if IsPrerelease(c.Version) {
			return true
		}
	}
	return false
}

// SatisfiedBy is Gem::Requirement#satisfied_by?.
func (r Requirement) SatisfiedBy(v string) bool {
	for _, c := range r.list() {
		cmp := CompareVersions(v, c.Version)
		var ok bool
		switch c.Op {
		case "=":
			ok = cmp == 0
		case "!=":
			ok = cmp != 0
		case ">":
			ok = cmp > 0
		case "<":
			ok = cmp < 0
		case ">=":
			ok = cmp >= 0
		case "<=":
			ok = cmp <= 0
		case "~>":
			ok = cmp >= 0 && CompareVersions(release(v), bump(c.Version)) < 0
		}
		if !ok {
			return false
		}
	}
	return true
}

func validOp(op string) bool {
	for _, o := range requirementOps {
		if o == op {
			return true
		}
	}
	return false
}

// clip shortens what an error message quotes.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
