package formattest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"coffer/internal/app"
	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/config"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// The installation every check builds.
const (
	account    = "123456789012"
	region     = "us-east-1"
	domainName = "dx"
	rootKey    = "AKIAFORMATTEST000001"
	rootSecret = "formattest/secret/key/0123456789abcdefghij"
)

// Versions the checks use: the registry offers registryVersions; the others
// are published.
var registryVersions = []string{"3.1.1", "3.2.1", "3.3.1"}

const (
	v1 = "1.1.1"
	v2 = "1.2.1"
	v3 = "1.3.1"
	v4 = "1.4.1"
	v5 = "1.5.1"
	r1 = "3.1.1" // offered by the registry only
)

// Client is one principal's view of one repository of the coffer under
// test. Adapters publish through it; its fields are what a package
// manager's configuration would hold.
type Client struct {
	// URL is the server's base URL ("http://127.0.0.1:PORT").
	URL string
	// Endpoint is the format's repository endpoint, ending in "/"
	// (<URL>/<format>/d/<domain>-<owner>/<repository>/).
	Endpoint                        string
	Domain, DomainOwner, Repository string
	// Token is the principal's authorization token; AccessKeyID and
	// SecretAccessKey its access key, for the control plane (region
	// us-east-1).
	Token                        string
	AccessKeyID, SecretAccessKey string
	// HTTP is the client to send requests with.
	HTTP *http.Client
	// App is the coffer under test.
	App *app.App

	auth func(r *http.Request, token string)
}

// Do sends req with the token as the format's client sends it (none when
// Token is "").
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		c.auth(req, c.Token)
	}
	return c.HTTP.Do(req)
}

// PackageRef addresses a package in c's repository, for App.Service.
func (c *Client) PackageRef(format, namespace, pkg string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: c.DomainOwner, Name: c.Domain},
		Repository: c.Repository}, Format: format, Namespace: namespace, Package: pkg}
}

// principal is an identity of the installation with its token.
type principal struct {
	arn, keyID, secret, token string
}

// env is one assembled coffer with its fixture registry.
type env struct {
	t   T
	a   Adapter
	app *app.App
	// start makes app (on dataDir) and serves it at url; stop closes it.
	start, stop func()
	handler     *atomic.Pointer[http.Handler]
	url         string
	dataDir     string
	logs        *logBuffer
	up          *Upstream // nil without a connection
	domain      *artifact.Domain
	http        *http.Client
	root        principal
}

var bg = context.Background()

// with returns e for a subtest.
func (e *env) with(t T) *env {
	cp := *e
	cp.t = t
	return &cp
}

// logBuffer collects what coffer logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// since returns what was logged after offset n, and the new offset.
func (b *logBuffer) since(n int) (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[n:], len(s)
}

// Serve assembles a coffer as the checks do and returns the root
// principal's client of repository "solo" (no upstreams): for tests beside
// the suite, such as golden files of rendered documents.
func Serve(t T, a Adapter) *Client {
	t.Helper()
	e := newEnv(t, a, nil, false)
	return e.client("solo")
}

func (s *suite) env() *env {
	s.t.Helper()
	return newEnv(s.t, s.a, s.wrap, s.encrypted)
}

// newEnv assembles a coffer for one check; with encrypted its domain is
// created with an encryption key, and at the end every object the check
// left in the blob store must be an encrypted one.
func newEnv(t T, a Adapter, wrap func(http.Handler) http.Handler, encrypted bool) *env {
	t.Helper()
	e := &env{t: t, a: a, dataDir: t.TempDir(), logs: &logBuffer{}, handler: &atomic.Pointer[http.Handler]{}}
	cfg := config.Defaults()
	cfg.DataDir, cfg.AccountID, cfg.Region = e.dataDir, account, region
	cfg.ExternalConnections = map[string]string{}
	if a.Connection != "" {
		e.up = &Upstream{Versions: registryVersions}
		h := a.Registry(e.up)
		reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.up.requests.Add(1)
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(reg.Close)
		cfg.ExternalConnections[a.Connection] = reg.URL + "/"
	}
	srv := httptest.NewUnstartedServer(nil)
	e.url = "http://" + srv.Listener.Addr().String()
	cfg.PublicURL = e.url
	getenv := func(k string) string {
		switch k {
		case "COFFER_ROOT_ACCESS_KEY_ID":
			return rootKey
		case "COFFER_ROOT_SECRET_ACCESS_KEY":
			return rootSecret
		}
		return ""
	}
	e.start = func() {
		ctx, cancel := context.WithCancel(bg)
		log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		ap, err := app.New(ctx, cfg, getenv, log)
		if err != nil {
			cancel()
			t.Fatalf("app.New: %v", err)
		}
		e.app = ap
		var h http.Handler = ap.Handler
		if wrap != nil {
			h = wrap(h)
		}
		e.handler.Store(&h)
		e.stop = func() { cancel(); ap.Close() }
	}
	e.start()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*e.handler.Load()).ServeHTTP(w, r) })
	srv.Start()
	tr := &http.Transport{DisableCompression: true}
	e.http = &http.Client{Transport: tr, Timeout: time.Minute}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		e.stop()
	})

	svc := e.app.Service
	var err error
	key := ""
	if encrypted {
		key = "alias/formattest"
		t.Cleanup(func() { checkAllEncrypted(t, filepath.Join(e.dataDir, "blobs")) })
	}
	if e.domain, err = svc.CreateDomain(bg, domainName, key, nil); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	for _, r := range []struct {
		name      string
		upstreams []string
	}{{"ext", nil}, {"mid", []string{"ext"}}, {"app", []string{"mid"}}, {"solo", nil}} {
		if _, err := svc.CreateRepository(bg, e.repoRef(r.name), "", r.upstreams, nil); err != nil {
			t.Fatalf("CreateRepository %s: %v", r.name, err)
		}
	}
	if a.Connection != "" {
		if _, err := svc.AssociateExternalConnection(bg, e.repoRef("ext"), a.Connection); err != nil {
			t.Fatalf("AssociateExternalConnection %s: %v", a.Connection, err)
		}
	}
	e.root = principal{arn: e.app.Identity.RootARN(), keyID: rootKey, secret: rootSecret}
	e.root.token = e.mint(&auth.Principal{ARN: e.root.arn, Account: account, Type: auth.TypeAccount, UserID: account, AccessKeyID: rootKey})
	return e
}

