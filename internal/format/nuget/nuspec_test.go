package nuget_test

import (
	"bytes"
	"strings"
	"testing"

	"coffer/internal/fault"
	"coffer/internal/format/nuget"
	"coffer/internal/format/nuget/nugettest"
)

func TestParseNuspec(t *testing.T) {
	raw := `<?xml version="1.0"?>
<package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">
  <metadata minClientVersion="2.12">
    <id>My.Pkg</id><version>01.2.0</version><authors>A, B</authors><description>d</description>
    <license type="expression">MIT OR Apache-2.0</license><requireLicenseAcceptance>true</requireLicenseAcceptance>
    <dependencies>
      <dependency id="Flat.Dep" version="1.0" />
      <group targetFramework="net8.0"><dependency id="Newtonsoft.Json" version="[13.0.1, )" /></group>
      <group targetFramework=".NETStandard2.0"></group>
    </dependencies>
  </metadata>
</package>`
	n, err := nuget.ParseNuspec([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "My.Pkg" || n.Version != "01.2.0" || n.License != "MIT OR Apache-2.0" || n.LicenseType != "expression" ||
		!n.RequireLicenseAcceptance || n.MinClientVersion != "2.12" {
		t.Errorf("%+v", n)
	}
	if len(n.Groups) != 3 || n.Groups[0].TargetFramework != "" || n.Groups[0].Dependencies[0].ID != "Flat.Dep" ||
		n.Groups[1].TargetFramework != "net8.0" || n.Groups[1].Dependencies[0].Range != "[13.0.1, )" || len(n.Groups[2].Dependencies) != 0 {
		t.Errorf("groups %+v", n.Groups)
	}
	for _, bad := range []string{"", "<package>", "<package><metadata><id>a b</id><version>1.0</version></metadata></package>",
		"<package><metadata><id>a</id><version>x</version></metadata></package>",
		`<package><metadata><id>a</id><version>1.0</version><dependencies><dependency id="" /></dependencies></metadata></package>`} {
		if _, err := nuget.ParseNuspec([]byte(bad)); fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestReadPackage(t *testing.T) {
	good := nugettest.Nupkg("My.Pkg", "1.0.0", map[string][]string{"net8.0": {"Dep:1.0"}})
	p, err := nuget.ReadPackage(bytes.NewReader(good), int64(len(good)))
	if err != nil || p.Nuspec.ID != "My.Pkg" || string(p.Readme) != "# My.Pkg\n" {
		t.Fatalf("%v %+v", err, p)
	}
	spec := nugettest.Nuspec("My.Pkg", "1.0.0", nil)
	for name, b := range map[string][]byte{
		"not a zip":      []byte("PK not really"),
		"no nuspec":      nugettest.Zip(nugettest.File{Name: "lib/a.dll", Body: "x"}),
		"two nuspecs":    nugettest.Zip(nugettest.File{Name: "My.Pkg.nuspec", Body: spec}, nugettest.File{Name: "Other.nuspec", Body: spec}),
		"nested nuspec":  nugettest.Zip(nugettest.File{Name: "sub/My.Pkg.nuspec", Body: spec}),
		"misnamed":       nugettest.Zip(nugettest.File{Name: "Other.nuspec", Body: strings.Replace(spec, "<readme>README.md</readme>", "", 1)}),
		"missing readme": nugettest.Zip(nugettest.File{Name: "My.Pkg.nuspec", Body: spec}),
		"bad xml":        nugettest.Zip(nugettest.File{Name: "My.Pkg.nuspec", Body: "<package><metadata>"}),
	} {
		if _, err := nuget.ReadPackage(bytes.NewReader(b), int64(len(b))); fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDecodeUpstream(t *testing.T) {
	flat, reg, err := nuget.DecodeServiceIndex(strings.NewReader(`{"resources":[
		{"@id":"https://x/flat","@type":"PackageBaseAddress/3.0.0"},
		{"@id":"https://x/reg3","@type":"RegistrationsBaseUrl"},
		{"@id":"https://x/reg5/","@type":["RegistrationsBaseUrl/3.6.0"]}]}`))
	if err != nil || flat != "https://x/flat/" || reg != "https://x/reg5/" {
		t.Errorf("%q %q %v", flat, reg, err)
	}
	if _, _, err := nuget.DecodeServiceIndex(strings.NewReader(`{"resources":[]}`)); err == nil {
		t.Error("a service index without a flat container is read")
	}
	keys, err := nuget.DecodeFlatIndex(strings.NewReader(`{"versions":["1.0.0","01.0","bad","2.0.0-BETA"]}`))
	if err != nil || strings.Join(keys, ",") != "1.0.0,1.0.0,2.0.0-beta" {
		t.Errorf("%v %v", keys, err)
	}
	leaves, pages, err := nuget.DecodeRegistration(strings.NewReader(`{"items":[
		{"@id":"https://x/p1","items":[{"catalogEntry":{"@id":"https://x/c/1","id":"A","version":"1.0.0","authors":["x","y"],"tags":"a, b",
			"listed":false,"dependencyGroups":[{"targetFramework":"net8.0","dependencies":[{"id":"D","range":"[1.0, )"}]}],
			"deprecation":{"reasons":["Legacy"]}}},
		{"catalogEntry":"https://x/c/2"},{"catalogEntry":{"id":"bad id","version":"1.0"}}]},
		{"@id":"https://x/p2","count":64}]}`))
	if err != nil || len(leaves) != 1 || len(pages) != 1 || pages[0] != "https://x/p2" {
		t.Fatalf("%+v %v %v", leaves, pages, err)
	}
	l := leaves[0]
	if l.Listed || l.Entry.Authors != "x, y" || strings.Join(l.Entry.Tags, "|") != "a|b" || l.Catalog != "https://x/c/1" ||
		l.Entry.DependencyGroups[0].Dependencies[0].ID != "D" || len(l.Entry.Deprecation) == 0 {
		t.Errorf("%+v %+v", l, l.Entry)
	}
	// A page document: its items are leaves.
	leaves, pages, err = nuget.DecodeRegistration(strings.NewReader(`{"@id":"https://x/p2","lower":"2.0.0","upper":"2.0.0",
		"items":[{"@id":"https://x/l","catalogEntry":{"id":"A","version":"2.0.0"}}]}`))
	if err != nil || len(leaves) != 1 || leaves[0].Key != "2.0.0" || len(pages) != 0 {
		t.Errorf("page document: %+v %v %v", leaves, pages, err)
	}
	h, err := nuget.DecodeCatalogHash(strings.NewReader(`{"packageHash":"` + strings.Repeat("A", 86) + `==","packageHashAlgorithm":"SHA512"}`))
	if err != nil || len(h) != 128 {
		t.Errorf("%q %v", h, err)
	}
}
