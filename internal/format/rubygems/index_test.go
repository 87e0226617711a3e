package rubygems

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestMarshalDependenciesGolden: the dependencies API answer is what
// rubygems.org's Marshal.dump of the same Hashes is (bytes from Ruby 3.1:
// [{name: "rack", number: "2.2.3", platform: "ruby", dependencies: []},
// {name: "coffer_tiny", number: "0.1.0", platform: "x86_64-linux",
// dependencies: [["rack", ">= 2.0, < 4"], ["json", ">= 0"]]}]).
func TestMarshalDependenciesGolden(t *testing.T) {
	const golden = "04085b077b093a096e616d654922097261636b063a0645543a0b6e756d62657249220a322e322e33063b06543a0d706c6174666f726d49220972756279063b06543a11646570656e64656e636965735b007b093b00492210636f666665725f74696e79063b06543b0749220a302e312e30063b06543b084922117838365f36342d6c696e7578063b06543b095b075b074922097261636b063b06544922103e3d20322e302c203c2034063b06545b074922096a736f6e063b06544922093e3d2030063b0654"
	list := []VersionDependencies{
		{Name: "rack", Number: "2.2.3", Platform: ""},
		{Name: "coffer_tiny", Number: "0.1.0", Platform: "x86_64-linux", Dependencies: []Dependency{
			{Name: "rack", Requirement: Requirement{{">=", "2.0"}, {"<", "4"}}, Type: Runtime},
			{Name: "rake", Requirement: Requirement{{"~>", "13.0"}}, Type: Development},
			{Name: "json", Type: Runtime},
		}},
	}
	got, err := MarshalDependencies(list)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != golden {
		t.Fatalf("MarshalDependencies = %x", got)
	}
	back, err := UnmarshalDependencies(got)
	if err != nil {
		t.Fatal(err)
	}
	want := []VersionDependencies{
		{Name: "rack", Number: "2.2.3", Platform: "ruby"},
		{Name: "coffer_tiny", Number: "0.1.0", Platform: "x86_64-linux", Dependencies: []Dependency{
			{Name: "rack", Requirement: Requirement{{">=", "2.0"}, {"<", "4"}}, Type: Runtime},
			{Name: "json", Requirement: DefaultRequirement, Type: Runtime},
		}},
	}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("UnmarshalDependencies = %+v", back)
	}
	empty, _ := MarshalDependencies(nil)
	if !bytes.Equal(empty, []byte{4, 8, '[', 0}) {
		t.Errorf("no gems = %x", empty)
	}
}

func TestUnmarshalDependenciesErrors(t *testing.T) {
	for _, v := range []any{
		"not an array",
		[]any{"not a hash"},
		[]any{&Hash{Pairs: []Pair{{Symbol("name"), "a"}}}},
		[]any{&Hash{Pairs: []Pair{{Symbol("name"), "a"}, {Symbol("number"), "1"}, {Symbol("platform"), "ruby"}, {Symbol("dependencies"), "x"}}}},
		[]any{&Hash{Pairs: []Pair{{Symbol("name"), "a"}, {Symbol("number"), "1"}, {Symbol("platform"), "ruby"}, {Symbol("dependencies"), []any{[]any{"b"}}}}}},
		[]any{&Hash{Pairs: []Pair{{Symbol("name"), "a"}, {Symbol("number"), "1"}, {Symbol("platform"), "ruby"}, {Symbol("dependencies"), []any{[]any{"b", ">> 1"}}}}}},
	} {
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := UnmarshalDependencies(b); err == nil {
			t.Errorf("UnmarshalDependencies(%#v) accepted it", v)
		}
	}
}

// TestFullIndexIsGemGenerateIndex: the full-index files are byte for byte
// what gem generate_index wrote for the fixtures (testdata/index), and
// read back into the same lists.
func TestFullIndexIsGemGenerateIndex(t *testing.T) {
	rel := fixtureSpec(t, "coffer_tiny-0.1.0.gem").File()
	pre := fixtureSpec(t, "coffer_tiny-0.2.0.pre1-x86_64-linux.gem").File()
	specs, latest, prerelease := SpecIndexes([]GemFile{pre, rel})
	for _, tc := range []struct {
		file string
		list []GemFile
		want []GemFile
	}{
		{"specs.4.8", specs, []GemFile{rel}},
		{"latest_specs.4.8", latest, []GemFile{rel}},
		{"prerelease_specs.4.8", prerelease, []GemFile{pre}},
	} {
		if !reflect.DeepEqual(tc.list, tc.want) {
			t.Errorf("%s lists %v", tc.file, tc.list)
		}
		real := readFixture(t, filepath.Join("index", tc.file))
		got, err := MarshalSpecs(tc.list)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, real) {
			t.Errorf("%s:\n got %q\nwant %q", tc.file, got, real)
		}
		back, err := UnmarshalSpecs(real)
		if err != nil || !reflect.DeepEqual(back, tc.want) {
			t.Errorf("UnmarshalSpecs(%s) = %v, %v", tc.file, back, err)
		}
	}
}

