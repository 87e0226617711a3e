package rubygems

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Files and headers of rubygems/compact_index's conformance suite (the
// reference the rubygems.org implementation is tested against): a gem "a"
// pushed in four versions, three builds of 0.2.0, then 0.0.1 yanked.
const (
	confInfoA = "---\n" +
		"0.1.0 |checksum:fe8077b56b57211cbb2b2b0773940cd138c921b656100b56f9d4d3f6b80e49a3\n" +
		"0.0.1 |checksum:dbc59aad55931f0b15ec41c7ada8b161dc8691325111a1d67e9d512dd4227df6\n" +
		"0.2.0 |checksum:5eff572932f687cef5bc079f94481591abfb296038b8e2f02fe867463d8a9d43\n" +
		"0.2.0-x86-mingw32 |checksum:c6e588e484972bf1b278e6f3ed48408c98c97e7202da5b2dbf2e4597ad797685\n" +
		"0.2.0-java |checksum:29acba0062ee302a052ae87dee5635603a269358df87013f0500188b7c073ab8\n" +
		"0.3.0 |checksum:e33872eb2a2d9c634d9c6dc80e1784b2ae81693208622cd18d4e9dcb09488259\n"
	confInfoAETag       = `"46bd01981acbebafc2fda6a1fc141d9e"`
	confInfoAReprDigest = "sha-256=:e8TtWrDSBmCVjpRsBnWQl9z/5HowcODt6bjUxDXZcn4=:"
	confInfoALegacy     = "sha-256=e8TtWrDSBmCVjpRsBnWQl9z/5HowcODt6bjUxDXZcn4="
	confInfoAYankedMD5  = "9a0c38a06b4b7fe552df0bbaad86777f"
	confVersionsYanked  = "created_at: 1990-01-01T01:08:00Z\n---\n" +
		"a 0.1.0,0.0.1,0.2.0,0.2.0-x86-mingw32,0.2.0-java 734e7e961e968314d1b7c43d1bb332ea\n" +
		"b 1.0.0.pre 86c02d3a3f4c31e6f47cec95dbb2109f\n" +
		"a 0.3.0 46bd01981acbebafc2fda6a1fc141d9e\n" +
		"a -0.0.1 9a0c38a06b4b7fe552df0bbaad86777f\n"
	confVersionsYankedETag   = `"364189f831e3d056ffa5420435cd04d8"`
	confVersionsYankedDigest = "sha-256=:ncKF7nWHDwixWHsX7AH2/oL32UyKc/XjN2G0qRluq30=:"
	confVersionsRebuilt      = "created_at: 1990-01-01T02:10:00Z\n---\n" +
		"a 0.1.0,0.2.0,0.2.0-x86-mingw32,0.2.0-java,0.3.0 9a0c38a06b4b7fe552df0bbaad86777f\n" +
		"b 1.0.0.pre 86c02d3a3f4c31e6f47cec95dbb2109f\n"
)

