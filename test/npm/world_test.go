package npm_test

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"coffer/internal/format/npm/npmtest"
)

// The public packages of the fixture registry: fx-a depends on fx-b 2,
// the scoped @fx/util on fx-b 1 (so that npm nests one of them), fx-big is
// a 1 MiB tarball. fx-a 0.9.0 and fx-b 3.0.0-beta.1 (dist-tag next) are
// never installed.
var (
	fxB1    = npmtest.Package{Name: "fx-b", Version: "1.0.0"}
	fxB2    = npmtest.Package{Name: "fx-b", Version: "2.0.0", Files: map[string]string{"lib/two.js": "module.exports = 2;\n"}}
	fxBNext = npmtest.Package{Name: "fx-b", Version: "3.0.0-beta.1"}
	fxAOld  = npmtest.Package{Name: "fx-a", Version: "0.9.0", Dependencies: map[string]string{"fx-b": "^1.0.0"}}
	fxA     = npmtest.Package{Name: "fx-a", Version: "1.0.0", Dependencies: map[string]string{"fx-b": "^2.0.0"},
		Files: map[string]string{"README.md": "# fx-a\n\nPads on the left.\n"}}
	fxUtil = npmtest.Package{Name: "@fx/util", Version: "1.0.0", Dependencies: map[string]string{"fx-b": "^1.0.0"}}
	fxBig  = npmtest.Package{Name: "fx-big", Version: "1.0.0", Padding: 1 << 20}
)

// The packages the tests publish: @myscope/lib depends on fixture packages,
// my-app-lib on @myscope/lib.
var (
	libV1 = npmtest.Package{Name: "@myscope/lib", Version: "1.0.0", Description: "the scoped library",
		Dependencies: map[string]string{"fx-a": "^1.0.0", "@fx/util": "^1.0.0"}, Files: map[string]string{"data/message.txt": "lib 1.0.0 says hello\n"}}
	libV11 = npmtest.Package{Name: "@myscope/lib", Version: "1.1.0", Description: "the scoped library",
		Dependencies: map[string]string{"fx-a": "^1.0.0", "@fx/util": "^1.0.0"}, Files: map[string]string{"data/message.txt": "lib 1.1.0 says hello\n"}}
	appLib = npmtest.Package{Name: "my-app-lib", Version: "1.0.0", Description: "the unscoped library",
		Dependencies: map[string]string{"@myscope/lib": "^1.0.0"}, Files: map[string]string{"README.md": "# my-app-lib\n"}}
)

// consumer is the project the clients install: its dependencies resolve to
// wantTree, which wantDescribe prints.
var consumer = map[string]string{
	"package.json": `{
  "name": "consumer",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "my-app-lib": "^1.0.0",
    "fx-big": "^1.0.0"
  }
}
`,
	"check.js": "console.log(require('my-app-lib').describe());\nconsole.log(require('fx-big').describe());\n" +
		"console.log(require('fs').readFileSync(require.resolve('@myscope/lib/data/message.txt', {paths: [require.resolve('my-app-lib')]}), 'utf8').trim());\n",
}

const wantDescribe = "my-app-lib@1.0.0(@myscope/lib@1.1.0(@fx/util@1.0.0(fx-b@1.0.0()) fx-a@1.0.0(fx-b@2.0.0())))\nfx-big@1.0.0()\nlib 1.1.0 says hello\n"

// wantTree is every name@version an install of consumer has.
var wantTree = []npmtest.Package{appLib, libV11, fxA, fxUtil, fxB1, fxB2, fxBig}

// fixture is the npmtest registry on loopback with the public packages.
type fixture struct {
	reg *npmtest.Registry
	srv *httptest.Server
	// fetched are the fixture's versions in wantTree, which an install of
	// consumer downloads.
	fetched []*npmtest.Version
}

func newFixture(t *testing.T) *fixture {
	reg := npmtest.NewRegistry()
	f := &fixture{reg: reg}
	for _, p := range []npmtest.Package{fxB1, fxB2, fxBNext, fxAOld, fxA, fxUtil, fxBig} {
		v := reg.Add(p)
		if slices.ContainsFunc(wantTree, func(w npmtest.Package) bool { return w.Name == p.Name && w.Version == p.Version }) {
			f.fetched = append(f.fetched, v)
		}
	}
	reg.SetDistTag("fx-b", "next", fxBNext.Version)
	f.srv = httptest.NewServer(reg)
	t.Cleanup(f.srv.Close)
	return f
}

// checkTarballsFetchedOnce requires every fetched tarball to have been
// asked once, the others never, and no request to carry credentials.
func (f *fixture) checkTarballsFetchedOnce(t *testing.T, when string) {
	t.Helper()
	for _, v := range f.fetched {
		if n := f.reg.Count(npmtest.TarballPath(v.Package.Name, v.Package.Version)); n != 1 {
			t.Errorf("%s: the fixture served %s@%s's tarball %d times, want once", when, v.Package.Name, v.Package.Version, n)
		}
	}
	for _, p := range []npmtest.Package{fxBNext, fxAOld} {
		if n := f.reg.Count(npmtest.TarballPath(p.Name, p.Version)); n != 0 {
			t.Errorf("%s: the fixture served %s@%s's tarball %d times, want never", when, p.Name, p.Version, n)
		}
	}
	for _, r := range f.reg.Requests() {
		if r.Authorization != "" {
			t.Errorf("%s: coffer sent credentials upstream: %s %s", when, r.Method, r.Path)
			break
		}
	}
}

