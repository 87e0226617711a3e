package advisory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"coffer/internal/fault"
	"coffer/internal/osv"
	"coffer/internal/store"
)

var (
	// pollInterval is how often Run compares the source rows with what
	// the index was built from.
	pollInterval = 10 * time.Second
	// retryFailed is how long a build that failed is not tried again for
	// the same rows.
	retryFailed = 5 * time.Minute
)

// Index returns the index of every source together: never nil, empty
// before the first load. It is never changed once returned (a new build
// replaces it), so a caller may keep using it.
func (s *Sources) Index() *osv.Index { return s.cur.Load().index }

// Stamp changes whenever the index is replaced (it counts the builds
// swapped in on this node): a value derived from Index is current while
// Stamp is unchanged.
func (s *Sources) Stamp() uint64 { return s.cur.Load().stamp }

// Loaded waits until the first load of Run has been tried and returns its
// error, or ctx's.
func (s *Sources) Loaded(ctx context.Context) error {
	select {
	case <-s.first:
		return s.firstErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run loads the sources, then every 10 s rebuilds the index when the
// source rows changed, and syncs Config.SyncURLs; it returns when ctx ends.
func (s *Sources) Run(ctx context.Context) {
	err := s.reload(ctx, false)
	if err != nil && ctx.Err() == nil {
		s.log.Error("advisory sources not loaded; retrying", "err", err)
	}
	s.firstOnce.Do(func() { s.firstErr = err; close(s.first) })
	if len(s.cfg.SyncURLs) > 0 {
		go s.syncLoop(ctx)
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.reload(ctx, false); err != nil && ctx.Err() == nil {
			s.log.Error("advisory index not rebuilt; the previous one stays in use", "err", err)
		}
	}
}

// rowsKey identifies what an index is built from.
func rowsKey(rows []SourceInfo) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\x00%s\x00%s\n", r.Name, r.SHA256, r.ImportedAt.Format(time.RFC3339Nano))
	}
	return b.String()
}

// reload rebuilds the index when the rows differ from those it was built
// from; after a failed build of the same rows, only when retryFailed has
// passed or force is set.
func (s *Sources) reload(ctx context.Context, force bool) error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	var rows []SourceInfo
	if err := s.cfg.Store.Read(ctx, func(tx store.Tx) error {
		var err error
		rows, err = listRows(tx)
		return err
	}); err != nil {
		return err
	}
	key := rowsKey(rows)
	cur := s.cur.Load()
	if key == cur.key {
		return nil
	}
	if !force && key == s.failedKey && time.Since(s.failedAt) < retryFailed {
		return nil
	}
	start := time.Now()
	idx, err := s.build(ctx, rows)
	if err != nil {
		s.failedKey, s.failedAt = key, time.Now()
		return err
	}
	s.failedKey = ""
	s.cur.Store(&loaded{index: idx, stamp: cur.stamp + 1, key: key})
	s.log.Info("advisory index built", "sources", len(rows), "records", idx.Len(), "took", time.Since(start).String())
	return nil
}

// errMissing is a source whose blob is not in the blob store.
var errMissing = errors.New("its blob is missing")

// build indexes the records of rows, in their (name) order.
func (s *Sources) build(ctx context.Context, rows []SourceInfo) (*osv.Index, error) {
	idx := osv.NewIndex(s.cfg.Ecosystems)
	for _, info := range rows {
		err := s.addSource(ctx, idx, info)
		if errors.Is(err, errMissing) {
			s.log.Error("advisory source skipped: its blob is missing from the blob store; import it again",
				"source", info.Name, "sha256", info.SHA256)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("advisory source %s: %w", info.Name, err)
		}
	}
	return idx, nil
}

// addSource adds every record of one source to idx, reading the zip in
// place when the blob store gives a file, else from a spooled copy
// checked against its SHA-256.
func (s *Sources) addSource(ctx context.Context, idx *osv.Index, info SourceInfo) error {
	obj, err := s.cfg.Blobs.Open(ctx, info.SHA256)
	if errors.Is(err, fault.ErrNotFound) {
		return errMissing
	} else if err != nil {
		return err
	}
	defer obj.Close()
	size := obj.Size()
	ra, ok := obj.Reader().(io.ReaderAt)
	if !ok {
		f, sum, err := s.spool(obj, 0)
		if err != nil {
			return err
		}
		defer removeSpool(f)
		if sum != info.SHA256 {
			return fmt.Errorf("the blob read has SHA-256 %s", sum)
		}
		ra, size = f, info.Size
	}
	skipped, read := 0, 0
	opt := osv.ReadOptions{Skip: func(re *osv.RecordError) {
		if skipped++; skipped == 1 {
			s.log.Warn("advisory source: record skipped", "source", info.Name, "file", re.File, "err", re.Err)
		}
	}}
	err = osv.ReadZipOptions(ra, size, opt, func(rec *osv.Record) error {
		if read++; read%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		idx.Add(rec)
		return nil
	})
	if skipped > 0 {
		s.log.Warn("advisory source: records skipped", "source", info.Name, "count", skipped)
	}
	return err
}

// sha256Writer hashes what is written to it.
type sha256Writer struct{ hash.Hash }

func newSHA256() sha256Writer { return sha256Writer{sha256.New()} }

func (h sha256Writer) hex() string { return hex.EncodeToString(h.Sum(nil)) }
