// Package token mints and verifies CodeArtifact authorization tokens: the
// bearer tokens GetAuthorizationToken returns and package managers present to
// repository endpoints.
//
// A token is a JWE compact serialization (RFC 7516) with "alg":"dir" and
// "enc":"A256GCM": the claims are sealed with AES-256-GCM under a server key,
// and the protected header is the additional authenticated data. Verification
// therefore needs no database, only the key. The encrypted-key segment is
// empty, as RFC 7516 requires for direct encryption, so a token has the shape
// header..iv.ciphertext.tag and contains only [A-Za-z0-9_.-]: safe to embed
// unescaped in URLs, as pip does.
package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"coffer/internal/fault"
	"coffer/internal/lru"
)

// KeySize is the length of a token key in bytes (AES-256).
const KeySize = 32

// Error codes of Verify's faults.
const (
	// CodeInvalid marks a malformed, tampered or foreign token.
	CodeInvalid = "UnrecognizedClientException"
	// CodeExpired marks a well-formed token past its expiry.
	CodeExpired = "ExpiredTokenException"
)

const (
	nonceSize = 12
	tagSize   = 16
	// maxLen bounds the work an attacker can make Verify do; real tokens are a
	// few hundred bytes.
	maxLen = 8 << 10
)

var b64 = base64.RawURLEncoding.Strict() // strict: one encoding per byte string

// Claims is what a token asserts. Times have one-second precision.
type Claims struct {
	DomainOwner string
	Domain      string
	// PrincipalARN is the caller the token was issued to.
	PrincipalARN string
	// AccessKeyID is the key that signed GetAuthorizationToken, so the data
	// plane can refuse tokens minted by a key since deactivated.
	AccessKeyID string
	IssuedAt    time.Time
	Expires     time.Time
}

// header is the JWE protected header, laid out like AWS's own tokens:
//
//	{"ver":1,"isu":<unix>,"enc":"A256GCM","alg":"dir","exp":<unix>,"kid":"<key id>"}
//
// It is valid JSON, but written and read by hand against this exact layout:
// Verify accepts only what Mint produces, and skips encoding/json, which
// would otherwise be most of Verify's cost.
type header struct {
	isu, exp int64
	kid      string
}

const (
	hdrIsu = `{"ver":1,"isu":`
	hdrExp = `,"enc":"A256GCM","alg":"dir","exp":`
	hdrKid = `,"kid":"`
	hdrEnd = `"}`
)

func (h header) marshal() []byte {
	b := make([]byte, 0, 96)
	b = append(b, hdrIsu...)
	b = strconv.AppendInt(b, h.isu, 10)
	b = append(b, hdrExp...)
	b = strconv.AppendInt(b, h.exp, 10)
	b = append(b, hdrKid...)
	b = append(b, h.kid...) // base64url: nothing to escape
	return append(b, hdrEnd...)
}

func parseHeader(s string) (h header, ok bool) {
	var isu, exp string
	if s, ok = strings.CutPrefix(s, hdrIsu); !ok {
		return h, false
	}
	if isu, s, ok = strings.Cut(s, hdrExp); !ok {
		return h, false
	}
	if exp, s, ok = strings.Cut(s, hdrKid); !ok {
		return h, false
	}
	if h.kid, ok = strings.CutSuffix(s, hdrEnd); !ok {
		return h, false
	}
	var err1, err2 error
	h.isu, err1 = strconv.ParseInt(isu, 10, 64)
	h.exp, err2 = strconv.ParseInt(exp, 10, 64)
	return h, err1 == nil && err2 == nil
}

