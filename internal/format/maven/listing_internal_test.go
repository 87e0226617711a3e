package maven

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/store"
)

// TestViewGroupNeverServesAViewOlderThanTheRequest: a read that arrives
// while a view is being taken waits for the next one, which sees every
// write that completed before the read arrived; concurrent reads share it.
func TestViewGroupNeverServesAViewOlderThanTheRequest(t *testing.T) {
	var g viewGroup
	var state atomic.Int64 // the "store"
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func(ctx context.Context) (*artifact.PackageView, error) {
		calls.Add(1)
		seen := state.Load() // the view is taken when the call starts
		<-release
		return &artifact.PackageView{Versions: []artifact.VisibleVersion{{Version: store.Version{Revision: string(rune('0' + seen))}}}}, nil
	}
	ctx := context.Background()
	first := make(chan *viewCall)
	go func() { c, _ := g.do(ctx, "k", fn); first <- c }()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	state.Store(1) // a write completes while the first view is in flight
	var wg sync.WaitGroup
	later := make([]*viewCall, 20)
	for i := range later {
		wg.Add(1)
		go func() { defer wg.Done(); later[i], _ = g.do(ctx, "k", fn) }()
	}
	time.Sleep(20 * time.Millisecond) // let them queue behind the first call
	close(release)
	wg.Wait()
	if c := <-first; c.view.Versions[0].Revision != "0" {
		t.Errorf("first read saw %q", c.view.Versions[0].Revision)
	}
	for i, c := range later {
		if c.view.Versions[0].Revision != "1" {
			t.Errorf("read %d, which arrived after the write, got a view without it", i)
		}
		if c != later[0] {
			t.Errorf("read %d did not share the queued call", i)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls for 21 reads, want 2", n)
	}
	left := -1
	for range 100 { // the slot is removed just after the last call's readers are released
		g.mu.Lock()
		left = len(g.m)
		g.mu.Unlock()
		if left == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if left != 0 {
		t.Errorf("%d slots left behind", left)
	}

	// A failing or panicking call fails its readers only.
	_, err := g.do(ctx, "k", func(context.Context) (*artifact.PackageView, error) { return nil, errors.New("boom") })
	if err == nil {
		t.Error("error not returned")
	}
	_, err = g.do(ctx, "k", func(context.Context) (*artifact.PackageView, error) { panic("bug") })
	if err == nil {
		t.Error("panic not turned into an error")
	}
	// A reader whose context ends leaves; the call goes on for the others.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.do(cctx, "k2", func(context.Context) (*artifact.PackageView, error) { return &artifact.PackageView{}, nil }); !errors.Is(err, context.Canceled) {
		// The call may also have completed first; both are fine unless it hangs.
		if err != nil {
			t.Errorf("cancelled reader: %v", err)
		}
	}
}
