package controlplane

import (
	"net/http"

	"coffer/internal/fault"
)

// packageGroupsUnsupported answers the ten package-group operations until
// artifact implements package groups. They are routed (so a client learns
// the operation exists but is unavailable here) and answer ValidationException
// with reason UNKNOWN_OPERATION: the model's closest word for "this server
// does not perform that operation", and a 400 that no SDK retries.
func (h *handler) packageGroupsUnsupported(w http.ResponseWriter, r *http.Request) error {
	return &fault.Error{
		Kind:    fault.KindValidation,
		Reason:  reasonUnknownOperation,
		Message: "Package groups are not supported by this server yet",
	}
}
