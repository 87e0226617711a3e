package pypi

import (
	"container/list"
	"sync"
)

// lru keeps values by key, each with a fingerprint of what it was built
// from (a lookup with another fingerprint misses) and a cost in bytes;
// the least recently used go first when the total exceeds max.
type lru[V any] struct {
	mu      sync.Mutex
	max     int64
	size    int64
	order   *list.List // of *lruEntry[V], most recent first
	entries map[string]*list.Element
}

type lruEntry[V any] struct {
	key  string
	fp   uint64
	val  V
	cost int64
}

func newLRU[V any](max int64) *lru[V] {
	return &lru[V]{max: max, order: list.New(), entries: map[string]*list.Element{}}
}

func (c *lru[V]) get(key string, fp uint64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	e, ok := c.entries[key]
	if !ok {
		return zero, false
	}
	ent := e.Value.(*lruEntry[V])
	if ent.fp != fp {
		return zero, false
	}
	c.order.MoveToFront(e)
	return ent.val, true
}

func (c *lru[V]) put(key string, fp uint64, val V, cost int64) {
	cost += int64(len(key)) + 128
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.remove(e)
	}
	if cost > c.max {
		return
	}
	c.entries[key] = c.order.PushFront(&lruEntry[V]{key: key, fp: fp, val: val, cost: cost})
	c.size += cost
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

func (c *lru[V]) remove(e *list.Element) {
	ent := c.order.Remove(e).(*lruEntry[V])
	delete(c.entries, ent.key)
	c.size -= ent.cost
}
