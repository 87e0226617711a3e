package console

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/fault"
)

// Sign-in takes an access key id and its secret, and for temporary (ASIA)
// keys from sts:AssumeRole also the session token, exactly what a SigV4
// caller needs: a temporary key without its token is refused, as the
// control plane refuses it.

var accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// loginView is the data of the sign-in page.
type loginView struct {
	Next      string
	Token     string
	KeyID     string
	Error     string
	SignedOut bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := c.authenticate(w, r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, loginView{Next: next, SignedOut: r.URL.Query().Has("signedout")})
}

// renderLogin renders the sign-in form with a fresh double-submit token.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, lv loginView) {
	lv.Token = base64.RawURLEncoding.EncodeToString(randomBytes(24))
	c.setCookie(w, r, loginCookie, lv.Token, c.now().Add(30*time.Minute))
	c.render(w, r, status, "login", &view{Title: "Sign in", Body: lv})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !c.sameOrigin(r) {
		c.renderError(w, r, nil, errForbidden("This sign-in form was submitted from another site; it has been refused."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, fault.Validation("The form could not be read."))
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	keyID := strings.TrimSpace(r.PostForm.Get("access_key_id"))
	lv := loginView{Next: next, KeyID: keyID}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		lv.Error = "The sign-in form expired. Enter your access key again."
		c.renderLogin(w, r, http.StatusForbidden, lv)
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("secret_access_key"))
	token := strings.TrimSpace(r.PostForm.Get("session_token"))
	p, sess, err := c.checkSignIn(r, keyID, secret, token)
	ri := auth.RequestInfoFrom(r.Context())
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: "console:SignIn", Resource: keyID}
	if err != nil {
		var se signInError
		if !errors.As(err, &se) {
			c.renderError(w, r, nil, err)
			return
		}
		ev.Decision, ev.Reason = "unauthenticated", err.Error()
		c.cfg.Audit.RecordLimited(ev) // anyone can send these: a flood must not fill the disk
		lv.Error = err.Error()
		c.renderLogin(w, r, http.StatusUnauthorized, lv)
		return
	}
	ev.Principal, ev.Decision, ev.Reason = p.ARN, "allow", "valid access key"
	c.cfg.Audit.Record(ev)
	c.setCookie(w, r, sessionCookie, c.encodeSession(sess), time.Unix(sess.Expires, 0))
	c.clearCookie(w, r, loginCookie)
	if c.cfg.OnPrincipal != nil {
		c.cfg.OnPrincipal(r, p)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signInError is a sign-in failure, worded for the sign-in page.
type signInError string

func (e signInError) Error() string { return string(e) }

// errBadCredentials never says which half of the pair was wrong.
const errBadCredentials = signInError("The access key ID or secret access key is not valid.")

// checkSignIn verifies a key pair like a SigV4 verification would and
// returns the principal and a new session.
func (c *Console) checkSignIn(r *http.Request, keyID, secret, token string) (*auth.Principal, *session, error) {
	if !accessKeyIDPattern.MatchString(keyID) || secret == "" || len(secret) > 256 || len(token) > 4096 {
		return nil, nil, errBadCredentials
	}
	cred, err := c.cfg.Lookup(r.Context(), keyID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil, errBadCredentials
	} else if err != nil {
		return nil, nil, fault.Internal(err, "access key lookup failed")
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(cred.SecretAccessKey)) != 1 || cred.Principal == nil {
		return nil, nil, errBadCredentials
	}
	switch {
	case cred.SessionToken == "" && token != "":
		return nil, nil, signInError("This is a long-term access key; leave the session token empty.")
	case cred.SessionToken != "" && token == "":
		return nil, nil, signInError("This is a temporary access key; enter its session token too.")
	case cred.SessionToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1:
		return nil, nil, errBadCredentials
	}
	if exp := cred.Principal.SessionExpiry; !exp.IsZero() && !c.now().Before(exp) {
		return nil, nil, signInError("These temporary credentials have expired.")
	}
	return cred.Principal, c.newSession(keyID, cred), nil
}

// logout revokes the session (signout.go) and clears its cookie. When the
// revocation cannot be stored, sign-out fails with an error page instead of
// pretending: the cookie would still be valid wherever it was copied to.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *state) error {
	c.clearCookie(w, r, sessionCookie)
	if err := c.revoke(r.Context(), s.session); err != nil {
		return fault.Internal(err, "console: the sign-out could not be recorded")
	}
	ri := auth.RequestInfoFrom(r.Context())
	c.cfg.Audit.Record(audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Principal: s.principal.ARN,
		Action: "console:SignOut", Resource: s.session.KeyID, Decision: "allow", Reason: "session revoked"})
	http.Redirect(w, r, "/console/login?signedout=1", http.StatusSeeOther)
	return nil
}
