package maven_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob/blobtest"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/format/maven"
	"coffer/internal/server"
	"coffer/internal/store/sqlite"
	"coffer/internal/upstream"
)

const (
	account = "123456789012"
	token   = "tok-123"
)

var bg = context.Background()

// central is a fake Maven Central: files by path, optional .sha1 files,
// request counts, and a switch that takes it down.
type central struct {
	mu     sync.Mutex
	files  map[string][]byte
	sums   map[string]string // path -> .sha1 content (absent: no checksum file)
	counts map[string]int
	down   atomic.Bool
	gate   chan struct{} // when set, file bodies wait for it
	srv    *httptest.Server
}

func newCentral(t testing.TB) *central {
	c := &central{files: map[string][]byte{}, sums: map[string]string{}, counts: map[string]int{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func sha1hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
func md5hex(b []byte) string  { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func (c *central) add(path string, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files[path] = body
	c.sums[path] = sha1hex(body)
}

func (c *central) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[path]
}

func (c *central) serve(w http.ResponseWriter, r *http.Request) {
	if c.down.Load() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	c.mu.Lock()
	c.counts[p]++
	body, ok := c.files[p]
	if !ok {
		if base, isSum := strings.CutSuffix(p, ".sha1"); isSum {
			var s string
			s, ok = c.sums[base]
			body = []byte(s)
		}
	}
	gate := c.gate
	c.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if gate != nil && !strings.HasSuffix(p, ".sha1") {
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		<-gate
		w.Write(body[len(body)/2:])
		return
	}
	w.Write(body)
}

// allow authorizes everything except the actions listed in deny.
type allow struct {
	mu   sync.Mutex
	deny map[string]bool
}

func (a *allow) Authorize(ctx context.Context, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.deny[action] {
		return fault.AccessDenied("not allowed to %s on %s", action, resource)
	}
	return nil
}

type env struct {
	t       testing.TB
	svc     *artifact.Service
	blobs   *blobtest.Fillable
	h       *maven.Handler
	authz   *allow
	central *central
	srv     *httptest.Server
	repo    string        // endpoint of my-repo
	store   string        // endpoint of my-repo-store
	joins   *atomic.Int64 // callers that joined a download in flight
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	fsBlobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	blobs := &blobtest.Fillable{Store: fsBlobs}
	c := newCentral(t)
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: account,
		ExternalConnectionURLs: map[string]string{"public:maven-central": c.srv.URL + "/"}}, meta, blobs, slog.New(slog.DiscardHandler))
	dom := artifact.DomainRef{Name: "dx"}
	if _, err := svc.CreateDomain(bg, "dx", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRepository(bg, artifact.RepoRef{DomainRef: dom, Repository: "my-repo-store"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssociateExternalConnection(bg, artifact.RepoRef{DomainRef: dom, Repository: "my-repo-store"}, "public:maven-central"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRepository(bg, artifact.RepoRef{DomainRef: dom, Repository: "my-repo"}, "", []string{"my-repo-store"}, nil); err != nil {
		t.Fatal(err)
	}
	az := &allow{deny: map[string]bool{}}
	joins := &atomic.Int64{}
	h := maven.New(svc, az, maven.Config{Fetcher: format.NewFetcher(format.FetcherConfig{Blobs: blobs, URLs: svc,
		Upstream: upstream.Config{Retries: -1, RetryBackoff: 1, OnJoin: func(string) { joins.Add(1) }}})})
	dp := server.DataPlane(map[string]http.Handler{artifact.FormatMaven: h}, func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		if tok != token {
			return nil, fault.Unauthenticated("", "bad token")
		}
		return &auth.Principal{ARN: "arn:aws:iam::" + account + ":root", Account: account, Type: auth.TypeAccount}, nil
	})
	srv := httptest.NewServer(dp)
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, blobs: blobs, h: h, authz: az, central: c, srv: srv, joins: joins,
		repo: srv.URL + "/maven/d/dx-" + account + "/my-repo/", store: srv.URL + "/maven/d/dx-" + account + "/my-repo-store/"}
}

type response struct {
	status int
	body   []byte
	header http.Header
	err    error
}

func (e *env) do(method, url string, body []byte) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth("aws", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header, err: err}
}

func (e *env) want(method, url string, body []byte, status int) []byte {
	e.t.Helper()
	r := e.do(method, url, body)
	if r.err != nil || r.status != status {
		e.t.Fatalf("%s %s: %d %v (%s), want %d", method, url, r.status, r.err, r.body, status)
	}
	return r.body
}

func (e *env) pkg(repo, ns, name string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "dx"}, Repository: repo},
		Format: artifact.FormatMaven, Namespace: ns, Package: name}
}

