package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 600},              // no collection yet: the cap, a 24 MiB runtime minimum
		{4 * mib, 500},        // goal 24 MiB
		{12 * mib, 100},       // goal 24 MiB
		{16 * mib, 50},        // 1.5 × live is the floor
		{100 * mib, 50},       // far above it
		{2 * mib, 600},        // capped: the runtime's minimum is the floor
		{24 * mib / 100, 600}, // capped
	} {
		if got := percentFor(c.live, 24*mib, 50); got != c.want {
			t.Errorf("percentFor(%d MiB) = %d, want %d", c.live/mib, got, c.want)
		}
	}
	// A floor under the runtime's own minimum leaves the percent alone.
	if got := percentFor(1*mib, 2*mib, 100); got != 100 {
		t.Errorf("percentFor under a 2 MiB floor = %d, want 100", got)
	}
}

// TestFollowsCollections: after a collection with a small live heap the
// percent is raised; once stopped it is what it was before.
func TestFollowsCollections(t *testing.T) {
	t.Setenv("GOGC", "") // the operator's choice wins; none here
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	stop := Start(1<<30, 50)
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if p > 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GC percent still %d after collections with a small heap", p)
		}
		time.Sleep(10 * time.Millisecond) // the finalizer goroutine runs after the collection
	}
	stop()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("after stop: GC percent %d, want the 100 it was before Start", p)
	}
}
