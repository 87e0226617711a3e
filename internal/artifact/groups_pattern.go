package artifact

// The package group pattern grammar: parsing, normalising, matching and
// ranking patterns, and their ARN encoding. Pure functions; no store access.

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"coffer/internal/fault"
)

// Pattern kinds, from the least specific to the most.
type patternKind int

const (
	kindRoot            patternKind = iota // /*
	kindFormat                             // /{fmt}/*
	kindNamespacePrefix                    // /{fmt}/{ns}~
	kindNamespace                          // /{fmt}/{ns}/*
	kindNamePrefix                         // /{fmt}/{ns}/{name}~
	kindExact                              // /{fmt}/{ns}/{name}$
)

// groupPattern is a parsed, normalised pattern. namespace is a prefix for
// kindNamespacePrefix and name a prefix for kindNamePrefix.
type groupPattern struct {
	kind      patternKind
	format    string
	namespace string
	name      string
}

func (p groupPattern) String() string {
	switch p.kind {
	case kindRoot:
		return RootPackageGroup
	case kindFormat:
		return "/" + p.format + "/*"
	case kindNamespacePrefix:
		return "/" + p.format + "/" + p.namespace + "~"
	case kindNamespace:
		return "/" + p.format + "/" + p.namespace + "/*"
	case kindNamePrefix:
		return "/" + p.format + "/" + p.namespace + "/" + p.name + "~"
	default:
		return "/" + p.format + "/" + p.namespace + "/" + p.name + "$"
	}
}

// parsePattern validates a package group pattern and returns it normalised.
func parsePattern(field, raw string) (groupPattern, error) {
	bad := func(why string, args ...any) error {
		return fault.Validation("Value '%s' at '%s' is not a valid package group pattern: %s", ShowName(raw), field, fmt.Sprintf(why, args...))
	}
	if n := utf16Units(raw); n < 2 || n > MaxPackageGroupPattern {
		return groupPattern{}, bad("it must have 2 to %d characters", MaxPackageGroupPattern)
	}
	for _, r := range raw {
		if unicode.IsSpace(r) || unicode.In(r, unicode.C) || r == unicode.ReplacementChar {
			return groupPattern{}, bad("it must not contain whitespace or control characters")
		}
	}
	if raw[0] != '/' {
		return groupPattern{}, bad("it must start with '/'")
	}
	if raw == RootPackageGroup {
		return groupPattern{kind: kindRoot}, nil
	}
	if i := strings.IndexByte(raw, '*'); i >= 0 && (i != len(raw)-1 || raw[i-1] != '/') {
		return groupPattern{}, bad("'*' may only end the pattern, after a '/'")
	}
	format, rest, found := strings.Cut(raw[1:], "/")
	if !found {
		return groupPattern{}, bad("it must be /*, /{format}/*, /{format}/{namespace}~, /{format}/{namespace}/*, /{format}/{namespace}/{package}~ or /{format}/{namespace}/{package}$")
	}
	if !slices.Contains(Formats, format) {
		return groupPattern{}, bad("'%s' is not a package format; valid formats: %s", format, strings.Join(Formats, ", "))
	}
	p := groupPattern{format: format}
	if rest == "*" {
		p.kind = kindFormat
		return p, nil
	}
	ns, last, hasName := strings.Cut(rest, "/")
	switch {
	case !hasName:
		ns, found = strings.CutSuffix(rest, "~")
		if !found || ns == "" {
			return groupPattern{}, bad("a namespace must be followed by '~' (a prefix) or '/'")
		}
		p.kind = kindNamespacePrefix
	case strings.Contains(last, "/"):
		return groupPattern{}, bad("it has too many components; the most are /{format}/{namespace}/{package}")
	case last == "*":
		p.kind = kindNamespace
	case strings.HasSuffix(last, "$") && len(last) > 1:
		p.kind, p.name = kindExact, strings.TrimSuffix(last, "$")
	case strings.HasSuffix(last, "~") && len(last) > 1:
		p.kind, p.name = kindNamePrefix, strings.TrimSuffix(last, "~")
	default:
		return groupPattern{}, bad("a package name must end with '$' (an exact match) or '~' (a prefix)")
	}
	required, allowed := namespaceRule(format)
	switch {
	case ns != "" && !allowed:
		return groupPattern{}, bad("%s packages have no namespace; use an empty namespace segment, as in /%s//name$", format, format)
	case ns == "" && required:
		return groupPattern{}, bad("%s packages have a namespace; the pattern must include it", format)
	}
	for _, part := range []struct{ what, v string }{{"namespace", ns}, {"package", p.name}} {
		if part.v != "" && !coordinatePattern.MatchString(part.v) {
			return groupPattern{}, bad("the %s '%s' must have 1 to 255 characters other than '#', '/' and whitespace", part.what, part.v)
		}
		if problem := NameProblem(part.v); part.v != "" && problem != "" {
			return groupPattern{}, fault.Validation("Value '%s' at '%s' is not a valid package group pattern: the %s breaks a constraint: %s", ShowName(raw), field, part.what, problem)
		}
	}
	p.namespace, p.name = Normalize(format, ns, p.name)
	return p, nil
}

