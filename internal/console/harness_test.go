package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/auth/seal"
	"coffer/internal/auth/sigv4"
	"coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/format/plugins"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

const (
	account      = "123456789012"
	rootKey      = "AKIAROOTKEY000000001"
	rootSecret   = "root/secret/0123456789abcdefghijklmnopqr"
	readerKey    = "AKIAREADER0000000001"
	readerSecret = "reader/secret/0123456789abcdefghijklmno"
	tempKey      = "ASIATEMPORARY0000001"
	tempSecret   = "temp/secret/0123456789abcdefghijklmnopqrs"
	tempToken    = "session-token-0123456789"
	roleARN      = "arn:aws:sts::" + account + ":assumed-role/build/ci"
	rootARN      = "arn:aws:iam::" + account + ":root"
	readerARN    = "arn:aws:iam::" + account + ":user/reader"
)

// fakeAuthz allows the root everything and the reader user the read-only
// actions (Describe*, List*, Get* but GetAuthorizationToken), like the
// read-only policy of the end-to-end test. It records what it decided.
type fakeAuthz struct {
	mu        sync.Mutex
	decisions []string
}

func (a *fakeAuthz) Authorize(ctx context.Context, action, resource string) error {
	p := auth.PrincipalFrom(ctx)
	allowed := false
	switch {
	case p == nil:
	case p.ARN == rootARN:
		allowed = true
	case p.ARN == readerARN || p.ARN == roleARN:
		_, name, _ := strings.Cut(action, ":")
		allowed = strings.HasPrefix(action, "codeartifact:") && name != "GetAuthorizationToken" &&
			(strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Get"))
	}
	a.mu.Lock()
	a.decisions = append(a.decisions, action+" "+resource+" "+map[bool]string{true: "allow", false: "deny"}[allowed])
	a.mu.Unlock()
	if !allowed {
		return fault.AccessDenied("not authorized to perform %s on %s", action, resource)
	}
	return nil
}

func (a *fakeAuthz) denied(action string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, d := range a.decisions {
		if strings.HasPrefix(d, action+" ") && strings.HasSuffix(d, " deny") {
			return true
		}
	}
	return false
}

// keys is a fake identity store.
type keys struct {
	mu         sync.Mutex
	inactive   map[string]bool
	tempExpiry time.Time
}

func (k *keys) lookup(ctx context.Context, id string) (*sigv4.Credential, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inactive[id] {
		return nil, fault.NotFound("access-key", id, "access key %s is not valid", id)
	}
	switch id {
	case rootKey:
		return &sigv4.Credential{SecretAccessKey: rootSecret, Principal: &auth.Principal{ARN: rootARN, Account: account, Type: auth.TypeAccount, AccessKeyID: id}}, nil
	case tempKey:
		return &sigv4.Credential{SecretAccessKey: tempSecret, SessionToken: tempToken, Principal: &auth.Principal{ARN: roleARN, Account: account,
			Type: auth.TypeAssumedRole, AccessKeyID: id, SessionExpiry: k.tempExpiry}}, nil
	case readerKey:
		return &sigv4.Credential{SecretAccessKey: readerSecret, Principal: &auth.Principal{ARN: readerARN, Account: account, Type: auth.TypeUser,
			Username: "reader", AccessKeyID: id}}, nil
	}
	return nil, fault.NotFound("access-key", id, "access key %s is not valid", id)
}

func (k *keys) deactivate(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.inactive[id] = true
}

// harness is a console over a real artifact service on SQLite.
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	svc     *artifact.Service
	meta    store.Store
	console *Console
	cfg     Config                  // the console's configuration, for restart
	current atomic.Pointer[Console] // the console the server serves
	authz   *fakeAuthz
	keys    *keys
	mu      sync.Mutex
	now     time.Time
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: account}, meta, blobs, nil)
	sealer, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h := &harness{t: t, svc: svc, meta: meta, authz: &fakeAuthz{}, keys: &keys{inactive: map[string]bool{}, tempExpiry: now.Add(time.Hour)}, now: now}
	h.srv = httptest.NewUnstartedServer(nil)
	h.cfg = Config{Service: svc, Authorizer: h.authz, Probe: &fakeAuthz{}, Lookup: h.keys.lookup, Guides: plugins.Guides(),
		MintToken: func(ctx context.Context, d *artifact.Domain, dur time.Duration) (string, time.Time, error) {
			p := auth.PrincipalFrom(ctx)
			return "token-for-" + p.ARN + "-" + d.Name, h.clock().Add(dur), nil
		},
		Sealer: sealer, Store: meta, PublicURL: "http://" + h.srv.Listener.Addr().String(), Now: h.clock}
	h.restart()
	mux := http.NewServeMux()
	mux.Handle("/console/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What the server's middleware puts in every request.
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		r = r.WithContext(auth.WithRequestInfo(r.Context(), auth.RequestInfo{RequestID: "req", SourceIP: host}))
		h.current.Load().ServeHTTP(w, r)
	}))
	h.srv.Config.Handler = mux
	h.srv.Start()
	t.Cleanup(func() { h.srv.Close(); meta.Close() })
	return h
}

