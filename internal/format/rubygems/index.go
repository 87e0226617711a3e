package rubygems

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"time"

	"coffer/internal/fault"
)

// Ruby class names in the Marshal data clients read.
const (
	classVersion       = "Gem::Version"
	classRequirement   = "Gem::Requirement"
	classPlatform      = "Gem::Platform"
	classDependency    = "Gem::Dependency"
	classSpecification = "Gem::Specification"
	classTime          = "Time"
)

// ---- Ruby objects of gems, as Marshal values ----

// versionValue is a Gem::Version: marshal_dump is [version_string].
func versionValue(v string) *UserMarshal {
	return &UserMarshal{Class: classVersion, Data: []any{v}}
}

// requirementValue is a Gem::Requirement: marshal_dump is
// [[[op, Gem::Version], ...]].
func requirementValue(r Requirement) *UserMarshal {
	l := r.list()
	pairs := make([]any, len(l))
	for i, c := range l {
		pairs[i] = []any{c.Op, versionValue(c.Version)}
	}
	return &UserMarshal{Class: classRequirement, Data: []any{pairs}}
}

// platformValue is the spec's new_platform: the String "ruby", or a
// Gem::Platform (which has no marshal_dump, so Ruby dumps its ivars).
func platformValue(p string) any {
	p = NormalizePlatform(p)
	if p == PlatformRuby {
		return PlatformRuby
	}
	cpu, os, version := platformParts(p)
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return &Object{Class: classPlatform, Ivars: []Ivar{
		{Name: "@cpu", Value: str(cpu)},
		{Name: "@os", Value: str(os)},
		{Name: "@version", Value: str(version)},
	}}
}

// dependencyValue is a Gem::Dependency with the ivars Gem::Dependency.new
// sets, @version_requirements being the same object as @requirement (so
// an object link, as Ruby writes it).
func dependencyValue(d Dependency) *Object {
	req := requirementValue(d.Requirement)
	typ := d.Type
	if typ == "" {
		typ = Runtime
	}
	return &Object{Class: classDependency, Ivars: []Ivar{
		{Name: "@name", Value: d.Name},
		{Name: "@requirement", Value: req},
		{Name: "@type", Value: Symbol(typ)},
		{Name: "@prerelease", Value: d.Prerelease},
		{Name: "@version_requirements", Value: req},
	}}
}

// timeValue is a UTC Time as Time#_dump writes it: 8 bytes (a flag bit,
// the UTC bit, year-1900, month, day and hour; minute, second and
// microseconds), with the zone ivar Ruby adds.
func timeValue(t time.Time) *UserDef {
	t = t.UTC()
	year := t.Year()
	if year < 1900 || year > 1900+0xffff {
		t, year = defaultDate, defaultDate.Year()
	}
	p := uint32(1)<<31 | 1<<30 | uint32(year-1900)<<14 | uint32(t.Month()-1)<<10 | uint32(t.Day())<<5 | uint32(t.Hour())
	s := uint32(t.Minute())<<26 | uint32(t.Second())<<20 | uint32(t.Nanosecond()/1000)
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, p)
	binary.LittleEndian.PutUint32(b[4:], s)
	return &UserDef{Class: classTime, Data: b, Ivars: []Ivar{{Name: "zone", Value: String{S: "UTC", Encoding: "US-ASCII"}}}}
}

func versionFrom(v any) (string, error) {
	switch x := v.(type) {
	case *UserMarshal:
		if x.Class == classVersion {
			if a, ok := x.Data.([]any); ok && len(a) >= 1 {
				if s, ok := textOf(a[0]); ok {
					return s, nil
				}
			}
		}
	case *Object:
		if x.Class == classVersion {
			if iv, ok := x.Ivar("@version"); ok {
				if s, ok := textOf(iv); ok {
					return s, nil
				}
			}
		}
	case string, String:
		s, _ := textOf(x)
		return s, nil
	}
	return "", marshalErr("expected a Gem::Version, got %s", describe(v))
}

