package swift

import (
	"errors"
	"net/http"
	"strconv"

	"coffer/internal/jsonstr"
)

// statusError is a refusal whose status the registry specification names
// and no fault kind gives: 415 for an unsupported API version, 422 for a
// release the registry will not publish.
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return e.detail }

func unprocessable(detail string) error {
	return &statusError{http.StatusUnprocessableEntity, detail}
}

// Problem is an RFC 7807 problem details document with its detail (and
// the status, which the specification's examples leave out but RFC 7807
// allows).
func Problem(status int, detail string) []byte {
	b := []byte(`{"status":`)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"detail":`...)
	b = jsonstr.Append(b, detail)
	return append(b, '}')
}

// WriteProblem answers with a problem details document (Registry.md §3.3).
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	body := Problem(status, detail)
	h := w.Header()
	h.Del("Content-Disposition")
	h.Del("Digest")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Language", "en")
	h.Set("Content-Version", apiVersion)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// asStatusError finds a statusError in err's chain.
func asStatusError(err error) (*statusError, bool) {
	var se *statusError
	ok := errors.As(err, &se)
	return se, ok
}
