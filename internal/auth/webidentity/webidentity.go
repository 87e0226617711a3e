// Package webidentity verifies the OpenID Connect ID tokens that
// sts:AssumeRoleWithWebIdentity exchanges for credentials (the tokens CI
// systems such as GitHub Actions, GitLab CI and Buildkite hand their jobs).
//
// A token is a JWS in compact form signed with RS256/384/512 or
// ES256/384/512 (what STS accepts; "none", HMAC and other algorithms are
// refused). Its keys come from the issuer itself: <iss>/.well-known/openid-configuration
// names the jwks_uri, both fetched over HTTPS verified with the system trust
// store (SSL_CERT_FILE and SSL_CERT_DIR apply), with bounded sizes and
// timeouts. Keys are cached per issuer for KeysTTL and fetched again when a
// token names a key id the cache lacks, which is how issuers rotate keys.
// Fetches beyond the scheduled ones draw on a small token bucket per issuer,
// so a flood of tokens with made-up key ids cannot hammer the issuer.
//
// Times: exp is required and strict (a token is expired at its exp second);
// nbf and iat may lie up to Skew (5 minutes by default) in the future, to
// absorb clock differences between the issuer and this server.
//
// The caller decides which issuers to trust before calling Verify: the
// verifier fetches keys from whatever issuer it is given.
package webidentity

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/sync/singleflight"
)

// Reason classifies a refusal the way STS reports it.
type Reason int

const (
	// Invalid is STS's InvalidIdentityToken: malformed, badly signed,
	// not yet valid, from another issuer, or signed by an unknown key.
	Invalid Reason = iota
	// Expired is STS's ExpiredTokenException.
	Expired
	// Unreachable is STS's IDPCommunicationError: the issuer's keys
	// could not be read.
	Unreachable
)

// Error is a refusal with the message STS would give.
type Error struct {
	Reason  Reason
	Message string
	Err     error // the underlying cause, for logs
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

func refuse(r Reason, err error, format string, args ...any) *Error {
	return &Error{Reason: r, Message: fmt.Sprintf(format, args...), Err: err}
}

// Messages STS gives for the common refusals.
const (
	msgNotJWT       = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
	msgNoKey        = "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgBadSignature = "The web identity token that was passed could not be validated by this server. Get a new identity token from the identity provider and then retry the request."
)

// Algorithms are the signature algorithms accepted.
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// Claims are the verified claims of a token.
type Claims struct {
	Issuer          string
	Subject         string
	Audience        []string
	AuthorizedParty string   // azp, "" when absent
	AMR             []string // amr, nil when absent
	Expiry          time.Time
	IssuedAt        time.Time // zero when absent
	NotBefore       time.Time // zero when absent
	// Raw holds every claim as sent, for the caller's own claims
	// (https://aws.amazon.com/tags, https://aws.amazon.com/source_identity).
	Raw map[string]json.RawMessage
}

// Config tunes a Verifier; zero fields take the defaults.
type Config struct {
	// Client fetches discovery documents and key sets. The default
	// verifies TLS with the system trust store and bounds every step.
	Client *http.Client
	Now    func() time.Time
	// Skew is how far in the future nbf and iat may be (default 5 min).
	Skew time.Duration
	// KeysTTL is how long fetched keys are used before they are read again,
	// so that a key the issuer withdrew stops verifying (default 1 h).
	KeysTTL time.Duration
	// RefreshEvery and RefreshBurst limit the fetches of one issuer that
	// its schedule does not call for (unknown key ids, retries after a
	// failure): one per RefreshEvery, RefreshBurst at once (defaults 1 min, 3).
	RefreshEvery time.Duration
	RefreshBurst int
	// MaxDocument bounds the discovery document and the key set (default 512 KiB).
	MaxDocument int64
}

// Verifier verifies tokens; it is safe for concurrent use.
type Verifier struct {
	cfg     Config
	mu      sync.Mutex
	issuers map[string]*issuerState
	fetches singleflight.Group
}

// maxIssuers bounds the key cache; the trusted issuers are few.
const maxIssuers = 1024

type issuerState struct {
	keys        []jose.JSONWebKey
	fetched     time.Time // when keys were read; zero before the first success
	lastAttempt time.Time
	lastErr     *Error
	tokens      float64 // refresh bucket
	refilled    time.Time
}

// New returns a Verifier.
func New(cfg Config) *Verifier {
	if cfg.Client == nil {
		cfg.Client = DefaultClient()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Skew == 0 {
		cfg.Skew = 5 * time.Minute
	}
	if cfg.KeysTTL == 0 {
		cfg.KeysTTL = time.Hour
	}
	if cfg.RefreshEvery == 0 {
		cfg.RefreshEvery = time.Minute
	}
	if cfg.RefreshBurst == 0 {
		cfg.RefreshBurst = 3
	}
	if cfg.MaxDocument == 0 {
		cfg.MaxDocument = 512 << 10
	}
	return &Verifier{cfg: cfg, issuers: make(map[string]*issuerState)}
}

// DefaultClient is the HTTP client of a Verifier without one: TLS verified
// against the system trust store, HTTPS only (redirects included), and a
// deadline on each step and on the whole exchange.
func DefaultClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 5 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" {
				return errors.New("redirect to a URL that is not https")
			}
			return nil
		},
	}
}

