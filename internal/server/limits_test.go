package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/controlplane"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/iam"
	"coffer/internal/quota"
)

// fakeClock is a settable clock for the limiters.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

type arns struct{}

func (arns) RepositoryARN(owner, domain, repository string) string { return "arn:repo" }
func (arns) PackageARN(owner, domain, repository, format, namespace, pkg string) string {
	return "arn:pkg"
}

// jsonFormat is a protocol whose errors are {"error": ...} documents, as
// npm's are.
func jsonFormat() http.Handler {
	return format.NewRouter(format.Router{Format: "npm", Authorizer: allowAll{}, ARNs: arns{},
		Render: func(w http.ResponseWriter, r *http.Request, err error) {
			status, msg, ok := format.ErrorStatus(w, r, slog.New(slog.DiscardHandler), "npm", err)
			if ok {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]string{"error": msg})
			}
		},
		Routes: []format.Route{{Method: http.MethodGet, Path: "{rest...}", Action: "codeartifact:ReadFromRepository",
			Handle: func(w http.ResponseWriter, r *http.Request, c *format.Call) error {
				_, err := io.WriteString(w, "ok")
				return err
			}}},
	})
}

func tokenPrincipals(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
	if strings.HasPrefix(tok, "tok-") {
		return &auth.Principal{ARN: "arn:aws:iam::111122223333:user/" + strings.TrimPrefix(tok, "tok-")}, nil
	}
	return nil, fault.Unauthenticated("InvalidToken", "The authorization token is invalid.")
}

