package fs

import (
	"io"
	"os"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Small blobs (tarballs, POMs, checksums: most downloads) are kept in memory
// once read. Serving one from a file costs an open, a stat, a sendfile and a
// close for a few kilobytes; from memory it is one write, which is what
// makes a cached download as cheap as a static file server's. Larger blobs
// are served from their file, with sendfile.
const (
	smallBlobSize  = 64 << 10
	smallBlobCache = 16 << 20
)

// cachedSmall returns the blob from memory, if it is there.
func (s *Store) cachedSmall(sha256 string) (blob.Object, bool) {
	if s.small == nil {
		return nil, false
	}
	b, ok := s.small.Get(sha256, 0)
	if !ok {
		return nil, false
	}
	return b.Open(), true
}

// keepSmall reads the open blob f whole, keeps it in memory unless a Delete
// or Commit ran since gen (it may have removed or refreshed the file that f
// was opened from), and returns it. f is closed.
func (s *Store) keepSmall(sha256 string, f *os.File, fi os.FileInfo, gen uint64) (blob.Object, error) {
	defer f.Close()
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fault.Internal(err, "blob store: read blob")
	}
	b := &blob.Bytes{Data: data, Modified: fi.ModTime()}
	if s.changes.Load() == gen {
		s.small.Put(sha256, 0, b, int64(len(data)))
	}
	return b.Open(), nil
}

// forgetSmall drops a blob from memory: it is being deleted, or committed
// again (a new modification time).
func (s *Store) forgetSmall(sha256 string) {
	if s.small != nil {
		s.changes.Add(1)
		s.small.Delete(sha256)
	}
}
