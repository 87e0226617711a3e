package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"coffer/internal/fault"
)

var (
	issued = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	claims = Claims{
		DomainOwner:  "111122223333",
		Domain:       "my-domain",
		PrincipalARN: "arn:aws:sts::111122223333:assumed-role/Developer/alice@example.com",
		AccessKeyID:  "ASIAEXAMPLE0000002",
		IssuedAt:     issued,
		Expires:      issued.Add(12 * time.Hour),
	}
)

func newIssuer(t testing.TB) (*Issuer, []byte) {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	i, err := NewIssuer(key)
	if err != nil {
		t.Fatal(err)
	}
	return i, key
}

func mint(t testing.TB, i *Issuer, c Claims) string {
	t.Helper()
	tok, err := i.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func wantCode(t *testing.T, err error, code string) *fault.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	fe := fault.As(err)
	if fe.Kind != fault.KindUnauthenticated || fe.Code != code {
		t.Fatalf("err = %v (kind %d, code %q), want Unauthenticated %q", err, fe.Kind, fe.Code, code)
	}
	return fe
}

func TestRoundTrip(t *testing.T) {
	i, _ := newIssuer(t)
	tok := mint(t, i, claims)
	got, err := i.Verify(tok, issued.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if *got != claims {
		t.Errorf("claims = %+v\nwant     %+v", *got, claims)
	}
	// Sub-second times are truncated; a random nonce makes every token unique.
	c := claims
	c.IssuedAt = issued.Add(500 * time.Millisecond)
	again := mint(t, i, c)
	if again == tok {
		t.Error("two mints produced the same token")
	}
	if got, err := i.Verify(again, issued); err != nil || !got.IssuedAt.Equal(issued) {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestFormat(t *testing.T) {
	i, key := newIssuer(t)
	tok := mint(t, i, claims)
	if !regexp.MustCompile(`^[A-Za-z0-9_.-]+$`).MatchString(tok) {
		t.Errorf("token has characters outside [A-Za-z0-9_.-]: %s", tok)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 5 || parts[1] != "" {
		t.Fatalf("token is not a 5-segment dir JWE: %s", tok)
	}
	if n := len(tok); n < 200 || n > 600 {
		t.Errorf("token length %d outside the expected 200..600", n)
	}
	t.Logf("token (%d bytes): %s", len(tok), tok)

	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ver": 1.0, "isu": float64(issued.Unix()), "enc": "A256GCM", "alg": "dir",
		"exp": float64(claims.Expires.Unix()), "kid": KeyID(key)}
	if len(h) != len(want) {
		t.Errorf("header = %v, want %v", h, want)
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header[%s] = %v, want %v", k, h[k], v)
		}
	}
	// Nothing of the claims is readable without the key.
	for _, s := range []string{claims.Domain, claims.DomainOwner, claims.AccessKeyID} {
		for _, p := range parts[2:] {
			if b, _ := base64.RawURLEncoding.DecodeString(p); bytes.Contains(b, []byte(s)) {
				t.Errorf("%q readable in the token", s)
			}
		}
	}
}

func TestTamperEveryByte(t *testing.T) {
	i, _ := newIssuer(t)
	tok := mint(t, i, claims)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for p := 0; p < len(tok); p++ {
		if tok[p] == '.' {
			continue
		}
		// Flip to a neighbouring alphabet character: always a different value.
		j := strings.IndexByte(alphabet, tok[p])
		bad := tok[:p] + string(alphabet[(j+1)%len(alphabet)]) + tok[p+1:]
		if _, err := i.Verify(bad, issued); err == nil {
			t.Fatalf("token tampered at byte %d (segment %d) verified", p, strings.Count(tok[:p], "."))
		} else {
			wantCode(t, err, CodeInvalid)
		}
	}
	parts := strings.Split(tok, ".")
	for n, bad := range map[string]string{
		"encrypted key filled": parts[0] + ".AAAA." + strings.Join(parts[2:], "."),
		"segment dropped":      strings.Join(parts[:4], "."),
		"segment added":        tok + ".AAAA",
		"segments swapped":     strings.Join([]string{parts[0], "", parts[2], parts[4], parts[3]}, "."),
		"trailing space":       tok + " ",
		"empty":                "",
		"oversized":            tok + strings.Repeat("A", maxLen),
	} {
		if _, err := i.Verify(bad, issued); err == nil {
			t.Errorf("%s: verified", n)
		} else {
			wantCode(t, err, CodeInvalid)
		}
	}
}

// A header re-encoded with other claims (say a later expiry) and the original
// ciphertext must not verify: the header is the AEAD's additional data.
func TestHeaderIsAuthenticated(t *testing.T) {
	i, _ := newIssuer(t)
	tok := mint(t, i, claims)
	parts := strings.Split(tok, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	forged := strings.Replace(string(hb), `"exp":`, `"exp":9`, 1)
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	_, err := i.Verify(strings.Join(parts, "."), issued)
	wantCode(t, err, CodeInvalid)
}

func TestWrongKey(t *testing.T) {
	i, _ := newIssuer(t)
	other, _ := newIssuer(t)
	_, err := other.Verify(mint(t, i, claims), issued)
	wantCode(t, err, CodeInvalid)

	// Same key id, different key material: the kid is only a hint.
	parts := strings.Split(mint(t, i, claims), ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(hb), i.kid, other.kid, 1)))
	_, err = other.Verify(strings.Join(parts, "."), issued)
	wantCode(t, err, CodeInvalid)
}

func TestRotation(t *testing.T) {
	oldKey, _ := GenerateKey()
	newKey, _ := GenerateKey()
	oldIss, _ := NewIssuer(oldKey)
	rotated, err := NewIssuer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	oldTok := mint(t, oldIss, claims)
	if _, err := rotated.Verify(oldTok, issued); err != nil {
		t.Errorf("token from the previous key: %v", err)
	}
	newTok := mint(t, rotated, claims)
	if KeyID(newKey) == KeyID(oldKey) {
		t.Fatal("key ids collide")
	}
	if _, err := oldIss.Verify(newTok, issued); err == nil {
		t.Error("issuer without the new key verified its token")
	}
	// Once the old key is dropped its tokens stop verifying.
	dropped, _ := NewIssuer(newKey)
	_, err = dropped.Verify(oldTok, issued)
	wantCode(t, err, CodeInvalid)
}

func TestExpired(t *testing.T) {
	i, _ := newIssuer(t)
	tok := mint(t, i, claims)
	if _, err := i.Verify(tok, claims.Expires.Add(-time.Second)); err != nil {
		t.Errorf("one second before expiry: %v", err)
	}
	for _, now := range []time.Time{claims.Expires, claims.Expires.Add(time.Hour)} {
		_, err := i.Verify(tok, now)
		fe := wantCode(t, err, CodeExpired)
		if !strings.Contains(fe.Message, "expired") {
			t.Errorf("message %q does not say the token expired", fe.Message)
		}
	}
}

func TestMintValidation(t *testing.T) {
	i, _ := newIssuer(t)
	for _, c := range []Claims{
		{Domain: "d"},
		{Domain: "d", IssuedAt: issued, Expires: issued},
		{Domain: "d", IssuedAt: issued, Expires: issued.Add(-time.Hour)},
	} {
		if _, err := i.Mint(c); fault.KindOf(err) != fault.KindValidation {
			t.Errorf("Mint(%+v) err = %v, want validation", c, err)
		}
	}
	// IssuedAt defaults to now.
	tok, err := i.Mint(Claims{Domain: "d", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := i.Verify(tok, time.Now()); err != nil || time.Since(c.IssuedAt) > time.Minute {
		t.Errorf("got %+v, %v", c, err)
	}
}

func TestNewIssuerKeys(t *testing.T) {
	k, _ := GenerateKey()
	for _, bad := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
		if _, err := NewIssuer(bad); err == nil {
			t.Errorf("NewIssuer accepted a %d-byte key", len(bad))
		}
		if _, err := NewIssuer(k, bad); err == nil {
			t.Errorf("NewIssuer accepted a %d-byte previous key", len(bad))
		}
	}
	if _, err := NewIssuer(k, k); err == nil {
		t.Error("NewIssuer accepted the same key twice")
	}
	k2, _ := GenerateKey()
	if bytes.Equal(k, k2) {
		t.Error("GenerateKey repeated itself")
	}
}

func BenchmarkVerify(b *testing.B) {
	i, _ := newIssuer(b)
	tok := mint(b, i, claims)
	now := issued.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMint(b *testing.B) {
	i, _ := newIssuer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Mint(claims); err != nil {
			b.Fatal(err)
		}
	}
}
