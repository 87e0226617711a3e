package pypi

import (
	"regexp"
	"strings"
)

// PEP 440 versions. coffer stores a PyPI version in its normalised form
// (what packaging's str(Version(v)) gives: "1.0.0-Alpha1" -> "1.0.0a1",
// "v1.01" -> "1.1", "1.0-post2" -> "1.0.post2", "0!1.0" -> "1.0"), and
// treats versions that differ only by trailing zeros of the release segment
// ("1.0" and "1.0.0") as the same release, as PyPI does (Warehouse finds
// releases by their canonical version): a file uploaded as 1.0.0 joins an
// existing release 1.0 and is stored under that version. See doc.go.

// versionPattern is PEP 440's VERSION_PATTERN (appendix B), anchored,
// case-insensitive, surrounding whitespace allowed.
var versionPattern = regexp.MustCompile(`(?i)^\s*v?` +
	`(?:(?P<epoch>[0-9]+)!)?` +
	`(?P<release>[0-9]+(?:\.[0-9]+)*)` +
	`(?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?` +
	`(?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?` +
	`(?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?` +
	`(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

var versionGroups = func() map[string]int {
	m := map[string]int{}
	for i, n := range versionPattern.SubexpNames() {
		if n != "" {
			m[n] = i
		}
	}
	return m
}()

// Version is a parsed PEP 440 version. Numbers are kept as decimal strings
// without leading zeros ("0" for zero), so that no version overflows.
type Version struct {
	Epoch   string   // "0" when absent
	Release []string // at least one component
	PreL    string   // "", "a", "b" or "rc"
	PreN    string
	Post    string // "" when absent
	Dev     string // "" when absent
	HasPost bool
	HasDev  bool
	Local   []string // lower case; numeric parts without leading zeros
}

func trimZeros(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// ParseVersion parses a PEP 440 version; ok is false when v is not one.
func ParseVersion(v string) (Version, bool) {
	if len(v) > 255 {
		return Version{}, false
	}
	m := versionPattern.FindStringSubmatch(v)
	if m == nil {
		return Version{}, false
	}
	g := func(name string) string { return m[versionGroups[name]] }
	out := Version{Epoch: "0"}
	if e := g("epoch"); e != "" {
		out.Epoch = trimZeros(e)
	}
	for _, p := range strings.Split(g("release"), ".") {
		out.Release = append(out.Release, trimZeros(p))
	}
	if l := strings.ToLower(g("pre_l")); l != "" {
		switch l {
		case "alpha":
			l = "a"
		case "beta":
			l = "b"
		case "c", "pre", "preview":
			l = "rc"
		}
		out.PreL, out.PreN = l, trimZeros(g("pre_n"))
	}
	if g("post") != "" {
		out.HasPost = true
		n := g("post_n1")
		if n == "" {
			n = g("post_n2")
		}
		out.Post = trimZeros(n)
	}
	if g("dev") != "" {
		out.HasDev, out.Dev = true, trimZeros(g("dev_n"))
	}
	if l := g("local"); l != "" {
		for _, p := range strings.FieldsFunc(strings.ToLower(l), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if isDigits(p) {
				p = trimZeros(p)
			}
			out.Local = append(out.Local, p)
		}
	}
	return out, true
}

func isDigits(s string) bool {
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

// String is the normalised form.
func (v Version) String() string { return v.format(v.Release) }

func (v Version) format(release []string) string {
	var b strings.Builder
	if v.Epoch != "0" {
		b.WriteString(v.Epoch)
		b.WriteByte('!')
	}
	b.WriteString(strings.Join(release, "."))
	if v.PreL != "" {
		b.WriteString(v.PreL)
		b.WriteString(v.PreN)
	}
	if v.HasPost {
		b.WriteString(".post")
		b.WriteString(v.Post)
	}
	if v.HasDev {
		b.WriteString(".dev")
		b.WriteString(v.Dev)
	}
	if len(v.Local) > 0 {
		b.WriteByte('+')
		b.WriteString(strings.Join(v.Local, "."))
	}
	return b.String()
}

// trimmedRelease is the release without trailing zero components (at least
// one component stays).
func (v Version) trimmedRelease() []string {
	r := v.Release
	for len(r) > 1 && r[len(r)-1] == "0" {
		r = r[:len(r)-1]
	}
	return r
}

// Key is the canonical form that identifies a release: the normalised
// version with trailing zeros of the release segment removed
// (packaging.utils.canonicalize_version). "1.0" and "1.0.0" share the key "1".
func (v Version) Key() string { return v.format(v.trimmedRelease()) }

// Equivalents lists the spellings of the same release with 1 to max(6,
// len(Release)) release components, shortest first: the versions an upload
// may join.
func (v Version) Equivalents() []string {
	r := v.trimmedRelease()
	n := max(6, len(v.Release))
	var out []string
	for l := len(r); l <= n; l++ {
		rel := append([]string{}, r...)
		for len(rel) < l {
			rel = append(rel, "0")
		}
		out = append(out, v.format(rel))
	}
	return out
}

// NormalizeVersion returns the normalised form of a PEP 440 version.
func NormalizeVersion(s string) (string, bool) {
	v, ok := ParseVersion(s)
	if !ok {
		return "", false
	}
	return v.String(), true
}

// VersionKey returns the release key of a version string (see Version.Key);
// ok is false when s is not PEP 440.
func VersionKey(s string) (string, bool) {
	v, ok := ParseVersion(s)
	if !ok {
		return "", false
	}
	return v.Key(), true
}

// cmpNum compares two decimal strings without leading zeros.
func cmpNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// Compare orders versions as PEP 440 does: -1, 0 or 1.
func (v Version) Compare(o Version) int {
	if c := cmpNum(v.Epoch, o.Epoch); c != 0 {
		return c
	}
	a, b := v.trimmedRelease(), o.trimmedRelease()
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := "0", "0"
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpNum(x, y); c != 0 {
			return c
		}
	}
	// Pre-release: a dev release without pre or post sorts before every
	// pre-release of the same release; no pre-release sorts after them all.
	if c := cmpInt(v.preRank(), o.preRank()); c != 0 {
		return c
	}
	if v.PreL != "" && o.PreL != "" {
		if c := strings.Compare(v.PreL, o.PreL); c != 0 { // "a" < "b" < "rc"
			return c
		}
		if c := cmpNum(v.PreN, o.PreN); c != 0 {
			return c
		}
	}
	if v.HasPost != o.HasPost {
		if v.HasPost {
			return 1
		}
		return -1
	}
	if c := cmpNum(v.Post, o.Post); v.HasPost && c != 0 {
		return c
	}
	if v.HasDev != o.HasDev {
		if v.HasDev {
			return -1
		}
		return 1
	}
	if c := cmpNum(v.Dev, o.Dev); v.HasDev && c != 0 {
		return c
	}
	return compareLocal(v.Local, o.Local)
}

// preRank: 0 dev-only, 1 pre-release, 2 none.
func (v Version) preRank() int {
	switch {
	case v.PreL == "" && !v.HasPost && v.HasDev:
		return 0
	case v.PreL != "":
		return 1
	}
	return 2
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

// compareLocal: no local sorts first; numeric parts compare numerically and
// after alphanumeric ones; a longer local wins a common prefix.
func compareLocal(a, b []string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		x, y := a[i], b[i]
		xn, yn := isDigits(x), isDigits(y)
		switch {
		case xn && yn:
			if c := cmpNum(x, y); c != 0 {
				return c
			}
		case xn:
			return 1
		case yn:
			return -1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}

// order is a byte string that sorts (bytes.Compare) as the version does
// (Compare), and is equal for two versions exactly when they are the same
// release (Key): numbers are written as their length then their digits,
// each part behind a marker byte that ranks it.
func (v Version) order() string {
	b := make([]byte, 0, 32)
	num := func(s string) {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	num(v.Epoch)
	for _, r := range v.trimmedRelease() {
		b = append(b, 1)
		num(r)
	}
	b = append(b, 0, byte(v.preRank()))
	if v.PreL != "" {
		b = append(b, v.PreL[0]) // 'a' < 'b' < 'r'
		num(v.PreN)
	}
	if v.HasPost {
		b = append(b, 1)
		num(v.Post)
	} else {
		b = append(b, 0)
	}
	if v.HasDev {
		b = append(b, 0)
		num(v.Dev)
	} else {
		b = append(b, 1)
	}
	for _, l := range v.Local {
		if isDigits(l) {
			b = append(b, 2)
			num(l)
		} else {
			b = append(b, 1)
			b = append(b, l...)
			b = append(b, 0)
		}
	}
	return string(append(b, 0))
}
