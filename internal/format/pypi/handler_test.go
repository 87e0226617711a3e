package pypi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob/blobtest"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/format/pypi"
	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/server"
	"coffer/internal/store/sqlite"
	"coffer/internal/upstream"
)

const (
	account = "123456789012"
	token   = "tok-123"
	pipAcc  = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
)

var bg = context.Background()

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
	t     testing.TB
	svc   *artifact.Service
	blobs *blobtest.Fillable
	ph    *pypi.Handler
	spool string // the handler's TempDir
	// maxUpload is the handler's MaxUploadSize (0: its default).
	maxUpload int64
	az        *allow
	idx       *pypitest.Index
	up        *httptest.Server
	srv       *httptest.Server
	h         http.Handler
	app       string // endpoint of app (upstream: store)
	store     string // endpoint of store (public:pypi)
	// plain hides the engine's ViewStamp: pages are fingerprinted from
	// the view itself.
	plain bool
}

// plainEngine is the service without its optional methods.
type plainEngine struct{ pypi.Engine }

// forEachEngine runs f with the view-stamp fast path and without it.
func forEachEngine(t *testing.T, f func(t *testing.T, e *env)) {
	for _, plain := range []bool{false, true} {
		name := "stamp"
		if plain {
			name = "view"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			if plain {
				e.plain = true
				e.restart()
			}
			f(t, e)
		})
	}
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
	idx := pypitest.NewIndex()
	up := httptest.NewServer(idx)
	t.Cleanup(up.Close)
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: account,
		ExternalConnectionURLs: map[string]string{"public:pypi": up.URL + "/"}}, meta, blobs, slog.New(slog.DiscardHandler))
	dom := artifact.DomainRef{Name: "dx"}
	must(t, func() error { _, err := svc.CreateDomain(bg, "dx", "", nil); return err })
	must(t, func() error {
		_, err := svc.CreateRepository(bg, artifact.RepoRef{DomainRef: dom, Repository: "store"}, "", nil, nil)
		return err
	})
	must(t, func() error {
		_, err := svc.AssociateExternalConnection(bg, artifact.RepoRef{DomainRef: dom, Repository: "store"}, "public:pypi")
		return err
	})
	must(t, func() error {
		_, err := svc.CreateRepository(bg, artifact.RepoRef{DomainRef: dom, Repository: "app"}, "", []string{"store"}, nil)
		return err
	})
	e := &env{t: t, svc: svc, blobs: blobs, az: &allow{deny: map[string]bool{}}, idx: idx, up: up}
	e.restart()
	return e
}

// restart replaces the handler (a new process: empty caches).
func (e *env) restart() {
	var svc pypi.Engine = e.svc
	if e.plain {
		svc = plainEngine{e.svc}
	}
	e.spool = e.t.TempDir()
	h := pypi.New(svc, e.az, pypi.Config{TempDir: e.spool, MaxUploadSize: e.maxUpload,
		Fetcher: format.NewFetcher(format.FetcherConfig{Blobs: e.blobs, URLs: e.svc, Upstream: upstream.Config{Retries: -1, RetryBackoff: 1}})})
	e.h, e.ph = h, h
	if e.srv != nil {
		e.srv.Config.Handler = e.dataPlane(h)
		return
	}
	e.srv = httptest.NewServer(e.dataPlane(h))
	e.t.Cleanup(e.srv.Close)
	e.app = e.srv.URL + "/pypi/d/dx-" + account + "/app/"
	e.store = e.srv.URL + "/pypi/d/dx-" + account + "/store/"
}

func (e *env) dataPlane(h http.Handler) http.Handler {
	return server.DataPlane(map[string]http.Handler{artifact.FormatPypi: h}, func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		if tok != token {
			return nil, fault.Unauthenticated("", "bad token")
		}
		return &auth.Principal{ARN: "arn:aws:iam::" + account + ":root", Account: account, Type: auth.TypeAccount}, nil
	})
}