// Info lines as rubygems.org serves them (info/nokogiri, info/rails,
// info/activejob, info/rake), and a line of its newer format with
// created_at.
const rubygemsOrgInfo = "---\n" +
	"2.2.2 actionmailer:= 2.2.2,actionpack:= 2.2.2,activerecord:= 2.2.2,activeresource:= 2.2.2,activesupport:= 2.2.2,rake:>= 0.8.3|checksum:84fd0ee92f92088cff81d1a4bcb61306bd4b7440b8634d7ac3d1396571a2133f\n" +
	"0 activemodel-globalid:>= 0,activesupport:>= 4.1.0|checksum:76c450d211f74a575fd4d32d08e5578d829a419058126fbb3b89ad5bf3621c94,ruby:>= 1.9.3\n" +
	"13.3.0 |checksum:96f5092d786ff412c62fde76f793cc0541bd84d2eb579caa529aa8a059934493,ruby:>= 2.3\n" +
	"1.19.0-aarch64-linux-gnu racc:~> 1.4|checksum:11a97ecc3c0e7e5edcf395720b10860ef493b768f6aa80c539573530bc933767,ruby:< 4.1.dev&>= 3.2,rubygems:>= 3.3.22\n" +
	"1.19.0-arm64-darwin racc:~> 1.4|checksum:0811dfd936d5f6dd3f6d32ef790568bf29b2b7bead9ba68866847b33c9cf5810,ruby:< 4.1.dev&>= 3.2\n" +
	"1.19.0-java racc:~> 1.4|checksum:5f3a70e252be641d8a4099f7fb4cc25c81c632cb594eec9b4b8f2ca8be4374f3,ruby:>= 3.2\n" +
	"1.19.0-x64-mingw-ucrt racc:~> 1.4|checksum:05d7ed2d95731edc9bef2811522dc396df3e476ef0d9c76793a9fca81cab056b,ruby:< 4.1.dev&>= 3.2\n" +
	"1.19.0 mini_portile2:~> 2.8.2,racc:~> 1.4|checksum:e304d21865f62518e04f2bf59f93bd3a97ca7b07e7f03952946d8e1c05f45695,ruby:>= 3.2\n" +
	"1.0.0 |checksum:e304d21865f62518e04f2bf59f93bd3a97ca7b07e7f03952946d8e1c05f45695,created_at:2026-06-18T15:18:58Z\n"

func mustParseInfo(t testing.TB, body string) []InfoVersion {
	t.Helper()
	v, skipped, err := ParseInfo(strings.NewReader(body), ParseLimits{})
	if err != nil || skipped != 0 {
		t.Fatalf("ParseInfo: %v, %d skipped", err, skipped)
	}
	return v
}

func TestCompactIndexConformance(t *testing.T) {
	info := mustParseInfo(t, confInfoA)
	if len(info) != 6 || info[3].Platform != "x86-mingw32" || info[0].Checksum[:6] != "fe8077" {
		t.Fatalf("ParseInfo = %+v", info)
	}
	body := Info(info)
	if string(body) != confInfoA {
		t.Fatalf("Info =\n%s", body)
	}
	if ETag(body) != confInfoAETag || ReprDigest(body) != confInfoAReprDigest || LegacyDigest(body) != confInfoALegacy {
		t.Errorf("validators = %s %s %s", ETag(body), ReprDigest(body), LegacyDigest(body))
	}
	// 0.0.1 yanked: the info file without it, and an appended versions
	// line "-0.0.1" with its checksum.
	yanked := append(append([]InfoVersion(nil), info[:1]...), info[2:]...)
	if MD5Hex(Info(yanked)) != confInfoAYankedMD5 {
		t.Errorf("MD5 of info after the yank = %s", MD5Hex(Info(yanked)))
	}
	// A gem with every version yanked has an empty info file.
	if MD5Hex(Info(nil)) != "6105347ebb9825ac754615ca55ff3b0c" {
		t.Errorf("MD5 of the empty info = %s", MD5Hex(Info(nil)))
	}
	entries := func(vs []InfoVersion) []VersionEntry {
		var out []VersionEntry
		for _, v := range vs {
			out = append(out, VersionEntry{Version: v.Version, Platform: v.Platform})
		}
		return out
	}
	b := VersionsLine{Name: "b", Versions: []VersionEntry{{Version: "1.0.0.pre"}}, InfoChecksum: "86c02d3a3f4c31e6f47cec95dbb2109f"}
	appendOnly := Versions(time.Date(1990, 1, 1, 1, 8, 0, 0, time.UTC), []VersionsLine{
		{Name: "a", Versions: entries(info[:5]), InfoChecksum: "734e7e961e968314d1b7c43d1bb332ea"},
		b,
		{Name: "a", Versions: entries(info[5:]), InfoChecksum: MD5Hex(Info(info))},
		{Name: "a", Versions: []VersionEntry{{Version: "0.0.1", Yanked: true}}, InfoChecksum: MD5Hex(Info(yanked))},
		{Name: "c"}, // no versions: left out
	})
	if string(appendOnly) != confVersionsYanked {
		t.Errorf("Versions =\n%s", appendOnly)
	}
	if ETag(appendOnly) != confVersionsYankedETag || ReprDigest(appendOnly) != confVersionsYankedDigest {
		t.Errorf("validators = %s %s", ETag(appendOnly), ReprDigest(appendOnly))
	}
	// The file written afresh lists what is not yanked.
	lines := VersionsLines([]GemVersions{{Name: "a", Builds: yanked}, {Name: "gone"}})
	rebuilt := Versions(time.Date(1990, 1, 1, 2, 10, 0, 0, time.UTC), append(lines, b))
	if string(rebuilt) != confVersionsRebuilt {
		t.Errorf("Versions =\n%s", rebuilt)
	}
	// Both parse back.
	for _, f := range []string{confVersionsYanked, confVersionsRebuilt} {
		created, ls, skipped, err := ParseVersions(strings.NewReader(f), ParseLimits{})
		if err != nil || skipped != 0 || !strings.HasPrefix(created, "1990-01-01T") {
			t.Fatalf("ParseVersions: %s %v %d", created, err, skipped)
		}
		ts, _ := time.Parse(time.RFC3339, created)
		if got := Versions(ts, ls); string(got) != f {
			t.Errorf("Versions(ParseVersions) =\n%s", got)
		}
	}
}

