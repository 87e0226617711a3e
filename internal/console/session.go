package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
)

// A session is one cookie, sealed (AES-GCM under the installation's master
// key, bound to the purpose sealPurpose) so that it can be neither read nor
// forged nor moved to another use. It holds a random session id, the access
// key id, the issue and expiry times, the CSRF secret and a fingerprint of
// the key's secret (and session token). On every request the key is looked
// up again, so a deactivated or deleted key, a deleted user, or an expired
// role session signs the browser out at once; and the session id is looked
// up among the signed-out sessions kept in the metadata store (signout.go),
// so that a cookie copied before sign-out is refused everywhere afterwards.
//
// CSRF: every POST form carries the session's CSRF token in the hidden field
// "csrf", compared in constant time; cross-site posts are refused earlier by
// Sec-Fetch-Site and Origin. The sign-in form, which has no session yet, uses
// a double-submit token: a random value in a short-lived SameSite=Strict
// cookie that the form must echo.

const (
	sessionCookie = "coffer_session"
	loginCookie   = "coffer_login"
	sealPurpose   = "coffer-console-session/v1"
	cookiePath    = "/console/"
	// clockSkew tolerates an issue time slightly in the future (several
	// nodes behind one load balancer).
	clockSkew = time.Minute
)

// session is the content of the session cookie.
type session struct {
	// ID identifies the session among the signed-out ones.
	ID      []byte `json:"s"`
	KeyID   string `json:"k"`
	Issued  int64  `json:"i"`
	Expires int64  `json:"e"`
	// CSRF is the secret the forms echo.
	CSRF []byte `json:"c"`
	// Fingerprint binds the session to the key's secret and session token.
	Fingerprint []byte `json:"f"`
}

