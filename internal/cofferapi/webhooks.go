package cofferapi

import (
	"encoding/json"
	"net/http"

	"coffer/internal/controlplane"
	"coffer/internal/fault"
	"coffer/internal/webhook"
)

// The webhooks that package version events are delivered to
// (internal/webhook):
//
//	POST   /coffer/v1/webhooks                   body: webhook.Input; answers {"webhook": ...}
//	GET    /coffer/v1/webhooks?domain=D[&domain-owner=O][&repository=R]
//	DELETE /coffer/v1/webhooks/{id}?domain=D[&domain-owner=O]
//	GET    /coffer/v1/webhooks/{id}/failures?domain=D[&domain-owner=O]
//
// A webhook's secret is write-only: no answer shows it.

// WebhookOutput answers POST and DELETE.
type WebhookOutput struct {
	Webhook webhook.Hook `json:"webhook"`
}

// ListWebhooksOutput answers GET.
type ListWebhooksOutput struct {
	Webhooks []webhook.Hook `json:"webhooks"`
}

// ListWebhookFailuresOutput answers GET .../failures.
type ListWebhookFailuresOutput struct {
	Failures []webhook.Failure `json:"failures"`
}

func (h *handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhook.Input
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		controlplane.WriteError(w, r, fault.Validation("the request body is not a webhook document: %v", err))
		return
	}
	hook, err := h.Webhooks.Create(r.Context(), in)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, WebhookOutput{Webhook: *hook})
}

func (h *handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := h.Webhooks.List(r.Context(), q.Get("domain-owner"), q.Get("domain"), q.Get("repository"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListWebhooksOutput{Webhooks: append([]webhook.Hook{}, list...)})
}

func (h *handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	hook, err := h.Webhooks.Delete(r.Context(), q.Get("domain-owner"), q.Get("domain"), r.PathValue("id"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, WebhookOutput{Webhook: *hook})
}

func (h *handler) listWebhookFailures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := h.Webhooks.Failures(r.Context(), q.Get("domain-owner"), q.Get("domain"), r.PathValue("id"))
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListWebhookFailuresOutput{Failures: append([]webhook.Failure{}, list...)})
}
