// Package server assembles coffer's HTTP surfaces on one listener: the
// CodeArtifact control plane under /v1/, the data plane under
// /<format>/d/<domain>-<owner>/<repository>/, the coffer-specific API under
// /coffer/v1/, and /healthz, /readyz and /metrics. It owns the
// cross-cutting middleware: request ids, panic recovery, structured access
// logs, metrics and authentication.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
	"coffer/internal/quota"
)

// Deps are the parts the server routes to.
type Deps struct {
	// ControlPlane serves /v1/ once the request's SigV4 signature verified.
	ControlPlane http.Handler
	// WriteControlError renders an authentication failure in the control
	// plane's error shape.
	WriteControlError func(w http.ResponseWriter, r *http.Request, err error)
	// Verifier checks the control plane's SigV4 signatures, QueryVerifier
	// those of the Query protocol; each accepts its surface's credential
	// scopes only.
	Verifier      *sigv4.Verifier
	QueryVerifier *sigv4.Verifier
	// Coffer serves the coffer-specific API under /coffer/v1/ once the
	// request's SigV4 signature verified, as the control plane's (nil: not
	// served); its errors have the control plane's shape.
	Coffer http.Handler
	// DataPlane serves native package-manager protocols.
	DataPlane http.Handler
	// Query serves the AWS Query protocol (POST /) by the SigV4 signing
	// service of the request ("iam", "sts"); WriteQueryError renders its
	// authentication failures.
	Query           map[string]http.Handler
	WriteQueryError func(w http.ResponseWriter, r *http.Request, err error)
	// IsUnsignedAction tells the STS actions served without a signature
	// (nil: none).
	IsUnsignedAction func(action string) bool
	// Audit records authentication failures.
	Audit *audit.Log
	// Console serves the web console under /console/ (nil: not served).
	Console http.Handler
	// Limits are the API rate limits (nil: none); ControlOperation names a
	// control-plane request's operation for them. The data plane's limits
	// are its own option (RateLimits).
	Limits           *quota.Limits
	ControlOperation func(r *http.Request) string
	// Ready reports whether the stores answer.
	Ready func(ctx context.Context) error
	Log   *slog.Logger
	// Collectors are other parts' metrics, served at /metrics with the
	// server's own.
	Collectors []prometheus.Collector
}

// Handler returns the root handler.
func Handler(d Deps) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	reg.MustRegister(d.Collectors...)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Ready(ctx); err != nil {
			d.Log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/v1/", m.surface("control", sigv4Auth(d, limitControl(d, d.ControlPlane))))
	if d.Coffer != nil {
		mux.Handle("/coffer/v1/", m.surface("coffer", sigv4Auth(d, d.Coffer)))
	}
	d.Query = limitQuery(d)
	mux.Handle("POST /{$}", m.surface("query", queryAuth(d)))
	if d.Console != nil {
		mux.Handle("/console/", m.surface("console", d.Console))
	}
	mux.Handle("/", m.surface("data", d.DataPlane))
	return idleBodies(BodyIdleTimeout, recoverer(d.Log, requestID(accessLog(d.Log, mux))))
}

// sigv4Auth verifies the request's signature and puts its principal in the
// context; a failure is rendered by the surface's own error writer.
func sigv4Auth(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := d.Verifier.Verify(r)
		if err != nil {
			recordAuthFailure(d, r, err)
			d.WriteControlError(w, r, err)
			return
		}
		setPrincipal(r, res.Principal)
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), res.Principal)))
	})
}

// queryAuth verifies a Query-protocol request and hands it to the handler of
// its signing service; unsigned or unknown-service requests are refused.
func queryAuth(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Query == nil {
			http.NotFound(w, r)
			return
		}
		if h := unsignedQuery(d, w, r); h != nil {
			sw := &statusWriter{ResponseWriter: w}
			h.ServeHTTP(sw, r)
			recordQueryCall(d, r, "sts", nil, sw.status)
			return
		}
		res, err := d.QueryVerifier.Verify(r)
		if err != nil {
			recordAuthFailure(d, r, err)
			d.WriteQueryError(w, r, err)
			return
		}
		h := d.Query[res.Service]
		if h == nil {
			d.WriteQueryError(w, r, fault.Validation("the service %q is not served here; use iam or sts", res.Service))
			return
		}
		setPrincipal(r, res.Principal)
		// The form is parsed here, once, so that a body that is not the
		// one signed is refused before any handler sees a field of it.
		if err := r.ParseForm(); err != nil {
			if fe, ok := errors.AsType[*fault.Error](err); ok {
				recordAuthFailure(d, r, fe)
				d.WriteQueryError(w, r, fe)
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(auth.WithPrincipal(r.Context(), res.Principal)))
		recordQueryCall(d, r, res.Service, res.Principal, sw.status)
	})
}

// maxUnsignedQueryBody bounds the form of an unsigned Query request: a
// web-identity token is at most 20,000 characters.
const maxUnsignedQueryBody = 64 << 10

