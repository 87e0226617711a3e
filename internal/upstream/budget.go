package upstream

import (
	"container/list"
	"context"
	"sync"
)

// DefaultDocumentBudget is the size of the budget the Clients of a process
// share by default (Config.Budget).
const DefaultDocumentBudget = 256 << 20

// budgetFree is how many bytes of each document are read without budget:
// the small documents that are most of them never wait.
const budgetFree = 1 << 20

// defaultBudget is the one budget of every Client whose Config.Budget is
// nil, so that all the formats of a process draw on the same bytes.
var defaultBudget = NewBudget(DefaultDocumentBudget)

// Budget bounds the bytes of the upstream documents that Get is reading at
// once (downloading, and decoding WithDecode), across every Client that
// shares it, so that concurrent huge documents (a 120 MiB packument asked
// for by several clients) cannot multiply the memory they take. Each
// document reads its first MiB freely, then draws on the budget as it
// grows (its Content-Length at once when announced); a document that
// cannot get budget waits, bounded by its context (Config.Timeout), while
// the documents ahead of it finish. Budget is released when Get has its
// result. Artifacts (Fetch) stream to the blob store and draw nothing.
//
// Waiters are served in order. A document waiting to grow never blocks
// every other: when all the documents holding budget are waiting to grow,
// the oldest of them is let through beyond the budget (by at most one
// document), so that the budget cannot deadlock.
type Budget struct {
	size int64 // <= 0: unlimited

	mu             sync.Mutex
	used           int64
	holders        int // leases holding budget
	waitingHolders int // of which are waiting for more
	queue          list.List
	// observe, if set, is called after each draw is either served at once
	// (false) or queued (true), outside the lock (tests).
	observe func(queued bool)
}

// NewBudget returns a budget of size bytes; size <= 0 means no limit.
func NewBudget(size int64) *Budget { return &Budget{size: size} }

type budgetWaiter struct {
	n       int64
	holder  bool
	ready   chan struct{}
	granted bool
}

// Used returns the bytes currently drawn.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// acquire draws n bytes, waiting in line while they are not available.
// holder says whether the caller holds budget already.
func (b *Budget) acquire(ctx context.Context, n int64, holder bool) error {
	b.mu.Lock()
	if b.queue.Len() == 0 && b.used+n <= b.size {
		b.used += n
		if !holder {
			b.holders++
		}
		b.mu.Unlock()
		if b.observe != nil {
			b.observe(false)
		}
		return nil
	}
	w := &budgetWaiter{n: n, holder: holder, ready: make(chan struct{})}
	e := b.queue.PushBack(w)
	if holder {
		b.waitingHolders++
	}
	b.dispatch()
	queued := !w.granted
	b.mu.Unlock()
	if b.observe != nil {
		b.observe(queued)
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		if w.granted {
			return nil // granted meanwhile: the caller releases it
		}
		b.queue.Remove(e)
		if holder {
			b.waitingHolders--
		}
		b.dispatch()
		return ctx.Err()
	}
}

// dispatch grants what fits, in order; then, if every holder is waiting
// (none will release), the oldest waiting holder. b.mu is held.
func (b *Budget) dispatch() {
	for e := b.queue.Front(); e != nil; e = b.queue.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			break
		}
		b.grant(e)
	}
	if b.holders > 0 && b.waitingHolders == b.holders {
		for e := b.queue.Front(); e != nil; e = e.Next() {
			if e.Value.(*budgetWaiter).holder {
				b.grant(e)
				return
			}
		}
	}
}

func (b *Budget) grant(e *list.Element) {
	w := b.queue.Remove(e).(*budgetWaiter)
	b.used += w.n
	if w.holder {
		b.waitingHolders--
	} else {
		b.holders++
	}
	w.granted = true
	close(w.ready)
}

func (b *Budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.holders--
	b.dispatch()
}

// lease is one document's draw on a budget.
type lease struct {
	b    *Budget
	max  int64 // the document's size limit; < 0: none
	held int64
}

// newLease returns a lease on b (nil, which draws nothing, when b is nil
// or unlimited) for a document of at most max bytes.
func (b *Budget) newLease(max int64) *lease {
	if b == nil || b.size <= 0 {
		return nil
	}
	return &lease{b: b, max: max}
}

// covers returns how many bytes of the document the lease covers.
func (l *lease) covers() int64 {
	if l == nil || l.held >= l.b.size {
		return -1 // everything: the whole budget is not enough for it
	}
	return budgetFree + l.held
}

// ensure draws enough for total bytes of the document, in steps that at
// least double what is held.
func (l *lease) ensure(ctx context.Context, total int64) error {
	if l == nil {
		return nil
	}
	if l.max >= 0 {
		total = min(total, l.max+1) // one byte more tells the limit is passed
	}
	need := total - budgetFree - l.held
	if need <= 0 || l.held >= l.b.size {
		return nil
	}
	n := max(need, l.held, budgetFree)
	if l.max >= 0 {
		n = min(n, l.max+1-budgetFree-l.held)
	}
	n = min(n, l.b.size-l.held)
	if n <= 0 {
		return nil
	}
	if err := l.b.acquire(ctx, n, l.held > 0); err != nil {
		return err
	}
	l.held += n
	return nil
}

// release gives back what the lease holds.
func (l *lease) release() {
	if l == nil || l.held == 0 {
		return
	}
	l.b.release(l.held)
	l.held = 0
}
