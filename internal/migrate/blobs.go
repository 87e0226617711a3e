package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// BlobStats count the blobs of a run.
type BlobStats struct {
	// Referenced is the number of distinct blobs the source's assets
	// reference (so far, when the run failed).
	Referenced     int64 `json:"referenced"`
	Copied         int64 `json:"copied"`
	AlreadyPresent int64 `json:"already_present"`
	BytesCopied    int64 `json:"bytes_copied"`
}

// CorruptBlobError is a source blob whose content does not match its name
// or the digests its assets record: the source is damaged, and nothing is
// committed for the blob in the target.
type CorruptBlobError struct {
	SHA256 string
	Want   blob.Digests // recorded by the source metadata
	Got    blob.Digests // of the content read (partial when TooLarge)
	// TooLarge: the content went on past the recorded size, and was not
	// read to its end.
	TooLarge bool
}

func (e *CorruptBlobError) Error() string {
	if e.TooLarge {
		return fmt.Sprintf("source blob %s is corrupt: it holds more than the %d bytes recorded", e.SHA256, e.Want.Size)
	}
	return fmt.Sprintf("source blob %s is corrupt: its content (%d bytes) has SHA-256 %s, recorded: %d bytes",
		e.SHA256, e.Got.Size, e.Got.SHA256, e.Want.Size)
}

// copyBlobs copies every blob that an asset of the source snapshot
// references and the target lacks, Concurrency at a time. Each distinct blob
// is considered once; the set of those seen is the one structure that grows
// with the deployment (64 bytes a blob).
func copyBlobs(ctx context.Context, src store.Tx, from, to blob.Store, opts Options, stats *BlobStats) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	p := &progress{stats: stats, log: opts.Log, last: time.Now()}
	seen := map[string]struct{}{}
	walkErr := eachSourceAsset(src, opts.PageSize, func(a *store.Asset) error {
		if _, ok := seen[a.Blob.SHA256]; ok {
			return nil
		}
		if err := gctx.Err(); err != nil {
			return err // a copy failed (or ctx ended): stop walking
		}
		seen[a.Blob.SHA256] = struct{}{}
		p.referenced()
		want := digestsOf(a.Blob)
		g.Go(func() error { return copyBlob(gctx, from, to, want, p) })
		return nil
	})
	// A failed copy is the cause; the walk then only saw the cancellation.
	if err := g.Wait(); err != nil {
		return err
	}
	return walkErr
}

// eachSourceAsset walks every asset of the snapshot, through every
// repository of every domain.
func eachSourceAsset(src store.Tx, size int, fn func(*store.Asset) error) error {
	repos := func(p store.Page) ([]store.Repository, error) {
		return src.ListRepositories(store.RepositoryFilter{}, p)
	}
	return eachPage(size, repos, store.RepositoryKey, func(r *store.Repository) error {
		pkgs := func(p store.Page) ([]store.Package, error) {
			return src.ListPackages(store.PackageFilter{RepositoryID: r.ID}, p)
		}
		return eachPage(size, pkgs, store.PackageKey, func(pkg *store.Package) error {
			versions := func(p store.Page) ([]store.Version, error) {
				return src.ListVersions(store.VersionFilter{PackageID: pkg.ID, OmitReadme: true, OmitMetadata: true}, p)
			}
			return eachPage(size, versions, versionKey, func(v *store.Version) error {
				assets := func(p store.Page) ([]store.Asset, error) { return src.ListAssets(v.ID, p) }
				return eachPage(size, assets, assetKey, fn)
			})
		})
	})
}

// copyBlob streams one blob from the source into the target's staging area,
// which hashes it on the way, and commits it only when every digest and the
// size match what the source recorded. The blob is never held in memory.
func copyBlob(ctx context.Context, from, to blob.Store, want blob.Digests, p *progress) error {
	present, err := to.Exists(ctx, want.SHA256)
	if err != nil {
		return fmt.Errorf("blob %s: target: %w", want.SHA256, err)
	}
	if present {
		// Only ever committed after verification (here or by an upload).
		p.present()
		return nil
	}
	obj, err := from.Open(ctx, want.SHA256)
	if errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("blob %s: an asset references it but the source blob store does not hold it", want.SHA256)
	}
	if err != nil {
		return fmt.Errorf("blob %s: source: %w", want.SHA256, err)
	}
	defer obj.Close()
	// At most the recorded size (0 means no limit: the digests catch it).
	staged, err := to.Stage(ctx, obj, want.Size)
	if errors.Is(err, fault.ErrValidation) && ctx.Err() == nil {
		return &CorruptBlobError{SHA256: want.SHA256, Want: want, TooLarge: true}
	}
	if err != nil {
		return fmt.Errorf("blob %s: %w", want.SHA256, err)
	}
	if got := staged.Digests(); got != want {
		return errors.Join(&CorruptBlobError{SHA256: want.SHA256, Want: want, Got: got}, staged.Discard())
	}
	created, err := staged.Commit(ctx)
	if err != nil {
		return errors.Join(fmt.Errorf("blob %s: commit: %w", want.SHA256, err), staged.Discard())
	}
	if created {
		p.copied(want.Size)
	} else {
		p.present() // committed meanwhile by someone else
	}
	return nil
}

func digestsOf(b store.Blob) blob.Digests {
	return blob.Digests{SHA256: b.SHA256, SHA512: b.SHA512, SHA1: b.SHA1, MD5: b.MD5, Size: b.Size}
}

// progress updates the stats from the copying goroutines and logs them now
// and then.
type progress struct {
	mu    sync.Mutex
	stats *BlobStats
	log   *slog.Logger
	last  time.Time
}

// progressEvery is how often a long blob copy reports how far it got.
const progressEvery = 10 * time.Second

func (p *progress) update(fn func(s *BlobStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.stats)
	if time.Since(p.last) >= progressEvery {
		p.last = time.Now()
		p.log.Info("copying blobs", "seen", p.stats.Referenced, "copied", p.stats.Copied,
			"already_present", p.stats.AlreadyPresent, "bytes", p.stats.BytesCopied)
	}
}

func (p *progress) referenced() { p.update(func(s *BlobStats) { s.Referenced++ }) }
func (p *progress) present()    { p.update(func(s *BlobStats) { s.AlreadyPresent++ }) }
func (p *progress) copied(n int64) {
	p.update(func(s *BlobStats) { s.Copied++; s.BytesCopied += n })
}
