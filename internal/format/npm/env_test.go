package npm_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/format/npm"
	"coffer/internal/format/npm/npmtest"
	"coffer/internal/server"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
	"coffer/internal/upstream"
)

const (
	account   = "123456789012"
	token     = "tok-123"
	corgi     = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
	fullDoc   = "application/json"
	principal = "arn:aws:iam::" + account + ":user/alice"
)

var bg = context.Background()

// allow authorizes everything except the actions listed in deny, and
// records what was asked.
type allow struct {
	mu    sync.Mutex
	deny  map[string]bool
	asked []string
}

func (a *allow) Authorize(ctx context.Context, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, action+" "+resource)
	if a.deny[action] {
		return fault.AccessDenied("not allowed to %s on %s", action, resource)
	}
	return nil
}

func (a *allow) set(action string, denied bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deny[action] = denied
}

func (a *allow) reset() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.asked
	a.asked = nil
	return out
}

// env is a real artifact.Service on SQLite in a temporary directory, the
// npm handler behind the data-plane router, and a fixture public registry
// (public:npmjs) attached to repository "store". Repository "app" has
// "store" as its upstream; "solo" has none.
type env struct {
	t       testing.TB
	svc     *artifact.Service
	blobs   blob.Store
	blobDir string
	tmpDir  string
	az      *allow
	reg     *npmtest.Registry
	up      *httptest.Server
	srv     *httptest.Server
	h       *npm.Handler
	base    string // server URL + "/npm/d/dx-<account>/"
	// onJoin, set before restart, sees each upstream download a request
	// joins instead of starting its own.
	onJoin func(key string)
	// tune, set before restart, changes the handler's configuration.
	tune func(*npm.Config)
}

// newEnv builds the environment; wrap, if given, wraps its metadata store
// (to inject failures).
func newEnv(t testing.TB, wrap ...func(store.Store) store.Store) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var meta store.Store = db
	for _, w := range wrap {
		meta = w(meta)
	}
	blobDir := filepath.Join(dir, "blobs")
	blobs, err := blobfs.New(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	reg := npmtest.NewRegistry()
	up := httptest.NewServer(reg)
	t.Cleanup(up.Close)
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: account,
		ExternalConnectionURLs: map[string]string{"public:npmjs": up.URL + "/"}}, meta, blobs, slog.New(slog.DiscardHandler))
	e := &env{t: t, svc: svc, blobs: blobs, blobDir: blobDir, tmpDir: filepath.Join(dir, "tmp"), az: &allow{deny: map[string]bool{}}, reg: reg, up: up}
	must(t, func() error { _, err := svc.CreateDomain(bg, "dx", "", nil); return err })
	must(t, func() error { _, err := svc.CreateRepository(bg, e.repoRef("store"), "", nil, nil); return err })
	must(t, func() error {
		_, err := svc.AssociateExternalConnection(bg, e.repoRef("store"), "public:npmjs")
		return err
	})
	must(t, func() error {
		_, err := svc.CreateRepository(bg, e.repoRef("app"), "", []string{"store"}, nil)
		return err
	})
	must(t, func() error { _, err := svc.CreateRepository(bg, e.repoRef("solo"), "", nil, nil); return err })
	e.restart()
	return e
}

// restart replaces the handler (a new process: empty caches).
func (e *env) restart() {
	if err := os.MkdirAll(e.tmpDir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	cfg := npm.Config{TempDir: e.tmpDir, Fetcher: format.NewFetcher(format.FetcherConfig{Blobs: e.blobs, URLs: e.svc,
		Upstream: upstream.Config{Retries: -1, RetryBackoff: 1, OnJoin: e.onJoin}})}
	if e.tune != nil {
		e.tune(&cfg)
	}
	e.h = npm.New(e.svc, e.az, cfg)
	dp := server.DataPlane(map[string]http.Handler{artifact.FormatNpm: e.h}, func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		if tok != token {
			return nil, fault.Unauthenticated("", "bad token")
		}
		return &auth.Principal{ARN: principal, Account: account, Type: "User", Username: "alice"}, nil
	})
	if e.srv != nil {
		e.srv.Config.Handler = dp
		return
	}
	e.srv = httptest.NewServer(dp)
	e.t.Cleanup(e.srv.Close)
	e.base = e.srv.URL + "/npm/d/dx-" + account + "/"
}

func must(t testing.TB, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func (e *env) repoRef(repo string) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "dx"}, Repository: repo}
}