func requirementFrom(v any) (Requirement, error) {
	var reqs any
	switch x := v.(type) {
	case nil:
		return DefaultRequirement, nil
	case *UserMarshal:
		if x.Class != classRequirement && x.Class != "Gem::Version::Requirement" {
			return nil, marshalErr("expected a Gem::Requirement, got %s", x.Class)
		}
		a, ok := x.Data.([]any)
		if !ok || len(a) < 1 {
			return nil, marshalErr("malformed Gem::Requirement")
		}
		reqs = a[0]
	case *Object:
		reqs, _ = x.Ivar("@requirements")
	default:
		return nil, marshalErr("expected a Gem::Requirement, got %s", describe(v))
	}
	list, ok := reqs.([]any)
	if !ok {
		return nil, marshalErr("malformed Gem::Requirement")
	}
	var r Requirement
	for _, p := range list {
		pair, ok := p.([]any)
		if !ok || len(pair) != 2 {
			return nil, marshalErr("malformed Gem::Requirement pair")
		}
		op, ok := textOf(pair[0])
		if !ok {
			op = "=" // Syck's DefaultKey
		}
		ver, err := versionFrom(pair[1])
		if err != nil {
			return nil, err
		}
		r = append(r, Constraint{Op: op, Version: ver})
	}
	if len(r) == 0 {
		return DefaultRequirement, nil
	}
	return r, nil
}

func platformFrom(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return PlatformRuby, nil
	case string, String:
		s, _ := textOf(x)
		return NormalizePlatform(s), nil
	case *Object:
		if x.Class == classPlatform {
			var parts []string
			for _, name := range []string{"@cpu", "@os", "@version"} {
				if iv, _ := x.Ivar(name); iv != nil {
					s, ok := textOf(iv)
					if !ok {
						return "", marshalErr("malformed Gem::Platform")
					}
					parts = append(parts, s)
				}
			}
			return NormalizePlatform(joinDash(parts)), nil
		}
	}
	return "", marshalErr("expected a platform, got %s", describe(v))
}

func joinDash(parts []string) string {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(p)
	}
	return b.String()
}

func dependencyFrom(v any) (Dependency, error) {
	o, ok := v.(*Object)
	if !ok || o.Class != classDependency {
		return Dependency{}, marshalErr("expected a Gem::Dependency, got %s", describe(v))
	}
	var d Dependency
	name, _ := o.Ivar("@name")
	if d.Name, ok = textOf(name); !ok {
		return Dependency{}, marshalErr("Gem::Dependency without a name")
	}
	req, ok := o.Ivar("@requirement")
	if !ok {
		req, _ = o.Ivar("@version_requirements")
	}
	var err error
	if d.Requirement, err = requirementFrom(req); err != nil {
		return Dependency{}, err
	}
	d.Type = Runtime
	if t, ok := o.Ivar("@type"); ok {
		if s, ok := t.(Symbol); ok {
			d.Type = string(s)
		}
	}
	if p, ok := o.Ivar("@prerelease"); ok {
		d.Prerelease, _ = p.(bool)
	}
	return d, nil
}

func timeFrom(v any) (time.Time, error) {
	u, ok := v.(*UserDef)
	if !ok || u.Class != classTime || len(u.Data) < 8 {
		return time.Time{}, marshalErr("expected a Time, got %s", describe(v))
	}
	p := binary.LittleEndian.Uint32(u.Data)
	s := binary.LittleEndian.Uint32(u.Data[4:])
	if p&(1<<31) == 0 {
		t := time.Unix(int64(p), int64(s)*1000).UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	year := int(p>>14&0xffff) + 1900
	month := time.Month(p>>10&0xf + 1)
	day := int(p >> 5 & 0x1f)
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC), nil
}

func describe(v any) string {
	switch x := v.(type) {
	case *UserMarshal:
		return x.Class
	case *Object:
		return x.Class
	case *UserDef:
		return x.Class
	}
	return fmt.Sprintf("%T", v)
}

