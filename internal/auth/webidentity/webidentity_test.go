package webidentity

import (
	"coffer/internal/auth/webidentity/oidctest"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// issuer is an OpenID provider in miniature: discovery document and key
// set over TLS, keys that can be rotated, a count of key-set fetches.
type issuer struct {
	t       *testing.T
	srv     *httptest.Server
	url     string
	mu      sync.Mutex
	keys    []jose.JSONWebKey // private keys; the key set serves their public halves
	jwks    func() []byte     // overrides the key set when set
	fetches atomic.Int32
}

func newIssuer(t *testing.T) *issuer {
	is := &issuer{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tenant/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.url, "jwks_uri": is.srv.URL + "/keys"})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		if is.jwks != nil {
			_, _ = w.Write(is.jwks())
			return
		}
		var set jose.JSONWebKeySet
		for _, k := range is.keys {
			set.Keys = append(set.Keys, k.Public())
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	is.srv = httptest.NewTLSServer(mux)
	is.url = is.srv.URL + "/tenant"
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) setJWKS(fn func() []byte) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.jwks = fn
}

func (is *issuer) setKeys(keys ...jose.JSONWebKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = keys
}

func (is *issuer) claims(now time.Time) map[string]any {
	return map[string]any{"iss": is.url, "sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "aud": "sts.amazonaws.com",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
}

func (is *issuer) verifier(now func() time.Time) *Verifier {
	return New(Config{Client: is.srv.Client(), Now: now})
}

func wantReason(t *testing.T, err error, r Reason, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want refusal %d, got %v", r, err)
	}
	if e.Reason != r || !strings.Contains(e.Message, msg) {
		t.Fatalf("want refusal %d with %q, got %d: %s", r, msg, e.Reason, e.Message)
	}
}

