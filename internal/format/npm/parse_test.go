package npm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"coffer/internal/auth"
	"coffer/internal/format"
)

func TestParseName(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Name
		ok   bool
		new  bool
	}{
		{"react", Name{Base: "react"}, true, true},
		{"@types/node", Name{Scope: "types", Base: "node"}, true, true},
		{"JSONStream", Name{Base: "JSONStream"}, true, false},
		{"@fx/a.b-c_d", Name{Scope: "fx", Base: "a.b-c_d"}, true, true},
		{"fx~tilde", Name{Base: "fx~tilde"}, true, false},
		{"", Name{}, false, false},
		{".hidden", Name{}, false, false},
		{"_under", Name{}, false, false},
		{"@fx/_x", Name{}, false, false},
		{"@/x", Name{}, false, false},
		{"@fx", Name{}, false, false},
		{"@fx/", Name{}, false, false},
		{"a/b", Name{}, false, false},
		{"@a/b/c", Name{}, false, false},
		{"sp ace", Name{}, false, false},
		{"node_modules", Name{}, false, false},
		{"favicon.ico", Name{}, false, false},
		{"ünïcode", Name{}, false, false},
		{strings.Repeat("a", 214), Name{Base: strings.Repeat("a", 214)}, true, true},
		{strings.Repeat("a", 215), Name{}, false, false},
	} {
		got, ok := ParseName(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseName(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
		if ok && ValidNewName(got) != c.new {
			t.Errorf("ValidNewName(%q) = %v", c.in, !c.new)
		}
		if ok && got.String() != c.in {
			t.Errorf("%q.String() = %q", c.in, got.String())
		}
	}
	n := Name{Scope: "fx", Base: "util"}
	if n.Escaped() != "@fx%2futil" || n.TarballName("1.0.0") != "util-1.0.0.tgz" || n.Path() != "@fx/util" {
		t.Errorf("%s %s %s", n.Escaped(), n.TarballName("1.0.0"), n.Path())
	}
}

func TestPathSegments(t *testing.T) {
	for _, c := range []struct {
		escaped, decoded string
		want             []string
	}{
		{"@fx%2futil", "@fx/util", []string{"@fx/util"}},
		{"@fx%2Futil/-/util-1.0.0.tgz", "@fx/util/-/util-1.0.0.tgz", []string{"@fx/util", "-", "util-1.0.0.tgz"}},
		{"@fx/util", "@fx/util", []string{"@fx", "util"}},
		{"-/package/@fx%2futil/dist-tags/beta", "-/package/@fx/util/dist-tags/beta", []string{"-", "package", "@fx/util", "dist-tags", "beta"}},
		{"bad%zz", "bad%zz", []string{"bad%zz"}},
		{"other", "mismatch", []string{"mismatch"}},
	} {
		if got := format.SplitEscaped(c.escaped, c.decoded); !slices.Equal(got, c.want) {
			t.Errorf("SplitEscaped(%q) = %q, want %q", c.escaped, got, c.want)
		}
	}
	for _, c := range []struct {
		segs []string
		name string
		used int
	}{
		{[]string{"@fx/util", "1.0.0"}, "@fx/util", 1},
		{[]string{"@fx", "util", "1.0.0"}, "@fx/util", 2},
		{[]string{"react", "-", "react-1.0.0.tgz"}, "react", 1},
	} {
		n, used, ok := nameFromSegments(c.segs)
		if !ok || n.String() != c.name || used != c.used {
			t.Errorf("nameFromSegments(%q) = %v, %d, %v", c.segs, n, used, ok)
		}
	}
	if _, _, ok := nameFromSegments([]string{"@fx"}); ok {
		t.Error("a lone scope is a name")
	}
	if v, ok := tarballVersion(Name{Scope: "fx", Base: "util"}, "util-1.0.0-rc.1.tgz"); !ok || v != "1.0.0-rc.1" {
		t.Errorf("tarballVersion = %q, %v", v, ok)
	}
	for _, f := range []string{"util-.tgz", "other-1.0.0.tgz", "util-1.0.0.tar.gz", "util-1 0.tgz"} {
		if v, ok := tarballVersion(Name{Base: "util"}, f); ok {
			t.Errorf("tarballVersion(%q) = %q", f, v)
		}
	}
}

func TestSemver(t *testing.T) {
	valid := []string{"0.0.0", "1.2.3", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85"}
	for _, s := range valid {
		if _, ok := parseVersion(s); !ok {
			t.Errorf("%s is valid", s)
		}
	}
	for _, s := range []string{"", "1", "1.2", "v1.2.3", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+", "1.2.3-a..b", "1.2.3 ", "1.2.x"} {
		if _, ok := parseVersion(s); ok {
			t.Errorf("%q is invalid", s)
		}
	}
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"}
	shuffled := slices.Clone(order)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, compareVersions)
	if !slices.Equal(shuffled, order) {
		t.Errorf("sorted %v", shuffled)
	}
	for tag, ok := range map[string]bool{"latest": true, "next": true, "beta-2": true, "1.0": false, "v1": false, "x": false, "a/b": false, "": false, "^1": false, "with space": false} {
		if validTag(tag) != ok {
			t.Errorf("validTag(%q) = %v", tag, !ok)
		}
	}
}

func TestCanonicalFragments(t *testing.T) {
	raw := []byte(`{"version":"1.0.0", "name":"x","readme":"hi","dist":{"tarball":"http://x","shasum":"ab","integrity":"sha512-x"},
		"scripts":{"postinstall":"node x.js","test":"t"},"dependencies":{"a":"1"},"description":"} tricky \" {"}`)
	d, err := decodeVersionDoc(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.takeReadme() != "hi" {
		t.Error("readme")
	}
	full, err := d.encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"dependencies":{"a":"1"},"description":"} tricky \" {","name":"x","scripts":{"postinstall":"node x.js","test":"t"},"version":"1.0.0","dist":{"integrity":"sha512-x","shasum":"ab"}}`
	if string(full) != want {
		t.Fatalf("encode:\n%s\nwant\n%s", full, want)
	}
	if !canonicalFragment(string(full)) {
		t.Fatal("its own encoding is not canonical")
	}
	ab, err := abbreviate(string(full))
	if err != nil {
		t.Fatal(err)
	}
	if string(ab) != `{"dependencies":{"a":"1"},"hasInstallScript":true,"name":"x","version":"1.0.0","dist":{"integrity":"sha512-x","shasum":"ab"}}` {
		t.Fatalf("abbreviate: %s", ab)
	}
	out := appendFragment(nil, string(full), "http://h/x/-/x-1.0.0.tgz")
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil || back["dist"].(map[string]any)["tarball"] != "http://h/x/-/x-1.0.0.tgz" {
		t.Fatalf("appendFragment: %s %v", out, err)
	}
	if out := appendFragment(nil, `{"name":"x","dist":{}}`, "u"); string(out) != `{"name":"x","dist":{"tarball":"u"}}` {
		t.Fatalf("appendFragment with an empty dist: %s", out)
	}
	for _, s := range []string{
		`{"name":"x"}`, `{"dist":{}}`, `{"dist":{"a":1},"name":"x"}`, `{"a":{"dist":{"x":1}}}`, `{"name":"x", "dist":{"a":1}}`,
		`{"name":"x","dist":{"a":"1"}}}`, `{"name":"x\","dist":{"a":"1"}}`, `[{"dist":{"a":1}}]`, `{"name":"x","dist":{"a":1}} `,
	} {
		if canonicalFragment(s) {
			t.Errorf("%s is canonical", s)
		}
	}
	if !canonicalFragment(`{"dist":{"a":1}}`) || !canonicalFragment(`{"name":"x","dist":{"a":[1,{"b":"}"}]}}`) {
		t.Error("canonical fragments refused")
	}
}