// restart stops coffer and starts it again on the same data dir, as a
// process restart does: what it kept in memory is gone.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

func (e *env) mint(p *auth.Principal) string {
	e.t.Helper()
	tok, _, err := e.app.Identity.Mint(auth.WithPrincipal(bg, p), e.domain, 0)
	if err != nil {
		e.t.Fatalf("minting a token for %s: %v", p.ARN, err)
	}
	return tok
}

// iam calls the IAM Query API as the account root and decodes the answer
// into out.
func (e *env) iam(out any, kv ...string) {
	e.t.Helper()
	form := url.Values{"Version": {"2010-05-08"}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req = req.WithContext(auth.WithPrincipal(req.Context(), &auth.Principal{ARN: e.root.arn, Account: account,
		Type: auth.TypeAccount, UserID: account, AccessKeyID: rootKey}))
	rec := httptest.NewRecorder()
	e.app.Identity.IAMHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("iam %s: %d %s", form.Get("Action"), rec.Code, rec.Body)
	}
	if out != nil {
		if err := xml.Unmarshal(rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("iam %s: %v in %s", form.Get("Action"), err, rec.Body)
		}
	}
}

// user creates an IAM user with an access key and the inline policy, and
// mints its token.
func (e *env) user(name, policy string) principal {
	e.t.Helper()
	var u struct {
		ARN string `xml:"CreateUserResult>User>Arn"`
	}
	e.iam(&u, "Action", "CreateUser", "UserName", name)
	var k struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	e.iam(&k, "Action", "CreateAccessKey", "UserName", name)
	e.iam(nil, "Action", "PutUserPolicy", "UserName", name, "PolicyName", "formattest", "PolicyDocument", policy)
	if u.ARN == "" || k.ID == "" || k.Secret == "" {
		e.t.Fatalf("user %s: incomplete answers (%q, %q)", name, u.ARN, k.ID)
	}
	p := principal{arn: u.ARN, keyID: k.ID, secret: k.Secret}
	p.token = e.mint(&auth.Principal{ARN: u.ARN, Account: account, Type: auth.TypeUser, Username: name, AccessKeyID: k.ID})
	return p
}

func (e *env) repoRef(repo string) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: account, Name: domainName}, Repository: repo}
}

func (e *env) pkgRef(repo string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: e.repoRef(repo), Format: e.a.Format, Namespace: e.a.Namespace, Package: e.a.Package}
}

func (e *env) arn(kind, rest string) string {
	return "arn:aws:codeartifact:" + region + ":" + account + ":" + kind + "/" + rest
}

// packageARN is the package's ARN in repo.
func (e *env) packageARN(repo, pkg string) string {
	return e.arn("package", domainName+"/"+repo+"/"+e.a.Format+"/"+e.a.Namespace+"/"+pkg)
}

// client is the root principal's client of repo.
func (e *env) client(repo string) *Client { return e.clientAs(e.root, repo) }

func (e *env) clientAs(p principal, repo string) *Client {
	auth := e.a.Auth
	if auth == nil {
		auth = Basic
	}
	return &Client{URL: e.url, Endpoint: e.url + "/" + e.a.Format + "/d/" + domainName + "-" + account + "/" + repo + "/",
		Domain: domainName, DomainOwner: account, Repository: repo, Token: p.token, AccessKeyID: p.keyID,
		SecretAccessKey: p.secret, HTTP: e.http, App: e.app, auth: auth}
}

// anonymous is c without credentials.
func anonymous(c *Client) *Client {
	cp := *c
	cp.Token = ""
	return &cp
}

// response is an answer, read to its end (err says how the body ended).
type response struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	err          error
}

func (r response) String() string {
	b := r.body
	if len(b) > 300 {
		b = b[:300]
	}
	if r.err != nil && r.status == 0 {
		return r.method + " " + r.path + ": " + r.err.Error()
	}
	return r.method + " " + r.path + ": " + strconv.Itoa(r.status) + " " + strings.TrimSpace(string(b))
}