// ---- the full index: specs.4.8, latest_specs.4.8, prerelease_specs.4.8 ----

// SortGemFiles orders name tuples by name, then version (Gem::Version
// order), then platform with ruby first.
func SortGemFiles(list []GemFile) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if c := CompareVersions(a.Version, b.Version); c != 0 {
			return c < 0
		}
		ra, rb := NormalizePlatform(a.Platform) == PlatformRuby, NormalizePlatform(b.Platform) == PlatformRuby
		if ra != rb {
			return ra
		}
		return a.Platform < b.Platform
	})
}

// SpecIndexes splits the visible builds of a repository into the three
// full-index lists, sorted (SortGemFiles): specs, every release (not
// prerelease) build; latest, per name and platform the highest release
// version, as rubygems.org's latest flag; prerelease, every prerelease
// build.
func SpecIndexes(all []GemFile) (specs, latest, prerelease []GemFile) {
	sorted := append([]GemFile(nil), all...)
	for i := range sorted {
		sorted[i].Platform = NormalizePlatform(sorted[i].Platform)
	}
	SortGemFiles(sorted)
	type key struct{ name, platform string }
	top := map[key]int{}
	for _, g := range sorted {
		if IsPrerelease(g.Version) {
			prerelease = append(prerelease, g)
			continue
		}
		specs = append(specs, g)
		k := key{g.Name, g.Platform}
		if i, ok := top[k]; !ok || CompareVersions(g.Version, specs[i].Version) >= 0 {
			top[k] = len(specs) - 1
		}
	}
	for i, g := range specs {
		if top[key{g.Name, g.Platform}] == i {
			latest = append(latest, g)
		}
	}
	return specs, latest, prerelease
}

// MarshalSpecs is a full-index file (specs.4.8 and the others, served
// as is or gzipped as *.4.8.gz): an Array of [name, Gem::Version,
// platform] in the given order.
func MarshalSpecs(list []GemFile) ([]byte, error) {
	a := make([]any, len(list))
	for i, g := range list {
		a[i] = []any{g.Name, versionValue(g.Version), NormalizePlatform(g.Platform)}
	}
	return Marshal(a)
}

