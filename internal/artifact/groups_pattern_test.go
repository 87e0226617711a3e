package artifact

import (
	"errors"
	"strings"
	"testing"

	"coffer/internal/fault"
	"coffer/internal/store"
)

func TestParsePatternValid(t *testing.T) {
	for _, tc := range []struct {
		raw       string
		want      groupPattern
		canonical string
	}{
		// The six shapes.
		{"/*", groupPattern{kind: kindRoot}, "/*"},
		{"/npm/*", groupPattern{kind: kindFormat, format: "npm"}, "/npm/*"},
		{"/npm/@scope~", groupPattern{kind: kindNamespacePrefix, format: "npm", namespace: "@scope"}, "/npm/@scope~"},
		{"/npm/@scope/*", groupPattern{kind: kindNamespace, format: "npm", namespace: "@scope"}, "/npm/@scope/*"},
		{"/npm/@scope/ui~", groupPattern{kind: kindNamePrefix, format: "npm", namespace: "@scope", name: "ui"}, "/npm/@scope/ui~"},
		{"/maven/com.example/app$", groupPattern{kind: kindExact, format: "maven", namespace: "com.example", name: "app"}, "/maven/com.example/app$"},
		// An empty namespace segment: packages without a namespace.
		{"/npm//*", groupPattern{kind: kindNamespace, format: "npm"}, "/npm//*"},
		{"/npm//react$", groupPattern{kind: kindExact, format: "npm", name: "react"}, "/npm//react$"},
		{"/pypi//requests$", groupPattern{kind: kindExact, format: "pypi", name: "requests"}, "/pypi//requests$"},
		{"/nuget//*", groupPattern{kind: kindNamespace, format: "nuget"}, "/nuget//*"},
		{"/ruby//rails~", groupPattern{kind: kindNamePrefix, format: "ruby", name: "rails"}, "/ruby//rails~"},
		{"/cargo//serde$", groupPattern{kind: kindExact, format: "cargo", name: "serde"}, "/cargo//serde$"},
		{"/generic/ns/name$", groupPattern{kind: kindExact, format: "generic", namespace: "ns", name: "name"}, "/generic/ns/name$"},
		{"/swift/apple/*", groupPattern{kind: kindNamespace, format: "swift", namespace: "apple"}, "/swift/apple/*"},
		// Every format has a /{fmt}/* group.
		{"/cargo/*", groupPattern{kind: kindFormat, format: "cargo"}, "/cargo/*"},
		// Normalisation: PEP 503 for PyPI, lower case for NuGet names and
		// Swift; other formats keep their case.
		{"/pypi//My_Pkg$", groupPattern{kind: kindExact, format: "pypi", name: "my-pkg"}, "/pypi//my-pkg$"},
		{"/pypi//Zope.Interface~", groupPattern{kind: kindNamePrefix, format: "pypi", name: "zope-interface"}, "/pypi//zope-interface~"},
		{"/nuget//Newtonsoft.Json$", groupPattern{kind: kindExact, format: "nuget", name: "newtonsoft.json"}, "/nuget//newtonsoft.json$"},
		{"/swift/Apple/Swift-NIO$", groupPattern{kind: kindExact, format: "swift", namespace: "apple", name: "swift-nio"}, "/swift/apple/swift-nio$"},
		{"/swift/Apple~", groupPattern{kind: kindNamespacePrefix, format: "swift", namespace: "apple"}, "/swift/apple~"},
		{"/maven/Com.Example/App$", groupPattern{kind: kindExact, format: "maven", namespace: "Com.Example", name: "App"}, "/maven/Com.Example/App$"},
		{"/npm/@Scope/UI~", groupPattern{kind: kindNamePrefix, format: "npm", namespace: "@Scope", name: "UI"}, "/npm/@Scope/UI~"},
		// '~' and '$' only count at the end; before that they are characters.
		{"/npm/a~b/*", groupPattern{kind: kindNamespace, format: "npm", namespace: "a~b"}, "/npm/a~b/*"},
		{"/npm//a$b$", groupPattern{kind: kindExact, format: "npm", name: "a$b"}, "/npm//a$b$"},
		{"/npm//a~~", groupPattern{kind: kindNamePrefix, format: "npm", name: "a~"}, "/npm//a~~"},
		// Non-ASCII in NFC; the length counts UTF-16 code units.
		{"/npm//caf\u00e9$", groupPattern{kind: kindExact, format: "npm", name: "caf\u00e9"}, "/npm//caf\u00e9$"},
		{"/npm//" + strings.Repeat("a", 255) + "$", groupPattern{kind: kindExact, format: "npm", name: strings.Repeat("a", 255)}, "/npm//" + strings.Repeat("a", 255) + "$"},
	} {
		p, err := parsePattern("packageGroup", tc.raw)
		if err != nil {
			t.Errorf("parsePattern(%q): %v", tc.raw, err)
			continue
		}
		if p != tc.want {
			t.Errorf("parsePattern(%q) = %+v, want %+v", tc.raw, p, tc.want)
		}
		if got := p.String(); got != tc.canonical {
			t.Errorf("parsePattern(%q).String() = %q, want %q", tc.raw, got, tc.canonical)
		}
		if got := CanonicalPackageGroupPattern(tc.raw); got != tc.canonical {
			t.Errorf("CanonicalPackageGroupPattern(%q) = %q, want %q", tc.raw, got, tc.canonical)
		}
	}
}

