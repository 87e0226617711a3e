package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
)

const (
	testAccount = "111122223333"
	testRegion  = "us-east-1"
)

// testService has no stores: it answers AccountID, Region and the ARN
// helpers, which is all a request needs until it reaches the service.
func testService() *artifact.Service {
	return artifact.New(artifact.Config{Region: testRegion, AccountID: testAccount}, nil, nil, nil)
}

// withRoot stands in for the SigV4 middleware: it puts the account root
// into the request context.
func withRoot(h http.Handler) http.Handler {
	root := &auth.Principal{ARN: "arn:aws:iam::" + testAccount + ":root", Account: testAccount, Type: auth.TypeAccount, UserID: testAccount}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), root)))
	})
}

type authzCall struct{ Action, Resource string }

// recordingAuthz records every check and refuses the denyAt-th one (1-based),
// so a test sees all checks of an operation without reaching the service.
type recordingAuthz struct {
	mu     sync.Mutex
	calls  []authzCall
	denyAt int
}

func (a *recordingAuthz) Authorize(_ context.Context, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, authzCall{action, resource})
	if len(a.calls) >= a.denyAt {
		return fault.AccessDenied("User is not authorized to perform: %s on resource: %s", action, resource)
	}
	return nil
}

// errAuthz refuses every request with a fixed error.
type errAuthz struct{ err error }

func (a errAuthz) Authorize(context.Context, string, string) error { return a.err }

// panicAuthz panics, standing in for a bug anywhere below the handler.
type panicAuthz struct{}

func (panicAuthz) Authorize(context.Context, string, string) error { panic("boom") }

// call sends one request through h.
func call(t *testing.T, h http.Handler, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decodeError parses a JSON error body and checks it agrees with the headers.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, rec.Body.String())
	}
	if got := rec.Header().Get("x-amzn-ErrorType"); got != body["__type"] {
		t.Errorf("x-amzn-ErrorType = %q, __type = %v", got, body["__type"])
	}
	if rec.Header().Get("x-amzn-RequestId") == "" {
		t.Error("x-amzn-RequestId missing")
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return body
}
