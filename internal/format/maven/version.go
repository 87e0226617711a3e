package maven

import (
	"regexp"
	"strconv"
	"strings"
)

// Maven version ordering, as org.apache.maven.artifact.versioning.ComparableVersion
// of Maven 3.8 defines it: a version is split at '.', '-' and at every
// transition between digits and letters into a tree of items; numbers
// compare numerically, the well-known qualifiers in the order
// alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp,
// unknown qualifiers after sp in lexical order; trailing zeros and release
// qualifiers are ignored (1 = 1.0 = 1.0.0 = 1-ga).

// itemKind distinguishes the items of a parsed version.
type itemKind int

const (
	intItem itemKind = iota
	stringItem
	listItem
)

type item struct {
	kind itemKind
	num  string // intItem: decimal digits without leading zeros ("" is zero)
	str  string // stringItem: the qualifier after aliasing
	list []*item
}

var qualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

// releaseIndex is comparableQualifier("").
var releaseIndex = strconv.Itoa(5)

func comparableQualifier(q string) string {
	for i, s := range qualifiers {
		if s == q {
			return strconv.Itoa(i)
		}
	}
	return strconv.Itoa(len(qualifiers)) + "-" + q
}

func newStringItem(s string, followedByDigit bool) *item {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	switch s {
	case "ga", "final", "release":
		s = ""
	case "cr":
		s = "rc"
	}
	return &item{kind: stringItem, str: s}
}

func (it *item) isNull() bool {
	switch it.kind {
	case intItem:
		return it.num == ""
	case stringItem:
		return comparableQualifier(it.str) == releaseIndex
	}
	return len(it.list) == 0
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

// compare compares it with other; other may be nil (the absent item).
func (it *item) compare(other *item) int {
	switch it.kind {
	case intItem:
		if other == nil {
			if it.num == "" {
				return 0
			}
			return 1
		}
		switch other.kind {
		case intItem:
			return compareNum(it.num, other.num)
		default: // 1.1 > 1-sp, 1.1 > 1-1
			return 1
		}
	case stringItem:
		if other == nil { // 1-rc < 1, 1-ga = 1
			return strings.Compare(comparableQualifier(it.str), releaseIndex)
		}
		switch other.kind {
		case intItem, listItem: // 1.any < 1.1, 1.any < 1-1
			return -1
		default:
			return strings.Compare(comparableQualifier(it.str), comparableQualifier(other.str))
		}
	}
	// listItem
	if other == nil {
		for _, x := range it.list {
			if r := x.compare(nil); r != 0 {
				return r
			}
		}
		return 0
	}
	switch other.kind {
	case intItem: // 1-1 < 1.0.x
		return -1
	case stringItem: // 1-1 > 1-sp
		return 1
	}
	for i := 0; i < len(it.list) || i < len(other.list); i++ {
		var l, r *item
		if i < len(it.list) {
			l = it.list[i]
		}
		if i < len(other.list) {
			r = other.list[i]
		}
		var res int
		switch {
		case l == nil && r == nil:
		case l == nil:
			res = -r.compare(nil)
		default:
			res = l.compare(r)
		}
		if res != 0 {
			return res
		}
	}
	return 0
}

// normalize removes the null items at the end of the list, stopping at the
// first non-null item that is not a list (as Maven's ListItem.normalize).
func (it *item) normalize() {
	for i := len(it.list) - 1; i >= 0; i-- {
		last := it.list[i]
		if last.isNull() {
			it.list = append(it.list[:i], it.list[i+1:]...)
		} else if last.kind != listItem {
			break
		}
	}
}

func parseItem(isDigit bool, s string) *item {
	if isDigit {
		return &item{kind: intItem, num: strings.TrimLeft(s, "0")}
	}
	return newStringItem(s, false)
}

// Version is a parsed Maven version.
type Version struct {
	raw   string
	items *item
}

// ParseVersion parses a Maven version string; every string is a version.
func ParseVersion(v string) Version {
	root := &item{kind: listItem}
	list := root
	stack := []*item{root}
	s := strings.ToLower(v)
	isDigit := false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if i == start {
				list.list = append(list.list, &item{kind: intItem})
			} else {
				list.list = append(list.list, parseItem(isDigit, s[start:i]))
			}
			start = i + 1
		case c == '-':
			if i == start {
				list.list = append(list.list, &item{kind: intItem})
			} else {
				list.list = append(list.list, parseItem(isDigit, s[start:i]))
			}
			start = i + 1
			next := &item{kind: listItem}
			list.list = append(list.list, next)
			list = next
			stack = append(stack, list)
		case c >= '0' && c <= '9':
			if !isDigit && i > start {
				list.list = append(list.list, newStringItem(s[start:i], true))
				start = i
				next := &item{kind: listItem}
				list.list = append(list.list, next)
				list = next
				stack = append(stack, list)
			}
			isDigit = true
		default:
			if isDigit && i > start {
				list.list = append(list.list, parseItem(true, s[start:i]))
				start = i
				next := &item{kind: listItem}
				list.list = append(list.list, next)
				list = next
				stack = append(stack, list)
			}
			isDigit = false
		}
	}
	if len(s) > start {
		list.list = append(list.list, parseItem(isDigit, s[start:]))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].normalize()
	}
	return Version{raw: v, items: root}
}

// String returns the version as given.
func (v Version) String() string { return v.raw }

// Compare returns -1, 0 or +1 as v sorts before, with or after w.
func (v Version) Compare(w Version) int {
	if v.items == nil || w.items == nil {
		return ParseVersion(v.raw).Compare(ParseVersion(w.raw))
	}
	return v.items.compare(w.items)
}

// CompareVersions compares two version strings in Maven order.
func CompareVersions(a, b string) int { return ParseVersion(a).Compare(ParseVersion(b)) }

// IsSnapshot reports whether v is a SNAPSHOT version ("1.0-SNAPSHOT").
func IsSnapshot(v string) bool { return strings.HasSuffix(v, "-SNAPSHOT") }

// buildPattern matches a timestamped SNAPSHOT build: base, timestamp and
// build number ("1.1.0-20261125.181235-1").
var buildPattern = regexp.MustCompile(`^(.+)-([0-9]{8}\.[0-9]{6})-([1-9][0-9]{0,8})$`)

// Build is a timestamped SNAPSHOT build version such as
// "1.1.0-20261125.181235-1": one deploy of "1.1.0-SNAPSHOT".
type Build struct {
	Base        string // "1.1.0"
	Timestamp   string // "20261125.181235"
	BuildNumber int    // 1
}

// ParseBuild recognises a timestamped SNAPSHOT build version.
func ParseBuild(v string) (Build, bool) {
	m := buildPattern.FindStringSubmatch(v)
	if m == nil {
		return Build{}, false
	}
	n, err := strconv.Atoi(m[3])
	if err != nil {
		return Build{}, false
	}
	return Build{Base: m[1], Timestamp: m[2], BuildNumber: n}, true
}

// Version returns the build's version string.
func (b Build) Version() string {
	return b.Base + "-" + b.Timestamp + "-" + strconv.Itoa(b.BuildNumber)
}

// Snapshot returns the SNAPSHOT version the build belongs to ("1.1.0-SNAPSHOT").
func (b Build) Snapshot() string { return b.Base + "-SNAPSHOT" }

// Newer reports whether b was deployed after c (later timestamp, then
// higher build number).
func (b Build) Newer(c Build) bool {
	if b.Timestamp != c.Timestamp {
		return b.Timestamp > c.Timestamp
	}
	return b.BuildNumber > c.BuildNumber
}
