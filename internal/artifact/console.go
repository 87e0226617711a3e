package artifact

import (
	"context"

	"coffer/internal/store"
)

// LatestVersions returns, for each of the given packages, the version
// ListPackageVersions reports as defaultDisplayVersion (for npm the one its
// "latest" dist-tag names, otherwise the most recently published). Packages without one are absent from the
// result. It reads only the versions of the packages named (one consistent
// snapshot), so a page of a package listing costs the same however large the
// repository is. The console uses it for the packages table.
func (s *Service) LatestVersions(ctx context.Context, packageIDs []int64) (map[int64]store.Version, error) {
	out := make(map[int64]store.Version, len(packageIDs))
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		for _, id := range packageIDs {
			p, err := tx.GetPackageByID(id)
			if err != nil {
				return err
			}
			v, err := displayVersion(tx, p)
			if err != nil {
				return err
			}
			if v != nil {
				out[id] = *v
			}
		}
		return nil
	})
	return out, err
}
