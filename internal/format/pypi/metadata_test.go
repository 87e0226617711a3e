package pypi

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/store"
)

func TestParseCoreMetadata(t *testing.T) {
	m, err := ParseCoreMetadata([]byte("Metadata-Version: 2.1\r\nName: Foo_Bar\nVersion: 1.0.0\nSummary: A  summary\n" +
		"Home-page: https://example.com\nProject-URL: Source Code, https://git.example.com/foo\nLicense: MIT\n" +
		"Classifier: License :: OSI Approved :: MIT License\nRequires-Python: >=3.8\n" +
		"Requires-Dist: requests (>=2.0)\nRequires-Dist: Fixture.Dep>=2 ; python_version >= \"3.8\"\n" +
		"Requires-Dist: pytest; extra == 'Test_Suite'\nDescription-Content-Type: text/markdown\n\n# Foo\n\nBody.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Foo_Bar" || m.Version != "1.0.0" || m.Summary != "A  summary" || m.RequiresPython != ">=3.8" || m.Description != "# Foo\n\nBody." {
		t.Fatalf("parsed %+v", m)
	}
	var v store.Version
	m.Apply(&v, false)
	if v.DisplayName != "Foo_Bar" || v.HomePage != "https://example.com" || v.SourceCodeRepository != "https://git.example.com/foo" ||
		v.Readme != "# Foo\n\nBody." || len(v.Licenses) != 1 || v.Licenses[0].Name != "MIT License" {
		t.Errorf("applied %+v", v)
	}
	want := []store.Dependency{
		{Package: "requests", DependencyType: "Requires-Dist", VersionRequirement: ">=2.0"},
		{Package: "fixture-dep", DependencyType: "Requires-Dist", VersionRequirement: `>=2; python_version >= "3.8"`},
		{Package: "pytest", DependencyType: "Requires-Dist", VersionRequirement: "; extra == 'Test_Suite'"},
	}
	if !slices.Equal(v.Dependencies, want) {
		t.Errorf("dependencies %+v, want %+v", v.Dependencies, want)
	}
	// keep: a second file fills only what is empty.
	v2 := store.Version{Summary: "first"}
	m.Apply(&v2, true)
	if v2.Summary != "first" || v2.HomePage == "" {
		t.Errorf("keep: %+v", v2)
	}
}

func TestParseCoreMetadataLegacyDescription(t *testing.T) {
	m, err := ParseCoreMetadata([]byte("Metadata-Version: 1.2\nName: x\nVersion: 1\nDescription: line one\n        |\n        |line three\nKeywords: a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Description != "line one\n\nline three" {
		t.Errorf("description %q", m.Description)
	}
	for _, bad := range []string{"Name: x\n", "Version: 1\n", " leading continuation\nName: x\nVersion: 1\n", "Name x\nVersion: 1\n", "Name: \xff\nVersion: 1\n"} {
		if _, err := ParseCoreMetadata([]byte(bad)); err == nil {
			t.Errorf("ParseCoreMetadata(%q) accepted", bad)
		}
	}
}

func TestDistributionMetadata(t *testing.T) {
	d := pypitest.Dist{Name: "Foo.Bar", Version: "1.0.0", Requires: []string{"dep"}}
	wn, wheel := d.Wheel()
	f, ok := ParseFileName(wn, "foo-bar")
	if !ok {
		t.Fatal(wn)
	}
	got, err := DistributionMetadata(bytes.NewReader(wheel), int64(len(wheel)), f)
	if err != nil || !bytes.Equal(got, d.Metadata()) {
		t.Fatalf("wheel METADATA %q %v", got, err)
	}
	sn, sdist := d.Sdist()
	f, ok = ParseFileName(sn, "foo-bar")
	if !ok {
		t.Fatal(sn)
	}
	got, err = DistributionMetadata(bytes.NewReader(sdist), int64(len(sdist)), f)
	if err != nil || !bytes.Equal(got, d.Metadata()) {
		t.Fatalf("sdist PKG-INFO %q %v", got, err)
	}
	if _, err := DistributionMetadata(strings.NewReader("not a zip"), 9, File{Name: "x-1-py3-none-any.whl", Kind: KindWheel, Project: "x", Version: "1"}); err == nil {
		t.Error("garbage accepted as a wheel")
	}
	if _, err := DistributionMetadata(strings.NewReader("not gzip"), 8, File{Name: "x-1.tar.gz", Kind: KindSdist, Project: "x", Version: "1"}); err == nil {
		t.Error("garbage accepted as an sdist")
	}
}