// wantPackage is what one name@version of wantTree must install: its
// files, and its integrity when it is known ("" for the published ones,
// which npm packs).
type wantPackage struct {
	files     map[string]string
	integrity string
}

// packages returns wantTree by name@version: the fixture's tarballs, and
// the sources of the published packages the fixture does not have.
func (f *fixture) packages(t *testing.T) map[string]wantPackage {
	out := map[string]wantPackage{}
	for _, p := range wantTree {
		if v := f.reg.Get(p.Name, p.Version); v != nil {
			out[p.Name+"@"+p.Version] = wantPackage{tarFiles(t, v.Tarball), v.Integrity}
		} else {
			out[p.Name+"@"+p.Version] = wantPackage{sourceFiles(p), ""}
		}
	}
	return out
}

// newConsumer writes the consumer project into a new directory.
func newConsumer(t *testing.T) string {
	dir := t.TempDir()
	writeFiles(t, dir, consumer)
	return dir
}

// checkRuns requires node to load the installed tree as wantDescribe says.
func checkRuns(t *testing.T, cl *clients, dir, client string) {
	t.Helper()
	out, err := cl.Run(dir, "node", "check.js")
	if err != nil || out != wantDescribe {
		t.Errorf("%s: node check.js: %v\n%s\nwant:\n%s", client, err, out, wantDescribe)
	}
}

// checkNPMInstall checks an npm install of consumer in dir: node runs it,
// package-lock.json has exactly wantTree, resolved under registry with
// the fixture's integrity, and each package's installed files are the
// tarball's.
func checkNPMInstall(t *testing.T, cl *clients, f *fixture, dir, registry string) {
	t.Helper()
	checkRuns(t, cl, dir, "npm")
	lock := readJSON(t, filepath.Join(dir, "package-lock.json"))
	want := f.packages(t)
	var got []string
	for path, e := range get(lock, "packages").(map[string]any) {
		if path == "" {
			continue
		}
		name := path[strings.LastIndex(path, "node_modules/")+len("node_modules/"):]
		version := str(e, "version")
		id := name + "@" + version
		got = append(got, id)
		w, ok := want[id]
		if !ok {
			t.Errorf("package-lock.json has %s (%s), which the install should not have", id, path)
			continue
		}
		resolved := str(e, "resolved")
		if !strings.HasPrefix(resolved, registry) || !strings.HasSuffix(resolved, "/-/"+npmtest.TarballName(name, version)) {
			t.Errorf("%s resolved to %q, not under %s", id, resolved, registry)
		}
		if integrity := str(e, "integrity"); (w.integrity != "" && integrity != w.integrity) || !strings.HasPrefix(integrity, "sha512-") {
			t.Errorf("%s integrity %q, want %q", id, integrity, w.integrity)
		}
		checkFiles(t, filepath.Join(dir, filepath.FromSlash(path)), w.files)
	}
	slices.Sort(got)
	wantIDs := slices.Sorted(maps.Keys(want))
	if !slices.Equal(got, wantIDs) {
		t.Errorf("package-lock.json has %v, want %v", got, wantIDs)
	}
}

// checkLockMentions requires a pnpm or yarn lockfile to name each
// fixture version's integrity, and tarball URLs under registry.
func checkLockMentions(t *testing.T, f *fixture, lockfile, registry string, wantURLs bool) {
	t.Helper()
	lock := readFile(t, lockfile)
	ok := true
	for _, v := range f.fetched {
		if !strings.Contains(lock, v.Integrity) {
			t.Errorf("%s does not have %s@%s's integrity %s", filepath.Base(lockfile), v.Package.Name, v.Package.Version, v.Integrity)
			ok = false
		}
		if wantURLs && !strings.Contains(lock, registry+v.Package.Name+"/-/"+npmtest.TarballName(v.Package.Name, v.Package.Version)) {
			t.Errorf("%s does not resolve %s@%s under %s", filepath.Base(lockfile), v.Package.Name, v.Package.Version, registry)
			ok = false
		}
	}
	if !ok {
		t.Logf("%s:\n%s", lockfile, tail(lock))
	}
}

// publish writes p's sources into a new directory and runs npm publish.
func publish(t *testing.T, cl *clients, p npmtest.Package) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, sourceFiles(p))
	out := cl.Must(dir, "npm", "publish", "--loglevel", "http")
	if !strings.Contains(out, "+ "+p.Name+"@"+p.Version) {
		t.Fatalf("npm publish %s@%s:\n%s", p.Name, p.Version, tail(out))
	}
	return dir
}

// viewJSON runs `npm view --json` and decodes its output.
func viewJSON(t *testing.T, cl *clients, args ...string) any {
	t.Helper()
	out := cl.Must("", "npm", append([]string{"view", "--json", "--prefer-online"}, args...)...)
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("npm view %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// strs turns npm view's string-or-list output into a sorted list.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	return nil
}

var tokenLine = regexp.MustCompile(`(?m)^//.*:_authToken=.*$`)

// redact hides tokens in an npmrc for failure messages.
func redact(s string) string {
	return tokenLine.ReplaceAllStringFunc(s, func(l string) string { return l[:strings.Index(l, ":_authToken=")] + ":_authToken=…" })
}

// blobFiles lists the files under a coffer data dir's blobs/.
func blobFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
