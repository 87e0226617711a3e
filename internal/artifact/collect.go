package artifact

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"coffer/internal/blob/encrypted"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// Orphan blobs: an upload commits its blob and only then records it in one
// metadata transaction (writeAsset), so a process killed in between leaves a
// blob that no asset references. Nothing else ever will, unless the same
// content is uploaded again; the collector deletes such blobs once they are
// older than a grace period.
//
// Why a blob that an upload is recording is never lost:
//   - writeAsset holds the blob's hash lock from its Commit until its
//     transaction has ended, and the collector deletes only under that lock,
//     after checking inside it (in a fresh read transaction) that no asset
//     references the blob. Whichever takes the lock first, the other sees
//     its effect: the collector finds the reference, or the upload's Commit
//     finds no blob and creates it anew.
//   - A Commit of content already present refreshes the blob's ModTime
//     (blob.Staged.Commit), and the collector reads ModTime again under the
//     lock, so an old orphan that an upload is about to reuse is young again.
//     This also covers FetchFuncs, which commit before ingestFetched takes
//     the lock; should the collector win that race anyway, ingestFetched's
//     existence check under the lock turns it into a retryable error, never
//     into an asset without content.
//   - The grace period is the margin for a wall clock that jumps and for
//     whatever commits outside the engine; the lock does not depend on it.

const (
	// OrphanGrace is how old an unreferenced blob must be before the
	// background collector deletes it.
	OrphanGrace = time.Hour
	// OrphanInterval is how often the background collector runs after its
	// first pass at start-up.
	OrphanInterval = time.Hour
)

// CollectOrphansEvery runs CollectOrphans(ctx, grace) at once and then every
// interval until ctx ends; it returns when ctx ends. Each pass logs what it
// removed; a failed pass is logged and retried at the next interval. An
// interval <= 0 means OrphanInterval.
func (s *Service) CollectOrphansEvery(ctx context.Context, grace, interval time.Duration) {
	if interval <= 0 {
		interval = OrphanInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, _, err := s.CollectOrphans(ctx, grace); err != nil && ctx.Err() == nil {
			s.log.Warn("orphan blob collection failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CollectOrphans deletes the blobs that no asset references and that were
// last committed more than grace ago, and returns how many it deleted and
// their total size. It is safe to run during uploads (see above). A failure
// to delete one blob does not stop the pass; the first error is returned.
func (s *Service) CollectOrphans(ctx context.Context, grace time.Duration) (n int, bytes int64, err error) {
	start := time.Now()
	if st, ok := s.blobs.(stagingCleaner); ok {
		if removed, cerr := st.CleanStaging(ctx, grace); cerr != nil {
			err = cerr
		} else if removed > 0 {
			s.log.Info("removed staged uploads of failed or killed processes", "count", removed)
		}
	}
	cutoff := start.Add(-grace)
	for info, lerr := range s.blobs.List(ctx) {
		if lerr != nil {
			err = cmp.Or(err, lerr)
			break
		}
		if !info.ModTime.Before(cutoff) {
			continue
		}
		if collectHook != nil {
			collectHook(s, info.SHA256)
		}
		deleted, derr := s.collectOne(ctx, info.SHA256, cutoff)
		if derr != nil {
			err = cmp.Or(err, derr)
			if ctx.Err() != nil {
				break
			}
			s.log.Warn("could not collect an orphan blob", "sha256", info.SHA256, "err", derr)
			continue
		}
		if deleted {
			n++
			bytes += info.Size
		}
	}
	if n > 0 {
		s.log.Info("collected orphan blobs", "count", n, "bytes", bytes, "grace", grace.String(), "took", time.Since(start).String())
	} else if err == nil {
		s.log.Debug("no orphan blobs to collect", "grace", grace.String(), "took", time.Since(start).String())
	}
	return n, bytes, err
}

// stagingCleaner is a blob store whose staging area outlives the process
// (an object store): what a killed node staged is removed there, once older
// than the grace period, by whichever node collects next.
type stagingCleaner interface {
	CleanStaging(ctx context.Context, olderThan time.Duration) (removed int, err error)
}

// collectHook, when set (by tests), runs for each candidate blob after the
// listing and before collectOne takes its hash lock.
var collectHook func(s *Service, sha256 string)

// collectOne deletes the object name if, under its hash lock, it is still
// older than cutoff and no asset needs it: a plaintext blob that no
// unencrypted domain references, or an object no domain's key opens. An
// encrypted domain's object (encryption.go) is decided by collectEncrypted.
func (s *Service) collectOne(ctx context.Context, name string, cutoff time.Time) (deleted bool, err error) {
	unlock, err := s.locks.lock(ctx, name)
	if err != nil {
		return false, err
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	if young, err := s.youngOrGone(ctx, name, cutoff); err != nil || young {
		return false, err
	}
	var unneeded []string
	var enc map[int64]encrypted.KeyID
	if err := s.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		if unneeded, err = unneededObjects(tx, name); err != nil {
			return err
		}
		enc, err = encryptedDomains(tx)
		return err
	}); err != nil || !slices.Contains(unneeded, name) {
		return false, err
	}
	domainID, sha, isEnc, err := s.describeObject(ctx, name, enc)
	if err != nil {
		return false, err
	}
	if isEnc {
		unlock()
		locked = false
		return s.collectEncrypted(ctx, name, domainID, sha, cutoff)
	}
	if err := s.blobs.Delete(ctx, name); err != nil {
		return false, err
	}
	return true, nil
}

// collectEncrypted deletes the object name that holds content sha of an
// encrypted domain if, under sha's hash lock (the one uploads to the domain
// take), it is still older than cutoff and the domain references sha no more.
func (s *Service) collectEncrypted(ctx context.Context, name string, domainID int64, sha string, cutoff time.Time) (bool, error) {
	unlock, err := s.locks.lock(ctx, sha)
	if err != nil {
		return false, err
	}
	defer unlock()
	if young, err := s.youngOrGone(ctx, name, cutoff); err != nil || young {
		return false, err
	}
	var referenced bool
	if err := s.meta.Read(ctx, func(tx store.Tx) error {
		_, err := tx.FindBlob(domainID, sha)
		if errors.Is(err, fault.ErrNotFound) {
			return nil
		}
		referenced = err == nil
		return err
	}); err != nil || referenced {
		return false, err
	}
	if err := s.blobs.Delete(ctx, name); err != nil {
		return false, err
	}
	return true, nil
}

// youngOrGone reports whether the object name is absent (deleted meanwhile,
// say a released asset's blob) or was committed again since cutoff.
func (s *Service) youngOrGone(ctx context.Context, name string, cutoff time.Time) (bool, error) {
	obj, err := s.blobs.Open(ctx, name)
	if errors.Is(err, fault.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	mod := obj.ModTime()
	obj.Close()
	return !mod.Before(cutoff), nil
}
