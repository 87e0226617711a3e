// Package fault holds the few error categories every layer speaks. Storage
// drivers translate backend errors into them at their boundary, the artifact
// service raises them for rule violations, and each HTTP surface maps them to a
// status code and its own error body in exactly one place.
package fault

import (
	"errors"
	"fmt"
	"syscall"
)

// Kind is an error category.
type Kind int

// The categories. Their order carries no meaning.
const (
	KindInternal Kind = iota
	KindNotFound
	KindConflict
	KindValidation
	KindAccessDenied
	KindQuotaExceeded
	KindUnavailable
	KindUnauthenticated
	KindThrottled
	// KindInsufficientStorage is the server's own storage being full
	// (ENOSPC, EDQUOT): a server-side failure, never the client's fault.
	KindInsufficientStorage
	// KindMethodNotAllowed is a method a native-protocol path does not
	// serve (405).
	KindMethodNotAllowed
)

// Sentinels for errors.Is; an *Error matches the sentinel of its Kind.
var (
	ErrNotFound            = &Error{Kind: KindNotFound, Message: "not found"}
	ErrConflict            = &Error{Kind: KindConflict, Message: "conflict"}
	ErrValidation          = &Error{Kind: KindValidation, Message: "invalid request"}
	ErrAccessDenied        = &Error{Kind: KindAccessDenied, Message: "access denied"}
	ErrQuotaExceeded       = &Error{Kind: KindQuotaExceeded, Message: "quota exceeded"}
	ErrUnavailable         = &Error{Kind: KindUnavailable, Message: "unavailable"}
	ErrUnauthenticated     = &Error{Kind: KindUnauthenticated, Message: "unauthenticated"}
	ErrInsufficientStorage = &Error{Kind: KindInsufficientStorage, Message: "insufficient storage"}
)

// Error is a categorised error. ResourceType and ResourceID name the resource
// concerned where there is one (CodeArtifact reports them on NotFound, Conflict
// and QuotaExceeded); Reason refines a validation error.
type Error struct {
	Kind         Kind
	Message      string
	ResourceType string
	ResourceID   string
	Reason       string
	// Code is an optional surface-specific error code (for example the AWS
	// error type such as "InvalidClientTokenId" or "SignatureDoesNotMatch").
	Code string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && isSentinel(t) && t.Kind == e.Kind
}

func isSentinel(e *Error) bool {
	switch e {
	case ErrNotFound, ErrConflict, ErrValidation, ErrAccessDenied, ErrQuotaExceeded, ErrUnavailable, ErrUnauthenticated, ErrInsufficientStorage:
		return true
	}
	return false
}

// NotFound reports a missing resource of the given type ("domain",
// "repository", "package", "package-version", "asset", ...).
func NotFound(resourceType, resourceID, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, ResourceType: resourceType, ResourceID: resourceID, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports a state conflict on a resource.
func Conflict(resourceType, resourceID, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, ResourceType: resourceType, ResourceID: resourceID, Message: fmt.Sprintf(format, args...)}
}

// Validation reports invalid input; the message names the bad field.
func Validation(format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Reason: "FIELD_VALIDATION_FAILED", Message: fmt.Sprintf(format, args...)}
}

// Quota reports an exceeded count quota.
func Quota(resourceType, resourceID, format string, args ...any) *Error {
	return &Error{Kind: KindQuotaExceeded, ResourceType: resourceType, ResourceID: resourceID, Message: fmt.Sprintf(format, args...)}
}

// AccessDenied reports a request refused by authorization.
func AccessDenied(format string, args ...any) *Error {
	return &Error{Kind: KindAccessDenied, Message: fmt.Sprintf(format, args...)}
}

// Unauthenticated reports a request whose credentials are missing or invalid.
// code is the AWS error type to report (for example "InvalidSignatureException").
func Unauthenticated(code, format string, args ...any) *Error {
	return &Error{Kind: KindUnauthenticated, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected error.
func Internal(err error, format string, args ...any) *Error {
	return &Error{Kind: KindInternal, Message: fmt.Sprintf(format, args...), Err: err}
}

// Unavailable wraps a failure of a backend the server depends on (the
// metadata database or the object store unreachable): the request may be
// retried once it is back. Surfaces answer 503.
func Unavailable(err error, format string, args ...any) *Error {
	return &Error{Kind: KindUnavailable, Message: fmt.Sprintf(format, args...), Err: err}
}

// Storage wraps a failed write to the server's own storage (a blob, a
// spooled upload): InsufficientStorage when the file system is full or the
// quota is used up (ENOSPC, EDQUOT), else Internal. The message says what
// could not be done; it must not name paths, since InsufficientStorage
// messages reach the client.
func Storage(err error, format string, args ...any) *Error {
	if storageFull(err) {
		return &Error{Kind: KindInsufficientStorage, Message: fmt.Sprintf(format, args...) + ": insufficient storage on the server", Err: err}
	}
	return Internal(err, format, args...)
}

// storageFull reports whether err comes from a full file system or an
// exhausted disk quota.
func storageFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// KindOf returns the category of err: the Kind of As(err).
func KindOf(err error) Kind { return As(err).Kind }

// As returns the first *Error in err's chain, or an internal *Error
// wrapping err. One exception: an internal error (a *Error of
// KindInternal, or none at all) whose cause is the server's storage being
// full is that InsufficientStorage *Error, or a new one when the cause is
// a bare ENOSPC or EDQUOT; one whose cause is an Unavailable *Error (the
// database or object store unreachable) is that error. Wrapping a storage
// failure as internal adds context, not a category: a full disk or a
// backend that is down reads the same on every surface whichever layer
// wrapped it.
func As(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		if storageFull(err) {
			return &Error{Kind: KindInsufficientStorage, Message: "insufficient storage on the server", Err: err}
		}
		return &Error{Kind: KindInternal, Message: "internal error", Err: err}
	}
	if e.Kind == KindInternal && e.Err != nil {
		if inner := As(e.Err); inner.Kind == KindInsufficientStorage || inner.Kind == KindUnavailable {
			return inner
		}
	}
	return e
}
