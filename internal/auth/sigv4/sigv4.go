// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) requests,
// in both the Authorization header form the AWS SDKs and CLI use and the
// presigned query-string form, the way AWS services other than S3 do.
//
// Every failure is a *fault.Error of Kind fault.KindUnauthenticated whose Code
// is the AWS error type a JSON-protocol service reports (see the Code
// constants; QueryCode translates them for the IAM/STS Query protocol), except
// for an unreadable or oversized body, which is a validation error.
package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"coffer/internal/auth"
	"coffer/internal/fault"
)

// AWS error types reported by JSON-protocol services (CodeArtifact among them).
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeExpiredToken               = "ExpiredTokenException"
)

// QueryCode returns the Query-protocol (IAM, STS) name of a JSON-protocol
// error code: UnrecognizedClientException becomes InvalidClientTokenId,
// InvalidSignatureException becomes SignatureDoesNotMatch, and so on. Other
// codes are returned unchanged.
func QueryCode(code string) string {
	switch code {
	case CodeMissingAuthenticationToken:
		return "MissingAuthenticationToken"
	case CodeIncompleteSignature:
		return "IncompleteSignature"
	case CodeInvalidSignature:
		return "SignatureDoesNotMatch"
	case CodeUnrecognizedClient:
		return "InvalidClientTokenId"
	case CodeExpiredToken:
		return "ExpiredToken"
	}
	return code
}

// UnsignedPayload is the x-amz-content-sha256 value (and presigned payload
// hash) of a request whose body is not covered by the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	timeFormat = "20060102T150405Z"

	headerDate          = "X-Amz-Date"
	headerSecurityToken = "X-Amz-Security-Token"
	headerContentSHA256 = "X-Amz-Content-Sha256"

	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramSecurityToken = "X-Amz-Security-Token"

	maxPresignExpiry = 7 * 24 * time.Hour // AWS's limit for X-Amz-Expires

	defaultMaxSkew    = 15 * time.Minute
	defaultMaxBody    = 2 << 20  // the largest body any signed operation takes whole is 1 MiB
	defaultBodyBudget = 64 << 20 // bodies read before their signature is checked, all requests together

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	maxCachedKeys = 1024
)

const (
	msgMissingToken      = "Missing Authentication Token"
	msgInvalidToken      = "The security token included in the request is invalid."
	msgExpiredToken      = "The security token included in the request is expired"
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Credential is what a Lookup knows about an access key.
type Credential struct {
	SecretAccessKey string
	// SessionToken is the token a temporary key must be presented with, ""
	// for long-term keys (which must then be presented without one).
	SessionToken string
	// Principal is the caller the key belongs to. A non-zero SessionExpiry
	// makes requests at or after that instant fail with ExpiredTokenException.
	Principal *auth.Principal
}

// Lookup finds the credential for an access key id. For an unknown (or
// deactivated) key it returns an error matching fault.ErrNotFound; any other
// *fault.Error is passed through to the caller of Verify unchanged.
type Lookup func(ctx context.Context, accessKeyID string) (*Credential, error)

// Verifier checks SigV4 signatures. Only Lookup is required. A Verifier
// caches derived signing keys, so it must not be copied after first use; it
// is safe for concurrent use.
type Verifier struct {
	Lookup Lookup
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// MaxSkew is how far the signing time may be from Now; 15 minutes if zero.
	MaxSkew time.Duration
	// MaxBody bounds the body read into memory to hash it when the request
	// has no signed x-amz-content-sha256 header; 2 MiB if zero.
	MaxBody int64
	// BodyBudget bounds the bytes of such bodies held by all requests at
	// once; a request that would exceed it is throttled. 64 MiB if zero.
	BodyBudget int64
	// Scopes, when set, are the only credential scopes (service and region)
	// accepted; AWS refuses a request signed for another service or region.
	// Left empty, any scope is accepted and reported in the Result.
	Scopes []Scope

	mu   sync.Mutex
	keys map[keyCacheKey]keyCacheEntry

	budgetOnce sync.Once
	bodies     *semaphore.Weighted
}

// Scope is a credential scope's service and region.
type Scope struct{ Service, Region string }

// Result describes a request whose signature verified.
type Result struct {
	Principal   *auth.Principal
	AccessKeyID string
	// Region, Service and Date (YYYYMMDD) are the credential scope.
	Region, Service, Date string
	// Time is the signing time (X-Amz-Date).
	Time time.Time
	// PayloadHash is the x-amz-content-sha256 value the signature covers, ""
	// when the request had none and Verify hashed the body itself. Anything
	// else is either UnsignedPayload or a hex SHA-256 the body has NOT been
	// checked against: whoever consumes the body must verify it. Presigned
	// requests without the header report UnsignedPayload.
	PayloadHash string
	// Presigned is true for the query-string form.
	Presigned bool
}

// IsSigned reports whether r carries SigV4 credentials of either form, for
// surfaces that also accept other schemes (Bearer tokens, Basic auth).
func IsSigned(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), algorithm+" ") {
		return true
	}
	return strings.Contains(r.URL.RawQuery, paramAlgorithm+"=")
}