func metricLine(t *testing.T, h http.Handler, prefix string) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, l := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestDataPlaneRateLimits: over a principal's rate the data plane answers
// 429 in the format's own shape with Retry-After, counted in /metrics;
// another principal is not affected; requests without a valid token are
// limited per source; without limits nothing is refused.
func TestDataPlaneRateLimits(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	limits := quota.New(quota.Config{DataPlane: quota.Rate{PerSecond: 0.5, Burst: 2}, Unauthenticated: quota.Rate{PerSecond: 1, Burst: 1}, Now: clock.now})
	h := Handler(Deps{DataPlane: DataPlane(map[string]http.Handler{"npm": jsonFormat()}, tokenPrincipals, RateLimits(limits)),
		Log: slog.New(slog.DiscardHandler)})
	const path = "/npm/d/acme-111122223333/app/left-pad"
	send := func(authorization, source string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = source + ":1234"
		if authorization != "" {
			r.Header.Set("Authorization", "Bearer "+authorization)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 2 {
		if w := send("tok-alice", "192.0.2.1"); w.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, w.Code, w.Body)
		}
	}
	w := send("tok-alice", "192.0.2.1")
	var body map[string]string
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" ||
		json.Unmarshal(w.Body.Bytes(), &body) != nil || !strings.Contains(body["error"], "Rate exceeded") {
		t.Fatalf("over the rate: %d Retry-After %q %s; want 429, Retry-After 2 (a token per 2 s) and the format's JSON error",
			w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := send("tok-bob", "192.0.2.1"); w.Code != http.StatusOK {
		t.Fatalf("another principal: %d", w.Code)
	}
	clock.add(2 * time.Second)
	if w := send("tok-alice", "192.0.2.1"); w.Code != http.StatusOK {
		t.Fatalf("after the wait: %d", w.Code)
	}
	if l := metricLine(t, h, `coffer_throttled_requests_total{operation="npm",surface="data"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("throttled metric: %q", l)
	}

	// Without a valid token: the first is challenged, the next one from
	// the same source is over its rate; another source is challenged.
	if w := send("", "198.51.100.1"); w.Code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", w.Code)
	}
	if w := send("bad", "198.51.100.1"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("bad token over the source's rate: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := send("", "198.51.100.2"); w.Code != http.StatusUnauthorized {
		t.Fatalf("another source: %d", w.Code)
	}

	// No limits: nothing refused.
	open := Handler(Deps{DataPlane: DataPlane(map[string]http.Handler{"npm": jsonFormat()}, tokenPrincipals, RateLimits(nil)),
		Log: slog.New(slog.DiscardHandler)})
	for range 50 {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer tok-alice")
		w := httptest.NewRecorder()
		open.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("without limits: %d", w.Code)
		}
	}
}

// TestControlPlaneRateLimits: a signed call over its operation's rate is a
// ThrottlingException (429, Retry-After), per principal and operation.
func TestControlPlaneRateLimits(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	limits := quota.New(quota.Config{API: map[string]quota.Rate{"GetAuthorizationToken": {PerSecond: 0.25, Burst: 1},
		quota.Reads: {PerSecond: 1, Burst: 1}}, Now: clock.now})
	creds := map[string]*auth.Principal{"AKIDALICE": {ARN: "arn:aws:iam::111122223333:user/alice"}, "AKIDBOB": {ARN: "arn:aws:iam::111122223333:user/bob"}}
	lookup := func(ctx context.Context, id string) (*sigv4.Credential, error) {
		if p := creds[id]; p != nil {
			return &sigv4.Credential{SecretAccessKey: "secret", Principal: p}, nil
		}
		return nil, fault.ErrNotFound
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	h := Handler(Deps{ControlPlane: ok, WriteControlError: controlplane.WriteError, Verifier: &sigv4.Verifier{Lookup: lookup},
		Limits: limits, ControlOperation: controlplane.Operation, Log: slog.New(slog.DiscardHandler)})
	empty := sha256.Sum256(nil)
	call := func(key, method, path string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, "http://coffer.test"+path, nil)
		r.Header.Set("x-amz-content-sha256", hex.EncodeToString(empty[:]))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: "secret"}, r,
			hex.EncodeToString(empty[:]), "codeartifact", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	token := "/v1/authorization-token?domain=d"
	if w := call("AKIDALICE", http.MethodPost, token); w.Code != http.StatusOK {
		t.Fatalf("first token: %d %s", w.Code, w.Body)
	}
	w := call("AKIDALICE", http.MethodPost, token)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("x-amzn-ErrorType") != "ThrottlingException" || w.Header().Get("Retry-After") != "4" ||
		!strings.Contains(w.Body.String(), `"__type":"ThrottlingException"`) {
		t.Fatalf("second token: %d %v %s; want 429 ThrottlingException, Retry-After 4", w.Code, w.Header(), w.Body)
	}
	if got := w.Header().Get("x-amz-retry-after"); got != "4000" {
		t.Fatalf("x-amz-retry-after %q, want 4000 (ms)", got)
	}
	if w := call("AKIDBOB", http.MethodPost, token); w.Code != http.StatusOK {
		t.Fatalf("another principal: %d", w.Code)
	}
	// Other reads share the reads bucket, apart from the token's.
	if w := call("AKIDALICE", http.MethodGet, "/v1/domain?domain=d"); w.Code != http.StatusOK {
		t.Fatalf("a read: %d", w.Code)
	}
	if w := call("AKIDALICE", http.MethodGet, "/v1/repository?domain=d&repository=r"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("a second read: %d", w.Code)
	}
	// Writes have no rate here; unknown paths are not counted.
	for range 5 {
		if w := call("AKIDALICE", http.MethodPost, "/v1/domain?domain=d"); w.Code != http.StatusOK {
			t.Fatalf("a write: %d", w.Code)
		}
		if w := call("AKIDALICE", http.MethodGet, "/v1/nothing"); w.Code != http.StatusOK {
			t.Fatalf("an unknown path: %d", w.Code)
		}
	}
	if l := metricLine(t, h, `coffer_throttled_requests_total{operation="GetAuthorizationToken",surface="control"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("throttled metric: %q", l)
	}
}

// TestQueryRateLimits: an IAM or STS call over its service's rate is the
// Query API's Throttling error (400), per principal and service.
func TestQueryRateLimits(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	limits := quota.New(quota.Config{API: map[string]quota.Rate{quota.STS: {PerSecond: 1, Burst: 1}}, Now: clock.now})
	lookup := func(ctx context.Context, id string) (*sigv4.Credential, error) {
		return &sigv4.Credential{SecretAccessKey: "secret", Principal: &auth.Principal{ARN: "arn:aws:iam::111122223333:user/" + id}}, nil
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<ok/>")) })
	h := Handler(Deps{Query: map[string]http.Handler{"sts": ok, "iam": ok}, QueryVerifier: &sigv4.Verifier{Lookup: lookup},
		WriteQueryError: iam.WriteQueryError, Limits: limits, Log: slog.New(slog.DiscardHandler)})
	call := func(key, service string) *httptest.ResponseRecorder {
		t.Helper()
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		r := httptest.NewRequest(http.MethodPost, "http://coffer.test/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: "secret"}, r,
			hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := call("AKIDA", "sts"); w.Code != http.StatusOK {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	if w := call("AKIDA", "sts"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "<Code>Throttling</Code>") {
		t.Fatalf("second: %d %s; want 400 Throttling", w.Code, w.Body)
	}
	if w := call("AKIDB", "sts"); w.Code != http.StatusOK {
		t.Fatalf("another principal: %d", w.Code)
	}
	for range 3 {
		if w := call("AKIDA", "iam"); w.Code != http.StatusOK {
			t.Fatalf("iam without a rate: %d", w.Code)
		}
	}
	clock.add(time.Second)
	if w := call("AKIDA", "sts"); w.Code != http.StatusOK {
		t.Fatalf("after a second: %d", w.Code)
	}
	if l := metricLine(t, h, `coffer_throttled_requests_total{operation="sts",surface="query"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("throttled metric: %q", l)
	}
}

// TestUnsignedQueryRateLimit: the unsigned AssumeRoleWithWebIdentity has
// no principal; it is limited per source address under STS's rate, so a
// flood of tokens from one address is refused before any is verified.
func TestUnsignedQueryRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	limits := quota.New(quota.Config{API: map[string]quota.Rate{quota.STS: {PerSecond: 1, Burst: 2}}, Now: clock.now})
	var served int
	sts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++; w.Write([]byte("<ok/>")) })
	h := Handler(Deps{Query: map[string]http.Handler{"sts": sts}, QueryVerifier: &sigv4.Verifier{},
		IsUnsignedAction: func(a string) bool { return a == "AssumeRoleWithWebIdentity" },
		WriteQueryError:  iam.WriteQueryError, Limits: limits, Log: slog.New(slog.DiscardHandler)})
	call := func(remote string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "http://coffer.test/",
			strings.NewReader("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=x"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 2 {
		if w := call("192.0.2.1:1000"); w.Code != http.StatusOK {
			t.Fatalf("call %d within the burst: %d %s", i, w.Code, w.Body)
		}
	}
	if w := call("192.0.2.1:1001"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "<Code>Throttling</Code>") {
		t.Fatalf("over the rate: %d %s; want 400 Throttling", w.Code, w.Body)
	}
	if w := call("192.0.2.2:1000"); w.Code != http.StatusOK {
		t.Fatalf("another address: %d", w.Code)
	}
	if served != 3 {
		t.Fatalf("the handler served %d calls, want 3", served)
	}
}

// BenchmarkDataPlaneLimits is a data-plane request through the server's
// middleware with no limits (the default) and with limits that are never
// reached: the difference is what the limiter costs a request.
func BenchmarkDataPlaneLimits(b *testing.B) {
	huge := quota.Rate{PerSecond: 1e12, Burst: 1 << 30}
	for _, bc := range []struct {
		name   string
		limits *quota.Limits
	}{{"off", nil}, {"on", quota.New(quota.Config{DataPlane: huge, Repository: huge})}} {
		b.Run(bc.name, func(b *testing.B) {
			h := Handler(Deps{DataPlane: DataPlane(map[string]http.Handler{"npm": jsonFormat()}, tokenPrincipals, RateLimits(bc.limits)),
				Log: slog.New(slog.DiscardHandler)})
			r := httptest.NewRequest(http.MethodGet, "/npm/d/acme-111122223333/app/left-pad", nil)
			r.Header.Set("Authorization", "Bearer tok-alice")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkControlPlaneLimits is the same for the control plane, after
// authentication: the operation's lookup and its bucket.
func BenchmarkControlPlaneLimits(b *testing.B) {
	huge := quota.Rate{PerSecond: 1e12, Burst: 1 << 30}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	p := &auth.Principal{ARN: "arn:aws:iam::111122223333:user/builder"}
	for _, bc := range []struct {
		name   string
		limits *quota.Limits
	}{{"off", nil}, {"on", quota.New(quota.Config{API: map[string]quota.Rate{quota.Reads: huge}})}} {
		b.Run(bc.name, func(b *testing.B) {
			h := limitControl(Deps{Limits: bc.limits, ControlOperation: controlplane.Operation, WriteControlError: controlplane.WriteError}, ok)
			r := httptest.NewRequest(http.MethodGet, "/v1/package/version?domain=d&repository=r&format=npm&package=p&version=1", nil)
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
			}
		})
	}
}
