package rubygems

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"coffer/internal/fault"
)

// Dependency types (Gem::Dependency#type).
const (
	Runtime     = "runtime"
	Development = "development"
)

// Dependency is a Gem::Dependency.
type Dependency struct {
	Name        string
	Requirement Requirement
	Type        string // Runtime or Development
	// Prerelease is the dependency's own prerelease flag (set by
	// Gem::Dependency#prerelease=); a prerelease version in the
	// requirement implies it anyway.
	Prerelease bool
}

// Spec is what a gem's metadata says and the indexes need of it.
type Spec struct {
	Name     string
	Version  string
	Platform string // "ruby" for a pure-Ruby gem

	Summary     string
	Description string
	Homepage    string
	Authors     []string
	Email       []string
	Licenses    []string
	Metadata    map[string]string
	// Date is the build date (Gem::Specification#date), midnight UTC.
	Date time.Time

	RequiredRubyVersion     Requirement
	RequiredRubygemsVersion Requirement
	Dependencies            []Dependency

	// RubygemsVersion is the version of RubyGems that built the gem and
	// SpecificationVersion the gemspec format version; both go into the
	// quick spec.
	RubygemsVersion      string
	SpecificationVersion int
}

// File is the spec's name tuple.
func (s *Spec) File() GemFile {
	return GemFile{Name: s.Name, Version: s.Version, Platform: NormalizePlatform(s.Platform)}
}

// FullName is "name-version[-platform]".
func (s *Spec) FullName() string { return s.File().FullName() }

// FileName is the name of the .gem file: "name-version[-platform].gem".
func (s *Spec) FileName() string { return s.File().FileName() }

// RuntimeDependencies are the dependencies the indexes list.
func (s *Spec) RuntimeDependencies() []Dependency {
	var out []Dependency
	for _, d := range s.Dependencies {
		if d.Type != Development {
			out = append(out, d)
		}
	}
	return out
}

// Prerelease reports whether the version is a prerelease.
func (s *Spec) Prerelease() bool { return IsPrerelease(s.Version) }

// Validate checks what rubygems.org checks of a pushed gem's spec, and
// what the indexes need to stay parseable: a valid name, a canonical
// version, a valid platform, and dependencies with valid names, types and
// requirements.
func (s *Spec) Validate() error {
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	if !ValidVersion(s.Version) {
		return fault.Validation("The gem version %q is not a valid version number", clip(s.Version))
	}
	if err := ValidatePlatform(NormalizePlatform(s.Platform)); err != nil {
		return err
	}
	if len(s.Dependencies) > maxDependencies {
		return fault.Validation("The gem has more than %d dependencies", maxDependencies)
	}
	for _, d := range s.Dependencies {
		if !allowedChars(d.Name) || len(d.Name) > maxField {
			return fault.Validation("The dependency name %q is not valid", clip(d.Name))
		}
		if d.Type != Runtime && d.Type != Development {
			return fault.Validation("The dependency %s has the type %q, not runtime or development", d.Name, clip(d.Type))
		}
		if err := validateRequirement(d.Requirement); err != nil {
			return fault.Validation("The dependency %s: %s", d.Name, fault.As(err).Message)
		}
	}
	for _, r := range []Requirement{s.RequiredRubyVersion, s.RequiredRubygemsVersion} {
		if err := validateRequirement(r); err != nil {
			return err
		}
	}
	return nil
}

// maxDependencies bounds the dependencies of one gem.
const maxDependencies = 1000

func validateRequirement(r Requirement) error {
	if len(r) > maxConstraints {
		return fault.Validation("A requirement has more than %d constraints", maxConstraints)
	}
	for _, c := range r {
		if !validOp(c.Op) || !ValidVersion(c.Version) {
			return fault.Validation("The requirement %q is not valid", clip(c.String()))
		}
	}
	return nil
}

// Tags Psych writes on a gem's metadata.
const (
	tagSpecification = "!ruby/object:Gem::Specification"
	tagVersion       = "!ruby/object:Gem::Version"
	tagRequirement   = "!ruby/object:Gem::Requirement"
	tagDependency    = "!ruby/object:Gem::Dependency"
)