// signedRequest is what parsing the request yields before any lookup.
type signedRequest struct {
	auth      *authorization
	amzDate   string
	time      time.Time
	presigned bool
	expires   time.Duration // presigned validity; -1 when X-Amz-Expires is absent
	token     string
}

// Verify checks r's signature. On success r.Body still yields the full body
// (it is replaced by an in-memory copy when Verify had to hash it).
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	sr, err := parseRequest(r)
	if err != nil {
		return nil, err
	}
	a, now := sr.auth, v.now()
	if a.Date != sr.amzDate[:8] {
		return nil, fault.Unauthenticated(CodeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.Date, sr.amzDate[:8], sr.amzDate)
	}
	if err := v.checkTime(sr, now); err != nil {
		return nil, err
	}
	if err := v.checkScope(a); err != nil {
		return nil, err
	}

	cred, err := v.lookup(r.Context(), a.AccessKeyID)
	if err != nil {
		return nil, err
	}
	// A long-term key must come without a token, a temporary one with its own.
	if cred.SessionToken == "" && sr.token != "" || cred.SessionToken != "" && !equalToken(sr.token, cred.SessionToken) {
		return nil, fault.Unauthenticated(CodeUnrecognizedClient, msgInvalidToken)
	}
	if p := cred.Principal; p != nil && !p.SessionExpiry.IsZero() && !now.Before(p.SessionExpiry) {
		return nil, fault.Unauthenticated(CodeExpiredToken, msgExpiredToken)
	}

	payload, reported, err := v.payloadHash(r, sr)
	if err != nil {
		return nil, err
	}

	key := v.signingKey(a.AccessKeyID, cred.SecretAccessKey, a.Date, a.Region, a.Service)
	scope := a.scope()
	path := wirePath(r)
	ok := v.matches(r, path, sr, key, scope, payload)
	if !ok {
		// botocore removes empty and dot segments before signing; the Go SDK
		// does not. Try the other reading only when it differs.
		if np := normalizePath(path); np != path {
			ok = v.matches(r, np, sr, key, scope, payload)
		}
	}
	if !ok {
		return nil, fault.Unauthenticated(CodeInvalidSignature, msgSignatureMismatch)
	}
	return &Result{
		Principal:   cred.Principal,
		AccessKeyID: a.AccessKeyID,
		Region:      a.Region,
		Service:     a.Service,
		Date:        a.Date,
		Time:        sr.time,
		PayloadHash: reported,
		Presigned:   sr.presigned,
	}, nil
}

// checkScope refuses a credential scope outside v.Scopes with AWS's wording:
// a wrong service is named first, then a wrong region.
func (v *Verifier) checkScope(a *authorization) error {
	if len(v.Scopes) == 0 || slices.Contains(v.Scopes, Scope{a.Service, a.Region}) {
		return nil
	}
	if !slices.ContainsFunc(v.Scopes, func(s Scope) bool { return s.Service == a.Service }) {
		return fault.Unauthenticated(CodeInvalidSignature, "Credential should be scoped to correct service: '%s'.", v.Scopes[0].Service)
	}
	return fault.Unauthenticated(CodeInvalidSignature, "Credential should be scoped to a valid region, not '%s'.", a.Region)
}

func (v *Verifier) matches(r *http.Request, path string, sr *signedRequest, key []byte, scope, payload string) bool {
	cr := canonicalRequest(r, path, sr.auth.SignedHeaders, sr.auth.SignedHeadersRaw, payload, sr.presigned)
	want := signature(key, stringToSign(sr.amzDate, scope, cr))
	return subtle.ConstantTimeCompare([]byte(want), []byte(sr.auth.Signature)) == 1
}

