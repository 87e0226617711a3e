package hardening

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/testproc"
)

// upControlPlane is an AWS SDK CodeArtifact client for a running coffer,
// signed with the root key coffer wrote into its data dir.
func upControlPlane(t *testing.T, c *testproc.Coffer) *codeartifact.Client {
	t.Helper()
	return caClient(t, c.URL, rootCreds(t, c.DataDir))
}

// upRepo creates domain (if needed) and a repository holding
// the external connection, and returns the repository's native endpoint
// for format (ending in "/") and an authorization token.
func upRepo(t *testing.T, ca *codeartifact.Client, domain, repo, connection, format string) (endpoint, token string) {
	t.Helper()
	ctx := context.Background()
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String(domain)}); err != nil && !strings.Contains(err.Error(), "Conflict") {
		t.Fatal(err)
	}
	if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String(domain), Repository: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.AssociateExternalConnection(ctx, &codeartifact.AssociateExternalConnectionInput{Domain: aws.String(domain),
		Repository: aws.String(repo), ExternalConnection: aws.String(connection)}); err != nil {
		t.Fatal(err)
	}
	ep, err := ca.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{Domain: aws.String(domain),
		Repository: aws.String(repo), Format: types.PackageFormat(format)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ca.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String(domain)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint = aws.ToString(ep.RepositoryEndpoint)
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	return endpoint, aws.ToString(tok.AuthorizationToken)
}

// upGet sends GET u with the token and returns the status and body; a
// transfer that fails is status 0 with the error as body.
func upGet(t *testing.T, u, token string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, []byte(err.Error())
	}
	return resp.StatusCode, b
}

// victim is a loopback server that no upstream may make coffer reach: it
// records every request it receives.
type upVictim struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

func upNewVictim(t *testing.T) *upVictim {
	v := &upVictim{}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.hits = append(v.hits, r.Method+" "+r.URL.String())
		v.mu.Unlock()
		w.Write([]byte("secret of the internal network"))
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *upVictim) requests() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.hits...)
}

// upCheckRefused requires an error status that is not a server fault: the
// refused address is the upstream's fault (502 or 503), never a 500.
func upCheckRefused(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	if status != http.StatusBadGateway && status != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want 502 or 503\n%.400s", what, status, body)
	}
}