func TestParsePatternInvalid(t *testing.T) {
	const shapes = "it must be /*, /{format}/*, /{format}/{namespace}~, /{format}/{namespace}/*, /{format}/{namespace}/{package}~ or /{format}/{namespace}/{package}$"
	const star = "'*' may only end the pattern, after a '/'"
	const nsEnd = "a namespace must be followed by '~' (a prefix) or '/'"
	const nameEnd = "a package name must end with '$' (an exact match) or '~' (a prefix)"
	const tooMany = "it has too many components; the most are /{format}/{namespace}/{package}"
	const spaces = "it must not contain whitespace or control characters"
	const length = "it must have 2 to 520 characters"
	formats := strings.Join(Formats, ", ")
	long := strings.Repeat("a", 256)
	// 259 astral characters are 518 UTF-16 code units: with "/npm//" and
	// "$" the pattern is 525 units, though only 265 runes.
	astral := strings.Repeat("\U0001F600", 259)
	for _, tc := range []struct {
		raw, why string
		shown    string // the pattern as the message quotes it, when not raw
	}{
		// Length, in UTF-16 code units.
		{"", length, ""},
		{"/", length, ""},
		{"*", length, ""},
		{"/npm//" + strings.Repeat("a", 514) + "$", length, ""},
		{"/npm//" + astral + "$", length, ""},
		// Whitespace, controls, U+FFFD and bytes that are not UTF-8.
		{"/npm/a b$", spaces, ""},
		{"/npm//a\tb$", spaces, "/npm//a\\u0009b$"},
		{"/npm//a\u00a0b$", spaces, "/npm//a\\u00A0b$"},
		{"/npm//a\u200bb$", spaces, "/npm//a\\u200Bb$"},
		{"/npm//a\u202eb$", spaces, "/npm//a\\u202Eb$"},
		{"/npm//a\ufffdb$", spaces, "/npm//a\\uFFFDb$"},
		{"/npm//a\xffb$", spaces, "/npm//a\\xFFb$"},
		{"/npm//a\x00b$", spaces, "/npm//a\\u0000b$"},
		// The leading '/'.
		{"npm/*", "it must start with '/'", ""},
		{"**", "it must start with '/'", ""},
		// '*' only at the end, after a '/'.
		{"/**", star, ""},
		{"/*/", star, ""},
		{"/npm*", star, ""},
		{"/npm/a*", star, ""},
		{"/npm/*/*", star, ""},
		{"/npm//a*$", star, ""},
		{"/npm/**", star, ""},
		// A format segment.
		{"/npm", shapes, ""},
		{"/a$", shapes, ""},
		{"/foo/*", "'foo' is not a package format; valid formats: " + formats, ""},
		{"/NPM/*", "'NPM' is not a package format; valid formats: " + formats, ""},
		{"//*", "'' is not a package format; valid formats: " + formats, ""},
		{"//a$", "'' is not a package format; valid formats: " + formats, ""},
		// A namespace prefix needs '~', a namespace '/'.
		{"/npm/", nsEnd, ""},
		{"/npm/~", nsEnd, ""},
		{"/npm/scope", nsEnd, ""},
		{"/npm/scope$", nsEnd, ""},
		// At most three components.
		{"/maven/a/b/c$", tooMany, ""},
		{"/npm///*", tooMany, ""},
		{"/npm/a/b/", tooMany, ""},
		// A name ends with '$' or '~'.
		{"/npm/a/b", nameEnd, ""},
		{"/npm/a/", nameEnd, ""},
		{"/npm/a/$", nameEnd, ""},
		{"/npm/a/~", nameEnd, ""},
		{"/npm//", nameEnd, ""},
		// Namespaces by format.
		{"/pypi/ns/name$", "pypi packages have no namespace; use an empty namespace segment, as in /pypi//name$", ""},
		{"/pypi/ns~", "pypi packages have no namespace; use an empty namespace segment, as in /pypi//name$", ""},
		{"/nuget/ns/*", "nuget packages have no namespace; use an empty namespace segment, as in /nuget//name$", ""},
		{"/ruby/ns/a~", "ruby packages have no namespace; use an empty namespace segment, as in /ruby//name$", ""},
		{"/cargo/ns/a$", "cargo packages have no namespace; use an empty namespace segment, as in /cargo//name$", ""},
		{"/maven//app$", "maven packages have a namespace; the pattern must include it", ""},
		{"/maven//*", "maven packages have a namespace; the pattern must include it", ""},
		{"/generic//a~", "generic packages have a namespace; the pattern must include it", ""},
		{"/swift//a$", "swift packages have a namespace; the pattern must include it", ""},
		// Coordinates: CodeArtifact's pattern.
		{"/npm/a#b/*", "the namespace 'a#b' must have 1 to 255 characters other than '#', '/' and whitespace", ""},
		{"/npm/a#~", "the namespace 'a#' must have 1 to 255 characters other than '#', '/' and whitespace", ""},
		{"/npm//a#b$", "the package 'a#b' must have 1 to 255 characters other than '#', '/' and whitespace", ""},
		{"/npm//" + long + "~", "the package '" + long + "' must have 1 to 255 characters other than '#', '/' and whitespace", ""},
	} {
		_, err := parsePattern("packageGroup", tc.raw)
		shown := tc.shown
		if shown == "" {
			shown = tc.raw
		}
		want := "Value '" + shown + "' at 'packageGroup' is not a valid package group pattern: " + tc.why
		if err == nil {
			t.Errorf("parsePattern(%q): no error, want %q", tc.raw, want)
			continue
		}
		if !errors.Is(err, fault.ErrValidation) || err.Error() != want {
			t.Errorf("parsePattern(%q):\n got %v\nwant %s", tc.raw, err, want)
		}
		if got := CanonicalPackageGroupPattern(tc.raw); got != tc.raw {
			t.Errorf("CanonicalPackageGroupPattern(%q) = %q, want it unchanged", tc.raw, got)
		}
	}
}

