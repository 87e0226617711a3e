package artifact

import (
	"context"
	"sync"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// hashLocks serialises the commit of a blob with the metadata transaction
// that references it and with any deletion of the same blob, so that a failed
// upload's compensating delete can never remove a blob another upload has
// just referenced. Keyed by SHA-256; entries are dropped when unused. When
// the metadata store is shared by several processes (store.Locker), the
// process-wide lock is also taken there, after the local one, so the rule
// holds across nodes and a node holds at most one shared lock per blob.
type hashLocks struct {
	mu     sync.Mutex
	locks  map[string]*hashLock
	shared store.Locker // nil for a store one process uses
}

type hashLock struct {
	sync.Mutex
	users int
}

// lock takes the blob's lock. It fails only when the shared lock cannot be
// taken (ctx ended, the metadata store unreachable).
func (h *hashLocks) lock(ctx context.Context, sha string) (unlock func(), err error) {
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
	local := func() {
		l.Unlock()
		h.mu.Lock()
		if l.users--; l.users == 0 {
			delete(h.locks, sha)
		}
		h.mu.Unlock()
	}
	if h.shared == nil {
		return local, nil
	}
	release, err := h.shared.Lock(ctx, "blob:"+sha)
	if err != nil {
		local()
		return nil, fault.Unavailable(err, "could not lock the asset's content")
	}
	return func() { release(); local() }, nil
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
		unlock, err := s.locks.lock(context.WithoutCancel(ctx), sha)
		if err != nil {
			s.log.Warn("could not release a blob; the orphan collector will", "sha256", sha, "err", err)
			continue
		}
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
