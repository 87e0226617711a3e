package rubygems

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func bigInt(s string) *big.Int {
	n, _ := new(big.Int).SetString(s, 10)
	return n
}

// marshalGolden are Go values with what Ruby 3.1's Marshal.dump writes
// for the Ruby expression beside them (TestMarshalGoldenIsRuby checks the
// bytes against a live Ruby).
var marshalGolden = []struct {
	name, ruby string
	value      func() any
	hex        string
}{
	{
		"ints", `[0, 1, -1, 122, 123, -123, -124, 255, 256, -256, -257, 65535, 65536, 2**24, 2**30-1, 2**30, -2**30, -2**30-1, 2**31, 2**62, 2**64, -(2**64)]`,
		func() any {
			return []any{0, 1, -1, 122, 123, -123, -124, 255, 256, -256, -257, 65535, 65536, 1 << 24, 1<<30 - 1, 1 << 30,
				-(1 << 30), -(1 << 30) - 1, int64(1) << 31, int64(1) << 62, bigInt("18446744073709551616"), bigInt("-18446744073709551616")}
		},
		"04085b1b6900690669fa697f69017b698069ff846901ff6902000169ff0069fefffe6902ffff69030000016904000000016904ffffff3f6c2b070000004069fc000000c06c2d07010000406c2b07000000806c2b0900000000000000406c2b0a000000000000000001006c2d0a00000000000000000100",
	},
	{
		"strings", `["", "abc", "ünï", "abc".b, "abc".force_encoding("US-ASCII"), "x".force_encoding("Shift_JIS")]`,
		func() any {
			return []any{"", "abc", "ünï", String{S: "abc"}, String{S: "abc", Encoding: "US-ASCII"}, String{S: "x", Encoding: "Shift_JIS"}}
		},
		"04085b0b492200063a064554492208616263063b005449220ac3bc6ec3af063b00542208616263492208616263063b004649220678063a0d656e636f64696e67220e53686966745f4a4953",
	},
	{
		"symbols", `[:a, :b, :a, :"é", :"é", :b]`,
		func() any {
			return []any{Symbol("a"), Symbol("b"), Symbol("a"), Symbol("é"), Symbol("é"), Symbol("b")}
		},
		"04085b0b3a06613a06623b00493a07c3a9063a0645543b073b06",
	},
	{
		"hash", `{a: 1, "b" => [nil, true, false], :c => {}}`,
		func() any {
			return &Hash{Pairs: []Pair{{Symbol("a"), 1}, {"b", []any{nil, true, false}}, {Symbol("c"), &Hash{}}}}
		},
		"04087b083a0661690649220662063a0645545b083054463a06637b00",
	},
	{
		"object links", `h = {"k" => "v"}; [h, h, [h]]`,
		func() any {
			h := &Hash{Pairs: []Pair{{"k", "v"}}}
			return []any{h, h, []any{h}}
		},
		"04085b087b064922066b063a06455449220676063b005440065b064006",
	},
	{
		"Gem::Version", `Gem::Version.new("1.0.0")`,
		func() any { return versionValue("1.0.0") },
		"0408553a1147656d3a3a56657273696f6e5b0649220a312e302e30063a064554",
	},
	{
		"Gem::Requirement", `Gem::Requirement.new(">= 2.0", "< 4")`,
		func() any { return requirementValue(Requirement{{">=", "2.0"}, {"<", "4"}}) },
		"0408553a1547656d3a3a526571756972656d656e745b065b075b074922073e3d063a064554553a1147656d3a3a56657273696f6e5b06492208322e30063b06545b074922063c063b0654553b075b0649220634063b0654",
	},
	{
		"Gem::Platform", `Gem::Platform.new("x86_64-linux")`,
		func() any { return platformValue("x86_64-linux") },
		"04086f3a1247656d3a3a506c6174666f726d083a094063707549220b7838365f3634063a0645543a08406f7349220a6c696e7578063b07543a0d4076657273696f6e30",
	},
	{
		"Gem::Dependency", `Gem::Dependency.new("rack", ">= 2.0", "< 4")`,
		func() any {
			return dependencyValue(Dependency{Name: "rack", Requirement: Requirement{{">=", "2.0"}, {"<", "4"}}, Type: Runtime})
		},
		"04086f3a1447656d3a3a446570656e64656e63790a3a0a406e616d654922097261636b063a0645543a1140726571756972656d656e74553a1547656d3a3a526571756972656d656e745b065b075b074922073e3d063b0754553a1147656d3a3a56657273696f6e5b06492208322e30063b07545b074922063c063b0754553b0a5b0649220634063b07543a0a40747970653a0c72756e74696d653a104070726572656c65617365463a1a4076657273696f6e5f726571756972656d656e74734007",
	},
	{
		"Time", `Time.utc(2023, 11, 14)`,
		func() any { return timeValue(time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)) },
		"040849753a0954696d650dc0e91ec000000000063a097a6f6e65492208555443063a064546",
	},
}

