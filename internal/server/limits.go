package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/quota"
)

// throttled is the error of a request over a rate limit; Retry-After is
// set on w from wait, and the request is counted as throttled under op.
func throttled(w http.ResponseWriter, r *http.Request, op string, wait time.Duration, format string, args ...any) error {
	secs := quota.RetryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if li, ok := r.Context().Value(logInfoKey).(*logInfo); ok {
		li.throttled = op
	}
	return &fault.Error{Kind: fault.KindThrottled, Message: fmt.Sprintf(format, args...) + "; retry after " + strconv.Itoa(secs) + " s"}
}

// sdkRetryAfter sets x-amz-retry-after, the wait in milliseconds the AWS
// SDKs' retry strategy reads (within its own backoff and 5 s more).
func sdkRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("x-amz-retry-after", strconv.FormatInt(max(1, wait.Milliseconds()), 10))
}

// limitControl applies the per-principal API rates to control-plane
// requests, once authenticated, by the operation they call.
func limitControl(d Deps, next http.Handler) http.Handler {
	if d.Limits == nil || d.ControlOperation == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.PrincipalFrom(r.Context())
		if op := d.ControlOperation(r); op != "" && p != nil {
			if ok, wait := d.Limits.API(p.ARN, op); !ok {
				sdkRetryAfter(w, wait)
				d.WriteControlError(w, r, throttled(w, r, op, wait, "Rate exceeded for %s", op))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitQuery wraps each Query service's handler with its per-principal
// rate. A call without a principal (the unsigned AssumeRoleWithWebIdentity,
// whose token is the credential) is counted under its source address, so
// a flood of tokens cannot make the server verify them without bound.
func limitQuery(d Deps) map[string]http.Handler {
	if d.Limits == nil || d.Query == nil {
		return d.Query
	}
	out := make(map[string]http.Handler, len(d.Query))
	for service, h := range d.Query {
		out[service] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := "source:" + auth.RequestInfoFrom(r.Context()).SourceIP
			if p := auth.PrincipalFrom(r.Context()); p != nil {
				key = p.ARN
			}
			if ok, wait := d.Limits.API(key, service); !ok {
				sdkRetryAfter(w, wait)
				d.WriteQueryError(w, r, throttled(w, r, service, wait, "Rate exceeded"))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	return out
}
