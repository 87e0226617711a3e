package npm

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/osv"
)

// The audit endpoints npm calls after an install.
type auditKind int

const (
	auditBulk  auditKind = iota // POST -/npm/v1/security/advisories/bulk
	auditQuick                  // POST -/npm/v1/security/audits/quick
)

const (
	auditTimeout = 30 * time.Second
	// maxAuditReply bounds what is relayed from the upstream.
	maxAuditReply = 64 << 20
)

func (k auditKind) path() string {
	if k == auditQuick {
		return "-/npm/v1/security/audits/quick"
	}
	return "-/npm/v1/security/advisories/bulk"
}

// audit serves npm's audit requests. When the repository reaches
// public:npmjs (itself or through its upstreams) the request is relayed to
// that registry as is; otherwise, or when the registry fails (unreachable,
// an answer other than 200), the answer comes from the OSV advisories
// imported into coffer (Config.Advisories; see localAudit) in npm's own
// shapes, and is an empty report when there are none, so that npm install
// never fails because of an audit. (CodeArtifact itself does not support
// npm audit.)
//
// The relay stays the first choice where it is allowed and answers:
// public:npmjs's answer is GitHub's advisory database as npm knows it —
// the data osv.dev republishes for npm, but with npm's own advisory ids
// (which npm caches its calculations under), CWEs and CVSS scores, and
// current to the minute, where the imported copy is as old as its last
// import. Adding the local records to it would report each GitHub
// advisory twice under two ids. And repositories that reach public:npmjs
// keep the answers they had before the index existed.
func (h *Handler) audit(kind auditKind) func(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	return func(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
		h.answerAudit(w, r, rq, kind)
	}
}

// answerAudit answers one audit request.
func (h *Handler) answerAudit(w http.ResponseWriter, r *http.Request, rq *request, kind auditKind) {
	ctx := r.Context()
	if r.ContentLength > maxAuditBody {
		h.writeError(w, r, fault.Quota("audit", "", "The audit request of %d bytes exceeds the limit of %d bytes", r.ContentLength, maxAuditBody))
		return
	}
	// The body streams through scanAudit, which bounds it, counts its
	// dependencies and, when there are advisories to answer from, keeps
	// the packages they name; it is kept, as sent, only to be relayed,
	// and scanned for the advisories only if the relay fails.
	encoding := r.Header.Get("Content-Encoding")
	base, relay := h.reachesNpmjs(ctx, rq)
	index := h.advisoryIndex()
	want := func(name string) bool { return index.Has(osvEcosystem, name) }
	if index == nil || relay {
		want = nil
	}
	var body io.Reader = r.Body
	var kept *bytes.Buffer
	if relay {
		kept = bytes.NewBuffer(make([]byte, 0, max(min(r.ContentLength, maxAuditBody), 0)))
		body = io.TeeReader(body, kept)
	}
	req, err := scanAudit(body, encoding, kind, want)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if relay {
		if h.relayAudit(ctx, w, base, kind, kept.Bytes(), r.Header.Get("Content-Type"), encoding) {
			return
		}
		if index != nil {
			// Within the bounds already checked: no error.
			if again, err := scanAudit(bytes.NewReader(kept.Bytes()), encoding, kind,
				func(name string) bool { return index.Has(osvEcosystem, name) }); err == nil {
				req = again
			}
		}
	}
	if index == nil {
		writeJSON(w, http.StatusOK, emptyAudit(kind, req.deps))
		return
	}
	writeJSON(w, http.StatusOK, localAudit(index, kind, req))
}

// advisoryIndex is the advisory index to answer from, nil when there is
// none or it is empty.
func (h *Handler) advisoryIndex() *osv.Index {
	if h.advisories == nil {
		return nil
	}
	if x := h.advisories(); x != nil && x.Len() > 0 {
		return x
	}
	return nil
}

// reachesNpmjs reports whether the repository or one of its upstreams (in
// the engine's search order) holds the public:npmjs connection, and where
// it points.
func (h *Handler) reachesNpmjs(ctx context.Context, rq *request) (string, bool) {
	srcs, err := h.svc.ExternalConnectionsReached(ctx, rq.t.Repo(), artifact.FormatNpm)
	if err != nil {
		return "", false
	}
	for _, src := range srcs {
		if src.Connection == npmjs {
			return src.BaseURL, src.BaseURL != ""
		}
	}
	return "", false
}

// relayAudit posts the request to the registry and copies a 200 answer;
// false when the registry could not answer.
func (h *Handler) relayAudit(ctx context.Context, w http.ResponseWriter, base string, kind auditKind, body []byte, contentType, encoding string) bool {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+kind.path(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := h.httpClient.Do(req)
	if err != nil {
		h.log.Warn("npm audit relay failed", "url", req.URL.String(), "err", err)
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.log.Warn("npm audit relay answered an error", "url", req.URL.String(), "status", resp.StatusCode)
		return false
	}
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxAuditReply+1))
	if err != nil || len(reply) > maxAuditReply {
		return false
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		w.Header().Set("Content-Encoding", ce)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(reply)
	return true
}

// emptyAudit is a report without findings: {} for the bulk endpoint; for
// the quick one, npm's report shape counting the request's dependencies.
func emptyAudit(kind auditKind, deps int) any {
	if kind == auditBulk {
		return struct{}{}
	}
	return map[string]any{
		"actions":    []any{},
		"advisories": map[string]any{},
		"muted":      []any{},
		"metadata": map[string]any{
			"vulnerabilities":      map[string]int{"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0},
			"dependencies":         deps,
			"devDependencies":      0,
			"optionalDependencies": 0,
			"totalDependencies":    deps,
		},
	}
}
