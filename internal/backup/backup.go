package backup

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
	"coffer/internal/blob/fs"
	"coffer/internal/migrate"
	"coffer/internal/store/sqlite"
)

// Options tune Backup and Restore.
type Options struct {
	// Concurrency is how many blobs are copied at once (default 4).
	Concurrency int
	// Version is written into the manifest.
	Version string
	Log     *slog.Logger
	// MasterKey is, for Restore, the master key as COFFER_MASTER_KEY holds
	// it, used instead of the backup's master.key to open the keys of
	// encrypted domains (their objects are verified by decrypting them).
	MasterKey string
}

func (o Options) withDefaults() Options {
	o.Concurrency = cmp.Or(max(o.Concurrency, 0), 4)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// maxAttempts bounds the snapshots one backup takes (see the package comment).
const maxAttempts = 5

// Report is what a backup did.
type Report struct {
	To string `json:"to"`
	// Snapshots is the number of metadata snapshots taken (more than one
	// when blobs were deleted while they were being copied).
	Snapshots int       `json:"snapshots"`
	Snapshot  time.Time `json:"snapshot"`
	// Blobs is the number of blobs the backup holds; BlobBytes their size.
	Blobs     int   `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
	// Copied blobs were new to the backup directory; the others were there.
	Copied      int   `json:"copied"`
	BytesCopied int64 `json:"bytes_copied"`
	// Pruned blobs were in the backup directory, but the snapshot no longer
	// references them.
	Pruned int      `json:"pruned"`
	Files  []string `json:"files"`
	// Warnings are things the operator must know (no master key file...).
	Warnings []string `json:"warnings,omitempty"`
	Duration string   `json:"duration"`
}

// MissingBlobsError is a backup's failure for blobs the metadata references
// and the data dir lacks, in two consecutive snapshots.
type MissingBlobsError struct{ SHA256 []string }

func (e *MissingBlobsError) Error() string {
	return fmt.Sprintf("%d blob(s) that the metadata references are missing from the data dir (run coffer fsck to see which versions they belong to): %s",
		len(e.SHA256), strings.Join(e.SHA256, ", "))
}

// Backup backs up the deployment src into the directory to (see the package
// comment), while a coffer may be serving src.
func Backup(ctx context.Context, src Source, to string, opts Options) (rep *Report, err error) {
	start := time.Now()
	src, opts = src.WithDefaults(), opts.withDefaults()
	rep = &Report{To: to}
	if err := src.check(); err != nil {
		return rep, err
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return rep, err
	}
	unlock, err := lockDir(to)
	if err != nil {
		return rep, err
	}
	defer unlock()
	// From here on the directory does not look complete.
	if err := os.Remove(filepath.Join(to, manifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, err
	}
	if err := syncDir(to); err != nil {
		return rep, err
	}
	from, err := fs.Inspect(src.Blobs)
	if err != nil {
		return rep, err
	}
	dst, err := fs.New(filepath.Join(to, blobsDir)) // empties its tmp/: we hold the lock
	if err != nil {
		return rep, err
	}

	partial := filepath.Join(to, metadataName+".partial")
	defer os.Remove(partial) // renamed when complete
	var (
		r       refs
		keys    map[encrypted.KeyID]domainKey
		schema  int
		missing map[string]bool
	)
	for {
		rep.Snapshots++
		if err := os.Remove(partial); err != nil && !errors.Is(err, os.ErrNotExist) {
			return rep, err
		}
		rep.Snapshot = time.Now()
		if err := sqlite.SnapshotTo(ctx, src.Metadata, partial); err != nil {
			return rep, err
		}
		if err := os.Chmod(partial, 0o600); err != nil {
			return rep, err
		}
		if r, keys, schema, err = snapshotRefs(ctx, partial, src.loadSealer); err != nil {
			return rep, err
		}
		if snapshotHook != nil {
			snapshotHook(rep.Snapshots)
		}
		now, err := copyBlobs(ctx, from, dst, r, keys, opts.Concurrency, rep)
		if err != nil {
			return rep, err
		}
		if len(now) == 0 {
			break
		}
		var lost []string
		for name := range now {
			if missing[name] {
				lost = append(lost, name)
			}
		}
		if len(lost) > 0 || rep.Snapshots == maxAttempts {
			if len(lost) == 0 {
				lost = slices.Collect(maps.Keys(now))
			}
			slices.Sort(lost)
			for i, name := range lost {
				lost[i] = r[name].describe(name)
			}
			return rep, &MissingBlobsError{SHA256: lost}
		}
		opts.Log.Info("blobs the snapshot references were deleted while it was copied; taking a new snapshot", "blobs", len(now))
		missing = now
	}
	for _, d := range r {
		rep.Blobs++
		rep.BlobBytes += d.Size
	}
	if err := syncFile(partial); err != nil {
		return rep, err
	}
	meta, err := hashFile(partial)
	if err != nil {
		return rep, err
	}
	meta.Path = metadataName
	if err := os.Rename(partial, filepath.Join(to, metadataName)); err != nil {
		return rep, err
	}

	files, warnings, err := copyDataFiles(src, filepath.Join(to, filesDir))
	if err != nil {
		return rep, err
	}
	rep.Warnings = warnings
	for _, f := range files {
		rep.Files = append(rep.Files, f.Path)
	}
	list, err := writeAtomic(to, blobListName, 0o600, func(w io.Writer) error { return writeBlobList(w, r) })
	if err != nil {
		return rep, err
	}
	m := Manifest{Format: ManifestFormat, CofferVersion: opts.Version, Snapshot: rep.Snapshot.UTC(), Completed: time.Now().UTC(),
		SchemaVersion: schema, Metadata: meta, BlobList: list, Blobs: rep.Blobs, BlobBytes: rep.BlobBytes, Files: files}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return rep, err
	}
	if _, err := writeAtomic(to, manifestName, 0o600, func(w io.Writer) error {
		_, err := w.Write(append(mb, '\n'))
		return err
	}); err != nil {
		return rep, err
	}
	// Complete. What the snapshot no longer references goes.
	rep.Pruned, err = prune(ctx, dst, r)
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		return rep, fmt.Errorf("the backup is complete, but removing the blobs it no longer needs failed: %w", err)
	}
	return rep, nil
}

// snapshotHook, when set (by tests), runs after each snapshot is read and
// before its blobs are copied.
var snapshotHook func(snapshot int)

// snapshotRefs reads the blobs a snapshot file references, the keys of its
// encrypted domains and its schema version.
func snapshotRefs(ctx context.Context, path string, sealer func() (artifact.KeySealer, error)) (refs, map[encrypted.KeyID]domainKey, int, error) {
	st, err := sqlite.OpenReadOnly(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer st.Close()
	schema, err := st.SchemaVersion(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	r, keys, err := referenced(ctx, st, sealer)
	return r, keys, schema, err
}

// copyObject copies the object name that want describes, verifying it:
// a plaintext blob through the hasher, an encrypted domain's object raw,
// decrypted on the way (migrate.CopyEncrypted).
func copyObject(ctx context.Context, from, dst blob.Store, name string, want ref, keys map[encrypted.KeyID]domainKey) (bool, error) {
	if !want.Encrypted {
		return migrate.CopyBlob(ctx, from, dst, want.Digests)
	}
	k, ok := keys[want.KeyID]
	if !ok {
		return false, fmt.Errorf("blob %s: no key %s opens it", want.describe(name), want.KeyID)
	}
	return migrate.CopyEncrypted(ctx, from, dst, want.Digests, k.Key)
}

// copyBlobs copies the blobs of r that dst lacks, verifying each, and
// returns those the source lacks. A corrupt source blob fails it.
func copyBlobs(ctx context.Context, from, dst blob.Store, r refs, keys map[encrypted.KeyID]domainKey, concurrency int, rep *Report) (missing map[string]bool, err error) {
	var mu sync.Mutex
	missing = map[string]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for name, want := range r {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			created, err := copyObject(gctx, from, dst, name, want, keys)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, migrate.ErrBlobMissing):
				missing[name] = true
			case err != nil:
				return err
			case created:
				rep.Copied++
				rep.BytesCopied += want.Size
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return missing, ctx.Err()
}

// prune deletes the blobs of dst that r does not name.
func prune(ctx context.Context, dst blob.Store, r refs) (n int, err error) {
	var extra []string
	for info, err := range dst.List(ctx) {
		if err != nil {
			return n, err
		}
		if _, ok := r[info.SHA256]; !ok {
			extra = append(extra, info.SHA256)
		}
	}
	for _, sha := range extra {
		if err := dst.Delete(ctx, sha); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// copyDataFiles copies the data dir's files (dataFiles) that exist into
// dir. The audit log, which a running server appends to, is copied up to
// its last complete line.
func copyDataFiles(src Source, dir string) (files []FileEntry, warnings []string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	for _, name := range dataFiles {
		path := filepath.Join(src.DataDir, name)
		if name == "master.key" {
			path = src.MasterKeyFile
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			os.Remove(filepath.Join(dir, name)) // of an earlier backup
			if name == "master.key" {
				warnings = append(warnings, "no master key file at "+path+": the deployment's key is COFFER_MASTER_KEY; "+
					"keep that key with the backup, the restored deployment needs it")
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if name == "audit.log" {
			b = b[:bytes.LastIndexByte(b, '\n')+1]
		}
		f, err := writeAtomic(dir, name, 0o600, func(w io.Writer) error { _, err := w.Write(b); return err })
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
	}
	return files, warnings, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
