package artifact

import (
	"context"
	"sync"

	"coffer/internal/store"
)

// hashLocks serialises the commit of a blob with the metadata transaction
// that references it and with any deletion of the same blob, so that a failed
// upload's compensating delete can never remove a blob another upload has
// just referenced. Keyed by SHA-256; entries are dropped when unused.
type hashLocks struct {
	mu    sync.Mutex
	locks map[string]*hashLock
}

type hashLock struct {
	sync.Mutex
	users int
}

func (h *hashLocks) lock(sha string) func() {
	h.mu.Lock()
	if h.locks == nil {
		h.locks = map[string]*hashLock{}
	}
	l := h.locks[sha]
	if l == nil {
		l = &hashLock{}
		h.locks[sha] = l
	}
	l.users++
	h.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		h.mu.Lock()
		if l.users--; l.users == 0 {
			delete(h.locks, sha)
		}
		h.mu.Unlock()
	}
}

// releaseBlobs deletes the blobs that no asset references any more. Failures
// are logged, not returned: an orphan blob wastes space but loses nothing.
func (s *Service) releaseBlobs(ctx context.Context, shas []string) {
	seen := map[string]bool{}
	for _, sha := range shas {
		if seen[sha] {
			continue
		}
		seen[sha] = true
		unlock := s.locks.lock(sha)
		s.dropIfUnreferenced(ctx, sha)
		unlock()
	}
}

// allAssets returns every asset of a version.
func allAssets(tx store.Tx, versionID int64) ([]store.Asset, error) {
	var out []store.Asset
	after := ""
	for {
		as, err := tx.ListAssets(versionID, store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
		if len(as) < 1000 {
			return out, nil
		}
		after = as[len(as)-1].Name
	}
}

// versionBlobs returns the SHA-256 of every asset of a version.
func versionBlobs(tx store.Tx, versionID int64) ([]string, error) {
	as, err := allAssets(tx, versionID)
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Blob.SHA256
	}
	return out, err
}

// packageBlobs returns the SHA-256 of every asset of every version of a package.
func packageBlobs(tx store.Tx, packageID int64) ([]string, error) {
	var out []string
	after := ""
	for {
		vs, err := tx.ListVersions(store.VersionFilter{PackageID: packageID}, store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			shas, err := versionBlobs(tx, v.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, shas...)
		}
		if len(vs) < 1000 {
			return out, nil
		}
		after = store.VersionKey(&vs[len(vs)-1], false)
	}
}

// repositoryBlobs returns the SHA-256 of every asset in a repository.
func repositoryBlobs(tx store.Tx, repositoryID int64) ([]string, error) {
	var out []string
	after := ""
	for {
		ps, err := tx.ListPackages(store.PackageFilter{RepositoryID: repositoryID}, store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			shas, err := packageBlobs(tx, p.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, shas...)
		}
		if len(ps) < 1000 {
			return out, nil
		}
		after = store.PackageKey(&ps[len(ps)-1])
	}
}
