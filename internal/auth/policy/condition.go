package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// cmpKind is the positive comparison behind a condition operator; negated
// operators (StringNotEquals, NotIpAddress, ...) reuse it with opInfo.negated.
type cmpKind uint8

const (
	cmpStringEquals cmpKind = iota
	cmpStringEqualsIgnoreCase
	cmpStringLike
	cmpNumericEquals
	cmpNumericLessThan
	cmpNumericLessThanEquals
	cmpNumericGreaterThan
	cmpNumericGreaterThanEquals
	cmpDateEquals
	cmpDateLessThan
	cmpDateLessThanEquals
	cmpDateGreaterThan
	cmpDateGreaterThanEquals
	cmpBool
	cmpBinaryEquals
	cmpIPAddress
	cmpArnLike
	cmpNull
)

type opInfo struct {
	cmp     cmpKind
	negated bool
}

// operators maps every base operator name (without set prefix or IfExists)
// to its comparison. Names are case-sensitive, as in IAM.
var operators = map[string]opInfo{
	"StringEquals":              {cmpStringEquals, false},
	"StringNotEquals":           {cmpStringEquals, true},
	"StringEqualsIgnoreCase":    {cmpStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {cmpStringEqualsIgnoreCase, true},
	"StringLike":                {cmpStringLike, false},
	"StringNotLike":             {cmpStringLike, true},
	"NumericEquals":             {cmpNumericEquals, false},
	"NumericNotEquals":          {cmpNumericEquals, true},
	"NumericLessThan":           {cmpNumericLessThan, false},
	"NumericLessThanEquals":     {cmpNumericLessThanEquals, false},
	"NumericGreaterThan":        {cmpNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {cmpNumericGreaterThanEquals, false},
	"DateEquals":                {cmpDateEquals, false},
	"DateNotEquals":             {cmpDateEquals, true},
	"DateLessThan":              {cmpDateLessThan, false},
	"DateLessThanEquals":        {cmpDateLessThanEquals, false},
	"DateGreaterThan":           {cmpDateGreaterThan, false},
	"DateGreaterThanEquals":     {cmpDateGreaterThanEquals, false},
	"Bool":                      {cmpBool, false},
	"BinaryEquals":              {cmpBinaryEquals, false},
	"IpAddress":                 {cmpIPAddress, false},
	"NotIpAddress":              {cmpIPAddress, true},
	"ArnEquals":                 {cmpArnLike, false},
	"ArnLike":                   {cmpArnLike, false},
	"ArnNotEquals":              {cmpArnLike, true},
	"ArnNotLike":                {cmpArnLike, true},
	"Null":                      {cmpNull, false},
}

// setQualifier is the ForAnyValue:/ForAllValues: prefix.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setAny
	setAll
)

// parseOperator splits "ForAllValues:StringLikeIfExists" into its parts.
func parseOperator(name string) (op opInfo, set setQualifier, ifExists, ok bool) {
	base := name
	switch {
	case strings.HasPrefix(base, "ForAnyValue:"):
		set, base = setAny, strings.TrimPrefix(base, "ForAnyValue:")
	case strings.HasPrefix(base, "ForAllValues:"):
		set, base = setAll, strings.TrimPrefix(base, "ForAllValues:")
	}
	if op, ok = operators[base]; ok {
		return op, set, false, true
	}
	if b, found := strings.CutSuffix(base, "IfExists"); found {
		if op, ok = operators[b]; ok && op.cmp != cmpNull {
			return op, set, true, true
		}
	}
	return opInfo{}, setNone, false, false
}

// condValue is one policy value of a condition, pre-compiled when it has no
// policy variables.
type condValue struct {
	t tmpl
	m matcher // nil when t has variables: compiled per request
}

// matcher tests one request value against one policy value.
type matcher func(v string) bool

func never(string) bool { return false }

// compile builds the matcher of one (resolved) policy value. escaped says
// pv is a globMatch escape-mode pattern (StringLike/ArnLike values with
// substituted variables).
func (op opInfo) compile(pv string, escaped bool) matcher {
	switch op.cmp {
	case cmpStringEquals:
		return func(v string) bool { return v == pv }
	case cmpStringEqualsIgnoreCase, cmpBool:
		return func(v string) bool { return strings.EqualFold(v, pv) }
	case cmpStringLike:
		return func(v string) bool { return globMatch(pv, v, escaped) }
	case cmpArnLike:
		return func(v string) bool { return matchARN(pv, v, escaped) }
	case cmpNumericEquals, cmpNumericLessThan, cmpNumericLessThanEquals, cmpNumericGreaterThan, cmpNumericGreaterThanEquals:
		p, err := strconv.ParseFloat(pv, 64)
		if err != nil {
			return never
		}
		return func(v string) bool {
			x, err := strconv.ParseFloat(v, 64)
			return err == nil && compareOrdered(op.cmp-cmpNumericEquals, cmpFloat(x, p))
		}
	case cmpDateEquals, cmpDateLessThan, cmpDateLessThanEquals, cmpDateGreaterThan, cmpDateGreaterThanEquals:
		p, ok := parseDate(pv)
		if !ok {
			return never
		}
		return func(v string) bool {
			x, ok := parseDate(v)
			return ok && compareOrdered(op.cmp-cmpDateEquals, x.Compare(p))
		}
	case cmpBinaryEquals:
		p, err := base64.StdEncoding.DecodeString(pv)
		if err != nil {
			if p, err = base64.RawStdEncoding.DecodeString(pv); err != nil {
				return never
			}
		}
		return func(v string) bool { return bytes.Equal([]byte(v), p) }
	case cmpIPAddress:
		p, ok := parseIPPrefix(pv)
		if !ok {
			return never
		}
		return func(v string) bool {
			a, err := netip.ParseAddr(v)
			return err == nil && p.Contains(a.Unmap())
		}
	}
	return never
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return 2 // NaN: matches nothing
}

// compareOrdered applies the relation at offset rel from the Equals
// operator (Equals, LessThan, LessThanEquals, GreaterThan,
// GreaterThanEquals, the order the constants are declared in) to c, the
// request value compared with the policy value.
func compareOrdered(rel cmpKind, c int) bool {
	switch rel {
	case 0:
		return c == 0
	case 1:
		return c == -1
	case 2:
		return c == -1 || c == 0
	case 3:
		return c == 1
	case 4:
		return c == 1 || c == 0
	}
	return false
}

// dateLayouts are the ISO 8601 forms accepted besides epoch seconds.
var dateLayouts = []string{
	time.RFC3339, // also accepts fractional seconds
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z",
	"20060102T150405Z0700",
	"20060102",
}

// parseDate accepts ISO 8601 (zone-less forms are UTC) or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if isEpoch(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isEpoch(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		case c == '-' && i == 0 && len(s) > 1:
		default:
			return false
		}
	}
	// Eight digits is the basic ISO form YYYYMMDD, not an epoch time.
	return len(s) != 8 || dot
}

