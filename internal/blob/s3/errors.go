package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"coffer/internal/fault"
)

// failure translates an error of an S3 call into the fault categories. The
// caller's cancellation is returned as ctx's error. A server that is out of
// space is InsufficientStorage; a request S3 found malformed is an internal
// error (a bug here); everything else (network failures, 5xx, throttling,
// refused credentials, a missing bucket) is Unavailable: the object store
// cannot serve now, and the surfaces answer 503. The message says what failed
// and never carries keys or credentials (the SDK's errors do not either);
// it may reach clients.
func failure(ctx context.Context, err error, format string, args ...any) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	msg := fmt.Sprintf(format, args...)
	switch code, status := errorCode(err), httpStatus(err); {
	case status == http.StatusInsufficientStorage || code == "XMinioStorageFull" || code == "StorageFull":
		return &fault.Error{Kind: fault.KindInsufficientStorage, Message: msg + ": insufficient storage on the server", Err: err}
	case status >= 400 && status < 500 && status != http.StatusForbidden && status != http.StatusNotFound &&
		status != http.StatusRequestTimeout && status != http.StatusTooManyRequests && status != http.StatusConflict:
		return fault.Internal(err, "%s", msg)
	}
	return fault.Unavailable(err, "%s", msg)
}

// errorCode returns the S3 error code ("NoSuchKey", "PreconditionFailed"…),
// or "" if err is not an S3 error response.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the status of the response err came from, 0 if none.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isNotFound reports a missing object (or multipart upload). A missing
// bucket is a 404 too but a misconfiguration, not an absent blob.
func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return true
	case "NoSuchBucket":
		return false
	}
	return httpStatus(err) == http.StatusNotFound
}

// isPreconditionFailed reports a conditional write (If-None-Match: *) that
// found the key present, or lost a race for it (409 ConditionalRequestConflict).
func isPreconditionFailed(err error) bool {
	code, status := errorCode(err), httpStatus(err)
	return code == "PreconditionFailed" || status == http.StatusPreconditionFailed ||
		code == "ConditionalRequestConflict"
}

// isNotImplemented reports a server that does not support a feature asked
// for, such as conditional writes.
func isNotImplemented(err error) bool {
	return errorCode(err) == "NotImplemented" || httpStatus(err) == http.StatusNotImplemented
}

func notFound(sha256 string) error {
	return fault.NotFound("asset", sha256, "asset content %s not found", sha256)
}