func TestMarshalGolden(t *testing.T) {
	for _, tc := range marshalGolden {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.value())
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(got); h != tc.hex {
				t.Fatalf("Marshal\n got %s\nwant %s", h, tc.hex)
			}
			// Decoding keeps all there is: encoding again gives the bytes
			// back, links included.
			want, _ := hex.DecodeString(tc.hex)
			v, err := Unmarshal(want)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			again, err := Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, want) {
				t.Fatalf("Marshal(Unmarshal) = %x", again)
			}
		})
	}
}

func TestMarshalGoldenIsRuby(t *testing.T) {
	needRuby(t)
	var script strings.Builder
	script.WriteString("require 'rubygems'\n")
	for _, tc := range marshalGolden {
		script.WriteString("puts Marshal.dump((" + tc.ruby + ")).unpack1('H*')\n")
	}
	lines := strings.Split(strings.TrimSpace(runRuby(t, script.String())), "\n")
	if len(lines) != len(marshalGolden) {
		t.Fatalf("ruby printed %d lines", len(lines))
	}
	for i, tc := range marshalGolden {
		if lines[i] != tc.hex {
			t.Errorf("%s: Ruby writes %s, the golden value is %s", tc.name, lines[i], tc.hex)
		}
	}
}

func TestUnmarshalValues(t *testing.T) {
	b, _ := hex.DecodeString(marshalGolden[0].hex)
	v, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	a := v.([]any)
	if a[0] != int64(0) || a[2] != int64(-1) || a[15] != int64(1<<30) || a[17] != int64(-(1<<30)-1) {
		t.Errorf("ints = %v", a)
	}
	if n, ok := a[20].(*big.Int); !ok || n.String() != "18446744073709551616" {
		t.Errorf("2**64 = %v", a[20])
	}
	b, _ = hex.DecodeString(marshalGolden[1].hex)
	v, _ = Unmarshal(b)
	want := []any{"", "abc", "ünï", String{S: "abc"}, String{S: "abc", Encoding: "US-ASCII"}, String{S: "x", Encoding: "Shift_JIS"}}
	for i, s := range v.([]any) {
		if s != want[i] {
			t.Errorf("string %d = %#v, want %#v", i, s, want[i])
		}
	}
	b, _ = hex.DecodeString(marshalGolden[4].hex)
	v, _ = Unmarshal(b)
	l := v.([]any)
	if l[0] != l[1] || l[2].([]any)[0] != l[0] {
		t.Error("object links do not give back the same *Hash")
	}
	if got, _ := l[0].(*Hash).Get("k"); got != "v" {
		t.Errorf(`h["k"] = %v`, got)
	}
}