func TestSpecIndexes(t *testing.T) {
	all := []GemFile{
		{"b", "1.0", "ruby"},
		{"a", "2.0.rc1", ""},
		{"a", "1.10", "ruby"},
		{"a", "1.9", "java"},
		{"a", "1.9", "ruby"},
		{"a", "1.2", "java"},
		{"a", "1.10", "x86_64-linux"},
		{"b", "0.1.a", "ruby"},
	}
	specs, latest, pre := SpecIndexes(all)
	str := func(l []GemFile) string {
		var s []string
		for _, g := range l {
			s = append(s, g.FullName())
		}
		return strings.Join(s, " ")
	}
	if got := str(specs); got != "a-1.2-java a-1.9 a-1.9-java a-1.10 a-1.10-x86_64-linux b-1.0" {
		t.Errorf("specs = %s", got)
	}
	if got := str(latest); got != "a-1.9-java a-1.10 a-1.10-x86_64-linux b-1.0" {
		t.Errorf("latest = %s", got)
	}
	if got := str(pre); got != "a-2.0.rc1 b-0.1.a" {
		t.Errorf("prerelease = %s", got)
	}
}

func TestUnmarshalSpecsErrors(t *testing.T) {
	for _, v := range []any{
		"x",
		[]any{"x"},
		[]any{[]any{"a", versionValue("1"), "ruby", "extra"}},
		[]any{[]any{1, versionValue("1"), "ruby"}},
		[]any{[]any{"a", &UserMarshal{Class: "Other", Data: []any{"1"}}, "ruby"}},
		[]any{[]any{"a", versionValue("1"), 5}},
	} {
		b, _ := Marshal(v)
		if _, err := UnmarshalSpecs(b); err == nil {
			t.Errorf("UnmarshalSpecs(%#v) accepted it", v)
		}
	}
	// A Gem::Platform object and old-style Gem::Version object are read.
	b, _ := Marshal([]any{[]any{"a", &Object{Class: classVersion, Ivars: []Ivar{{"@version", "1.0"}}}, platformValue("universal-darwin-21")}})
	got, err := UnmarshalSpecs(b)
	if err != nil || len(got) != 1 || got[0] != (GemFile{"a", "1.0", "universal-darwin-21"}) {
		t.Errorf("UnmarshalSpecs = %v, %v", got, err)
	}
}