func must(t testing.TB, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (e *env) get(url, accept string) response {
	e.t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("aws", token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}

func (e *env) page(url string) map[string]any {
	e.t.Helper()
	r := e.get(url, pipAcc)
	if r.status != 200 || r.header.Get("Content-Type") != pypi.MediaJSON {
		e.t.Fatalf("GET %s: %d %s %s", url, r.status, r.header.Get("Content-Type"), r.body)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		e.t.Fatal(err)
	}
	return doc
}

// files returns a page's files by name.
func files(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, f := range doc["files"].([]any) {
		m := f.(map[string]any)
		out[m["filename"].(string)] = m
	}
	return out
}

// form is a legacy upload: the fields twine sends.
func form(name, version, filename string, content []byte) map[string]string {
	ft := "sdist"
	if strings.HasSuffix(filename, ".whl") {
		ft = "bdist_wheel"
	}
	m5 := md5.Sum(content)
	return map[string]string{":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
		"filetype": ft, "pyversion": "py3", "metadata_version": "2.1", "summary": "tiny", "description": "long text",
		"sha256_digest": pypitest.SHA256(content), "md5_digest": hex.EncodeToString(m5[:]), "blake2_256_digest": ""}
}

func (e *env) upload(endpoint string, fields map[string]string, filename string, content []byte) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, k := range []string{"name", "version", "filetype", "pyversion", "metadata_version", "summary", "description", "sha256_digest", "md5_digest", "blake2_256_digest", ":action", "protocol_version"} {
		if v, ok := fields[k]; ok {
			mw.WriteField(k, v)
		}
	}
	if content != nil {
		w, _ := mw.CreateFormFile("content", filename)
		w.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", endpoint, &buf)
	req.SetBasicAuth("aws", token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}

func (e *env) mustUpload(endpoint, name, version, filename string, content []byte) {
	e.t.Helper()
	if r := e.upload(endpoint, form(name, version, filename, content), filename, content); r.status != 200 {
		e.t.Fatalf("upload %s: %d %s", filename, r.status, r.body)
	}
}

func (e *env) ref(repo, pkg string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "dx"}, Repository: repo}, Format: artifact.FormatPypi, Package: pkg}
}