// rubyForms are forms this encoder never writes but Ruby may: floats,
// regexps, class references, structs, user classes, extended objects,
// hashes with a default, with what Ruby 3.1 writes for them
// (TestUnmarshalRubyFormsAreRuby checks the bytes).
var rubyForms = []struct {
	name, ruby, hex string
	check           func(any) bool
}{
	{"floats", `[1.5, -0.0, Float::INFINITY]`, "04085b086608312e3566072d306608696e66", func(v any) bool {
		a, ok := v.([]any)
		return ok && len(a) == 3 && a[0] == 1.5 && a[2].(float64) > 1e308
	}},
	{"regexp", `/ab/i`, "0408492f07616201063a064546", func(v any) bool {
		r, ok := v.(Regexp)
		return ok && r.Source == "ab" && r.Options == 1
	}},
	{"class", `String`, "0408630b537472696e67", func(v any) bool { return v == ClassRef{Name: "String"} }},
	{"struct", `Struct.new("P", :x); Struct::P.new(1)`, "0408533a0e5374727563743a3a50063a06786906", func(v any) bool {
		o, ok := v.(*Object)
		x, _ := o.Ivar("x")
		return ok && o.Struct && o.Class == "Struct::P" && x == int64(1)
	}},
	{"user class", `class S < String; end; S.new("a")`, "040849433a0653220661063a064554", func(v any) bool { return v == "a" }},
	{"extended", `module M; end; "a".extend(M)`, "040849653a064d220661063a064554", func(v any) bool { return v == "a" }},
	{"hash default", `h = Hash.new(5); h[1] = 2; h`, "04087d0669066907690a", func(v any) bool {
		h, ok := v.(*Hash)
		return ok && h.HasDefault && h.Default == int64(5) && len(h.Pairs) == 1
	}},
}

func TestUnmarshalRubyForms(t *testing.T) {
	for _, tc := range rubyForms {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(tc.hex)
			if err != nil {
				t.Fatal(err)
			}
			v, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !tc.check(v) {
				t.Errorf("Unmarshal = %#v", v)
			}
		})
	}
}

func TestUnmarshalRubyFormsAreRuby(t *testing.T) {
	var script strings.Builder
	for _, tc := range rubyForms {
		script.WriteString("puts Marshal.dump((" + tc.ruby + ")).unpack1('H*')\n")
	}
	got := strings.Fields(runRuby(t, script.String()))
	for i, tc := range rubyForms {
		if i >= len(got) || got[i] != tc.hex {
			t.Errorf("%s: Ruby writes %v, the test reads %s", tc.name, got, tc.hex)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	deep := append([]byte{4, 8}, bytes.Repeat([]byte{'[', 6}, maxMarshalDepth+1)...)
	deepC := append([]byte{4, 8}, bytes.Repeat([]byte{'C', ':', 6, 'a'}, maxMarshalDepth+1)...)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"version", []byte{4, 9, '0'}},
		{"major", []byte{3, 8, '0'}},
		{"truncated", []byte{4, 8, '['}},
		{"truncated string", []byte{4, 8, '"', 10, 'a'}},
		{"huge length", []byte{4, 8, '[', 4, 0xff, 0xff, 0xff, 0x7f}},
		{"negative length", []byte{4, 8, '"', 0xfa}},
		{"bad symbol link", []byte{4, 8, ';', 0}},
		{"bad object link", []byte{4, 8, '@', 0}},
		{"cyclic link", []byte{4, 8, '[', 6, '@', 0}},
		{"unknown type", []byte{4, 8, 'z'}},
		{"data object", []byte{4, 8, 'd', ':', 6, 'a'}},
		{"nested I", []byte{4, 8, 'I', 'I', '0', 0, 0}},
		{"deep", deep},
		{"deep user classes", deepC},
		{"bignum sign", []byte{4, 8, 'l', '*', 6, 1, 0}},
		{"bad float", []byte{4, 8, 'f', 6, 'x'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Unmarshal(tc.data); !errors.Is(err, ErrMarshal) {
				t.Errorf("Unmarshal(%x) = %v, want ErrMarshal", tc.data, err)
			}
		})
	}
}

