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
	"coffer/internal/blob/encrypted"
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
	// Object is the name of the encrypted object holding the blob, for an
	// encrypted domain's; Cause then tells what did not verify, if anything
	// but the digests.
	Object string
	Cause  error
	Want   blob.Digests // recorded by the source metadata
	Got    blob.Digests // of the content read (partial when TooLarge)
	// TooLarge: the content went on past the recorded size, and was not
	// read to its end.
	TooLarge bool
}

func (e *CorruptBlobError) Unwrap() error { return e.Cause }

func (e *CorruptBlobError) Error() string {
	if e.Object != "" {
		if e.Cause != nil {
			return fmt.Sprintf("source blob %s (encrypted object %s) is corrupt: %v", e.SHA256, e.Object, e.Cause)
		}
		return fmt.Sprintf("source blob %s (encrypted object %s) is corrupt: its plaintext (%d bytes) has SHA-256 %s, recorded: %d bytes",
			e.SHA256, e.Object, e.Got.Size, e.Got.SHA256, e.Want.Size)
	}
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
	keys, err := DomainKeys(src, opts.Sealer)
	if err != nil {
		return err
	}
	seen := map[string]struct{}{}
	walkErr := EachAsset(src, opts.PageSize, func(r *store.Repository, _ *store.Package, _ *store.Version, a *store.Asset) error {
		key, enc := keys[r.DomainID]
		name := a.Blob.SHA256
		if enc {
			name = encrypted.ObjectName(key.ID, name)
		}
		if _, ok := seen[name]; ok {
			return nil
		}
		if err := gctx.Err(); err != nil {
			return err // a copy failed (or ctx ended): stop walking
		}
		seen[name] = struct{}{}
		p.referenced()
		want := digestsOf(a.Blob)
		if enc {
			g.Go(func() error { return countCopy(p, want.Size)(CopyEncrypted(gctx, from, to, want, key)) })
			return nil
		}
		g.Go(func() error { return copyBlob(gctx, from, to, want, p) })
		return nil
	})
	// A failed copy is the cause; the walk then only saw the cancellation.
	if err := g.Wait(); err != nil {
		return err
	}
	return walkErr
}

// EachAsset calls fn for every asset the transaction sees, with its
// repository, package and version, through every repository of every
// domain, size records a time per level (size <= 0: all at once). These are
// the blobs the artifact service keeps (store.Assets.BlobReferenced), which
// coffer backup and coffer fsck also walk.
func EachAsset(tx store.Tx, size int, fn func(*store.Repository, *store.Package, *store.Version, *store.Asset) error) error {
	repos := func(p store.Page) ([]store.Repository, error) {
		return tx.ListRepositories(store.RepositoryFilter{}, p)
	}
	return eachPage(size, repos, store.RepositoryKey, func(r *store.Repository) error {
		pkgs := func(p store.Page) ([]store.Package, error) {
			return tx.ListPackages(store.PackageFilter{RepositoryID: r.ID}, p)
		}
		return eachPage(size, pkgs, store.PackageKey, func(pkg *store.Package) error {
			versions := func(p store.Page) ([]store.Version, error) {
				return tx.ListVersions(store.VersionFilter{PackageID: pkg.ID, OmitReadme: true, OmitMetadata: true}, p)
			}
			return eachPage(size, versions, versionKey, func(v *store.Version) error {
				assets := func(p store.Page) ([]store.Asset, error) { return tx.ListAssets(v.ID, p) }
				return eachPage(size, assets, assetKey, func(a *store.Asset) error { return fn(r, pkg, v, a) })
			})
		})
	})
}

// copyBlob is CopyBlob counting what it did in p.
func copyBlob(ctx context.Context, from, to blob.Store, want blob.Digests, p *progress) error {
	return countCopy(p, want.Size)(CopyBlob(ctx, from, to, want))
}

// countCopy counts in p the outcome of a copy of size bytes.
func countCopy(p *progress, size int64) func(created bool, err error) error {
	return func(created bool, err error) error {
		switch {
		case err != nil:
			return err
		case created:
			p.copied(size)
		default:
			p.present()
		}
		return nil
	}
}

// ErrBlobMissing is CopyBlob's error for a blob the source does not hold.
var ErrBlobMissing = errors.New("the source blob store does not hold it")

// CopyBlob streams one blob from the source into the target's staging area,
// which hashes it on the way, and commits it only when every digest of want
// that is set (SHA256 and Size always) matches; a mismatch is a
// *CorruptBlobError. A blob the target holds already is not read (only ever
// committed after verification, here or by an upload); created is false
// then. The blob is never held in memory. A blob the source lacks is
// ErrBlobMissing.
func CopyBlob(ctx context.Context, from, to blob.Store, want blob.Digests) (created bool, err error) {
	present, err := to.Exists(ctx, want.SHA256)
	if err != nil {
		return false, fmt.Errorf("blob %s: target: %w", want.SHA256, err)
	}
	if present {
		return false, nil
	}
	obj, err := from.Open(ctx, want.SHA256)
	if errors.Is(err, fault.ErrNotFound) {
		return false, fmt.Errorf("blob %s: an asset references it but %w", want.SHA256, ErrBlobMissing)
	}
	if err != nil {
		return false, fmt.Errorf("blob %s: source: %w", want.SHA256, err)
	}
	defer obj.Close()
	// At most the recorded size (0 means no limit: the digests catch it).
	staged, err := to.Stage(ctx, obj, want.Size)
	if errors.Is(err, fault.ErrValidation) && ctx.Err() == nil {
		return false, &CorruptBlobError{SHA256: want.SHA256, Want: want, TooLarge: true}
	}
	if err != nil {
		return false, fmt.Errorf("blob %s: %w", want.SHA256, err)
	}
	if got := staged.Digests(); !Matches(want, got) {
		return false, errors.Join(&CorruptBlobError{SHA256: want.SHA256, Want: want, Got: got}, staged.Discard())
	}
	created, err = staged.Commit(ctx)
	if err != nil {
		return false, errors.Join(fmt.Errorf("blob %s: commit: %w", want.SHA256, err), staged.Discard())
	}
	return created, nil
}

// Matches reports whether content with the digests got is what want
// records: the same SHA-256 and size, and the same other digests where want
// has them.
func Matches(want, got blob.Digests) bool {
	same := func(w, g string) bool { return w == "" || w == g }
	return want.SHA256 == got.SHA256 && want.Size == got.Size &&
		same(want.SHA512, got.SHA512) && same(want.SHA1, got.SHA1) && same(want.MD5, got.MD5)
}

// DigestsOf is the blob.Digests of what an asset records.
func DigestsOf(b store.Blob) blob.Digests { return digestsOf(b) }

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