func (e *env) versions(repo, pkg string) map[string]string {
	e.t.Helper()
	l, err := e.svc.ListPackageVersions(bg, e.ref(repo, pkg), artifact.VersionFilter{}, artifact.PageRequest{})
	if err != nil {
		if fault.KindOf(err) == fault.KindNotFound {
			return map[string]string{}
		}
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range l.Versions {
		out[v.Version] = v.Status
	}
	return out
}

var fooBar = pypitest.Dist{Name: "Foo_Bar", Version: "1.0.0", Requires: []string{"fixture-dep>=2"}, Description: "# Foo Bar\n\nSays hello.\n"}

func TestUploadAndServe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		wn, wheel := fooBar.Wheel()
		sn, sdist := fooBar.Sdist()
		e.mustUpload(e.app, "Foo_Bar", "1.0.0", wn, wheel)
		e.mustUpload(e.app, "Foo_Bar", "1.0.0", sn, sdist)
		e.mustUpload(e.app, "Foo_Bar", "1.0.0", wn, wheel) // identical again: 200, nothing changes

		// Redirects to the normalised name.
		for _, p := range []string{"simple/Foo_Bar/", "simple/foo.bar/", "simple/foo-bar", "simple"} {
			r := e.get(e.app+p, "")
			want := "/pypi/d/dx-" + account + "/app/simple/foo-bar/"
			if p == "simple" {
				want = "/pypi/d/dx-" + account + "/app/simple/"
			}
			if r.status != 301 || r.header.Get("Location") != want {
				t.Errorf("GET %s: %d %q, want 301 %s", p, r.status, r.header.Get("Location"), want)
			}
		}

		doc := e.page(e.app + "simple/foo-bar/")
		fs := files(doc)
		w, s := fs[wn], fs[sn]
		if doc["name"] != "foo-bar" || !slices.Equal(doc["versions"].([]any), []any{"1.0.0"}) || len(fs) != 2 || w == nil || s == nil {
			t.Fatalf("page %v", doc)
		}
		metaSHA := pypitest.SHA256(fooBar.Metadata())
		if w["hashes"].(map[string]any)["sha256"] != pypitest.SHA256(wheel) || w["size"] != float64(len(wheel)) || w["requires-python"] != ">=3.8" ||
			w["core-metadata"].(map[string]any)["sha256"] != metaSHA || w["yanked"] != false || w["upload-time"] == nil {
			t.Errorf("wheel entry %v", w)
		}
		if s["core-metadata"] != false || s["url"] != "../../files/foo-bar/1.0.0/"+sn {
			t.Errorf("sdist entry %v", s)
		}
		html := e.get(e.app+"simple/foo-bar/", "text/html")
		if html.status != 200 || !strings.HasPrefix(html.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(html.body), `<a href="../../files/foo-bar/1.0.0/`+wn+`#sha256=`+pypitest.SHA256(wheel)+`" data-requires-python="&gt;=3.8" data-core-metadata="sha256=`+metaSHA+`"`) {
			t.Errorf("HTML page: %d %s\n%s", html.status, html.header.Get("Content-Type"), html.body)
		}
		if r := e.get(e.app+"simple/foo-bar/", "application/vnd.pypi.simple.v1+html"); r.header.Get("Content-Type") != pypi.MediaHTML {
			t.Errorf("v1+html: %s", r.header.Get("Content-Type"))
		}
		if r := e.get(e.app+"simple/foo-bar/", "image/png"); r.status != 406 {
			t.Errorf("Accept image/png: %d", r.status)
		}
		// 304 on a revalidation.
		req, _ := http.NewRequest("GET", e.app+"simple/foo-bar/", nil)
		req.SetBasicAuth("aws", token)
		req.Header.Set("If-None-Match", html.header.Get("ETag"))
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 304 {
			t.Errorf("If-None-Match: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}

		// The files and the PEP 658 file.
		if r := e.get(e.app+"files/foo-bar/1.0.0/"+wn, ""); r.status != 200 || !bytes.Equal(r.body, wheel) {
			t.Errorf("wheel download: %d", r.status)
		}
		if r := e.get(e.app+"files/foo-bar/1.0.0/"+wn+".metadata", ""); r.status != 200 || !bytes.Equal(r.body, fooBar.Metadata()) {
			t.Errorf("metadata download: %d %q", r.status, r.body)
		}
		if r := e.get(e.app+"files/foo-bar/1.0.0/"+sn, ""); r.status != 200 || !bytes.Equal(r.body, sdist) {
			t.Errorf("sdist download: %d", r.status)
		}
		if r := e.get(e.app+"files/foo-bar/2.0/"+wn, ""); r.status != 404 {
			t.Errorf("wheel under another version: %d", r.status)
		}

		// What the API shows.
		v, err := e.svc.DescribePackageVersion(bg, artifact.VersionRef{PackageRef: e.ref("app", "Foo.Bar"), Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if v.DisplayName != "Foo_Bar" || v.Summary != "tiny test package" || v.Readme != strings.TrimSpace(fooBar.Description) || v.Status != "Published" ||
			len(v.Dependencies) != 1 || v.Dependencies[0].Package != "fixture-dep" || v.Dependencies[0].VersionRequirement != ">=2" ||
			v.Dependencies[0].DependencyType != "Requires-Dist" {
			t.Errorf("version %+v", v.Version)
		}
		p, err := e.svc.DescribePackage(bg, e.ref("app", "foo-bar"))
		if err != nil || p.Publish != "ALLOW" || p.Upstream != "BLOCK" {
			t.Errorf("package %+v %v", p, err)
		}
		as, err := e.svc.ListPackageVersionAssets(bg, artifact.VersionRef{PackageRef: e.ref("app", "foo-bar"), Version: "1.0.0"}, artifact.PageRequest{})
		if err != nil || len(as.Assets) != 3 {
			t.Errorf("assets %+v %v", as, err)
		}

		// The root index lists it, and what the upstream repository holds.
		only := pypitest.Dist{Name: "Store.Only", Version: "0.1"}
		on, ow := only.Wheel()
		e.mustUpload(e.store, "Store.Only", "0.1", on, ow)
		if r := e.get(e.app+"simple/", "text/html"); r.status != 200 || !strings.Contains(string(r.body), `<a href="foo-bar/">foo-bar</a>`) ||
			!strings.Contains(string(r.body), `<a href="store-only/">store-only</a>`) {
			t.Errorf("root: %d %s", r.status, r.body)
		}
		if fs := files(e.page(e.app + "simple/store-only/")); fs[on] == nil {
			t.Errorf("upstream repository's project through app: %v", fs)
		}
		if r := e.get(e.app+"simple/", pipAcc); r.status != 200 || !strings.Contains(string(r.body), `{"name":"foo-bar"}`) {
			t.Errorf("root JSON: %d %s", r.status, r.body)
		}
	})
}

func TestUploadRejections(t *testing.T) {
	e := newEnv(t)
	wn, wheel := fooBar.Wheel()
	bad := func(what string, fields map[string]string, filename string, content []byte, status int, msg string) {
		t.Helper()
		r := e.upload(e.app, fields, filename, content)
		if r.status != status || !strings.Contains(string(r.body), msg) {
			t.Errorf("%s: %d %q, want %d containing %q", what, r.status, r.body, status, msg)
		}
	}
	f := form("Foo_Bar", "1.0.0", wn, wheel)
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range f {
			m[a] = b
		}
		if v == "\x00" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	bad("sha256 mismatch", with("sha256_digest", strings.Repeat("0", 64)), wn, wheel, 400, "sha256_digest")
	bad("md5 mismatch", with("md5_digest", strings.Repeat("0", 32)), wn, wheel, 400, "md5_digest")
	bad("blake2 mismatch", with("blake2_256_digest", strings.Repeat("0", 64)), wn, wheel, 400, "blake2_256_digest")
	noDigest := with("sha256_digest", "\x00")
	delete(noDigest, "md5_digest")
	bad("no digest", noDigest, wn, wheel, 400, "at least one digest")
	bad("no action", with(":action", "\x00"), wn, wheel, 400, ":action")
	bad("other action", with(":action", "doc_upload"), wn, wheel, 400, "Unsupported :action")
	bad("no content", f, wn, nil, 400, "content")
	bad("bad name", with("name", "Foo Bar"), wn, wheel, 400, "Invalid project name")
	bad("other name", with("name", "other"), wn, wheel, 400, "Invalid distribution file name")
	bad("other version", with("version", "1.0.1"), wn, wheel, 400, "is not the uploaded version")
	bad("bad version", with("version", "latest"), wn, wheel, 400, "not a PEP 440 version")
	bad("filetype", with("filetype", "sdist"), wn, wheel, 400, "does not match the file name")
	bad("egg", with("filetype", "bdist_egg"), wn, wheel, 400, "Unsupported filetype")
	garbage := []byte("this is not a zip file")
	bad("not a wheel", form("Foo_Bar", "1.0.0", wn, garbage), wn, garbage, 400, "not a valid wheel")
	other := pypitest.Dist{Name: "Other", Version: "1.0.0"}
	_, otherWheel := other.Wheel()
	bad("metadata of another project", form("Foo_Bar", "1.0.0", wn, otherWheel), wn, otherWheel, 400, `names project "Other", not "Foo_Bar"`)
	if r := e.get(e.app+"simple/foo-bar/", pipAcc); r.status != 404 {
		t.Errorf("after refused uploads the project exists: %d %s", r.status, r.body)
	}
	if vs := e.versions("app", "foo-bar"); len(vs) != 0 {
		t.Errorf("refused uploads stored versions %v", vs)
	}
	req, _ := http.NewRequest("POST", e.app, strings.NewReader("x=1"))
	req.SetBasicAuth("aws", token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 400 {
		t.Errorf("urlencoded upload: %v %v", resp, err)
	}

	// Other bytes under the same file name: 409; the stored file stays.
	e.mustUpload(e.app, "Foo_Bar", "1.0.0", wn, wheel)
	changed := fooBar
	changed.Summary = "changed"
	_, wheel2 := changed.Wheel()
	bad("other bytes", form("Foo_Bar", "1.0.0", wn, wheel2), wn, wheel2, 409, "already exists with different content")
	if r := e.get(e.app+"files/foo-bar/1.0.0/"+wn, ""); !bytes.Equal(r.body, wheel) {
		t.Error("the first wheel was replaced")
	}

	// Not allowed to publish: 403 before the body is stored.
	e.az.deny["codeartifact:PublishPackageVersion"] = true
	sn, sdist := fooBar.Sdist()
	bad("denied", form("Foo_Bar", "1.0.0", sn, sdist), sn, sdist, 403, "not allowed")
	delete(e.az.deny, "codeartifact:PublishPackageVersion")
	e.az.deny["codeartifact:ReadFromRepository"] = true
	if r := e.get(e.app+"simple/foo-bar/", pipAcc); r.status != 403 {
		t.Errorf("read denied: %d", r.status)
	}
}

func TestSameRelease(t *testing.T) {
	e := newEnv(t)
	d := pypitest.Dist{Name: "rel", Version: "1.0"}
	wn, wheel := d.Wheel()
	e.mustUpload(e.app, "rel", "1.0", wn, wheel)
	d2 := pypitest.Dist{Name: "rel", Version: "1.0.0"}
	sn, sdist := d2.Sdist()
	e.mustUpload(e.app, "rel", "1.0.0", sn, sdist)
	d3 := pypitest.Dist{Name: "rel", Version: "v1.0.0-Alpha1"}
	d3.Version = "1.0.0a1"
	an, a := d3.Wheel()
	e.mustUpload(e.app, "rel", "1.0.0-Alpha1", an, a)
	if vs := e.versions("app", "rel"); len(vs) != 2 || vs["1.0"] != "Published" || vs["1.0.0a1"] != "Published" {
		t.Errorf("versions %v, want 1.0 (holding both files) and 1.0.0a1", vs)
	}
	fs := files(e.page(e.app + "simple/rel/"))
	if fs[sn]["url"] != "../../files/rel/1.0/"+sn || fs[an]["url"] != "../../files/rel/1.0.0a1/"+an {
		t.Errorf("urls %v %v", fs[sn]["url"], fs[an]["url"])
	}
	if r := e.get(e.app+"files/rel/1.0/"+sn, ""); r.status != 200 {
		t.Errorf("sdist of 1.0.0 under 1.0: %d", r.status)
	}
}

func TestYankAndArchive(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, v := range []string{"1.0", "2.0"} {
			d := pypitest.Dist{Name: "yk", Version: v}
			wn, wheel := d.Wheel()
			e.mustUpload(e.app, "yk", v, wn, wheel)
		}
		status := func(v, s string) {
			t.Helper()
			res, err := e.svc.UpdatePackageVersionsStatus(bg, e.ref("app", "yk"), artifact.StatusUpdate{Versions: []string{v}, TargetStatus: s})
			if err != nil || len(res.Failed) != 0 {
				t.Fatalf("status %s %s: %+v %v", v, s, res, err)
			}
		}
		status("1.0", "Unlisted")
		fs := files(e.page(e.app + "simple/yk/"))
		if y := fs["yk-1.0-py3-none-any.whl"]["yanked"]; y != "Unlisted" {
			t.Errorf("Unlisted 1.0 is yanked=%v", y)
		}
		if y := fs["yk-2.0-py3-none-any.whl"]["yanked"]; y != false {
			t.Errorf("2.0 yanked=%v", y)
		}
		if !strings.Contains(string(e.get(e.app+"simple/yk/", "text/html").body), `data-yanked="Unlisted">yk-1.0-py3-none-any.whl`) {
			t.Error("HTML lacks data-yanked")
		}
		if r := e.get(e.app+"files/yk/1.0/yk-1.0-py3-none-any.whl", ""); r.status != 200 {
			t.Errorf("Unlisted file download: %d", r.status)
		}
		status("1.0", "Archived")
		fs = files(e.page(e.app + "simple/yk/"))
		if _, ok := fs["yk-1.0-py3-none-any.whl"]; ok || len(fs) != 1 {
			t.Errorf("Archived 1.0 is listed: %v", fs)
		}
		if r := e.get(e.app+"files/yk/1.0/yk-1.0-py3-none-any.whl", ""); r.status != 404 {
			t.Errorf("Archived file download: %d", r.status)
		}
		status("1.0", "Published")
		if fs = files(e.page(e.app + "simple/yk/")); fs["yk-1.0-py3-none-any.whl"]["yanked"] != false {
			t.Error("republished 1.0 still yanked")
		}
	})
}

// A release archived in the requested repository is not offered from the
// upstream index either: its files could not be downloaded.
func TestArchivedReleaseHidesUpstreamFiles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		d1 := pypitest.Dist{Name: "arch", Version: "1.0"}
		d2 := pypitest.Dist{Name: "arch", Version: "2.0"}
		w1 := e.idx.AddWheel(d1, true)
		s1 := e.idx.AddSdist(d1)
		w2 := e.idx.AddWheel(d2, true)
		if r := e.get(e.app+"files/arch/1.0/"+w1.Name, ""); r.status != 200 {
			t.Fatalf("ingest 1.0: %d", r.status)
		}
		res, err := e.svc.UpdatePackageVersionsStatus(bg, e.ref("app", "arch"), artifact.StatusUpdate{Versions: []string{"1.0"}, TargetStatus: "Archived"})
		if err != nil || len(res.Failed) != 0 {
			t.Fatalf("archive: %+v %v", res, err)
		}
		fs := files(e.page(e.app + "simple/arch/"))
		if fs[w1.Name] != nil || fs[s1.Name] != nil || fs[w2.Name] == nil || len(fs) != 1 {
			t.Errorf("page after archiving 1.0 in app: %v", fs)
		}
		if r := e.get(e.app+"files/arch/1.0/"+s1.Name, ""); r.status != 404 {
			t.Errorf("sdist of the archived release: %d", r.status)
		}
	})
}

