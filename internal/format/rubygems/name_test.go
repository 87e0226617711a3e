package rubygems

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"rack", "Rack", "coffer_tiny", "net-http", "ruby2_keywords", "a", "a.b", "1a", "x" + strings.Repeat("y", 254), "rubygems"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "123", "-rack", ".rack", "_rack", "ra ck", "ra/ck", "räck", "rack\n", "ra:ck", "a,b", "x" + strings.Repeat("y", 255)} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

// TestValidateNameIsRubyGems checks names against
// Gem::SpecificationPolicy's rule, which rubygems.org applies too.
func TestValidateNameIsRubyGems(t *testing.T) {
	names := []string{"rack", "Rack", "coffer_tiny", "net-http", "1a", "123", "-rack", ".rack", "_rack", "ra ck", "ra/ck", "räck", "a.b", "9.9"}
	out := runRuby(t, `require "rubygems"
ARGV.each do |n|
  s = Gem::Specification.new { |s| s.name = n; s.version = "1"; s.summary = "x"; s.authors = ["a"]; s.files = [] }
  begin
    Gem::SpecificationPolicy.new(s).send(:validate_name)
    puts "ok"
  rescue Gem::InvalidSpecificationException
    puts "bad"
  end
end`, names...)
	got := strings.Fields(out)
	for i, n := range names {
		want := got[i] == "ok"
		if ValidName(n) != want {
			t.Errorf("ValidName(%q) = %v, RubyGems says %s", n, !want, got[i])
		}
	}
}

func TestNameKey(t *testing.T) {
	if NameKey("Rack") != NameKey("rack") || NameKey("rack") == NameKey("rack-x") || NameKey("Foo_Bar") != "foo_bar" {
		t.Error("NameKey")
	}
}

func TestValidatePlatform(t *testing.T) {
	for _, ok := range []string{"ruby", "x86_64-linux", "java", "x64-mingw-ucrt", "universal-darwin-21", "x86_64-linux-musl", "aarch64-linux-gnu"} {
		if err := ValidatePlatform(ok); err != nil {
			t.Errorf("ValidatePlatform(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-linux", "linux-", ".x", "x86 linux", "x86--linux", "x/y", "x,y", "x|y"} {
		if ValidatePlatform(bad) == nil {
			t.Errorf("ValidatePlatform(%q) accepted it", bad)
		}
	}
}

func TestGemFileNames(t *testing.T) {
	for _, tc := range []struct {
		g                GemFile
		full, file, spec string
	}{
		{GemFile{"rack", "3.0.0", "ruby"}, "rack-3.0.0", "rack-3.0.0.gem", "rack-3.0.0.gemspec.rz"},
		{GemFile{"rack", "3.0.0", ""}, "rack-3.0.0", "rack-3.0.0.gem", "rack-3.0.0.gemspec.rz"},
		{GemFile{"nokogiri", "1.19.0", "x86_64-linux-gnu"}, "nokogiri-1.19.0-x86_64-linux-gnu", "nokogiri-1.19.0-x86_64-linux-gnu.gem", "nokogiri-1.19.0-x86_64-linux-gnu.gemspec.rz"},
	} {
		if tc.g.FullName() != tc.full || tc.g.FileName() != tc.file || tc.g.SpecFileName() != tc.spec {
			t.Errorf("%v: %s %s %s", tc.g, tc.g.FullName(), tc.g.FileName(), tc.g.SpecFileName())
		}
	}
}

func TestSplitFullName(t *testing.T) {
	for _, tc := range []struct {
		full string
		want []GemFile
	}{
		{"rack-3.0.0", []GemFile{{"rack", "3.0.0", "ruby"}}},
		{"coffer_tiny-0.2.0.pre1-x86_64-linux", []GemFile{{"coffer_tiny", "0.2.0.pre1", "x86_64-linux"}}},
		{"net-http-0.4.1", []GemFile{{"net-http", "0.4.1", "ruby"}}},
		{"nokogiri-1.19.0-x86_64-linux-gnu", []GemFile{{"nokogiri", "1.19.0", "x86_64-linux-gnu"}}},
		// Ambiguous: gem "a-2" 1.0, or gem "a" 2 built for "1.0".
		{"a-2-1.0", []GemFile{{"a-2", "1.0", "ruby"}, {"a", "2", "1.0"}}},
		{"a-2-b-1", []GemFile{{"a-2-b", "1", "ruby"}, {"a", "2", "b-1"}}},
		{"rack", nil},
		{"rack-", nil},
		{"rack-x", nil},
		{"rack-1.0-ruby", nil},
		{"-1.0", nil},
	} {
		if got := SplitFullName(tc.full); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitFullName(%q) = %v, want %v", tc.full, got, tc.want)
		}
	}
}