// TestUnmarshalLinkBomb: links that double the data at every level
// (a Marshal alias bomb) are refused, not expanded.
func TestUnmarshalLinkBomb(t *testing.T) {
	// [s, [s, s], [a1, a1], [a2, a2], …]: every level doubles.
	bomb := func(levels int) []byte {
		e := &encoder{}
		e.buf.Write([]byte{4, 8, '['})
		e.long(int64(levels + 1))
		e.buf.WriteByte('"')
		e.long(1000)
		e.buf.Write(bytes.Repeat([]byte{'x'}, 1000))
		for j := 1; j <= levels; j++ {
			e.buf.WriteByte('[')
			e.long(2)
			for k := 0; k < 2; k++ {
				e.buf.WriteByte('@')
				e.long(int64(j))
			}
		}
		return e.buf.Bytes()
	}
	if _, err := Unmarshal(bomb(40)); !errors.Is(err, ErrMarshal) || !strings.Contains(err.Error(), "expand") {
		t.Errorf("Unmarshal = %v", err)
	}
	// A few links are fine.
	v, err := Unmarshal(bomb(3))
	if err != nil || len(v.([]any)) != 4 {
		t.Errorf("a few links: %v", err)
	}
}

func TestHashGet(t *testing.T) {
	h := &Hash{Pairs: []Pair{{[]any{1}, "array"}, {Symbol("a"), 1}, {"a", 2}}}
	if v, ok := h.Get(Symbol("a")); !ok || v != 1 {
		t.Errorf("Get(:a) = %v", v)
	}
	if v, ok := h.Get("a"); !ok || v != 2 {
		t.Errorf(`Get("a") = %v`, v)
	}
	if _, ok := h.Get([]any{1}); ok {
		t.Error("an array key matched")
	}
}

func TestMarshalErrors(t *testing.T) {
	if _, err := Marshal(struct{}{}); err == nil {
		t.Error("an unknown type encoded")
	}
	var v any = nil
	for i := 0; i <= maxMarshalDepth; i++ {
		v = []any{v}
	}
	if _, err := Marshal(v); err == nil {
		t.Error("data nested too deep encoded")
	}
}

// TestMarshalRubyReadsAndRewrites has Ruby load what the encoder writes
// for the dependencies API, the full index and a quick spec's inner array,
// and dump it again: the same bytes mean the encoder writes exactly what
// Ruby would, links and all.
func TestMarshalRubyReadsAndRewrites(t *testing.T) {
	needRuby(t)
	spec := fixtureSpec(t, "coffer_tiny-0.1.0.gem")
	plat := fixtureSpec(t, "coffer_tiny-0.2.0.pre1-x86_64-linux.gem")
	deps, err := MarshalDependencies([]VersionDependencies{
		{Name: spec.Name, Number: spec.Version, Platform: spec.Platform, Dependencies: spec.Dependencies},
		{Name: plat.Name, Number: plat.Version, Platform: plat.Platform, Dependencies: plat.Dependencies},
	})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := MarshalSpecs([]GemFile{spec.File(), plat.File()})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"deps": deps, "specs": specs}
	for name, s := range map[string]*Spec{"spec": spec, "plat": plat} {
		inner, err := Marshal(specValue(s))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = inner
	}
	dir := t.TempDir()
	var args []string
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out := runRuby(t, `
require "rubygems"
ARGV.each do |f|
  d = File.binread(f)
  o = Marshal.load(d)
  puts "#{File.basename(f)} #{Marshal.dump(o) == d} #{o.inspect}"
end`, args...)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, rest, _ := strings.Cut(line, " ")
		same, inspect, _ := strings.Cut(rest, " ")
		if same != "true" {
			t.Errorf("%s: Ruby dumps it differently: %s", name, inspect)
		}
		switch name {
		case "deps":
			want := `[{:name=>"coffer_tiny", :number=>"0.1.0", :platform=>"ruby", :dependencies=>[["rack", ">= 2.0, < 4"]]}, ` +
				`{:name=>"coffer_tiny", :number=>"0.2.0.pre1", :platform=>"x86_64-linux", :dependencies=>[["ffi", "~> 1.15, >= 1.15.5"]]}]`
			if inspect != want {
				t.Errorf("deps: Ruby reads\n%s\nwant\n%s", inspect, want)
			}
		case "specs":
			want := `[["coffer_tiny", #<Gem::Version "0.1.0">, "ruby"], ["coffer_tiny", #<Gem::Version "0.2.0.pre1">, "x86_64-linux"]]`
			if inspect != want {
				t.Errorf("specs: Ruby reads\n%s\nwant\n%s", inspect, want)
			}
		}
	}
}