// A second file of a release, ingested after the first, keeps what the
// upstream said of it (here a yank and its own Requires-Python) once the
// upstream is gone.
func TestLaterIngestedFileKeepsItsData(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		reason, rp := "broken sdist", ">=3.11"
		w := e.idx.AddWheel(pypitest.Dist{Name: "later", Version: "1.0"}, true)
		sd := e.idx.AddSdist(pypitest.Dist{Name: "later", Version: "1.0", RequiresPython: rp})
		sd.Yanked = &reason
		for _, name := range []string{w.Name, sd.Name} {
			if r := e.get(e.app+"files/later/1.0/"+name, ""); r.status != 200 {
				t.Fatalf("ingest %s: %d", name, r.status)
			}
		}
		e.idx.Down.Store(true)
		e.restart()
		fs := files(e.page(e.app + "simple/later/"))
		if f := fs[sd.Name]; f == nil || f["yanked"] != reason || f["requires-python"] != rp {
			t.Errorf("later-ingested sdist without the upstream: %v", f)
		}
		if f := fs[w.Name]; f == nil || f["yanked"] != false || f["requires-python"] != ">=3.8" {
			t.Errorf("first-ingested wheel without the upstream: %v", f)
		}
	})
}

func TestUpstreamIngestion(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		dep2 := pypitest.Dist{Name: "Fixture.Dep", Version: "2.0", Summary: "the dependency", Requires: []string{"six"}}
		dep1 := pypitest.Dist{Name: "Fixture.Dep", Version: "1.0", RequiresPython: ">=3.6"}
		w2 := e.idx.AddWheel(dep2, true)
		s2 := e.idx.AddSdist(dep2)
		w1 := e.idx.AddWheel(dep1, false)
		reason := "bad build"
		w1.Yanked = &reason

		doc := e.page(e.app + "simple/fixture-dep/")
		fs := files(doc)
		if len(fs) != 3 || !slices.Equal(doc["versions"].([]any), []any{"1.0", "2.0"}) {
			t.Fatalf("page %v", doc)
		}
		if f := fs[w2.Name]; f["url"] != "../../files/fixture-dep/2.0/"+w2.Name || f["hashes"].(map[string]any)["sha256"] != pypitest.SHA256(w2.Data) ||
			f["core-metadata"].(map[string]any)["sha256"] != pypitest.SHA256(w2.Metadata) {
			t.Errorf("upstream wheel entry %v", f)
		}
		if f := fs[w1.Name]; f["yanked"] != "bad build" || f["core-metadata"] != false || f["requires-python"] != ">=3.6" {
			t.Errorf("upstream yanked wheel %v", f)
		}
		if accepts := e.idx.Accepts(); len(accepts) == 0 || !strings.HasPrefix(accepts[0], pypi.MediaJSON) {
			t.Errorf("upstream asked with %q", accepts)
		}

		// The PEP 658 file first (as pip does), then the wheel: each fetched once.
		if r := e.get(e.app+"files/fixture-dep/2.0/"+w2.Name+".metadata", ""); r.status != 200 || !bytes.Equal(r.body, w2.Metadata) {
			t.Fatalf("upstream metadata: %d %s", r.status, r.body)
		}
		for range 2 {
			if r := e.get(e.app+"files/fixture-dep/2.0/"+w2.Name, ""); r.status != 200 || !bytes.Equal(r.body, w2.Data) {
				t.Fatalf("upstream wheel: %d", r.status)
			}
		}
		if n := e.idx.Count("/files/" + w2.Name); n != 1 {
			t.Errorf("the wheel was fetched %d times", n)
		}
		// A wheel whose upstream offers no PEP 658 file gets one when it is ingested.
		if r := e.get(e.app+"files/fixture-dep/1.0/"+w1.Name, ""); r.status != 200 || !bytes.Equal(r.body, w1.Data) {
			t.Fatalf("yanked upstream wheel: %d", r.status)
		}
		fs = files(e.page(e.app + "simple/fixture-dep/"))
		if cm, _ := fs[w1.Name]["core-metadata"].(map[string]any); cm == nil || cm["sha256"] != pypitest.SHA256(dep1.Metadata()) {
			t.Errorf("ingested wheel without upstream metadata: %v", fs[w1.Name])
		}
		if fs[w1.Name]["yanked"] != "bad build" {
			t.Errorf("yank reason lost: %v", fs[w1.Name])
		}

		// Retained in app and ingested into store, with the package defaults of
		// ingestion and the wheel's metadata.
		for _, repo := range []string{"app", "store"} {
			p, err := e.svc.DescribePackage(bg, e.ref(repo, "fixture-dep"))
			if err != nil || p.Publish != "BLOCK" || p.Upstream != "ALLOW" {
				t.Errorf("%s: package %+v %v", repo, p, err)
			}
			v, err := e.svc.DescribePackageVersion(bg, artifact.VersionRef{PackageRef: e.ref(repo, "fixture-dep"), Version: "2.0"})
			if err != nil || v.Summary != "the dependency" || v.OriginType != "EXTERNAL" || len(v.Dependencies) != 1 {
				t.Errorf("%s: version %+v %v", repo, v, err)
			}
		}

		// Publishing what the upstream provides is refused (publish=BLOCK).
		wn, wheel := dep2.Wheel()
		if r := e.upload(e.app, form("fixture-dep", "2.0", wn, wheel), wn, wheel); r.status != 409 {
			t.Errorf("upload over an ingested package: %d %s", r.status, r.body)
		}

		// The upstream goes away and coffer restarts: what was fetched is still
		// listed and served; the sdist nobody fetched is gone from the page.
		e.idx.Down.Store(true)
		e.restart()
		fs = files(e.page(e.app + "simple/fixture-dep/"))
		if len(fs) != 2 || fs[w2.Name] == nil || fs[w1.Name] == nil || fs[s2.Name] != nil {
			t.Errorf("page without the upstream: %v", fs)
		}
		if fs[w1.Name]["yanked"] != "bad build" || fs[w1.Name]["requires-python"] != ">=3.6" {
			t.Errorf("stored upstream data lost: %v", fs[w1.Name])
		}
		if r := e.get(e.app+"files/fixture-dep/2.0/"+w2.Name, ""); r.status != 200 {
			t.Errorf("cached wheel without the upstream: %d", r.status)
		}
		if r := e.get(e.app+"files/fixture-dep/2.0/"+s2.Name, ""); r.status != 503 {
			t.Errorf("uncached sdist without the upstream: %d %s", r.status, r.body)
		}
	})
}