func (e *env) version(repo, ns, name, version string) *artifact.Version {
	e.t.Helper()
	v, err := e.svc.DescribePackageVersion(bg, artifact.VersionRef{PackageRef: e.pkg(repo, ns, name), Version: version})
	if err != nil {
		e.t.Fatalf("DescribePackageVersion %s %s:%s:%s: %v", repo, ns, name, version, err)
	}
	return v
}

const lang3POM = `<project><modelVersion>4.0.0</modelVersion><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId>
<version>3.12.0</version><name>Apache Commons Lang</name><description>Helpers.</description><url>https://commons.apache.org/lang</url>
<licenses><license><name>Apache-2.0</name></license></licenses>
<dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency></dependencies></project>`

func TestReadThroughExternalConnection(t *testing.T) {
	e := newEnv(t)
	pom := "org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.pom"
	jar := "org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar"
	jarBody := bytes.Repeat([]byte("jar bytes "), 100000)
	e.central.add(pom, []byte(lang3POM))
	e.central.add(jar, jarBody)

	// Unauthenticated: the Basic challenge Maven waits for.
	resp, err := http.Get(e.repo + pom)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("no credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	r := e.do("GET", e.repo+pom, nil)
	if r.err != nil || r.status != 200 || string(r.body) != lang3POM || r.header.Get("Content-Type") != "text/xml" {
		t.Fatalf("GET pom: %d %v %q %q", r.status, r.err, r.header.Get("Content-Type"), r.body)
	}
	if got := string(e.want("GET", e.repo+pom+".sha1", nil, 200)); got != sha1hex([]byte(lang3POM)) {
		t.Errorf("pom.sha1 = %q", got)
	}
	if got := string(e.want("GET", e.repo+pom+".md5", nil, 200)); got != md5hex([]byte(lang3POM)) {
		t.Errorf("pom.md5 = %q", got)
	}
	r = e.do("GET", e.repo+jar, nil)
	if r.err != nil || r.status != 200 || !bytes.Equal(r.body, jarBody) || r.header.Get("Content-Type") != "application/java-archive" {
		t.Fatalf("GET jar: %d %v %d bytes", r.status, r.err, len(r.body))
	}
	// Again, from both repositories: served from what is stored.
	for range 2 {
		if b := e.want("GET", e.repo+jar, nil, 200); !bytes.Equal(b, jarBody) {
			t.Fatal("cached jar differs")
		}
		if b := e.want("GET", e.store+jar, nil, 200); !bytes.Equal(b, jarBody) {
			t.Fatal("jar from the -store repository differs")
		}
	}
	for _, p := range []string{pom, pom + ".sha1", jar, jar + ".sha1"} {
		if n := e.central.count(p); n != 1 {
			t.Errorf("upstream saw %s %d times, want 1", p, n)
		}
	}
	// Retained in the requested repository and in the one holding the connection.
	for _, repo := range []string{"my-repo", "my-repo-store"} {
		v := e.version(repo, "org.apache.commons", "commons-lang3", "3.12.0")
		if v.Status != artifact.StatusPublished || v.OriginType != artifact.OriginExternal || v.Summary != "Helpers." ||
			v.HomePage != "https://commons.apache.org/lang" || len(v.Licenses) != 1 ||
			len(v.Dependencies) != 1 || v.Dependencies[0].Package != "junit" || v.Dependencies[0].DependencyType != "test" {
			t.Errorf("%s: version = %+v", repo, v.Version)
		}
		p, err := e.svc.DescribePackage(bg, e.pkg(repo, "org.apache.commons", "commons-lang3"))
		if err != nil || p.Publish != artifact.Block || p.Upstream != artifact.Allow {
			t.Errorf("%s: package origin = %+v %v", repo, p, err)
		}
	}
	// HEAD of a file not fetched yet fetches and stores it, and sends no body.
	src := "org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0-sources.jar"
	e.central.add(src, []byte("sources"))
	r = e.do("HEAD", e.repo+src, nil)
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != "7" {
		t.Errorf("HEAD: %d %q %q", r.status, r.body, r.header.Get("Content-Length"))
	}
	e.want("GET", e.repo+src, nil, 200)
	if n := e.central.count(src); n != 1 {
		t.Errorf("upstream saw the sources jar %d times", n)
	}
	// Missing everywhere: 404 (and the upstream is asked once per negative-cache TTL).
	missing := "org/apache/commons/commons-lang3/9.9/commons-lang3-9.9.jar"
	e.want("GET", e.repo+missing, nil, 404)
	e.want("GET", e.repo+missing+".sha1", nil, 404)
	// A failing upstream never hides what is cached.
	e.central.down.Store(true)
	if b := e.want("GET", e.repo+jar, nil, 200); !bytes.Equal(b, jarBody) {
		t.Fatal("cached jar while the upstream is down")
	}
	e.want("GET", e.repo+"org/apache/commons/commons-lang3/3.11/commons-lang3-3.11.jar", nil, 503)
}

func TestFetchVerifiesTheUpstreamChecksum(t *testing.T) {
	e := newEnv(t)
	bad := "com/acme/lib/1.0/lib-1.0.jar"
	e.central.add(bad, bytes.Repeat([]byte("x"), 50000))
	e.central.sums[bad] = strings.Repeat("0", 40)
	r := e.do("GET", e.repo+bad, nil)
	if r.err == nil && r.status == 200 {
		t.Fatalf("a body that fails its upstream checksum was delivered whole: %d bytes", len(r.body))
	}
	// Nothing was recorded; the checksum GET finds nothing either.
	if _, err := e.svc.DescribePackageVersion(bg, artifact.VersionRef{PackageRef: e.pkg("my-repo-store", "com.acme", "lib"), Version: "1.0"}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("version after a failed verification: %v", err)
	}
	if r := e.do("GET", e.repo+bad+".sha1", nil); r.status == 200 {
		t.Errorf("checksum of an unverified file: %d %q", r.status, r.body)
	}

	// No .sha1 upstream: accepted as is.
	plain := "com/acme/plain/1.0/plain-1.0.pom"
	e.central.add(plain, []byte("<project><groupId>com.acme</groupId><artifactId>plain</artifactId><version>1.0</version></project>"))
	delete(e.central.sums, plain)
	e.want("GET", e.repo+plain, nil, 200)
	if v := e.version("my-repo", "com.acme", "plain", "1.0"); v.Status != artifact.StatusPublished {
		t.Errorf("unverified fetch: %+v", v.Version)
	}
}

func TestConcurrentReadsShareOneDownload(t *testing.T) {
	e := newEnv(t)
	jar := "com/acme/big/2.0/big-2.0.jar"
	body := bytes.Repeat([]byte("0123456789"), 200000)
	e.central.add(jar, body)
	e.central.gate = make(chan struct{})
	const clients = 50
	var wg sync.WaitGroup
	results := make([]response, clients)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = e.do("GET", e.repo+jar, nil) }()
	}
	// The upstream holds its answer until every other client has joined the
	// one download in flight.
	deadline := time.Now().Add(30 * time.Second)
	for e.joins.Load() < clients-1 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d clients joined the download", e.joins.Load(), clients-1)
		}
		time.Sleep(time.Millisecond) // polling a counter, not waiting for time to pass
	}
	close(e.central.gate)
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.status != 200 || !bytes.Equal(r.body, body) {
			t.Errorf("client %d: %d %v %d bytes", i, r.status, r.err, len(r.body))
		}
	}
	if n := e.central.count(jar); n != 1 {
		t.Errorf("upstream saw %d downloads, want 1", n)
	}
}