func TestVerifyRSAAndEC(t *testing.T) {
	is := newIssuer(t)
	rk, ek := oidctest.NewRSAKey(t, "r1"), oidctest.NewECKey(t, "e1")
	is.setKeys(rk, ek)
	now := time.Now()
	v := is.verifier(func() time.Time { return now })
	ctx := context.Background()

	cl := is.claims(now)
	cl["aud"] = []string{"other", "sts.amazonaws.com"}
	cl["amr"] = "mfa"
	cl["azp"] = "app"
	cl["repository"] = "octo-org/octo-repo"
	got, err := v.Verify(ctx, oidctest.Sign(t, rk, cl), is.url)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "repo:octo-org/octo-repo:ref:refs/heads/main" || strings.Join(got.Audience, ",") != "other,sts.amazonaws.com" ||
		got.AuthorizedParty != "app" || strings.Join(got.AMR, ",") != "mfa" || got.Expiry.Unix() != now.Add(5*time.Minute).Unix() ||
		string(got.Raw["repository"]) != `"octo-org/octo-repo"` {
		t.Fatalf("claims %+v", got)
	}
	cl = is.claims(now)
	cl["amr"] = []string{"pwd", "otp"}
	got, err = v.Verify(ctx, oidctest.Sign(t, ek, cl), is.url)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Audience, ",") != "sts.amazonaws.com" || strings.Join(got.AMR, ",") != "pwd,otp" {
		t.Fatalf("claims %+v", got)
	}
	// The ES256 key named with the RSA key's id is no help to a forger:
	// the signature must verify with the key the id names.
	forged := ek
	forged.KeyID = "r1"
	forged.Algorithm = string(jose.ES256)
	_, err = v.Verify(ctx, oidctest.Sign(t, forged, is.claims(now)), is.url)
	wantReason(t, err, Invalid, "")
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("the key set was fetched %d times, want 2 (once, and once for the key id missing an ES256 key)", n)
	}
	if iss, err := UnverifiedIssuer(oidctest.Sign(t, rk, is.claims(now))); err != nil || iss != is.url {
		t.Fatalf("UnverifiedIssuer: %q %v", iss, err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	is := newIssuer(t)
	k := oidctest.NewRSAKey(t, "k1")
	is.setKeys(k)
	now := time.Now()
	v := is.verifier(func() time.Time { return now })
	ctx := context.Background()
	good := oidctest.Sign(t, k, is.claims(now))
	if _, err := v.Verify(ctx, good, is.url); err != nil {
		t.Fatal(err)
	}

	b64 := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + b64([]byte(strings.Replace(string(payload), "octo-repo", "evil-repo", 1))) + "." + parts[2]
	noneTok := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	mac := hmac.New(sha256.New, []byte("secret"))
	hsHead := b64([]byte(`{"alg":"HS256","kid":"k1","typ":"JWT"}`))
	mac.Write([]byte(hsHead + "." + parts[1]))
	hsTok := hsHead + "." + parts[1] + "." + b64(mac.Sum(nil))

	at := func(mod func(map[string]any)) string {
		c := is.claims(now)
		mod(c)
		return oidctest.Sign(t, k, c)
	}
	cases := []struct {
		name   string
		tok    string
		reason Reason
		msg    string
	}{
		{"tampered payload", tampered, Invalid, "could not be validated"},
		{"alg none", noneTok, Invalid, "not a valid JWT"},
		{"HS256", hsTok, Invalid, "not a valid JWT"},
		{"garbage", "not.a.token", Invalid, "not a valid JWT"},
		{"unknown key", oidctest.Sign(t, oidctest.NewRSAKey(t, "stranger"), is.claims(now)), Invalid, "Couldn't retrieve verification key"},
		{"same kid, other key", oidctest.Sign(t, oidctest.NewRSAKey(t, "k1"), is.claims(now)), Invalid, "could not be validated"},
		{"expired", at(func(c map[string]any) { c["exp"] = now.Unix() }), Expired, "Token expired"},
		{"no exp", at(func(c map[string]any) { delete(c, "exp") }), Invalid, "exp"},
		{"nbf beyond skew", at(func(c map[string]any) { c["nbf"] = now.Add(6 * time.Minute).Unix() }), Invalid, "not yet valid"},
		{"iat beyond skew", at(func(c map[string]any) { c["iat"] = now.Add(6 * time.Minute).Unix() }), Invalid, "future"},
		{"no sub", at(func(c map[string]any) { delete(c, "sub") }), Invalid, "sub"},
		{"no aud", at(func(c map[string]any) { delete(c, "aud") }), Invalid, "aud"},
		{"other issuer", at(func(c map[string]any) { c["iss"] = "https://elsewhere.example" }), Invalid, "not the expected issuer"},
	}
	for _, tc := range cases {
		_, err := v.Verify(ctx, tc.tok, is.url)
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		var e *Error
		if !errors.As(err, &e) || e.Reason != tc.reason || !strings.Contains(e.Message, tc.msg) {
			t.Fatalf("%s: got %v", tc.name, err)
		}
	}
	// Within the skew, a token from a slightly fast issuer clock is fine.
	if _, err := v.Verify(ctx, at(func(c map[string]any) {
		c["nbf"], c["iat"] = now.Add(4*time.Minute).Unix(), now.Add(4*time.Minute).Unix()
	}), is.url); err != nil {
		t.Fatal(err)
	}
}

// TestKeyRotationAndRefreshLimit: a token naming a new key id makes the
// verifier read the key set again; a flood of made-up key ids costs the
// issuer a few fetches, not one per token.
func TestKeyRotationAndRefreshLimit(t *testing.T) {
	is := newIssuer(t)
	old := oidctest.NewRSAKey(t, "old")
	is.setKeys(old)
	var clock atomic.Int64
	start := time.Now()
	now := func() time.Time { return start.Add(time.Duration(clock.Load())) }
	v := is.verifier(now)
	ctx := context.Background()
	if _, err := v.Verify(ctx, oidctest.Sign(t, old, is.claims(now())), is.url); err != nil {
		t.Fatal(err)
	}
	next := oidctest.NewECKey(t, "new")
	is.setKeys(old, next)
	if _, err := v.Verify(ctx, oidctest.Sign(t, next, is.claims(now())), is.url); err != nil {
		t.Fatalf("token signed with the rotated-in key: %v", err)
	}
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("%d key-set fetches, want 2", n)
	}

	bogus := make([]string, 50)
	for i := range bogus {
		bogus[i] = oidctest.Sign(t, oidctest.NewECKey(t, fmt.Sprint("bogus", i)), is.claims(now()))
	}
	var wg sync.WaitGroup
	for _, tok := range bogus {
		wg.Go(func() {
			var e *Error
			if _, err := v.Verify(ctx, tok, is.url); !errors.As(err, &e) || e.Reason != Invalid || !strings.Contains(e.Message, "Couldn't retrieve verification key") {
				t.Errorf("token with an unknown key id: %v", err)
			}
		})
	}
	wg.Wait()
	if n := is.fetches.Load(); n > 2+3 {
		t.Fatalf("50 tokens with unknown key ids caused %d fetches", n-2)
	}
	// The known keys keep working meanwhile, without fetches.
	before := is.fetches.Load()
	if _, err := v.Verify(ctx, oidctest.Sign(t, old, is.claims(now())), is.url); err != nil {
		t.Fatal(err)
	}
	if is.fetches.Load() != before {
		t.Fatal("a known key caused a fetch")
	}
	// The bucket refills with time: a rotation a minute later is seen.
	clock.Add(int64(time.Minute))
	third := oidctest.NewRSAKey(t, "third")
	is.setKeys(third)
	if _, err := v.Verify(ctx, oidctest.Sign(t, third, is.claims(now())), is.url); err != nil {
		t.Fatal(err)
	}
	// After KeysTTL the set is read again, so a withdrawn key stops working.
	clock.Add(int64(time.Hour))
	_, err := v.Verify(ctx, oidctest.Sign(t, old, is.claims(now())), is.url)
	wantReason(t, err, Invalid, "Couldn't retrieve verification key")
}

