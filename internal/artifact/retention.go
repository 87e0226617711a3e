package artifact

import (
	"context"
	"errors"
	"slices"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Retention's engine side (internal/retention decides what goes): removing
// chosen versions and giving their disk space back at once, and noting
// downloads for "not downloaded for D days".

// DownloadRecorder notes that a version's asset was read. Downloaded runs
// on every read, cached ones included: it must be cheap and must not touch
// the store (internal/retention's DownloadLog keeps the times in memory and
// writes them in batches).
type DownloadRecorder interface {
	Downloaded(versionID int64)
}

// SetDownloadRecorder sets what notes downloads; call it before serving.
func (s *Service) SetDownloadRecorder(r DownloadRecorder) { s.downloads = r }

// VersionKey names a version retention chose: its package and name, and the
// revision it had when it was chosen (a version changed since is kept).
type VersionKey struct {
	PackageID int64
	Version   string
	Revision  string
}

// Removal is what RemoveVersions did, or PlanRemoval would do.
type Removal struct {
	// Removed are the versions removed (or to remove), in the order given.
	Removed []VersionKey
	// Blobs and BytesFreed count the blobs deleted (or to delete) from the
	// blob store: those no asset references any more. Content another
	// version or domain still references is not counted.
	Blobs      int
	BytesFreed int64
}

// removalBatch bounds the versions deleted in one transaction.
const removalBatch = 200

// errDryRun rolls back PlanRemoval's transaction.
var errDryRun = errors.New("artifact: dry run")

// PlanRemoval says what RemoveVersions(keys) would remove and free now: it
// deletes the versions in a write transaction that it rolls back, after
// asking inside it which blob objects no asset would need any more (the
// same question, unneededObjects, RemoveVersions asks after its commits),
// and sums the sizes of those the blob store holds. The transaction holds
// the store's write lock while it lasts.
func (s *Service) PlanRemoval(ctx context.Context, keys []VersionKey) (*Removal, error) {
	out := &Removal{}
	var names []string
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		out.Removed, names = nil, nil
		removed, shas, err := dropChosen(tx, keys)
		if err != nil {
			return err
		}
		out.Removed = removed
		seen := map[string]bool{}
		for _, sha := range shas {
			objs, err := unneededObjects(tx, sha)
			if err != nil {
				return err
			}
			for _, n := range objs {
				if !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
		}
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return nil, err
	}
	for _, n := range names {
		size, ok, err := s.objectSize(ctx, n)
		if err != nil {
			return nil, fault.Internal(err, "could not check a blob")
		}
		if ok {
			out.Blobs++
			out.BytesFreed += size
		}
	}
	return out, nil
}

// dropChosen deletes the versions keys name that still have their revision
// and returns them, with the SHA-256 of the content their assets held
// (each once).
func dropChosen(tx store.Tx, keys []VersionKey) (removed []VersionKey, shas []string, err error) {
	seen := map[string]bool{}
	for _, k := range keys {
		v, err := currentVersion(tx, k)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			continue
		}
		vshas, err := dropVersion(tx, v)
		if err != nil {
			return nil, nil, err
		}
		for _, sha := range vshas {
			if !seen[sha] {
				seen[sha] = true
				shas = append(shas, sha)
			}
		}
		removed = append(removed, k)
	}
	return removed, shas, nil
}

// objectSize returns the stored size of blob object name, ok false when
// the blob store does not have it.
func (s *Service) objectSize(ctx context.Context, name string) (int64, bool, error) {
	obj, err := s.blobs.Open(ctx, name)
	if errors.Is(err, fault.ErrNotFound) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	defer obj.Close()
	return obj.Size(), true, nil
}

// currentVersion returns the version k names if it still has k's revision
// (and is not an upload in progress), else nil.
func currentVersion(tx store.Tx, k VersionKey) (*store.Version, error) {
	v, err := tx.GetVersion(k.PackageID, k.Version)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if v.Revision != k.Revision || v.Status == StatusUnfinished {
		return nil, nil
	}
	return v, nil
}

// RemoveVersions deletes the versions keys name that still have their
// revision (a version published, changed or deleted since it was chosen is
// left alone), in transactions of a few hundred, each recording its events
// as every engine write does. Then, for the content those versions held,
// it deletes under the content's hash lock, as the orphan collector does
// (collect.go), the blob objects no asset needs any more (unneededObjects:
// content a concurrent upload references again is kept), so that the
// space is free when it returns. Removal counts only the objects actually
// deleted, by their stored size.
func (s *Service) RemoveVersions(ctx context.Context, keys []VersionKey) (*Removal, error) {
	out := &Removal{}
	var shas []string
	seen := map[string]bool{}
	for batch := range slices.Chunk(keys, removalBatch) {
		var removed []VersionKey
		var bshas []string
		err := s.meta.Write(ctx, func(tx store.Tx) (err error) {
			removed, bshas, err = dropChosen(tx, batch)
			return err
		})
		if err != nil {
			// What earlier batches removed stays removed: free its space.
			s.freeBlobs(ctx, shas, out)
			return out, err
		}
		out.Removed = append(out.Removed, removed...)
		for _, sha := range bshas {
			if !seen[sha] {
				seen[sha] = true
				shas = append(shas, sha)
			}
		}
	}
	s.freeBlobs(ctx, shas, out)
	return out, nil
}

// freeBlobs deletes, content by content under its hash lock, the objects
// no asset needs, and counts them in out. What it cannot delete is left to
// the orphan collector and not counted.
func (s *Service) freeBlobs(ctx context.Context, shas []string, out *Removal) {
	ctx = context.WithoutCancel(ctx) // the metadata is gone: give the space back
	for _, sha := range shas {
		if err := s.freeBlob(ctx, sha, out); err != nil {
			s.log.Warn("could not delete a blob retention released; the orphan collector will", "sha256", sha, "err", err)
		}
	}
}

func (s *Service) freeBlob(ctx context.Context, sha string, out *Removal) error {
	unlock, err := s.locks.lock(ctx, sha)
	if err != nil {
		return err
	}
	defer unlock()
	var names []string
	if err := s.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		names, err = unneededObjects(tx, sha)
		return err
	}); err != nil {
		return err
	}
	for _, name := range names {
		size, ok, err := s.objectSize(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := s.blobs.Delete(ctx, name); err != nil {
			return err
		}
		out.Blobs++
		out.BytesFreed += size
	}
	return nil
}
