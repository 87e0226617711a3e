package format

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"coffer/internal/fault"
)

// TestErrorStatus: every native protocol answers a full disk with 507,
// however the storage error was wrapped, and an upload over the limit
// with 413; a 5xx is logged, an internal error's cause is not shown.
func TestErrorStatus(t *testing.T) {
	enospc := &fs.PathError{Op: "write", Path: "/data/spool/coffer-pypi-upload-7", Err: syscall.ENOSPC}
	cases := []struct {
		name   string
		err    error
		status int
		msg    string // a part of the message
		logged bool
	}{
		{"spool full", fault.Storage(enospc, "could not receive the upload"), 507, "insufficient storage", true},
		{"blob full, wrapped as internal", fault.Internal(fault.Storage(enospc, "blob store: write staging file"), "could not store the asset"), 507, "insufficient storage", true},
		{"bare ENOSPC under Internal", fault.Internal(enospc, "could not receive the tarball"), 507, "insufficient storage", true},
		{"too large", TooLarge("file", 1<<20), 413, "larger than the limit of 1048576 bytes", false},
		{"validation", fault.Validation("bad name"), 400, "bad name", false},
		{"internal", fault.Internal(errors.New("/secret/path"), "boom"), 500, "internal error", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest(http.MethodPost, "/pypi/d/x-1/r/", nil), log, "pypi", tc.err)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Errorf("answer %d %q, want %d with %q", rec.Code, rec.Body.String(), tc.status, tc.msg)
			}
			if strings.Contains(rec.Body.String(), "/data") || strings.Contains(rec.Body.String(), "/secret") {
				t.Errorf("the answer names a path: %q", rec.Body.String())
			}
			if got := logs.Len() > 0; got != tc.logged {
				t.Errorf("logged = %v, want %v: %s", got, tc.logged, logs.String())
			}
		})
	}
}