func TestNegotiation(t *testing.T) {
	for accept, want := range map[string]bool{
		"application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*": true,
		"application/json": false, "": false, "*/*": false,
		"application/vnd.npm.install-v1+json":                         true,
		"application/json, application/vnd.npm.install-v1+json;q=0.5": false,
		"application/vnd.npm.install-v1+json;q=0, */*":                false,
	} {
		if got := wantsAbbreviated(accept); got != want {
			t.Errorf("wantsAbbreviated(%q) = %v", accept, got)
		}
	}
	for header, want := range map[string]string{
		"": "identity", "gzip,deflate": "gzip", "gzip, zstd": "zstd", "zstd;q=0.5, gzip": "gzip", "*": "zstd",
		"br": "identity", "gzip;q=0": "identity", "identity;q=1, gzip;q=0.5": "identity", "x-gzip": "gzip",
	} {
		if got := negotiateCoding(header); got != want {
			t.Errorf("negotiateCoding(%q) = %s, want %s", header, got, want)
		}
	}
	if !etagMatches(`W/"abc", "def"`, `"abc"`) || etagMatches(`"abc"`, `"abd"`) || !etagMatches("*", `"x"`) {
		t.Error("etagMatches")
	}
}

func TestBodyScanner(t *testing.T) {
	data := bytes.Repeat([]byte("tarball bytes "), 10000)
	b64 := base64.StdEncoding.EncodeToString(data)
	// JSON escapes in the data string are decoded (a "/" may be sent as "\/").
	escaped := strings.ReplaceAll(b64, "/", `\/`)
	body := `{"name":"x","versions":{"1.0.0":{"a":[1,"]}"]}},"_attachments":{"x-1.0.0.tgz":{"content_type":"application/octet-stream","data":"` +
		escaped + `","length":` + itoa(len(data)) + `}},"tail":null}  `
	s := newBodyScanner(strings.NewReader(body), 1<<20)
	found, err := s.next()
	if err != nil || !found {
		t.Fatalf("next: %v %v", found, err)
	}
	got, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, s.dataReader()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data: %d bytes, %v", len(got), err)
	}
	if found, err = s.next(); err != nil || found {
		t.Fatalf("end: %v %v", found, err)
	}
	if string(s.members["versions"]) != `{"1.0.0":{"a":[1,"]}"]}}` || string(s.members["tail"]) != "null" || len(s.atts) != 1 ||
		string(s.atts[0].members["length"]) != itoa(len(data)) {
		t.Fatalf("members %q, attachments %+v", s.members, s.atts[0])
	}
	for name, bad := range map[string]string{
		"not an object":     `[1]`,
		"duplicate":         `{"a":1,"a":2}`,
		"garbage":           `{"a":1}x`,
		"unterminated":      `{"a":"b`,
		"bad value":         `{"a":tru}`,
		"missing comma":     `{"a":1 "b":2}`,
		"bad attachments":   `{"_attachments":[]}`,
		"data not a string": `{"_attachments":{"f":{"data":1}}}`,
		"over budget":       `{"a":"` + strings.Repeat("x", 2000) + `"}`,
		"control character": "{\"a\":\"\x01\"}",
		"empty":             ``,
	} {
		s := newBodyScanner(strings.NewReader(bad), 1000)
		for {
			found, err := s.next()
			if found {
				io.Copy(io.Discard, s.dataReader())
				continue
			}
			if err == nil {
				t.Errorf("%s: accepted", name)
			}
			break
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// FuzzAbbreviate: the sliced abbreviation of any canonical fragment holds
// exactly the abbreviated fields of the decoded document.
func FuzzAbbreviate(f *testing.F) {
	f.Add(`{"name":"x","version":"1.0.0","scripts":{"install":"x"},"dist":{"shasum":"ab"},"zz":[1,"}",{"a":"]"}]}`)
	f.Add(`{"a\"b":1,"dependencies":{"q":"1"},"hasInstallScript":false,"dist":{"integrity":"s"}}`)
	f.Add(`{"bin":"x","os":["linux"],"dist":{}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := decodeVersionDoc([]byte(doc))
		if err != nil {
			return
		}
		full, err := d.encode()
		if err != nil {
			return
		}
		ab, err := abbreviate(string(full))
		if err != nil {
			t.Fatalf("abbreviate(%s): %v", full, err)
		}
		var got, src map[string]json.RawMessage
		if err := json.Unmarshal(ab, &got); err != nil {
			t.Fatalf("abbreviate(%s) = %s: %v", full, ab, err)
		}
		json.Unmarshal(full, &src)
		want := map[string]string{"dist": string(src["dist"])}
		for _, k := range abbreviatedFields {
			if v, ok := src[k]; ok {
				want[k] = string(v)
			}
		}
		var scripts map[string]any
		json.Unmarshal(src["scripts"], &scripts)
		if _, ok := want["hasInstallScript"]; !ok && (scripts["install"] != nil || scripts["preinstall"] != nil || scripts["postinstall"] != nil ||
			hasKey(scripts, "install", "preinstall", "postinstall")) {
			want["hasInstallScript"] = "true"
		}
		if len(got) != len(want) {
			t.Fatalf("abbreviate(%s) = %s", full, ab)
		}
		for k, v := range want {
			if string(got[k]) != v {
				t.Fatalf("abbreviate(%s) = %s: %s is %s, want %s", full, ab, k, got[k], v)
			}
		}
		if !strings.HasSuffix(string(ab), "}}") || !strings.Contains(string(ab), `"dist":{`) {
			t.Fatalf("abbreviate(%s) = %s: dist is not last", full, ab)
		}
	})
}

func hasKey(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func TestPrincipalName(t *testing.T) {
	for _, c := range []struct {
		p    *auth.Principal
		want string
	}{
		{nil, ""},
		{&auth.Principal{ARN: "arn:aws:iam::123456789012:user/dev/alice", Username: "alice"}, "alice"},
		{&auth.Principal{ARN: "arn:aws:iam::123456789012:root", Type: auth.TypeAccount}, "root"},
		{&auth.Principal{ARN: "arn:aws:sts::123456789012:assumed-role/ci/build-42"}, "ci/build-42"},
		{&auth.Principal{ARN: "arn:aws:iam::123456789012:user/bob"}, "bob"},
	} {
		if got := principalName(c.p); got != c.want {
			t.Errorf("principalName(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}
