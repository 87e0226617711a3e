package npm

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"coffer/internal/jsonstr"
	"coffer/internal/store"
)

// A version document ("fragment") is kept in one canonical form, which is
// also what a version's Metadata holds: compact JSON, members in key order
// except "dist", which comes last; no "readme" or "readmeFilename" (the
// readme is the version's Readme, shown once at the top of a packument);
// no "dist.tarball" (the URL depends on how the client reached coffer). A
// packument is then assembled by concatenation: each fragment is copied
// with its last two bytes ("}}") replaced by ,"tarball":"<url>"}}.

// noReadme is what npm puts in a version document without a README.
const noReadme = "ERROR: No README data found!"

// versionDoc is a decoded version document.
type versionDoc struct {
	members map[string]json.RawMessage
	dist    map[string]json.RawMessage
}

// decodeVersionDoc decodes a version document (an object with a "dist"
// object, possibly empty).
func decodeVersionDoc(raw []byte) (*versionDoc, error) {
	d := &versionDoc{}
	if err := json.Unmarshal(raw, &d.members); err != nil {
		return nil, err
	}
	if d.members == nil {
		return nil, errors.New("the version document is not an object")
	}
	d.dist = map[string]json.RawMessage{}
	if raw, ok := d.members["dist"]; ok {
		if err := json.Unmarshal(raw, &d.dist); err != nil || d.dist == nil {
			return nil, errors.New("dist is not an object")
		}
		delete(d.members, "dist")
	}
	return d, nil
}

// str returns a member that is a JSON string ("" otherwise).
func str(m map[string]json.RawMessage, key string) string {
	raw, ok := m[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// setStr sets a member to a JSON string.
func setStr(m map[string]json.RawMessage, key, val string) {
	m[key] = jsonstr.Append(nil, val)
}

// takeReadme removes the readme members and returns the readme.
func (d *versionDoc) takeReadme() string {
	readme := str(d.members, "readme")
	delete(d.members, "readme")
	delete(d.members, "readmeFilename")
	if readme == noReadme {
		readme = ""
	}
	return readme
}

// encode writes the canonical fragment, without dist.tarball. A fragment
// whose dist ends up empty is valid JSON but not canonical (see
// canonicalFragment): readers rebuild its dist from the stored tarball.
func (d *versionDoc) encode() ([]byte, error) {
	delete(d.dist, "tarball")
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range slices.Sorted(mapKeys(d.members)) {
		if k == "dist" {
			continue
		}
		if err := writeMember(&b, k, d.members[k]); err != nil {
			return nil, err
		}
		b.WriteByte(',')
	}
	b.Write(jsonstr.Append(nil, "dist"))
	b.WriteString(":{")
	for i, k := range slices.Sorted(mapKeys(d.dist)) {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeMember(&b, k, d.dist[k]); err != nil {
			return nil, err
		}
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func writeMember(b *bytes.Buffer, k string, v json.RawMessage) error {
	b.Write(jsonstr.Append(nil, k))
	b.WriteByte(':')
	return json.Compact(b, v)
}

// abbreviatedFields are the version fields of an abbreviated packument
// (application/vnd.npm.install-v1+json), dist apart.
var abbreviatedFields = []string{
	"_hasShrinkwrap", "acceptDependencies", "bin", "bundleDependencies", "bundledDependencies", "cpu", "dependencies",
	"deprecated", "devDependencies", "directories", "engines", "funding", "hasInstallScript", "libc", "license", "name",
	"optionalDependencies", "os", "peerDependencies", "peerDependenciesMeta", "version",
}

// abbreviate derives the abbreviated fragment (same canonical layout) from
// a canonical full one: the install-relevant fields, and hasInstallScript
// when the scripts run at install time. It slices the members out of the
// full fragment without decoding them (only "scripts" is read).
func abbreviate(full string) ([]byte, error) {
	spans, ok := topMembers(full)
	if !ok {
		return nil, errors.New("the version document is not a canonical fragment")
	}
	install := false
	hasFlag := false
	for _, sp := range spans {
		switch sp.key {
		case "hasInstallScript":
			hasFlag = true
		case "scripts":
			var scripts map[string]json.RawMessage
			if json.Unmarshal([]byte(full[sp.start:sp.end]), &scripts) == nil {
				for _, k := range []string{"preinstall", "install", "postinstall"} {
					_, found := scripts[k]
					install = install || found
				}
			}
		}
	}
	const flag = `"hasInstallScript":true`
	out := make([]byte, 0, len(full)/2)
	out = append(out, '{')
	add := func(b string) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	for _, sp := range spans {
		if install && !hasFlag && (sp.key > "hasInstallScript" || sp.key == "dist") {
			add(flag)
			hasFlag = true
		}
		if sp.key == "dist" || slices.Contains(abbreviatedFields, sp.key) {
			add(full[sp.keyStart:sp.end])
		}
	}
	return append(out, '}'), nil
}

// member locates one top-level member of a compact JSON object: its key
// (as written, without quotes) and the offsets of the member ("key":value)
// and of its value.
type member struct {
	key        string
	keyStart   int
	start, end int // the value
}

// topMembers splits a compact JSON object (no white space outside
// strings, as canonical fragments are) into its members, in order.
func topMembers(b string) ([]member, bool) {
	n := len(b)
	if n < 2 || b[0] != '{' || b[n-1] != '}' {
		return nil, false
	}
	var out []member
	i := 1
	if b[i] == '}' {
		return out, i == n-1
	}
	// skipString returns the offset after the string starting at i.
	skipString := func(i int) int {
		for i++; i < n; i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	}
	for {
		if i >= n || b[i] != '"' {
			return nil, false
		}
		keyStart := i
		j := skipString(i)
		if j < 0 || j >= n || b[j] != ':' {
			return nil, false
		}
		m := member{key: b[i+1 : j-1], keyStart: keyStart, start: j + 1}
		i = j + 1
		depth := 0
	value:
		for ; i < n; i++ {
			switch b[i] {
			case '"':
				if i = skipString(i); i < 0 {
					return nil, false
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					break value
				}
				depth--
			case ',':
				if depth == 0 {
					break value
				}
			}
		}
		if i >= n || m.start == i {
			return nil, false
		}
		m.end = i
		out = append(out, m)
		if b[i] == '}' {
			return out, i == n-1
		}
		i++
	}
}

// canonicalFragment reports whether b is in canonical form as far as
// splicing the tarball needs: a compact JSON object whose last member is a
// non-empty "dist" object. It runs at memory speed, without allocating, so
// that stored fragments can be trusted without decoding them.
func canonicalFragment(b string) bool {
	n := len(b)
	if n < 12 || b[0] != '{' || b[n-1] != '}' || b[n-2] != '}' {
		return false
	}
	depth := 0
	lastKey := -1 // offset of the last top-level key's opening quote
	keyNext := false
	for i := 0; i < n; i++ {
		switch c := b[i]; c {
		case '"':
			start := i
			for i++; i < n && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				} else if b[i] < 0x20 {
					return false
				}
			}
			if i >= n {
				return false
			}
			if depth == 1 && keyNext {
				lastKey, keyNext = start, false
			}
		case '{', '[':
			depth++
			if depth == 1 {
				keyNext = true
			}
		case '}', ']':
			depth--
			if depth < 0 || depth == 0 && i != n-1 {
				return false
			}
		case ',':
			if depth == 1 {
				keyNext = true
			}
		case ' ', '\t', '\r', '\n':
			return false
		}
	}
	const distKey = `"dist":{`
	return depth == 0 && lastKey >= 0 && strings.HasPrefix(b[lastKey:], distKey) && b[lastKey+len(distKey)] != '}'
}

// appendFragment appends a fragment (canonical, or as encode writes it
// with an empty dist) with its tarball URL.
func appendFragment(b []byte, frag string, tarball string) []byte {
	b = append(b, frag[:len(frag)-2]...)
	if frag[len(frag)-3] != '{' {
		b = append(b, ',')
	}
	b = append(b, `"tarball":`...)
	b = jsonstr.Append(b, tarball)
	return append(b, "}}"...)
}

// fillVersion fills the descriptive fields of a version record from its
// document, so that DescribePackageVersion, GetPackageVersionReadme and
// ListPackageVersionDependencies show them.
func fillVersion(v *store.Version, n Name, d *versionDoc, readme string) {
	m := d.members
	v.DisplayName = n.String()
	v.Summary = str(m, "description")
	v.HomePage = str(m, "homepage")
	v.SourceCodeRepository = repositoryURL(m["repository"])
	v.Licenses = licenses(m)
	v.Readme = readme
	v.Dependencies = dependencies(m)
}

func repositoryURL(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.URL
	}
	return ""
}

// licenses reads "license" (an SPDX expression, or the legacy {type, url})
// and the legacy "licenses" list.
func licenses(m map[string]json.RawMessage) []store.License {
	var out []store.License
	one := func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s != "" {
				out = append(out, store.License{Name: s})
			}
			return
		}
		var o struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		}
		if json.Unmarshal(raw, &o) == nil && (o.Type != "" || o.URL != "") {
			out = append(out, store.License{Name: o.Type, URL: o.URL})
		}
	}
	if raw, ok := m["license"]; ok {
		one(raw)
	}
	var list []json.RawMessage
	if raw, ok := m["licenses"]; ok && json.Unmarshal(raw, &list) == nil {
		for _, l := range list {
			one(l)
		}
	}
	return out
}