func (e *env) pkgRef(repo, name string) artifact.PackageRef {
	ref := artifact.PackageRef{RepoRef: e.repoRef(repo), Format: artifact.FormatNpm, Package: name}
	if n, ok := npm.ParseName(name); ok {
		ref.Namespace, ref.Package = n.Scope, n.Base
	}
	return ref
}

func (e *env) verRef(repo, name, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: e.pkgRef(repo, name), Version: version}
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	return m
}

// do sends a request to repository repo's endpoint; path is appended as is
// (already escaped).
func (e *env) do(method, repo, path string, body []byte, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+repo+"/"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}

func (e *env) get(repo, path string, header ...string) response {
	e.t.Helper()
	return e.do("GET", repo, path, nil, header...)
}

// packument GETs a package's document and decodes it (200 expected).
func (e *env) packument(repo, escapedName, accept string) map[string]any {
	e.t.Helper()
	r := e.get(repo, escapedName, "Accept", accept)
	if r.status != 200 {
		e.t.Fatalf("GET %s: %d %s", escapedName, r.status, r.body)
	}
	return r.json(e.t)
}

// pkg is a package version to publish.
type pkg struct {
	name, version string
	deps          map[string]string
	tags          map[string]string // default {"latest": version}
	padding       int
}

func (p pkg) fixture() npmtest.Package {
	return npmtest.Package{Name: p.name, Version: p.version, Dependencies: p.deps, Padding: p.padding,
		Files: map[string]string{"README.md": "# " + p.name + "\n"}}
}

// tarball is the package's .tgz.
func (p pkg) tarball() []byte { return npmtest.Tarball(p.fixture()) }

// body is the JSON npm publish sends: the version document, then the
// tarball as a base64 attachment.
func (p pkg) body() []byte { return p.bodyWith(p.tarball(), nil) }

// bodyWith builds a publish body for tgz, with the version document's dist
// changed by edit.
func (p pkg) bodyWith(tgz []byte, edit func(doc map[string]any)) []byte {
	m := p.fixture().Manifest()
	m["_id"] = p.name + "@" + p.version
	m["readme"] = "# " + p.name + "\n"
	m["_npmVersion"] = "11.19.1"
	m["dist"] = map[string]any{"integrity": npmtest.Integrity(tgz), "shasum": npmtest.Shasum(tgz),
		"tarball": "http://localhost/" + p.name + "/-/" + p.name + "-" + p.version + ".tgz"}
	if edit != nil {
		edit(m)
	}
	tags := p.tags
	if tags == nil {
		tags = map[string]string{"latest": p.version}
	}
	doc := struct {
		ID          string            `json:"_id"`
		Name        string            `json:"name"`
		Description string            `json:"description"`
		DistTags    map[string]string `json:"dist-tags"`
		Versions    map[string]any    `json:"versions"`
		Access      any               `json:"access"`
		Attachments map[string]any    `json:"_attachments"`
	}{p.name, p.name, "fixture", tags, map[string]any{p.version: m}, nil, map[string]any{
		p.name + "-" + p.version + ".tgz": map[string]any{"content_type": "application/octet-stream",
			"data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)}}}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// escaped is the name as npm puts it in a URL path.
func escaped(name string) string { return strings.Replace(name, "/", "%2f", 1) }

// publish PUTs the package into repo and expects 201.
func (e *env) publish(repo string, p pkg) {
	e.t.Helper()
	if r := e.do("PUT", repo, escaped(p.name), p.body()); r.status != 201 {
		e.t.Fatalf("publish %s@%s to %s: %d %s", p.name, p.version, repo, r.status, r.body)
	}
}

// blobFiles lists the files in the blob store (staging included).
func (e *env) blobFiles() []string {
	e.t.Helper()
	var out []string
	err := filepath.WalkDir(e.blobDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// versions lists the version strings a repository stores for a package
// (all statuses), nil when the package is not there.
func (e *env) versions(repo, name string) []string {
	e.t.Helper()
	l, err := e.svc.ListPackageVersions(bg, e.pkgRef(repo, name), artifact.VersionFilter{}, artifact.PageRequest{})
	if fault.KindOf(err) == fault.KindNotFound {
		return nil
	} else if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, v := range l.Versions {
		out = append(out, v.Version)
	}
	return out
}

// docVersions returns the versions object of a packument.
func docVersions(doc map[string]any) map[string]any {
	v, _ := doc["versions"].(map[string]any)
	return v
}

func distTags(doc map[string]any) map[string]any {
	v, _ := doc["dist-tags"].(map[string]any)
	return v
}
