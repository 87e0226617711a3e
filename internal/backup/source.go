package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"coffer/internal/advisory"
	"coffer/internal/blob"
	"coffer/internal/migrate"
	"coffer/internal/store"
)

// Source is an embedded deployment: where its data dir, SQLite database and
// blob files are.
type Source struct {
	DataDir string
	// Metadata is the SQLite database file (coffer serve's default:
	// <DataDir>/metadata.db).
	Metadata string
	// Blobs is the root of the blob files (default <DataDir>/blobs).
	Blobs string
	// MasterKeyFile is the master key file (default <DataDir>/master.key).
	MasterKeyFile string
}

// WithDefaults fills the empty fields from DataDir.
func (s Source) WithDefaults() Source {
	if s.Metadata == "" {
		s.Metadata = filepath.Join(s.DataDir, "metadata.db")
	}
	if s.Blobs == "" {
		s.Blobs = filepath.Join(s.DataDir, "blobs")
	}
	if s.MasterKeyFile == "" {
		s.MasterKeyFile = filepath.Join(s.DataDir, "master.key")
	}
	return s
}

// ErrNoDatabase is the error for a data dir without its SQLite database:
// not a data dir, or one whose server keeps its metadata in PostgreSQL.
var ErrNoDatabase = errors.New("no SQLite metadata database")

func (s Source) check() error {
	if _, err := os.Stat(s.Metadata); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w at %s: is %s a coffer data dir? A deployment on PostgreSQL and S3 is backed up with pg_dump and "+
			"the object store's own tools (docs/operations.md)", ErrNoDatabase, s.Metadata, s.DataDir)
	} else if err != nil {
		return err
	}
	return nil
}

// dataFiles are the files of a data dir a backup keeps besides metadata
// and blobs (named in the backup's files/ as here). The master key opens
// the sealed secrets; root-credentials is the root key written on first
// start; audit.log is the record of requests.
var dataFiles = []string{"master.key", "root-credentials", "audit.log"}

// refs are the blobs a metadata snapshot references: every asset's (the
// rows store.Assets.BlobReferenced reads) and every imported advisory
// source's (which advisory.Retain keeps from the orphan collector), with
// what the metadata records about each.
type refs map[string]blob.Digests

// referenced reads the blobs st references, in one read transaction.
func referenced(ctx context.Context, st store.Store) (refs, error) {
	out := refs{}
	err := st.Read(ctx, func(tx store.Tx) error {
		clear(out)
		err := migrate.EachAsset(tx, migrate.DefaultPageSize, func(_ *store.Repository, _ *store.Package, _ *store.Version, a *store.Asset) error {
			out[a.Blob.SHA256] = migrate.DigestsOf(a.Blob)
			return nil
		})
		if err != nil {
			return err
		}
		sources, err := advisory.SourcesIn(tx)
		for _, s := range sources {
			if _, ok := out[s.SHA256]; !ok {
				out[s.SHA256] = blob.Digests{SHA256: s.SHA256, Size: s.Size}
			}
		}
		return err
	})
	return out, err
}

// stillReferenced reports whether the metadata references sha now (a fresh
// read transaction).
func stillReferenced(ctx context.Context, st store.Store, sha string) (bool, error) {
	var ok bool
	err := st.Read(ctx, func(tx store.Tx) error {
		var err error
		if ok, err = tx.BlobReferenced(sha); err != nil || ok {
			return err
		}
		sources, err := advisory.SourcesIn(tx)
		for _, s := range sources {
			ok = ok || s.SHA256 == sha
		}
		return err
	})
	return ok, err
}

// affected names, for each of shas, the assets and advisory sources that
// reference it: "domain/repository format namespace/package version asset".
func affected(ctx context.Context, st store.Store, shas map[string]bool) (map[string][]string, error) {
	out := map[string][]string{}
	err := st.Read(ctx, func(tx store.Tx) error {
		domains := map[int64]string{}
		err := migrate.EachAsset(tx, migrate.DefaultPageSize, func(r *store.Repository, p *store.Package, v *store.Version, a *store.Asset) error {
			if !shas[a.Blob.SHA256] {
				return nil
			}
			d, ok := domains[r.DomainID]
			if !ok {
				dom, err := tx.GetDomainByID(r.DomainID)
				if err != nil {
					return err
				}
				d = dom.Name
				domains[r.DomainID] = d
			}
			name := p.Name
			if p.Namespace != "" {
				name = p.Namespace + "/" + p.Name
			}
			out[a.Blob.SHA256] = append(out[a.Blob.SHA256],
				fmt.Sprintf("%s/%s %s %s %s asset %s", d, r.Name, p.Format, name, v.Version, a.Name))
			return nil
		})
		if err != nil {
			return err
		}
		sources, err := advisory.SourcesIn(tx)
		for _, s := range sources {
			if shas[s.SHA256] {
				out[s.SHA256] = append(out[s.SHA256], "advisory source "+s.Name)
			}
		}
		return err
	})
	return out, err
}

// writeAtomic writes what fill writes to dir/name through a temporary file
// in dir, fsynced and renamed into place, and returns its SHA-256 and size.
func writeAtomic(dir, name string, mode os.FileMode, fill func(io.Writer) error) (FileEntry, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return FileEntry{}, err
	}
	defer os.Remove(f.Name()) // after the rename, already gone
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	err = fill(cw)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return FileEntry{}, fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return FileEntry{Path: name, SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// hashFile returns the SHA-256 and size of the file at path.
func hashFile(path string) (FileEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileEntry{}, fmt.Errorf("read %s: %w", path, err)
	}
	return FileEntry{Path: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
