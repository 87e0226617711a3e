package nuget_test

import (
	"bytes"
	"strings"
	"testing"

	"coffer/internal/format/nuget"
	"coffer/internal/format/nuget/nugettest"
)

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.0.0", "01.2.3.0", "1.0.0-beta.1+meta", "1", "1.2.3.4.5", "1.0-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := nuget.ParseVersion(s)
		if !ok {
			return
		}
		n := v.Normalized()
		w, ok := nuget.ParseVersion(n)
		if !ok || w.Normalized() != n || nuget.Compare(v, w) != 0 {
			t.Fatalf("%q → %q does not read back", s, n)
		}
	})
}

func FuzzParseNuspec(f *testing.F) {
	f.Add([]byte(nugettest.Nuspec("A.B", "1.0.0", map[string][]string{"net8.0": {"C:1.0"}})))
	f.Add([]byte("<package><metadata><id>a</id><version>1</version></metadata></package>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := nuget.ParseNuspec(b)
		if err == nil && (!nuget.ValidID(n.ID) || nuget.NormalizeVersion(n.Version) == "") {
			t.Fatalf("accepted %+v", n)
		}
	})
}

func FuzzReadPackage(f *testing.F) {
	f.Add(nugettest.Nupkg("A.B", "1.0.0", nil))
	f.Add(nugettest.Zip(nugettest.File{Name: "x.nuspec", Body: "<package/>"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := nuget.ReadPackage(bytes.NewReader(b), int64(len(b)))
		if err == nil && !nuget.ValidID(p.Nuspec.ID) {
			t.Fatalf("accepted %+v", p.Nuspec)
		}
	})
}

func FuzzDecodeUpstream(f *testing.F) {
	f.Add(`{"items":[{"items":[{"catalogEntry":{"id":"A","version":"1.0.0","authors":"x"}}]}]}`)
	f.Add(`{"versions":["1.0.0"]}`)
	f.Add(`{"resources":[{"@id":"x","@type":"PackageBaseAddress/3.0.0"}]}`)
	f.Add(`{"packageHash":"AAAA","packageHashAlgorithm":"SHA512"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if leaves, _, err := nuget.DecodeRegistration(strings.NewReader(s)); err == nil {
			for _, l := range leaves {
				if !nuget.ValidID(l.Entry.ID) || nuget.NormalizeVersion(l.Key) != l.Key {
					t.Fatalf("leaf %+v", l)
				}
			}
		}
		if keys, err := nuget.DecodeFlatIndex(strings.NewReader(s)); err == nil {
			for _, k := range keys {
				if nuget.NormalizeVersion(k) != k {
					t.Fatalf("key %q", k)
				}
			}
		}
		nuget.DecodeServiceIndex(strings.NewReader(s))
		nuget.DecodeCatalogHash(strings.NewReader(s))
	})
}
