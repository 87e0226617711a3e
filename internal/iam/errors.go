package iam

import (
	"fmt"
	"net/http"

	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
)

// Query-protocol error codes of IAM and STS.
const (
	codeNoSuchEntity        = "NoSuchEntity"
	codeEntityAlreadyExists = "EntityAlreadyExists"
	codeDeleteConflict      = "DeleteConflict"
	codeLimitExceeded       = "LimitExceeded"
	codeMalformedPolicy     = "MalformedPolicyDocument"
	codeValidation          = "ValidationError"
	codeInvalidInput        = "InvalidInput"
	codeInvalidAction       = "InvalidAction"
	codeAccessDenied        = "AccessDenied"

	// AssumeRoleWithWebIdentity's own.
	codeInvalidIdentityToken = "InvalidIdentityToken"
	codeExpiredWebToken      = "ExpiredTokenException"
	codeIDPCommunication     = "IDPCommunicationError"
)

// codeStatus is the HTTP status of each code IAM and STS document.
var codeStatus = map[string]int{
	codeNoSuchEntity:             http.StatusNotFound,
	codeEntityAlreadyExists:      http.StatusConflict,
	codeDeleteConflict:           http.StatusConflict,
	codeLimitExceeded:            http.StatusConflict,
	codeMalformedPolicy:          http.StatusBadRequest,
	codeValidation:               http.StatusBadRequest,
	codeInvalidInput:             http.StatusBadRequest,
	codeInvalidAction:            http.StatusBadRequest,
	codeAccessDenied:             http.StatusForbidden,
	"InvalidClientTokenId":       http.StatusForbidden,
	"SignatureDoesNotMatch":      http.StatusForbidden,
	"MissingAuthenticationToken": http.StatusForbidden,
	"ExpiredToken":               http.StatusForbidden,
	"IncompleteSignature":        http.StatusBadRequest,
	"Throttling":                 http.StatusBadRequest,
	"ServiceUnavailable":         http.StatusServiceUnavailable,
	"ServiceFailure":             http.StatusInternalServerError,
	codeInvalidIdentityToken:     http.StatusBadRequest,
	codeExpiredWebToken:          http.StatusBadRequest,
	codeIDPCommunication:         http.StatusBadRequest,
}

func coded(kind fault.Kind, code, format string, args ...any) *fault.Error {
	return &fault.Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

func noSuchEntity(format string, args ...any) error {
	return coded(fault.KindNotFound, codeNoSuchEntity, format, args...)
}

func alreadyExists(format string, args ...any) error {
	return coded(fault.KindConflict, codeEntityAlreadyExists, format, args...)
}

func deleteConflict(format string, args ...any) error {
	return coded(fault.KindConflict, codeDeleteConflict, format, args...)
}

func limitExceeded(format string, args ...any) error {
	return coded(fault.KindQuotaExceeded, codeLimitExceeded, format, args...)
}

func validationError(format string, args ...any) error {
	return coded(fault.KindValidation, codeValidation, format, args...)
}

func invalidInput(format string, args ...any) error {
	return coded(fault.KindValidation, codeInvalidInput, format, args...)
}

func accessDenied(format string, args ...any) error {
	return coded(fault.KindAccessDenied, codeAccessDenied, format, args...)
}

// malformedPolicy turns a policy parser error into MalformedPolicyDocument
// with the parser's message.
func malformedPolicy(err error) error {
	return coded(fault.KindValidation, codeMalformedPolicy, "%s", fault.As(err).Message)
}

// queryError decides the status, code and message an error is reported
// with. Typed faults without a code get the code of their kind; an explicit
// code wins (SigV4 failures carry JSON-protocol codes, translated here).
// Internal errors never show their cause.
func queryError(err error) (status int, code, message string) {
	fe := fault.As(err)
	code, message = fe.Code, fe.Message
	if fe.Kind == fault.KindUnauthenticated {
		// Only authentication failures carry JSON-protocol codes: STS's
		// own ExpiredTokenException (AssumeRoleWithWebIdentity) stays.
		code = sigv4.QueryCode(code)
	}
	if code == "" {
		switch fe.Kind {
		case fault.KindNotFound:
			code = codeNoSuchEntity
		case fault.KindConflict:
			code = codeEntityAlreadyExists
		case fault.KindValidation:
			code = codeValidation
		case fault.KindAccessDenied:
			code = codeAccessDenied
		case fault.KindQuotaExceeded:
			code = codeLimitExceeded
		case fault.KindUnauthenticated:
			code = "InvalidClientTokenId"
		case fault.KindThrottled:
			code = "Throttling"
		case fault.KindUnavailable:
			code = "ServiceUnavailable"
		default:
			code, message = "ServiceFailure", "An internal error occurred; the request id is in the server log."
		}
	}
	status, ok := codeStatus[code]
	if !ok {
		status = kindStatus(fe.Kind)
	}
	return status, code, message
}

func kindStatus(k fault.Kind) int {
	switch k {
	case fault.KindNotFound:
		return http.StatusNotFound
	case fault.KindConflict, fault.KindQuotaExceeded:
		return http.StatusConflict
	case fault.KindValidation, fault.KindThrottled:
		return http.StatusBadRequest
	case fault.KindAccessDenied, fault.KindUnauthenticated:
		return http.StatusForbidden
	case fault.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