func TestParseInfoRubygemsOrg(t *testing.T) {
	info := mustParseInfo(t, rubygemsOrgInfo)
	if got := string(Info(info)); got != rubygemsOrgInfo {
		t.Errorf("Info(ParseInfo) differs:\n%s", got)
	}
	rails := info[0]
	if len(rails.Dependencies) != 6 || rails.Dependencies[5].Name != "rake" || rails.Dependencies[5].Requirement.String() != ">= 0.8.3" {
		t.Errorf("rails = %+v", rails)
	}
	nok := info[3]
	if nok.Version != "1.19.0" || nok.Platform != "aarch64-linux-gnu" || nok.RequiredRuby.String() != "< 4.1.dev, >= 3.2" ||
		nok.RequiredRubygems.String() != ">= 3.3.22" || nok.File("nokogiri").FileName() != "nokogiri-1.19.0-aarch64-linux-gnu.gem" {
		t.Errorf("nokogiri = %+v", nok)
	}
	if last := info[len(info)-1]; !reflect.DeepEqual(last.Extra, []InfoField{{"created_at", "2026-06-18T15:18:58Z"}}) {
		t.Errorf("Extra = %v", last.Extra)
	}
}

func TestInfoFromSpec(t *testing.T) {
	g := fixtureGem(t, "coffer_tiny-0.1.0.gem")
	p := fixtureGem(t, "coffer_tiny-0.2.0.pre1-x86_64-linux.gem")
	body := string(Info([]InfoVersion{InfoFromSpec(g.Spec, g.SHA256), InfoFromSpec(p.Spec, p.SHA256)}))
	want := "---\n" +
		"0.1.0 rack:< 4&>= 2.0|checksum:" + g.SHA256 + ",ruby:>= 2.7\n" +
		"0.2.0.pre1-x86_64-linux ffi:>= 1.15.5&~> 1.15|checksum:" + p.SHA256 + ",rubygems:> 1.3.1\n"
	if body != want {
		t.Errorf("Info =\n%s\nwant\n%s", body, want)
	}
	// Dependencies come out sorted by name, development ones left out.
	v := InfoVersion{Version: "1", Checksum: g.SHA256, Dependencies: []Dependency{
		{Name: "zeta", Type: Runtime}, {Name: "alpha", Requirement: Requirement{{"~>", "1.0"}}}, {Name: "dev", Type: Development},
	}}
	if got := v.Line(); got != "1 alpha:~> 1.0,zeta:>= 0|checksum:"+g.SHA256 {
		t.Errorf("Line = %s", got)
	}
}

func TestNames(t *testing.T) {
	in := []string{"rack", "Rack", "a", "rails"}
	if got := string(Names(in)); got != "---\nRack\na\nrack\nrails\n" {
		t.Errorf("Names = %q", got)
	}
	if in[0] != "rack" {
		t.Error("Names sorted its argument")
	}
	if string(Names(nil)) != "---\n" {
		t.Error("no names")
	}
}

