package generic

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
)

type failingAuthz struct{ err error }

func (a failingAuthz) Authorize(context.Context, string, string) error { return a.err }

// TestErrorsUseTheSharedMapping: generic reads answer failures like every
// native protocol (format.ErrorStatus), but for versions that cannot be
// downloaded, which are 404 here.
func TestErrorsUseTheSharedMapping(t *testing.T) {
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, nil, nil, nil)
	full := fault.Storage(&fs.PathError{Op: "write", Path: "/data/x", Err: syscall.ENOSPC}, "could not record the read")
	for _, tc := range []struct {
		err    error
		status int
	}{
		{fault.AccessDenied("no"), http.StatusForbidden},
		{fault.NotFound("asset", "a", "gone"), http.StatusNotFound},
		{fault.Conflict("package-version", "1.0", "Package version 1.0 is Archived"), http.StatusNotFound},
		{fault.Validation("bad"), http.StatusBadRequest},
		{&fault.Error{Kind: fault.KindThrottled, Message: "slow down"}, http.StatusTooManyRequests},
		{fault.ErrUnavailable, http.StatusServiceUnavailable},
		{full, http.StatusInsufficientStorage},
		{fault.Internal(nil, "boom"), http.StatusInternalServerError},
	} {
		h := New(svc, failingAuthz{tc.err}, nil)
		req := httptest.NewRequest(http.MethodGet, "/generic/d/dx-123456789012/repo/ns/pkg/1.0/a.tar.gz", nil)
		req = req.WithContext(format.WithTarget(req.Context(), &format.Target{Format: "generic", Domain: "dx",
			DomainOwner: "123456789012", Repository: "repo", Path: "ns/pkg/1.0/a.tar.gz"}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%v: %d %q, want %d", tc.err, rec.Code, rec.Body.String(), tc.status)
		}
	}
}
