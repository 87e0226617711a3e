package advisory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/osv"
	"coffer/internal/store"
)

// Setting keys.
const (
	sourcePrefix = "osv/source/"
	syncPrefix   = "osv/sync/"
)

// Config is what Sources needs.
type Config struct {
	Store store.Store
	// Blobs is the blob store itself, not the Retain wrapper.
	Blobs      blob.Store
	Log        *slog.Logger
	Ecosystems osv.Ecosystems
	// SpoolDir holds uploads and downloads while they are checked
	// (os.TempDir() when empty).
	SpoolDir string
	// SyncURLs are downloaded every SyncInterval (24h when zero) and
	// imported under SyncName(URL).
	SyncURLs     []string
	SyncInterval time.Duration
	// Client downloads SyncURLs (nil: one with timeouts of its own). Its
	// redirects are checked against the same rule as the URLs.
	Client *http.Client
}

// SourceInfo describes an imported source: the JSON of its settings row.
type SourceInfo struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Records is the number of records an index keeps of the source: not
	// withdrawn, the first of each id.
	Records int `json:"records"`
	// Ecosystems counts the kept records naming each OSV ecosystem.
	Ecosystems map[string]int `json:"ecosystems"`
	ImportedAt time.Time      `json:"importedAt"`
	ImportedBy string         `json:"importedBy,omitempty"`
}

// Sources is the set of imported sources and their index.
type Sources struct {
	cfg Config
	log *slog.Logger

	cur atomic.Pointer[loaded]

	buildMu    sync.Mutex // one build at a time
	failedKey  string     // rows whose last build failed, and when
	failedAt   time.Time
	firstOnce  sync.Once
	first      chan struct{} // closed after the first load attempt
	firstErr   error
	pendingMu  sync.Mutex
	pending    map[string]int // blobs an import on this node is committing
	syncMu     sync.Mutex     // sync of one URL at a time (stores without Locker)
	syncClient *http.Client
}

// loaded is an index and what it was built from.
type loaded struct {
	index *osv.Index
	stamp uint64
	key   string // rowsKey of the rows it was built from
}