func TestParseInfoSkipsMalformed(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	body := "---\n" +
		"1.0.0 |checksum:" + sum + "\n" +
		"garbage\n" +
		"\n" +
		"1.0.1 |checksum:zz\n" +
		"1.0.2 dep|checksum:" + sum + "\n" +
		"1.0.3 dep:>> 1|checksum:" + sum + "\n" +
		"1.0.4 dep:|checksum:" + sum + "\n" +
		"1.0.5-ruby |checksum:" + sum + "\n" +
		"1.0.6 |ruby:>= 2\n" +
		"x.y |checksum:" + sum + "\n" +
		"1.0.7 |checksum:" + sum + ",checksum:" + sum + "\n" +
		"1.0.8 |checksum:" + sum + ",k:v w\n" +
		"1.0.9 |checksum:" + sum + ",ruby:\n" +
		"1.0.10 bad name:>= 1|checksum:" + sum + "\n" +
		"1.0.11 " + strings.Repeat("d", 70000) + ":>= 1|checksum:" + sum + "\n" +
		"1.0.12-x86 linux |checksum:" + sum + "\n" +
		"1.0.13 |checksum:" + strings.ToUpper(sum) + "\r\n" +
		"1.0.14 |checksum:" + sum // no final newline
	got, skipped, err := ParseInfo(strings.NewReader(body), ParseLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 15 || len(got) != 3 || got[0].Version != "1.0.0" || got[1].Version != "1.0.13" || got[1].Checksum != sum || got[2].Version != "1.0.14" {
		t.Errorf("ParseInfo = %d skipped, %+v", skipped, got)
	}
	// Without a "---" header every line is data.
	got, _, _ = ParseInfo(strings.NewReader("1.0.0 |checksum:"+sum+"\n"), ParseLimits{})
	if len(got) != 1 {
		t.Errorf("headerless ParseInfo = %v", got)
	}
}

func TestParseLimits(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	lines := strings.Repeat("1.0.0 |checksum:"+sum+"\n", 10)
	if _, _, err := ParseInfo(strings.NewReader(lines), ParseLimits{MaxLines: 5}); !errors.Is(err, ErrIndexTooLarge) {
		t.Errorf("MaxLines: %v", err)
	}
	if _, _, err := ParseInfo(strings.NewReader(lines), ParseLimits{MaxBytes: 300}); !errors.Is(err, ErrIndexTooLarge) {
		t.Errorf("MaxBytes: %v", err)
	}
	if _, _, _, err := ParseVersions(strings.NewReader("---\n"+strings.Repeat("a 1 "+strings.Repeat("0", 32)+"\n", 10)), ParseLimits{MaxLines: 5}); !errors.Is(err, ErrIndexTooLarge) {
		t.Errorf("ParseVersions MaxLines: %v", err)
	}
	if v, _, err := ParseInfo(strings.NewReader(lines), ParseLimits{MaxLines: 11}); err != nil || len(v) != 10 {
		t.Errorf("within the limits: %d, %v", len(v), err)
	}
	boom := errors.New("boom")
	if _, _, err := ParseInfo(&failingReader{r: strings.NewReader(lines), n: 100, err: boom}, ParseLimits{}); !errors.Is(err, boom) {
		t.Errorf("reader error: %v", err)
	}
}

func TestParseVersionsSkipsMalformed(t *testing.T) {
	md := strings.Repeat("0", 32)
	body := "created_at: 2024-01-01T00:00:00Z\n---\n" +
		"a 1.0,-0.9,2.0-java " + md + "\n" +
		"bad\n" +
		"b 1.0 short\n" +
		"c  " + md + "\n" +
		"-d 1.0 " + md + "\n" +
		"e 1.0-ruby " + md + "\n" +
		"f x " + md + "\n" +
		"g 1.0 " + md + " extra\n"
	created, lines, skipped, err := ParseVersions(strings.NewReader(body), ParseLimits{})
	if err != nil || created != "2024-01-01T00:00:00Z" || skipped != 7 || len(lines) != 1 {
		t.Fatalf("ParseVersions = %s %v %d %v", created, lines, skipped, err)
	}
	want := VersionsLine{Name: "a", InfoChecksum: md, Versions: []VersionEntry{
		{Version: "1.0", Platform: "ruby"}, {Version: "0.9", Platform: "ruby", Yanked: true}, {Version: "2.0", Platform: "java"},
	}}
	if !reflect.DeepEqual(lines[0], want) {
		t.Errorf("line = %+v", lines[0])
	}
}

// TestBundlerReadsCompactIndex has Bundler's own compact index cache
// reader parse the versions and info files written for the fixtures:
// the versions it sees (a yanked one removed), the info checksum it
// compares, and each info line's dependencies and requirements.
func TestBundlerReadsCompactIndex(t *testing.T) {
	needTool(t, "bundle")
	g := fixtureGem(t, "coffer_tiny-0.1.0.gem")
	p := fixtureGem(t, "coffer_tiny-0.2.0.pre1-x86_64-linux.gem")
	builds := []InfoVersion{InfoFromSpec(g.Spec, g.SHA256), InfoFromSpec(p.Spec, p.SHA256)}
	info := Info(builds)
	old := Info(builds[:1])
	versions := Versions(time.Unix(0, 0), []VersionsLine{
		{Name: "coffer_tiny", Versions: []VersionEntry{{Version: "0.1.0"}, {Version: "0.0.9"}}, InfoChecksum: MD5Hex(old)},
		{Name: "coffer_tiny", Versions: []VersionEntry{{Version: "0.2.0.pre1", Platform: "x86_64-linux"}, {Version: "0.0.9", Yanked: true}}, InfoChecksum: MD5Hex(info)},
	})
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "info"), 0o755)
	os.WriteFile(filepath.Join(dir, "versions"), versions, 0o644)
	os.WriteFile(filepath.Join(dir, "info", "coffer_tiny"), info, 0o644)
	os.WriteFile(filepath.Join(dir, "names"), Names([]string{"coffer_tiny"}), 0o644)
	out := runRuby(t, `
require "bundler"
require "bundler/compact_index_client"
require "json"
c = Bundler::CompactIndexClient::Cache.new(ARGV[0])
versions, checksums = c.versions
puts JSON.generate({"names" => c.names, "versions" => versions, "checksums" => checksums, "deps" => c.dependencies("coffer_tiny")})`, dir)
	var got struct {
		Names     []string
		Versions  map[string][][]string
		Checksums map[string]string
		Deps      [][]any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !reflect.DeepEqual(got.Names, []string{"coffer_tiny"}) {
		t.Errorf("names = %v", got.Names)
	}
	wantVersions := [][]string{{"coffer_tiny", "0.1.0"}, {"coffer_tiny", "0.2.0.pre1", "x86_64-linux"}}
	if !reflect.DeepEqual(got.Versions["coffer_tiny"], wantVersions) {
		t.Errorf("versions = %v", got.Versions)
	}
	if got.Checksums["coffer_tiny"] != MD5Hex(info) {
		t.Errorf("info checksum = %s, want %s", got.Checksums["coffer_tiny"], MD5Hex(info))
	}
	wantDeps := `[["0.1.0",null,[["rack",["< 4",">= 2.0"]]],[["checksum",["` + g.SHA256 + `"]],["ruby",[">= 2.7"]]]],` +
		`["0.2.0.pre1","x86_64-linux",[["ffi",[">= 1.15.5","~> 1.15"]]],[["checksum",["` + p.SHA256 + `"]],["rubygems",["> 1.3.1"]]]]]`
	var deps strings.Builder
	enc := json.NewEncoder(&deps)
	enc.SetEscapeHTML(false)
	enc.Encode(got.Deps)
	if strings.TrimSpace(deps.String()) != wantDeps {
		t.Errorf("deps =\n%s\nwant\n%s", deps.String(), wantDeps)
	}
}
