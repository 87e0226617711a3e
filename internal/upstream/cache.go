package upstream

import (
	"container/list"
	"sync"
	"time"
)

// lru is a map bounded by the total cost of its values, evicting the least
// recently used first. It is safe for concurrent use.
type lru[V any] struct {
	mu      sync.Mutex
	max     int64
	cost    int64
	order   *list.List // of *lruEntry[V], most recently used at the front
	entries map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
	cost  int64
}

func newLRU[V any](maxCost int64) *lru[V] {
	return &lru[V]{max: maxCost, order: list.New(), entries: map[string]*list.Element{}}
}

func (l *lru[V]) get(key string) (V, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).value, true
}

// put adds or replaces key. A value costlier than the whole cache is not
// kept (and any older value for key is dropped).
func (l *lru[V]) put(key string, v V, cost int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[key]; ok {
		l.removeElement(e)
	}
	if cost > l.max {
		return
	}
	l.entries[key] = l.order.PushFront(&lruEntry[V]{key: key, value: v, cost: cost})
	l.cost += cost
	for l.cost > l.max {
		l.removeElement(l.order.Back())
	}
}

func (l *lru[V]) remove(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[key]; ok {
		l.removeElement(e)
	}
}

func (l *lru[V]) removeElement(e *list.Element) {
	ent := l.order.Remove(e).(*lruEntry[V])
	delete(l.entries, ent.key)
	l.cost -= ent.cost
}

// negativeCache remembers, per URL, that the upstream recently answered 404
// or 410, until an expiry time. It holds at most max URLs.
type negativeCache struct {
	l *lru[time.Time]
}

func newNegativeCache(max int) *negativeCache {
	return &negativeCache{l: newLRU[time.Time](int64(max))}
}

func (n *negativeCache) add(url string, until time.Time) { n.l.put(url, until, 1) }

// missing reports whether url is known to be missing at now.
func (n *negativeCache) missing(url string, now time.Time) bool {
	until, ok := n.l.get(url)
	if !ok {
		return false
	}
	if !now.Before(until) {
		n.l.remove(url)
		return false
	}
	return true
}