// unsignedQuery returns the STS handler for a request without any
// signature whose action STS serves unsigned (AssumeRoleWithWebIdentity:
// the token it carries is the credential), else nil; the request then
// goes through signature verification, which refuses it if unsigned.
func unsignedQuery(d Deps, w http.ResponseWriter, r *http.Request) http.Handler {
	if r.Header.Get("Authorization") != "" || strings.Contains(r.URL.RawQuery, "X-Amz-") || d.IsUnsignedAction == nil || d.Query["sts"] == nil {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUnsignedQueryBody)
	if err := r.ParseForm(); err != nil || !d.IsUnsignedAction(r.Form.Get("Action")) {
		return nil
	}
	return d.Query["sts"]
}

// recordQueryCall audits IAM and STS calls that change something or were
// refused; the handlers authorize them, the outcome shows in the status.
func recordQueryCall(d Deps, r *http.Request, service string, p *auth.Principal, status int) {
	action := r.Form.Get("Action")
	readOnly := strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List")
	if readOnly && status != http.StatusForbidden {
		return
	}
	principal := ""
	if p != nil {
		principal = p.ARN
	}
	ev := audit.Event{Principal: principal, Action: service + ":" + action, Resource: r.Form.Get("RoleArn"), Decision: "allow", Reason: "status " + strconv.Itoa(status)}
	if status == http.StatusForbidden {
		ev.Decision = "deny"
	}
	ri := auth.RequestInfoFrom(r.Context())
	ev.RequestID, ev.SourceIP = ri.RequestID, ri.SourceIP
	d.Audit.Record(ev)
}

func recordAuthFailure(d Deps, r *http.Request, err error) {
	ri := auth.RequestInfoFrom(r.Context())
	d.Audit.RecordLimited(audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: r.Method + " " + r.URL.Path,
		Decision: "unauthenticated", Reason: fault.As(err).Message})
}

type ctxKey int

// logInfoKey holds the request's *logInfo.
const logInfoKey ctxKey = 0

// logInfo is what the request's middleware and handlers share: its id, and
// what handlers learn that the access log and the metrics should show: the
// principal, and the operation a rate limit refused.
type logInfo struct{ id, principal, throttled string }

func setPrincipal(r *http.Request, p *auth.Principal) {
	if li, ok := r.Context().Value(logInfoKey).(*logInfo); ok && p != nil {
		li.principal = p.ARN
	}
}

// SetLogPrincipal records the authenticated principal for the access log.
func SetLogPrincipal(r *http.Request, p *auth.Principal) { setPrincipal(r, p) }

// RequestID returns the request id of ctx ("" outside a request).
func RequestID(ctx context.Context) string {
	if li, ok := ctx.Value(logInfoKey).(*logInfo); ok {
		return li.id
	}
	return ""
}

// requestIDHeader is x-amzn-RequestId in its canonical form, set without
// Header.Set's canonicalization on every request.
var requestIDHeader = http.CanonicalHeaderKey("x-amzn-RequestId")

func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header()[requestIDHeader] = []string{id}
		ctx := context.WithValue(r.Context(), logInfoKey, &logInfo{id: id})
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx = auth.WithRequestInfo(ctx, auth.RequestInfo{RequestID: id, SourceIP: host, Secure: r.TLS != nil})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusWriter records the status and size of a response. It forwards
// ReadFrom so that sendfile still works for downloads.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if lr, ok := r.(*io.LimitedReader); ok {
		if m, ok := lr.R.(inMemory); ok {
			return s.writeInMemory(lr, m)
		}
	}
	var n int64
	var err error
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{s.ResponseWriter}, r)
	}
	s.bytes += n
	return n, err
}

// inMemory is a body held in memory (blob.BytesReader: a small blob).
type inMemory interface {
	io.Seeker
	Unread() []byte
}

// writeInMemory sends up to lr.N bytes of a body held in memory in one
// Write: the ResponseWriter's ReadFrom would copy them through a buffer
// made for each response (http.ServeContent's io.CopyN comes here).
func (s *statusWriter) writeInMemory(lr *io.LimitedReader, m inMemory) (int64, error) {
	b := m.Unread()
	if int64(len(b)) > lr.N {
		b = b[:lr.N]
	}
	n, err := s.Write(b)
	lr.N -= int64(n)
	if _, serr := m.Seek(int64(n), io.SeekCurrent); err == nil {
		err = serr
	}
	return int64(n), err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		li, _ := r.Context().Value(logInfoKey).(*logInfo)
		principal := ""
		if li != nil {
			principal = li.principal
		}
		// The query string is left out: presigned URLs carry signatures there.
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("id", RequestID(r.Context())), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes), slog.Duration("duration", time.Since(start)),
			slog.String("principal", principal), slog.String("remote", r.RemoteAddr))
	})
}

func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic while serving a request", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// BearerToken extracts a data-plane authorization token from the
// Authorization header: Basic with any user name, Bearer, or the bare token.
func BearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return ""
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	if strings.Contains(h, " ") {
		return ""
	}
	return h
}