// New returns the sources kept in cfg's stores. Nothing is read until Run
// or a call needs it.
func New(cfg Config) *Sources {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = 24 * time.Hour
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	s := &Sources{cfg: cfg, log: cfg.Log.With("component", "advisory"), first: make(chan struct{}), pending: map[string]int{}}
	s.syncClient = syncClient(cfg.Client)
	s.cur.Store(&loaded{index: osv.NewIndex(cfg.Ecosystems)})
	return s
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidName reports whether name may name a source.
func ValidName(name string) bool {
	return namePattern.MatchString(name) && name != "." && name != ".."
}

func checkName(name string) error {
	if !ValidName(name) {
		return fault.Validation("source name '%s' must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'", printable(name))
	}
	return nil
}

// printable bounds and quotes a name for a message.
func printable(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

// Import validates f, a spooled OSV zip, and stores it as the source name
// (replacing what the name held), then rebuilds this node's index before
// it returns. A zip that cannot be read, holds no record, or holds a record
// osv refuses is a fault.Validation naming the entry; nothing is stored
// then. by is recorded as importedBy (a principal ARN).
func (s *Sources) Import(ctx context.Context, name string, f *os.File, by string) (SourceInfo, error) {
	if err := checkName(name); err != nil {
		return SourceInfo{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return SourceInfo{}, fault.Internal(err, "could not read the spooled source")
	}
	size := st.Size()
	records, ecos, err := scanZip(ctx, f, size)
	if err != nil {
		return SourceInfo{}, err
	}
	info := SourceInfo{Name: name, Size: size, Records: records, Ecosystems: ecos, ImportedBy: by}
	release, err := s.storeBlob(ctx, f, &info)
	if err != nil {
		return SourceInfo{}, err
	}
	defer release()
	info.ImportedAt = time.Now().UTC()
	row, err := json.Marshal(info)
	if err != nil {
		return SourceInfo{}, err
	}
	if err := s.cfg.Store.Write(ctx, func(tx store.Tx) error { return tx.PutSetting(sourcePrefix+name, string(row)) }); err != nil {
		return SourceInfo{}, err
	}
	// The row now keeps the blob (Retain). Between the commit and the row
	// only this node knew of it: should another node have released
	// byte-identical asset content meanwhile, store it again.
	if ok, err := s.cfg.Blobs.Exists(ctx, info.SHA256); err == nil && !ok {
		s.log.Warn("an imported source's blob was deleted before its row was written; storing it again", "source", name, "sha256", info.SHA256)
		again, err := s.storeBlob(ctx, f, &info)
		if err != nil {
			return SourceInfo{}, err
		}
		again() // the row keeps it now
	}
	release()
	s.log.Info("advisory source imported", "source", name, "sha256", info.SHA256, "size", size, "records", records, "by", by)
	if err := s.reload(ctx, true); err != nil {
		// Stored: every node (this one included) builds it at its next poll.
		s.log.Error("advisory index not rebuilt after an import; the next poll tries again", "source", name, "err", err)
	}
	return info, nil
}

// storeBlob stages f from its start and commits it, setting info's SHA256.
// The blob is held (Retain keeps it) until release is called.
func (s *Sources) storeBlob(ctx context.Context, f *os.File, info *SourceInfo) (release func(), err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fault.Internal(err, "could not read the spooled source")
	}
	staged, err := s.cfg.Blobs.Stage(ctx, f, 0)
	if err != nil {
		return nil, fmt.Errorf("advisory: stage source %s: %w", info.Name, err)
	}
	defer staged.Discard()
	dg := staged.Digests()
	if dg.Size != info.Size {
		return nil, fault.Internal(fmt.Errorf("staged %d bytes of %d", dg.Size, info.Size), "the spooled source changed while it was stored")
	}
	info.SHA256 = dg.SHA256
	release = s.hold(dg.SHA256)
	if _, err := staged.Commit(ctx); err != nil {
		release()
		return nil, fmt.Errorf("advisory: commit source %s: %w", info.Name, err)
	}
	return release, nil
}

// hold marks sha as being imported on this node until release is called.
func (s *Sources) hold(sha string) (release func()) {
	s.pendingMu.Lock()
	s.pending[sha]++
	s.pendingMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.pendingMu.Lock()
			if s.pending[sha]--; s.pending[sha] <= 0 {
				delete(s.pending, sha)
			}
			s.pendingMu.Unlock()
		})
	}
}

func (s *Sources) held(sha string) bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	return s.pending[sha] > 0
}

// scanZip reads every record of the zip, as an index would, and counts
// what an index keeps.
func scanZip(ctx context.Context, r io.ReaderAt, size int64) (records int, ecos map[string]int, err error) {
	ids := map[string]struct{}{}
	ecos = map[string]int{}
	read := 0
	err = osv.ReadZip(r, size, func(rec *osv.Record) error {
		if read++; read%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if rec.IsWithdrawn() {
			return nil
		}
		if _, dup := ids[rec.ID]; dup {
			return nil
		}
		ids[rec.ID] = struct{}{}
		records++
		for i, a := range rec.Affected {
			e := a.Package.Ecosystem
			if e == "" {
				continue
			}
			seen := false
			for _, b := range rec.Affected[:i] {
				seen = seen || b.Package.Ecosystem == e
			}
			if !seen {
				ecos[e]++
			}
		}
		return nil
	})
	if cerr := ctx.Err(); cerr != nil {
		return 0, nil, cerr
	}
	if re, ok := errors.AsType[*osv.RecordError](err); ok {
		return 0, nil, fault.Validation("OSV record %s is not valid: %v", printable(re.File), re.Err)
	}
	if err != nil {
		return 0, nil, fault.Validation("the source is not a readable zip file: %v", err)
	}
	if read == 0 {
		return 0, nil, fault.Validation("the zip holds no OSV record (no .json entry)")
	}
	return records, ecos, nil
}

// ImportFrom spools r (at most maxSize bytes; 0: no limit) into the spool
// directory and imports it as Import does.
func (s *Sources) ImportFrom(ctx context.Context, name string, r io.Reader, maxSize int64, by string) (SourceInfo, error) {
	if err := checkName(name); err != nil {
		return SourceInfo{}, err
	}
	f, _, err := s.spool(r, maxSize)
	if err != nil {
		return SourceInfo{}, err
	}
	defer removeSpool(f)
	return s.Import(ctx, name, f, by)
}

