package cluster_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"coffer/internal/testproc"
	"coffer/test/maventest"
)

// TestClusterMaven: mvn deploys hello through node 0, then builds hello
// and its consumer through the balancer, twice, each time from an empty
// local repository. The store is shared, so what one node fetched from the
// fake Maven Central the others serve from S3: the second build costs
// Central no artifact request, and no artifact is fetched twice unless two
// nodes raced for it, and then the store kept one version record.
func TestClusterMaven(t *testing.T) {
	maventest.CheckInstall(t)
	java := testproc.Need(t, "java")
	central := maventest.NewCentral(t)
	c := newCluster(t, 3, "--external-connection", "public:maven-central="+central.URL+"/")
	r := c.runner()
	r.AWS(c.URL, "create-domain", "--domain", "acme")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "central-store")
	r.AWS(c.URL, "associate-external-connection", "--domain", "acme", "--repository", "central-store", "--external-connection", "public:maven-central")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "libs", "--upstreams", "repositoryName=central-store")
	token := str(r.AWS(c.URL, "get-authorization-token", "--domain", "acme"), "authorizationToken")
	endpoint := str(r.AWS(c.URL, "get-repository-endpoint", "--domain", "acme", "--repository", "libs", "--format", "maven"), "repositoryEndpoint")
	if token == "" || !strings.HasPrefix(endpoint, c.URL+"/maven/") {
		t.Fatalf("token %q, endpoint %q (balancer %s)", token, endpoint, c.URL)
	}
	// The endpoint names the public URL (the balancer); its path is the same
	// on every node.
	node0 := c.nodes[0].URL + strings.TrimPrefix(endpoint, c.URL)

	// Deploys through node 0, without running the test: the fetches of the
	// surefire provider that runs it are left to the builds through the
	// balancer, so that nodes other than 0 fetch from Central too.
	proj := maventest.WriteProject(t, node0)
	m2 := filepath.Join(t.TempDir(), "m2-deploy")
	maventest.Mvn(t, proj, token, m2, "deploy", "-DskipTests")
	out := maventest.Mvn(t, proj, token, m2, "-f", "pom-snap.xml", "deploy", "-DskipTests")
	m := regexp.MustCompile(`hello-(1\.1\.0-\d{8}\.\d{6}-1)\.jar`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the SNAPSHOT deploy uploaded no timestamped jar:\n%s", out)
	}
	build := m[1]
	versions := map[string]string{}
	for _, v := range list(r.AWS(c.URL, "list-package-versions", "--domain", "acme", "--repository", "libs", "--format", "maven",
		"--namespace", "com.example", "--package", "hello"), "versions") {
		versions[str(v, "version")] = str(v, "status")
	}
	if versions["1.0.0"] != "Published" || versions[build] != "Published" || len(versions) != 2 {
		t.Fatalf("hello versions = %v, want 1.0.0 and %s Published", versions, build)
	}
	deployed := central.Counts()

	// Builds through the balancer, whose requests go round-robin to the
	// three nodes, from an empty local repository: hello with its test,
	// then the consumer of its SNAPSHOT, which must run.
	hello := maventest.WriteProject(t, endpoint)
	app := maventest.WriteConsumer(t, endpoint)
	buildAll := func(name string) {
		t.Helper()
		local := filepath.Join(t.TempDir(), name)
		if out := maventest.Mvn(t, hello, token, local, "package"); !strings.Contains(out, "Tests run: 1, Failures: 0") {
			t.Fatalf("%s: package did not run the test:\n%s", name, out)
		}
		if out := maventest.Mvn(t, app, token, local, "package"); !strings.Contains(out, "hello-"+build+".jar") {
			t.Fatalf("%s: the consumer did not get build %s:\n%s", name, build, out)
		}
		cp := strings.Join([]string{filepath.Join(app, "target", "app-1.0.jar"),
			filepath.Join(local, "com/example/hello/1.1.0-SNAPSHOT/hello-"+build+".jar"),
			filepath.Join(local, "org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar")}, string(os.PathListSeparator))
		if got := strings.TrimSpace(r.Must(app, java, "-cp", cp, "com.example.app.App")); got != "Hello, App!" {
			t.Fatalf("%s: the consumer says %q", name, got)
		}
	}
	before := mavenGets(t, c)
	buildAll("m2-build")
	first := central.Counts()
	buildAll("m2-rebuild")
	second := central.Counts()
	after := mavenGets(t, c)
	for i := range c.nodes {
		after[i] -= before[i]
	}
	t.Logf("GETs each node answered 200 during the builds through the balancer: %v", after)
	if slices.Contains(after, 0) {
		t.Errorf("a node served none of the builds through the balancer")
	}

	var fresh, again []string
	for p, n := range second {
		if _, ok := deployed[p]; !ok && first[p] > 0 {
			fresh = append(fresh, p)
		}
		if n > first[p] {
			again = append(again, fmt.Sprintf("%s ×%d", p, n-first[p]))
		}
	}
	slices.Sort(fresh)
	slices.Sort(again)
	t.Logf("the fake Central served %d paths for the deploys; %d more for the first build through the balancer: %v; in the second: %v",
		len(deployed), len(fresh), fresh, again)
	for _, p := range again {
		if !isMavenMetadata(p) {
			t.Errorf("the second build made the fake Central serve an artifact again: %s", p)
		}
	}

	// Over the whole test, an artifact is fetched at most once. A document
	// (maven-metadata.xml) is cached by each node in memory, so each may ask
	// for it. Two nodes fetching one artifact at the same moment would both
	// ask: allowed only if the store kept one version record of it.
	artifacts := 0
	for p, n := range second {
		if strings.HasSuffix(p, ".jar") || strings.HasSuffix(p, ".pom") {
			artifacts++
		}
		switch {
		case n == 1:
		case isMavenMetadata(p):
			if n > len(c.nodes) {
				t.Errorf("the fake Central served %s %d times, more than once per node", p, n)
			}
			t.Logf("the fake Central served %s %d times", p, n)
		default:
			ns, pkg, version, ok := mavenCoordinates(p)
			if !ok {
				t.Errorf("the fake Central served %s %d times", p, n)
				continue
			}
			for _, repo := range []string{"central-store", "libs"} {
				records := 0
				for _, v := range list(r.AWS(c.URL, "list-package-versions", "--domain", "acme", "--repository", repo, "--format", "maven",
					"--namespace", ns, "--package", pkg), "versions") {
					if str(v, "version") == version {
						records++
					}
				}
				if records != 1 {
					t.Errorf("%s fetched %d times from the fake Central: %s lists %d records of %s:%s %s", p, n, repo, records, ns, pkg, version)
				}
			}
			t.Logf("the fake Central served %s %d times (nodes raced), one version record", p, n)
		}
	}
	if artifacts < 40 {
		t.Errorf("the fake Central served only %d jars and POMs; was it used?", artifacts)
	}
	t.Logf("the fake Central served %d paths (%d jars and POMs)", len(second), artifacts)
	for i, n := range c.nodes {
		for _, line := range strings.Split(n.Logs.String(), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("node %d logged an error: %s", i, line)
			}
		}
	}
}

// mavenGets is, for each node, how many data-plane GETs it has answered
// 200, from its /metrics.
func mavenGets(t *testing.T, c *cluster) []int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^coffer_http_requests_total\{code="200",method="GET",surface="data"\} (\d+)$`)
	var out []int
	for _, n := range c.nodes {
		resp, err := http.Get(n.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		v := 0 // no such line before the node's first data-plane GET
		if m := re.FindSubmatch(b); m != nil {
			v, _ = strconv.Atoi(string(m[1]))
		}
		out = append(out, v)
	}
	return out
}

// isMavenMetadata tells a maven-metadata.xml document (or its checksum) from an
// artifact file.
func isMavenMetadata(p string) bool { return strings.HasPrefix(path.Base(p), "maven-metadata.xml") }

// mavenCoordinates are the Maven package and version of a file's path
// (/group/path/artifactId/version/file).
func mavenCoordinates(p string) (namespace, pkg, version string, ok bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 4 {
		return "", "", "", false
	}
	n := len(parts)
	return strings.Join(parts[:n-3], "."), parts[n-3], parts[n-2], true
}
