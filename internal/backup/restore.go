package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"coffer/internal/blob/encrypted"
	"coffer/internal/blob/fs"
	"coffer/internal/migrate"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// RestoreReport is what a restore did.
type RestoreReport struct {
	From      string    `json:"from"`
	DataDir   string    `json:"data_dir"`
	Snapshot  time.Time `json:"snapshot"`
	Blobs     int       `json:"blobs"`
	BlobBytes int64     `json:"blob_bytes"`
	Files     []string  `json:"files"`
	Duration  string    `json:"duration"`
}

// ErrTargetNotEmpty is Restore's refusal of a data dir that holds anything.
var ErrTargetNotEmpty = errors.New("the target data dir is not empty")

// Restore makes the data dir dataDir, which must not exist or be empty,
// from the backup in dir, verifying every file and blob against the
// manifest first. When dataDir does not exist, it is built beside it and
// renamed into place at the end; an existing empty one gets its metadata.db
// last. Either way a failed restore leaves no servable data dir behind.
func Restore(ctx context.Context, dir, dataDir string, opts Options) (*RestoreReport, error) {
	start := time.Now()
	opts = opts.withDefaults()
	rep := &RestoreReport{From: dir, DataDir: dataDir}
	m, err := ReadManifest(dir)
	if err != nil {
		return rep, err
	}
	rep.Snapshot = m.Snapshot
	work := dataDir
	switch entries, err := os.ReadDir(dataDir); {
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(dataDir))
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return rep, err
		}
		if work, err = os.MkdirTemp(parent, "."+filepath.Base(dataDir)+".restoring-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(work) // renamed away when complete
	case err != nil:
		return rep, err
	case len(entries) > 0:
		return rep, fmt.Errorf("%s: %w", dataDir, ErrTargetNotEmpty)
	}
	if err := os.Chmod(work, 0o700); err != nil {
		return rep, err
	}

	// The blob list and the files, verified.
	if err := verifyFile(filepath.Join(dir, blobListName), m.BlobList); err != nil {
		return rep, err
	}
	list, err := readBlobList(filepath.Join(dir, blobListName))
	if err != nil {
		return rep, err
	}
	if len(list) != m.Blobs {
		return rep, fmt.Errorf("%s lists %d blobs, the manifest %d", blobListName, len(list), m.Blobs)
	}
	for _, f := range m.Files {
		if filepath.Base(f.Path) != f.Path || f.Path == "." || f.Path == ".." {
			return rep, fmt.Errorf("manifest: file %q is not a plain name", f.Path)
		}
		if err := copyVerified(filepath.Join(dir, filesDir, f.Path), work, f.Path, f); err != nil {
			return rep, err
		}
		rep.Files = append(rep.Files, f.Path)
	}
	keys, err := restoreKeys(ctx, dir, work, list, opts.MasterKey)
	if err != nil {
		return rep, err
	}
	if err := restoreBlobs(ctx, filepath.Join(dir, blobsDir), filepath.Join(work, "blobs"), list, keys, opts.Concurrency); err != nil {
		return rep, err
	}
	for _, d := range list {
		rep.Blobs++
		rep.BlobBytes += d.Size
	}
	// The metadata last: without it the data dir is no deployment.
	if err := copyVerified(filepath.Join(dir, metadataName), work, metadataName, m.Metadata); err != nil {
		return rep, err
	}
	if work != dataDir {
		if err := os.Rename(work, dataDir); err != nil {
			return rep, err
		}
		if err := syncDir(filepath.Dir(filepath.Clean(dataDir))); err != nil {
			return rep, err
		}
	}
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// verifyFile checks the file at path against what the manifest records.
func verifyFile(path string, want FileEntry) error {
	got, err := hashFile(path)
	if err != nil {
		return err
	}
	if got.SHA256 != want.SHA256 || got.Size != want.Size {
		return fmt.Errorf("%s is damaged: %d bytes with SHA-256 %s, the manifest records %d bytes with SHA-256 %s",
			path, got.Size, got.SHA256, want.Size, want.SHA256)
	}
	return nil
}

// copyVerified copies src to dir/name (mode 0600, atomically), checking the
// bytes copied against want.
func copyVerified(src, dir, name string, want FileEntry) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	tmp := name + ".restoring"
	got, err := writeAtomic(dir, tmp, 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
	if err != nil {
		return err
	}
	if got.SHA256 != want.SHA256 || got.Size != want.Size {
		os.Remove(filepath.Join(dir, tmp))
		return fmt.Errorf("%s is damaged: %d bytes with SHA-256 %s, the manifest records %d bytes with SHA-256 %s",
			src, got.Size, got.SHA256, want.Size, want.SHA256)
	}
	if err := os.Rename(filepath.Join(dir, tmp), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// restoreKeys opens the keys of the encrypted domains whose objects list
// names, from the backup's metadata snapshot (verified already), with the
// master key in masterKey (COFFER_MASTER_KEY's value) or else the master.key
// restored into work.
func restoreKeys(ctx context.Context, dir, work string, list []listEntry, masterKey string) (map[encrypted.KeyID]domainKey, error) {
	need := false
	for _, e := range list {
		need = need || e.Encrypted
	}
	if !need {
		return nil, nil
	}
	sealer, err := migrate.LoadSealer(filepath.Join(work, "master.key"), masterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if sealer == nil {
		return nil, fmt.Errorf("the backup holds blobs of encrypted domains and no master.key: set COFFER_MASTER_KEY to the deployment's master key: %w", migrate.ErrNoMasterKey)
	}
	st, err := sqlite.OpenReadOnly(filepath.Join(dir, metadataName))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	keys := map[encrypted.KeyID]domainKey{}
	err = st.Read(ctx, func(tx store.Tx) error {
		byDomain, err := migrate.DomainKeys(tx, sealer)
		for id, k := range byDomain {
			keys[k.ID] = domainKey{Key: k, DomainID: id}
		}
		return err
	})
	return keys, err
}

// restoreBlobs copies the listed blobs from the backup's blob files into a
// new blob store at root, each verified against its name and size.
func restoreBlobs(ctx context.Context, from, root string, list []listEntry, keys map[encrypted.KeyID]domainKey, concurrency int) error {
	src, err := fs.Inspect(from)
	if err != nil {
		return err
	}
	dst, err := fs.New(root)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var errs []error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, want := range list {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			_, err := copyObject(gctx, src, dst, want.Name, want.ref, keys)
			var corrupt *migrate.CorruptBlobError
			switch {
			case errors.Is(err, migrate.ErrBlobMissing):
				err = fmt.Errorf("blob %s: the backup lacks it", want.describe(want.Name))
			case errors.As(err, &corrupt):
				err = fmt.Errorf("blob %s in the backup is damaged: %w", want.describe(want.Name), err)
			}
			if err != nil && gctx.Err() == nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return ctx.Err()
}
