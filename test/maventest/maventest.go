// Package maventest drives the real mvn against coffer, for the black-box
// tests of test/maven and test/cluster: a fake "Maven Central" made of
// Debian's Maven packages that counts the requests it serves, a check that
// the machine has what the builds need, a project to deploy (hello) and one
// that consumes it (app), and an mvn runner with an isolated HOME.
package maventest

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/testproc"
)

// DebianRepo is where Debian's Maven packages install their artifacts.
const DebianRepo = "/usr/share/maven-repo"

// DebianPackages fill DebianRepo with what the test projects need.
const DebianPackages = "libmaven-compiler-plugin-java libmaven-resources-plugin-java libmaven-jar-plugin-java " +
	"libmaven-install-plugin-java libmaven-deploy-plugin-java libsurefire-java libmaven-clean-plugin-java"

// Plugins are the real versions those packages provide (real-clients.md
// 1.1), which the projects' POMs pin.
var Plugins = map[string]string{
	"maven-clean-plugin": "3.2.0", "maven-resources-plugin": "3.3.0", "maven-compiler-plugin": "3.10.1",
	"maven-surefire-plugin": "2.22.3", "maven-jar-plugin": "3.3.0", "maven-install-plugin": "3.1.0", "maven-deploy-plugin": "3.0.0",
}

// CheckInstall fails the test when mvn, javac or an artifact the projects
// need is missing: in CI a missing client is a failure, never a skip.
func CheckInstall(t *testing.T) {
	t.Helper()
	testproc.Need(t, "mvn")
	testproc.Need(t, "javac")
	var missing []string
	for name, v := range Plugins {
		missing = append(missing, missingFile(fmt.Sprintf("org/apache/maven/plugins/%s/%s/%s-%s.jar", name, v, name, v))...)
	}
	missing = append(missing, missingFile("junit/junit/4.13.2/junit-4.13.2.jar")...)
	missing = append(missing, missingFile("org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar")...)
	if len(missing) > 0 {
		t.Fatalf("%s lacks %s: install the Debian packages %s (.ci/run installs them: apt-get install -y %s)",
			DebianRepo, strings.Join(missing, ", "), DebianPackages, DebianPackages)
	}
}

func missingFile(rel string) []string {
	if _, err := os.Stat(filepath.Join(DebianRepo, rel)); err != nil {
		return []string{rel}
	}
	return nil
}

// Central is the fake "Maven Central": a copy of DebianRepo with symlinks
// resolved and .sha1/.md5 files beside every jar and POM, served on the
// loopback by a file server that counts requests by path. Its URL plus "/"
// is what --external-connection public:maven-central= takes.
type Central struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

// NewCentral copies DebianRepo and starts serving it until the end of the
// test.
func NewCentral(t *testing.T) *Central {
	t.Helper()
	root := filepath.Join(t.TempDir(), "central")
	if err := copyResolved(DebianRepo, root, 0); err != nil {
		t.Fatal(err)
	}
	c := &Central{counts: map[string]int{}}
	files := http.FileServer(http.Dir(root))
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.counts[r.URL.Path]++
		c.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// Counts is how many requests each path has had so far.
func (c *Central) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
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

// WriteProject writes the hello project (com.example:hello, which depends
// on commons-lang3 and tests with junit) into a new directory, deploying to
// endpoint and resolving everything through it: pom.xml is release 1.0.0,
// pom-snap.xml 1.1.0-SNAPSHOT, settings.xml the CodeArtifact-style
// settings that mvn's -s takes.
func WriteProject(t *testing.T, endpoint string) string {
	t.Helper()
	return writeFiles(t, map[string]string{
		"pom.xml":      fmt.Sprintf(pomTemplate, "1.0.0", endpoint),
		"pom-snap.xml": fmt.Sprintf(pomTemplate, "1.1.0-SNAPSHOT", endpoint),
		"settings.xml": fmt.Sprintf(settingsTemplate, endpoint),
		"src/main/java/com/example/hello/Hello.java":     helloJava,
		"src/test/java/com/example/hello/HelloTest.java": helloTestJava,
	})
}

// appPOM pins every plugin of the lifecycle up to package: Maven's default
// versions are not the ones Debian packages.
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
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>2.22.3</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId><version>3.3.0</version></plugin>
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

// WriteConsumer writes the app project, which depends on hello
// 1.1.0-SNAPSHOT and resolves everything through endpoint, into a new
// directory.
func WriteConsumer(t *testing.T, endpoint string) string {
	t.Helper()
	return writeFiles(t, map[string]string{
		"pom.xml":                                appPOM,
		"settings.xml":                           fmt.Sprintf(settingsTemplate, endpoint),
		"src/main/java/com/example/app/App.java": appJava,
	})
}

// writeFiles writes files (path → content) into a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
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

// Mvn runs the real mvn in the project dir with its settings.xml, an
// isolated HOME, token as CODEARTIFACT_AUTH_TOKEN and the given local
// repository, and returns its output; a failed build fails the test.
func Mvn(t *testing.T, dir, token, localRepo string, args ...string) string {
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

// Settings is the settings.xml of a project that resolves everything
// through endpoint with the token in CODEARTIFACT_AUTH_TOKEN (what Mvn
// sets).
func Settings(endpoint string) string { return fmt.Sprintf(settingsTemplate, endpoint) }
