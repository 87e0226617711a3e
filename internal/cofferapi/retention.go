package cofferapi

import (
	"encoding/json"
	"net/http"

	"coffer/internal/controlplane"
	"coffer/internal/fault"
	"coffer/internal/retention"
)

// Retention rules and runs (internal/retention):
//
//	PUT    /coffer/v1/retention/rules          body: retention.Input; answers {"rule": ...}
//	GET    /coffer/v1/retention/rules?domain=D[&domain-owner=O][&repository=R]
//	DELETE /coffer/v1/retention/rules/{id}?domain=D[&domain-owner=O]
//	POST   /coffer/v1/retention/run            body: retention.RunInput; answers the run
//	GET    /coffer/v1/retention/runs?domain=D[&domain-owner=O]

// RetentionRuleOutput answers PUT and DELETE.
type RetentionRuleOutput struct {
	Rule retention.Rule `json:"rule"`
}

// ListRetentionRulesOutput answers GET .../rules.
type ListRetentionRulesOutput struct {
	Rules []retention.Rule `json:"rules"`
}

// ListRetentionRunsOutput answers GET .../runs.
type ListRetentionRunsOutput struct {
	Runs []retention.Run `json:"runs"`
}

func (h *handler) retentionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /coffer/v1/retention/rules", h.putRetentionRule)
	mux.HandleFunc("GET /coffer/v1/retention/rules", h.listRetentionRules)
	mux.HandleFunc("DELETE /coffer/v1/retention/rules/{id}", h.deleteRetentionRule)
	mux.HandleFunc("POST /coffer/v1/retention/run", h.runRetention)
	mux.HandleFunc("GET /coffer/v1/retention/runs", h.listRetentionRuns)
}

func decodeStrict(w http.ResponseWriter, r *http.Request, what string, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.Validation("the request body is not a %s document: %v", what, err)
	}
	return nil
}

func (h *handler) putRetentionRule(w http.ResponseWriter, r *http.Request) {
	var in retention.Input
	if err := decodeStrict(w, r, "retention rule", &in); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	rule, err := h.Retention.Put(r.Context(), in)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, RetentionRuleOutput{Rule: *rule})
}

func (h *handler) listRetentionRules(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := h.Retention.List(r.Context(), q.Get("domain-owner"), q.Get("domain"), q.Get("repository"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListRetentionRulesOutput{Rules: list})
}

func (h *handler) deleteRetentionRule(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rule, err := h.Retention.Delete(r.Context(), q.Get("domain-owner"), q.Get("domain"), r.PathValue("id"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, RetentionRuleOutput{Rule: *rule})
}

func (h *handler) runRetention(w http.ResponseWriter, r *http.Request) {
	var in retention.RunInput
	if err := decodeStrict(w, r, "retention run", &in); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	run, err := h.Retention.Run(r.Context(), in)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, run)
}

func (h *handler) listRetentionRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	runs, err := h.Retention.Runs(r.Context(), q.Get("domain-owner"), q.Get("domain"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListRetentionRunsOutput{Runs: runs})
}