// ParseSpecYAML reads a gemspec as gem build writes it into metadata.gz:
// YAML with Ruby tags (Gem::Specification, Gem::Version, Gem::Requirement,
// Gem::Dependency), including the forms older RubyGems and Syck wrote
// (version_requirements, a DefaultKey for "=", !binary strings, anchors).
// Fields it does not need (the file list, extensions, …) are not
// interpreted. The caller bounds the input; aliases are followed, never
// expanded. The result is not validated (see Spec.Validate).
func ParseSpecYAML(data []byte) (spec *Spec, err error) {
	defer func() {
		// The YAML parser is third-party code fed untrusted input; a panic
		// in it is a malformed document, not a crash.
		if r := recover(); r != nil {
			spec, err = nil, fault.Validation("The gem metadata is not valid YAML")
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fault.Validation("The gem metadata is not valid YAML: %s", clip(err.Error()))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolve(root)
	if root == nil || root.Kind != yaml.MappingNode || (root.Tag != tagSpecification && root.Tag != "!!map") {
		return nil, fault.Validation("The gem metadata is not a Gem::Specification")
	}
	s := &Spec{
		Name:                 scalar(mapGet(root, "name")),
		Version:              versionOf(mapGet(root, "version")),
		Platform:             NormalizePlatform(scalar(mapGet(root, "platform"))),
		Summary:              scalar(mapGet(root, "summary")),
		Description:          scalar(mapGet(root, "description")),
		Homepage:             scalar(mapGet(root, "homepage")),
		Authors:              stringList(mapGet(root, "authors")),
		Email:                stringList(mapGet(root, "email")),
		Licenses:             stringList(mapGet(root, "licenses")),
		Date:                 parseDate(scalar(mapGet(root, "date"))),
		RubygemsVersion:      scalar(mapGet(root, "rubygems_version")),
		SpecificationVersion: 4,
	}
	if len(s.Licenses) == 0 {
		s.Licenses = stringList(mapGet(root, "license"))
	}
	if n, err := strconv.Atoi(scalar(mapGet(root, "specification_version"))); err == nil {
		s.SpecificationVersion = n
	}
	if m := resolve(mapGet(root, "metadata")); m != nil && m.Kind == yaml.MappingNode {
		s.Metadata = map[string]string{}
		for i := 0; i+1 < len(m.Content); i += 2 {
			s.Metadata[scalar(m.Content[i])] = scalar(m.Content[i+1])
		}
	}
	if s.RequiredRubyVersion, err = requirementOf(mapGet(root, "required_ruby_version")); err != nil {
		return nil, err
	}
	if s.RequiredRubygemsVersion, err = requirementOf(mapGet(root, "required_rubygems_version")); err != nil {
		return nil, err
	}
	if deps := resolve(mapGet(root, "dependencies")); deps != nil && deps.Kind == yaml.SequenceNode {
		if len(deps.Content) > maxDependencies {
			return nil, fault.Validation("The gem has more than %d dependencies", maxDependencies)
		}
		for _, dn := range deps.Content {
			d, err := dependencyOf(dn)
			if err != nil {
				return nil, err
			}
			s.Dependencies = append(s.Dependencies, d)
		}
	}
	return s, nil
}

// resolve follows aliases (a bounded number of times).
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k != nil && k.Kind == yaml.ScalarNode && strings.TrimPrefix(k.Value, ":") == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar is the text of a scalar node: "" for null or a non-scalar, the
// decoded bytes of a !binary scalar.
func scalar(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	if n.Tag == "!binary" || n.Tag == "!!binary" {
		if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), "")); err == nil {
			return string(b)
		}
	}
	return n.Value
}

// stringList reads a sequence of scalars, or one scalar as a list of one.
func stringList(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if s := scalar(n); s != "" {
			return []string{s}
		}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if s := scalar(c); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// versionOf reads a Gem::Version (a mapping with "version") or a bare
// scalar, made canonical when it is a valid version.
func versionOf(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return ""
	}
	v := scalar(n)
	if n.Kind == yaml.MappingNode {
		v = scalar(mapGet(n, "version"))
	}
	if c, err := CanonicalVersion(v); err == nil {
		return c
	}
	return strings.TrimSpace(v)
}

// requirementOf reads a Gem::Requirement: its "requirements", a list of
// [op, Gem::Version] pairs. Nothing is the default requirement.
func requirementOf(n *yaml.Node) (Requirement, error) {
	n = resolve(n)
	if n == nil || n.Tag == "!!null" {
		return DefaultRequirement, nil
	}
	if n.Kind == yaml.ScalarNode {
		return ParseRequirement(scalar(n))
	}
	list := resolve(mapGet(n, "requirements"))
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return DefaultRequirement, nil
	}
	if len(list.Content) > maxConstraints {
		return nil, fault.Validation("A requirement has more than %d constraints", maxConstraints)
	}
	var r Requirement
	for _, pn := range list.Content {
		pair := resolve(pn)
		if pair == nil || pair.Kind != yaml.SequenceNode || len(pair.Content) != 2 {
			return nil, fault.Validation("The gem metadata has a malformed requirement")
		}
		op := "="
		if on := resolve(pair.Content[0]); on != nil && on.Kind == yaml.ScalarNode && on.Tag != "!!null" {
			// Syck wrote "=" as a DefaultKey object: anything but a
			// scalar stands for "=".
			op = scalar(on)
		}
		if !validOp(op) {
			return nil, fault.Validation("The gem metadata has the unknown requirement operator %q", clip(op))
		}
		v, err := CanonicalVersion(versionOf(pair.Content[1]))
		if err != nil {
			return nil, err
		}
		r = r.add(Constraint{Op: op, Version: v})
	}
	return r, nil
}

// dependencyOf reads a Gem::Dependency.
func dependencyOf(n *yaml.Node) (Dependency, error) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return Dependency{}, fault.Validation("The gem metadata has a malformed dependency")
	}
	d := Dependency{
		Name:       scalar(mapGet(n, "name")),
		Type:       strings.TrimPrefix(scalar(mapGet(n, "type")), ":"),
		Prerelease: scalar(mapGet(n, "prerelease")) == "true",
	}
	if d.Type == "" {
		d.Type = Runtime
	}
	rn := mapGet(n, "requirement")
	if resolve(rn) == nil {
		rn = mapGet(n, "version_requirements")
	}
	var err error
	if d.Requirement, err = requirementOf(rn); err != nil {
		return Dependency{}, err
	}
	return d, nil
}

// defaultDate is the date of a gem that has none: RubyGems' default
// SOURCE_DATE_EPOCH, 1980-01-02.
var defaultDate = time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC)

// parseDate reads the forms Psych and Syck wrote a date in, keeping the
// day, as Gem::Specification#date= does.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999 Z",
		"2006-01-02 15:04:05.999999999Z",
		"2006-01-02 15:04:05.999999999 -07:00",
		"2006-01-02 15:04:05.999999999 -0700",
		"2006-01-02 15:04:05 Z",
		time.RFC3339Nano,
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
	}
	return defaultDate
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