// TestParsePatternNameProblem: namespaces and names follow NameProblem, after
// the pattern's own character rules (which already refuse controls and
// format characters).
func TestParsePatternNameProblem(t *testing.T) {
	for _, tc := range []struct{ raw, why string }{
		{"/npm//cafe\u0301$", "the package breaks a constraint: " + NameProblem("cafe\u0301")},
		{"/npm/cafe\u0301~", "the namespace breaks a constraint: " + NameProblem("cafe\u0301")},
		{"/npm//a\u3164$", "the package breaks a constraint: " + NameProblem("a\u3164")},
		{"/npm/a\ufe0f/*", "the namespace breaks a constraint: " + NameProblem("a\ufe0f")},
	} {
		_, err := parsePattern("resourceArn", tc.raw)
		want := "Value '" + ShowName(tc.raw) + "' at 'resourceArn' is not a valid package group pattern: " + tc.why
		if err == nil || !errors.Is(err, fault.ErrValidation) || err.Error() != want {
			t.Errorf("parsePattern(%q):\n got %v\nwant %s", tc.raw, err, want)
		}
	}
}

func mustPattern(t testing.TB, raw string) groupPattern {
	t.Helper()
	p, err := parsePattern("packageGroup", raw)
	if err != nil {
		t.Fatalf("parsePattern(%q): %v", raw, err)
	}
	return p
}

