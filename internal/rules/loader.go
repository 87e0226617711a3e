package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Loader keeps the compiled set of every stored rule, checked again after
// the store's next write (store.Generation), so that a rule set through any
// node takes effect on the next request.
//
// Any write changes the generation, an upload or a cached download as well
// as a rule, so after one the loader reads the rule rows again but compiles
// them only when they differ from the rows of the set it holds: reading
// 1,000 rows costs a small part of decoding and compiling them (see
// BenchmarkLoaderCurrent). Callers that find the generation changed while a
// read that started at or after their generation is under way wait for it
// instead of reading the same rows again.
type Loader struct {
	store store.Store
	opts  Options
	cur   atomic.Pointer[loaded]

	mu     sync.Mutex
	flight *flight // the read under way, if any
}

type loaded struct {
	gen      uint64
	set      *Set
	rows     []store.Setting // what set was compiled from
	revision string          // the revision row read with them ("" if none)
}

// flight is one read of the rules, shared by the callers that need a set
// at least as current as gen.
type flight struct {
	gen  uint64
	done chan struct{}
	set  *Set
	err  error
}

// NewLoader returns a Loader of st's rules.
func NewLoader(st store.Store, opts Options) *Loader { return &Loader{store: st, opts: opts} }

// Current returns the set as of the store's current generation.
func (l *Loader) Current(ctx context.Context) (*Set, error) {
	gen := l.store.Generation()
	// A set loaded at a later generation than gen is current for gen too.
	if c := l.cur.Load(); c != nil && c.gen >= gen {
		return c.set, nil
	}
	l.mu.Lock()
	if c := l.cur.Load(); c != nil && c.gen >= gen {
		l.mu.Unlock()
		return c.set, nil
	}
	if f := l.flight; f != nil && f.gen >= gen {
		l.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err == nil {
			return f.set, nil
		}
		// The read failed, perhaps because its caller gave up: read on
		// this caller's account.
		return l.load(ctx, l.store.Generation())
	}
	// The read starts after this generation was taken, so what it finds is
	// current for it (and for gen, which is not later).
	f := &flight{gen: l.store.Generation(), done: make(chan struct{})}
	l.flight = f
	l.mu.Unlock()

	f.set, f.err = l.load(ctx, f.gen)
	close(f.done)
	l.mu.Lock()
	if l.flight == f {
		l.flight = nil
	}
	l.mu.Unlock()
	return f.set, f.err
}

// load reads the rule rows and returns the set of gen: the one held when
// the rows are those it was compiled from, else a new compilation. A racing
// load of a later generation is not replaced by this one.
func (l *Loader) load(ctx context.Context, gen uint64) (*Set, error) {
	held := l.cur.Load()
	var rows []store.Setting
	var revision string
	unchanged := false
	err := l.store.Read(ctx, func(tx store.Tx) (err error) {
		// One row tells whether any rule changed since the held set.
		revision, err = tx.GetSetting(revisionKey)
		if errors.Is(err, fault.ErrNotFound) {
			revision, err = "", nil
		}
		if err != nil {
			return err
		}
		if held != nil && revision != "" && revision == held.revision {
			unchanged = true
			return nil
		}
		rows, err = tx.ListSettingsPrefix(settingPrefix)
		return err
	})
	if err != nil {
		return nil, err
	}
	next := &loaded{gen: gen, rows: rows, revision: revision}
	if c := held; c != nil && (unchanged || sameRows(c.rows, rows)) {
		next.set, next.rows = c.set, c.rows
	} else {
		list := make([]Rule, len(rows))
		for i, row := range rows {
			if err := json.Unmarshal([]byte(row.Value), &list[i]); err != nil {
				return nil, fmt.Errorf("rule %s: %w", row.Key, err)
			}
		}
		if next.set, err = Compile(list, l.opts); err != nil {
			return nil, err
		}
	}
	for {
		c := l.cur.Load()
		if c != nil && c.gen > gen {
			return next.set, nil
		}
		if l.cur.CompareAndSwap(c, next) {
			return next.set, nil
		}
	}
}

// sameRows reports whether two reads of the rule rows (ordered by key)
// found the same rules.
func sameRows(a, b []store.Setting) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}
