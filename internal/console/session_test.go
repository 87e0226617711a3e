package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"coffer/internal/audit"
)

// TestSignOutRevokesTheSession: a session cookie captured before sign-out
// is worthless afterwards, for pages and for forms, on this console and on
// one restarted on the same store (another node or a new process). Other
// sessions of the same key are not affected.
func TestSignOutRevokesTheSession(t *testing.T) {
	h := newHarness(t)
	h.seed()
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	captured := b.cookie(sessionCookie).Value
	csrf := b.csrf
	other := h.browser()
	other.signIn(rootKey, rootSecret)

	if r := b.post("/console/logout", url.Values{"csrf": {b.csrf}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	originForm := url.Values{"csrf": {csrf}, "format": {"generic"}, "namespace": {"tools"}, "package": {"tool"}, "publish": {"BLOCK"}, "upstream": {"ALLOW"}}
	replay := func(when string) {
		t.Helper()
		thief := h.browser()
		thief.setCookie(sessionCookie, captured)
		r := thief.get("/console/domains/acme/")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/console/login?next=") {
			t.Errorf("%s: page with the signed-out cookie: %d %s", when, r.StatusCode, r.Header.Get("Location"))
		}
		thief.setCookie(sessionCookie, captured)
		r = thief.post(appRepo+"package/origin", originForm)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "signed out") {
			t.Errorf("%s: form with the signed-out cookie: %d", when, r.StatusCode)
		}
		p, err := h.svc.DescribePackage(context.Background(), h.ref("").PackageRef)
		if err != nil || p.Publish != "ALLOW" {
			t.Fatalf("%s: the signed-out cookie changed the package: %+v %v", when, p, err)
		}
		if r := other.get("/console/domains/acme/"); r.StatusCode != http.StatusOK {
			t.Errorf("%s: the other session of the same key: %d", when, r.StatusCode)
		}
	}
	replay("after sign-out")
	h.restart()
	replay("after a restart")

	// Signing out after the restart is remembered as well, and a new
	// sign-in with the same key works.
	if r := other.post("/console/logout", url.Values{"csrf": {other.csrf}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-out: %d", r.StatusCode)
	}
	h.restart()
	if r := other.get("/console/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("signed-out second session: %d", r.StatusCode)
	}
	again := h.browser()
	again.signIn(rootKey, rootSecret)
	if r := again.get("/console/domains/acme/"); r.StatusCode != http.StatusOK {
		t.Errorf("new session after sign-outs: %d", r.StatusCode)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// events returns the audit records written so far by action and decision.
func (b *syncBuffer) events(t *testing.T) map[string]int {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if e.SourceIP != "127.0.0.1" {
			t.Errorf("source of %+v", e)
		}
		out[e.Action+" "+e.Decision]++
	}
	return out
}

// TestSignInFailuresAuditedWithALimit: failed sign-ins, which anyone can
// send, write at most audit.LimitPerSource records a source; sign-in and
// sign-out are recorded.
func TestSignInFailuresAuditedWithALimit(t *testing.T) {
	h := newHarness(t)
	var buf syncBuffer
	h.cfg.Audit = audit.New(&buf)
	h.restart()
	for range 3 * audit.LimitPerSource {
		if r := h.browser().trySignIn(rootKey, "wrong-secret", "", ""); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d", r.StatusCode)
		}
	}
	b := h.browser()
	b.signIn(rootKey, rootSecret)
	b.post("/console/logout", url.Values{"csrf": {b.csrf}})
	got := buf.events(t)
	if got["console:SignIn unauthenticated"] != audit.LimitPerSource || got["console:SignIn allow"] != 1 || got["console:SignOut allow"] != 1 {
		t.Fatalf("audit records: %v", got)
	}
}