func TestPatternMatches(t *testing.T) {
	type pkg struct{ format, namespace, name string }
	for _, tc := range []struct {
		pattern string
		yes, no []pkg
	}{
		{"/*", []pkg{{"npm", "", "a"}, {"maven", "g", "a"}, {"cargo", "", "x"}}, nil},
		{"/npm/*", []pkg{{"npm", "", "a"}, {"npm", "@s", "b"}}, []pkg{{"pypi", "", "a"}, {"maven", "npm", "a"}}},
		{"/npm/@s~", []pkg{{"npm", "@s", "a"}, {"npm", "@scope", "a"}}, []pkg{{"npm", "", "a"}, {"npm", "@t", "a"}, {"npm", "x@s", "a"}, {"pypi", "@s", "a"}}},
		{"/npm/@s/*", []pkg{{"npm", "@s", "a"}, {"npm", "@s", "b"}}, []pkg{{"npm", "@scope", "a"}, {"npm", "", "a"}}},
		{"/npm//*", []pkg{{"npm", "", "a"}}, []pkg{{"npm", "@s", "a"}}},
		{"/npm/@s/ui~", []pkg{{"npm", "@s", "ui"}, {"npm", "@s", "ui-kit"}}, []pkg{{"npm", "@s", "u"}, {"npm", "@sx", "ui"}, {"npm", "", "ui"}}},
		{"/maven/com.example/app$", []pkg{{"maven", "com.example", "app"}}, []pkg{{"maven", "com.example", "app2"}, {"maven", "com.example", "ap"}, {"maven", "com.example.x", "app"}, {"maven", "com", "app"}}},
		// Coordinates are compared normalised: the pattern is, and callers
		// pass normalised coordinates.
		{"/pypi//My_Pkg$", []pkg{{"pypi", "", "my-pkg"}}, []pkg{{"pypi", "", "My_Pkg"}}},
		// Case matters where the format keeps it.
		{"/maven/Com.Example~", []pkg{{"maven", "Com.Example.x", "a"}}, []pkg{{"maven", "com.example.x", "a"}}},
	} {
		p := mustPattern(t, tc.pattern)
		for _, k := range tc.yes {
			if !p.matches(k.format, k.namespace, k.name) {
				t.Errorf("%s does not match %+v", tc.pattern, k)
			}
		}
		for _, k := range tc.no {
			if p.matches(k.format, k.namespace, k.name) {
				t.Errorf("%s matches %+v", tc.pattern, k)
			}
		}
	}
}

func TestPatternContains(t *testing.T) {
	for _, tc := range []struct {
		p, q string
		want bool
	}{
		{"/*", "/npm/*", true},
		{"/*", "/npm//a$", true},
		{"/*", "/*", false}, // not itself
		{"/npm/*", "/npm/*", false},
		{"/npm/*", "/*", false},
		{"/npm/*", "/npm/@s~", true},
		{"/npm/*", "/npm//a$", true},
		{"/npm/*", "/pypi//a$", false},
		{"/npm/@s~", "/npm/@scope~", true},
		{"/npm/@s~", "/npm/@scope/*", true},
		{"/npm/@s~", "/npm/@s/a$", true},
		{"/npm/@s~", "/npm/@t/*", false},
		{"/npm/@scope~", "/npm/@s~", false},
		{"/npm/@s~", "/npm/*", false},
		{"/npm/@s/*", "/npm/@s/a~", true},
		{"/npm/@s/*", "/npm/@s/a$", true},
		{"/npm/@s/*", "/npm/@s~", false},
		{"/npm/@s/*", "/npm/@scope/a$", false},
		{"/npm/@s/a~", "/npm/@s/ab~", true},
		{"/npm/@s/a~", "/npm/@s/ab$", true},
		{"/npm/@s/a~", "/npm/@s/b$", false},
		{"/npm/@s/ab~", "/npm/@s/a~", false},
		{"/npm/@s/a~", "/npm/@s/*", false},
		{"/npm/@s/a$", "/npm/@s/a$", false},
		{"/npm/@s/a$", "/npm/@s/ab$", false},
	} {
		p, q := mustPattern(t, tc.p), mustPattern(t, tc.q)
		if got := p.contains(q); got != tc.want {
			t.Errorf("%s contains %s = %v, want %v", tc.p, tc.q, got, tc.want)
		}
	}
}