const helloPOM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId><artifactId>hello</artifactId><version>%s</version><packaging>jar</packaging>
  <description>Hello.</description>
  <dependencies>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>3.12.0</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency>
  </dependencies>
</project>`

// deploy PUTs a file and its .sha1 and .md5 as mvn does.
func (e *env) deploy(path string, body []byte) {
	e.t.Helper()
	e.want("PUT", e.repo+path, body, 201)
	e.want("PUT", e.repo+path+".sha1", []byte(sha1hex(body)), 201)
	e.want("PUT", e.repo+path+".md5", []byte(md5hex(body)), 201)
}

func metadataXML(versions ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><metadata><groupId>com.example</groupId><artifactId>hello</artifactId><versioning>`)
	b.WriteString("<release>" + versions[len(versions)-1] + "</release><versions>")
	for _, v := range versions {
		b.WriteString("<version>" + v + "</version>")
	}
	b.WriteString("</versions><lastUpdated>20261125181057</lastUpdated></versioning></metadata>")
	return []byte(b.String())
}

func TestDeployRelease(t *testing.T) {
	e := newEnv(t)
	dir := "com/example/hello/1.0.0/"
	pom, jar := []byte(fmt.Sprintf(helloPOM, "1.0.0")), []byte("PK hello jar")
	e.deploy(dir+"hello-1.0.0.pom", pom)
	e.deploy(dir+"hello-1.0.0.jar", jar)

	// Unfinished: not downloadable, not listed; its metadata is 404 (not 401/403).
	if v := e.version("my-repo", "com.example", "hello", "1.0.0"); v.Status != artifact.StatusUnfinished {
		t.Fatalf("before maven-metadata.xml: %s", v.Status)
	}
	e.want("GET", e.repo+dir+"hello-1.0.0.jar", nil, 404)
	e.want("GET", e.repo+"com/example/hello/maven-metadata.xml", nil, 404)
	e.want("GET", e.repo+"com/example/hello/maven-metadata.xml.sha1", nil, 404)

	md := metadataXML("1.0.0")
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml", md, 201)
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml.sha1", []byte(sha1hex(md)), 201)
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml.md5", []byte(md5hex(md)), 201)
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml.sha1", []byte(strings.Repeat("1", 40)), 400)

	v := e.version("my-repo", "com.example", "hello", "1.0.0")
	if v.Status != artifact.StatusPublished || v.OriginType != artifact.OriginInternal || v.Summary != "Hello." {
		t.Fatalf("after maven-metadata.xml: %+v", v.Version)
	}
	_, deps, _, err := e.svc.ListPackageVersionDependencies(bg, artifact.VersionRef{PackageRef: e.pkg("my-repo", "com.example", "hello"), Version: "1.0.0"}, artifact.PageRequest{})
	if err != nil || len(deps) != 2 || deps[0].Package != "commons-lang3" || deps[0].DependencyType != "compile" || deps[1].Package != "junit" || deps[1].DependencyType != "test" {
		t.Errorf("dependencies = %+v %v", deps, err)
	}
	p, err := e.svc.DescribePackage(bg, e.pkg("my-repo", "com.example", "hello"))
	if err != nil || p.Publish != artifact.Allow || p.Upstream != artifact.Block {
		t.Errorf("package origin = %+v %v", p, err)
	}
	if b := e.want("GET", e.repo+dir+"hello-1.0.0.jar", nil, 200); !bytes.Equal(b, jar) {
		t.Errorf("jar = %q", b)
	}
	doc := e.want("GET", e.repo+"com/example/hello/maven-metadata.xml", nil, 200)
	m, err := maven.ParseMetadata(doc)
	if err != nil || !slices.Equal(m.Versioning.Versions, []string{"1.0.0"}) || m.Versioning.Release != "1.0.0" || m.Versioning.Latest != "1.0.0" {
		t.Errorf("generated maven-metadata.xml:\n%s", doc)
	}
	if sum := e.want("GET", e.repo+"com/example/hello/maven-metadata.xml.sha1", nil, 200); string(sum) != sha1hex(doc) {
		t.Errorf("maven-metadata.xml.sha1 = %s, want %s", sum, sha1hex(doc))
	}

	// Re-deploying: the same bytes are fine, other bytes a conflict.
	e.want("PUT", e.repo+dir+"hello-1.0.0.jar", jar, 201)
	e.want("PUT", e.repo+dir+"hello-1.0.0.jar", []byte("other bytes"), 409)
	// A new file for the published version is accepted; a bad checksum of it is 400.
	e.want("PUT", e.repo+dir+"hello-1.0.0-sources.jar", []byte("sources"), 201)
	e.want("PUT", e.repo+dir+"hello-1.0.0-sources.jar.sha1", []byte(strings.Repeat("a", 40)), 400)
	if got := e.want("GET", e.repo+dir+"hello-1.0.0-sources.jar.sha1", nil, 200); string(got) != sha1hex([]byte("sources")) {
		t.Errorf("server-computed sha1 after a bad upload: %s", got)
	}
}

