package cargo

import (
	"net/http"
	"strconv"

	"coffer/internal/jsonstr"
)

// ErrorBody is cargo's error document, {"errors":[{"detail":"..."}]}:
// cargo prints each detail after "the remote server responded with an
// error", whatever the status.
func ErrorBody(details ...string) []byte {
	b := []byte(`{"errors":[`)
	for i, d := range details {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"detail":`...)
		b = jsonstr.Append(b, d)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// WriteError answers a cargo request with status and detail as cargo's
// JSON error body.
func WriteError(w http.ResponseWriter, status int, detail string) {
	body := ErrorBody(detail)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}
