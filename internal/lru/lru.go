// Package lru is a cache of rendered documents bounded in bytes: each value
// is kept with a fingerprint of what it was built from (a lookup with
// another fingerprint misses, so a changed source is never served) and its
// cost; the least recently used go first when the total exceeds the bound.
package lru

import (
	"container/list"
	"sync"
)

// entryOverhead approximates the bookkeeping of one entry, in bytes.
const entryOverhead = 128

// Cache maps string keys to values of type V. It is safe for concurrent use.
type Cache[V any] struct {
	mu      sync.Mutex
	max     int64
	size    int64
	order   *list.List // of *entry[V], most recent first
	entries map[string]*list.Element
}

type entry[V any] struct {
	key  string
	fp   uint64
	val  V
	cost int64
}

// New returns a cache holding at most max bytes of entries.
func New[V any](max int64) *Cache[V] {
	return &Cache[V]{max: max, order: list.New(), entries: map[string]*list.Element{}}
}

// Get returns the value under key if it was built from fingerprint fp.
func (c *Cache[V]) Get(key string, fp uint64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	e, ok := c.entries[key]
	if !ok {
		return zero, false
	}
	ent := e.Value.(*entry[V])
	if ent.fp != fp {
		return zero, false
	}
	c.order.MoveToFront(e)
	return ent.val, true
}

// Put stores val under key, built from fingerprint fp and costing cost
// bytes, replacing what the key held. A value costing more than the whole
// cache is not kept.
func (c *Cache[V]) Put(key string, fp uint64, val V, cost int64) {
	cost += int64(len(key)) + entryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.remove(e)
	}
	if cost > c.max {
		return
	}
	c.entries[key] = c.order.PushFront(&entry[V]{key: key, fp: fp, val: val, cost: cost})
	c.size += cost
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

// Delete drops the value under key, if any.
func (c *Cache[V]) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.remove(e)
	}
}

// Size returns the bytes the entries cost.
func (c *Cache[V]) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

func (c *Cache[V]) remove(e *list.Element) {
	ent := c.order.Remove(e).(*entry[V])
	delete(c.entries, ent.key)
	c.size -= ent.cost
}