// parseRequest extracts the signature parameters from whichever form r uses.
func parseRequest(r *http.Request) (*signedRequest, error) {
	// Headers and parameters that take part in authentication must come
	// once: a verifier that reads the first of two while a handler or a
	// proxy reads the other is how signatures get bypassed.
	for _, name := range []string{"Authorization", headerDate, headerSecurityToken} {
		if len(r.Header.Values(name)) > 1 {
			return nil, incomplete("The %s header must be given once.", name)
		}
	}
	h := r.Header.Get("Authorization")
	var q url.Values
	if strings.Contains(r.URL.RawQuery, "X-Amz-") {
		q, _ = url.ParseQuery(r.URL.RawQuery)
		for k, vs := range q {
			if strings.HasPrefix(k, "X-Amz-") && len(vs) > 1 {
				return nil, incomplete("The query parameter %s must be given once.", k)
			}
		}
	}
	presigned := q.Has(paramAlgorithm) || q.Has(paramSignature)
	switch {
	case h == "" && !presigned:
		return nil, fault.Unauthenticated(CodeMissingAuthenticationToken, msgMissingToken)
	case h != "" && presigned:
		return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified.")
	case presigned:
		return parsePresigned(r, q)
	}

	a, err := parseAuthorization(h)
	if err != nil {
		return nil, err
	}
	sr := &signedRequest{auth: a, expires: -1, token: r.Header.Get(headerSecurityToken)}
	if d := r.Header.Get(headerDate); d != "" {
		if sr.time, err = parseAmzDate(d); err != nil {
			return nil, err
		}
		sr.amzDate = d
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", d)
		}
		sr.time, sr.amzDate = t.UTC(), t.UTC().Format(timeFormat)
	} else {
		return nil, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	return sr, nil
}

func parsePresigned(r *http.Request, q url.Values) (*signedRequest, error) {
	for _, p := range []string{paramAlgorithm, paramCredential, paramSignature, paramDate, paramSignedHeaders} {
		if q.Get(p) == "" {
			return nil, incomplete("AWS query-string parameters must include '%s', '%s', '%s', '%s', '%s'. Re-examine the query-string parameters.",
				paramAlgorithm, paramCredential, paramSignature, paramDate, paramSignedHeaders)
		}
	}
	if alg := q.Get(paramAlgorithm); alg != algorithm {
		return nil, incomplete("X-Amz-Algorithm only supports \"%s\"", algorithm)
	}
	a, err := newAuthorization(q.Get(paramCredential), q.Get(paramSignedHeaders), q.Get(paramSignature))
	if err != nil {
		return nil, err
	}
	sr := &signedRequest{auth: a, presigned: true, expires: -1, amzDate: q.Get(paramDate)}
	if sr.time, err = parseAmzDate(sr.amzDate); err != nil {
		return nil, err
	}
	if q.Has(paramExpires) {
		n, err := strconv.ParseInt(q.Get(paramExpires), 10, 64)
		switch {
		case err != nil:
			return nil, incomplete("X-Amz-Expires should be a number")
		case n < 0:
			return nil, incomplete("X-Amz-Expires must be non-negative")
		case time.Duration(n)*time.Second > maxPresignExpiry:
			return nil, incomplete("X-Amz-Expires must be less than a week (in seconds) that is %d", int64(maxPresignExpiry/time.Second))
		}
		sr.expires = time.Duration(n) * time.Second
	}
	sr.token = q.Get(paramSecurityToken)
	if sr.token == "" {
		sr.token = r.Header.Get(headerSecurityToken)
	}
	return sr, nil
}

func parseAmzDate(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", s)
	}
	return t, nil
}

// checkTime enforces the clock-skew window (and a presigned URL's expiry) with
// AWS's wording, e.g. "Signature expired: 20261125T120000Z is now earlier than
// 20261125T114500Z (20261125T121500Z - 15 min.)".
func (v *Verifier) checkTime(sr *signedRequest, now time.Time) error {
	skew := v.MaxSkew
	if skew <= 0 {
		skew = defaultMaxSkew
	}
	now = now.UTC()
	if sr.time.Sub(now) > skew {
		return fault.Unauthenticated(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s)",
			sr.amzDate, now.Add(skew).Format(timeFormat), now.Format(timeFormat), window(skew))
	}
	valid := skew
	if sr.expires >= 0 {
		valid = sr.expires
	}
	if now.Sub(sr.time) > valid {
		return fault.Unauthenticated(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s)",
			sr.amzDate, now.Add(-valid).Format(timeFormat), now.Format(timeFormat), window(valid))
	}
	return nil
}

// window formats a duration the way AWS's skew messages do ("15 min.").
func window(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) lookup(ctx context.Context, accessKeyID string) (*Credential, error) {
	if v.Lookup == nil {
		return nil, fault.Internal(nil, "sigv4: Verifier has no Lookup")
	}
	cred, err := v.Lookup(ctx, accessKeyID)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return nil, fault.Unauthenticated(CodeUnrecognizedClient, msgInvalidToken)
		}
		var fe *fault.Error
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fault.Internal(err, "looking up access key")
	}
	if cred == nil {
		return nil, fault.Unauthenticated(CodeUnrecognizedClient, msgInvalidToken)
	}
	return cred, nil
}

