package cluster_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeNPM is a public npm registry with one package, whose tarball
// answers are held until released, so that the test decides which fetches
// overlap.
type fakeNPM struct {
	srv      *httptest.Server
	tgz      []byte
	fetches  atomic.Int32 // tarball requests
	released chan struct{}
}

func newFakeNPM(t *testing.T) *fakeNPM {
	f := &fakeNPM{tgz: npmTarball(t, "left-pad", "1.3.0"), released: make(chan struct{})}
	s1, s512 := sha1.Sum(f.tgz), sha512.Sum512(f.tgz)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/left-pad":
			doc := map[string]any{"name": "left-pad", "dist-tags": map[string]string{"latest": "1.3.0"},
				"versions": map[string]any{"1.3.0": map[string]any{"name": "left-pad", "version": "1.3.0",
					"dist": map[string]string{"tarball": f.srv.URL + "/left-pad/-/left-pad-1.3.0.tgz", "shasum": hex.EncodeToString(s1[:]),
						"integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:])}}}}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
		case "/left-pad/-/left-pad-1.3.0.tgz":
			f.fetches.Add(1)
			select {
			case <-f.released:
			case <-time.After(30 * time.Second):
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(f.tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// npmTarball is a package tarball as npm packs it.
func npmTarball(t *testing.T, name, version string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for file, body := range map[string]string{
		"package/package.json": `{"name":"` + name + `","version":"` + version + `","main":"index.js"}`,
		"package/index.js":     strings.Repeat("// padding\n", 2000) + "module.exports = (s, n) => String(s).padStart(n);\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(499162500, 0)}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// TestClusterUpstreamFetchConverges: 16 clients on each of two nodes ask
// for the same upstream tarball at once. While the upstream holds its
// answer, each node has one fetch there (its clients' fetches are
// deduplicated); the two nodes' fetches overlap, and the store converges
// on one version with one asset, which every client received
// byte-identical.
func TestClusterUpstreamFetchConverges(t *testing.T) {
	npmjs := newFakeNPM(t)
	c := newCluster(t, 2, "--external-connection", "public:npmjs="+npmjs.srv.URL+"/")
	r := c.runner()
	owner := str(r.AWS(c.URL, "create-domain", "--domain", "acme"), "domain", "owner")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "npm-store")
	r.AWS(c.URL, "associate-external-connection", "--domain", "acme", "--repository", "npm-store", "--external-connection", "public:npmjs")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "app", "--upstreams", "repositoryName=npm-store")
	token := str(r.AWS(c.URL, "get-authorization-token", "--domain", "acme"), "authorizationToken")
	path := "/npm/d/acme-" + owner + "/app/left-pad/-/left-pad-1.3.0.tgz"

	var wg, sent sync.WaitGroup
	sent.Add(32)
	bodies := make([][]byte, 32)
	codes := make([]int, 32)
	for i := range 32 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, c.nodes[i%2].URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			sent.Done()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			bodies[i], _ = io.ReadAll(resp.Body)
		})
	}
	// Every client is on its way, and both nodes' fetches are at the
	// upstream at once, before any answer.
	sent.Wait()
	waitFor(t, "a fetch from each node", func() bool { return npmjs.fetches.Load() >= 2 })
	// Held fetches: one per node, the node's other clients waiting on it. (A
	// client that reaches its node only after the release may fetch again
	// before the first copy is recorded: that is not overlap, so it is not
	// counted here; the store must converge all the same.)
	held := npmjs.fetches.Load()
	close(npmjs.released)
	wg.Wait()
	for i := range 32 {
		if codes[i] != http.StatusOK || !bytes.Equal(bodies[i], npmjs.tgz) {
			t.Fatalf("client %d (node %d): %d, %d bytes; want the %d-byte tarball", i, i%2, codes[i], len(bodies[i]), len(npmjs.tgz))
		}
	}
	if held != 2 {
		t.Fatalf("%d fetches of the tarball were at the upstream at once, want one per node", held)
	}
	t.Logf("the upstream served the tarball %d times (%d at once)", npmjs.fetches.Load(), held)
	for _, repo := range []string{"npm-store", "app"} {
		v := r.AWS(c.URL, "list-package-versions", "--domain", "acme", "--repository", repo, "--format", "npm", "--package", "left-pad")
		if vs := list(v, "versions"); len(vs) != 1 || str(vs[0], "version") != "1.3.0" {
			t.Fatalf("%s: versions %v, want the one", repo, vs)
		}
		a := r.AWS(c.URL, "list-package-version-assets", "--domain", "acme", "--repository", repo, "--format", "npm",
			"--package", "left-pad", "--package-version", "1.3.0")
		if as := list(a, "assets"); len(as) != 1 {
			t.Fatalf("%s: assets %v, want one", repo, as)
		}
	}
}
