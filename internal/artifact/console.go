package artifact

import (
	"context"

	"coffer/internal/store"
)

// LatestVersions returns, for each of the given packages, its most recently
// published version with status Published: the version ListPackageVersions
// reports as defaultDisplayVersion. Packages without one are absent from the
// result. It reads only the versions of the packages named (one consistent
// snapshot), so a page of a package listing costs the same however large the
// repository is. The console uses it for the packages table.
func (s *Service) LatestVersions(ctx context.Context, packageIDs []int64) (map[int64]store.Version, error) {
	out := make(map[int64]store.Version, len(packageIDs))
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		for _, id := range packageIDs {
			// Ascending by published time then version, the order in
			// which defaultDisplayVersion breaks ties: the last one wins.
			after := ""
			for {
				vs, err := tx.ListVersions(store.VersionFilter{PackageID: id, Status: StatusPublished, ByPublishedTime: true},
					store.Page{After: after, Limit: 1000})
				if err != nil {
					return err
				}
				if len(vs) > 0 {
					out[id] = vs[len(vs)-1]
					after = store.VersionKey(&vs[len(vs)-1], true)
				}
				if len(vs) < 1000 {
					break
				}
			}
		}
		return nil
	})
	return out, err
}