func TestIssuerFailures(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	k := oidctest.NewRSAKey(t, "k1")

	// Unreachable: the server is gone.
	is := newIssuer(t)
	is.setKeys(k)
	tok := oidctest.Sign(t, k, is.claims(now))
	v := is.verifier(func() time.Time { return now })
	is.srv.Close()
	_, err := v.Verify(ctx, tok, is.url)
	wantReason(t, err, Unreachable, "Cannot reach")

	// A certificate the system does not trust.
	is = newIssuer(t)
	is.setKeys(k)
	_, err = New(Config{Now: func() time.Time { return now }}).Verify(ctx, oidctest.Sign(t, k, is.claims(now)), is.url)
	wantReason(t, err, Unreachable, "Cannot reach")

	// Oversized and malformed key sets.
	is.setJWKS(func() []byte { return []byte(`{"keys":[` + strings.Repeat(" ", 600<<10) + `]}`) })
	_, err = is.verifier(func() time.Time { return now }).Verify(ctx, oidctest.Sign(t, k, is.claims(now)), is.url)
	wantReason(t, err, Unreachable, "larger than")
	is.setJWKS(func() []byte { return []byte(`<html>`) })
	_, err = is.verifier(func() time.Time { return now }).Verify(ctx, oidctest.Sign(t, k, is.claims(now)), is.url)
	wantReason(t, err, Unreachable, "not the JSON document")

	// Encryption keys in the set do not verify signatures.
	enc := oidctest.NewRSAKey(t, "k1")
	enc.Use = "enc"
	encSet, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{enc.Public()}})
	is.setJWKS(func() []byte { return encSet })
	_, err = is.verifier(func() time.Time { return now }).Verify(ctx, oidctest.Sign(t, k, is.claims(now)), is.url)
	wantReason(t, err, Invalid, "Couldn't retrieve verification key")

	// Plain http issuers are refused before anything is fetched.
	_, err = New(Config{}).Verify(ctx, oidctest.Sign(t, k, map[string]any{"iss": "http://127.0.0.1:1/x"}), "http://127.0.0.1:1/x")
	wantReason(t, err, Invalid, "https")
}

func TestDiscoveryMustNameTheIssuer(t *testing.T) {
	k := oidctest.NewRSAKey(t, "k1")
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://someone-else.example", "jwks_uri": srv.URL + "/keys"})
	})
	now := time.Now()
	_, err := New(Config{Client: srv.Client()}).Verify(context.Background(),
		oidctest.Sign(t, k, map[string]any{"iss": srv.URL, "sub": "s", "aud": "a", "exp": now.Add(time.Minute).Unix()}), srv.URL)
	wantReason(t, err, Unreachable, "names the issuer")
}