// TestUpstreamCannotReachInternalAddresses: an npm or PyPI upstream (a
// fixture on loopback, configured as the external connection) that
// redirects to, or lists a document URL on, another loopback port does not
// make coffer send that port a single request; the client gets 502/503.
func TestUpstreamCannotReachInternalAddresses(t *testing.T) {
	in := upNewVictim(t)
	tgz := []byte("not really a tarball")
	s512 := sha512.Sum512(tgz)
	integrity := "sha512-" + base64.StdEncoding.EncodeToString(s512[:])
	npmUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/evil-tarball":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"name":"evil-tarball","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"evil-tarball","version":"1.0.0",`+
				`"dist":{"tarball":%q,"integrity":%q}}}}`, in.srv.URL+"/latest/meta-data/evil-tarball-1.0.0.tgz", integrity)
		case "/evil-redirect":
			http.Redirect(w, r, in.srv.URL+"/latest/meta-data/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer npmUp.Close()
	sdist := []byte("not really an sdist")
	sdistSum := sha256.Sum256(sdist)
	pypiUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/simple/evil-link/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<!DOCTYPE html><html><body><a href="%s/packages/evil_link-1.0.tar.gz#sha256=%s">evil_link-1.0.tar.gz</a></body></html>`,
				in.srv.URL, hex.EncodeToString(sdistSum[:]))
		case "/simple/evil-redirect/":
			http.Redirect(w, r, in.srv.URL+"/simple/evil-redirect/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer pypiUp.Close()

	c := startCoffer(t, t.TempDir(), "--external-connection", "public:npmjs="+npmUp.URL+"/",
		"--external-connection", "public:pypi="+pypiUp.URL+"/")
	ca := upControlPlane(t, c)
	npmEP, token := upRepo(t, ca, "ssrf", "npm-store", "public:npmjs", "npm")
	pypiEP, _ := upRepo(t, ca, "ssrf", "pypi-store", "public:pypi", "pypi")

	// npm: a redirect of the packument.
	status, body := upGet(t, npmEP+"evil-redirect", token, "Accept", "application/json")
	upCheckRefused(t, "npm packument redirected to loopback", status, body)

	// npm: a packument whose dist.tarball is on loopback. The packument
	// itself is served (with coffer's own tarball URL); the tarball is not.
	status, body = upGet(t, npmEP+"evil-tarball", token, "Accept", "application/json")
	if status != http.StatusOK || !strings.Contains(string(body), `"1.0.0"`) {
		t.Errorf("npm packument with a loopback tarball URL: %d\n%.400s", status, body)
	}
	status, body = upGet(t, npmEP+"evil-tarball/-/evil-tarball-1.0.0.tgz", token)
	upCheckRefused(t, "npm tarball on loopback", status, body)

	// PyPI: a redirect of the simple page.
	status, body = upGet(t, pypiEP+"simple/evil-redirect/", token)
	upCheckRefused(t, "PyPI simple page redirected to loopback", status, body)

	// PyPI: a simple page linking a file on loopback.
	page := pypiEP + "simple/evil-link/"
	status, body = upGet(t, page, token, "Accept", "text/html")
	m := regexp.MustCompile(`href="([^"]*evil_link-1\.0\.tar\.gz)[^"]*"`).FindStringSubmatch(string(body))
	if status != http.StatusOK || m == nil {
		t.Fatalf("PyPI simple page with a loopback file URL: %d\n%.400s", status, body)
	}
	base, _ := url.Parse(page)
	file, err := base.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(file.String(), c.URL) {
		t.Fatalf("coffer's page links the file at %s, not at itself", file)
	}
	status, body = upGet(t, file.String(), token)
	upCheckRefused(t, "PyPI file on loopback", status, body)

	if hits := in.requests(); len(hits) > 0 {
		t.Errorf("the internal server received %d requests through coffer: %q", len(hits), hits)
	}
	if !strings.Contains(c.Logs.String(), strings.TrimPrefix(in.srv.URL, "http://")) {
		t.Errorf("coffer's logs do not name the refused address %s", in.srv.URL)
	}
}

// upHugePackument streams a generated packument of name with versions
// versions of about 10 KiB each (dependencies, a description of words, the
// fields a registry adds), deterministic for a given seed. It returns the
// number of bytes written.
func upHugePackument(w io.Writer, name string, versions int, seed uint64) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &upCounter{w: bw}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := strings.Fields("the a of registry package version module install build test lint bundle stream buffer parse render serve cache token " +
		"upstream mirror proxy tarball integrity digest manifest lock resolve semver range peer optional dev engine node browser")
	fmt.Fprintf(cw, `{"_id":%q,"name":%q,"dist-tags":{"latest":"1.%d.0"},"versions":{`, name, name, versions-1)
	for i := range versions {
		if i > 0 {
			cw.Write([]byte{','})
		}
		v := fmt.Sprintf("1.%d.0", i)
		var desc strings.Builder
		for desc.Len() < 7000 {
			desc.WriteString(words[rng.IntN(len(words))])
			desc.WriteByte(' ')
		}
		fmt.Fprintf(cw, `%q:{"name":%q,"version":%q,"description":%q,"license":"MIT","main":"index.js","dependencies":{`, v, name, v, desc.String())
		for d := range 120 {
			if d > 0 {
				cw.Write([]byte{','})
			}
			fmt.Fprintf(cw, `"dep-%03d-%x":"^%d.%d.%d"`, d, rng.Uint32()&0xfff, rng.IntN(20), rng.IntN(20), rng.IntN(20))
		}
		var sum [64]byte
		for j := range sum {
			sum[j] = byte(rng.Uint32())
		}
		fmt.Fprintf(cw, `},"scripts":{"test":"node test.js"},"_npmUser":{"name":"gen","email":"gen@example.com"},`+
			`"dist":{"tarball":"https://registry.example/%s/-/%s-%s.tgz","integrity":"sha512-%s","shasum":"%x"}}`,
			name, name, v, base64.StdEncoding.EncodeToString(sum[:]), sum[:20])
	}
	fmt.Fprintf(cw, `},"time":{"created":"2020-01-01T00:00:00.000Z"`)
	for i := range versions {
		fmt.Fprintf(cw, `,"1.%d.0":"2020-01-%02dT00:00:00.000Z"`, i, 1+i%28)
	}
	cw.Write([]byte(`}}`))
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

