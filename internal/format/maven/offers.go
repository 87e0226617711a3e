package maven

import (
	"context"
	"slices"

	"coffer/internal/artifact"
)

// offers is a deploy's question to an external source: does the artifact's
// maven-metadata.xml there list the version (artifact.PutAssetRequest.Offered)?
// SNAPSHOTs are never taken from external connections, so never offered.
func (h *Handler) offers(p Path) func(context.Context, artifact.ExternalSource) (bool, error) {
	if IsSnapshot(p.Version) {
		return nil
	}
	return func(ctx context.Context, src artifact.ExternalSource) (bool, error) {
		res, err := h.up.Get(ctx, src.BaseURL+p.GroupPath()+"/"+p.ArtifactID+"/"+MetadataFile)
		if err != nil {
			return false, err
		}
		m, err := ParseMetadata(res.Body)
		if err != nil || m.Versioning == nil {
			return false, nil // an unreadable listing offers nothing
		}
		return slices.Contains(m.Versioning.Versions, p.Version), nil
	}
}
