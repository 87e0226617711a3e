package postgres

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/store"
)

// fakeQuery is a query whose result is its own sequence number: the number
// of queries started before it, plus one.
type fakeQuery struct {
	started atomic.Uint64
	delay   time.Duration
}

func (f *fakeQuery) run() (uint64, error) {
	n := f.started.Add(1)
	time.Sleep(f.delay)
	return n, nil
}

// TestCoalescerNeverServesAnOlderQuery has many goroutines call at once,
// repeatedly: each must get the result of a query that started after it
// called, that is a sequence number above the count of queries started when
// it called.
func TestCoalescerNeverServesAnOlderQuery(t *testing.T) {
	f := &fakeQuery{delay: 200 * time.Microsecond}
	c := &coalescer[uint64]{fn: f.run}
	var wg sync.WaitGroup
	var calls atomic.Int64
	for range 50 {
		wg.Go(func() {
			for range 40 {
				before := f.started.Load()
				got, err := c.do()
				calls.Add(1)
				if err != nil {
					t.Error(err)
					return
				}
				if got <= before {
					t.Errorf("got the result of query %d, but %d had started before the call", got, before)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls, %d queries", calls.Load(), f.started.Load())
}

// TestCoalescerSharesQueries checks that concurrent callers cause far fewer
// queries than calls.
func TestCoalescerSharesQueries(t *testing.T) {
	f := &fakeQuery{delay: 2 * time.Millisecond}
	c := &coalescer[uint64]{fn: f.run}
	const callers = 1000
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			<-start
			if _, err := c.do(); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	queries := f.started.Load()
	t.Logf("%d callers, %d queries", callers, queries)
	if queries > callers/20 {
		t.Errorf("%d concurrent callers made %d queries", callers, queries)
	}
	// A lone caller afterwards gets a query of its own, at once.
	if got, _ := c.do(); got != queries+1 {
		t.Errorf("a lone caller got query %d, want %d", got, queries+1)
	}
}

// TestCoalescerErrorsAndPanics checks that an error reaches every caller of
// the batch, and that a panicking query neither hangs the waiters nor stops
// later queries.
func TestCoalescerErrorsAndPanics(t *testing.T) {
	boom := errors.New("boom")
	var mode atomic.Int32 // 0 ok, 1 error, 2 panic
	c := &coalescer[uint64]{fn: func() (uint64, error) {
		time.Sleep(time.Millisecond)
		switch mode.Load() {
		case 1:
			return 0, boom
		case 2:
			panic("query panicked")
		}
		return 7, nil
	}}
	mode.Store(1)
	if _, err := c.do(); !errors.Is(err, boom) {
		t.Errorf("error %v, want %v", err, boom)
	}
	mode.Store(2)
	var wg sync.WaitGroup
	var panics, errs atomic.Int32
	for range 10 {
		wg.Go(func() {
			defer func() {
				if recover() != nil {
					panics.Add(1)
				}
			}()
			if _, err := c.do(); err != nil {
				errs.Add(1)
			}
		})
	}
	wg.Wait()
	if panics.Load() == 0 || panics.Load()+errs.Load() != 10 {
		t.Errorf("%d panics and %d errors for 10 callers of a panicking query", panics.Load(), errs.Load())
	}
	mode.Store(0)
	if v, err := c.do(); v != 7 || err != nil {
		t.Errorf("after a panic: %d, %v", v, err)
	}
}

// TestGenerationValues checks how query results and the local count become
// generation values: stable while nothing changes, new (and greater) at
// any change or failure, never a value given before.
func TestGenerationValues(t *testing.T) {
	var g generation
	seen := map[uint64]bool{}
	last := uint64(0)
	step := func(db uint64, ok bool, local uint64, wantSame bool) {
		t.Helper()
		v := g.value(db, ok, local)
		if wantSame {
			if v != last {
				t.Errorf("value(%d, %v, %d) = %d, want unchanged %d", db, ok, local, v, last)
			}
			return
		}
		if v <= last || seen[v] {
			t.Errorf("value(%d, %v, %d) = %d after %d: want a new, greater value", db, ok, local, v, last)
		}
		seen[v] = true
		last = v
	}
	step(5, true, 0, false)
	step(5, true, 0, true)
	step(6, true, 0, false)              // a write of any process
	step(6, true, 1, false)              // a local rollback
	step(6, false, 1, false)             // unreachable
	step(6, false, 1, false)             // still: new each time
	step(6, true, 1, false)              // back: new, since a write may have been missed
	step(6, true, 1, true)               // stable again
	step(5, true, 1, false)              // an older result racing a newer one: new all the same
	step(6, true, 1<<localBits+1, false) // the local count wraps
}

// BenchmarkGeneration measures Generation against the test server, from one
// goroutine and from many.
func BenchmarkGeneration(b *testing.B) {
	s := openStore(b, freshSchema(b))
	if err := s.Write(b.Context(), func(tx store.Tx) error { return tx.PutSetting("k", "v") }); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			s.Generation()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Generation()
			}
		})
	})
	b.Run("uncoalesced", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.queryGeneration(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