type upCounter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *upCounter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// upHugeVersions makes a packument of about 117 MiB.
const upHugeVersions = 11800

// Bounds of coffer's peak RSS (VmHWM) while it serves huge upstream
// packuments: for one request, and for three at once (for three packages).
// Before the fix the peaks were 911 MiB and 2693 MiB (after: about 200
// and 470 MiB).
const (
	upMaxPeakRSSOne   = 300 << 20
	upMaxPeakRSSThree = 600 << 20
)

// upHugeResult is what a client got for a packument.
type upHugeResult struct {
	status int
	n      int64 // identity bytes
	err    error
}

// upGetPackument asks for a packument with the given headers and reads
// the answer to its end.
func upGetPackument(u, token string, header []string) (r upHugeResult) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for j := 0; j+1 < len(header); j += 2 {
		req.Header.Set(header[j], header[j+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			r.err = err
			return r
		}
		body = zr
	}
	r.n, r.err = io.Copy(io.Discard, body)
	return r
}

// TestHugeUpstreamPackumentMemoryBounded: a client asks for a package
// whose upstream packument is about 117 MiB (generated as it is sent),
// then three clients ask at once for three such packages (full, gzipped;
// abbreviated; full, identity); coffer answers them all and its peak RSS
// stays bounded.
func TestHugeUpstreamPackumentMemoryBounded(t *testing.T) {
	var served atomic.Int64
	var size atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if !strings.HasPrefix(name, "huge-") {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		n, _ := upHugePackument(w, name, upHugeVersions, 1)
		size.Store(n)
	}))
	defer up.Close()

	c := startCoffer(t, t.TempDir(), "--external-connection", "public:npmjs="+up.URL+"/")
	ca := upControlPlane(t, c)
	ep, token := upRepo(t, ca, "mem", "store", "public:npmjs", "npm")
	pid := c.Cmd.Process.Pid
	before := peakRSS(t, pid)
	full := []string{"Accept", "application/json", "Accept-Encoding", "gzip"}
	check := func(what string, r upHugeResult) {
		t.Helper()
		if r.err != nil || r.status != http.StatusOK || r.n < 20<<20 {
			t.Errorf("%s: status %d, %d bytes, %v", what, r.status, r.n, r.err)
		}
	}

	start := time.Now()
	check("one request", upGetPackument(ep+"huge-one", token, full))
	one := peakRSS(t, pid)
	t.Logf("upstream packument %d MiB; one answer in %v; coffer's peak RSS %d MiB (%d MiB before)",
		size.Load()>>20, time.Since(start).Round(time.Millisecond), one>>20, before>>20)
	if size.Load() < 100<<20 {
		t.Fatalf("the generated packument is %d bytes, not the ~117 MiB the test is about", size.Load())
	}

	variants := [][]string{
		full,
		{"Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*", "Accept-Encoding", "gzip"},
		{"Accept", "application/json"},
	}
	results := make([]upHugeResult, len(variants))
	var wg sync.WaitGroup
	start = time.Now()
	for i, h := range variants {
		wg.Go(func() { results[i] = upGetPackument(ep+fmt.Sprintf("huge-three-%d", i), token, h) })
	}
	wg.Wait()
	three := peakRSS(t, pid)
	t.Logf("three answers at once in %v; coffer's peak RSS %d MiB; the upstream served %d packuments",
		time.Since(start).Round(time.Millisecond), three>>20, served.Load())
	for i, r := range results {
		check(fmt.Sprintf("request %d (%v)", i, variants[i]), r)
	}
	if one > upMaxPeakRSSOne {
		t.Errorf("coffer's peak RSS was %d MiB serving one request for a %d MiB upstream packument; want under %d MiB",
			one>>20, size.Load()>>20, upMaxPeakRSSOne>>20)
	}
	if three > upMaxPeakRSSThree {
		t.Errorf("coffer's peak RSS was %d MiB serving three requests for %d MiB upstream packuments at once; want under %d MiB",
			three>>20, size.Load()>>20, upMaxPeakRSSThree>>20)
	}
}

