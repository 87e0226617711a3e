package encryption_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
	"coffer/test/maventest"
)

// encMagic begins every object of an encrypted domain
// (internal/blob/encrypted).
const encMagic = "COFFENC1"

// TestEncryptedDomainNativeClients drives mvn, cargo, gem and bundler
// against one coffer process whose only domain is encrypted: mvn deploys the
// hello project with its plugins and dependencies ingested from a fake
// Central through coffer, and a consumer resolves it from a clean local
// repository; cargo publishes a crate and builds an application using it
// from a clean CARGO_HOME; gem pushes a gem built with gem build and
// bundler installs it. Each artifact carries a random marker. Then every
// file under <data-dir>/blobs (staging aside) must start with "COFFENC1" and
// none may hold a 32-byte window of an artifact as published (the jar,
// POM, .crate and .gem files, the ingested jars and POMs) or of the marker
// files themselves.
func TestEncryptedDomainNativeClients(t *testing.T) {
	for _, p := range []string{"aws", "cargo", "gem", "bundle", "ruby"} {
		testproc.Need(t, p)
	}
	maventest.CheckInstall(t)

	central := maventest.NewCentral(t)
	dir := t.TempDir()
	c := testproc.Start(t, cofferBin, dir, "--external-connection", "public:maven-central="+central.URL+"/")
	base := nativeEnv(t, dir)
	cl := &testproc.Runner{T: t, Env: base}
	aws := func(args ...string) map[string]any { t.Helper(); return cl.AWS(c.URL, args...) }
	if got := testproc.Str(aws("create-domain", "--domain", "vault", "--encryption-key", keyARN), "domain", "encryptionKey"); got != keyARN {
		t.Fatalf("create-domain encryptionKey = %q, want %q", got, keyARN)
	}
	aws("create-repository", "--domain", "vault", "--repository", "store")
	aws("associate-external-connection", "--domain", "vault", "--repository", "store", "--external-connection", "public:maven-central")
	aws("create-repository", "--domain", "vault", "--repository", "app", "--upstreams", "repositoryName=store")
	token := testproc.Str(aws("get-authorization-token", "--domain", "vault"), "authorizationToken")
	endpoint := func(format string) string {
		t.Helper()
		return testproc.Str(aws("get-repository-endpoint", "--domain", "vault", "--repository", "app", "--format", format), "repositoryEndpoint")
	}
	// plaintexts are the bytes no blob file may hold a window of.
	plaintexts := map[string][]byte{}
	readFile := func(path string) []byte {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// mvn: deploy hello (with a marker resource and a marker in its POM),
	// then a consumer resolves it from a clean local repository.
	mvnMarker := randomHex(t, 64)
	e := endpoint("maven")
	proj := maventest.WriteProject(t, e)
	resource := "maven marker " + mvnMarker + "\n" + randomHex(t, 4000) + "\n"
	writeNative(t, filepath.Join(proj, "src/main/resources/marker.txt"), resource)
	pom := string(readFile(filepath.Join(proj, "pom.xml"))) + "<!-- " + mvnMarker + " -->\n"
	writeNative(t, filepath.Join(proj, "pom.xml"), pom)
	out := maventest.Mvn(t, proj, token, filepath.Join(t.TempDir(), "m2"), "deploy")
	if !strings.Contains(out, "Tests run: 1, Failures: 0") || !strings.Contains(out, "Uploaded to codeartifact: "+e+"com/example/hello/1.0.0/hello-1.0.0.jar") {
		t.Fatalf("mvn deploy:\n%s", testproc.Tail(out))
	}
	jar := readFile(filepath.Join(proj, "target", "hello-1.0.0.jar"))
	if got := zipEntry(t, jar, "marker.txt"); got != resource {
		t.Fatalf("the jar's marker.txt is %d bytes, want the %d of the resource", len(got), len(resource))
	}
	if len(central.Counts()) == 0 {
		t.Fatal("the plugins did not come through coffer's external connection")
	}
	app := maventest.WriteConsumer(t, e)
	consumerPOM := string(readFile(filepath.Join(app, "pom.xml")))
	if !strings.Contains(consumerPOM, "<version>1.1.0-SNAPSHOT</version>") {
		t.Fatal("the consumer POM no longer depends on hello 1.1.0-SNAPSHOT")
	}
	writeNative(t, filepath.Join(app, "pom.xml"), strings.Replace(consumerPOM, "<version>1.1.0-SNAPSHOT</version>", "<version>1.0.0</version>", 1))
	m2app := filepath.Join(t.TempDir(), "m2-app")
	maventest.Mvn(t, app, token, m2app, "compile")
	if got := readFile(filepath.Join(m2app, "com/example/hello/1.0.0/hello-1.0.0.jar")); !bytes.Equal(got, jar) {
		t.Fatalf("the consumer resolved a hello jar of %d bytes that differs from the deployed one (%d)", len(got), len(jar))
	}
	if got := string(readFile(filepath.Join(m2app, "com/example/hello/1.0.0/hello-1.0.0.pom"))); got != pom {
		t.Fatal("the consumer resolved a hello POM that differs from the deployed one")
	}
	plaintexts["hello-1.0.0.jar"], plaintexts["hello-1.0.0.pom"], plaintexts["marker.txt (maven)"] = jar, []byte(pom), []byte(resource)
	// Some of what was ingested from the fake Central.
	for _, rel := range []string{
		"org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar", "org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.pom",
		"junit/junit/4.13.2/junit-4.13.2.jar",
		"org/apache/maven/plugins/maven-compiler-plugin/3.10.1/maven-compiler-plugin-3.10.1.jar",
		"org/apache/maven/plugins/maven-deploy-plugin/3.0.0/maven-deploy-plugin-3.0.0.jar",
	} {
		if central.Counts()["/"+rel] == 0 {
			t.Fatalf("%s was not ingested from the fake Central", rel)
		}
		plaintexts[rel] = readFile(filepath.Join(maventest.DebianRepo, rel))
	}

	// cargo: publish a crate, then build an application using it from a
	// clean CARGO_HOME.
	cargoMarker := randomHex(t, 64)
	ce := endpoint("cargo")
	cargoRun := func() (*testproc.Runner, string, string) {
		home, target := t.TempDir(), filepath.Join(t.TempDir(), "target")
		writeNative(t, filepath.Join(home, "config.toml"), "[registries.coffer]\nindex = \"sparse+"+ce+"\"\n"+
			"credential-provider = \"cargo:token\"\n\n[registry]\ndefault = \"coffer\"\n")
		return &testproc.Runner{T: t, Env: append(append([]string(nil), base...), "CARGO_HOME="+home,
			"CARGO_REGISTRIES_COFFER_TOKEN="+token, "CARGO_TARGET_DIR="+target)}, home, target
	}
	libRS := "// cargo marker " + cargoMarker + " " + randomHex(t, 4000) + "\npub const MARKER: &str = \"" + cargoMarker + "\";\n"
	lib := writeNativeTree(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"enc-crate\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"stored encrypted\"\nlicense = \"MIT\"\n",
		"src/lib.rs": libRS,
	})
	pub, _, pubTarget := cargoRun()
	if out := pub.Must(lib, "cargo", "publish", "--registry", "coffer", "--allow-dirty"); !strings.Contains(out, "enc-crate v0.1.0") {
		t.Fatalf("cargo publish:\n%s", testproc.Tail(out))
	}
	var crates []string
	filepath.WalkDir(pubTarget, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "enc-crate-0.1.0.crate" {
			crates = append(crates, path)
		}
		return nil
	})
	if len(crates) == 0 {
		t.Fatalf("cargo publish left no enc-crate-0.1.0.crate under %s", pubTarget)
	}
	crate := readFile(crates[0])
	t.Logf("published %s (%d bytes)", crates[0], len(crate))
	rustApp := writeNativeTree(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nenc-crate = { version = \"0.1\", registry = \"coffer\" }\n",
		"src/main.rs": "fn main() { print!(\"{}\", enc_crate::MARKER); }\n",
	})
	build, home, _ := cargoRun()
	if got := build.Must(rustApp, "cargo", "run", "-q"); got != cargoMarker {
		t.Fatalf("the application says %q, want the marker", got)
	}
	if got, _ := filepath.Glob(filepath.Join(home, "registry", "cache", "*", "enc-crate-0.1.0.crate")); len(got) != 1 || !bytes.Equal(readFile(got[0]), crate) {
		t.Fatalf("the downloaded .crate (%v) is not the published one", got)
	}
	plaintexts["enc-crate-0.1.0.crate"], plaintexts["lib.rs"] = crate, []byte(libRS)

	// gem push of a gem built with gem build, then bundle install.
	gemMarker := randomHex(t, 64)
	re := endpoint("ruby")
	gemData := "gem marker " + gemMarker + "\n" + randomHex(t, 4000) + "\n"
	gemDir := writeNativeTree(t, map[string]string{
		"enc_gem.gemspec": "Gem::Specification.new do |s|\n  s.name = \"enc_gem\"\n  s.version = \"1.0.0\"\n  s.summary = \"stored encrypted\"\n" +
			"  s.authors = [\"Coffer Test\"]\n  s.license = \"MIT\"\n  s.files = [\"lib/enc_gem.rb\", \"data/marker.txt\"]\nend\n",
		"lib/enc_gem.rb":  "module EncGem\n  def self.marker = File.read(File.expand_path(\"../data/marker.txt\", __dir__))\nend\n",
		"data/marker.txt": gemData,
	})
	rb := &testproc.Runner{T: t, Env: append(append([]string(nil), base...), "GEM_SPEC_CACHE="+filepath.Join(t.TempDir(), "specs"))}
	rb.Must(gemDir, "gem", "build", "enc_gem.gemspec")
	gemFile := filepath.Join(gemDir, "enc_gem-1.0.0.gem")
	push := &testproc.Runner{T: t, Env: append(append([]string(nil), rb.Env...), "GEM_HOST_API_KEY="+token)}
	if out := push.Must("", "gem", "push", "--host", strings.TrimSuffix(re, "/"), gemFile); !strings.Contains(out, "Successfully registered gem: enc_gem (1.0.0)") {
		t.Fatalf("gem push:\n%s", out)
	}
	rubyApp := writeNativeTree(t, map[string]string{
		"Gemfile": "source \"" + re + "\"\ngem \"enc_gem\"\n",
		"main.rb": "require \"bundler/setup\"\nrequire \"enc_gem\"\nprint EncGem.marker\n",
	})
	b := &testproc.Runner{T: t, Env: append(append([]string(nil), rb.Env...), "BUNDLE_USER_CACHE="+filepath.Join(t.TempDir(), "cache"),
		"BUNDLE_PATH="+filepath.Join(rubyApp, "vendor"), "BUNDLE_USER_HOME="+filepath.Join(t.TempDir(), "bundle-home"))}
	b.Must(rubyApp, "bundle", "config", "set", "--local", re, "aws:"+token)
	b.Must(rubyApp, "bundle", "install")
	if lock := string(readFile(filepath.Join(rubyApp, "Gemfile.lock"))); !strings.Contains(lock, "remote: "+re) || !strings.Contains(lock, "    enc_gem (1.0.0)\n") {
		t.Fatalf("Gemfile.lock:\n%s", lock)
	}
	if got := b.Must(rubyApp, "ruby", "main.rb"); got != gemData {
		t.Fatalf("the installed gem's marker is %d bytes, want %d", len(got), len(gemData))
	}
	gem := readFile(gemFile)
	if got, _ := filepath.Glob(filepath.Join(rubyApp, "vendor", "ruby", "*", "cache", "enc_gem-1.0.0.gem")); len(got) != 1 || !bytes.Equal(readFile(got[0]), gem) {
		t.Fatalf("the installed .gem (%v) is not the pushed one", got)
	}
	plaintexts["enc_gem-1.0.0.gem"], plaintexts["marker.txt (gem)"] = gem, []byte(gemData)

	// Every blob file is encrypted and holds no window of a plaintext.
	files, hits := scanNativeBlobs(t, filepath.Join(dir, "blobs"), plaintexts)
	for _, h := range hits {
		t.Error(h)
	}
	if files < 40 {
		t.Fatalf("only %d files under blobs/: were the artifacts stored there?", files)
	}
	t.Logf("%d files under blobs/, all encrypted, none holding a window of %d plaintexts", files, len(plaintexts))
	for _, line := range strings.Split(c.Logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("coffer logged an error: %s", line)
		}
	}
	c.Stop()
}

