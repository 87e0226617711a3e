package format

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"coffer/internal/fault"
)

// WriteError answers a native-protocol request that failed the way package
// managers understand: a plain-text reason with the status of the fault's
// kind (see ErrorStatus). Nothing is written when the client has gone away.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, formatName string, err error) {
	status, msg, ok := ErrorStatus(w, r, log, formatName, err)
	if ok {
		http.Error(w, msg, status)
	}
}

// ErrorStatus maps a failed request's error to the status and message a
// format answers with, for formats that shape the body themselves: the
// status of the fault's kind, with a Basic challenge header set for missing
// credentials (401), and Retry-After for a rate limit (429) unless the data
// plane set it. The server's storage being full is 507 Insufficient
// Storage with a message that says so (a server-side failure that pip,
// twine, mvn and npm report with its status, never a 400 that blames the
// upload). Errors answered with 5xx are logged under the format's name;
// an internal error's message is not shown. ok is false when the client
// has gone away and nothing should be written.
func ErrorStatus(w http.ResponseWriter, r *http.Request, log *slog.Logger, formatName string, err error) (status int, msg string, ok bool) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return 0, "", false
	}
	e := fault.As(err)
	status = http.StatusInternalServerError
	switch e.Kind {
	case fault.KindNotFound:
		status = http.StatusNotFound
	case fault.KindConflict:
		status = http.StatusConflict
	case fault.KindValidation:
		status = http.StatusBadRequest
	case fault.KindAccessDenied:
		status = http.StatusForbidden
	case fault.KindQuotaExceeded:
		status = http.StatusRequestEntityTooLarge
	case fault.KindUnavailable:
		status = http.StatusServiceUnavailable
	case fault.KindThrottled:
		status = http.StatusTooManyRequests
		if w.Header().Get("Retry-After") == "" { // a rate limit sets its own wait
			w.Header().Set("Retry-After", "1")
		}
	case fault.KindInsufficientStorage:
		status = http.StatusInsufficientStorage
	case fault.KindMethodNotAllowed:
		status = http.StatusMethodNotAllowed
	case fault.KindUnauthenticated:
		w.Header().Set("WWW-Authenticate", `Basic realm="coffer"`)
		status = http.StatusUnauthorized
	}
	msg = e.Message
	if status >= 500 && status != http.StatusServiceUnavailable {
		log.Error(formatName+" request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if status == http.StatusInternalServerError {
		msg = "internal error"
	}
	return status, msg, true
}