func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// matches reports whether the package (normalised coordinates) matches p.
func (p groupPattern) matches(format, namespace, name string) bool {
	if p.kind == kindRoot {
		return true
	}
	if format != p.format {
		return false
	}
	switch p.kind {
	case kindFormat:
		return true
	case kindNamespacePrefix:
		return strings.HasPrefix(namespace, p.namespace)
	case kindNamespace:
		return namespace == p.namespace
	case kindNamePrefix:
		return namespace == p.namespace && strings.HasPrefix(name, p.name)
	default:
		return namespace == p.namespace && name == p.name
	}
}

// contains reports whether every package matching q matches p, q being
// another pattern.
func (p groupPattern) contains(q groupPattern) bool {
	if p == q {
		return false
	}
	if p.kind == kindRoot {
		return true
	}
	if q.kind == kindRoot || q.format != p.format {
		return false
	}
	nameLevel := q.kind == kindNamePrefix || q.kind == kindExact
	switch p.kind {
	case kindFormat:
		return true
	case kindNamespacePrefix:
		return q.kind != kindFormat && strings.HasPrefix(q.namespace, p.namespace)
	case kindNamespace:
		return nameLevel && q.namespace == p.namespace
	case kindNamePrefix:
		return nameLevel && q.namespace == p.namespace && strings.HasPrefix(q.name, p.name)
	}
	return false
}

// moreSpecific reports whether p ranks above q: a later kind, or the same
// prefix kind with a longer prefix.
func (p groupPattern) moreSpecific(q groupPattern) bool {
	if p.kind != q.kind {
		return p.kind > q.kind
	}
	switch p.kind {
	case kindNamespacePrefix:
		return len(p.namespace) > len(q.namespace)
	case kindNamePrefix:
		return len(p.name) > len(q.name)
	}
	return false
}

// PackageGroupARN is arn:aws:codeartifact:<region>:<owner>:package-group/<domain><encoded pattern>.
func (s *Service) PackageGroupARN(owner, domain, pattern string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:package-group/%s%s", s.cfg.Region, owner, domain, encodeGroupPattern(pattern))
}

// CanonicalPackageGroupPattern returns a pattern in the form the service
// keeps it (namespaces and names normalised), or unchanged when it is not a
// valid pattern. Protocols use it to name the group's ARN before the service
// has validated the request.
func CanonicalPackageGroupPattern(pattern string) string {
	if p, err := parsePattern("packageGroup", pattern); err == nil {
		return p.String()
	}
	return pattern
}

// encodeGroupPattern percent-encodes a pattern for its ARN as CodeArtifact
// does: '/' and the URL-unreserved characters stay, every other byte becomes
// %xx in lower case ("/npm/*" -> "/npm/%2a", "$" -> "%24").
func encodeGroupPattern(p string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// parsePackageGroupARN splits a package-group ARN into its region, account,
// domain and (decoded, not yet validated) pattern.
func parsePackageGroupARN(arn string) (region, account, domain, pattern string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "codeartifact" {
		return "", "", "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "package-group/")
	if !found {
		return "", "", "", "", false
	}
	domain, encoded, found := strings.Cut(rest, "/")
	if !found || domain == "" {
		return "", "", "", "", false
	}
	pattern, err := url.PathUnescape("/" + encoded)
	if err != nil {
		return "", "", "", "", false
	}
	return parts[3], parts[4], domain, pattern, true
}
