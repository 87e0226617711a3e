// Package gcfloor keeps the garbage collector from running while the heap
// is small. With GOGC's default of 100 the collector runs each time the
// heap has doubled: a server whose live heap is a few megabytes collects
// many times a second under load, and each collection costs about the
// same (every goroutine's stack is scanned) whatever the heap's size.
// Start sets the heap goal to the larger of a floor and the live heap plus
// a percentage of it, by setting the GC percent after every collection; a
// memory limit (GOMEMLIMIT) still applies on top of it.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// runtimeHeapMinimum is the Go runtime's smallest heap goal at GOGC=100;
// it scales with the percent (4 MiB × percent/100), so the percent is
// capped where it reaches the floor: above that cap the goal would be the
// runtime's minimum, not the floor.
const runtimeHeapMinimum = 4 << 20

// Start adjusts the GC percent after every collection until stop is called:
// the heap goal is max(floor, live heap × (1 + percent/100)). It does
// nothing when GOGC is set: the operator chose.
func Start(floor uint64, percent int) (stop func()) {
	if os.Getenv("GOGC") != "" || floor == 0 || percent <= 0 {
		return func() {}
	}
	t := &tuner{floor: floor, base: percent, last: percent}
	t.before = debug.SetGCPercent(percent)
	t.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t.adjust()
	t.arm()
	return func() {
		t.stopped.Store(true)
		debug.SetGCPercent(t.before)
	}
}

type tuner struct {
	floor   uint64
	base    int              // the percent above the floor
	last    int              // the percent set
	before  int              // the percent before Start
	sample  []metrics.Sample // only touched by the finalizer goroutine after Start
	stopped atomic.Bool
}

// sentinel is garbage as soon as it is made; its finalizer runs after the
// next collection. It is bigger than the tiny allocator's 16 bytes, which
// would otherwise keep it alive with its neighbours.
type sentinel struct{ _ [32]byte }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.stopped.Load() {
			return
		}
		t.adjust()
		t.arm()
	})
}

// adjust sets the percent for the live heap the last collection left.
func (t *tuner) adjust() {
	metrics.Read(t.sample)
	live := uint64(0)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	p := percentFor(live, t.floor, t.base)
	// Small changes are not worth a call: the goal moves with the live
	// heap anyway.
	if p != t.last && (p == t.base || p*10 < t.last*9 || p*9 > t.last*10) {
		debug.SetGCPercent(p)
		t.last = p
	}
}

// percentFor is the GC percent that puts the heap goal of a live heap at
// the floor, or base when that is already above it. Before the first
// collection (live 0) and for a live heap under a fifth of the floor the
// cap applies, where the runtime's own minimum is the floor.
func percentFor(live, floor uint64, base int) int {
	ceiling := max(int(floor*100/runtimeHeapMinimum), base)
	if live == 0 {
		return ceiling
	}
	if live*uint64(100+base)/100 >= floor {
		return base
	}
	return int(min(floor*100/live-100, uint64(ceiling)))
}