// restart replaces the served console with a new one built from the same
// configuration (the same store and master key), as a restarted process or
// another node behind the load balancer would be.
func (h *harness) restart() {
	h.t.Helper()
	c, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.console = c
	h.current.Store(c)
}

// seed creates domain "acme" with repositories store (external connection
// to npmjs), team (upstream store) and app (upstreams team and a deleted
// one), and a generic package in app with one asset.
func (h *harness) seed() (asset []byte) {
	h.t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		h.t.Helper()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	must(h.svc.CreateDomain(ctx, "acme", "", nil))
	d := artifact.DomainRef{Name: "acme"}
	must(h.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: d, Repository: "store"}, "Public packages", nil, nil))
	must(h.svc.AssociateExternalConnection(ctx, artifact.RepoRef{DomainRef: d, Repository: "store"}, "public:npmjs"))
	must(h.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: d, Repository: "gone"}, "", nil, nil))
	must(h.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: d, Repository: "team"}, "", []string{"store"}, nil))
	must(h.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: d, Repository: "app"}, "The application's packages", []string{"team", "gone"}, nil))
	must(h.svc.DeleteRepository(ctx, artifact.RepoRef{DomainRef: d, Repository: "gone"}))
	asset = []byte("hello, console\n")
	sum := sha256.Sum256(asset)
	must(h.svc.PublishPackageVersion(ctx, artifact.PublishRequest{VersionRef: h.ref("1.0.0"), Asset: "tool.tar.gz",
		SHA256: hex.EncodeToString(sum[:])}, bytes.NewReader(asset)))
	return asset
}

func (h *harness) ref(version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "acme"}, Repository: "app"},
		Format: "generic", Namespace: "tools", Package: "tool"}, Version: version}
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	h      *harness
	client *http.Client
	csrf   string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) *response {
	b.h.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(body)); m != nil && strings.Contains(string(body), `id="logout-form"`) {
		b.csrf = m[1]
	}
	return &response{resp, string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) *response {
	req, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form; headers are extra request headers.
func (b *browser) post(path string, form url.Values, headers ...string) *response {
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// signIn signs in through the form and fails the test if it does not work.
func (b *browser) signIn(key, secret string) {
	b.h.t.Helper()
	if r := b.trySignIn(key, secret, "", ""); r.StatusCode != http.StatusSeeOther {
		b.h.t.Fatalf("sign-in: %d\n%s", r.StatusCode, r.body)
	}
	b.get("/console/") // picks up the session's CSRF token
	if b.csrf == "" {
		b.h.t.Fatal("no CSRF token after sign-in")
	}
}

func (b *browser) trySignIn(key, secret, token, next string) *response {
	b.h.t.Helper()
	page := b.get("/console/login")
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		b.h.t.Fatalf("login page has no token:\n%s", page.body)
	}
	return b.post("/console/login", url.Values{"csrf": {m[1]}, "access_key_id": {key}, "secret_access_key": {secret},
		"session_token": {token}, "next": {next}})
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.h.srv.URL + "/console/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.h.srv.URL + "/console/")
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/console/"}})
}
