package rules

import (
	"context"
	"sync/atomic"

	"coffer/internal/store"
)

// Loader keeps the compiled set of every stored rule, compiled again after
// the store's next write (store.Generation), so that a rule set through any
// node takes effect on the next request.
type Loader struct {
	store store.Store
	opts  Options
	cur   atomic.Pointer[loaded]
}

type loaded struct {
	gen uint64
	set *Set
}

// NewLoader returns a Loader of st's rules.
func NewLoader(st store.Store, opts Options) *Loader { return &Loader{store: st, opts: opts} }

// Current returns the set as of the store's current generation.
func (l *Loader) Current(ctx context.Context) (*Set, error) {
	gen := l.store.Generation()
	if c := l.cur.Load(); c != nil && c.gen == gen {
		return c.set, nil
	}
	var list []Rule
	err := l.store.Read(ctx, func(tx store.Tx) (err error) {
		list, err = List(tx, "", "")
		return err
	})
	if err != nil {
		return nil, err
	}
	set, err := Compile(list, l.opts)
	if err != nil {
		return nil, err
	}
	// Read started after gen was taken, so set is current for gen; a
	// racing load of a later generation is not replaced by this one.
	for {
		c := l.cur.Load()
		if c != nil && c.gen > gen || l.cur.CompareAndSwap(c, &loaded{gen: gen, set: set}) {
			return set, nil
		}
	}
}
