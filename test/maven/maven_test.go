package maven_test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"coffer/test/maventest"
)

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
	maventest.CheckInstall(t)
	central := maventest.NewCentral(t)
	c := startCoffer(t, t.TempDir(), "--external-connection", "public:maven-central="+central.URL+"/")
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

	proj := maventest.WriteProject(t, endpoint)
	m2 := filepath.Join(t.TempDir(), "m2")
	maventest.Mvn(t, proj, token, m2, "compile")
	out := maventest.Mvn(t, proj, token, m2, "package")
	if !strings.Contains(out, "Tests run: 1, Failures: 0") {
		t.Fatalf("package did not run the test:\n%s", out)
	}
	maventest.Mvn(t, proj, token, m2, "deploy")
	out = maventest.Mvn(t, proj, token, m2, "-f", "pom-snap.xml", "deploy", "-DskipTests")
	build := regexp.MustCompile(`hello-(1\.1\.0-\d{8}\.\d{6}-1)\.jar`).FindStringSubmatch(out)
	if build == nil {
		t.Fatalf("the SNAPSHOT deploy uploaded no timestamped jar:\n%s", out)
	}
	// A second build of the SNAPSHOT: Maven reads the first one's metadata
	// from coffer to number it 2; the first build becomes Unlisted.
	out = maventest.Mvn(t, proj, token, m2, "-f", "pom-snap.xml", "deploy", "-DskipTests")
	build2 := regexp.MustCompile(`hello-(1\.1\.0-\d{8}\.\d{6}-2)\.jar`).FindStringSubmatch(out)
	if build2 == nil {
		t.Fatalf("the second SNAPSHOT deploy uploaded no build 2:\n%s", out)
	}

	// What coffer recorded, as the aws CLI sees it.
	for _, repo := range []string{"my-repo", "my-repo-store"} {
		pkgs := list(aws.ok("list-packages", "--domain", "demo", "--repository", repo), "packages")
		for name := range maventest.Plugins {
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
	seen := central.Counts()
	central.Close()
	out = maventest.Mvn(t, proj, token, filepath.Join(t.TempDir(), "m2-again"), "package")
	if !strings.Contains(out, "Tests run: 1, Failures: 0") {
		t.Fatalf("second package did not run the test:\n%s", out)
	}
	// A consumer of hello 1.1.0-SNAPSHOT resolves the newest build through
	// coffer's SNAPSHOT metadata.
	app := maventest.WriteConsumer(t, endpoint)
	out = maventest.Mvn(t, app, token, filepath.Join(t.TempDir(), "m2-app"), "compile")
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