// do sends a request to c's endpoint; header is name/value pairs.
func (e *env) do(c *Client, method, path string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, c.Endpoint+path, nil)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{method: method, path: path, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// asset requests a version's main asset.
func (e *env) asset(c *Client, method, version string, header ...string) response {
	e.t.Helper()
	return e.do(c, method, e.a.AssetPath(version), header...)
}

// index requests the index document.
func (e *env) index(c *Client, method string, header ...string) response {
	e.t.Helper()
	if e.a.IndexAccept != "" {
		header = append([]string{"Accept", e.a.IndexAccept}, header...)
	}
	return e.do(c, method, e.a.IndexPath, header...)
}

// listed reports whether the index document of c's repository lists
// version (a 404 lists nothing).
func (e *env) listed(c *Client, version string) bool {
	e.t.Helper()
	r := e.index(c, http.MethodGet)
	switch {
	case r.err != nil:
		e.t.Errorf("%s: reading the body: %v", r, r.err)
	case r.status == http.StatusNotFound:
	case r.status != http.StatusOK:
		e.t.Errorf("%s: want 200 or 404", r)
	default:
		return e.a.Listed(r.body, version)
	}
	return false
}

// publish publishes version to c's repository and expects success.
func (e *env) publish(c *Client, version string) {
	e.t.Helper()
	status, err := e.a.Publish(c, version)
	if err != nil || status < 200 || status > 299 {
		e.t.Fatalf("publishing %s to %s: status %d, %v", version, c.Repository, status, err)
	}
}

// versions returns the versions stored in repo by status (nil when the
// package is not there).
func (e *env) versions(repo string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	page := artifact.PageRequest{Max: 1000}
	for {
		l, err := e.app.Service.ListPackageVersions(bg, e.pkgRef(repo), artifact.VersionFilter{}, page)
		if errors.Is(err, fault.ErrNotFound) {
			return out
		} else if err != nil {
			e.t.Fatalf("ListPackageVersions %s: %v", repo, err)
		}
		for _, v := range l.Versions {
			out[v.Version] = v.Status
		}
		if l.Next == "" {
			return out
		}
		page.After = l.Next
	}
}

// assets returns the assets of a version stored in repo.
func (e *env) assets(repo, version string) []store.Asset {
	e.t.Helper()
	l, err := e.app.Service.ListPackageVersionAssets(bg, artifact.VersionRef{PackageRef: e.pkgRef(repo), Version: version}, artifact.PageRequest{Max: 1000})
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	} else if err != nil {
		e.t.Fatalf("ListPackageVersionAssets %s %s: %v", repo, version, err)
	}
	return l.Assets
}

// storedAs reports whether body is one of the assets of a version stored
// in repo.
func (e *env) storedAs(repo, version string, body []byte) bool {
	e.t.Helper()
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	for _, a := range e.assets(repo, version) {
		if a.Blob.SHA256 == h {
			return true
		}
	}
	return false
}

// setStatus sets a version's status in repo (UpdatePackageVersionsStatus,
// or DisposePackageVersions for Disposed).
func (e *env) setStatus(repo, version, status string) {
	e.t.Helper()
	var res *artifact.BatchResult
	var err error
	if status == artifact.StatusDisposed {
		res, err = e.app.Service.DisposePackageVersions(bg, e.pkgRef(repo), artifact.VersionSelection{Versions: []string{version}})
	} else {
		res, err = e.app.Service.UpdatePackageVersionsStatus(bg, e.pkgRef(repo), artifact.StatusUpdate{Versions: []string{version}, TargetStatus: status})
	}
	if err != nil || len(res.Failed) != 0 {
		e.t.Fatalf("setting %s %s to %s: %v %+v", repo, version, status, err, res)
	}
}

// origin sets the package's origin configuration in repo.
func (e *env) origin(repo, publish, upstream string) {
	e.t.Helper()
	if _, err := e.app.Service.PutPackageOriginConfiguration(bg, e.pkgRef(repo), publish, upstream); err != nil {
		e.t.Fatalf("PutPackageOriginConfiguration %s: %v", repo, err)
	}
}

// requests is how many requests the fixture registry has received.
func (e *env) requests() int64 { return e.up.Requests() }

// encryptedMagic begins every object of an encrypted domain
// (internal/blob/encrypted).
const encryptedMagic = "COFFENC1"

// checkAllEncrypted fails t when a blob file under dir (staging aside) is
// not an encrypted object: an encrypted domain must leave no plaintext.
func checkAllEncrypted(t T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, path); d.IsDir() || strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			return nil // staging
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, len(encryptedMagic))
		if _, err := io.ReadFull(f, head); err != nil || string(head) != encryptedMagic {
			t.Errorf("%s is not an encrypted object (starts %q)", path, head)
		}
		n++
		return nil
	})
	if err != nil {
		t.Errorf("walking %s: %v", dir, err)
	}
	if n == 0 {
		t.Errorf("the check stored no blob in %s", dir)
	}
}
