package rubygems

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"coffer/internal/fault"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureGem reads a gem built by the real gem build (testdata).
func fixtureGem(t testing.TB, name string) *Gem {
	t.Helper()
	g, err := ReadGem(bytes.NewReader(readFixture(t, name)), Limits{})
	if err != nil {
		t.Fatalf("ReadGem(%s): %v", name, err)
	}
	return g
}

func fixtureSpec(t testing.TB, name string) *Spec { return fixtureGem(t, name).Spec }

func TestReadGemFixture(t *testing.T) {
	raw := readFixture(t, "coffer_tiny-0.1.0.gem")
	g := fixtureGem(t, "coffer_tiny-0.1.0.gem")
	sum := sha256.Sum256(raw)
	if g.SHA256 != hex.EncodeToString(sum[:]) || g.Size != int64(len(raw)) {
		t.Errorf("SHA256, Size = %s, %d", g.SHA256, g.Size)
	}
	if g.FileName() != "coffer_tiny-0.1.0.gem" {
		t.Errorf("FileName = %s", g.FileName())
	}
	want := &Spec{
		Name:        "coffer_tiny",
		Version:     "0.1.0",
		Platform:    "ruby",
		Summary:     "A tiny gem",
		Description: "A tiny gem for tests, with ünïcode",
		Homepage:    "https://example.com/tiny",
		Authors:     []string{"Ada Lovelace", "Bob"},
		Email:       []string{"ada@example.com"},
		Licenses:    []string{"MIT"},
		Metadata:    map[string]string{"source_code_uri": "https://example.com/src", "changelog_uri": "https://example.com/changes"},
		Date:        time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC),

		RequiredRubyVersion:     Requirement{{">=", "2.7"}},
		RequiredRubygemsVersion: Requirement{{">=", "0"}},
		Dependencies: []Dependency{
			{Name: "rack", Requirement: Requirement{{">=", "2.0"}, {"<", "4"}}, Type: Runtime},
			{Name: "rake", Requirement: Requirement{{"~>", "13.0"}}, Type: Development},
		},
		RubygemsVersion:      "3.3.15",
		SpecificationVersion: 4,
	}
	if !reflect.DeepEqual(g.Spec, want) {
		t.Errorf("Spec =\n%+v\nwant\n%+v", g.Spec, want)
	}
	if got := g.Spec.RuntimeDependencies(); len(got) != 1 || got[0].Name != "rack" {
		t.Errorf("RuntimeDependencies = %v", got)
	}
	if g.DataEntries != 1 || g.Signatures != nil {
		t.Errorf("DataEntries, Signatures = %d, %v", g.DataEntries, g.Signatures)
	}
	if len(g.Checksums["SHA256"]) != 2 || len(g.Checksums["SHA512"]) != 2 {
		t.Errorf("Checksums = %v", g.Checksums)
	}
	if !bytes.HasPrefix(g.MetadataYAML, []byte("--- !ruby/object:Gem::Specification\n")) {
		t.Errorf("MetadataYAML = %.60q", g.MetadataYAML)
	}
}

func TestReadGemPlatformFixture(t *testing.T) {
	g := fixtureGem(t, "coffer_tiny-0.2.0.pre1-x86_64-linux.gem")
	s := g.Spec
	if s.Platform != "x86_64-linux" || s.Version != "0.2.0.pre1" || !s.Prerelease() {
		t.Errorf("Platform, Version = %s, %s", s.Platform, s.Version)
	}
	if g.FileName() != "coffer_tiny-0.2.0.pre1-x86_64-linux.gem" || s.FullName() != "coffer_tiny-0.2.0.pre1-x86_64-linux" {
		t.Errorf("FileName = %s", g.FileName())
	}
	if s.RequiredRubygemsVersion.String() != "> 1.3.1" || !s.RequiredRubyVersion.IsDefault() {
		t.Errorf("required versions = %s, %s", s.RequiredRubyVersion, s.RequiredRubygemsVersion)
	}
	if len(s.Dependencies) != 1 || s.Dependencies[0].Requirement.String() != "~> 1.15, >= 1.15.5" {
		t.Errorf("Dependencies = %v", s.Dependencies)
	}
	if s.Homepage != "" || s.Email != nil || s.Description != "" {
		t.Errorf("empty fields = %q %q %q", s.Homepage, s.Email, s.Description)
	}
}