// TestPatternSpecificity: $ (exact), ~ on the name, /* on a namespace, ~ on
// the namespace, /{fmt}/*, /*; the longer of two prefixes of one kind.
func TestPatternSpecificity(t *testing.T) {
	order := []string{"/npm//a$", "/npm//ab~", "/npm//a~", "/npm/@s/*", "/npm/@sc~", "/npm/@s~", "/npm/*", "/*"}
	for i, hi := range order {
		for j, lo := range order {
			p, q := mustPattern(t, hi), mustPattern(t, lo)
			if got := p.moreSpecific(q); got != (i < j) {
				t.Errorf("%s more specific than %s = %v, want %v", hi, lo, got, i < j)
			}
		}
	}
	// Two patterns of one kind and length rank equal.
	if p, q := mustPattern(t, "/npm/a~"), mustPattern(t, "/npm/b~"); p.moreSpecific(q) || q.moreSpecific(p) {
		t.Error("two namespace prefixes of one length are ranked")
	}
}

func TestBestOf(t *testing.T) {
	patterns := []string{"/*", "/npm/*", "/npm/@s~", "/npm/@sc~", "/npm/@scope/*", "/npm/@scope/ui~", "/npm/@scope/ui-kit$", "/npm//*", "/pypi//my-pkg$", "/maven/com.example~"}
	var es []*groupEntry
	for _, raw := range patterns {
		es = append(es, &groupEntry{g: store.PackageGroup{Pattern: raw}, pat: mustPattern(t, raw)})
	}
	for _, tc := range []struct{ format, namespace, name, want string }{
		{"npm", "@scope", "ui-kit", "/npm/@scope/ui-kit$"},
		{"npm", "@scope", "ui-kit2", "/npm/@scope/ui~"},
		{"npm", "@scope", "core", "/npm/@scope/*"},
		{"npm", "@scopex", "core", "/npm/@sc~"},
		{"npm", "@sx", "core", "/npm/@s~"},
		{"npm", "@t", "core", "/npm/*"},
		{"npm", "", "react", "/npm//*"},
		{"pypi", "", "my-pkg", "/pypi//my-pkg$"},
		{"pypi", "", "other", "/*"},
		{"maven", "com.example.app", "core", "/maven/com.example~"},
		{"cargo", "", "serde", "/*"},
	} {
		best := bestOf(es, tc.format, tc.namespace, tc.name)
		if best == nil || best.g.Pattern != tc.want {
			t.Errorf("group of %s/%s/%s = %v, want %s", tc.format, tc.namespace, tc.name, best, tc.want)
		}
	}
	// The order of the candidates does not matter.
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	if best := bestOf(es, "npm", "@scope", "ui-kit"); best.g.Pattern != "/npm/@scope/ui-kit$" {
		t.Errorf("reversed: %s", best.g.Pattern)
	}
}

