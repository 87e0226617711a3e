package lockfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"coffer/internal/fault"
)

// seedFiles are the fixtures of each kind, the seeds of its fuzz target.
var seedFiles = map[string][]string{
	KindPackageLock:  {"package-lock-v1.json", "package-lock-v2.json", "package-lock-v3.json", "package-lock-workspaces.json"},
	KindRequirements: {"requirements-mixed.txt", "requirements-pip-compile.txt"},
	KindCargoLock:    {"Cargo-v1.lock", "Cargo-v3.lock", "Cargo-v4.lock"},
	KindGemfileLock:  {"Gemfile.lock"},
	KindMaven:        {"mvn-dependency-list.log", "mvn-dependency-tree.log", "mvn-reactor-color.log", "maven-coordinates.txt"},
}

var seedInputs = map[string][]string{
	KindPackageLock: {
		`{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:@s/b@1.0.0","dependencies":{"c":{"version":"file:c"}}}}}`,
		`{"lockfileVersion":3,"packages":{"node_modules/a":{"name":"@s/x","version":"1.0.0","integrity":"sha512-A sha1-B"}}}`,
	},
	KindRequirements: {
		"a[x]==1.0 ; python_version < '3' --hash=sha256:aa \\\n --hash sha256:bb\n-e .\n# c \\\nb (==2)\n",
	},
	KindCargoLock: {
		"version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"sparse+https://index.crates.io/\"\nchecksum = \"00\"\n",
		"[metadata]\n\"checksum a 1.0.0 (registry+x)\" = \"aa\"\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\n",
	},
	KindGemfileLock: {
		"GEM\n  remote: r\n  specs:\n    a (1.0-java)\n      b\nGIT\n  remote: g\n  specs:\n    c (2)\nCHECKSUMS\n  a (1.0-java) sha256=aa\n",
	},
	KindMaven: {
		"[INFO] +- g:a:jar:c:1.0:test\n\x1b[1mg:b:1.0\n[INFO]    g:c:jar:1.0:compile:/x -- module c\n",
	},
}

func fuzzKind(f *testing.F, kind string) {
	for _, name := range seedFiles[kind] {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range seedInputs[kind] {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		deps, unpinned, err := ParseAll(kind, bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, fault.ErrValidation) {
				t.Fatalf("error of kind %v: %v", fault.KindOf(err), err)
			}
			if deps != nil || unpinned != nil {
				t.Fatal("results beside an error")
			}
			return
		}
		if len(deps)+len(unpinned) > MaxDependencies {
			t.Fatalf("%d entries", len(deps)+len(unpinned))
		}
		seen := map[depKey]bool{}
		for _, d := range deps {
			if d.Format != Format(kind) || d.Name == "" || d.Version == "" || d.Source == "" || len(d.Source) > maxMessage+len("…") {
				t.Fatalf("incomplete dependency %+v", d)
			}
			k := depKey{d.Namespace, d.Name, d.Version}
			if seen[k] {
				t.Fatalf("%+v twice", k)
			}
			seen[k] = true
			for i, h := range d.Hashes {
				if h == "" || contains(d.Hashes[:i], h) {
					t.Fatalf("hashes %q", d.Hashes)
				}
			}
		}
		for _, u := range unpinned {
			if len(u) > 2*(maxMessage+len("…"))+len(": ") {
				t.Fatalf("unpinned entry of %d bytes", len(u))
			}
		}
		// The result does not depend on map order.
		again, unpinnedAgain, err := ParseAll(kind, bytes.NewReader(data))
		if err != nil || !reflect.DeepEqual(again, deps) || !reflect.DeepEqual(unpinnedAgain, unpinned) {
			t.Fatalf("a second parse differs: %v", err)
		}
	})
}

func FuzzPackageLock(f *testing.F)  { fuzzKind(f, KindPackageLock) }
func FuzzRequirements(f *testing.F) { fuzzKind(f, KindRequirements) }
func FuzzCargoLock(f *testing.F)    { fuzzKind(f, KindCargoLock) }
func FuzzGemfileLock(f *testing.F)  { fuzzKind(f, KindGemfileLock) }
func FuzzMaven(f *testing.F)        { fuzzKind(f, KindMaven) }
