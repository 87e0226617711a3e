package retention

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"coffer/internal/store"
)

// DownloadInterval is how often DownloadLog.Run writes the noted downloads.
const DownloadInterval = time.Minute

// downloadBatch bounds the versions written in one transaction.
const downloadBatch = 1000

// DownloadLog implements artifact.DownloadRecorder: it notes the time of
// each version's latest download in memory, and Flush writes them to the
// store (store.Downloads) in batches, every DownloadInterval (Run) and at
// shutdown. A download costs a map write under a mutex, never a store
// write. A process killed between flushes loses at most an interval of
// downloads, which only makes a version look unused that much earlier.
type DownloadLog struct {
	Store store.Store
	Log   *slog.Logger
	Now   func() time.Time // time.Now when nil

	mu      sync.Mutex
	pending map[int64]time.Time
	flushMu sync.Mutex
}

// Downloaded notes that version id was downloaded now.
func (l *DownloadLog) Downloaded(id int64) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	if l.pending == nil {
		l.pending = map[int64]time.Time{}
	}
	l.pending[id] = now
	l.mu.Unlock()
}

// Flush writes the noted downloads. What it could not write is kept for
// the next Flush.
func (l *DownloadLog) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	todo := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(todo))
	for batch := range slices.Chunk(ids, downloadBatch) {
		part := make(map[int64]time.Time, len(batch))
		for _, id := range batch {
			part[id] = todo[id]
		}
		if err := l.Store.Write(ctx, func(tx store.Tx) error { return tx.RecordDownloads(part) }); err != nil {
			l.requeue(todo)
			return err
		}
		for _, id := range batch {
			delete(todo, id)
		}
	}
	return nil
}

// requeue puts back what a failed Flush did not write, unless a newer
// download of the same version was noted meanwhile.
func (l *DownloadLog) requeue(todo map[int64]time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		l.pending = map[int64]time.Time{}
	}
	for id, t := range todo {
		if cur, ok := l.pending[id]; !ok || t.After(cur) {
			l.pending[id] = t
		}
	}
}

// Run flushes every interval (DownloadInterval when <= 0) until ctx ends;
// the last flush is the caller's (at shutdown, before the store closes).
func (l *DownloadLog) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DownloadInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
				l.Log.Warn("could not record downloads; retrying", "err", err)
			}
		}
	}
}
