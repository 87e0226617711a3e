package pypi

import (
	"context"

	"coffer/internal/artifact"
)

// offers is an upload's question to an external source: does the
// project's page offer a file of the version (artifact.PutAssetRequest.Offered)?
func (h *Handler) offers(project, version string) func(context.Context, artifact.ExternalSource) (bool, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (bool, error) {
		up, err := h.upstreamPage(ctx, src, NormalizeName(project))
		if err != nil {
			return false, err
		}
		for i := range up.page.Len() {
			if f, ok := ParseFileName(up.page.At(i).Filename, project); ok && sameVersion(f.Version, version) {
				return true, nil
			}
		}
		return false, nil
	}
}
