package backup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
)

// ManifestFormat names the layout a manifest describes.
const ManifestFormat = "coffer-backup/1"

// The names in a backup directory.
const (
	manifestName = "manifest.json"
	metadataName = "metadata.db"
	blobListName = "blobs.txt"
	filesDir     = "files"
	blobsDir     = "blobs"
)

// Manifest describes a complete backup; it is written last.
type Manifest struct {
	Format string `json:"format"`
	// CofferVersion is the version of the coffer that made the backup.
	CofferVersion string `json:"coffer_version,omitempty"`
	// Snapshot is when the metadata snapshot was taken: it holds what was
	// committed before.
	Snapshot time.Time `json:"snapshot"`
	// Completed is when the backup was complete.
	Completed     time.Time `json:"completed"`
	SchemaVersion int       `json:"schema_version"`
	Metadata      FileEntry `json:"metadata"`
	// BlobList is blobs.txt: one "<sha256> <size>" line per blob, "<sha256>
	// <size> <key id> <object name>" per encrypted domain's object.
	BlobList  FileEntry   `json:"blob_list"`
	Blobs     int         `json:"blobs"`
	BlobBytes int64       `json:"blob_bytes"`
	Files     []FileEntry `json:"files"` // under files/
}

// FileEntry is a file of the backup and what its content must be.
type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ErrIncomplete is the error for a directory without a manifest: a backup
// that was interrupted, or none at all.
var ErrIncomplete = errors.New("no complete backup: manifest.json is missing (an interrupted backup, or not a backup directory)")

// ReadManifest reads and checks the manifest of the backup in dir.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrIncomplete)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: format %q, this coffer reads %q", filepath.Join(dir, manifestName), m.Format, ManifestFormat)
	}
	return &m, nil
}

// writeBlobList writes the lines of r, sorted by object name: "<sha256>
// <size>" for a plaintext blob, "<sha256> <size> <key id> <object name>"
// for an encrypted domain's object (sha256 and size are the plaintext's;
// the object name is encrypted.ObjectName of the key ID and sha256).
func writeBlobList(w io.Writer, r refs) error {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		if d := r[k]; d.Encrypted {
			fmt.Fprintf(bw, "%s %d %s %s\n", d.SHA256, d.Size, d.KeyID, k)
		} else {
			fmt.Fprintf(bw, "%s %d\n", k, d.Size)
		}
	}
	return bw.Flush()
}

// listEntry is a line of blobs.txt: an object's name and what it holds.
type listEntry struct {
	Name string
	ref
}

// readBlobList reads blobs.txt.
func readBlobList(path string) ([]listEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []listEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		bad := fmt.Errorf("%s line %d: want \"<sha256> <size>\" or \"<sha256> <size> <key id> <object name>\"", path, n)
		if len(fields) != 2 && len(fields) != 4 {
			return nil, bad
		}
		sha := fields[0]
		sz, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil || sz < 0 || blob.ValidateSHA256(sha) != nil {
			return nil, bad
		}
		e := listEntry{Name: sha, ref: ref{Digests: blob.Digests{SHA256: sha, Size: sz}}}
		if len(fields) == 4 {
			kid, err := encrypted.ParseKeyID(fields[2])
			if err != nil || fields[3] != encrypted.ObjectName(kid, sha) {
				return nil, bad
			}
			e.Name, e.Encrypted, e.KeyID = fields[3], true, kid
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