// dependencyFields maps package.json dependency fields to CodeArtifact's
// dependencyType values (spec §1: npm regular|dev|peer|optional).
var dependencyFields = []struct{ field, kind string }{
	{"optionalDependencies", "optional"}, {"dependencies", "regular"}, {"devDependencies", "dev"}, {"peerDependencies", "peer"},
}

// dependencies lists the direct dependencies, optional ones once (npm also
// copies them into "dependencies").
func dependencies(m map[string]json.RawMessage) []store.Dependency {
	var out []store.Dependency
	optional := map[string]bool{}
	for _, f := range dependencyFields {
		var deps map[string]json.RawMessage
		if raw, ok := m[f.field]; !ok || json.Unmarshal(raw, &deps) != nil {
			continue
		}
		for _, name := range slices.Sorted(mapKeys(deps)) {
			if f.kind == "optional" {
				optional[name] = true
			} else if f.kind == "regular" && optional[name] {
				continue
			}
			var req string
			_ = json.Unmarshal(deps[name], &req)
			d := store.Dependency{Package: name, DependencyType: f.kind, VersionRequirement: req}
			if n, ok := ParseName(name); ok {
				d.Namespace, d.Package = n.Scope, n.Base
			}
			out = append(out, d)
		}
	}
	return out
}

// cleanVersionKey reports whether a version string can be a coordinate
// (CodeArtifact: 1-255 characters, no "#", "/" or whitespace).
func cleanVersionKey(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	return !strings.ContainsAny(v, "#/ \t\r\n\f\v")
}
