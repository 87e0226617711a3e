package rules

import (
	"errors"
	"strings"
)

// Pattern is a parsed canonical package pattern, the six forms of
// artifact's package group grammar: /*, /fmt/*, /fmt/ns~, /fmt/ns/*,
// /fmt/ns/name~ and /fmt/ns/name$. It matches normalised coordinates.
type Pattern struct {
	kind                    int // 0 root ... 5 exact, as the forms above
	format, namespace, name string
}

// ParsePattern parses a canonical pattern; it checks the shape only
// (artifact.ParsePackageGroupPattern checks formats and names).
func ParsePattern(s string) (Pattern, error) {
	if s == "/*" {
		return Pattern{}, nil
	}
	if !strings.HasPrefix(s, "/") {
		return Pattern{}, errors.New("it must start with '/'")
	}
	parts := strings.Split(s[1:], "/")
	bad := errors.New("it must be /*, /{format}/*, /{format}/{namespace}~, /{format}/{namespace}/*, /{format}/{namespace}/{package}~ or /{format}/{namespace}/{package}$")
	if parts[0] == "" || len(parts) < 2 || len(parts) > 3 {
		return Pattern{}, bad
	}
	p := Pattern{format: parts[0]}
	switch {
	case len(parts) == 2 && parts[1] == "*":
		p.kind = 1
	case len(parts) == 2 && len(parts[1]) > 1 && strings.HasSuffix(parts[1], "~"):
		p.kind, p.namespace = 2, strings.TrimSuffix(parts[1], "~")
	case len(parts) == 3 && parts[2] == "*":
		p.kind, p.namespace = 3, parts[1]
	case len(parts) == 3 && len(parts[2]) > 1 && strings.HasSuffix(parts[2], "~"):
		p.kind, p.namespace, p.name = 4, parts[1], strings.TrimSuffix(parts[2], "~")
	case len(parts) == 3 && len(parts[2]) > 1 && strings.HasSuffix(parts[2], "$"):
		p.kind, p.namespace, p.name = 5, parts[1], strings.TrimSuffix(parts[2], "$")
	default:
		return Pattern{}, bad
	}
	if strings.ContainsAny(p.namespace+p.name, "*$~") {
		return Pattern{}, bad
	}
	return p, nil
}

// Matches reports whether the package matches p.
func (p Pattern) Matches(format, namespace, name string) bool {
	switch p.kind {
	case 0:
		return true
	case 1:
		return format == p.format
	case 2:
		return format == p.format && strings.HasPrefix(namespace, p.namespace)
	case 3:
		return format == p.format && namespace == p.namespace
	case 4:
		return format == p.format && namespace == p.namespace && strings.HasPrefix(name, p.name)
	}
	return format == p.format && namespace == p.namespace && name == p.name
}

// exact reports whether p names one package.
func (p Pattern) exact() bool { return p.kind == 5 }

// rank orders patterns by specificity as package groups do: a later form,
// or the same prefix form with a longer prefix, is more specific.
func (p Pattern) rank() int {
	return p.kind<<20 + len(p.namespace) + len(p.name)
}

// key indexes rules by package (name set) or by namespace (name empty);
// a struct, so that a lookup allocates nothing.
type key struct{ format, namespace, name string }

func nsKey(format, namespace string) key { return key{format: format, namespace: namespace} }

func packageKey(format, namespace, name string) key { return key{format, namespace, name} }
