package postgres

import (
	"context"
	"hash/fnv"
	"sync"
	"time"
)

// Lock implements store.Locker with a session-level advisory lock on a
// connection of its own, held until unlock. The lock id is the 64-bit FNV-1a
// hash of key: two keys may share one, which only makes them wait for each
// other. The process takes a local lock on key first, so that it holds one
// connection per key however many of its goroutines want it. If the
// connection breaks while the lock is held, the server releases the lock
// with the session: a node that loses the database loses its locks.
func (s *Store) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	local, err := s.keys.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	c, err := s.locks.Acquire(ctx)
	if err != nil {
		local()
		return nil, wrap(err, "lock")
	}
	id := lockID(key)
	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		// The lock may have been granted as the wait was cancelled:
		// ending the session releases it in any case.
		c.Conn().Close(context.Background())
		c.Release()
		local()
		return nil, wrap(err, "lock")
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var held bool
			if err := c.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", id).Scan(&held); err != nil || !held {
				c.Conn().Close(ctx)
			}
			c.Release()
			local()
		})
	}, nil
}

// lockID is the advisory lock id of key.
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// keyLocks are process-local locks by key, which a waiter can give up on
// when its context ends. An entry lives while someone holds or wants it.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	held  chan struct{} // holds a token while the lock is taken
	users int
}

func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{held: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
