package cofferapi

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"coffer/internal/advisory"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/controlplane"
	"coffer/internal/fault"
)

// The advisory sources API: imported OSV data (internal/advisory).
//
//	PUT    /coffer/v1/osv/sources/{name}   body: the OSV zip (Content-Type application/zip); answers {"source": ...}
//	GET    /coffer/v1/osv/sources          answers {"sources": [...], "indexedRecords": N}
//	DELETE /coffer/v1/osv/sources/{name}   answers {"source": ...} (what was deleted)
//
// Sources are installation-wide, not a domain's, so their actions are
// authorized on an ARN of their own in the installation's region and
// account, which no resource policy covers (identity policies decide; the
// account root needs none):
//
//	coffer:ImportAdvisories      arn:aws:codeartifact:<region>:<account>:advisories/<name>
//	coffer:DeleteAdvisorySource  arn:aws:codeartifact:<region>:<account>:advisories/<name>
//	coffer:ListAdvisorySources   arn:aws:codeartifact:<region>:<account>:advisories/*
//
// The permission is checked before the body is read. The body is verified
// by the SigV4 verifier as it streams: a client sends x-amz-content-sha256
// as the hex SHA-256 of the zip (signed), and a body that does not match
// fails when its end is read, before anything is stored. No verifier limit
// applies to such a body (its 2 MiB bound is for bodies sent without that
// header, which it must read whole to hash, and stays). The upload is
// spooled to the data dir's spool and bounded by --max-osv-import-size (1
// GiB by default): a declared Content-Length over it is refused before a
// byte is read, a body without one when it passes the limit. Imports and
// deletes are written to the audit log with the source's SHA-256 and
// record counts, beside the authorizer's record of the decision.

// IAM actions of the advisory sources API.
const (
	ActionImportAdvisories     = "coffer:ImportAdvisories"
	ActionListAdvisorySources  = "coffer:ListAdvisorySources"
	ActionDeleteAdvisorySource = "coffer:DeleteAdvisorySource"
)

// defaultMaxOSVImportSize is the upload bound when Config sets none.
const defaultMaxOSVImportSize = 1 << 30

// AdvisorySourceOutput answers PUT and DELETE.
type AdvisorySourceOutput struct {
	Source advisory.SourceInfo `json:"source"`
}

// ListAdvisorySourcesOutput answers GET.
type ListAdvisorySourcesOutput struct {
	Sources []advisory.SourceInfo `json:"sources"`
	// IndexedRecords is the number of records in the answering node's
	// index (it follows other nodes' changes within seconds).
	IndexedRecords int `json:"indexedRecords"`
}

// AdvisoryARN is the resource an advisory source's actions are authorized
// on; name "*" for the list.
func (h *handler) advisoryARN(name string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:advisories/%s", h.Service.Region(), h.Service.AccountID(), name)
}

// advisories answers NotFound when the installation serves no sources.
func (h *handler) advisories(w http.ResponseWriter, r *http.Request) bool {
	if h.Advisories == nil {
		controlplane.WriteError(w, r, fault.NotFound("operation", r.URL.Path, "advisory sources are not served here"))
		return false
	}
	return true
}

// authorizeSource checks the path's source name and authorizes action on
// it, answering the error itself when either fails.
func (h *handler) authorizeSource(w http.ResponseWriter, r *http.Request, action string) (name, res string, ok bool) {
	name = r.PathValue("name")
	if !advisory.ValidName(name) {
		controlplane.WriteError(w, r, fault.Validation("source name must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'"))
		return "", "", false
	}
	res = h.advisoryARN(name)
	if err := h.Authorizer.Authorize(r.Context(), action, res); err != nil {
		controlplane.WriteError(w, r, err)
		return "", "", false
	}
	return name, res, true
}

// zipTypes are the Content-Types an import accepts.
var zipTypes = []string{"application/zip", "application/x-zip-compressed", "application/octet-stream"}

func (h *handler) importAdvisories(w http.ResponseWriter, r *http.Request) {
	if !h.advisories(w, r) {
		return
	}
	name, res, ok := h.authorizeSource(w, r, ActionImportAdvisories)
	if !ok {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); !slices.Contains(zipTypes, mt) {
		controlplane.WriteError(w, r, fault.Validation("Content-Type must be application/zip (the body is an OSV zip), not '%s'", mt))
		return
	}
	limit := h.MaxOSVImportSize
	if limit <= 0 {
		limit = defaultMaxOSVImportSize
	}
	if r.ContentLength > limit {
		controlplane.WriteError(w, r, fault.Validation("the source is %d bytes, more than the limit of %d bytes (--max-osv-import-size)", r.ContentLength, limit))
		return
	}
	by := ""
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		by = p.ARN
	}
	info, err := h.Advisories.ImportFrom(r.Context(), name, r.Body, limit, by)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	h.recordAdvisory(r, ActionImportAdvisories, res, info)
	writeJSON(w, AdvisorySourceOutput{Source: info})
}

func (h *handler) listAdvisorySources(w http.ResponseWriter, r *http.Request) {
	if !h.advisories(w, r) {
		return
	}
	if err := h.Authorizer.Authorize(r.Context(), ActionListAdvisorySources, h.advisoryARN("*")); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	list, err := h.Advisories.List(r.Context())
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListAdvisorySourcesOutput{Sources: list, IndexedRecords: h.Advisories.Index().Len()})
}

func (h *handler) deleteAdvisorySource(w http.ResponseWriter, r *http.Request) {
	if !h.advisories(w, r) {
		return
	}
	// Only a caller allowed to delete learns whether the source exists.
	name, res, ok := h.authorizeSource(w, r, ActionDeleteAdvisorySource)
	if !ok {
		return
	}
	info, err := h.Advisories.Get(r.Context(), name)
	if err == nil {
		err = h.Advisories.Delete(r.Context(), name)
	}
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	h.recordAdvisory(r, ActionDeleteAdvisorySource, res, info)
	writeJSON(w, AdvisorySourceOutput{Source: info})
}

// recordAdvisory writes what changed to the audit log, beside the
// authorizer's record of the decision.
func (h *handler) recordAdvisory(r *http.Request, action, resource string, info advisory.SourceInfo) {
	if h.Audit == nil {
		return
	}
	ri := auth.RequestInfoFrom(r.Context())
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: action, Decision: "allow",
		Resource: resource, Reason: sourceSummary(info)}
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		ev.Principal = p.ARN
	}
	h.Audit.Record(ev)
}

// sourceSummary describes a source in one line.
func sourceSummary(info advisory.SourceInfo) string {
	ecos := make([]string, 0, len(info.Ecosystems))
	for e, n := range info.Ecosystems {
		ecos = append(ecos, fmt.Sprintf("%s %d", e, n))
	}
	slices.Sort(ecos)
	return fmt.Sprintf("sha256 %s, %d bytes, %d records (%s)", info.SHA256, info.Size, info.Records, strings.Join(ecos, ", "))
}
