package supplychain_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/test/maventest"
)

// rangePOM depends on a version range of the fixture library; the
// plugins are pinned to the versions the fixture Central serves.
const rangePOM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId><artifactId>ranged</artifactId><version>1.0</version><packaging>jar</packaging>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency><groupId>com.acme</groupId><artifactId>lib</artifactId><version>[1.0,2.0)</version></dependency>
  </dependencies>
  <build><pluginManagement><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
  </plugins></pluginManagement></build>
</project>
`

// acmeRepo writes com.acme:lib releases into a Maven repository layout,
// each file (and its .sha1) modified when its release was published: a
// file server then answers with that Last-Modified, as Maven Central does.
func acmeRepo(t *testing.T, published map[string]time.Time) string {
	t.Helper()
	root := t.TempDir()
	base := filepath.Join(root, "com", "acme", "lib")
	var versions string
	for _, v := range []string{"1.0", "1.1", "1.2"} {
		versions += "<version>" + v + "</version>"
		pom := fmt.Sprintf(`<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>`+
			`<groupId>com.acme</groupId><artifactId>lib</artifactId><version>%s</version></project>`, v)
		jar := emptyJar(t)
		for name, content := range map[string][]byte{"lib-" + v + ".pom": []byte(pom), "lib-" + v + ".jar": jar} {
			sum := sha1.Sum(content)
			for file, data := range map[string][]byte{name: content, name + ".sha1": []byte(hex.EncodeToString(sum[:]))} {
				p := filepath.Join(base, v, file)
				writeFiles(t, filepath.Dir(p), map[string]string{file: string(data)})
				if err := os.Chtimes(p, published[v], published[v]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	writeFiles(t, base, map[string]string{"maven-metadata.xml": `<?xml version="1.0" encoding="UTF-8"?>
<metadata><groupId>com.acme</groupId><artifactId>lib</artifactId><versioning><latest>1.2</latest><release>1.2</release>
<versions>` + versions + `</versions><lastUpdated>20261207000000</lastUpdated></versioning></metadata>`})
	return root
}

// mvn resolves a version range to the newest release past the cooldown:
// coffer's maven-metadata.xml leaves out the release published an hour
// ago, whose files are refused and never fetched.
func TestMavenRange(t *testing.T) {
	maventest.CheckInstall(t)
	central := maventest.NewCentral(t)
	now := time.Now()
	acme := http.FileServer(http.Dir(acmeRepo(t, map[string]time.Time{"1.0": now.Add(-30 * day), "1.1": now.Add(-10 * day), "1.2": now.Add(-time.Hour)})))
	var mu sync.Mutex
	fetched := map[string]int{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/com/acme/") {
			mu.Lock()
			fetched[r.URL.Path]++
			mu.Unlock()
			acme.ServeHTTP(w, r)
			return
		}
		central.Config.Handler.ServeHTTP(w, r)
	}))
	defer up.Close()

	w := newWorld(t, "--external-connection", "public:maven-central="+up.URL+"/")
	w.aws("create-domain", "--domain", "acme")
	endpoint, token := w.repos("acme", "mvn", "public:maven-central", "maven")
	w.coffer("rules", "set", "--domain", "acme", "--package-group", "/maven/com.acme/*", "--cooldown", "72h")

	proj := t.TempDir()
	writeFiles(t, proj, map[string]string{
		"pom.xml":      rangePOM,
		"settings.xml": maventest.Settings(endpoint),
		"src/main/java/com/example/ranged/App.java": "package com.example.ranged;\npublic class App {}\n",
	})
	m2 := filepath.Join(t.TempDir(), "m2")
	maventest.Mvn(t, proj, token, m2, "compile")
	got, err := os.ReadDir(filepath.Join(m2, "com", "acme", "lib"))
	if err != nil {
		t.Fatal(err)
	}
	var jars []string
	for _, e := range got {
		if _, err := os.Stat(filepath.Join(m2, "com", "acme", "lib", e.Name(), "lib-"+e.Name()+".jar")); err == nil {
			jars = append(jars, e.Name())
		} else {
			files, _ := os.ReadDir(filepath.Join(m2, "com", "acme", "lib", e.Name()))
			for _, f := range files {
				t.Logf("%s/%s", e.Name(), f.Name())
			}
		}
	}
	if strings.Join(jars, ",") != "1.1" {
		t.Fatalf("mvn resolved [1.0,2.0) to %v, want only 1.1 (1.2 is an hour old, the cooldown 72h)", jars)
	}
	code, body := basicGet(t, endpoint+"com/acme/lib/1.2/lib-1.2.jar", token, "*/*")
	if code != http.StatusForbidden || !strings.Contains(body, "in cooldown") {
		t.Errorf("GET a jar in cooldown: %d %s", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := fetched["/com/acme/lib/1.2/lib-1.2.jar"] + fetched["/com/acme/lib/1.2/lib-1.2.pom"]; n != 0 {
		t.Errorf("files of the release in cooldown were fetched upstream %d times", n)
	}
}

// emptyJar is a jar with only a manifest.
func emptyJar(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	f, err := z.Create("META-INF/MANIFEST.MF")
	if err == nil {
		_, err = f.Write([]byte("Manifest-Version: 1.0\r\n\r\n"))
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
