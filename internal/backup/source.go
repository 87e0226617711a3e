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
	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
	"coffer/internal/fault"
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
	// MasterKey is the master key as COFFER_MASTER_KEY holds it (base64),
	// which is used instead of the file when set. It opens the data keys
	// of encrypted domains, to verify their objects.
	MasterKey string
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
// what the metadata records about each, by the name of the object that
// holds it: the plaintext SHA-256, or for an asset of an encrypted domain
// encrypted.ObjectName of the domain's key ID and that SHA-256.
type refs map[string]ref

// ref is a referenced object: the digests of its (plaintext) content, and
// for an encrypted domain's object the domain's key ID.
type ref struct {
	blob.Digests
	Encrypted bool
	KeyID     encrypted.KeyID
}

// describe names a ref for a message.
func (r ref) describe(name string) string {
	if r.Encrypted {
		return fmt.Sprintf("%s (encrypted object %s)", r.SHA256, name)
	}
	return name
}

// domainKey is an encrypted domain's data key and ID.
type domainKey struct {
	Key      encrypted.Key
	DomainID int64
}

// loadSealer is the sealer of the source's master key (COFFER_MASTER_KEY's
// value in MasterKey, else the key file), nil without one.
func (s Source) loadSealer() (artifact.KeySealer, error) {
	return migrate.LoadSealer(s.MasterKeyFile, s.MasterKey)
}

// referenced reads the blobs st references, in one read transaction, and
// the keys of the encrypted domains by key ID, opened with the sealer that
// sealer loads when there are some (migrate.ErrNoMasterKey if it is nil).
func referenced(ctx context.Context, st store.Store, sealer func() (artifact.KeySealer, error)) (refs, map[encrypted.KeyID]domainKey, error) {
	out := refs{}
	keys := map[encrypted.KeyID]domainKey{}
	err := st.Read(ctx, func(tx store.Tx) error {
		clear(out)
		clear(keys)
		enc, err := artifact.EncryptedDomains(tx)
		if err != nil {
			return err
		}
		var byDomain map[int64]encrypted.Key
		if len(enc) > 0 {
			s, err := sealer()
			if err != nil {
				return fmt.Errorf("master key: %w", err)
			}
			if byDomain, err = migrate.DomainKeys(tx, s); err != nil {
				return err
			}
		}
		for id, k := range byDomain {
			keys[k.ID] = domainKey{Key: k, DomainID: id}
		}
		err = migrate.EachAsset(tx, migrate.DefaultPageSize, func(r *store.Repository, _ *store.Package, _ *store.Version, a *store.Asset) error {
			if k, ok := byDomain[r.DomainID]; ok {
				out[encrypted.ObjectName(k.ID, a.Blob.SHA256)] = ref{Digests: migrate.DigestsOf(a.Blob), Encrypted: true, KeyID: k.ID}
				return nil
			}
			out[a.Blob.SHA256] = ref{Digests: migrate.DigestsOf(a.Blob)}
			return nil
		})
		if err != nil {
			return err
		}
		sources, err := advisory.SourcesIn(tx)
		for _, s := range sources {
			if _, ok := out[s.SHA256]; !ok {
				out[s.SHA256] = ref{Digests: blob.Digests{SHA256: s.SHA256, Size: s.Size}}
			}
		}
		return err
	})
	return out, keys, err
}

// stillReferenced reports whether the metadata references the object now
// (a fresh read transaction): the plaintext blob want.SHA256, or want's
// encrypted domain's object of it.
func stillReferenced(ctx context.Context, st store.Store, want ref, keys map[encrypted.KeyID]domainKey) (bool, error) {
	var ok bool
	err := st.Read(ctx, func(tx store.Tx) error {
		if want.Encrypted {
			k, known := keys[want.KeyID]
			if !known {
				return nil
			}
			_, err := tx.FindBlob(k.DomainID, want.SHA256)
			if ok = err == nil; errors.Is(err, fault.ErrNotFound) {
				err = nil
			}
			return err
		}
		enc, err := artifact.EncryptedDomains(tx)
		if err != nil {
			return err
		}
		if ok, err = tx.BlobReferenced(want.SHA256); err != nil {
			return err
		}
		if ok && len(enc) > 0 {
			// Maybe only encrypted domains reference it.
			ok = false
			err = migrate.EachAsset(tx, migrate.DefaultPageSize, func(r *store.Repository, _ *store.Package, _ *store.Version, a *store.Asset) error {
				if _, e := enc[r.DomainID]; !e && a.Blob.SHA256 == want.SHA256 {
					ok = true
				}
				return nil
			})
			if err != nil || ok {
				return err
			}
		} else if ok {
			return nil
		}
		sources, err := advisory.SourcesIn(tx)
		for _, s := range sources {
			ok = ok || s.SHA256 == want.SHA256
		}
		return err
	})
	return ok, err
}

// objectRef tells what a present object is: an encrypted domain's object
// (under a key of keys: its header names the key and its trailer, which
// authenticates, the plaintext), or else a plaintext blob named by its
// SHA-256.
func objectRef(ctx context.Context, bs blob.Store, name string, keys map[encrypted.KeyID]domainKey) (ref, error) {
	if len(keys) > 0 {
		d, ok, err := encrypted.Describe(ctx, bs, name, func(id encrypted.KeyID) (encrypted.Key, bool) {
			k, ok := keys[id]
			return k.Key, ok
		})
		if err != nil {
			return ref{}, err
		}
		if ok {
			return ref{Digests: blob.Digests{SHA256: d.SHA256, Size: d.Size}, Encrypted: true, KeyID: d.KeyID}, nil
		}
	}
	return ref{Digests: blob.Digests{SHA256: name}}, nil
}

// affected names, for each of the objects names, the assets and advisory
// sources that reference it: "domain/repository format namespace/package
// version asset".
func affected(ctx context.Context, st store.Store, names map[string]bool) (map[string][]string, error) {
	out := map[string][]string{}
	err := st.Read(ctx, func(tx store.Tx) error {
		enc, err := artifact.EncryptedDomains(tx)
		if err != nil {
			return err
		}
		domains := map[int64]string{}
		err = migrate.EachAsset(tx, migrate.DefaultPageSize, func(r *store.Repository, p *store.Package, v *store.Version, a *store.Asset) error {
			name := a.Blob.SHA256
			if kid, ok := enc[r.DomainID]; ok {
				name = encrypted.ObjectName(kid, name)
			}
			if !names[name] {
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
			pkg := p.Name
			if p.Namespace != "" {
				pkg = p.Namespace + "/" + p.Name
			}
			out[name] = append(out[name],
				fmt.Sprintf("%s/%s %s %s %s asset %s", d, r.Name, p.Format, pkg, v.Version, a.Name))
			return nil
		})
		if err != nil {
			return err
		}
		sources, err := advisory.SourcesIn(tx)
		for _, s := range sources {
			if names[s.SHA256] {
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
