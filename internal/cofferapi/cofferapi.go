// Package cofferapi serves the coffer-specific API, what CodeArtifact has
// no operation for: REST-JSON under /coffer/v1/, behind the same SigV4
// verification as the control plane, authorized by IAM actions in the
// coffer: namespace and answering errors in the control plane's JSON shape.
// It serves the supply-chain rules (package rules) for now:
//
//	PUT    /coffer/v1/rules        body: scope and rule; answers {"rule": ...}
//	GET    /coffer/v1/rules?domain=D[&domain-owner=O][&repository=R|&package-group=G|&external-connection=C]
//	DELETE /coffer/v1/rules/{id}?domain=D[&domain-owner=O]
//
// The rules' validation, authorization, storage and audit records are
// internal/rules/ruleops, which the console uses too.
//
// And the imported OSV advisory sources (osv.go, internal/advisory):
//
//	PUT    /coffer/v1/osv/sources/{name}   body: an OSV zip (application/zip)
//	GET    /coffer/v1/osv/sources
//	DELETE /coffer/v1/osv/sources/{name}
//
// And what the supply-chain gate withholds, and a lockfile's pre-flight
// (gate.go):
//
//	GET    /coffer/v1/withheld?domain=D&repository=R&format=F[&namespace=N]&package=P
//	POST   /coffer/v1/preflight?domain=D&repository=R&kind=K   body: a lockfile
//	GET    /coffer/v1/quarantine?domain=D
//
// And the webhooks of package version events (webhooks.go), and retention
// rules and runs (retention.go).
//
// The API is not rate limited: its calls are operator actions, and
// internal/quota's limits are keyed by CodeArtifact operation names.
package cofferapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"coffer/internal/advisory"
	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/controlplane"
	"coffer/internal/fault"
	"coffer/internal/gate"
	"coffer/internal/retention"
	"coffer/internal/rules"
	"coffer/internal/rules/ruleops"
	"coffer/internal/store"
	"coffer/internal/webhook"
)

// IAM actions of the rules API (shared with the console: see ruleops).
const (
	ActionPutRule    = ruleops.ActionPut
	ActionListRules  = ruleops.ActionList
	ActionDeleteRule = ruleops.ActionDelete
)

// maxBody bounds a request document.
const maxBody = 64 << 10

// Config is what the API needs.
type Config struct {
	Service    *artifact.Service
	Store      store.Store
	Authorizer auth.Authorizer
	Audit      *audit.Log // records each rule change with its content
	Log        *slog.Logger
	Now        func() time.Time // time.Now when nil
	// Advisories are the imported OSV sources (nil: not served);
	// MaxOSVImportSize bounds an upload (1 GiB when zero).
	Advisories       *advisory.Sources
	MaxOSVImportSize int64
	// Gate lists the quarantined versions (nil: not served).
	Gate *gate.Gate
	// Webhooks manages the event webhooks (webhooks.go; nil: not served).
	Webhooks *webhook.Service
	// Retention manages retention rules and runs (retention.go; nil: not
	// served).
	Retention *retention.Service
}

type handler struct {
	Config
	rules *ruleops.Service
}

// New returns the handler of /coffer/v1/.
func New(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{Config: cfg, rules: &ruleops.Service{Artifacts: cfg.Service, Store: cfg.Store, Authorizer: cfg.Authorizer,
		Audit: cfg.Audit, Now: cfg.Now}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /coffer/v1/rules", h.putRule)
	mux.HandleFunc("GET /coffer/v1/rules", h.listRules)
	mux.HandleFunc("DELETE /coffer/v1/rules/{id}", h.deleteRule)
	mux.HandleFunc("PUT /coffer/v1/osv/sources/{name}", h.importAdvisories)
	mux.HandleFunc("GET /coffer/v1/osv/sources", h.listAdvisorySources)
	mux.HandleFunc("DELETE /coffer/v1/osv/sources/{name}", h.deleteAdvisorySource)
	mux.HandleFunc("GET /coffer/v1/withheld", h.listWithheld)
	mux.HandleFunc("POST /coffer/v1/preflight", h.preflight)
	mux.HandleFunc("GET /coffer/v1/quarantine", h.listQuarantine)
	if cfg.Webhooks != nil {
		mux.HandleFunc("POST /coffer/v1/webhooks", h.createWebhook)
		mux.HandleFunc("GET /coffer/v1/webhooks", h.listWebhooks)
		mux.HandleFunc("DELETE /coffer/v1/webhooks/{id}", h.deleteWebhook)
		mux.HandleFunc("GET /coffer/v1/webhooks/{id}/failures", h.listWebhookFailures)
	}
	if cfg.Retention != nil {
		h.retentionRoutes(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		controlplane.WriteError(w, r, fault.NotFound("operation", r.URL.Path, "no coffer API operation is %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// PutRuleInput is the body of PUT /coffer/v1/rules: a scope and exactly
// one of cooldown, freezeAt, block and exempt.
type PutRuleInput = ruleops.Input

// RuleOutput answers PUT and DELETE.
type RuleOutput struct {
	Rule rules.Rule `json:"rule"`
}

// ListRulesOutput answers GET.
type ListRulesOutput struct {
	Rules []rules.Rule `json:"rules"`
}

func (h *handler) putRule(w http.ResponseWriter, r *http.Request) {
	var in PutRuleInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		controlplane.WriteError(w, r, fault.Validation("the request body is not a rule document: %v", err))
		return
	}
	rule, err := h.rules.Put(r.Context(), in)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, RuleOutput{Rule: *rule})
}

func (h *handler) listRules(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := rules.Scope{DomainOwner: q.Get("domain-owner"), Domain: q.Get("domain"), Repository: q.Get("repository"),
		PackageGroup: q.Get("package-group"), ExternalConnection: q.Get("external-connection")}
	if filter.PackageGroup != "" {
		p, err := artifact.ParsePackageGroupPattern("package-group", filter.PackageGroup)
		if err != nil {
			controlplane.WriteError(w, r, err)
			return
		}
		filter.PackageGroup = p
	}
	list, err := h.rules.List(r.Context(), filter)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListRulesOutput{Rules: list})
}

func (h *handler) deleteRule(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rule, err := h.rules.Delete(r.Context(), q.Get("domain-owner"), q.Get("domain"), r.PathValue("id"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, RuleOutput{Rule: *rule})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		controlplane.WriteError(w, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b) // a failed write means the client is gone
}