// upHugeSimplePage streams a PyPI simple page of about size bytes, HTML
// (PEP 503) or PEP 691 JSON, each file a distinct version of project.
func upHugeSimplePage(w io.Writer, project string, size int64, asJSON bool) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &upCounter{w: bw}
	norm := strings.ReplaceAll(project, "-", "_")
	files := int(size / 200)
	if asJSON {
		files = int(size / 260)
		fmt.Fprintf(cw, `{"meta":{"api-version":"1.1"},"name":%q,"versions":[`, project)
		for i := range files {
			if i > 0 {
				cw.Write([]byte{','})
			}
			fmt.Fprintf(cw, `"1.0.%d"`, i)
		}
		io.WriteString(cw, `],"files":[`)
	} else {
		io.WriteString(cw, "<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.0\"></head><body>\n")
	}
	for i := 0; i < files && cw.err == nil; i++ {
		s := sha256.Sum256([]byte(strconv.Itoa(i % 64)))
		sha := hex.EncodeToString(s[:])
		if asJSON {
			if i > 0 {
				cw.Write([]byte{','})
			}
			fmt.Fprintf(cw, `{"filename":"%s-1.0.%d.tar.gz","url":"../../files/%s-1.0.%d.tar.gz","hashes":{"sha256":"%s"},"requires-python":">=3.8","size":%d,"upload-time":"2020-01-01T00:00:00.000000Z"}`,
				norm, i, norm, i, sha, 1000+i)
		} else {
			fmt.Fprintf(cw, "<a href=\"../../files/%s-1.0.%d.tar.gz#sha256=%s\" data-requires-python=\"&gt;=3.8\">%s-1.0.%d.tar.gz</a><br/>\n",
				norm, i, sha, norm, i)
		}
	}
	if asJSON {
		io.WriteString(cw, "]}")
	} else {
		io.WriteString(cw, "</body></html>\n")
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

// upHugePageBytes is the size of the huge simple pages.
const upHugePageBytes = 100 << 20

// Bound of coffer's peak RSS while it serves a 100 MiB upstream simple
// page, HTML then JSON. Before the fix the peak was about 1,800 MiB.
const upMaxPeakRSSPage = 450 << 20

// TestHugeUpstreamSimplePageMemoryBounded: a client asks for a project
// whose upstream simple page is about 100 MiB of HTML (generated as it is
// sent), then another whose page is 100 MiB of PEP 691 JSON; coffer
// serves both and its peak RSS stays bounded.
func TestHugeUpstreamSimplePageMemoryBounded(t *testing.T) {
	var size atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		project := strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/")
		if !strings.HasPrefix(project, "huge-") {
			http.NotFound(w, r)
			return
		}
		asJSON := strings.HasPrefix(project, "huge-json")
		if asJSON {
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		} else {
			w.Header().Set("Content-Type", "text/html")
		}
		n, _ := upHugeSimplePage(w, project, upHugePageBytes, asJSON)
		size.Store(n)
	}))
	defer up.Close()

	c := startCoffer(t, t.TempDir(), "--external-connection", "public:pypi="+up.URL+"/simple/")
	ca := upControlPlane(t, c)
	ep, token := upRepo(t, ca, "mem", "store", "public:pypi", "pypi")
	pid := c.Cmd.Process.Pid
	before := peakRSS(t, pid)
	for _, tc := range []struct{ project, accept string }{
		{"huge-html", "text/html"},
		{"huge-json", "application/vnd.pypi.simple.v1+json"},
	} {
		start := time.Now()
		r := upGetPackument(ep+"simple/"+tc.project+"/", token, []string{"Accept", tc.accept})
		if r.err != nil || r.status != http.StatusOK || r.n < 20<<20 {
			t.Errorf("%s: status %d, %d bytes, %v", tc.project, r.status, r.n, r.err)
		}
		t.Logf("%s: upstream page %d MiB, answer of %d MiB in %v; coffer's peak RSS %d MiB (%d MiB before), RSS now %d MiB",
			tc.project, size.Load()>>20, r.n>>20, time.Since(start).Round(time.Millisecond), peakRSS(t, pid)>>20, before>>20, upRSS(t, pid)>>20)
	}
	if size.Load() < 90<<20 {
		t.Fatalf("the generated page is %d bytes, not the ~100 MiB the test is about", size.Load())
	}
	if peak := peakRSS(t, pid); peak > upMaxPeakRSSPage {
		t.Errorf("coffer's peak RSS was %d MiB serving 100 MiB upstream simple pages; want under %d MiB", peak>>20, upMaxPeakRSSPage>>20)
	}
}

