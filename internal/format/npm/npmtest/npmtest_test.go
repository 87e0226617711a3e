package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// untar returns the entries of a .tgz by name, in order.
func untar(t *testing.T, tgz []byte) (names []string, files map[string]string) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files = map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Mode != 0o644 || !h.ModTime.Equal(PackageTime) || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: mode %o, time %v, type %c", h.Name, h.Mode, h.ModTime, h.Typeflag)
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name)
		files[h.Name] = string(b)
	}
	return names, files
}

func TestTarball(t *testing.T) {
	p := Package{Name: "@fx/util", Version: "1.2.0", Dependencies: map[string]string{"fx-b": "^2.0.0", "fx-c": "1.x"},
		Files: map[string]string{"README.md": "# util\n", "lib/more.js": "module.exports = 1;\n"}, Padding: 1000}
	tgz := Tarball(p)
	if !bytes.Equal(tgz, Tarball(p)) {
		t.Error("two builds of the same package differ")
	}
	names, files := untar(t, tgz)
	want := []string{"package/package.json", "package/README.md", "package/index.js", "package/lib/more.js", "package/padding.bin"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	var pj map[string]any
	if err := json.Unmarshal([]byte(files["package/package.json"]), &pj); err != nil {
		t.Fatal(err)
	}
	if pj["name"] != "@fx/util" || pj["version"] != "1.2.0" || pj["main"] != "index.js" || pj["description"] != "fixture package @fx/util" {
		t.Errorf("package.json %v", pj)
	}
	if deps, _ := pj["dependencies"].(map[string]any); deps["fx-b"] != "^2.0.0" || deps["fx-c"] != "1.x" {
		t.Errorf("dependencies %v", pj["dependencies"])
	}
	if js := files["package/index.js"]; !strings.Contains(js, `require("fx-b"), require("fx-c")`) || !strings.Contains(js, `exports.version = "1.2.0"`) {
		t.Errorf("index.js:\n%s", js)
	}
	if len(files["package/padding.bin"]) != 1000 || len(tgz) < 1000 {
		t.Errorf("padding %d bytes, tarball %d bytes", len(files["package/padding.bin"]), len(tgz))
	}
	// Known digests of known bytes.
	if got := Integrity([]byte("abc")); got != "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==" {
		t.Errorf("Integrity(abc) = %s", got)
	}
	if got := Shasum([]byte("abc")); got != "a9993e364706816aba3e25717850c26c9cd0d89d" {
		t.Errorf("Shasum(abc) = %s", got)
	}
	if TarballPath("@fx/util", "1.2.0") != "/@fx/util/-/util-1.2.0.tgz" || TarballPath("fx-a", "1.0.0") != "/fx-a/-/fx-a-1.0.0.tgz" {
		t.Error("TarballPath")
	}
	// Files can replace the generated files.
	_, files = untar(t, Tarball(Package{Name: "x", Version: "1.0.0", Files: map[string]string{"index.js": "hi", "package.json": "{}"}}))
	if files["package/index.js"] != "hi" || files["package/package.json"] != "{}" {
		t.Errorf("replaced files %v", files)
	}
}

type fixture struct {
	t   *testing.T
	reg *Registry
	srv *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	reg := NewRegistry()
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	return &fixture{t: t, reg: reg, srv: srv}
}

func (f *fixture) do(method, path string, header map[string]string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, b
}

func (f *fixture) json(path string, header map[string]string) (int, map[string]any, *http.Response) {
	f.t.Helper()
	resp, b := f.do("GET", path, header)
	var m map[string]any
	if resp.StatusCode != http.StatusNotModified {
		if err := json.Unmarshal(b, &m); err != nil {
			f.t.Fatalf("%s: %v\n%s", path, err, b)
		}
	}
	return resp.StatusCode, m, resp
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func TestRegistry(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	b2 := f.reg.Add(Package{Name: "fx-b", Version: "2.0.0"})
	f.reg.Add(Package{Name: "fx-b", Version: "10.0.0-beta.1"})
	f.reg.Add(Package{Name: "fx-b", Version: "1.5.0", Deprecated: "use 2"})
	u := f.reg.Add(Package{Name: "@fx/util", Version: "1.0.0", Dependencies: map[string]string{"fx-b": "^2.0.0"}, Description: "utilities"})

	// The full packument.
	status, doc, resp := f.json("/fx-b", map[string]string{"Accept": "application/json"})
	if status != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("full packument: %d %s", status, resp.Header.Get("Content-Type"))
	}
	if get(doc, "dist-tags", "latest") != "2.0.0" || get(doc, "name") != "fx-b" || get(doc, "_id") != "fx-b" {
		t.Errorf("packument %v", doc)
	}
	v := get(doc, "versions", "2.0.0")
	if get(v, "_id") != "fx-b@2.0.0" || get(v, "main") != "index.js" || get(v, "license") != "MIT" ||
		get(v, "dist", "tarball") != "http://"+host+"/fx-b/-/fx-b-2.0.0.tgz" ||
		get(v, "dist", "integrity") != b2.Integrity || get(v, "dist", "shasum") != b2.Shasum {
		t.Errorf("version 2.0.0: %v", v)
	}
	if get(doc, "versions", "1.5.0", "deprecated") != "use 2" {
		t.Errorf("deprecation: %v", get(doc, "versions", "1.5.0"))
	}
	for _, k := range []string{"created", "modified", "2.0.0", "1.5.0", "10.0.0-beta.1"} {
		if s, _ := get(doc, "time", k).(string); s == "" {
			t.Errorf("time.%s missing: %v", k, get(doc, "time"))
		}
	}
	etag := resp.Header.Get("ETag")
	if r, _ := f.do("GET", "/fx-b", map[string]string{"Accept": "application/json", "If-None-Match": etag}); r.StatusCode != 304 {
		t.Errorf("If-None-Match %s: %d", etag, r.StatusCode)
	}

	// The abbreviated one, as npm's corgi Accept asks.
	status, corgi, resp := f.json("/@fx%2futil", map[string]string{"Accept": "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"})
	if status != 200 || resp.Header.Get("Content-Type") != "application/vnd.npm.install-v1+json" {
		t.Fatalf("abbreviated: %d %s", status, resp.Header.Get("Content-Type"))
	}
	cv := get(corgi, "versions", "1.0.0")
	if get(corgi, "modified") == nil || get(corgi, "time") != nil || get(cv, "description") != nil || get(cv, "_id") != nil ||
		get(cv, "dependencies", "fx-b") != "^2.0.0" || get(cv, "dist", "tarball") != "http://"+host+"/@fx/util/-/util-1.0.0.tgz" {
		t.Errorf("abbreviated packument %v", corgi)
	}
	if resp.Header.Get("ETag") == etag {
		t.Error("the two representations share an ETag")
	}
	// Scoped names with an encoded or a plain slash, any case of the escape.
	for _, p := range []string{"/@fx%2Futil", "/@fx/util"} {
		if status, doc, _ := f.json(p, nil); status != 200 || get(doc, "description") != "utilities" {
			t.Errorf("%s: %d %v", p, status, doc)
		}
	}
	if n := f.reg.Count("/@fx/util"); n != 3 {
		t.Errorf("Count(/@fx/util) = %d, want 3", n)
	}

	// Tarballs.
	r, body := f.do("GET", "/@fx/util/-/util-1.0.0.tgz", nil)
	if r.StatusCode != 200 || !bytes.Equal(body, u.Tarball) || Integrity(body) != u.Integrity {
		t.Errorf("tarball: %d, %d bytes", r.StatusCode, len(body))
	}
	for _, p := range []string{"/fx-b/-/fx-b-3.0.0.tgz", "/nope", "/@fx/nope", "/fx-b/-/other-2.0.0.tgz", "/@fx", "/"} {
		r, body := f.do("GET", p, nil)
		if r.StatusCode != 404 || string(body) != `{"error":"Not found"}` {
			t.Errorf("%s: %d %s", p, r.StatusCode, body)
		}
	}

	// One version's manifest, by version or tag.
	if status, m, _ := f.json("/fx-b/latest", nil); status != 200 || get(m, "version") != "2.0.0" {
		t.Errorf("/fx-b/latest: %d %v", status, m)
	}

	// Dist-tags.
	f.reg.SetDistTag("fx-b", "next", "10.0.0-beta.1")
	f.reg.SetDistTag("fx-b", "latest", "1.5.0")
	if _, doc, _ := f.json("/fx-b", nil); get(doc, "dist-tags", "next") != "10.0.0-beta.1" || get(doc, "dist-tags", "latest") != "1.5.0" {
		t.Errorf("dist-tags %v", get(doc, "dist-tags"))
	}
	f.reg.SetDistTag("fx-b", "latest", "")
	if _, doc, _ := f.json("/fx-b", nil); get(doc, "dist-tags", "latest") != "2.0.0" {
		t.Errorf("dist-tags after removing latest %v", get(doc, "dist-tags"))
	}

	// Audit, ping and search.
	if r, body := f.do("POST", "/-/npm/v1/security/advisories/bulk", nil); r.StatusCode != 200 || string(body) != "{}" {
		t.Errorf("audit: %d %s", r.StatusCode, body)
	}
	if status, m, _ := f.json("/-/v1/search?text=util", nil); status != 200 || get(m, "total") != 1.0 {
		t.Errorf("search: %d %v", status, m)
	}

	// Remove.
	f.reg.Remove("fx-b", "2.0.0")
	if r, _ := f.do("GET", "/fx-b/-/fx-b-2.0.0.tgz", nil); r.StatusCode != 404 {
		t.Errorf("removed tarball: %d", r.StatusCode)
	}
	if f.reg.Get("fx-b", "2.0.0") != nil || f.reg.Get("fx-b", "1.5.0") == nil {
		t.Error("Get after Remove")
	}

	reqs := f.reg.Requests()
	if len(reqs) == 0 || reqs[0].Path != "/fx-b" || reqs[0].Accept != "application/json" {
		t.Errorf("requests %v", reqs)
	}
	if counts := f.reg.Counts(); counts["/fx-b"] != 4 {
		t.Errorf("counts %v", counts)
	}
}

func TestFaults(t *testing.T) {
	f := newFixture(t)
	f.reg.Add(Package{Name: "fx-a", Version: "1.0.0"})
	f.reg.Fail("/fx-a", 503)
	if r, _ := f.do("GET", "/fx-a", nil); r.StatusCode != 503 {
		t.Errorf("Fail: %d", r.StatusCode)
	}
	f.reg.Fail("/fx-a", 0)
	if r, _ := f.do("GET", "/fx-a", nil); r.StatusCode != 200 {
		t.Errorf("after Fail(0): %d", r.StatusCode)
	}
	f.reg.Down.Store(true)
	if r, _ := f.do("GET", "/fx-a", nil); r.StatusCode != 502 {
		t.Errorf("Down: %d", r.StatusCode)
	}
	f.reg.Down.Store(false)

	// A blocked path answers only once released, and is counted first.
	path := TarballPath("fx-a", "1.0.0")
	release := f.reg.Block(path)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for f.reg.Count(path) == 0 {
		// The request has not arrived yet: wait for it without sleeping
		// by asking something else of the server in between.
		f.do("GET", "/-/ping", nil)
	}
	select {
	case s := <-done:
		t.Fatalf("a blocked request was answered: %d", s)
	default:
	}
	release()
	release() // twice is harmless
	if s := <-done; s != 200 {
		t.Errorf("released request: %d", s)
	}
	f.reg.Reset()
	if len(f.reg.Counts()) != 0 || len(f.reg.Requests()) != 0 {
		t.Error("Reset")
	}
}

func TestPrefixAndToken(t *testing.T) {
	f := newFixture(t)
	f.reg.Prefix = "/npm/repo/"
	f.reg.Token = "s3cret"
	f.reg.Add(Package{Name: "@fx/util", Version: "1.0.0"})
	if r, _ := f.do("GET", "/npm/repo/@fx%2futil", nil); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("without a token: %d", r.StatusCode)
	}
	if r, _ := f.do("GET", "/npm/repo/@fx%2futil", map[string]string{"Authorization": "Bearer nope"}); r.StatusCode != 401 {
		t.Errorf("with a wrong token: %d", r.StatusCode)
	}
	status, doc, _ := f.json("/npm/repo/@fx%2futil", map[string]string{"Authorization": "Bearer s3cret"})
	tarball, _ := get(doc, "versions", "1.0.0", "dist", "tarball").(string)
	if status != 200 || tarball != f.srv.URL+"/npm/repo/@fx/util/-/util-1.0.0.tgz" {
		t.Errorf("with the token: %d %s", status, tarball)
	}
	req, _ := http.NewRequest("GET", tarball, nil)
	req.SetBasicAuth("aws", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("tarball with Basic: %d", resp.StatusCode)
	}
	if r, _ := f.do("GET", "/@fx%2futil", map[string]string{"Authorization": "Bearer s3cret"}); r.StatusCode != 404 {
		t.Errorf("outside the prefix: %d", r.StatusCode)
	}
	if n := f.reg.Count("/@fx/util"); n != 3 {
		t.Errorf("Count(/@fx/util) = %d, want 3 (counted without the prefix)", n)
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{"junk", "0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			got := CompareVersions(ordered[i], ordered[j])
			if (i < j && got >= 0) || (i == j && got != 0) || (i > j && got <= 0) {
				t.Errorf("CompareVersions(%s, %s) = %d", ordered[i], ordered[j], got)
			}
		}
	}
	if CompareVersions("1.0.0+build.1", "1.0.0") != 0 {
		t.Error("build metadata is not ignored")
	}
}
