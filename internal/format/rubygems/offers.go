package rubygems

import (
	"context"

	"coffer/internal/artifact"
)

// offers is a push's question to an external source: does its info file
// list a build of the version (artifact.PutAssetRequest.Offered)?
func (h *Handler) offers(name, version string) func(context.Context, artifact.ExternalSource) (bool, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (bool, error) {
		up, err := h.fetchInfo(ctx, src, name)
		if err != nil {
			return false, err
		}
		for _, v := range up.versions {
			if v.Version == version {
				return true, nil
			}
		}
		return false, nil
	}
}