// upRSS is the process's current resident set (VmRSS), in bytes.
func upRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// upGzipBomb is 512 MiB of spaces after prefix, gzipped (about 0.5 MiB).
func upGzipBomb(prefix string) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(prefix))
	chunk := bytes.Repeat([]byte{' '}, 1<<20)
	for range 512 {
		zw.Write(chunk)
	}
	zw.Close()
	return buf.Bytes()
}

// Bound of coffer's peak RSS while three gzip bombs (npm, PyPI HTML, PyPI
// JSON) are read at once. Before the fix the peak was 828 MiB (after: 28 MiB).
const upMaxPeakRSSBombs = 200 << 20

// TestUpstreamGzipBombsMemoryBounded: the upstreams answer with a gzip
// bomb (0.5 MiB that unpacks to 512 MiB, Content-Encoding: gzip) for an
// npm packument, a PyPI HTML page and a PyPI JSON page, asked for at once:
// coffer refuses them all (413) and its peak RSS stays bounded, because
// the decompressed bytes are cut at the document limit and not kept.
func TestUpstreamGzipBombsMemoryBounded(t *testing.T) {
	npmBomb := upGzipBomb(`{"name":"bomb","versions":{`)
	htmlBomb := upGzipBomb("<!DOCTYPE html><html><body>\n")
	jsonBomb := upGzipBomb(`{"meta":{"api-version":"1.1"},"files":[`)
	var served atomic.Int64
	bomb := func(ct string, b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(b)
		}
	}
	npmUp := httptest.NewServer(bomb("application/json", npmBomb))
	defer npmUp.Close()
	pyMux := http.NewServeMux()
	pyMux.Handle("/simple/bomb-html/", bomb("text/html", htmlBomb))
	pyMux.Handle("/simple/bomb-json/", bomb("application/vnd.pypi.simple.v1+json", jsonBomb))
	pyUp := httptest.NewServer(pyMux)
	defer pyUp.Close()

	c := startCoffer(t, t.TempDir(), "--external-connection", "public:npmjs="+npmUp.URL+"/",
		"--external-connection", "public:pypi="+pyUp.URL+"/simple/")
	ca := upControlPlane(t, c)
	npmEP, token := upRepo(t, ca, "bombs", "npm-store", "public:npmjs", "npm")
	pyEP, _ := upRepo(t, ca, "bombs", "pypi-store", "public:pypi", "pypi")
	pid := c.Cmd.Process.Pid
	before := peakRSS(t, pid)

	type req struct{ u, accept string }
	reqs := []req{
		{npmEP + "bomb", "application/json"},
		{pyEP + "simple/bomb-html/", "text/html"},
		{pyEP + "simple/bomb-json/", "application/vnd.pypi.simple.v1+json"},
	}
	for round := range 2 {
		results := make([]upHugeResult, len(reqs))
		start := time.Now()
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() { results[i] = upGetPackument(r.u, token, []string{"Accept", r.accept}) })
		}
		wg.Wait()
		for i, r := range results {
			if r.err != nil || r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("round %d, %s: status %d, %v; want 413", round, reqs[i].u, r.status, r.err)
			}
		}
		t.Logf("round %d: three bombs refused in %v; coffer's peak RSS %d MiB (%d MiB before)",
			round, time.Since(start).Round(time.Millisecond), peakRSS(t, pid)>>20, before>>20)
	}
	if served.Load() < 6 {
		t.Errorf("the upstreams served %d bombs, want 6", served.Load())
	}
	if peak := peakRSS(t, pid); peak > upMaxPeakRSSBombs {
		t.Errorf("coffer's peak RSS was %d MiB refusing three gzip bombs at once; want under %d MiB", peak>>20, upMaxPeakRSSBombs>>20)
	}
}
