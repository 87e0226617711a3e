package upstream

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"coffer/internal/fault"
)

// group runs one function per key at a time and shares its result with every
// caller that asks for the same key meanwhile: golang.org/x/sync/singleflight,
// plus what an upstream download needs on top of it.
//
//   - The function runs on its own goroutine with a context detached from
//     every caller's cancellation (but carrying the first caller's values),
//     so that one client hanging up does not fail the download for the others.
//   - Each caller waits on its own context; one that gives up leaves at once.
//     When the last caller has left, the function's context is cancelled
//     (cause errAbandoned) and the key is free for a fresh flight.
//   - A panic in the function becomes a fault.KindInternal error for all
//     waiters instead of crashing the process.
type group[T any] struct {
	mu    sync.Mutex
	calls map[string]*call[T]
	// joined, if set, is called after a caller has joined a flight as a
	// follower (tests use it to know every caller is waiting).
	joined func(key string)
}

type call[T any] struct {
	done    chan struct{}
	val     T
	err     error
	waiters int
	cancel  context.CancelCauseFunc
}

// do returns fn's result for key, running fn unless a flight for key is
// already in progress. leader reports whether this caller started the flight.
// If ctx ends first, do returns ctx's error (and leader).
func (g *group[T]) do(ctx context.Context, key string, fn func(context.Context) (T, error)) (v T, leader bool, err error) {
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		c.waiters++
		g.mu.Unlock()
		if g.joined != nil {
			g.joined(key)
		}
		return g.wait(ctx, key, c, false)
	}
	if g.calls == nil {
		g.calls = map[string]*call[T]{}
	}
	fctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	c := &call[T]{done: make(chan struct{}), waiters: 1, cancel: cancel}
	g.calls[key] = c
	g.mu.Unlock()

	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.err = fault.Internal(fmt.Errorf("panic: %v\n%s", r, debug.Stack()), "upstream: panic during a fetch")
			}
			cancel(nil)
			g.mu.Lock()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
			g.mu.Unlock()
			close(c.done)
		}()
		c.val, c.err = fn(fctx)
	}()
	return g.wait(ctx, key, c, true)
}

func (g *group[T]) wait(ctx context.Context, key string, c *call[T], leader bool) (T, bool, error) {
	select {
	case <-c.done:
		return c.val, leader, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			c.cancel(errAbandoned)
			if g.calls[key] == c {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		var zero T
		return zero, leader, ctx.Err()
	}
}
