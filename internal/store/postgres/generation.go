package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// genTimeout bounds a generation query: Generation has neither a context nor
// an error to return.
const genTimeout = 5 * time.Second

// localBits is the width of the part of a generation value that counts this
// process's ended writes.
const localBits = 24

// Generation implements store.Store: the generation row, shifted, with the
// count of this process's ended write transactions in the low bits, so that
// a rolled-back write, which leaves the row as it was, moves the value too.
func (s *Store) Generation() uint64 {
	db, err := s.generation.batch.do()
	return s.generation.value(db, err == nil, s.ended.Load())
}

// queryGeneration reads the generation row.
func (s *Store) queryGeneration() (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), genTimeout)
	defer cancel()
	var g int64
	err := s.gen.QueryRow(ctx, "SELECT gen FROM coffer_generation").Scan(&g)
	return uint64(g), err
}

// generation turns what the queries find into the values Generation
// returns. The value stays the same while the database generation and the
// local count do; any change, and any failed query, gives a value greater
// than every one returned before, so that no value ever comes back to name
// another state, and nothing cached is served while the database is
// unreachable.
type generation struct {
	batch coalescer[uint64]

	mu     sync.Mutex
	db     uint64 // the state of the last value: database generation...
	local  uint64 // ... and local count
	known  bool   // db was read, not assumed
	latest uint64 // the last value returned
}

// value returns the generation for the database generation db (ok: it was
// read; else the query failed) and the local count.
func (g *generation) value(db uint64, ok bool, local uint64) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ok && g.known && db == g.db && local == g.local {
		return g.latest
	}
	if !ok {
		db = g.db
	}
	g.latest = max(db<<localBits|local&(1<<localBits-1), g.latest+1)
	g.db, g.local, g.known = db, local, ok
	return g.latest
}

// coalescer shares the calls of fn between concurrent callers, group-commit
// style: a caller never takes the result of a call that started before it
// did (a generation read before a write was acknowledged would hide the
// write), so while a call is in flight new callers wait for the next one,
// which starts when the one in flight ends, and share its result.
type coalescer[T any] struct {
	fn func() (T, error)

	mu      sync.Mutex
	running bool      // a call is in flight, or about to start
	next    *batch[T] // the callers waiting for the next call; nil if none
}

// batch is one call of fn and the callers that share it.
type batch[T any] struct {
	start   chan struct{} // closed when the call may start
	claimed atomic.Bool   // one of the callers runs it
	done    chan struct{} // closed when v and err are set
	v       T
	err     error
}

var errPanicked = errors.New("postgres: the shared call panicked")

// do returns the result of a call of fn that started after do was called.
func (c *coalescer[T]) do() (T, error) {
	c.mu.Lock()
	if !c.running {
		c.running = true
		c.mu.Unlock()
		b := &batch[T]{done: make(chan struct{})}
		c.run(b)
		return b.v, b.err
	}
	b := c.next
	if b == nil {
		b = &batch[T]{start: make(chan struct{}), done: make(chan struct{})}
		c.next = b
	}
	c.mu.Unlock()
	<-b.start
	if b.claimed.CompareAndSwap(false, true) {
		c.run(b)
	} else {
		<-b.done
	}
	return b.v, b.err
}

// run calls fn for b, then lets the next batch start, if any.
func (c *coalescer[T]) run(b *batch[T]) {
	defer func() {
		close(b.done)
		c.mu.Lock()
		next := c.next
		c.next = nil
		c.running = next != nil
		c.mu.Unlock()
		if next != nil {
			close(next.start)
		}
	}()
	b.err = errPanicked // unless fn returns
	b.v, b.err = c.fn()
}
