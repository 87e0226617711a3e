package controlplane

import (
	"net/http"
	"time"

	"coffer/internal/auth"
	"coffer/internal/fault"
)

// Token durations in seconds: the model allows 0–43200; AWS documents 0
// (the caller's session expiry) or 900–43200, with 43200 as the default.
const (
	tokenDurationMin     = 900
	tokenDurationMax     = 43200
	tokenDurationDefault = 43200
)

func (h *handler) getAuthorizationToken(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	seconds := int64(tokenDurationDefault)
	if raw, ok := in.raw("duration"); ok {
		seconds = in.int("duration", "durationSeconds", 0, tokenDurationMax)
		if seconds > 0 && seconds < tokenDurationMin {
			in.v.fail("durationSeconds", quote(raw), "Member must be 0 or have value between 900 and 43200")
		}
	}
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "GetAuthorizationToken", h.domainARN(ref)); err != nil {
		return err
	}
	// The authorizer attaches sts:AWSServiceName itself; sts:DurationSeconds
	// is the lifetime asked for: 43200 when absent, 0 for "the session's".
	if err := h.authz.Authorize(auth.WithDurationSeconds(r.Context(), seconds), auth.ActionGetServiceBearerToken, "*"); err != nil {
		return err
	}
	d, err := h.svc.DescribeDomain(r.Context(), ref)
	if err != nil {
		return err
	}
	if h.tokens == nil {
		return fault.Internal(nil, "controlplane: no TokenMinter configured")
	}
	token, expires, err := h.tokens.Mint(r.Context(), d, time.Duration(seconds)*time.Second)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the body is a credential
	return writeJSON(w, struct {
		AuthorizationToken string `json:"authorizationToken"`
		Expiration         epoch  `json:"expiration,omitzero"`
	}{token, epoch(expires)})
}