// UnmarshalSpecs reads a full-index file.
func UnmarshalSpecs(data []byte) ([]GemFile, error) {
	v, err := Unmarshal(data)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, marshalErr("a spec index is an Array, not %s", describe(v))
	}
	out := make([]GemFile, 0, len(list))
	for _, e := range list {
		t, ok := e.([]any)
		if !ok || len(t) != 3 {
			return nil, marshalErr("a spec index entry is [name, version, platform]")
		}
		var g GemFile
		if g.Name, ok = textOf(t[0]); !ok {
			return nil, marshalErr("a spec index entry has no name")
		}
		if g.Version, err = versionFrom(t[1]); err != nil {
			return nil, err
		}
		if g.Platform, err = platformFrom(t[2]); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// ---- the dependencies API: api/v1/dependencies?gems=a,b ----

// VersionDependencies is one entry of the dependencies API: a build of a
// version and its runtime dependencies.
type VersionDependencies struct {
	Name         string
	Number       string
	Platform     string
	Dependencies []Dependency
}

// MarshalDependencies is the answer of api/v1/dependencies as
// rubygems.org writes it: an Array of Hashes {name:, number:, platform:,
// dependencies: [[name, "requirement, ..."]]} with Symbol keys.
// Development dependencies are left out.
func MarshalDependencies(list []VersionDependencies) ([]byte, error) {
	a := make([]any, len(list))
	for i, v := range list {
		deps := []any{}
		for _, d := range v.Dependencies {
			if d.Type == Development {
				continue
			}
			deps = append(deps, []any{d.Name, d.Requirement.String()})
		}
		a[i] = &Hash{Pairs: []Pair{
			{Key: Symbol("name"), Value: v.Name},
			{Key: Symbol("number"), Value: v.Number},
			{Key: Symbol("platform"), Value: NormalizePlatform(v.Platform)},
			{Key: Symbol("dependencies"), Value: deps},
		}}
	}
	return Marshal(a)
}

// UnmarshalDependencies reads an api/v1/dependencies answer.
func UnmarshalDependencies(data []byte) ([]VersionDependencies, error) {
	v, err := Unmarshal(data)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, marshalErr("a dependencies answer is an Array, not %s", describe(v))
	}
	out := make([]VersionDependencies, 0, len(list))
	for _, e := range list {
		h, ok := e.(*Hash)
		if !ok {
			return nil, marshalErr("a dependencies entry is a Hash")
		}
		var vd VersionDependencies
		for _, f := range []struct {
			key string
			dst *string
		}{{"name", &vd.Name}, {"number", &vd.Number}, {"platform", &vd.Platform}} {
			x, _ := h.Get(Symbol(f.key))
			if *f.dst, ok = textOf(x); !ok {
				return nil, marshalErr("a dependencies entry has no %s", f.key)
			}
		}
		vd.Platform = NormalizePlatform(vd.Platform)
		deps, _ := h.Get(Symbol("dependencies"))
		dl, ok := deps.([]any)
		if !ok && deps != nil {
			return nil, marshalErr("dependencies is not an Array")
		}
		for _, d := range dl {
			pair, ok := d.([]any)
			if !ok || len(pair) != 2 {
				return nil, marshalErr("a dependency is [name, requirement]")
			}
			name, ok1 := textOf(pair[0])
			req, ok2 := textOf(pair[1])
			if !ok1 || !ok2 {
				return nil, marshalErr("a dependency is [name, requirement]")
			}
			r, err := ParseRequirement(req)
			if err != nil {
				return nil, marshalErr("dependency %s: %v", name, err)
			}
			vd.Dependencies = append(vd.Dependencies, Dependency{Name: name, Requirement: r, Type: Runtime})
		}
		out = append(out, vd)
	}
	return out, nil
}

// ---- quick specs: quick/Marshal.4.8/<full name>.gemspec.rz ----

// specFields is the length of Gem::Specification#_dump's array for
// specification version 4.
const specFields = 19

// specValue is the Array Gem::Specification#_dump marshals.
func specValue(s *Spec) []any {
	platform := NormalizePlatform(s.Platform)
	specVersion := s.SpecificationVersion
	if specVersion < 1 || specVersion > 4 {
		// _load looks the field count up by this number, and knows 1 to 4.
		specVersion = 4
	}
	rubygemsVersion := s.RubygemsVersion
	if rubygemsVersion == "" {
		rubygemsVersion = "0"
	}
	deps := make([]any, len(s.Dependencies))
	for i, d := range s.Dependencies {
		deps[i] = dependencyValue(d)
	}
	var email any
	switch len(s.Email) {
	case 0:
	case 1:
		email = s.Email[0]
	default:
		email = stringsValue(s.Email)
	}
	meta := &Hash{}
	for _, k := range sortedKeys(s.Metadata) {
		meta.Pairs = append(meta.Pairs, Pair{Key: k, Value: s.Metadata[k]})
	}
	date := s.Date
	if date.IsZero() {
		date = defaultDate
	}
	return []any{
		rubygemsVersion,
		int64(specVersion),
		s.Name,
		versionValue(s.Version),
		timeValue(date),
		s.Summary,
		requirementValue(s.RequiredRubyVersion),
		requirementValue(s.RequiredRubygemsVersion),
		platform, // original_platform
		deps,
		"", // rubyforge_project
		email,
		stringsValue(s.Authors),
		s.Description,
		nilIfEmpty(s.Homepage),
		true,                    // has_rdoc
		platformValue(platform), // new_platform
		stringsValue(s.Licenses),
		meta,
	}
}