// scanNativeBlobs walks root (its tmp staging dir aside), requires every
// file to begin with encMagic and reports each file holding a 32-byte
// window of a plaintext. Windows are taken every 256 bytes (every byte
// offset of a plaintext shorter than 32 is the whole of it) and looked up
// by their first 8 bytes at each offset of each file.
func scanNativeBlobs(t *testing.T, root string, plaintexts map[string][]byte) (files int, hits []string) {
	t.Helper()
	type window struct {
		name string
		w    []byte
	}
	index := map[uint64][]window{}
	for name, p := range plaintexts {
		if len(p) < 32 {
			t.Fatalf("plaintext %s is only %d bytes", name, len(p))
		}
		for off := 0; off+32 <= len(p); off += 256 {
			w := p[off : off+32]
			k := binary.LittleEndian.Uint64(w)
			index[k] = append(index[k], window{name, w})
		}
		w := p[len(p)-32:]
		index[binary.LittleEndian.Uint64(w)] = append(index[binary.LittleEndian.Uint64(w)], window{name, w})
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "tmp" {
				return filepath.SkipDir // staging
			}
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
		files++
		if !bytes.HasPrefix(b, []byte(encMagic)) {
			head := b[:min(len(b), len(encMagic))]
			hits = append(hits, rel+" is not an encrypted object: it starts "+strings.TrimSpace(string(head)))
		}
		found := map[string]bool{}
		for i := 0; i+32 <= len(b); i++ {
			for _, w := range index[binary.LittleEndian.Uint64(b[i:])] {
				if !found[w.name] && bytes.Equal(b[i:i+32], w.w) {
					found[w.name] = true
					hits = append(hits, rel+" holds plaintext of "+w.name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, hits
}

// nativeEnv is the environment of the clients: an isolated HOME, the root
// credentials of coffer's data dir for the aws CLI, and none of this
// machine's client configuration, proxies or registries.
func nativeEnv(t *testing.T, dataDir string) []string {
	t.Helper()
	return testproc.ClientEnv(t, dataDir, []string{"AWS_", "CARGO_", "GEM_", "BUNDLE_", "MAVEN_", "XDG_", "CODEARTIFACT_"},
		"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "RUBYOPT", "RUBYGEMS_HOST")
}

// zipEntry is the content of the named entry of a zip (a jar).
func zipEntry(t *testing.T, archive []byte, name string) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeNative(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeNativeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeNative(t, filepath.Join(dir, name), content)
	}
	return dir
}

// TestScanNativeBlobs: the scan reports a file without the magic and a file
// holding a window of a plaintext anywhere (not only at a window offset),
// and ignores the staging dir.
func TestScanNativeBlobs(t *testing.T) {
	root := t.TempDir()
	plain := []byte(randomHex(t, 5000))
	enc := func(b ...[]byte) []byte { return append([]byte(encMagic), bytes.Join(b, nil)...) }
	writeNative(t, filepath.Join(root, "sha256", "aa", "clean"), string(enc([]byte(randomHex(t, 9000)))))
	writeNative(t, filepath.Join(root, "sha256", "bb", "leak"), string(enc([]byte("xyz"), plain[1000:1100], []byte("abc"))))
	writeNative(t, filepath.Join(root, "sha256", "cc", "plain"), "not encrypted at all, and long enough")
	writeNative(t, filepath.Join(root, "tmp", "stage-1"), string(plain))
	files, hits := scanNativeBlobs(t, root, map[string][]byte{"p": plain})
	if files != 3 || len(hits) != 2 || !strings.Contains(hits[0]+hits[1], "bb/leak holds plaintext of p") ||
		!strings.Contains(hits[0]+hits[1], "cc/plain is not an encrypted object") {
		t.Fatalf("files %d, hits %q", files, hits)
	}
}
