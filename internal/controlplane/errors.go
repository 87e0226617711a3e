package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"coffer/internal/fault"
)

// AWS error types. The first seven are the model's exceptions; the others
// are the generic ones AWS front ends answer with.
const (
	typeValidation         = "ValidationException"
	typeAccessDenied       = "AccessDeniedException"
	typeNotFound           = "ResourceNotFoundException"
	typeConflict           = "ConflictException"
	typeQuotaExceeded      = "ServiceQuotaExceededException"
	typeThrottling         = "ThrottlingException"
	typeInternal           = "InternalServerException"
	typeUnavailable        = "ServiceUnavailableException"
	typeUnrecognizedClient = "UnrecognizedClientException"
	typeUnknownOperation   = "UnknownOperationException"
)

// ValidationExceptionReason values.
const (
	reasonCannotParse      = "CANNOT_PARSE"
	reasonFieldValidation  = "FIELD_VALIDATION_FAILED"
	reasonUnknownOperation = "UNKNOWN_OPERATION"
)

// Response headers every answer carries.
const (
	headerRequestID = "x-amzn-RequestId"
	headerErrorType = "x-amzn-ErrorType"
)

// retryAfterSeconds is what Throttled and Unavailable errors advertise in
// Retry-After when the response has none yet; fault.Error carries no delay
// of its own.
const retryAfterSeconds = 1

// internalMessage is all a client learns about an internal error; the cause
// is logged with the request id.
const internalMessage = "An internal error occurred. Retry the request; if it keeps failing, report the request id to the administrator."

// errorBody is the JSON error document. botocore and the SDKs read the type
// from x-amzn-ErrorType or __type and the other members by their model names.
type errorBody struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	Reason       string `json:"reason,omitempty"`
	ResourceID   string `json:"resourceId,omitempty"`
	ResourceType string `json:"resourceType,omitempty"`
}

// WriteError renders err as a CodeArtifact JSON error: the HTTP status and
// error type follow from its fault kind (see mapError). Other surfaces'
// middleware (SigV4 authentication) uses it so that failures before this
// handler look the same to clients. Internal errors are logged with
// slog.Default; the client only sees a generic message.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeFault(w, r, err, slog.Default(), "")
}

// writeError renders err with the handler's logger.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	writeFault(w, r, err, h.log, op)
}

func writeFault(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger, op string) {
	id := requestID(w, r)
	e := fault.As(err)
	status, body := mapError(e)
	switch e.Kind {
	case fault.KindInternal, fault.KindInsufficientStorage:
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away
		}
		attrs := []any{"request_id", id, "op", op, "error", err}
		if r != nil {
			attrs = append(attrs, "method", r.Method, "path", r.URL.Path)
		}
		log.Log(contextOf(r), level, "controlplane: internal error", attrs...)
	case fault.KindThrottled, fault.KindUnavailable:
		if w.Header().Get("Retry-After") == "" { // a rate limit sets its own wait
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		}
	}
	writeAPIError(w, r, status, body)
}

// mapError is the one place that turns a fault kind into an HTTP status and
// an AWS error body.
func mapError(e *fault.Error) (int, errorBody) {
	switch e.Kind {
	case fault.KindValidation:
		reason := e.Reason
		if reason == "" {
			reason = reasonFieldValidation
		}
		return http.StatusBadRequest, errorBody{Type: typeValidation, Message: e.Message, Reason: reason}
	case fault.KindNotFound:
		return http.StatusNotFound, errorBody{Type: typeNotFound, Message: e.Message, ResourceID: e.ResourceID, ResourceType: modelResourceType(e.ResourceType)}
	case fault.KindConflict:
		return http.StatusConflict, errorBody{Type: typeConflict, Message: e.Message, ResourceID: e.ResourceID, ResourceType: modelResourceType(e.ResourceType)}
	case fault.KindQuotaExceeded:
		// 402 is what the model (and AWS) use for this exception.
		return http.StatusPaymentRequired, errorBody{Type: typeQuotaExceeded, Message: e.Message, ResourceID: e.ResourceID, ResourceType: modelResourceType(e.ResourceType)}
	case fault.KindAccessDenied:
		return http.StatusForbidden, errorBody{Type: typeAccessDenied, Message: e.Message}
	case fault.KindUnauthenticated:
		// AWS REST-JSON front ends answer credential problems with 403 and
		// a specific type (InvalidSignatureException, ...).
		typ := e.Code
		if typ == "" {
			typ = typeUnrecognizedClient
		}
		return http.StatusForbidden, errorBody{Type: typ, Message: e.Message}
	case fault.KindThrottled:
		return http.StatusTooManyRequests, errorBody{Type: typeThrottling, Message: e.Message}
	case fault.KindUnavailable:
		// Not in the model; 503 makes every SDK retry.
		return http.StatusServiceUnavailable, errorBody{Type: typeUnavailable, Message: e.Message}
	case fault.KindInsufficientStorage:
		// The server's disk is full. The model has no exception for it;
		// InternalServerException (500, a server fault in the model) is
		// what every SDK turns into its typed exception and botocore
		// retries a few times like any 500, which is harmless. 503
		// ServiceUnavailable would be unmodelled and invite retries of a
		// large upload that cannot succeed until an operator frees space.
		// Unlike other internal errors the message is shown: it says what
		// happened and names no path.
		return http.StatusInternalServerError, errorBody{Type: typeInternal, Message: e.Message}
	default:
		return http.StatusInternalServerError, errorBody{Type: typeInternal, Message: internalMessage}
	}
}

// modelResourceType returns t if the model's ResourceType enum has it, else
// "": the artifact layer also names resources the enum lacks (package
// groups, tags), and SDKs decode resourceType as that enum.
func modelResourceType(t string) string {
	switch t {
	case "domain", "repository", "package", "package-version", "asset":
		return t
	}
	return ""
}

// writeAPIError writes body with the error-type header.
func writeAPIError(w http.ResponseWriter, r *http.Request, status int, body errorBody) {
	requestID(w, r)
	w.Header().Set(headerErrorType, body.Type)
	b, _ := json.Marshal(body) // plain strings: cannot fail
	writeRaw(w, status, b)
}

// writeRaw writes a JSON document with its length.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // a failed write means the client is gone
}

// requestID returns the response's x-amzn-RequestId, setting it first if
// needed: the server middleware may already have set it; otherwise a valid
// X-Request-Id from the request is kept, else a random UUID is made.
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get(headerRequestID); id != "" {
		return id
	}
	id := ""
	if r != nil {
		id = r.Header.Get("X-Request-Id")
	}
	if !validRequestID(id) {
		id = newRequestID()
	}
	w.Header().Set(headerRequestID, id)
	return id
}

// validRequestID accepts short ids of URL-safe characters only, so a client
// cannot inject anything into headers or logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newRequestID returns a random version-4 UUID, the form AWS uses.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func contextOf(r *http.Request) context.Context {
	if r == nil {
		return context.Background()
	}
	return r.Context()
}