func TestChecksumVerificationKeepsVersionUnfinished(t *testing.T) {
	e := newEnv(t)
	dir := "com/example/hello/2.0.0/"
	jar := []byte("PK 2.0.0")
	e.want("PUT", e.repo+dir+"hello-2.0.0.jar.sha1", []byte(sha1hex(jar)), 404) // not uploaded yet
	e.want("PUT", e.repo+dir+"hello-2.0.0.jar", jar, 201)
	e.want("PUT", e.repo+dir+"hello-2.0.0.jar.sha1", []byte(strings.ToUpper(sha1hex(jar))), 400) // case-sensitive
	e.want("PUT", e.repo+dir+"hello-2.0.0.jar.md5", []byte(md5hex(jar)), 201)
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml", metadataXML("2.0.0"), 400)
	if v := e.version("my-repo", "com.example", "hello", "2.0.0"); v.Status != artifact.StatusUnfinished || !strings.Contains(v.Metadata, "hello-2.0.0.jar.sha1") {
		t.Fatalf("after a failed verification: %s, metadata %q", v.Status, v.Metadata)
	}
	// The failure is kept with the version, not in the handler: another
	// handler (a restarted process) refuses to publish it as well.
	other := newEnvSharing(t, e)
	e.want("PUT", other+"com/example/hello/maven-metadata.xml", metadataXML("2.0.0"), 400)
	e.want("PUT", e.repo+dir+"hello-2.0.0.jar.sha1", []byte(sha1hex(jar)+"\n"), 201)
	if v := e.version("my-repo", "com.example", "hello", "2.0.0"); v.Metadata != "" {
		t.Fatalf("a matching upload left the failure recorded: %q", v.Metadata)
	}
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml", metadataXML("2.0.0"), 201)
	if v := e.version("my-repo", "com.example", "hello", "2.0.0"); v.Status != artifact.StatusPublished {
		t.Fatalf("after a good checksum: %s", v.Status)
	}
	// Malformed uploads.
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml", []byte("<metadata>"), 400)
	e.want("PUT", e.repo+"com/example/other/maven-metadata.xml", metadataXML("2.0.0"), 400) // describes another artifact
	e.want("PUT", e.repo+dir+"hello-2.0.0.pom", []byte("not a pom"), 400)
	e.want("PUT", e.repo+"com/example/hello/2.0.0/hello-2.0.0.jar.sha1", nil, 400)
	e.want("PUT", e.repo+"com.example/hello/2.0.0/hello-2.0.0.jar", jar, 400)
	e.want("PUT", e.repo+"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT.jar", jar, 400) // non-unique SNAPSHOT
	e.want("DELETE", e.repo+dir+"hello-2.0.0.jar", nil, 405)
}