// TestGroupIndexParentAndInherit drives the index with the groups of one
// format already loaded, so no store is involved: parents follow from the
// patterns and INHERIT resolves upwards.
func TestGroupIndexParentAndInherit(t *testing.T) {
	d := &store.Domain{ID: 1, Name: "acme", Owner: "111122223333"}
	entry := func(raw string, modes map[string]string) *groupEntry {
		return &groupEntry{g: store.PackageGroup{ID: 1, Pattern: raw, Modes: modes}, pat: mustPattern(t, raw)}
	}
	inherit := map[string]string{RestrictionPublish: ModeInherit, RestrictionExternalUpstream: ModeInherit, RestrictionInternalUpstream: ModeInherit}
	npm := entry("/npm/*", map[string]string{RestrictionPublish: Block, RestrictionExternalUpstream: ModeInherit, RestrictionInternalUpstream: ModeInherit})
	scope := entry("/npm/@s~", inherit)
	scoped := entry("/npm/@scope/*", map[string]string{RestrictionPublish: ModeAllowSpecificRepositories, RestrictionExternalUpstream: ModeInherit, RestrictionInternalUpstream: ModeInherit})
	exact := entry("/npm/@scope/ui$", inherit)
	root := &groupEntry{g: rootGroup(d), pat: groupPattern{kind: kindRoot}}
	x := &groupIndex{d: d, root: root, byFormat: map[string][]*groupEntry{"npm": {exact, npm, scoped, scope}}}

	for _, tc := range []struct {
		e, parent *groupEntry
	}{{root, nil}, {npm, root}, {scope, npm}, {scoped, scope}, {exact, scoped}} {
		p, err := x.parent(tc.e)
		if err != nil || p != tc.parent {
			t.Errorf("parent of %s = %v, %v; want %v", tc.e.g.Pattern, p, err, tc.parent)
		}
	}
	for _, tc := range []struct {
		e         *groupEntry
		typ, mode string
		from      *groupEntry
	}{
		{exact, RestrictionPublish, ModeAllowSpecificRepositories, scoped},
		{scope, RestrictionPublish, Block, npm},
		{exact, RestrictionExternalUpstream, Allow, root},
		{npm, RestrictionPublish, Block, npm},
		{root, RestrictionInternalUpstream, Allow, root},
	} {
		mode, from, err := x.effective(tc.e, tc.typ)
		if err != nil || mode != tc.mode || from != tc.from {
			t.Errorf("effective %s of %s = %s from %v, %v; want %s from %s", tc.typ, tc.e.g.Pattern, mode, from, err, tc.mode, tc.from.g.Pattern)
		}
	}
	if e, err := x.associated("npm", "@scope", "ui"); err != nil || e != exact {
		t.Errorf("group of @scope/ui: %v, %v", e, err)
	}
	if e, err := x.find(mustPattern(t, "/npm/@s~")); err != nil || e != scope {
		t.Errorf("find /npm/@s~: %v, %v", e, err)
	}
	if e, err := x.find(mustPattern(t, "/npm/@t~")); err != nil || e != nil {
		t.Errorf("find /npm/@t~: %v, %v", e, err)
	}
}

func TestPackageGroupARNEncoding(t *testing.T) {
	for _, tc := range []struct{ pattern, encoded string }{
		{"/*", "/%2a"},
		{"/npm/*", "/npm/%2a"},
		{"/npm/@scope/ui~", "/npm/%40scope/ui~"},
		{"/maven/com.example/app$", "/maven/com.example/app%24"},
		{"/npm//caf\u00e9$", "/npm//caf%c3%a9%24"},
	} {
		if got := encodeGroupPattern(tc.pattern); got != tc.encoded {
			t.Errorf("encodeGroupPattern(%q) = %q, want %q", tc.pattern, got, tc.encoded)
		}
		arn := "arn:aws:codeartifact:us-east-1:111122223333:package-group/acme" + tc.encoded
		region, account, domain, pattern, ok := parsePackageGroupARN(arn)
		if !ok || region != "us-east-1" || account != "111122223333" || domain != "acme" || pattern != tc.pattern {
			t.Errorf("parsePackageGroupARN(%q) = %q %q %q %q %v", arn, region, account, domain, pattern, ok)
		}
	}
}

