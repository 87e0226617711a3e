package npm

import (
	"context"

	"coffer/internal/artifact"
)

// offers is a publish's question to an external source: does its packument
// list the version (artifact.PutAssetRequest.Offered)?
func (h *Handler) offers(n Name, version string) func(context.Context, artifact.ExternalSource) (bool, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (bool, error) {
		up, err := h.upstreamPackument(ctx, src, n)
		if err != nil {
			return false, err
		}
		_, ok := up.versions[version]
		return ok, nil
	}
}
