package cargo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/format/cargo"
	"coffer/internal/testproc"
)

// fixtureRegistry is the fixture "crates.io": a sparse index with
// config.json (dl a template, as index.crates.io's) and the .crate files.
type fixtureRegistry struct {
	crates   map[string][]byte // by "name/version"
	index    map[string][]byte // by index path
	requests atomic.Int64
}

func newFixtureRegistry() *fixtureRegistry {
	return &fixtureRegistry{crates: map[string][]byte{}, index: map[string][]byte{}}
}

// add makes a crate of files (paths under the crate's root) and lists it
// in the index.
func (f *fixtureRegistry) add(name, version string, files map[string]string) {
	b := crateFile(name, version, files)
	f.crates[name+"/"+version] = b
	s := sha256.Sum256(b)
	e := cargo.IndexEntry{Name: name, Vers: version, Cksum: hex.EncodeToString(s[:]), Features: map[string][]string{}}
	p := cargo.IndexPath(name)
	f.index[p] = append(append(f.index[p], e.AppendJSON(nil)...), '\n')
}

func (f *fixtureRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	p := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case p == "config.json":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"dl":"http://%s/crates/{crate}/{crate}-{version}.crate","api":"http://%s"}`, r.Host, r.Host)
	case strings.HasPrefix(p, "crates/"):
		parts := strings.Split(p, "/") // crates/<name>/<name>-<version>.crate
		if len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		version := strings.TrimSuffix(strings.TrimPrefix(parts[2], parts[1]+"-"), ".crate")
		b, ok := f.crates[parts[1]+"/"+version]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	default:
		b, ok := f.index[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}
}

// crateFile is a .crate: a gzip tar of <name>-<version>/<path> files.
func crateFile(name, version string, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for path, body := range files {
		tw.WriteHeader(&tar.Header{Name: name + "-" + version + "/" + path, Mode: 0o644, Size: int64(len(body)),
			ModTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Typeflag: tar.TypeReg})
		io.WriteString(tw, body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// clients runs the aws CLI and cargo with an isolated HOME and the root
// credentials of the coffer data dir; cargo's own home is given per run.
type clients struct {
	testproc.Runner
	home string
}

func newClients(t *testing.T, dataDir string) *clients {
	testproc.Need(t, "aws")
	needCargo(t)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rustup := os.Getenv("RUSTUP_HOME")
	if rustup == "" {
		if h, err := os.UserHomeDir(); err == nil {
			rustup = filepath.Join(h, ".rustup")
		}
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "CARGO_"), k == "HOME", k == "RUSTUP_HOME", k == "RUSTC_WRAPPER":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "RUSTUP_HOME="+rustup, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"CARGO_TERM_COLOR=never", "CARGO_NET_RETRY=0", "CARGO_HTTP_TIMEOUT=30", "CARGO_INCREMENTAL=0")
	return &clients{Runner: testproc.Runner{T: t, Env: env}, home: home}
}

// cargoHome is a clean CARGO_HOME whose config.toml names the registry
// "coffer" with the token from CARGO_REGISTRIES_COFFER_TOKEN; it returns
// the environment to run cargo with. extra is appended to config.toml.
func (c *clients) cargoHome(endpoint, token, extra string) *testproc.Runner {
	c.T.Helper()
	home := c.T.TempDir()
	conf := "[registries.coffer]\nindex = \"sparse+" + endpoint + "\"\ncredential-provider = \"cargo:token\"\n\n" +
		"[registry]\ndefault = \"coffer\"\n" + extra
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(conf), 0o644); err != nil {
		c.T.Fatal(err)
	}
	env := append(append([]string(nil), c.Env...), "CARGO_HOME="+home, "CARGO_REGISTRIES_COFFER_TOKEN="+token,
		"CARGO_TARGET_DIR="+filepath.Join(c.T.TempDir(), "target"))
	return &testproc.Runner{T: c.T, Env: env}
}

// project writes a cargo project.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// origin returns "publish/upstream" of a package in a list-packages result.
func origin(pkgs []any, name string) string {
	for _, p := range pkgs {
		if str(p, "package") == name {
			return str(p, "originConfiguration", "restrictions", "publish") + "/" + str(p, "originConfiguration", "restrictions", "upstream")
		}
	}
	return "absent"
}

// putPublish sends cargo's publish request for a minimal crate.
func putPublish(t *testing.T, endpoint, token, name, version string) (int, string) {
	t.Helper()
	crate := crateFile(name, version, map[string]string{
		"Cargo.toml": fmt.Sprintf("[package]\nname = %q\nversion = %q\nedition = \"2021\"\n", name, version),
		"src/lib.rs": "",
	})
	meta := fmt.Sprintf(`{"name":%q,"vers":%q,"deps":[],"features":{}}`, name, version)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(len(meta)))
	b.WriteString(meta)
	binary.Write(&b, binary.LittleEndian, uint32(len(crate)))
	b.Write(crate)
	req, _ := http.NewRequest("PUT", endpoint+"api/v1/crates/new", &b)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// httpGet reads a URL with cargo's bare token.
func httpGet(t *testing.T, u, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestCargo(t *testing.T) {
	fx := newFixtureRegistry()
	fx.add("upcrate", "1.0.0", map[string]string{
		"Cargo.toml": "[package]\nname = \"upcrate\"\nversion = \"1.0.0\"\nedition = \"2021\"\ndescription = \"only upstream\"\nlicense = \"MIT\"\n",
		"src/lib.rs": "pub fn up() -> u32 { 7 }\n",
	})
	upstreamSrv := httptest.NewServer(fx)
	defer upstreamSrv.Close()

	dataDir := t.TempDir()
	c := startCoffer(t, dataDir, "--external-connection", "public:crates-io="+upstreamSrv.URL+"/")
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "store", "--external-connection", "public:crates-io")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "app", "--upstreams", "repositoryName=store")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "app", "--format", "cargo"), "repositoryEndpoint")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(c.URL) + `/cargo/d/demo-[0-9]{12}/app/$`).MatchString(endpoint) {
		t.Fatalf("endpoint %q", endpoint)
	}
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "demo"), "authorizationToken")
	if token == "" {
		t.Fatal("no authorization token")
	}

	// cargo publishes alpha, then beta-lib, which depends on alpha and on
	// upcrate (only upstream); cargo verifies beta-lib by building it,
	// reading both through coffer. The token goes bare, as cargo sends it.
	pub := cl.cargoHome(endpoint, token, "")
	alpha := project(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"alpha\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"the first crate\"\n" +
			"license = \"MIT OR Apache-2.0\"\nrepository = \"https://example.com/alpha\"\nreadme = \"README.md\"\n",
		"README.md":  "# alpha\n\nThe first crate.\n",
		"src/lib.rs": "pub fn alpha() -> u32 { 1 }\n",
	})
	out := pub.Must(alpha, "cargo", "publish", "--registry", "coffer", "--allow-dirty")
	if !strings.Contains(out, "Published alpha v0.1.0") && !strings.Contains(out, "Uploaded alpha v0.1.0") {
		t.Fatalf("cargo publish alpha:\n%s", tail(out))
	}
	beta := project(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"beta-lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"the second crate\"\nlicense = \"MIT\"\n\n" +
			"[dependencies]\nalpha = { version = \"0.1\", registry = \"coffer\" }\nupcrate = { version = \"1\", registry = \"coffer\" }\n",
		"src/lib.rs": "pub fn beta() -> u32 { alpha::alpha() + upcrate::up() }\n",
	})
	out = pub.Must(beta, "cargo", "publish", "--registry", "coffer", "--allow-dirty")
	if !strings.Contains(out, "beta-lib v0.1.0") {
		t.Fatalf("cargo publish beta-lib:\n%s", tail(out))
	}
	if fx.requests.Load() == 0 {
		t.Error("verifying beta-lib made no request to the fixture registry")
	}

	// The same version again: cargo sees it in the index and stops; sent
	// anyway, coffer refuses it with 409 in cargo's error shape.
	out, err := pub.Run(alpha, "cargo", "publish", "--registry", "coffer", "--allow-dirty", "--no-verify")
	if err == nil || !strings.Contains(out, "already exists") {
		t.Errorf("publishing alpha 0.1.0 again: %v\n%s", err, tail(out))
	}
	if code, body := putPublish(t, endpoint, token, "alpha", "0.1.0"); code != http.StatusConflict ||
		!strings.Contains(body, `{"errors":[{"detail":"crate version `+"`alpha@0.1.0`"+` is already uploaded`) {
		t.Errorf("PUT api/v1/crates/new of alpha 0.1.0 again: %d %s", code, body)
	}

	// An application using both builds from a clean CARGO_HOME, the
	// token given as "Bearer <token>".
	appFiles := map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n" +
			"[dependencies]\nalpha = { version = \"0.1\", registry = \"coffer\" }\nbeta-lib = { version = \"0.1\", registry = \"coffer\" }\n",
		"src/main.rs": "fn main() { println!(\"sum={}\", alpha::alpha() + beta_lib::beta()); }\n",
	}
	app := project(t, appFiles)
	build := cl.cargoHome(endpoint, "Bearer "+token, "")
	build.Must(app, "cargo", "build")
	if got := build.Must(app, "cargo", "run", "-q"); strings.TrimSpace(got) != "sum=9" {
		t.Errorf("the application says %q", got)
	}

	// What coffer recorded of beta-lib: its dependencies, and of alpha its
	// README, license and repository.
	deps := cl.AWS(c.URL, "list-package-version-dependencies", "--domain", "demo", "--repository", "app", "--format", "cargo",
		"--package", "beta-lib", "--package-version", "0.1.0")
	var got []string
	for _, d := range list(deps, "dependencies") {
		got = append(got, str(d, "package")+" "+str(d, "versionRequirement")+" "+str(d, "dependencyType"))
	}
	if strings.Join(got, ",") != "alpha ^0.1 normal,upcrate ^1 normal" {
		t.Errorf("beta-lib's dependencies: %v", got)
	}
	readme := cl.AWS(c.URL, "get-package-version-readme", "--domain", "demo", "--repository", "app", "--format", "cargo",
		"--package", "alpha", "--package-version", "0.1.0")
	if !strings.Contains(str(readme, "readme"), "The first crate.") {
		t.Errorf("alpha's readme: %v", readme)
	}
	desc := cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "app", "--format", "cargo",
		"--package", "beta_lib", "--package-version", "0.1.0")
	if str(desc, "packageVersion", "displayName") != "beta-lib" || str(desc, "packageVersion", "summary") != "the second crate" ||
		str(desc, "packageVersion", "licenses", 0, "name") != "MIT" {
		t.Errorf("describe beta-lib 0.1.0: %v", desc)
	}
	desc = cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "app", "--format", "cargo",
		"--package", "alpha", "--package-version", "0.1.0")
	if str(desc, "packageVersion", "sourceCodeRepository") != "https://example.com/alpha" ||
		str(desc, "packageVersion", "licenses", 0, "name") != "MIT OR Apache-2.0" {
		t.Errorf("describe alpha 0.1.0: %v", desc)
	}

	// cargo yank makes the version Unlisted and "yanked" in the index;
	// --undo publishes it again.
	pub.Must(alpha, "cargo", "yank", "--registry", "coffer", "alpha@0.1.0")
	status := func() string {
		return str(cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "app", "--format", "cargo",
			"--package", "alpha", "--package-version", "0.1.0"), "packageVersion", "status")
	}
	if s := status(); s != "Unlisted" {
		t.Errorf("after cargo yank: %s", s)
	}
	if code, body := httpGet(t, endpoint+cargo.IndexPath("alpha"), token); code != http.StatusOK || !strings.Contains(string(body), `"yanked":true`) {
		t.Errorf("index of alpha after yank: %d %s", code, body)
	}
	if code, _ := httpGet(t, endpoint+"api/v1/crates/alpha/0.1.0/download", token); code != http.StatusOK {
		t.Errorf("download of yanked alpha 0.1.0: %d", code)
	}
	pub.Must(alpha, "cargo", "yank", "--registry", "coffer", "--undo", "alpha@0.1.0")
	if s := status(); s != "Published" {
		t.Errorf("after cargo yank --undo: %s", s)
	}

	// cargo search finds the repository's own crates.
	out = pub.Must("", "cargo", "search", "--registry", "coffer", "beta")
	if !strings.Contains(out, `beta-lib = "0.1.0"`) || !strings.Contains(out, "the second crate") {
		t.Errorf("cargo search beta:\n%s", out)
	}
	out, err = pub.Run("", "cargo", "owner", "--registry", "coffer", "--list", "alpha")
	if err == nil || !strings.Contains(out, "not supported") {
		t.Errorf("cargo owner --list: %v\n%s", err, out)
	}

	// Origin controls: published crates take no upstream versions, the
	// fetched one takes no publish.
	pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "demo", "--repository", "app", "--format", "cargo"), "packages")
	for name, want := range map[string]string{"alpha": "ALLOW/BLOCK", "beta_lib": "ALLOW/BLOCK", "upcrate": "BLOCK/ALLOW"} {
		if g := origin(pkgs, name); g != want {
			t.Errorf("origin of %s in app: %s, want %s", name, g, want)
		}
	}
	if g := origin(list(cl.AWS(c.URL, "list-packages", "--domain", "demo", "--repository", "store", "--format", "cargo"), "packages"), "upcrate"); g != "BLOCK/ALLOW" {
		t.Errorf("origin of upcrate in store: %s", g)
	}

	// The fixture registry stops: the same build, from another clean
	// CARGO_HOME, succeeds from what coffer kept.
	upstreamSrv.Close()
	app2 := project(t, appFiles)
	again := cl.cargoHome(endpoint, token, "")
	out = again.Must(app2, "cargo", "build")
	if got := again.Must(app2, "cargo", "run", "-q"); strings.TrimSpace(got) != "sum=9" {
		t.Errorf("the application built offline says %q\n%s", got, tail(out))
	}
}