// TestQuickSpecOfGemGenerateIndex reads the quick specs gem
// generate_index wrote (testdata/index/quick) into the specs the gems
// carry.
func TestQuickSpecOfGemGenerateIndex(t *testing.T) {
	for _, name := range []string{"coffer_tiny-0.1.0", "coffer_tiny-0.2.0.pre1-x86_64-linux"} {
		want := fixtureSpec(t, name+".gem")
		if want.File().SpecFileName() != name+".gemspec.rz" {
			t.Errorf("SpecFileName = %s", want.File().SpecFileName())
		}
		got, err := ReadQuickSpec(readFixture(t, filepath.Join("index", QuickSpecDir, name+".gemspec.rz")), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

func TestQuickSpecRoundTrip(t *testing.T) {
	for _, name := range []string{"coffer_tiny-0.1.0.gem", "coffer_tiny-0.2.0.pre1-x86_64-linux.gem"} {
		want := fixtureSpec(t, name)
		rz, err := QuickSpec(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadQuickSpec(rz, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	// Defaults fill what a spec lacks.
	s := &Spec{Name: "x", Version: "1", Email: []string{"a", "b"}, SpecificationVersion: 9}
	rz, err := QuickSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadQuickSpec(rz, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got.Date != defaultDate || got.Platform != "ruby" || got.SpecificationVersion != 4 || len(got.Email) != 2 || !got.RequiredRubyVersion.IsDefault() {
		t.Errorf("ReadQuickSpec = %+v", got)
	}
	if _, err := ReadQuickSpec(rz, 10); err == nil {
		t.Error("ReadQuickSpec ignored its size limit")
	}
	if _, err := ReadQuickSpec([]byte("not zlib"), 1<<20); err == nil {
		t.Error("ReadQuickSpec read garbage")
	}
}

// TestQuickSpecRubyLoads: RubyGems loads the quick specs this package
// writes into the Gem::Specification the gem carries.
func TestQuickSpecRubyLoads(t *testing.T) {
	needRuby(t)
	var args []string
	for _, name := range []string{"coffer_tiny-0.1.0.gem", "coffer_tiny-0.2.0.pre1-x86_64-linux.gem"} {
		rz, err := QuickSpec(fixtureSpec(t, name))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, writeTemp(t, name+"spec.rz", rz))
	}
	out := runRuby(t, `
require "rubygems"
require "zlib"
require "json"
require "time"
ARGV.each do |f|
  s = Marshal.load(Zlib::Inflate.inflate(File.binread(f)))
  puts JSON.generate({
    "class" => s.class.name, "full_name" => s.full_name, "name" => s.name, "version" => s.version.to_s,
    "platform" => s.platform.to_s, "platform_class" => s.platform.class.name, "original_platform" => s.original_platform,
    "summary" => s.summary, "description" => s.description, "homepage" => s.homepage, "email" => s.email,
    "authors" => s.authors, "licenses" => (s.instance_variable_get(:@licenses).to_a + s.instance_variable_get(:@license).to_a).uniq,
    "metadata" => s.metadata, "date" => s.date.utc.iso8601, "ruby" => s.required_ruby_version.to_s,
    "rubygems" => s.required_rubygems_version.to_s, "rubygems_version" => s.rubygems_version,
    "deps" => s.dependencies.map { |d| [d.name, d.type.to_s, d.requirement.to_s, d.prerelease?] },
    "runtime" => s.runtime_dependencies.map(&:name),
  })
end`, args...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		`{"class":"Gem::Specification","full_name":"coffer_tiny-0.1.0","name":"coffer_tiny","version":"0.1.0",` +
			`"platform":"ruby","platform_class":"String","original_platform":"ruby","summary":"A tiny gem",` +
			`"description":"A tiny gem for tests, with ünïcode","homepage":"https://example.com/tiny","email":"ada@example.com",` +
			`"authors":["Ada Lovelace","Bob"],"licenses":["MIT"],` +
			`"metadata":{"changelog_uri":"https://example.com/changes","source_code_uri":"https://example.com/src"},` +
			`"date":"2023-11-14T00:00:00Z","ruby":">= 2.7","rubygems":">= 0","rubygems_version":"3.3.15",` +
			`"deps":[["rack","runtime",">= 2.0, < 4",false],["rake","development","~> 13.0",false]],"runtime":["rack"]}`,
		`{"class":"Gem::Specification","full_name":"coffer_tiny-0.2.0.pre1-x86_64-linux","name":"coffer_tiny","version":"0.2.0.pre1",` +
			`"platform":"x86_64-linux","platform_class":"Gem::Platform","original_platform":"x86_64-linux","summary":"A tiny platform gem",` +
			`"description":"","homepage":null,"email":null,"authors":["Ada"],"licenses":["MIT"],"metadata":{},` +
			`"date":"2023-11-14T00:00:00Z","ruby":">= 0","rubygems":"> 1.3.1","rubygems_version":"3.3.15",` +
			`"deps":[["ffi","runtime","~> 1.15, >= 1.15.5",false]],"runtime":["ffi"]}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("ruby printed %q", out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("RubyGems loads\n%s\nwant\n%s", lines[i], want[i])
		}
	}
}

// TestPlatformValueIsRubys: the Gem::Platform objects written for
// platform strings are what Gem::Platform.new makes of them, for the
// platforms gems are built for today.
func TestPlatformValueIsRubys(t *testing.T) {
	needRuby(t)
	platforms := []string{"x86_64-linux", "java", "x86-mingw32", "x64-mingw-ucrt", "arm64-darwin", "universal-darwin-21", "x86_64-linux-musl", "aarch64-linux"}
	out := runRuby(t, `require "rubygems"; ARGV.each { |p| puts Marshal.dump(Gem::Platform.new(p)).unpack1("H*") }`, platforms...)
	got := strings.Fields(out)
	for i, p := range platforms {
		b, err := Marshal(platformValue(p))
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(got) || hex.EncodeToString(b) != got[i] {
			t.Errorf("%s: Marshal = %x, Ruby %v", p, b, got)
		}
		back, err := platformFrom(platformValue(p))
		if err != nil || back != p {
			t.Errorf("platformFrom(%s) = %s, %v", p, back, err)
		}
	}
}

func TestTimeValue(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC),
		time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		got, err := timeFrom(timeValue(d))
		if err != nil || !got.Equal(d) {
			t.Errorf("timeFrom(timeValue(%v)) = %v, %v", d, got, err)
		}
	}
	if got, _ := timeFrom(timeValue(time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC))); !got.Equal(defaultDate) {
		t.Errorf("a year before 1900 = %v", got)
	}
}