func snapshotXML(ts string, build int) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0"><groupId>com.example</groupId><artifactId>hello</artifactId><version>1.1.0-SNAPSHOT</version>
<versioning><snapshot><timestamp>%[1]s</timestamp><buildNumber>%[2]d</buildNumber></snapshot><lastUpdated>20261125181235</lastUpdated>
<snapshotVersions><snapshotVersion><extension>jar</extension><value>1.1.0-%[1]s-%[2]d</value><updated>20261125181235</updated></snapshotVersion>
<snapshotVersion><extension>pom</extension><value>1.1.0-%[1]s-%[2]d</value><updated>20261125181235</updated></snapshotVersion></snapshotVersions>
</versioning></metadata>`, ts, build))
}

func TestDeploySnapshots(t *testing.T) {
	e := newEnv(t)
	dir := "com/example/hello/1.1.0-SNAPSHOT/"
	e.want("GET", e.repo+dir+"maven-metadata.xml", nil, 404)
	builds := []struct {
		ts  string
		n   int
		jar []byte
	}{{"20261125.181235", 1, []byte("PK build one")}, {"20261125.190000", 2, []byte("PK build two")}}
	for _, b := range builds {
		name := fmt.Sprintf("hello-1.1.0-%s-%d", b.ts, b.n)
		e.deploy(dir+name+".pom", []byte(fmt.Sprintf(helloPOM, "1.1.0-SNAPSHOT")))
		e.deploy(dir+name+".jar", b.jar)
		v := e.version("my-repo", "com.example", "hello", fmt.Sprintf("1.1.0-%s-%d", b.ts, b.n))
		if v.Status != artifact.StatusUnfinished {
			t.Fatalf("build %d before its metadata: %s", b.n, v.Status)
		}
		md := snapshotXML(b.ts, b.n)
		e.want("PUT", e.repo+dir+"maven-metadata.xml", md, 201)
		e.want("PUT", e.repo+dir+"maven-metadata.xml.sha1", []byte(sha1hex(md)), 201)
		e.want("PUT", e.repo+dir+"maven-metadata.xml.md5", []byte(md5hex(md)), 201)
		e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml", metadataXML("1.1.0-SNAPSHOT"), 201)
		if got := e.want("GET", e.repo+dir+"maven-metadata.xml", nil, 200); !bytes.Equal(got, md) {
			t.Errorf("version-level metadata after build %d:\n%s", b.n, got)
		}
	}
	one, two := e.version("my-repo", "com.example", "hello", "1.1.0-20261125.181235-1"), e.version("my-repo", "com.example", "hello", "1.1.0-20261125.190000-2")
	if one.Status != artifact.StatusUnlisted || two.Status != artifact.StatusPublished {
		t.Errorf("builds: one %s, two %s", one.Status, two.Status)
	}
	// X-SNAPSHOT names serve the newest build; every build stays addressable.
	if got := e.want("GET", e.repo+dir+"hello-1.1.0-SNAPSHOT.jar", nil, 200); string(got) != "PK build two" {
		t.Errorf("non-unique SNAPSHOT jar = %q", got)
	}
	if got := e.want("GET", e.repo+dir+"hello-1.1.0-SNAPSHOT.jar.sha1", nil, 200); string(got) != sha1hex([]byte("PK build two")) {
		t.Errorf("non-unique SNAPSHOT jar.sha1 = %q", got)
	}
	if got := e.want("GET", e.repo+dir+"hello-1.1.0-20261125.181235-1.jar", nil, 200); string(got) != "PK build one" {
		t.Errorf("older build jar = %q", got)
	}
	doc := e.want("GET", e.repo+"com/example/hello/maven-metadata.xml", nil, 200)
	m, _ := maven.ParseMetadata(doc)
	if m == nil || !slices.Equal(m.Versioning.Versions, []string{"1.1.0-SNAPSHOT"}) || m.Versioning.Latest != "1.1.0-SNAPSHOT" || m.Versioning.Release != "" {
		t.Errorf("artifact-level metadata with SNAPSHOTs:\n%s", doc)
	}
	// The -store repository has none of it (SNAPSHOTs stay where they were deployed).
	e.want("GET", e.store+dir+"maven-metadata.xml", nil, 404)
	// Metadata for a build that was never uploaded.
	e.want("PUT", e.repo+dir+"maven-metadata.xml", snapshotXML("20261126.000000", 3), 404)
}

func TestMetadataMergesUpstreamAndCaches(t *testing.T) {
	e := newEnv(t)
	base := "org/apache/commons/commons-lang3/"
	e.central.add(base+"3.12.0/commons-lang3-3.12.0.pom", []byte(lang3POM))
	upstreamDoc := `<metadata><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><versioning>
