package rules

import (
	"errors"
	"fmt"
	"strings"
)

// Range is a version range of a block rule: alternatives separated by
// "||", each a list of comparisons that must all hold, separated by commas
// or spaces: "=1.2.3", "1.2.3" (the same), ">=1.0.0, <1.4.2", "<0.9 || >=2.0.0-rc.1".
type Range [][]comparison

type comparison struct {
	op      string // "=", "<", "<=", ">", ">="
	version string
}

// ParseRange parses a range.
func ParseRange(s string) (Range, error) {
	var out Range
	for _, alt := range strings.Split(s, "||") {
		var all []comparison
		for _, f := range strings.FieldsFunc(alt, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			c := comparison{op: "="}
			for _, op := range []string{">=", "<=", "=", ">", "<"} {
				if v, ok := strings.CutPrefix(f, op); ok {
					c.op, f = op, v
					break
				}
			}
			if f == "" || strings.ContainsAny(f, "<>=|") {
				return nil, fmt.Errorf("'%s%s' is not a comparison such as >=1.0.0 or =1.2.3", c.op, f)
			}
			c.version = f
			all = append(all, c)
		}
		if len(all) == 0 {
			return nil, errors.New("an alternative between '||' is empty")
		}
		out = append(out, all)
	}
	return out, nil
}

// Contains reports whether version lies in r under the default order.
func (r Range) Contains(version string) bool {
	return r.contains("", version, func(_, a, b string) int { return CompareVersions(a, b) })
}

// contains reports whether version of format lies in r under cmp.
func (r Range) contains(format, version string, cmp func(format, a, b string) int) bool {
	for _, alt := range r {
		ok := true
		for _, c := range alt {
			d := cmp(format, version, c.version)
			switch c.op {
			case "=":
				ok = d == 0
			case "<":
				ok = d < 0
			case "<=":
				ok = d <= 0
			case ">":
				ok = d > 0
			case ">=":
				ok = d >= 0
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// CompareVersions is the default version order: versions split at '.', '-',
// '+' and '_' into numeric and alphanumeric parts; numbers compare as
// numbers and rank above words ("1.0.0-rc.1" < "1.0.0" as in semver and
// PEP 440 pre-releases), a missing part counts as 0, and build metadata
// after '+' is ignored. Formats with an order of their own (Maven
// qualifiers, PEP 440 epochs) pass theirs to Compile.
func CompareVersions(a, b string) int {
	a, _, _ = strings.Cut(strings.TrimPrefix(a, "v"), "+")
	b, _, _ = strings.Cut(strings.TrimPrefix(b, "v"), "+")
	ap, bp := versionParts(a), versionParts(b)
	for i := 0; i < len(ap) || i < len(bp); i++ {
		x, y := "0", "0"
		if i < len(ap) {
			x = ap[i]
		}
		if i < len(bp) {
			y = bp[i]
		}
		if d := comparePart(x, y); d != 0 {
			return d
		}
	}
	return 0
}

func versionParts(v string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || strings.IndexByte(".-_", v[i]) >= 0 {
			if i > start {
				out = append(out, v[start:i])
			}
			start = i + 1
			continue
		}
		// A change between digits and letters also splits: "1rc2" is 1, rc, 2.
		if i > start && isDigit(v[i]) != isDigit(v[i-1]) {
			out = append(out, v[start:i])
			start = i
		}
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func comparePart(x, y string) int {
	xn, yn := isDigit(x[0]), isDigit(y[0])
	switch {
	case xn && yn:
		x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
		if len(x) != len(y) {
			return cmpInt(len(x), len(y))
		}
		return strings.Compare(x, y)
	case xn:
		return 1 // a release number ranks above a pre-release word
	case yn:
		return -1
	}
	return strings.Compare(strings.ToLower(x), strings.ToLower(y))
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
