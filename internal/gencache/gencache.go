// Package gencache keeps values derived from the metadata store for as long
// as the store has not committed a write since they were read. The store
// counts its committed write transactions (store.Store.Generation); a value
// remembered at generation g is served only while the count is still g, so a
// hot read path (a token's access key, a cached asset's resolution, the
// policies of a principal) skips the database without ever serving anything
// a committed write has changed.
//
// The rule that makes it safe: read the generation BEFORE reading the store,
// and remember the value under that generation. A write that commits in
// between leaves the value tagged with the older generation, which no later
// reader asks for.
package gencache

import "sync"

// Cache maps keys to values tagged with the generation they were read at.
// It holds at most max entries; when full, an arbitrary entry makes room.
// It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu  sync.RWMutex
	max int
	m   map[K]entry[V]
}

type entry[V any] struct {
	gen uint64
	v   V
}

// New returns a cache of at most size entries (at least 1).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{max: max(1, size), m: map[K]entry[V]{}}
}

// Get returns the value remembered for k if it was read at generation gen.
func (c *Cache[K, V]) Get(k K, gen uint64) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.gen != gen {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put remembers v for k as read at generation gen. An entry from a newer
// generation is kept.
func (c *Cache[K, V]) Put(k K, gen uint64, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[k]
	if ok && old.gen > gen {
		return
	}
	if !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = entry[V]{gen: gen, v: v}
}

// Len returns the number of entries, current or not.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
