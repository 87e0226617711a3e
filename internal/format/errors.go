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
// kind (401 with a Basic challenge for missing credentials). Internal
// errors are logged under the format's name and not shown. Nothing is
// written when the client has gone away.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, formatName string, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	e := fault.As(err)
	status := http.StatusInternalServerError
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
	case fault.KindUnauthenticated:
		w.Header().Set("WWW-Authenticate", `Basic realm="coffer"`)
		status = http.StatusUnauthorized
	}
	msg := e.Message
	if status == http.StatusInternalServerError {
		log.Error(formatName+" request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	http.Error(w, msg, status)
}
