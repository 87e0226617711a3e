package cargo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// entry is a file of a test archive.
type entry struct {
	name string
	body string
	typ  byte // tar.TypeReg when 0
	link string
}

// makeCrate builds a gzipped tar of entries.
func makeCrate(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ, Linkname: e.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const fooManifest = "[package]\nname = \"foo\"\nversion = \"0.1.0\"\n"

func manifestEntry(body string) entry { return entry{name: "foo-0.1.0/Cargo.toml", body: body} }

// The crate cargo package made for the demo (in the publish fixture).
func TestVerifyCrateFixture(t *testing.T) {
	_, crate := splitBody(fixtureBody(t))
	for _, readmeFile := range []string{"README.md", "", "./README.md", "../README.md"} {
		info, err := VerifyCrate(bytes.NewReader(crate), "Demo_Crate", "0.1.0", readmeFile, CrateLimits{})
		if err != nil {
			t.Fatalf("readme_file %q: %v", readmeFile, err)
		}
		// Cargo.lock, Cargo.toml, Cargo.toml.orig, README.md, build.rs, src/lib.rs
		if string(info.Readme) != demoReadme || info.ReadmePath != "README.md" || info.ReadmeTruncated || info.Files != 6 || info.Unpacked < 4096 {
			t.Errorf("readme_file %q: %+v", readmeFile, info)
		}
	}
	for _, nv := range [][2]string{{"demo_crate", "0.1.0"}, {"Demo_Crate", "0.1.1"}, {"Demo", "_Crate-0.1.0"}} {
		if _, err := VerifyCrate(bytes.NewReader(crate), nv[0], nv[1], "", CrateLimits{}); fault.KindOf(err) != fault.KindValidation {
			t.Errorf("published as %s %s: %v", nv[0], nv[1], err)
		}
	}
	// A bomb limit below the fixture's size.
	if _, err := VerifyCrate(bytes.NewReader(crate), "Demo_Crate", "0.1.0", "", CrateLimits{MaxUnpacked: 2048}); fault.KindOf(err) != fault.KindQuotaExceeded {
		t.Errorf("unpacked limit: %v", err)
	}
	// Every truncation is refused.
	for n := 0; n < len(crate); n += 7 {
		if _, err := VerifyCrate(bytes.NewReader(crate[:n]), "Demo_Crate", "0.1.0", "", CrateLimits{}); fault.KindOf(err) != fault.KindValidation {
			t.Fatalf("%d of %d bytes: %v", n, len(crate), err)
		}
	}
	// So is a damaged gzip trailer (the CRC of the data).
	bad := bytes.Clone(crate)
	bad[len(bad)-6] ^= 0xff
	if _, err := VerifyCrate(bytes.NewReader(bad), "Demo_Crate", "0.1.0", "", CrateLimits{}); fault.KindOf(err) != fault.KindValidation {
		t.Errorf("bad CRC: %v", err)
	}
}

func TestVerifyCrateAccepts(t *testing.T) {
	for name, tc := range map[string]struct {
		entries    []entry
		readmeFile string
		readme     string
	}{
		"minimal":        {[]entry{manifestEntry(fooManifest)}, "", ""},
		"directories":    {[]entry{{name: "foo-0.1.0/", typ: tar.TypeDir}, {name: "foo-0.1.0/src/", typ: tar.TypeDir}, manifestEntry(fooManifest), {name: "foo-0.1.0/src/lib.rs"}}, "", ""},
		"legacy project": {[]entry{manifestEntry("[project]\nname = \"foo\"\nversion = \"0.1.0\"\n")}, "", ""},
		"cargo.toml":     {[]entry{{name: "foo-0.1.0/cargo.toml", body: fooManifest}}, "", ""},
		"README.md default": {[]entry{manifestEntry(fooManifest), {name: "foo-0.1.0/README.md", body: "hi"}, {name: "foo-0.1.0/sub/README.md", body: "no"}},
			"", "hi"},
		"manifest readme": {[]entry{manifestEntry(fooManifest + "readme = \"docs/INTRO.md\"\n"), {name: "foo-0.1.0/README.md", body: "no"}, {name: "foo-0.1.0/docs/INTRO.md", body: "intro"}},
			"", "intro"},
		"manifest readme false": {[]entry{manifestEntry(fooManifest + "readme = false\n"), {name: "foo-0.1.0/README.md", body: "no"}},
			"", ""},
		"readme_file wins": {[]entry{manifestEntry(fooManifest + "readme = \"README.md\"\n"), {name: "foo-0.1.0/README.md", body: "no"}, {name: "foo-0.1.0/docs/x.md", body: "x"}},
			"docs/x.md", "x"},
		"readme_file outside": {[]entry{manifestEntry(fooManifest), {name: "foo-0.1.0/README.txt", body: "txt"}},
			"../../README.txt", "txt"},
		"readme_file windows": {[]entry{manifestEntry(fooManifest), {name: "foo-0.1.0/docs/r.md", body: "w"}},
			`docs\r.md`, "w"},
		"readme before manifest": {[]entry{{name: "foo-0.1.0/README.md", body: "first"}, manifestEntry(fooManifest)},
			"", "first"},
		"other keys": {[]entry{manifestEntry(fooManifest + "edition = \"2021\"\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n[workspace]\n")}, "", ""},
	} {
		info, err := VerifyCrate(bytes.NewReader(makeCrate(t, tc.entries...)), "foo", "0.1.0", tc.readmeFile, CrateLimits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(info.Readme) != tc.readme || (tc.readme == "") != (info.ReadmePath == "") {
			t.Errorf("%s: README %q at %q, want %q", name, info.Readme, info.ReadmePath, tc.readme)
		}
	}
}

func TestVerifyCrateRefuses(t *testing.T) {
	m := manifestEntry(fooManifest)
	for name, tc := range map[string]struct {
		entries []entry
		kind    fault.Kind
	}{
		"no manifest":            {[]entry{{name: "foo-0.1.0/src/lib.rs"}}, fault.KindValidation},
		"manifest in a subdir":   {[]entry{{name: "foo-0.1.0/sub/Cargo.toml", body: fooManifest}}, fault.KindValidation},
		"manifest cased":         {[]entry{{name: "foo-0.1.0/CARGO.TOML", body: fooManifest}}, fault.KindValidation},
		"two manifests":          {[]entry{m, {name: "foo-0.1.0/cargo.toml", body: fooManifest}}, fault.KindValidation},
		"same manifest twice":    {[]entry{m, m}, fault.KindValidation},
		"other name":             {[]entry{manifestEntry("[package]\nname = \"bar\"\nversion = \"0.1.0\"\n")}, fault.KindValidation},
		"other version":          {[]entry{manifestEntry("[package]\nname = \"foo\"\nversion = \"0.1.1\"\n")}, fault.KindValidation},
		"no version":             {[]entry{manifestEntry("[package]\nname = \"foo\"\n")}, fault.KindValidation},
		"workspace version":      {[]entry{manifestEntry("[package]\nname = \"foo\"\nversion.workspace = true\n")}, fault.KindValidation},
		"no package":             {[]entry{manifestEntry("[lib]\nname = \"foo\"\n")}, fault.KindValidation},
		"not TOML":               {[]entry{manifestEntry("[package\nname = ")}, fault.KindValidation},
		"duplicate key":          {[]entry{manifestEntry(fooManifest + "name = \"foo\"\n")}, fault.KindValidation},
		"other root":             {[]entry{m, {name: "bar-0.1.0/x"}}, fault.KindValidation},
		"root prefix only":       {[]entry{m, {name: "foo-0.1.0x/a"}}, fault.KindValidation},
		"absolute":               {[]entry{m, {name: "/foo-0.1.0/x"}}, fault.KindValidation},
		"dot dot":                {[]entry{m, {name: "foo-0.1.0/../x"}}, fault.KindValidation},
		"dot dot deep":           {[]entry{m, {name: "foo-0.1.0/a/../../x"}}, fault.KindValidation},
		"dot":                    {[]entry{m, {name: "foo-0.1.0/./x"}}, fault.KindValidation},
		"empty component":        {[]entry{m, {name: "foo-0.1.0//x"}}, fault.KindValidation},
		"backslash":              {[]entry{m, {name: `foo-0.1.0/..\..\x`}}, fault.KindValidation},
		"symlink":                {[]entry{m, {name: "foo-0.1.0/l", typ: tar.TypeSymlink, link: "/etc/passwd"}}, fault.KindValidation},
		"hard link":              {[]entry{m, {name: "foo-0.1.0/l", typ: tar.TypeLink, link: "foo-0.1.0/Cargo.toml"}}, fault.KindValidation},
		"fifo":                   {[]entry{m, {name: "foo-0.1.0/f", typ: tar.TypeFifo}}, fault.KindValidation},
		"char device":            {[]entry{m, {name: "foo-0.1.0/c", typ: tar.TypeChar}}, fault.KindValidation},
		"manifest after symlink": {[]entry{{name: "foo-0.1.0/Cargo.toml", typ: tar.TypeSymlink, link: "x"}}, fault.KindValidation},
	} {
		_, err := VerifyCrate(bytes.NewReader(makeCrate(t, tc.entries...)), "foo", "0.1.0", "", CrateLimits{})
		if err == nil || fault.KindOf(err) != tc.kind {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, data := range map[string][]byte{
		"empty":    nil,
		"not gzip": []byte("PK\x03\x04 a zip"),
		"gzip of not a tar": func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(bytes.Repeat([]byte("not a tar "), 100))
			zw.Close()
			return b.Bytes()
		}(),
	} {
		if _, err := VerifyCrate(bytes.NewReader(data), "foo", "0.1.0", "", CrateLimits{}); fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVerifyCrateLimits(t *testing.T) {
	m := manifestEntry(fooManifest)
	// A gzip bomb: 64 MiB of zeros packs into a few KiB.
	bomb := makeCrate(t, m, entry{name: "foo-0.1.0/zeros", body: string(make([]byte, 64<<20))})
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	if _, err := VerifyCrate(bytes.NewReader(bomb), "foo", "0.1.0", "", CrateLimits{MaxUnpacked: 1 << 20}); fault.KindOf(err) != fault.KindQuotaExceeded {
		t.Errorf("bomb: %v", err)
	}
	if _, err := VerifyCrate(bytes.NewReader(bomb), "foo", "0.1.0", "", CrateLimits{}); err != nil {
		t.Errorf("64 MiB under the default limit: %v", err)
	}
	many := []entry{m}
	for i := range 20 {
		many = append(many, entry{name: "foo-0.1.0/f" + strings.Repeat("x", i)})
	}
	if _, err := VerifyCrate(bytes.NewReader(makeCrate(t, many...)), "foo", "0.1.0", "", CrateLimits{MaxEntries: 20}); fault.KindOf(err) != fault.KindQuotaExceeded {
		t.Errorf("21 entries, limit 20: %v", err)
	}
	if _, err := VerifyCrate(bytes.NewReader(makeCrate(t, many...)), "foo", "0.1.0", "", CrateLimits{MaxEntries: 21}); err != nil {
		t.Errorf("21 entries, limit 21: %v", err)
	}
	big := manifestEntry(fooManifest + "# " + strings.Repeat("x", 5000) + "\n")
	if _, err := VerifyCrate(bytes.NewReader(makeCrate(t, big)), "foo", "0.1.0", "", CrateLimits{MaxManifest: 4096}); fault.KindOf(err) != fault.KindQuotaExceeded {
		t.Errorf("manifest over its limit: %v", err)
	}
	readme := strings.Repeat("r", 3000)
	info, err := VerifyCrate(bytes.NewReader(makeCrate(t, m, entry{name: "foo-0.1.0/README.md", body: readme})), "foo", "0.1.0", "", CrateLimits{MaxReadme: 1000})
	if err != nil || string(info.Readme) != readme[:1000] || !info.ReadmeTruncated {
		t.Errorf("README over its limit: %v %d %v", err, len(info.Readme), info.ReadmeTruncated)
	}
}

// An error of the source is returned as itself, not as a bad crate.
func TestVerifyCrateSourceError(t *testing.T) {
	crate := makeCrate(t, manifestEntry(fooManifest), entry{name: "foo-0.1.0/x", body: strings.Repeat("x", 10000)})
	for _, n := range []int{0, 5, 30, len(crate) - 3} {
		_, err := VerifyCrate(&failingReader{data: crate[:n]}, "foo", "0.1.0", "", CrateLimits{})
		if !errors.Is(err, errFailingReader) {
			t.Errorf("after %d bytes: %v", n, err)
		}
	}
}

// Deeply nested TOML (a manifest within the size limit) is refused
// quickly, without deep recursion.
func TestVerifyCrateDeepManifest(t *testing.T) {
	for _, doc := range []string{
		fooManifest + "x = " + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + "\n",
		fooManifest + "x = " + strings.Repeat("{a=", 1<<19) + "1" + strings.Repeat("}", 1<<19) + "\n",
	} {
		_, err := VerifyCrate(bytes.NewReader(makeCrate(t, manifestEntry(doc))), "foo", "0.1.0", "", CrateLimits{MaxManifest: 4 << 20})
		if fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%d-byte nested manifest: %v", len(doc), err)
		}
	}
}