func TestUpstreamHTMLOnly(t *testing.T) {
	e := newEnv(t)
	e.idx.HTMLOnly.Store(true)
	d := pypitest.Dist{Name: "htmldep", Version: "3.1"}
	w := e.idx.AddWheel(d, true)
	fs := files(e.page(e.store + "simple/htmldep/"))
	if f := fs[w.Name]; f == nil || f["hashes"].(map[string]any)["sha256"] != pypitest.SHA256(w.Data) ||
		f["core-metadata"].(map[string]any)["sha256"] != pypitest.SHA256(w.Metadata) || f["size"] != nil {
		t.Fatalf("page from an HTML upstream: %v", fs)
	}
	if r := e.get(e.store+"files/htmldep/3.1/"+w.Name, ""); r.status != 200 || !bytes.Equal(r.body, w.Data) {
		t.Errorf("download: %d", r.status)
	}
	if r := e.get(e.store+"simple/nothere/", pipAcc); r.status != 404 {
		t.Errorf("unknown project: %d", r.status)
	}
}

func TestUpstreamHashMismatch(t *testing.T) {
	e := newEnv(t)
	d := pypitest.Dist{Name: "tampered", Version: "1.0"}
	w := e.idx.AddWheel(d, false)
	e.page(e.app + "simple/tampered/") // the page (and its hash) as the upstream gave it
	w.Data = append([]byte{}, w.Data...)
	w.Data[len(w.Data)-1] ^= 1 // the file changes; the cached page still has the old hash
	// The first download streams to the client: the mismatch found at the
	// end cuts the connection.
	req, _ := http.NewRequest("GET", e.app+"files/tampered/1.0/"+w.Name, nil)
	req.SetBasicAuth("aws", token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == 200 {
			t.Fatalf("served %d bytes that disagree with the upstream's hash", len(body))
		}
	}
	// A HEAD (nothing streamed) gets the status: the upstream is at fault.
	req, _ = http.NewRequest("HEAD", e.app+"files/tampered/1.0/"+w.Name, nil)
	req.SetBasicAuth("aws", token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 503 {
		t.Errorf("HEAD: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if vs := e.versions("store", "tampered"); len(vs) != 0 {
		t.Errorf("stored a mismatching file: %v", vs)
	}
}

func TestPageCacheFollowsChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for i := range 3 {
			d := pypitest.Dist{Name: "cached", Version: fmt.Sprintf("1.%d", i)}
			wn, wheel := d.Wheel()
			e.mustUpload(e.app, "cached", d.Version, wn, wheel)
			if fs := files(e.page(e.app + "simple/cached/")); len(fs) != i+1 {
				t.Fatalf("after %d uploads the page has %d files", i+1, len(fs))
			}
		}
		d := pypitest.Dist{Name: "cached", Version: "1.1"}
		sn, sdist := d.Sdist()
		e.mustUpload(e.app, "cached", "1.1", sn, sdist)
		if fs := files(e.page(e.app + "simple/cached/")); len(fs) != 4 || fs[sn] == nil {
			t.Errorf("a new file of an existing version is not listed: %v", fs)
		}
	})
}