<latest>3.13.0</latest><release>3.13.0</release><versions><version>3.9</version><version>3.13.0</version><version>3.12.0</version>
<version>4.0-SNAPSHOT</version></versions><lastUpdated>20230801000000</lastUpdated></versioning></metadata>`
	e.central.add(base+"maven-metadata.xml", []byte(upstreamDoc))

	e.want("GET", e.repo+base+"3.12.0/commons-lang3-3.12.0.pom", nil, 200)
	doc := e.want("GET", e.repo+base+"maven-metadata.xml", nil, 200)
	m, err := maven.ParseMetadata(doc)
	if err != nil || !slices.Equal(m.Versioning.Versions, []string{"3.9", "3.12.0", "3.13.0"}) || m.Versioning.Release != "3.13.0" {
		t.Fatalf("merged metadata:\n%s", doc)
	}
	again := e.want("GET", e.repo+base+"maven-metadata.xml", nil, 200)
	if !bytes.Equal(doc, again) {
		t.Error("two reads differ")
	}
	if n := e.central.count(base + "maven-metadata.xml"); n != 1 {
		t.Errorf("upstream metadata read %d times within its TTL", n)
	}
	// A version archived in the repository is not offered from the
	// upstream document either (its files could not be read), and comes
	// back when it is published again.
	lang3 := e.pkg("my-repo", "org.apache.commons", "commons-lang3")
	setStatus := func(status string) {
		t.Helper()
		if res, err := e.svc.UpdatePackageVersionsStatus(bg, lang3, artifact.StatusUpdate{Versions: []string{"3.12.0"}, TargetStatus: status}); err != nil || len(res.Failed) != 0 {
			t.Fatalf("status %s: %+v %v", status, res, err)
		}
	}
	setStatus(artifact.StatusArchived)
	if m, _ := maven.ParseMetadata(e.want("GET", e.repo+base+"maven-metadata.xml", nil, 200)); m == nil || !slices.Equal(m.Versioning.Versions, []string{"3.9", "3.13.0"}) {
		t.Errorf("metadata with 3.12.0 archived: %v", m)
	}
	setStatus(artifact.StatusPublished)
	if got := e.want("GET", e.repo+base+"maven-metadata.xml", nil, 200); !bytes.Equal(got, doc) {
		t.Errorf("metadata after republishing 3.12.0:\n%s", got)
	}
	// The upstream fails: the repository's own versions are still listed.
	e.central.down.Store(true)
	e2 := newEnvSharing(t, e) // a fresh handler: nothing in its caches
	doc = e.want("GET", e2+base+"maven-metadata.xml", nil, 200)
	if m, _ := maven.ParseMetadata(doc); m == nil || !slices.Equal(m.Versioning.Versions, []string{"3.12.0"}) {
		t.Errorf("metadata with the upstream down:\n%s", doc)
	}
	// Nothing anywhere and the upstream down: 503, not a claim that it does not exist.
	e.want("GET", e2+"org/unknown/thing/maven-metadata.xml", nil, 503)
	e.central.down.Store(false)
	e.want("GET", e2+"org/unknown/thing/maven-metadata.xml", nil, 404)

	// A package that only the requested repository has, and a denied reader.
	e.authz.deny["codeartifact:ReadFromRepository"] = true
	e.want("GET", e.repo+base+"maven-metadata.xml", nil, 403)
	e.want("GET", e.repo+base+"3.12.0/commons-lang3-3.12.0.pom", nil, 403)
	delete(e.authz.deny, "codeartifact:ReadFromRepository")
	e.authz.deny["codeartifact:PublishPackageVersion"] = true
	e.want("PUT", e.repo+"com/example/hello/1.0.0/hello-1.0.0.jar", []byte("x"), 403)
	delete(e.authz.deny, "codeartifact:PublishPackageVersion")
	e.authz.deny["codeartifact:PutPackageMetadata"] = true
	e.want("PUT", e.repo+"com/example/hello/1.0.0/hello-1.0.0.jar", []byte("x"), 201)
	e.want("PUT", e.repo+"com/example/hello/maven-metadata.xml", metadataXML("1.0.0"), 403)
}

// newEnvSharing returns the endpoint of my-repo served by a second handler
// over the same service and blob store (another coffer process, say).
func newEnvSharing(t testing.TB, e *env) string {
	h := maven.New(e.svc, e.authz, maven.Config{Fetcher: format.NewFetcher(format.FetcherConfig{URLs: e.svc, Upstream: upstream.Config{Retries: -1}})})
	dp := server.DataPlane(map[string]http.Handler{artifact.FormatMaven: h}, func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		return &auth.Principal{ARN: "arn:aws:iam::" + account + ":root", Account: account, Type: auth.TypeAccount}, nil
	})
	srv := httptest.NewServer(dp)
	t.Cleanup(srv.Close)
	return srv.URL + "/maven/d/dx-" + account + "/my-repo/"
}

// BenchmarkMetadataHit reads artifact-level maven-metadata.xml of packages
// with 20 and 2,000 published versions, with the rendered document cached:
// a hit reads no version, so both cost the same (ViewPackage, the cost of a
// miss, is measured beside them).
func BenchmarkMetadataHit(b *testing.B) {
	e := newEnv(b)
	for _, n := range []int{20, 2000} {
		name := fmt.Sprintf("many%d", n)
		ref := e.pkg("my-repo", "com.example", name)
		for i := range n {
			v := fmt.Sprintf("1.%d.%d", i/100, i%100)
			if _, err := e.svc.PutAsset(bg, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: ref, Version: v},
				Asset: name + "-" + v + ".jar", NewStatus: artifact.StatusPublished}, strings.NewReader("jar "+v)); err != nil {
				b.Fatal(err)
			}
		}
		url := e.repo + "com/example/" + name + "/maven-metadata.xml"
		get := func() {
			req, _ := http.NewRequest("GET", url, nil)
			req.SetBasicAuth("aws", token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("GET: %v %v", resp, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		get()
		b.Run(fmt.Sprintf("http/versions=%d", n), func(b *testing.B) {
			for b.Loop() {
				get()
			}
		})
		b.Run(fmt.Sprintf("ViewPackage/versions=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := e.svc.ViewPackage(bg, ref, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCachedFileGet reads a cached jar through the Maven handler and
// the engine (token auth and policy evaluation are the server's, not here).
func BenchmarkCachedFileGet(b *testing.B) {
	e := newEnv(b)
	jar := "org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar"
	e.central.add(jar, bytes.Repeat([]byte("j"), 595165))
	url := e.repo + jar
	get := func() {
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth("aws", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get()
	for b.Loop() {
		get()
	}
}