// spool copies r into a new file of the spool directory and returns it
// (the caller removes it with removeSpool) with the SHA-256 of what it
// holds. More than maxSize bytes (when positive) is a fault.Validation; a
// failed write is the server's (fault.Storage); a failed read is returned
// as the reader's fault.Error when it is one (a body that is not the one
// signed), else as a fault.Validation.
func (s *Sources) spool(r io.Reader, maxSize int64) (*os.File, string, error) {
	f, err := os.CreateTemp(s.cfg.SpoolDir, "coffer-osv-")
	if err != nil {
		return nil, "", fault.Storage(err, "could not receive the source")
	}
	h := newSHA256()
	fw := &failedWriter{w: f}
	src := r
	if maxSize > 0 {
		src = io.LimitReader(r, maxSize+1)
	}
	n, err := io.Copy(io.MultiWriter(fw, h), src)
	switch {
	case fw.err != nil:
		err = fault.Storage(fw.err, "could not receive the source")
	case err != nil:
		if fe, ok := errors.AsType[*fault.Error](err); ok {
			err = fe
		} else {
			err = fault.Validation("the source could not be read to its end: %v", err)
		}
	case maxSize > 0 && n > maxSize:
		err = fault.Validation("the source is larger than the limit of %d bytes", maxSize)
	}
	if err != nil {
		removeSpool(f)
		return nil, "", err
	}
	return f, h.hex(), nil
}

func removeSpool(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// failedWriter remembers its writer's first error, so that a failed spool
// tells a full disk (the server's) from a broken body (the client's).
type failedWriter struct {
	w   io.Writer
	err error
}

func (f *failedWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil && f.err == nil {
		f.err = err
	}
	return n, err
}

// List returns the sources, ordered by name.
func (s *Sources) List(ctx context.Context) ([]SourceInfo, error) {
	var out []SourceInfo
	err := s.cfg.Store.Read(ctx, func(tx store.Tx) error {
		var err error
		out, err = listRows(tx)
		return err
	})
	if out == nil {
		out = []SourceInfo{}
	}
	return out, err
}

// Get returns the source name; fault.NotFound if there is none.
func (s *Sources) Get(ctx context.Context, name string) (SourceInfo, error) {
	if err := checkName(name); err != nil {
		return SourceInfo{}, err
	}
	var info SourceInfo
	err := s.cfg.Store.Read(ctx, func(tx store.Tx) error {
		v, err := tx.GetSetting(sourcePrefix + name)
		if errors.Is(err, fault.ErrNotFound) {
			return notFound(name)
		} else if err != nil {
			return err
		}
		return json.Unmarshal([]byte(v), &info)
	})
	return info, err
}

// Delete removes the source name (fault.NotFound if there is none) and
// rebuilds this node's index before it returns. Its blob is left to the
// artifact service's orphan collector (see the package comment).
func (s *Sources) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := s.cfg.Store.Write(ctx, func(tx store.Tx) error {
		err := tx.DeleteSetting(sourcePrefix + name)
		if errors.Is(err, fault.ErrNotFound) {
			return notFound(name)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.log.Info("advisory source deleted", "source", name)
	if err := s.reload(ctx, true); err != nil {
		s.log.Error("advisory index not rebuilt after a delete; the next poll tries again", "source", name, "err", err)
	}
	return nil
}

func notFound(name string) error {
	return fault.NotFound("advisory-source", name, "advisory source %s not found", printable(name))
}

// SourcesIn returns the sources a metadata transaction records, each
// naming its blob (coffer backup and coffer fsck count these blobs as
// referenced, as Retain does).
func SourcesIn(tx store.Tx) ([]SourceInfo, error) { return listRows(tx) }

// listRows reads every source row, ordered by name.
func listRows(tx store.Tx) ([]SourceInfo, error) {
	rows, err := tx.ListSettingsPrefix(sourcePrefix)
	if err != nil {
		return nil, err
	}
	out := make([]SourceInfo, 0, len(rows))
	for _, row := range rows {
		var info SourceInfo
		if err := json.Unmarshal([]byte(row.Value), &info); err != nil {
			return nil, fmt.Errorf("advisory: setting %s: %w", row.Key, err)
		}
		out = append(out, info)
	}
	return out, nil
}
