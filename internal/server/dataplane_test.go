package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/fault"
)

// TestDataPlaneAuditsRejectedTokens: a request whose token is refused (bad,
// expired, for another domain) is written to the audit log as
// "unauthenticated" with its source, path and reason, never the token; a
// flood from one source writes at most audit.LimitPerSource records while
// another source is still recorded. Requests without credentials (Maven's
// and cargo's first try, before the challenge) and good tokens are not
// audit events.
func TestDataPlaneAuditsRejectedTokens(t *testing.T) {
	var buf bytes.Buffer
	log := audit.New(&buf)
	tokens := func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		switch tok {
		case "good-token":
			return &auth.Principal{ARN: "arn:aws:iam::111122223333:root"}, nil
		case "expired-token":
			return nil, fault.Unauthenticated("ExpiredToken", "The authorization token expired at 2025-01-01T00:00:00Z.")
		case "foreign-token":
			return nil, fault.Unauthenticated("InvalidToken", "the authorization token was issued for another domain")
		case "broken-store":
			return nil, fault.Internal(errors.New("database is locked: token broken-store"), "lookup failed")
		}
		return nil, fault.Unauthenticated("InvalidToken", "The authorization token is invalid.")
	}
	h := requestID(DataPlane(map[string]http.Handler{"npm": jsonFormat()}, tokens, AuditAuthFailures(log)))
	const path = "/npm/d/acme-111122223333/app/left-pad"
	send := func(source, authorization string) int {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = source + ":40000"
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	records := func() map[string][]audit.Event {
		t.Helper()
		out := map[string][]audit.Event{}
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var e audit.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("audit line %q: %v", line, err)
			}
			out[e.SourceIP] = append(out[e.SourceIP], e)
		}
		return out
	}

	if code := send("192.0.2.10", ""); code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", code)
	}
	if code := send("192.0.2.10", "Bearer good-token"); code != http.StatusOK {
		t.Fatalf("good token: %d", code)
	}
	if n := len(records()); n != 0 {
		t.Fatalf("a request without credentials or with a good token was audited:\n%s", buf.String())
	}

	for i := range 3 * audit.LimitPerSource {
		if code := send("192.0.2.1", "Bearer stolen-token-"+string(rune('a'+i%26))); code != http.StatusUnauthorized {
			t.Fatalf("bad token: %d", code)
		}
	}
	got := records()["192.0.2.1"]
	if len(got) != audit.LimitPerSource {
		t.Fatalf("%d records of the flooding source, want %d", len(got), audit.LimitPerSource)
	}
	e := got[0]
	if e.Decision != "unauthenticated" || e.Action != "GET "+path || e.Reason != "The authorization token is invalid." || e.RequestID == "" || e.Principal != "" {
		t.Fatalf("record %+v", e)
	}

	for _, c := range []struct {
		auth, reason string
		code         int
	}{
		{"Bearer expired-token", "The authorization token expired at 2025-01-01T00:00:00Z.", http.StatusUnauthorized},
		{"Basic " + basic("aws", "foreign-token"), "the authorization token was issued for another domain", http.StatusUnauthorized},
		// The store failed, not the client's token: a server error.
		{"broken-store", "the authorization token could not be verified", http.StatusInternalServerError},
	} {
		if code := send("198.51.100.7", c.auth); code != c.code {
			t.Fatalf("%s: %d", c.auth, code)
		}
		rs := records()["198.51.100.7"]
		if len(rs) == 0 || rs[len(rs)-1].Reason != c.reason {
			t.Fatalf("second source, %s: %+v, want reason %q", c.auth, rs, c.reason)
		}
	}
	// A huge path is shortened in the record.
	long := httptest.NewRequest(http.MethodGet, path+"/"+strings.Repeat("a", 100_000), nil)
	long.RemoteAddr = "203.0.113.5:1"
	long.Header.Set("Authorization", "Bearer bad")
	h.ServeHTTP(httptest.NewRecorder(), long)
	if rs := records()["203.0.113.5"]; len(rs) != 1 {
		t.Fatalf("long path: %d records", len(rs))
	} else if len(rs[0].Action) > 1100 || !strings.HasPrefix(rs[0].Action, "GET "+path+"/aaa") {
		t.Fatalf("long path: action of %d bytes", len(rs[0].Action))
	}
	if s := buf.String(); strings.Contains(s, "stolen-token") || strings.Contains(s, "expired-token") || strings.Contains(s, "foreign-token") || strings.Contains(s, "broken-store") {
		t.Fatalf("a token is in the audit log:\n%s", s)
	}
}

func basic(user, pass string) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestDataPlaneRefusalsInFormatShape: a request without credentials, or
// with a refused token, is answered by the format's own error renderer (a
// JSON document for this npm-like protocol) with the Basic challenge that
// makes Maven, cargo and pip send their token.
func TestDataPlaneRefusalsInFormatShape(t *testing.T) {
	tokens := func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		return nil, fault.Unauthenticated("InvalidToken", "The authorization token is invalid.")
	}
	h := DataPlane(map[string]http.Handler{"npm": jsonFormat()}, tokens)
	for _, c := range []struct{ authorization, message string }{
		{"", "authentication required"},
		{"Bearer forged", "The authorization token is invalid."},
	} {
		r := httptest.NewRequest(http.MethodGet, "/npm/d/acme-111122223333/app/left-pad", nil)
		if c.authorization != "" {
			r.Header.Set("Authorization", c.authorization)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var doc map[string]string
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic ") ||
			w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &doc) != nil || doc["error"] != c.message {
			t.Errorf("%q: %d %v %q; want 401, a Basic challenge and {\"error\": %q}", c.authorization, w.Code, w.Header(), w.Body, c.message)
		}
	}
}
