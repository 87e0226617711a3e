package rubygems

// Fuzz targets for everything this package reads from a client or an
// upstream (run each with
// go test -run XXX -fuzz FuzzName -fuzztime 20s ./internal/format/rubygems/):
//
//	FuzzReadGem          a pushed .gem
//	FuzzParseSpecYAML    the gemspec inside it
//	FuzzMarshalDecode    Marshal data (dependencies API, full index, quick specs)
//	FuzzParseInfo        an upstream info/<gem>
//	FuzzParseVersions    an upstream versions file
//	FuzzVersions         version and requirement strings
//
// None may panic; what they accept must survive being written and read
// again; what they refuse from a client is a validation fault.

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"coffer/internal/fault"
)

var fuzzLimits = Limits{MaxMetadata: 256 << 10, MaxChecksums: 16 << 10, MaxData: 1 << 20, MaxDataEntries: 1000}

func FuzzReadGem(f *testing.F) {
	for _, name := range []string{"coffer_tiny-0.1.0.gem", "coffer_tiny-0.2.0.pre1-x86_64-linux.gem", "coffer_tiny-0.1.0-tampered.gem"} {
		f.Add(readFixture(f, name))
	}
	f.Add(demoGem(f, demoYAML, nil))
	f.Add(demoGem(f, demoYAML, func(ms []member) []member { return ms[:2] }))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadGem(bytes.NewReader(data), fuzzLimits)
		if err != nil {
			if fault.KindOf(err) != fault.KindValidation {
				t.Fatalf("ReadGem: %v is not a validation fault", err)
			}
			return
		}
		if err := g.Spec.Validate(); err != nil {
			t.Fatalf("ReadGem returned an invalid spec: %v", err)
		}
		if g.Size != int64(len(data)) || len(g.SHA256) != 64 {
			t.Fatalf("Size, SHA256 = %d, %q", g.Size, g.SHA256)
		}
		if split := SplitFullName(g.Spec.FullName()); !containsFile(split, g.Spec.File()) {
			t.Fatalf("SplitFullName(%s) = %v", g.Spec.FullName(), split)
		}
	})
}

func containsFile(list []GemFile, g GemFile) bool {
	for _, x := range list {
		if x == g {
			return true
		}
	}
	return false
}

func FuzzParseSpecYAML(f *testing.F) {
	f.Add([]byte(demoYAML))
	f.Add([]byte("--- !ruby/object:Gem::Specification\nname: x\nversion: !ruby/object:Gem::Version\n  version: 1.0-rc1\nplatform: java\n"))
	for _, name := range []string{"coffer_tiny-0.1.0.gem", "coffer_tiny-0.2.0.pre1-x86_64-linux.gem"} {
		f.Add(fixtureGem(f, name).MetadataYAML)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpecYAML(data)
		if err != nil {
			if fault.KindOf(err) != fault.KindValidation {
				t.Fatalf("ParseSpecYAML: %v is not a validation fault", err)
			}
			return
		}
		if s.Validate() != nil {
			return
		}
		// A valid spec survives the quick spec.
		rz, err := QuickSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadQuickSpec(rz, 16<<20)
		if err != nil {
			t.Fatal(err)
		}
		want := *s
		if want.SpecificationVersion < 1 || want.SpecificationVersion > 4 {
			want.SpecificationVersion = 4
		}
		if want.RubygemsVersion == "" {
			want.RubygemsVersion = "0"
		}
		if want.Metadata == nil {
			want.Metadata = map[string]string{}
		}
		want.RequiredRubyVersion = want.RequiredRubyVersion.list()
		want.RequiredRubygemsVersion = want.RequiredRubygemsVersion.list()
		for i := range want.Dependencies {
			want.Dependencies[i].Requirement = want.Dependencies[i].Requirement.list()
		}
		if want.Date.Year() < 1900 {
			want.Date = defaultDate // Time#_dump's year starts at 1900
		}
		if !reflect.DeepEqual(back, &want) {
			t.Fatalf("quick spec round trip:\n got %+v\nwant %+v", back, &want)
		}
	})
}

