package maven_test

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// debianRepo is where Debian's Maven packages install their artifacts.
const debianRepo = "/usr/share/maven-repo"

// debianPackages fill debianRepo with what the test project needs.
const debianPackages = "libmaven-compiler-plugin-java libmaven-resources-plugin-java libmaven-jar-plugin-java " +
	"libmaven-install-plugin-java libmaven-deploy-plugin-java libsurefire-java libmaven-clean-plugin-java"

// The real versions those packages provide (real-clients.md 1.1).
var plugins = map[string]string{
	"maven-clean-plugin": "3.2.0", "maven-resources-plugin": "3.3.0", "maven-compiler-plugin": "3.10.1",
	"maven-surefire-plugin": "2.22.3", "maven-jar-plugin": "3.3.0", "maven-install-plugin": "3.1.0", "maven-deploy-plugin": "3.0.0",
}

func checkInstall(t *testing.T) {
	t.Helper()
	need(t, "mvn")
	need(t, "javac")
	var missing []string
	for name, v := range plugins {
		missing = append(missing, missingFile(fmt.Sprintf("org/apache/maven/plugins/%s/%s/%s-%s.jar", name, v, name, v))...)
	}
	missing = append(missing, missingFile("junit/junit/4.13.2/junit-4.13.2.jar")...)
	missing = append(missing, missingFile("org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar")...)
	if len(missing) > 0 {
		t.Fatalf("%s lacks %s: install the Debian packages %s (.ci/run installs them: apt-get install -y %s)",
			debianRepo, strings.Join(missing, ", "), debianPackages, debianPackages)
	}
}

func missingFile(rel string) []string {
	if _, err := os.Stat(filepath.Join(debianRepo, rel)); err != nil {
		return []string{rel}
	}
	return nil
}

// fixture is the fake "Maven Central": a copy of debianRepo with symlinks
// resolved and .sha1/.md5 files beside every jar and pom, served on the
// loopback by a file server that counts requests by path.
type fixture struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := filepath.Join(t.TempDir(), "central")
	if err := copyResolved(debianRepo, root, 0); err != nil {
		t.Fatal(err)
	}
	f := &fixture{counts: map[string]int{}}
	files := http.FileServer(http.Dir(root))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.counts[r.URL.Path]++
		f.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// copyResolved copies a tree, following symlinks, and writes checksum files