// FuzzParsePattern: parsePattern never panics; what it refuses is a
// ValidationException; what it accepts has a canonical form that parses to
// the same pattern and survives the ARN encoding; matching follows prefix
// semantics and agrees with contains and moreSpecific.
func FuzzParsePattern(f *testing.F) {
	for _, seed := range []struct{ raw, other, suffix string }{
		{"/*", "/npm/*", "x"},
		{"/npm/@scope/*", "/npm/@s~", "-kit"},
		{"/npm/@scope/ui~", "/npm/@scope/ui-kit$", "-kit"},
		{"/maven/com.example/app$", "/maven/com.example~", ".x"},
		{"/pypi//My_Pkg$", "/pypi//my~", "_x"},
		{"/swift/Apple~", "/swift/apple/nio$", "z"},
		{"/npm//*", "/npm//a$", ""},
		{"/nuget//Newtonsoft.~", "/nuget/*", "Json"},
		{"/npm/a*", "//*", "\xff"},
		{"/npm//cafe\u0301$", "/npm/a b$", "\u200b"},
		{"/generic/a/b/c$", "/npm/", "~"},
	} {
		f.Add(seed.raw, seed.other, seed.suffix)
	}
	f.Fuzz(func(t *testing.T, raw, other, suffix string) {
		p, err := parsePattern("packageGroup", raw)
		if err != nil {
			if !errors.Is(err, fault.ErrValidation) || !strings.HasPrefix(err.Error(), "Value '") {
				t.Fatalf("parsePattern(%q): %v is not a validation error", raw, err)
			}
			if CanonicalPackageGroupPattern(raw) != raw {
				t.Fatalf("CanonicalPackageGroupPattern changed the invalid %q", raw)
			}
			return
		}
		canonical := p.String()
		again, err := parsePattern("packageGroup", canonical)
		if err != nil || again != p {
			t.Fatalf("%q -> %q re-parses to %+v, %v; want %+v", raw, canonical, again, err, p)
		}
		if CanonicalPackageGroupPattern(raw) != canonical || CanonicalPackageGroupPattern(canonical) != canonical {
			t.Fatalf("CanonicalPackageGroupPattern(%q) = %q, not %q", raw, CanonicalPackageGroupPattern(raw), canonical)
		}
		_, _, _, decoded, ok := parsePackageGroupARN("arn:aws:codeartifact:us-east-1:111122223333:package-group/acme" + encodeGroupPattern(canonical))
		if !ok || decoded != canonical {
			t.Fatalf("ARN round trip of %q gave %q, %v", canonical, decoded, ok)
		}

		// Prefix semantics, on a package the pattern is made of.
		format, ns, name := witness(p)
		if !p.matches(format, ns, name) {
			t.Fatalf("%s does not match its own witness %s/%s/%s", canonical, format, ns, name)
		}
		switch p.kind {
		case kindRoot, kindFormat:
			if !p.matches(format, ns+suffix, name+suffix) {
				t.Fatalf("%s does not match %s/%s/%s", canonical, format, ns+suffix, name+suffix)
			}
		case kindNamespacePrefix:
			if !p.matches(format, ns+suffix, name+suffix) {
				t.Fatalf("%s does not match the namespace %q", canonical, ns+suffix)
			}
			if got := p.matches(format, suffix, name); got != strings.HasPrefix(suffix, p.namespace) {
				t.Fatalf("%s matches the namespace %q: %v", canonical, suffix, got)
			}
		case kindNamespace:
			if got := p.matches(format, ns+suffix, name+suffix); got != (suffix == "") {
				t.Fatalf("%s matches the namespace %q: %v", canonical, ns+suffix, got)
			}
		case kindNamePrefix:
			if !p.matches(format, ns, name+suffix) {
				t.Fatalf("%s does not match the name %q", canonical, name+suffix)
			}
			if got := p.matches(format, ns, suffix); got != strings.HasPrefix(suffix, p.name) {
				t.Fatalf("%s matches the name %q: %v", canonical, suffix, got)
			}
		case kindExact:
			if got := p.matches(format, ns, name+suffix); got != (suffix == "") {
				t.Fatalf("%s matches the name %q: %v", canonical, name+suffix, got)
			}
		}
		if p.kind != kindRoot && p.matches(format+"x", ns, name) {
			t.Fatalf("%s matches another format", canonical)
		}

		// A second pattern: contains implies matches, and ranks below.
		q, err := parsePattern("packageGroup", other)
		if err != nil {
			return
		}
		if p.moreSpecific(q) && q.moreSpecific(p) {
			t.Fatalf("%s and %s each rank above the other", canonical, q)
		}
		if p.contains(q) {
			if p == q {
				t.Fatalf("%s contains itself", canonical)
			}
			qf, qn, qm := witness(q)
			if !p.matches(qf, qn, qm) {
				t.Fatalf("%s contains %s but does not match %s/%s/%s", canonical, q, qf, qn, qm)
			}
			if !q.moreSpecific(p) {
				t.Fatalf("%s contains %s but does not rank below it", canonical, q)
			}
		}
	})
}

// witness returns a package that p matches.
func witness(p groupPattern) (format, namespace, name string) {
	switch p.kind {
	case kindRoot:
		return FormatNpm, "", "x"
	case kindExact:
		return p.format, p.namespace, p.name
	}
	return p.format, p.namespace, p.name + "x"
}