// parseIPPrefix accepts a CIDR block or a single address (a /32 or /128).
func parseIPPrefix(s string) (netip.Prefix, bool) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// eval reports whether the condition holds for the request.
//
// Missing keys (absent, or present with no values) follow AWS: IfExists
// makes the condition true; ForAllValues is vacuously true; ForAnyValue is
// false; a plain negated operator (StringNotEquals, NotIpAddress, ...) is
// true and a plain positive one false.
//
// For present keys each request value is tested against the policy values
// (ORed). A negated operator negates that per-value test, so
// ForAllValues:StringNotEquals means "no request value is listed".
// Without a set prefix a multivalued key behaves as ForAnyValue for
// positive operators and as "no value matches" for negated ones.
func (c *Condition) eval(r *Request) bool {
	vals := r.lookup(c.key)
	if c.op.cmp == cmpNull {
		return c.evalNull(len(vals) > 0)
	}
	if len(vals) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.op.negated
	}
	ms := c.matchers
	if c.dynamic {
		if ms = c.resolveMatchers(r); len(ms) == 0 {
			return false // every value had a variable without a value
		}
	}
	switch c.set {
	case setAny:
		for _, v := range vals {
			if anyMatch(ms, v) != c.op.negated {
				return true
			}
		}
		return false
	case setAll:
		for _, v := range vals {
			if anyMatch(ms, v) == c.op.negated {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if anyMatch(ms, v) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// resolveMatchers compiles the policy values after substituting variables;
// a value whose variable has no value is dropped, since it matches nothing.
func (c *Condition) resolveMatchers(r *Request) []matcher {
	glob := c.op.cmp == cmpStringLike || c.op.cmp == cmpArnLike
	ms := make([]matcher, 0, len(c.values))
	for i := range c.values {
		cv := &c.values[i]
		if cv.m != nil {
			ms = append(ms, cv.m)
			continue
		}
		if pv, ok := cv.t.resolve(r, glob); ok {
			ms = append(ms, c.op.compile(pv, glob))
		}
	}
	return ms
}

func anyMatch(ms []matcher, v string) bool {
	for _, m := range ms {
		if m(v) {
			return true
		}
	}
	return false
}

// evalNull: "true" asks for the key to be absent, "false" for it to be
// present; several values are ORed like any other.
func (c *Condition) evalNull(present bool) bool {
	for _, v := range c.Values {
		switch strings.ToLower(v) {
		case "true":
			if !present {
				return true
			}
		case "false":
			if present {
				return true
			}
		}
	}
	return false
}