// for jars and POMs.
func copyResolved(src, dst string, depth int) error {
	if depth > 40 {
		return fmt.Errorf("%s: too deep", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Stat(s) // follows symlinks
		if err != nil {
			continue // a dangling link
		}
		if fi.IsDir() {
			if err := copyResolved(s, d, depth+1); err != nil {
				return err
			}
			continue
		}
		b, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(d, b, 0o644); err != nil {
			return err
		}
		if strings.HasSuffix(d, ".jar") || strings.HasSuffix(d, ".pom") {
			s1, m5 := sha1.Sum(b), md5.Sum(b)
			if err := os.WriteFile(d+".sha1", []byte(hex.EncodeToString(s1[:])), 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(d+".md5", []byte(hex.EncodeToString(m5[:])), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fixture) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

const pomTemplate = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>hello</artifactId>
  <version>%[1]s</version>
  <packaging>jar</packaging>
  <name>hello</name>
  <description>Says hello through coffer.</description>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>3.12.0</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency>
  </dependencies>
  <distributionManagement>
    <repository><id>codeartifact</id><name>codeartifact</name><url>%[2]s</url></repository>
    <snapshotRepository><id>codeartifact</id><name>codeartifact</name><url>%[2]s</url></snapshotRepository>
  </distributionManagement>
  <build><pluginManagement><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-clean-plugin</artifactId><version>3.2.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>2.22.3</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId><version>3.3.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-install-plugin</artifactId><version>3.1.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-deploy-plugin</artifactId><version>3.0.0</version></plugin>
  </plugins></pluginManagement></build>
</project>
`

// settingsTemplate is the CodeArtifact-style settings.xml of the seed.
const settingsTemplate = `<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <servers>
    <server>
      <id>codeartifact</id>
      <username>aws</username>
      <password>${env.CODEARTIFACT_AUTH_TOKEN}</password>
    </server>
  </servers>
  <profiles><profile><id>default</id>
    <repositories><repository><id>codeartifact</id><url>%[1]s</url></repository></repositories>
  </profile></profiles>
  <activeProfiles><activeProfile>default</activeProfile></activeProfiles>
  <mirrors><mirror><id>codeartifact</id><name>codeartifact</name><url>%[1]s</url><mirrorOf>*</mirrorOf></mirror></mirrors>
</settings>
`

const helloJava = `package com.example.hello;

import org.apache.commons.lang3.StringUtils;

public class Hello {
    public static String greet(String name) {
        return "Hello, " + StringUtils.capitalize(name) + "!";
    }

    public static void main(String[] args) {
        System.out.println(greet(args.length > 0 ? args[0] : "world"));
    }
}
`

const helloTestJava = `package com.example.hello;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class HelloTest {
    @Test
    public void greets() {
        assertEquals("Hello, Coffer!", Hello.greet("coffer"));
    }
}
`

func writeProject(t *testing.T, endpoint string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"pom.xml":      fmt.Sprintf(pomTemplate, "1.0.0", endpoint),
		"pom-snap.xml": fmt.Sprintf(pomTemplate, "1.1.0-SNAPSHOT", endpoint),
		"settings.xml": fmt.Sprintf(settingsTemplate, endpoint),
		"src/main/java/com/example/hello/Hello.java":     helloJava,
		"src/test/java/com/example/hello/HelloTest.java": helloTestJava,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const appPOM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId><artifactId>app</artifactId><version>1.0</version><packaging>jar</packaging>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency><groupId>com.example</groupId><artifactId>hello</artifactId><version>1.1.0-SNAPSHOT</version></dependency>
  </dependencies>
  <build><pluginManagement><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
  </plugins></pluginManagement></build>
</project>
`

const appJava = `package com.example.app;

public class App {
    public static void main(String[] args) {
        System.out.println(com.example.hello.Hello.greet("app"));
    }
}
`

// writeConsumer writes a project that depends on hello 1.1.0-SNAPSHOT.
func writeConsumer(t *testing.T, endpoint string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"pom.xml": appPOM, "settings.xml": fmt.Sprintf(settingsTemplate, endpoint), "src/main/java/com/example/app/App.java": appJava,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mvn runs the real mvn in the project with an isolated HOME and the given
// local repository, and returns its output.
func mvn(t *testing.T, dir, token, localRepo string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	full := append([]string{"-B", "-s", "settings.xml", "-Dmaven.repo.local=" + localRepo}, args...)
	cmd := exec.Command("mvn", full...)
	cmd.Dir = dir
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "MAVEN_") && !strings.HasPrefix(e, "CODEARTIFACT_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home, "CODEARTIFACT_AUTH_TOKEN="+token)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("mvn %s: %v", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	if err != nil {
		s := string(out)
		if len(s) > 20000 {
			s = "…" + s[len(s)-20000:]
		}
		t.Fatalf("mvn %s: %v\n%s", strings.Join(args, " "), err, s)
	}
	return string(out)
}

// origin returns "publish/upstream" of a package in a list-packages result.
func origin(pkgs []any, namespace, name string) string {
	for _, p := range pkgs {
		if str(p, "namespace") == namespace && str(p, "package") == name {
			if str(p, "format") != "maven" {
				return "format " + str(p, "format")
			}
			return str(p, "originConfiguration", "restrictions", "publish") + "/" + str(p, "originConfiguration", "restrictions", "upstream")
		}
	}
	return "absent"
}

func TestMavenBuildsThroughCoffer(t *testing.T) {
	checkInstall(t)
	central := newFixture(t)
	c := startCoffer(t, t.TempDir(), "--external-connection", "public:maven-central="+central.srv.URL+"/")
	aws := newAWSCLI(t, c)

	aws.ok("create-domain", "--domain", "demo")
	aws.ok("create-repository", "--domain", "demo", "--repository", "my-repo-store")
	aws.ok("associate-external-connection", "--domain", "demo", "--repository", "my-repo-store", "--external-connection", "public:maven-central")
	aws.ok("create-repository", "--domain", "demo", "--repository", "my-repo", "--upstreams", "repositoryName=my-repo-store")
	token := str(aws.ok("get-authorization-token", "--domain", "demo"), "authorizationToken")
	endpoint := str(aws.ok("get-repository-endpoint", "--domain", "demo", "--repository", "my-repo", "--format", "maven"), "repositoryEndpoint")
	if token == "" || !regexp.MustCompile(`^`+regexp.QuoteMeta(c.URL)+`/maven/d/demo-[0-9]{12}/my-repo/$`).MatchString(endpoint) {
		t.Fatalf("token %q, endpoint %q", token, endpoint)
	}

	proj := writeProject(t, endpoint)
	m2 := filepath.Join(t.TempDir(), "m2")
	mvn(t, proj, token, m2, "compile")
	out := mvn(t, proj, token, m2, "package")
	if !strings.Contains(out, "Tests run: 1, Failures: 0") {
		t.Fatalf("package did not run the test:\n%s", out)
	}
	mvn(t, proj, token, m2, "deploy")
	out = mvn(t, proj, token, m2, "-f", "pom-snap.xml", "deploy", "-DskipTests")
	build := regexp.MustCompile(`hello-(1\.1\.0-\d{8}\.\d{6}-1)\.jar`).FindStringSubmatch(out)
	if build == nil {
		t.Fatalf("the SNAPSHOT deploy uploaded no timestamped jar:\n%s", out)
	}
	// A second build of the SNAPSHOT: Maven reads the first one's metadata
	// from coffer to number it 2; the first build becomes Unlisted.
	out = mvn(t, proj, token, m2, "-f", "pom-snap.xml", "deploy", "-DskipTests")
	build2 := regexp.MustCompile(`hello-(1\.1\.0-\d{8}\.\d{6}-2)\.jar`).FindStringSubmatch(out)
	if build2 == nil {
		t.Fatalf("the second SNAPSHOT deploy uploaded no build 2:\n%s", out)
	}

	// What coffer recorded, as the aws CLI sees it.
	for _, repo := range []string{"my-repo", "my-repo-store"} {
		pkgs := list(aws.ok("list-packages", "--domain", "demo", "--repository", repo), "packages")
		for name := range plugins {
			if name == "maven-clean-plugin" {
				// Not used: mvn clean needs org.codehaus.plexus:plexus-utils:1.1
				// (which Maven injects into old plugins), and Debian does not
				// package that version, so the fixture cannot serve it.
				continue
			}
			if got := origin(pkgs, "org.apache.maven.plugins", name); got != "BLOCK/ALLOW" {
				t.Errorf("%s: %s is %s, want publish BLOCK / upstream ALLOW", repo, name, got)
			}
		}
		for _, p := range [][2]string{{"org.apache.commons", "commons-lang3"}, {"junit", "junit"}} {
			if got := origin(pkgs, p[0], p[1]); got != "BLOCK/ALLOW" {
				t.Errorf("%s: %s:%s is %s, want BLOCK/ALLOW", repo, p[0], p[1], got)
			}
		}
		want := "ALLOW/BLOCK"
		if repo == "my-repo-store" {
			want = "absent"
		}
		if got := origin(pkgs, "com.example", "hello"); got != want {
			t.Errorf("%s: com.example:hello is %s, want %s", repo, got, want)
		}
	}
	versions := map[string]string{}
	for _, v := range list(aws.ok("list-package-versions", "--domain", "demo", "--repository", "my-repo", "--format", "maven",
		"--namespace", "com.example", "--package", "hello"), "versions") {
		versions[str(v, "version")] = str(v, "status")
	}
	if versions["1.0.0"] != "Published" || versions[build[1]] != "Unlisted" || versions[build2[1]] != "Published" || len(versions) != 3 {
		t.Errorf("hello versions = %v, want 1.0.0 and %s Published, %s Unlisted", versions, build2[1], build[1])
	}
	deps := aws.ok("list-package-version-dependencies", "--domain", "demo", "--repository", "my-repo", "--format", "maven",
		"--namespace", "com.example", "--package", "hello", "--package-version", "1.0.0")
	var gotDeps []string
	for _, d := range list(deps, "dependencies") {
		gotDeps = append(gotDeps, str(d, "namespace")+":"+str(d, "package")+":"+str(d, "versionRequirement")+" "+str(d, "dependencyType"))
	}
	sort.Strings(gotDeps)
	if want := []string{"junit:junit:4.13.2 test", "org.apache.commons:commons-lang3:3.12.0 compile"}; !slices.Equal(gotDeps, want) {
		t.Errorf("dependencies of hello 1.0.0 = %v, want %v", gotDeps, want)
	}

	// A checksum upload that does not match is refused.
	jarURL := endpoint + "com/example/hello/1.0.0/hello-1.0.0.jar"
	if code := put(t, jarURL+".sha1", token, strings.Repeat("0", 40)); code != http.StatusBadRequest {
		t.Errorf("PUT of a wrong .sha1: %d, want 400", code)
	}
	jar, err := os.ReadFile(filepath.Join(proj, "target", "hello-1.0.0.jar"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(jar)
	if code := put(t, jarURL+".sha1", token, hex.EncodeToString(sum[:])); code != http.StatusCreated {
		t.Errorf("PUT of the right .sha1: %d, want 201", code)
	}

	// The fake Central goes away; a build from a new, empty local
	// repository still works from what coffer keeps.
	seen := central.snapshot()
	central.srv.Close()
	out = mvn(t, proj, token, filepath.Join(t.TempDir(), "m2-again"), "package")
	if !strings.Contains(out, "Tests run: 1, Failures: 0") {
		t.Fatalf("second package did not run the test:\n%s", out)
	}
	// A consumer of hello 1.1.0-SNAPSHOT resolves the newest build through
	// coffer's SNAPSHOT metadata.
	app := writeConsumer(t, endpoint)
	out = mvn(t, app, token, filepath.Join(t.TempDir(), "m2-app"), "compile")
	if !strings.Contains(out, "hello-"+build2[1]+".jar") {
		t.Errorf("the consumer did not get build %s:\n%s", build2[1], out)
	}

	var repeated []string
	artifacts := 0
	for p, n := range seen {
		if strings.HasSuffix(p, ".jar") || strings.HasSuffix(p, ".pom") {
			artifacts++
		}
		if n > 1 {
			repeated = append(repeated, fmt.Sprintf("%s ×%d", p, n))
		}
	}
	if len(repeated) > 0 {
		t.Errorf("the fake Central saw requests repeated: %v", repeated)
	}
	if artifacts < 40 {
		t.Errorf("the fake Central served only %d jars and POMs; was it used?", artifacts)
	}
	t.Logf("the fake Central served %d paths (%d jars and POMs), each at most once, over two builds", len(seen), artifacts)
	warnings := 0
	for _, line := range strings.Split(c.Logs.String(), "\n") {
		switch {
		case strings.Contains(line, "level=ERROR"):
			t.Errorf("coffer logged an error: %s", line)
		case strings.Contains(line, "level=WARN"):
			warnings++
			if warnings <= 5 {
				t.Logf("coffer warned: %s", line)
			}
		}
	}
}

func put(t *testing.T, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("aws", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
