package swift_test

import (
	"bytes"
	"strings"
	"testing"

	"coffer/internal/format/swift"
)

func TestVerifyArchive(t *testing.T) {
	b := packageArchive("LinkedList", "1.0.0")
	a, err := swift.VerifyArchive(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Root != "LinkedList" || len(a.Manifests) != 2 {
		t.Fatalf("root %q, %d manifests", a.Root, len(a.Manifests))
	}
	m, alt := a.Manifests[0], a.Manifests[1]
	if m.Filename != "Package.swift" || m.SwiftVersion != "" || m.ToolsVersion != "5.9" || !bytes.HasPrefix(m.Content, []byte("// swift-tools-version:5.9\n")) {
		t.Errorf("Package.swift: %+v", m)
	}
	if alt.Filename != "Package@swift-5.8.swift" || alt.SwiftVersion != "5.8" || alt.ToolsVersion != "5.8" {
		t.Errorf("alternate: %+v", alt)
	}
}

// TestVerifyArchiveRefuses: what SwiftPM could not unpack, or would find
// no manifest in, is refused with 422.
func TestVerifyArchiveRefuses(t *testing.T) {
	ok := manifest("5.9", "P")
	for name, b := range map[string][]byte{
		"not a zip":              []byte("PK\x03\x04 not really"),
		"empty":                  {},
		"no manifest":            zipOf(map[string]string{"P/": "", "P/Sources/A.swift": "x"}),
		"manifest at the top":    zipOf(map[string]string{"Package.swift": ok}),
		"manifest too deep":      zipOf(map[string]string{"P/sub/Package.swift": ok}),
		"two top-level dirs":     zipOf(map[string]string{"P/Package.swift": ok, "Q/README.md": "x"}),
		"file beside the root":   zipOf(map[string]string{"P/Package.swift": ok, "README.md": "x"}),
		"dot-dot path":           zipOf(map[string]string{"P/Package.swift": ok, "P/../evil": "x"}),
		"absolute path":          zipOf(map[string]string{"/P/Package.swift": ok}),
		"backslash path":         zipOf(map[string]string{"P/Package.swift": ok, "P\\x": "x"}),
		"no tools version":       zipOf(map[string]string{"P/Package.swift": "import PackageDescription\n"}),
		"bad tools version":      zipOf(map[string]string{"P/Package.swift": "// swift-tools-version:five\n"}),
		"alternate without line": zipOf(map[string]string{"P/Package.swift": ok, "P/Package@swift-5.swift": "let x = 1\n"}),
		"not UTF-8":              zipOf(map[string]string{"P/Package.swift": "// swift-tools-version:5.9\n\xff\xfe"}),
		"manifest too large":     zipOf(map[string]string{"P/Package.swift": "// swift-tools-version:5.9\n" + strings.Repeat("/", 1<<20)}),
		"manifests too large":    bigManifests(),
	} {
		_, err := swift.VerifyArchive(bytes.NewReader(b), int64(len(b)))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if swift.StatusOf(err) != 422 {
			t.Errorf("%s: %v, want a 422 refusal", name, err)
		}
	}
}

func TestToolsVersion(t *testing.T) {
	for in, want := range map[string]string{
		"// swift-tools-version:5.9\n":             "5.9",
		"// swift-tools-version: 5.9.1\n":          "5.9.1",
		"//swift-tools-version:6":                  "6",
		"// Swift-Tools-Version : 5.7; x\n":        "5.7",
		"\xef\xbb\xbf// swift-tools-version:5.8\n": "5.8",
		"// swift-tools-version:5.9.1.2\n":         "",
		"// swift-tools-version:\n":                "",
		"// swift-tools-version:5.x\n":             "",
		"import PackageDescription\n":              "",
		"\n// swift-tools-version:5.9\n":           "",
	} {
		got, ok := swift.ToolsVersion([]byte(in))
		if got != want || ok != (want != "") {
			t.Errorf("ToolsVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestSameSwiftVersion(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"5.9", "5.9.0", true}, {"5", "5.0.0", true}, {"5.9", "5.9", true}, {"5.9", "5.10", false}, {"5.9", "x", false}, {"05.9", "5.9", true}} {
		if got := swift.SameSwiftVersion(tc.a, tc.b); got != tc.want {
			t.Errorf("sameSwiftVersion(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// bigManifests is an archive whose manifests are each under the limit of
// one but together over what a release keeps of them.
func bigManifests() []byte {
	body := "// swift-tools-version:5.9\n" + strings.Repeat("/", 900<<10)
	files := map[string]string{"P/Package.swift": body}
	for _, v := range []string{"5", "5.1", "5.2", "5.3", "5.4"} {
		files["P/Package@swift-"+v+".swift"] = body
	}
	return zipOf(files)
}