// UnverifiedIssuer reads the iss claim of a token without verifying
// anything, so that the caller can decide whether it trusts the issuer.
func UnverifiedIssuer(raw string) (string, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return "", refuse(Invalid, err, msgNotJWT)
	}
	var c struct {
		Issuer any `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", refuse(Invalid, err, msgNotJWT)
	}
	iss, ok := c.Issuer.(string)
	if !ok || iss == "" {
		return "", refuse(Invalid, nil, "Missing a required claim: iss")
	}
	return iss, nil
}

// Verify checks raw against the keys of issuer (which its iss claim must
// name exactly) and the time claims, and returns the claims. Audience is
// the caller's to check. Refusals are *Error.
func (v *Verifier) Verify(ctx context.Context, raw, issuer string) (*Claims, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return nil, refuse(Invalid, err, msgNotJWT)
	}
	h := tok.Headers[0]
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, refuse(Invalid, err, msgNotJWT)
	}
	if unverified.Issuer != issuer {
		return nil, refuse(Invalid, nil, "Issuer %q is not the expected issuer", unverified.Issuer)
	}
	keys, err := v.keysFor(ctx, issuer, h.KeyID, h.Algorithm)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var all map[string]json.RawMessage
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k.Key, &std, &all); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, refuse(Invalid, nil, msgBadSignature)
	}
	return v.checkClaims(std, all)
}

func (v *Verifier) checkClaims(std jwt.Claims, all map[string]json.RawMessage) (*Claims, error) {
	now := v.cfg.Now()
	c := &Claims{Issuer: std.Issuer, Subject: std.Subject, Audience: std.Audience, Raw: all,
		Expiry: std.Expiry.Time(), IssuedAt: std.IssuedAt.Time(), NotBefore: std.NotBefore.Time()}
	switch {
	case std.Expiry == nil:
		return nil, refuse(Invalid, nil, "Missing a required claim: exp")
	case !now.Before(c.Expiry):
		return nil, refuse(Expired, nil, "Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), c.Expiry.Unix())
	case std.NotBefore != nil && c.NotBefore.After(now.Add(v.cfg.Skew)):
		return nil, refuse(Invalid, nil, "Token is not yet valid: its nbf %d is after the current date/time %d", c.NotBefore.Unix(), now.Unix())
	case std.IssuedAt != nil && c.IssuedAt.After(now.Add(v.cfg.Skew)):
		return nil, refuse(Invalid, nil, "Token was issued in the future: its iat %d is after the current date/time %d", c.IssuedAt.Unix(), now.Unix())
	case c.Subject == "":
		return nil, refuse(Invalid, nil, "Missing a required claim: sub")
	case len(c.Audience) == 0:
		return nil, refuse(Invalid, nil, "Missing a required claim: aud")
	}
	if b, ok := all["azp"]; ok {
		if err := json.Unmarshal(b, &c.AuthorizedParty); err != nil {
			return nil, refuse(Invalid, err, "The azp claim is not a string")
		}
	}
	if b, ok := all["amr"]; ok {
		var one string
		if json.Unmarshal(b, &one) == nil {
			c.AMR = []string{one}
		} else if err := json.Unmarshal(b, &c.AMR); err != nil {
			return nil, refuse(Invalid, err, "The amr claim is neither a string nor a list of strings")
		}
	}
	return c, nil
}

// keysFor returns the issuer's keys that may have made a signature with
// kid and alg, fetching the key set when the cache is stale or lacks kid.
func (v *Verifier) keysFor(ctx context.Context, issuer, kid, alg string) ([]jose.JSONWebKey, error) {
	now := v.cfg.Now()
	v.mu.Lock()
	st := v.issuers[issuer]
	if st == nil {
		if len(v.issuers) >= maxIssuers {
			clear(v.issuers)
		}
		st = &issuerState{tokens: float64(v.cfg.RefreshBurst), refilled: now}
		v.issuers[issuer] = st
	}
	fresh := !st.fetched.IsZero() && now.Sub(st.fetched) < v.cfg.KeysTTL
	keys := st.keys
	v.mu.Unlock()
	if fresh {
		if c := candidates(keys, kid, alg); len(c) > 0 {
			return c, nil
		}
	}
	if !v.mayFetch(st, now) {
		if fresh {
			return nil, refuse(Invalid, nil, msgNoKey)
		}
		v.mu.Lock()
		last := st.lastErr
		v.mu.Unlock()
		if last != nil {
			return nil, last
		}
		return nil, refuse(Unreachable, nil, "The keys of %s are being fetched too often; retry later", issuer)
	}
	keys, err := v.fetch(ctx, issuer, st)
	if err != nil {
		return nil, err
	}
	if c := candidates(keys, kid, alg); len(c) > 0 {
		return c, nil
	}
	return nil, refuse(Invalid, nil, msgNoKey)
}

// mayFetch decides whether the issuer's keys may be fetched now: always
// when the last attempt is RefreshEvery old (the first fetch, a stale
// cache), else when the refresh bucket has a token left.
func (v *Verifier) mayFetch(st *issuerState, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	st.tokens = min(float64(v.cfg.RefreshBurst), st.tokens+float64(now.Sub(st.refilled))/float64(v.cfg.RefreshEvery))
	st.refilled = now
	switch {
	case st.lastAttempt.IsZero() || now.Sub(st.lastAttempt) >= v.cfg.RefreshEvery:
	case st.tokens >= 1:
		st.tokens--
	default:
		return false
	}
	st.lastAttempt = now
	return true
}

// fetch reads the issuer's key set, one fetch per issuer at a time: the
// concurrent requests that need it share the result.
func (v *Verifier) fetch(ctx context.Context, issuer string, st *issuerState) ([]jose.JSONWebKey, error) {
	ch := v.fetches.DoChan(issuer, func() (any, error) {
		// Detached from the request that started it: the others wait too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		keys, err := v.readKeys(ctx, issuer)
		v.mu.Lock()
		defer v.mu.Unlock()
		if err != nil {
			st.lastErr = err
			return nil, err
		}
		st.keys, st.fetched, st.lastErr = keys, v.cfg.Now(), nil
		return keys, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]jose.JSONWebKey), nil
	case <-ctx.Done():
		return nil, refuse(Unreachable, ctx.Err(), "The request ended while the keys of %s were being fetched", issuer)
	}
}

func (v *Verifier) readKeys(ctx context.Context, issuer string) ([]jose.JSONWebKey, *Error) {
	if !strings.HasPrefix(issuer, "https://") {
		return nil, refuse(Invalid, nil, "The issuer %s does not use https", issuer)
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, err
	}
	if disc.Issuer != issuer {
		return nil, refuse(Unreachable, nil, "The OpenID configuration of %s names the issuer %q", issuer, disc.Issuer)
	}
	if u, err := url.Parse(disc.JWKSURI); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, refuse(Unreachable, err, "The OpenID configuration of %s has no https jwks_uri", issuer)
	}
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return nil, err
	}
	var keys []jose.JSONWebKey
	for _, k := range set.Keys {
		if (k.Use == "" || k.Use == "sig") && k.Valid() {
			keys = append(keys, k.Public())
		}
	}
	return keys, nil
}

func (v *Verifier) getJSON(ctx context.Context, u string, out any) *Error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return refuse(Unreachable, err, "Cannot request %s", u)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		return refuse(Unreachable, err, "Cannot reach %s", u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return refuse(Unreachable, nil, "%s answered %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.cfg.MaxDocument+1))
	switch {
	case err != nil:
		return refuse(Unreachable, err, "Cannot read %s", u)
	case int64(len(body)) > v.cfg.MaxDocument:
		return refuse(Unreachable, nil, "%s is larger than %d bytes", u, v.cfg.MaxDocument)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return refuse(Unreachable, err, "%s is not the JSON document expected", u)
	}
	return nil
}

// candidates are the keys with the token's key id (every key when the
// token names none) whose own alg, if set, is the token's.
func candidates(keys []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if (kid == "" || k.KeyID == kid) && (k.Algorithm == "" || k.Algorithm == alg) {
			out = append(out, k)
		}
	}
	return out
}
