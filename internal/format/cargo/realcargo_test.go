package cargo

// The codec against the real cargo: a registry made of nothing but this
// package's functions (config.json, index files, downloads, publish)
// serves cargo publish, cargo generate-lockfile, cargo fetch and cargo
// check. With COFFER_UPDATE_CARGO_FIXTURES=1 the test also rewrites
// testdata/publish-demo.bin, the publish body cargo sent for the demo
// crate, which the other tests read.

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "tok-cargo-test"

// testRegistry is a sparse registry built from the codec, as a handler
// would use it.
type testRegistry struct {
	t      *testing.T
	base   string // the endpoint, ending in "/"
	mu     sync.Mutex
	crates map[string]*testCrate // by Canonical name
	// capture, when set, receives the raw body of the next publish.
	capture func(name string, body []byte)
	log     []string
}

type testCrate struct {
	name     string // as first published
	entries  []IndexEntry
	contents map[string][]byte // by version
}

func (g *testRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, "/")
	rel = rel[strings.IndexByte(rel, '/')+1:] // drop the registry's own segment
	g.mu.Lock()
	g.log = append(g.log, r.Method+" "+r.URL.Path)
	g.mu.Unlock()
	if r.Header.Get("Authorization") != testToken {
		w.Header().Set("WWW-Authenticate", `Cargo login_url="https://example.invalid/"`)
		WriteError(w, http.StatusUnauthorized, "a token is required")
		return
	}
	switch {
	case r.Method == http.MethodGet && rel == "config.json":
		w.Header().Set("Content-Type", "application/json")
		w.Write(Config(g.base))
	case r.Method == http.MethodPut && rel == "api/v1/crates/new":
		g.publish(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(rel, "api/v1/crates/"):
		name, vers, ok := ParseDownloadPath(rel)
		g.mu.Lock()
		c := g.crates[Canonical(name)]
		var body []byte
		if ok && c != nil && c.name == name {
			body = c.contents[vers]
		}
		g.mu.Unlock()
		if body == nil {
			WriteError(w, http.StatusNotFound, "no such crate version")
			return
		}
		w.Header().Set("Content-Type", "application/x-tar")
		w.Write(body)
	case r.Method == http.MethodGet:
		name, ok := ParseIndexPath(rel)
		g.mu.Lock()
		defer g.mu.Unlock()
		c := g.crates[Canonical(name)]
		if !ok || c == nil || strings.ToLower(c.name) != name {
			WriteError(w, http.StatusNotFound, "not found")
			return
		}
		var b []byte
		for i := range c.entries {
			b = c.entries[i].AppendJSON(b)
			b = append(b, '\n')
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(b)
	default:
		WriteError(w, http.StatusNotFound, "not found")
	}
}

func (g *testRegistry) publish(w http.ResponseWriter, r *http.Request) {
	var raw bytes.Buffer
	body := io.Reader(r.Body)
	if g.capture != nil {
		body = io.TeeReader(r.Body, &raw)
	}
	spool, err := os.CreateTemp(g.t.TempDir(), "crate")
	if err != nil {
		WriteError(w, 500, err.Error())
		return
	}
	defer spool.Close()
	up, err := ReadPublish(body, 1<<20, 10<<20, spool)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	m := &up.Metadata
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		WriteError(w, 500, err.Error())
		return
	}
	info, err := VerifyCrate(spool, m.Name, m.Vers, m.ReadmeFile, CrateLimits{})
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if m.Readme != "" && string(info.Readme) != m.Readme {
		WriteError(w, http.StatusBadRequest, "the README in the crate is not the one in the metadata")
		return
	}
	content, _ := os.ReadFile(spool.Name())
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.crates[Canonical(m.Name)]
	if c == nil {
		c = &testCrate{name: m.Name, contents: map[string][]byte{}}
		g.crates[Canonical(m.Name)] = c
	}
	if c.name != m.Name {
		WriteError(w, http.StatusBadRequest, "crate was previously named `"+c.name+"`")
		return
	}
	for _, e := range c.entries {
		if VersionKey(e.Vers) == VersionKey(m.Vers) {
			WriteError(w, http.StatusConflict, "crate version `"+m.Vers+"` is already uploaded")
			return
		}
	}
	e := NewIndexEntry(m, up.Cksum, "sparse+"+g.base)
	e.Pubtime = time.Now().Truncate(time.Second)
	c.entries = append(c.entries, e)
	c.contents[m.Vers] = content
	if g.capture != nil {
		g.capture(m.Name, raw.Bytes())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(PublishResponse())
}

func (g *testRegistry) yank(name, vers string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.crates[Canonical(name)].entries {
		if e := &g.crates[Canonical(name)].entries[i]; e.Vers == vers {
			e.Yanked = true
		}
	}
}

// cargoEnv runs cargo with an isolated CARGO_HOME.
type cargoEnv struct {
	t    *testing.T
	home string
	env  []string
}

func (c *cargoEnv) run(dir string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command("cargo", args...)
	cmd.Dir = dir
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("cargo %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// newPackage writes a package: Cargo.toml and the other files given.
func newPackage(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// demoManifest is the crate of the fixture: a dependency renamed, one
// optional with features off, one target-specific, one from another
// registry, build and dev dependencies, namespaced and weak features,
// links, rust-version, a README.
const demoManifest = `[package]
name = "Demo_Crate"
version = "0.1.0"
edition = "2021"
description = "demo crate"
license = "MIT"
readme = "README.md"
keywords = ["demo"]
rust-version = "1.70"
links = "demo"
build = "build.rs"
publish = ["x"]

[dependencies]
dep-a = { version = "0.1", registry = "x", optional = true, default-features = false, features = ["extra"] }
renamed = { package = "dep-b", version = "0.1.0", registry = "x" }
oth = { version = "1.2", registry = "y" }

[target.'cfg(unix)'.dependencies]
oth = { version = "=1.2.0", registry = "y" }

[build-dependencies]
oth = { version = "1", registry = "y" }

[dev-dependencies]
dep-a = { version = "0.1", registry = "x" }

[features]
default = ["std"]
std = []
a = ["dep:dep-a", "renamed/extra"]
b = ["dep-a?/extra", "std"]
`

const demoReadme = "# Demo_Crate\n\nA crate for the registry codec's tests.\n"

func TestRealCargo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cargo")
	}
	if _, err := exec.LookPath("cargo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cargo is not installed; scripts/test.sh installs it")
		}
		t.Skip("cargo is not installed")
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	x := &testRegistry{t: t, base: srv.URL + "/x/", crates: map[string]*testCrate{}}
	y := &testRegistry{t: t, base: srv.URL + "/y/", crates: map[string]*testCrate{}}
	mux.Handle("/x/", x)
	mux.Handle("/y/", y)
	var demoBody []byte
	x.capture = func(name string, body []byte) {
		if name == "Demo_Crate" {
			demoBody = bytes.Clone(body)
		}
	}

	root := t.TempDir()
	home := filepath.Join(root, "cargo-home")
	newPackage(t, home, map[string]string{"config.toml": `[registries.x]
index = "sparse+` + x.base + `"
[registries.y]
index = "sparse+` + y.base + `"
[registry]
global-credential-providers = ["cargo:token"]
[net]
retry = 0
`})
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CARGO_") && !strings.HasPrefix(kv, "RUSTC_WRAPPER") {
			env = append(env, kv)
		}
	}
	if os.Getenv("RUSTUP_HOME") == "" {
		if h, err := os.UserHomeDir(); err == nil {
			env = append(env, "RUSTUP_HOME="+filepath.Join(h, ".rustup"))
		}
	}
	env = append(env, "CARGO_HOME="+home, "CARGO_TARGET_DIR="+filepath.Join(root, "target"),
		"CARGO_TERM_COLOR=never", "CARGO_REGISTRIES_X_TOKEN="+testToken, "CARGO_REGISTRIES_Y_TOKEN="+testToken)
	c := &cargoEnv{t: t, home: home, env: env}
	publish := []string{"publish", "--no-verify", "--allow-dirty"}

	newPackage(t, filepath.Join(root, "dep-a"), map[string]string{
		"Cargo.toml": "[package]\nname = \"dep-a\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"d\"\nlicense = \"MIT\"\n\n[features]\nextra = []\n",
		"src/lib.rs": "pub fn a() -> u32 { 1 }\n",
	})
	c.run(filepath.Join(root, "dep-a"), append(publish, "--registry", "x")...)
	newPackage(t, filepath.Join(root, "dep-b"), map[string]string{
		"Cargo.toml": "[package]\nname = \"dep-b\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"d\"\nlicense = \"MIT\"\n\n[features]\nextra = []\n",
		"src/lib.rs": "pub fn b() -> u32 { 3 }\n",
	})
	c.run(filepath.Join(root, "dep-b"), append(publish, "--registry", "x")...)
	newPackage(t, filepath.Join(root, "oth"), map[string]string{
		"Cargo.toml": "[package]\nname = \"oth\"\nversion = \"1.2.0\"\nedition = \"2021\"\ndescription = \"o\"\nlicense = \"MIT\"\n",
		"src/lib.rs": "pub fn o() -> u32 { 2 }\n",
	})
	c.run(filepath.Join(root, "oth"), append(publish, "--registry", "y")...)
	newPackage(t, filepath.Join(root, "demo"), map[string]string{
		"Cargo.toml": demoManifest,
		"README.md":  demoReadme,
		"build.rs":   "fn main() {}\n",
		"src/lib.rs": "pub fn demo() -> u32 { renamed::b() + oth::o() }\n",
	})
	out := c.run(filepath.Join(root, "demo"), append(publish, "--registry", "x")...)
	if !strings.Contains(out, "Published Demo_Crate v0.1.0") {
		t.Errorf("cargo publish did not see the version in the index:\n%s", out)
	}

	// A newer dep-a, then yanked: the consumer must resolve to 0.1.0.
	newPackage(t, filepath.Join(root, "dep-a"), map[string]string{
		"Cargo.toml": "[package]\nname = \"dep-a\"\nversion = \"0.1.1\"\nedition = \"2021\"\ndescription = \"d\"\nlicense = \"MIT\"\n\n[features]\nextra = []\n",
	})
	c.run(filepath.Join(root, "dep-a"), append(publish, "--registry", "x")...)
	x.yank("dep-a", "0.1.1")

	newPackage(t, filepath.Join(root, "app"), map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n" +
			"Demo_Crate = { version = \"0.1\", registry = \"x\", features = [\"a\", \"b\"] }\n",
		"src/main.rs": "fn main() { println!(\"{}\", Demo_Crate::demo()); }\n",
	})
	c.run(filepath.Join(root, "app"), "generate-lockfile")
	lock, err := os.ReadFile(filepath.Join(root, "app", "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name = \"dep-a\"\nversion = \"0.1.0\"", "name = \"dep-b\"\nversion = \"0.1.0\"", "name = \"oth\"\nversion = \"1.2.0\"", "name = \"Demo_Crate\"\nversion = \"0.1.0\""} {
		if !strings.Contains(string(lock), want) {
			t.Errorf("Cargo.lock lacks %q:\n%s", want, lock)
		}
	}
	if strings.Contains(string(lock), "0.1.1") {
		t.Errorf("the yanked dep-a 0.1.1 was chosen:\n%s", lock)
	}
	c.run(filepath.Join(root, "app"), "fetch") // downloads and verifies every cksum
	c.run(filepath.Join(root, "app"), "check", "--offline")

	x.mu.Lock()
	log := strings.Join(x.log, "\n")
	x.mu.Unlock()
	for _, want := range []string{"GET /x/config.json", "GET /x/de/mo/demo_crate", "GET /x/de/p-/dep-a",
		"PUT /x/api/v1/crates/new", "GET /x/api/v1/crates/Demo_Crate/0.1.0/download"} {
		if !strings.Contains(log, want+"\n") {
			t.Errorf("cargo never asked for %s:\n%s", want, log)
		}
	}
	if !strings.Contains(strings.Join(y.log, "\n"), "GET /y/3/o/oth") {
		t.Errorf("cargo never read oth's index file: %v", y.log)
	}

	if demoBody == nil {
		t.Fatal("no publish body captured")
	}
	if os.Getenv("COFFER_UPDATE_CARGO_FIXTURES") != "" {
		if err := os.WriteFile(filepath.Join("testdata", "publish-demo.bin"), demoBody, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// What cargo sent parses as the fixture does.
	up, err := ReadPublish(bytes.NewReader(demoBody), 1<<20, 1<<20, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checkDemoMetadata(t, &up.Metadata, "sparse+"+y.base)
}