func FuzzMarshalDecode(f *testing.F) {
	for _, tc := range marshalGolden {
		b, _ := hex.DecodeString(tc.hex)
		f.Add(b)
	}
	for _, tc := range rubyForms {
		b, _ := hex.DecodeString(tc.hex)
		f.Add(b)
	}
	f.Add(readFixture(f, "index/specs.4.8"))
	if m, err := MarshalSpec(fixtureSpec(f, "coffer_tiny-0.1.0.gem")); err == nil {
		f.Add(m)
	}
	if m, err := MarshalDependencies([]VersionDependencies{{Name: "a", Number: "1", Dependencies: []Dependency{{Name: "b", Type: Runtime}}}}); err == nil {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		UnmarshalSpecs(data)
		UnmarshalDependencies(data)
		UnmarshalSpec(data)
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		once, err := Marshal(v)
		if err != nil {
			if !strings.Contains(err.Error(), "cannot encode") {
				t.Fatalf("Marshal of decoded data: %v", err)
			}
			return
		}
		v2, err := Unmarshal(once)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(v)) = %v (%x)", err, once)
		}
		twice, err := Marshal(v2)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not stable: %x then %x, %v", once, twice, err)
		}
	})
}

func FuzzParseInfo(f *testing.F) {
	f.Add([]byte(confInfoA))
	f.Add([]byte(rubygemsOrgInfo))
	f.Add([]byte("---\n1.0 a:>= 1&< 2|checksum:" + strings.Repeat("0", 64) + ",x:y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		versions, _, err := ParseInfo(bytes.NewReader(data), ParseLimits{MaxBytes: 1 << 20, MaxLines: 10000, MaxLineBytes: 4096})
		if err != nil {
			return
		}
		for _, v := range versions {
			line := v.Line()
			back, ok := ParseInfoLine(line)
			if !ok {
				t.Fatalf("ParseInfoLine(%q) refused its own line", line)
			}
			if back.Line() != line {
				t.Fatalf("line round trip: %q then %q", line, back.Line())
			}
		}
		body := Info(versions)
		again, skipped, err := ParseInfo(bytes.NewReader(body), ParseLimits{})
		if err != nil || skipped != 0 || len(again) != len(versions) || !bytes.Equal(Info(again), body) {
			t.Fatalf("Info round trip: %v, %d skipped", err, skipped)
		}
	})
}

func FuzzParseVersions(f *testing.F) {
	f.Add([]byte(confVersionsYanked))
	f.Add([]byte(confVersionsRebuilt))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, lines, _, err := ParseVersions(bytes.NewReader(data), ParseLimits{MaxBytes: 1 << 20, MaxLines: 10000, MaxLineBytes: 4096})
		if err != nil {
			return
		}
		for _, l := range lines {
			back, ok := ParseVersionsLine(l.String())
			if !ok || !reflect.DeepEqual(back, l) {
				t.Fatalf("ParseVersionsLine(%q) = %+v, %v", l.String(), back, ok)
			}
		}
	})
}

func FuzzVersions(f *testing.F) {
	for _, v := range versionSample {
		f.Add(v, "1.0", ">= 1.0, < 2")
	}
	f.Add("1.0-rc1", "1.0.pre.rc1", "~> 1.2")
	f.Fuzz(func(t *testing.T, a, b, req string) {
		if c, err := CanonicalVersion(a); err == nil {
			if c2, err := CanonicalVersion(c); err != nil || c2 != c || !ValidVersion(c) {
				t.Fatalf("CanonicalVersion(%q) = %q is not canonical", a, c)
			}
		}
		if CompareVersions(a, b) != -CompareVersions(b, a) {
			t.Fatalf("CompareVersions(%q, %q) is not antisymmetric", a, b)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("CompareVersions(%q, %q) != 0", a, a)
		}
		if r, err := ParseRequirement(req); err == nil {
			back, err := ParseRequirement(r.String())
			if err != nil || !reflect.DeepEqual(back, r) {
				t.Fatalf("ParseRequirement(%q).String() = %q does not parse back: %v", req, r.String(), err)
			}
			c, err := parseRequirement(r.CompactString(), "&")
			if err != nil || c.CompactString() != r.CompactString() {
				t.Fatalf("CompactString of %q does not parse back: %v", req, err)
			}
			r.SatisfiedBy(a)
		}
		for _, g := range SplitFullName(a) {
			if g.FullName() != a {
				t.Fatalf("SplitFullName(%q) gave %v", a, g)
			}
		}
	})
}