// TestReadGemTampered: a gem whose data.tar.gz is not the one its
// checksums.yaml.gz describes (RubyGems says "SHA256 checksum mismatch for
// data.tar.gz") is refused as invalid.
func TestReadGemTampered(t *testing.T) {
	_, err := ReadGem(bytes.NewReader(readFixture(t, "coffer_tiny-0.1.0-tampered.gem")), Limits{})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch for data.tar.gz") {
		t.Fatalf("ReadGem = %v", err)
	}
	if fault.KindOf(err) != fault.KindValidation {
		t.Errorf("kind = %v", fault.KindOf(err))
	}
}

// TestFixturesAreWhatRubyGemsSays has RubyGems verify the fixtures: the
// good ones pass, the tampered one fails as ReadGem says.
func TestFixturesAreWhatRubyGemsSays(t *testing.T) {
	needRuby(t)
	out := runRuby(t, `require "rubygems/package"
ARGV.each { |a| begin; Gem::Package.new(a).verify; puts "ok"; rescue => e; puts e.message; end }`,
		filepath.Join("testdata", "coffer_tiny-0.1.0.gem"),
		filepath.Join("testdata", "coffer_tiny-0.2.0.pre1-x86_64-linux.gem"),
		filepath.Join("testdata", "coffer_tiny-0.1.0-tampered.gem"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "ok" || lines[1] != "ok" || !strings.HasPrefix(lines[2], "SHA256 checksum mismatch for data.tar.gz") {
		t.Errorf("RubyGems says %q", lines)
	}
}

// ---- synthetic gems ----

type member struct {
	name string
	data []byte
	typ  byte
}

func tarOf(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: m.name, Mode: 0o444, Size: int64(len(m.data)), Typeflag: typ, ModTime: time.Unix(0, 0)}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(m.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

const demoYAML = `--- !ruby/object:Gem::Specification
name: demo
version: !ruby/object:Gem::Version
  version: 1.0.0
platform: ruby
authors:
- A
date: 2024-01-02 00:00:00.000000000 Z
dependencies: []
summary: demo
`

func demoData(t testing.TB) []byte {
	return gzipOf(tarOf(t, member{name: "lib/demo.rb", data: []byte("module Demo; end\n")}))
}

func checksumsOf(members ...member) []byte {
	var b strings.Builder
	b.WriteString("---\nSHA256:\n")
	for _, m := range members {
		s := sha256.Sum256(m.data)
		fmt.Fprintf(&b, "  %s: %x\n", m.name, s)
	}
	b.WriteString("SHA512:\n")
	for _, m := range members {
		s := sha512.Sum512(m.data)
		fmt.Fprintf(&b, "  %s: %x\n", m.name, s)
	}
	return gzipOf([]byte(b.String()))
}

// demoGem is a well-formed gem of spec yaml with a change applied to its
// members.
func demoGem(t testing.TB, yaml string, change func([]member) []member) []byte {
	meta := member{name: "metadata.gz", data: gzipOf([]byte(yaml))}
	data := member{name: "data.tar.gz", data: demoData(t)}
	ms := []member{meta, data, {name: "checksums.yaml.gz", data: checksumsOf(meta, data)}}
	if change != nil {
		ms = change(ms)
	}
	return tarOf(t, ms...)
}

func TestReadGemSynthetic(t *testing.T) {
	g, err := ReadGem(bytes.NewReader(demoGem(t, demoYAML, nil)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Spec.FileName() != "demo-1.0.0.gem" || g.Spec.Date != time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC) {
		t.Errorf("spec = %+v", g.Spec)
	}
	// Without checksums.yaml.gz, as old RubyGems built them; signed.
	g, err = ReadGem(bytes.NewReader(demoGem(t, demoYAML, func(ms []member) []member {
		return append(ms[:2], member{name: "metadata.gz.sig", data: []byte("sig")}, member{name: "data.tar.gz.sig", data: []byte("sig")},
			member{name: "extra", data: []byte("ignored")})
	})), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Checksums != nil || !reflect.DeepEqual(g.Signatures, []string{"data.tar.gz", "metadata.gz"}) {
		t.Errorf("Checksums, Signatures = %v, %v", g.Checksums, g.Signatures)
	}
	// Plain "metadata" from very old RubyGems.
	if _, err := ReadGem(bytes.NewReader(demoGem(t, demoYAML, func(ms []member) []member {
		return []member{{name: "metadata", data: []byte(demoYAML)}, ms[1]}
	})), Limits{}); err != nil {
		t.Errorf("plain metadata: %v", err)
	}
}

func TestReadGemInvalid(t *testing.T) {
	bomb := gzipOf(make([]byte, 1<<20))
	manyFiles := func() []byte {
		var ms []member
		for i := 0; i < 20; i++ {
			ms = append(ms, member{name: fmt.Sprintf("f%d", i), data: []byte("x")})
		}
		return gzipOf(tarOf(t, ms...))
	}()
	cases := []struct {
		name   string
		gem    []byte
		lim    Limits
		reason string
	}{
		{"not a tar", []byte("MD5SUM = 1234\nthis is an old gem\n"), Limits{}, "not a tar archive"},
		{"empty", nil, Limits{}, "metadata is missing"},
		{"no metadata", demoGem(t, demoYAML, func(ms []member) []member { return ms[1:2] }), Limits{}, "metadata is missing"},
		{"no data", demoGem(t, demoYAML, func(ms []member) []member { return ms[:1] }), Limits{}, "data.tar.gz) is missing"},
		{"duplicate", demoGem(t, demoYAML, func(ms []member) []member { return append(ms, ms[1]) }), Limits{}, "duplicate files"},
		{"both metadata forms", demoGem(t, demoYAML, func(ms []member) []member {
			return append(ms, member{name: "metadata", data: []byte(demoYAML)})
		}), Limits{}, "both metadata"},
		{"metadata a directory", demoGem(t, demoYAML, func(ms []member) []member {
			return append([]member{{name: "metadata.gz", typ: tar.TypeDir}}, ms[1:]...)
		}), Limits{}, "not a regular file"},
		{"metadata not gzip", demoGem(t, demoYAML, func(ms []member) []member {
			ms[0].data = []byte(demoYAML)
			return ms[:2]
		}), Limits{}, "metadata.gz is not gzip"},
		{"metadata bomb", demoGem(t, demoYAML, func(ms []member) []member {
			ms[0].data = bomb
			return ms[:2]
		}), Limits{MaxMetadata: 64 << 10}, "decompresses to more than"},
		{"metadata compressed too large", demoGem(t, demoYAML, func(ms []member) []member {
			ms[0].data = make([]byte, 100<<10)
			return ms[:2]
		}), Limits{MaxMetadata: 64 << 10}, "larger than"},
		{"data bomb", demoGem(t, demoYAML, func(ms []member) []member {
			ms[1].data = gzipOf(tarOf(t, member{name: "big", data: make([]byte, 1<<20)}))
			return ms[:2]
		}), Limits{MaxData: 64 << 10}, "data.tar.gz decompresses to more than"},
		{"data entries", demoGem(t, demoYAML, func(ms []member) []member {
			ms[1].data = manyFiles
			return ms[:2]
		}), Limits{MaxDataEntries: 10}, "more than 10 entries"},
		{"data not gzip", demoGem(t, demoYAML, func(ms []member) []member {
			ms[1].data = []byte("plain")
			return ms[:2]
		}), Limits{}, "data.tar.gz is not gzip"},
		{"data corrupt gzip", demoGem(t, demoYAML, func(ms []member) []member {
			d := append([]byte(nil), ms[1].data...)
			d[len(d)-6] ^= 0xff // the CRC
			ms[1].data = d
			return ms[:2]
		}), Limits{}, "not valid gzip"},
		{"data not a tar", demoGem(t, demoYAML, func(ms []member) []member {
			ms[1].data = gzipOf(bytes.Repeat([]byte("not a tar "), 100))
			return ms[:2]
		}), Limits{}, "not a valid tar"},
		{"members", demoGem(t, demoYAML, func(ms []member) []member {
			for i := 0; i < 20; i++ {
				ms = append(ms, member{name: fmt.Sprintf("x%d", i)})
			}
			return ms
		}), Limits{}, "more than 16 members"},
		{"metadata checksum", demoGem(t, demoYAML, func(ms []member) []member {
			ms[2].data = checksumsOf(member{name: "metadata.gz", data: []byte("other")}, ms[1])
			return ms
		}), Limits{}, "SHA256 checksum mismatch for metadata.gz"},
		{"checksum of a missing member", demoGem(t, demoYAML, func(ms []member) []member {
			ms[2].data = checksumsOf(ms[0], ms[1], member{name: "other.gz"})
			return ms
		}), Limits{}, `lists "other.gz"`},
		{"unknown algorithm", demoGem(t, demoYAML, func(ms []member) []member {
			ms[2].data = gzipOf([]byte("---\nMD5:\n  data.tar.gz: 00\n"))
			return ms
		}), Limits{}, "unknown digest algorithm"},
		{"upper-case digest", demoGem(t, demoYAML, func(ms []member) []member {
			s := sha256.Sum256(ms[1].data)
			ms[2].data = gzipOf([]byte(fmt.Sprintf("---\nSHA256:\n  data.tar.gz: %X\n", s)))
			return ms
		}), Limits{}, "SHA256 checksum mismatch for data.tar.gz"},
		{"checksums not yaml", demoGem(t, demoYAML, func(ms []member) []member {
			ms[2].data = gzipOf([]byte("- [unclosed"))
			return ms
		}), Limits{}, "checksums.yaml.gz is not valid YAML"},
		{"checksums a list", demoGem(t, demoYAML, func(ms []member) []member {
			ms[2].data = gzipOf([]byte("- a\n- b\n"))
			return ms
		}), Limits{}, "not a mapping"},
		{"metadata not a spec", demoGem(t, "--- !ruby/object:Gem::Version\nversion: 1\n", nil), Limits{}, "not a Gem::Specification"},
		{"metadata not yaml", demoGem(t, "name: [unclosed", nil), Limits{}, "not valid YAML"},
		{"bad name", demoGem(t, strings.Replace(demoYAML, "name: demo", "name: ../demo", 1), nil), Limits{}, "can only include"},
		{"bad version", demoGem(t, strings.Replace(demoYAML, "version: 1.0.0", "version: 1.0.0 beta", 1), nil), Limits{}, "not a valid version"},
		{"bad platform", demoGem(t, strings.Replace(demoYAML, "platform: ruby", "platform: x86 linux", 1), nil), Limits{}, "platform"},
		{"bad dependency", demoGem(t, strings.Replace(demoYAML, "dependencies: []", `dependencies:
- !ruby/object:Gem::Dependency
  name: "a,b"
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - ">="
      - !ruby/object:Gem::Version
        version: '0'
  type: :runtime`, 1), nil), Limits{}, "dependency name"},
		{"bad dependency type", demoGem(t, strings.Replace(demoYAML, "dependencies: []", `dependencies:
- !ruby/object:Gem::Dependency
  name: a
  type: :optional`, 1), nil), Limits{}, "not runtime or development"},
		{"bad operator", demoGem(t, strings.Replace(demoYAML, "dependencies: []", `dependencies:
- !ruby/object:Gem::Dependency
  name: a
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - "=~"
      - !ruby/object:Gem::Version
        version: '1'`, 1), nil), Limits{}, "unknown requirement operator"},
		{"truncated", demoGem(t, demoYAML, nil)[:1500], Limits{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadGem(bytes.NewReader(tc.gem), tc.lim)
			if err == nil {
				t.Fatal("ReadGem accepted it")
			}
			if fault.KindOf(err) != fault.KindValidation {
				t.Errorf("kind of %v = %v", err, fault.KindOf(err))
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("ReadGem = %v, want %q", err, tc.reason)
			}
		})
	}
}

// failingReader fails after n bytes with err.
type failingReader struct {
	r   io.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestReadGemReaderError: an error of the reader (a body over the upload
// limit, a failing disk) comes back as it is, wherever it happens.
func TestReadGemReaderError(t *testing.T) {
	raw := readFixture(t, "coffer_tiny-0.1.0.gem")
	boom := errors.New("boom")
	for _, n := range []int{0, 100, 700, 1200, 2000, len(raw) - 10} {
		_, err := ReadGem(&failingReader{r: bytes.NewReader(raw), n: n, err: boom}, Limits{})
		if !errors.Is(err, boom) {
			t.Errorf("after %d bytes: %v", n, err)
		}
	}
}

// TestReadGemStreams: the whole .gem is read once, front to back, and its
// digest is that of every byte, trailing ones included.
func TestReadGemStreams(t *testing.T) {
	raw := append(readFixture(t, "coffer_tiny-0.1.0.gem"), make([]byte, 1024)...)
	g, err := ReadGem(io.MultiReader(bytes.NewReader(raw)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if g.Size != int64(len(raw)) || g.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("Size, SHA256 = %d, %s", g.Size, g.SHA256)
	}
}

func TestParseSpecYAMLForms(t *testing.T) {
	// Forms older RubyGems and Syck wrote.
	old := `--- !ruby/object:Gem::Specification 
name: oldie
version: !ruby/object:Gem::Version 
  version: 1.2.3
  segments: [1, 2, 3]
platform: x86-mswin32
authors: Solo
email: [a@example.com, b@example.com]
license: GPL
summary: !binary |
  U3VtbcOkcnk=
date: 2009-07-25 00:00:00 -07:00
required_ruby_version: !ruby/object:Gem::Requirement 
  requirements: 
  - - ">="
    - !ruby/object:Gem::Version 
      version: 1.8.6
  version: 
dependencies: 
- !ruby/object:Gem::Dependency 
  name: shared
  type: :runtime
  version_requirement: 
  version_requirements: &id001 !ruby/object:Gem::Requirement 
    requirements: 
    - - !ruby/object:YAML::Syck::DefaultKey {}
      - !ruby/object:Gem::Version 
        version: "2.0"
    version: 
- !ruby/object:Gem::Dependency 
  name: again
  type: :development
  prerelease: true
  requirement: *id001
- !ruby/object:Gem::Dependency 
  name: loose
metadata:
  a: b
specification_version: 2
`
	s, err := ParseSpecYAML([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Name != "oldie" || s.Version != "1.2.3" || s.Platform != "x86-mswin32" || s.FileName() != "oldie-1.2.3-x86-mswin32.gem" {
		t.Errorf("name tuple = %s", s.FullName())
	}
	if !reflect.DeepEqual(s.Authors, []string{"Solo"}) || len(s.Email) != 2 || !reflect.DeepEqual(s.Licenses, []string{"GPL"}) {
		t.Errorf("authors, email, licenses = %v %v %v", s.Authors, s.Email, s.Licenses)
	}
	if s.Summary != "Summäry" {
		t.Errorf("!binary summary = %q", s.Summary)
	}
	if s.Date != time.Date(2009, 7, 25, 0, 0, 0, 0, time.UTC) {
		t.Errorf("Date = %v", s.Date)
	}
	if s.RequiredRubyVersion.String() != ">= 1.8.6" || !s.RequiredRubygemsVersion.IsDefault() || s.SpecificationVersion != 2 {
		t.Errorf("requirements = %s, %s", s.RequiredRubyVersion, s.RequiredRubygemsVersion)
	}
	wantDeps := []Dependency{
		{Name: "shared", Requirement: Requirement{{"=", "2.0"}}, Type: Runtime},
		{Name: "again", Requirement: Requirement{{"=", "2.0"}}, Type: Development, Prerelease: true},
		{Name: "loose", Requirement: DefaultRequirement, Type: Runtime},
	}
	if !reflect.DeepEqual(s.Dependencies, wantDeps) {
		t.Errorf("Dependencies = %+v", s.Dependencies)
	}
	// A version written with "-" is made canonical; a missing date is
	// RubyGems' default.
	s, err = ParseSpecYAML([]byte("--- !ruby/object:Gem::Specification\nname: x\nversion: !ruby/object:Gem::Version\n  version: 1.0-rc1\n"))
	if err != nil || s.Version != "1.0.pre.rc1" || s.Date != defaultDate || s.Platform != "ruby" {
		t.Errorf("ParseSpecYAML = %+v, %v", s, err)
	}
	// Alias chains and a self-referencing document neither loop nor panic.
	for _, doc := range []string{
		"--- &a !ruby/object:Gem::Specification\nname: *a\nversion: *a\n",
		"--- !ruby/object:Gem::Specification\nname: &n x\nversion: *n\ndependencies: &d [*d]\n",
	} {
		if _, err := ParseSpecYAML([]byte(doc)); err != nil && fault.KindOf(err) != fault.KindValidation {
			t.Errorf("ParseSpecYAML(%q) = %v", doc, err)
		}
	}
}

// TestReadGemChecksBeforeContent: the check sees the spec before the
// content is read; its refusal ends the read there, so the pushed content
// is never received by a caller who may not publish it.
func TestReadGemChecksBeforeContent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "coffer_tiny-0.1.0.gem"))
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	var seen string
	r := &countingReader{r: bytes.NewReader(data)}
	_, err = ReadGemChecked(r, Limits{}, func(s *Spec) error { seen = s.Name; return refused })
	if !errors.Is(err, refused) || seen != "coffer_tiny" {
		t.Fatalf("err %v, spec %q", err, seen)
	}
	if r.n >= int64(len(data)) {
		t.Fatalf("read %d of %d bytes before the refusal", r.n, len(data))
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