// TestLiveCargo builds a project depending on a popular crate through
// coffer proxying the real crates.io (index.crates.io and
// static.crates.io), with crates.io replaced by the repository. It runs
// only with COFFER_LIVE_CARGO=1, where the machine can reach crates.io.
func TestLiveCargo(t *testing.T) {
	if os.Getenv("COFFER_LIVE_CARGO") != "1" {
		t.Skip("set COFFER_LIVE_CARGO=1 to build through the real crates.io")
	}
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "app")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "app", "--external-connection", "public:crates-io")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "app", "--format", "cargo"), "repositoryEndpoint")
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "demo"), "authorizationToken")
	run := cl.cargoHome(endpoint, token, "\n[source.crates-io]\nreplace-with = \"coffer\"\n")
	app := project(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"live\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nitoa = \"1\"\n",
		"src/main.rs": "fn main() { println!(\"{}\", itoa::Buffer::new().format(42)); }\n",
	})
	if got := strings.TrimSpace(run.Must(app, "cargo", "run", "-q")); got != "42" {
		t.Errorf("the application says %q", got)
	}
	pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "demo", "--repository", "app", "--format", "cargo"), "packages")
	if g := origin(pkgs, "itoa"); g != "BLOCK/ALLOW" {
		t.Errorf("origin of itoa: %s", g)
	}
}
