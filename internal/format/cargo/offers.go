package cargo

import (
	"context"

	"coffer/internal/artifact"
)

// offers is a publish's question to an external source: does its index
// file list the version, or the same release (artifact.PutAssetRequest.Offered)?
func (h *Handler) offers(name, version string) func(context.Context, artifact.ExternalSource) (bool, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (bool, error) {
		_, idx, err := h.upstreamIndex(ctx, src, name)
		if err != nil {
			return false, err
		}
		_, ok := idx.find(version)
		return ok, nil
	}
}
