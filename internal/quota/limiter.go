// Package quota holds coffer's request-rate limits: token buckets keyed by
// who calls (a principal, a repository, a source address) and what is
// called, in a map of bounded size.
package quota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// BurstSeconds is how many seconds of its rate a bucket holds when no burst
// is given: a build's or a script's short spike (a login per tool, a loop
// publishing a few dozen versions) passes untouched, while a sustained
// excess is throttled and the clients' retries spread it out.
const BurstSeconds = 10

// DefaultMaxBuckets bounds the buckets a Limiter keeps (about 200 bytes
// each).
const DefaultMaxBuckets = 1 << 16

// Rate is a token bucket's refill rate and capacity.
type Rate struct {
	// PerSecond is the sustained rate; 0 means no limit.
	PerSecond float64
	// Burst is the bucket's capacity in requests (at least 1 when
	// PerSecond is set).
	Burst int
}

// Limited reports whether r limits anything.
func (r Rate) Limited() bool { return r.PerSecond > 0 }

// PerSec returns a rate of n requests per second with the default burst
// (BurstSeconds of it, at least 1).
func PerSec(n float64) Rate {
	if n <= 0 {
		return Rate{}
	}
	return Rate{PerSecond: n, Burst: int(min(max(1, math.Ceil(n*BurstSeconds)), math.MaxInt32))}
}

// ParseRate reads "RATE" or "RATE/BURST": requests per second (a decimal
// number, 0 for no limit) and optionally the bucket's capacity.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	num, burst, hasBurst := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return Rate{}, fmt.Errorf("%q is not RATE or RATE/BURST with RATE a number of requests per second", s)
	}
	r := PerSec(n)
	if hasBurst {
		b, err := strconv.Atoi(burst)
		if err != nil || b < 1 {
			return Rate{}, fmt.Errorf("%q: the burst must be a whole number of at least 1", s)
		}
		if r.Limited() {
			r.Burst = b
		}
	}
	return r, nil
}

// Limiter is a set of token buckets by key, each made on first use with the
// rate it is asked with. It keeps at most max buckets: a bucket that has
// refilled completely is the same as a new one and goes first, then the
// least recently used. It is safe for concurrent use.
type Limiter[K comparable] struct {
	now   func() time.Time
	max   int
	clone func(K) K

	mu      sync.Mutex
	buckets map[K]*bucket[K]
	lru     bucket[K] // sentinel: lru.next is the most recently used
}

type bucket[K comparable] struct {
	k          K
	lim        *rate.Limiter
	prev, next *bucket[K]
}

// NewLimiter returns a Limiter keeping at most maxBuckets buckets
// (DefaultMaxBuckets when 0), reading the time from now (time.Now when
// nil). clone, when set, copies a key before it is kept, so that a key
// made of substrings of a request does not keep the whole request alive.
func NewLimiter[K comparable](maxBuckets int, now func() time.Time, clone func(K) K) *Limiter[K] {
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxBuckets
	}
	if now == nil {
		now = time.Now
	}
	l := &Limiter[K]{now: now, max: maxBuckets, clone: clone, buckets: map[K]*bucket[K]{}}
	l.lru.next, l.lru.prev = &l.lru, &l.lru
	return l
}

// Allow takes a token from k's bucket, made with r if it is new. When the
// bucket is empty it takes nothing and returns false and the time until a
// token is there. A rate that limits nothing allows everything.
func (l *Limiter[K]) Allow(k K, r Rate) (bool, time.Duration) {
	if !r.Limited() {
		return true, 0
	}
	return l.allowAt(k, r, l.now())
}

// allowAt is Allow at a time the caller read (one clock read for several
// buckets).
func (l *Limiter[K]) allowAt(k K, r Rate, now time.Time) (bool, time.Duration) {
	if !r.Limited() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k]
	if b == nil {
		l.makeRoom(now)
		if l.clone != nil {
			k = l.clone(k)
		}
		b = &bucket[K]{k: k, lim: rate.NewLimiter(rate.Limit(r.PerSecond), max(1, r.Burst))}
		l.buckets[k] = b
		l.pushFront(b)
	} else if l.lru.next != b {
		b.unlink()
		l.pushFront(b)
	}
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.lim.TokensAt(now)
	return false, time.Duration(missing / float64(b.lim.Limit()) * float64(time.Second))
}

// Len returns the number of buckets kept.
func (l *Limiter[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// makeRoom drops the least recently used buckets that are full again (at
// most a few per call, so that a call stays cheap), then, at the bound,
// the least recently used one whatever its state: its subject starts
// afresh, a small leniency that keeps memory bounded however many
// subjects call.
func (l *Limiter[K]) makeRoom(now time.Time) {
	for range 2 {
		b := l.lru.prev
		if b == &l.lru || b.lim.TokensAt(now) < float64(b.lim.Burst()) {
			break
		}
		l.remove(b)
	}
	if len(l.buckets) >= l.max {
		l.remove(l.lru.prev)
	}
}

func (l *Limiter[K]) remove(b *bucket[K]) {
	b.unlink()
	delete(l.buckets, b.k)
}

func (l *Limiter[K]) pushFront(b *bucket[K]) {
	b.prev, b.next = &l.lru, l.lru.next
	l.lru.next.prev = b
	l.lru.next = b
}

func (b *bucket[K]) unlink() {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

// RetryAfter is the whole number of seconds a client is told to wait for
// a delay: at least 1, as Retry-After cannot say less.
func RetryAfter(d time.Duration) int {
	return int(max(1, math.Ceil(d.Seconds())))
}