// csrfToken is the form value of the session's CSRF secret, masked with a
// fresh one-time pad (pad || pad XOR secret) so that it differs in every
// response: compressed pages then give a BREACH-style attacker nothing
// stable to guess at.
func (s *session) csrfToken() string {
	pad := randomBytes(len(s.CSRF))
	out := make([]byte, 2*len(s.CSRF))
	copy(out, pad)
	for i := range s.CSRF {
		out[len(pad)+i] = pad[i] ^ s.CSRF[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// checkCSRF unmasks a form's token and compares it with the session's
// secret in constant time.
func (s *session) checkCSRF(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 2*len(s.CSRF) {
		return false
	}
	n := len(s.CSRF)
	for i := range n {
		b[n+i] ^= b[i]
	}
	return subtle.ConstantTimeCompare(b[n:], s.CSRF) == 1
}

// fingerprint is a one-way digest of the credential a session stands for.
func fingerprint(cred *sigv4.Credential) []byte {
	h := sha256.New()
	h.Write([]byte("coffer-console-fingerprint\x00"))
	h.Write([]byte(cred.SecretAccessKey))
	h.Write([]byte{0})
	h.Write([]byte(cred.SessionToken))
	return h.Sum(nil)[:16]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// newSession starts a session for the credential of keyID.
func (c *Console) newSession(keyID string, cred *sigv4.Credential) *session {
	now := c.now()
	exp := now.Add(c.cfg.SessionTTL)
	if p := cred.Principal; p != nil && !p.SessionExpiry.IsZero() && p.SessionExpiry.Before(exp) {
		exp = p.SessionExpiry // a role session's console session ends with it
	}
	return &session{ID: randomBytes(sessionIDSize), KeyID: keyID, Issued: now.Unix(), Expires: exp.Unix(), CSRF: randomBytes(32), Fingerprint: fingerprint(cred)}
}

// encodeSession seals a session into a cookie value.
func (c *Console) encodeSession(s *session) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a struct of strings, ints and bytes always marshals
	}
	return base64.RawURLEncoding.EncodeToString(c.cfg.Sealer.Seal(b, sealPurpose))
}

// errNoSession means the request has no valid session.
var errNoSession = errors.New("no valid console session")

// decodeSession opens and checks a cookie value (not the key behind it).
func (c *Console) decodeSession(value string) (*session, error) {
	if value == "" || len(value) > 4096 {
		return nil, errNoSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, errNoSession
	}
	b, err := c.cfg.Sealer.Open(raw, sealPurpose)
	if err != nil {
		return nil, errNoSession
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil || len(s.ID) != sessionIDSize || s.KeyID == "" || len(s.CSRF) != 32 || len(s.Fingerprint) != 16 {
		return nil, errNoSession
	}
	now := c.now()
	if !now.Before(time.Unix(s.Expires, 0)) || time.Unix(s.Issued, 0).After(now.Add(clockSkew)) ||
		time.Unix(s.Expires, 0).Sub(time.Unix(s.Issued, 0)) > c.cfg.SessionTTL {
		return nil, errNoSession
	}
	return &s, nil
}

// authenticate returns the request's session state; when the cookie is
// present but no longer valid (expired, signed out, its key gone) it is
// cleared.
func (c *Console) authenticate(w http.ResponseWriter, r *http.Request) (*state, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, errNoSession
	}
	s, err := c.decodeSession(ck.Value)
	if err == nil {
		err = c.checkSignedOut(r.Context(), s)
	}
	if err == nil {
		var p *auth.Principal
		if p, err = c.checkKey(r.Context(), s); err == nil {
			if c.cfg.OnPrincipal != nil {
				c.cfg.OnPrincipal(r, p)
			}
			return &state{principal: p, session: s, csrf: s.csrfToken()}, nil
		}
	}
	c.clearCookie(w, r, sessionCookie)
	return nil, err
}

// checkSignedOut refuses a session that was signed out; when the store
// does not answer, the session is refused too.
func (c *Console) checkSignedOut(ctx context.Context, s *session) error {
	out, err := c.signedOut(ctx, s)
	if err != nil {
		c.log.Error("console: reading the signed-out sessions failed", "err", err)
	}
	if out {
		return errNoSession
	}
	return nil
}

// checkKey looks the session's key up again: it must still be active, have
// the same secret, and (for role sessions) not have expired.
func (c *Console) checkKey(ctx context.Context, s *session) (*auth.Principal, error) {
	cred, err := c.cfg.Lookup(ctx, s.KeyID)
	if err != nil {
		if !errors.Is(err, fault.ErrNotFound) {
			c.log.Error("console: access key lookup failed", "err", err)
		}
		return nil, errNoSession
	}
	if cred.Principal == nil || subtle.ConstantTimeCompare(fingerprint(cred), s.Fingerprint) != 1 {
		return nil, errNoSession
	}
	if exp := cred.Principal.SessionExpiry; !exp.IsZero() && !c.now().Before(exp) {
		return nil, errNoSession
	}
	return cred.Principal, nil
}

// setCookie writes a console cookie: HttpOnly, SameSite=Strict, scoped to
// /console/, Secure when the public URL or the request is https.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, Expires: expires,
		MaxAge: max(1, int(time.Until(expires).Seconds())), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.secure || r.TLS != nil})
}

// clearCookie deletes a console cookie, with the attributes setCookie gave it.
func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: cookiePath, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure || r.TLS != nil})
}

// safeNext returns next if it is a same-site path inside the console, else
// the console's home. It refuses absolute and scheme-relative URLs,
// backslashes (which browsers read as slashes) and control characters.
func safeNext(next string) string {
	const home = Prefix
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, Prefix) {
		return home
	}
	if strings.ContainsAny(next, "\\") || strings.Contains(next, "//") || strings.Contains(next, "/..") || hasEncodedDots(next) {
		return home
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return home
		}
	}
	return next
}

// hasEncodedDots reports an encoded dot or slash in the path part, which
// could climb out of /console/ once decoded.
func hasEncodedDots(s string) bool {
	path, _, _ := strings.Cut(s, "?")
	l := strings.ToLower(path)
	return strings.Contains(l, "%2e") || strings.Contains(l, "%2f") || strings.Contains(l, "%5c")
}