// equalToken compares session tokens in constant time, hashing first so that
// not even their lengths leak.
func equalToken(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// payloadHash returns the payload hash for the canonical request and the
// value to report in Result.PayloadHash, and makes sure that whatever the
// handler reads of r.Body is what the signature covers:
//
//   - A signed x-amz-content-sha256 holding a hex SHA-256 is used verbatim
//     (its value is also the canonical request's last line), and the body
//     is wrapped so that reading it to its end fails unless it hashes to
//     that value: nothing is buffered, and an upload streams as it did.
//   - UNSIGNED-PAYLOAD (a signed header, or a presigned URL without one)
//     binds no body, so the body is wrapped to fail on its first byte: such
//     a request may be a read, never carry input.
//   - Otherwise (no header, or one that is not itself signed and therefore
//     proves nothing) the body is read, at most MaxBody bytes, hashed and
//     put back.
func (v *Verifier) payloadHash(r *http.Request, sr *signedRequest) (string, string, error) {
	vals := r.Header.Values(headerContentSHA256)
	if len(vals) > 1 {
		return "", "", incomplete("x-amz-content-sha256 must be given once.")
	}
	if len(vals) == 1 && sr.auth.signs(headerContentSHA256) {
		h := vals[0]
		switch {
		case h == UnsignedPayload:
			r.Body = unsignedBodyOf(r.Body)
		case isSHA256Hex(h):
			r.Body = newVerifiedBody(r.Body, h)
		default:
			return "", "", incomplete("x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
		}
		return h, h, nil
	}
	if sr.presigned {
		r.Body = unsignedBodyOf(r.Body)
		return UnsignedPayload, UnsignedPayload, nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, "", nil
	}
	body, err := v.readBody(r)
	if err != nil {
		return "", "", err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), "", nil
}

// readBody reads a body that must be hashed before the signature can be
// checked. It is read before the caller is authenticated, so it is bounded
// twice: by MaxBody per request, and by the budget shared by every request
// in this state, so that many connections with large bodies and a bad
// signature cannot hold more than that budget between them.
func (v *Verifier) readBody(r *http.Request) ([]byte, error) {
	limit := v.MaxBody
	if limit <= 0 {
		limit = defaultMaxBody
	}
	tooLarge := fault.Validation("The request body is larger than %d bytes; sign it with an x-amz-content-sha256 header instead.", limit)
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	reserve := limit
	if r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	if !v.budget().TryAcquire(reserve) {
		return nil, &fault.Error{Kind: fault.KindThrottled, Code: "ThrottlingException",
			Message: "Too many unsigned request bodies are being read; retry later."}
	}
	defer v.budget().Release(reserve)
	buf := bytes.NewBuffer(make([]byte, 0, min(reserve, 64<<10)))
	_, err := buf.ReadFrom(io.LimitReader(r.Body, reserve+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		e := fault.Validation("The request body could not be read.")
		e.Err = err
		return nil, e
	}
	if int64(buf.Len()) > reserve {
		if reserve < limit { // more than Content-Length said: net/http stops that, others may not
			return nil, fault.Validation("The request body is longer than its Content-Length.")
		}
		return nil, tooLarge
	}
	return buf.Bytes(), nil
}

func (v *Verifier) budget() *semaphore.Weighted {
	v.budgetOnce.Do(func() {
		n := v.BodyBudget
		if n <= 0 {
			n = defaultBodyBudget
		}
		v.bodies = semaphore.NewWeighted(n)
	})
	return v.bodies
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

type keyCacheKey struct{ accessKeyID, date, region, service string }

type keyCacheEntry struct {
	secret string // checked on every hit, so a rotated secret is never served a stale key
	key    []byte
}

// signingKey returns the derived signing key, from a small cache: deriving it
// costs four HMACs, and a client reuses one scope for a whole day.
func (v *Verifier) signingKey(accessKeyID, secret, date, region, service string) []byte {
	ck := keyCacheKey{accessKeyID, date, region, service}
	v.mu.Lock()
	e, ok := v.keys[ck]
	v.mu.Unlock()
	if ok && e.secret == secret {
		return e.key
	}
	key := deriveSigningKey(secret, date, region, service)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil {
		v.keys = make(map[keyCacheKey]keyCacheEntry)
	}
	if len(v.keys) >= maxCachedKeys {
		// Evict an arbitrary entry (map iteration order is random); a miss
		// costs only four HMACs, so nothing smarter is needed.
		for k := range v.keys {
			delete(v.keys, k)
			break
		}
	}
	v.keys[ck] = keyCacheEntry{secret, key}
	return key
}