func stringsValue(ss []string) []any {
	a := make([]any, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MarshalSpec is Marshal.dump of the Gem::Specification: a 'u' object
// whose data is the Marshal of specValue.
func MarshalSpec(s *Spec) ([]byte, error) {
	inner, err := Marshal(specValue(s))
	if err != nil {
		return nil, err
	}
	return Marshal(&UserDef{Class: classSpecification, Data: inner})
}

// QuickSpec is the file quick/Marshal.4.8/<full name>.gemspec.rz: the
// spec's Marshal, zlib-deflated (Gem::Util.inflate reads it).
func QuickSpec(s *Spec) ([]byte, error) {
	m, err := MarshalSpec(s)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write(m); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadQuickSpec inflates a quick spec, at most maxSize bytes of it, and
// reads the Gem::Specification.
func ReadQuickSpec(data []byte, maxSize int64) (*Spec, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fault.Validation("The quick spec is not zlib data: %v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxSize+1))
	if err != nil {
		return nil, fault.Validation("The quick spec is not valid zlib data: %v", err)
	}
	if int64(len(raw)) > maxSize {
		return nil, fault.Validation("The quick spec inflates to more than %d bytes", maxSize)
	}
	return UnmarshalSpec(raw)
}

// UnmarshalSpec reads Marshal.dump of a Gem::Specification (what
// MarshalSpec writes and rubygems.org serves).
func UnmarshalSpec(data []byte) (*Spec, error) {
	v, err := Unmarshal(data)
	if err != nil {
		return nil, err
	}
	u, ok := v.(*UserDef)
	if !ok || u.Class != classSpecification {
		return nil, marshalErr("expected a Gem::Specification, got %s", describe(v))
	}
	iv, err := Unmarshal(u.Data)
	if err != nil {
		return nil, err
	}
	a, ok := iv.([]any)
	if !ok || len(a) < 17 {
		return nil, marshalErr("a Gem::Specification dump is an Array of at least 17 fields")
	}
	for len(a) < specFields {
		a = append(a, nil)
	}
	s := &Spec{Metadata: map[string]string{}}
	s.RubygemsVersion, _ = textOf(a[0])
	if n, ok := a[1].(int64); ok {
		s.SpecificationVersion = int(n)
	}
	if s.Name, ok = textOf(a[2]); !ok {
		return nil, marshalErr("the spec has no name")
	}
	if s.Version, err = versionFrom(a[3]); err != nil {
		return nil, err
	}
	if a[4] != nil {
		if s.Date, err = timeFrom(a[4]); err != nil {
			return nil, err
		}
	}
	s.Summary, _ = textOf(a[5])
	if s.RequiredRubyVersion, err = requirementFrom(a[6]); err != nil {
		return nil, err
	}
	if s.RequiredRubygemsVersion, err = requirementFrom(a[7]); err != nil {
		return nil, err
	}
	// Ruby names the gem after new_platform (the spec's platform is
	// new_platform.to_s); original_platform only stands in when it is
	// missing.
	platform := a[16]
	if platform == nil {
		platform = a[8]
	}
	if s.Platform, err = platformFrom(platform); err != nil {
		return nil, err
	}
	if deps, ok := a[9].([]any); ok {
		for _, dv := range deps {
			d, err := dependencyFrom(dv)
			if err != nil {
				return nil, err
			}
			s.Dependencies = append(s.Dependencies, d)
		}
	}
	s.Email = textList(a[11])
	s.Authors = textList(a[12])
	s.Description, _ = textOf(a[13])
	s.Homepage, _ = textOf(a[14])
	s.Licenses = textList(a[17])
	if h, ok := a[18].(*Hash); ok {
		for _, p := range h.Pairs {
			k, ok1 := textOf(p.Key)
			v, ok2 := textOf(p.Value)
			if ok1 && ok2 {
				s.Metadata[k] = v
			}
		}
	}
	return s, nil
}

// textList reads an Array of Strings, or one String.
func textList(v any) []string {
	if s, ok := textOf(v); ok {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	a, _ := v.([]any)
	var out []string
	for _, e := range a {
		if s, ok := textOf(e); ok {
			out = append(out, s)
		}
	}
	return out
}
