package upstream

import (
	"sync"
	"time"
)

// rateGuard aborts a body that arrives slower than min bytes per second over
// a sliding window. Its clock is "upstream time": only the time spent inside
// the body's Read calls counts, so that the guard judges the upstream and not
// whoever consumes the body (a slow client behind a tee, a slow disk). A Read
// that blocks forever still counts, since it is in progress: the guard's own
// goroutine measures it on every tick and calls abort.
type rateGuard struct {
	min    int64
	window time.Duration
	abort  func()
	done   chan struct{}
	once   sync.Once

	mu        sync.Mutex
	up        time.Duration // upstream time of completed Reads
	readStart time.Time     // non-zero while a Read is in progress
	bytes     int64
	samples   []sample // oldest first; samples[0] is the window's base
}

type sample struct {
	up    time.Duration
	bytes int64
}

func startRateGuard(min int64, window time.Duration, abort func()) *rateGuard {
	g := &rateGuard{min: min, window: window, abort: abort, done: make(chan struct{}),
		samples: []sample{{}}}
	tick := max(window/8, time.Millisecond)
	go g.run(tick)
	return g
}

func (g *rateGuard) run(tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-t.C:
			if g.check(time.Now()) {
				g.abort()
				return
			}
		}
	}
}

// check records a sample and reports whether the body is too slow.
func (g *rateGuard) check(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	up := g.up
	if !g.readStart.IsZero() && now.After(g.readStart) {
		up += now.Sub(g.readStart)
	}
	if last := g.samples[len(g.samples)-1]; up == last.up {
		return false // not waiting for the upstream: nothing to judge
	}
	g.samples = append(g.samples, sample{up, g.bytes})
	if up < g.window {
		return false // grace: judge only a full window
	}
	// Keep as base the latest sample at least one window old.
	i := 0
	for i+1 < len(g.samples) && g.samples[i+1].up <= up-g.window {
		i++
	}
	g.samples = g.samples[i:]
	base := g.samples[0]
	elapsed := (up - base.up).Seconds()
	return float64(g.bytes-base.bytes) < float64(g.min)*elapsed
}

func (g *rateGuard) enter() {
	g.mu.Lock()
	g.readStart = time.Now()
	g.mu.Unlock()
}

func (g *rateGuard) exit(n int) {
	g.mu.Lock()
	g.up += time.Since(g.readStart)
	g.readStart = time.Time{}
	g.bytes += int64(n)
	g.mu.Unlock()
}

func (g *rateGuard) stop() { g.once.Do(func() { close(g.done) }) }