// The sealed payload is the four claim strings, each preceded by its length
// as a uvarint: compact, and trivially decoded once authenticated.
func marshalPayload(c *Claims) []byte {
	var b []byte
	for _, s := range []string{c.DomainOwner, c.Domain, c.PrincipalARN, c.AccessKeyID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func unmarshalPayload(b []byte, c *Claims) bool {
	for _, f := range []*string{&c.DomainOwner, &c.Domain, &c.PrincipalARN, &c.AccessKeyID} {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return false
		}
		*f = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	return len(b) == 0
}

// Issuer mints tokens with one key and verifies tokens made with any of its
// keys, so a key can be rotated without invalidating tokens in circulation.
// It is safe for concurrent use.
type Issuer struct {
	kid  string
	keys map[string]cipher.AEAD
	// verified remembers the claims of tokens that opened, so that a build
	// presenting the same token for every download decrypts it once; the
	// expiry is checked on every use.
	verified *lru.Cache[Claims]
}

// verifiedBytes bounds the remembered tokens (a few thousand).
const verifiedBytes = 4 << 20

// NewIssuer returns an Issuer minting with key and verifying tokens made with
// key or any of previous. Every key must be KeySize bytes.
func NewIssuer(key []byte, previous ...[]byte) (*Issuer, error) {
	i := &Issuer{keys: make(map[string]cipher.AEAD, 1+len(previous)), verified: lru.New[Claims](verifiedBytes)}
	for n, k := range append([][]byte{key}, previous...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("token: key %d is %d bytes, want %d", n, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		kid := KeyID(k)
		if _, dup := i.keys[kid]; dup {
			return nil, fmt.Errorf("token: key %d repeats key id %s", n, kid)
		}
		i.keys[kid] = aead
		if n == 0 {
			i.kid = kid
		}
	}
	return i, nil
}

// KeyID returns the id a key is known by in token headers: a short
// fingerprint, so that rotating keys needs no numbering scheme.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("coffer/token key id\x00"), key...))
	return b64.EncodeToString(sum[:6])
}

// GenerateKey returns a new random key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// Mint seals c into a token. IssuedAt defaults to now; Expires is required
// and must be after IssuedAt.
func (i *Issuer) Mint(c Claims) (string, error) {
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	if c.Expires.IsZero() || !c.Expires.After(c.IssuedAt) {
		return "", fault.Validation("token expiry %v is not after its issue time %v", c.Expires, c.IssuedAt)
	}
	h := header{isu: c.IssuedAt.Unix(), exp: c.Expires.Unix(), kid: i.kid}.marshal()
	p := marshalPayload(&c)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fault.Internal(err, "generating token nonce")
	}
	protected := b64.EncodeToString(h)
	// JWE authenticates the ASCII of the encoded header, not the JSON itself.
	sealed := i.keys[i.kid].Seal(nil, nonce, p, []byte(protected))
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]

	var b strings.Builder
	b.Grow(len(protected) + 2 + b64.EncodedLen(nonceSize) + 1 + b64.EncodedLen(len(ct)) + 1 + b64.EncodedLen(tagSize))
	b.WriteString(protected)
	b.WriteString("..") // empty encrypted key: "dir" uses the shared key directly
	b.WriteString(b64.EncodeToString(nonce))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(ct))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(tag))
	return b.String(), nil
}

// Verify opens tok and returns its claims. A malformed, tampered or unknown
// token is an Unauthenticated fault with CodeInvalid; an expired one (now at
// or after Expires) has CodeExpired.
func (i *Issuer) Verify(tok string, now time.Time) (*Claims, error) {
	if len(tok) > maxLen {
		return nil, invalid()
	}
	if c, ok := i.verified.Get(tok, 0); ok {
		return checkExpiry(&c, now)
	}
	c, err := i.open(tok)
	if err != nil {
		return nil, err
	}
	i.verified.Put(tok, 0, *c, int64(len(tok))+256)
	return checkExpiry(c, now)
}

func checkExpiry(c *Claims, now time.Time) (*Claims, error) {
	if !now.Before(c.Expires) {
		return nil, fault.Unauthenticated(CodeExpired, "The authorization token expired at %s.", c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

// open decrypts and authenticates a token and reads its claims.
func (i *Issuer) open(tok string) (*Claims, error) {
	protected, rest, _ := strings.Cut(tok, ".")
	encKey, rest, _ := strings.Cut(rest, ".")
	ivPart, rest, _ := strings.Cut(rest, ".")
	ctPart, tagPart, ok := strings.Cut(rest, ".")
	if !ok || encKey != "" || strings.Contains(tagPart, ".") {
		return nil, invalid()
	}

	// The header is read before it is authenticated only to pick the key;
	// everything else in it is trusted only after Open succeeds.
	hb, err := b64.DecodeString(protected)
	if err != nil {
		return nil, invalid()
	}
	h, ok := parseHeader(string(hb))
	if !ok {
		return nil, invalid()
	}
	aead, ok := i.keys[h.kid]
	if !ok {
		return nil, invalid()
	}
	iv, err := b64.DecodeString(ivPart)
	if err != nil || len(iv) != nonceSize {
		return nil, invalid()
	}
	tag, err := b64.DecodeString(tagPart)
	if err != nil || len(tag) != tagSize {
		return nil, invalid()
	}
	ct, err := b64.DecodeString(ctPart)
	if err != nil {
		return nil, invalid()
	}
	sealed := append(ct, tag...)
	plain, err := aead.Open(sealed[:0], iv, sealed, []byte(protected))
	if err != nil {
		return nil, invalid()
	}
	c := &Claims{IssuedAt: time.Unix(h.isu, 0).UTC(), Expires: time.Unix(h.exp, 0).UTC()}
	if !unmarshalPayload(plain, c) {
		return nil, invalid()
	}
	return c, nil
}

func invalid() error {
	return fault.Unauthenticated(CodeInvalid, "The authorization token is invalid.")
}
