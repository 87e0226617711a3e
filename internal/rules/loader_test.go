package rules_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"coffer/internal/rules"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

const loaderOwner = "111122223333"

// thousandRules are 1,000 valid rules over nine domains: in each, a
// cooldown, a freeze and a severity rule on the domain, three repositories,
// two package groups and an external connection, then blocks (exact with
// ranges, namespace, prefix) and exemptions up to the count.
func thousandRules(tb testing.TB) []rules.Rule {
	tb.Helper()
	var out []rules.Rule
	add := func(r rules.Rule) {
		if err := rules.Validate(&r); err != nil {
			tb.Fatalf("%+v: %v", r, err)
		}
		out = append(out, r)
	}
	for d := 0; len(out) < 1000; d++ {
		dom := fmt.Sprintf("dom-%d", d%9)
		scopes := []rules.Scope{{}, {Repository: "npm-store"}, {Repository: "app"}, {Repository: "team-" + fmt.Sprint(d)},
			{PackageGroup: "/npm/*"}, {PackageGroup: fmt.Sprintf("/pypi//proj-%d~", d)}, {ExternalConnection: "public:npmjs"}}
		for i := range scopes {
			scopes[i].DomainOwner, scopes[i].Domain = loaderOwner, dom
		}
		if d < 9 {
			for _, s := range scopes {
				add(rules.Rule{Scope: s, Kind: rules.KindCooldown, Cooldown: "72h"})
				add(rules.Rule{Scope: s, Kind: rules.KindFreeze, FreezeAt: "2030-01-01T00:00:00Z"})
				add(rules.Rule{Scope: s, Kind: rules.KindSeverity, Severity: "CRITICAL"})
			}
			continue
		}
		for i := 0; i < 30 && len(out) < 1000; i++ {
			s, n := scopes[i%len(scopes)], d*100+i
			switch i % 5 {
			case 0:
				add(rules.Rule{Scope: s, Kind: rules.KindBlock, Package: fmt.Sprintf("/npm//pkg-%05d$", n), Versions: ">=1.0.0,<1.4.2||=2.0.0", Reason: "bench"})
			case 1:
				add(rules.Rule{Scope: s, Kind: rules.KindBlock, Package: fmt.Sprintf("/npm/scope-%d/*", n), Reason: "bench"})
			case 2:
				add(rules.Rule{Scope: s, Kind: rules.KindBlock, Package: fmt.Sprintf("/pypi//proj-%05d~", n), Versions: "<0.9", Reason: "bench"})
			case 3:
				add(rules.Rule{Scope: s, Kind: rules.KindExempt, Package: fmt.Sprintf("/npm//pkg-%05d$", n), Version: "1.2.3", Reason: "bench"})
			default:
				add(rules.Rule{Scope: s, Kind: rules.KindExempt, Package: fmt.Sprintf("/npm/scope-%d/*", n), Reason: "bench"})
			}
		}
	}
	return out
}

func openWithRules(tb testing.TB, list []rules.Rule) store.Store {
	tb.Helper()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "m.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	err = st.Write(context.Background(), func(tx store.Tx) error {
		for i := range list {
			if err := rules.Put(tx, &list[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// unrelatedWrite changes a setting that is no rule, as any write of the
// engine (an upload, a cached download) changes the store's generation.
func unrelatedWrite(tb testing.TB, st store.Store, i int) {
	tb.Helper()
	err := st.Write(context.Background(), func(tx store.Tx) error { return tx.PutSetting("bench/unrelated", fmt.Sprint(i)) })
	if err != nil {
		tb.Fatal(err)
	}
}

// A write that leaves the rules as they were keeps the compiled set; a
// write of a rule, from this loader's store or another process's, is in
// force on the next call.
func TestLoaderKeepsSetAcrossUnrelatedWrites(t *testing.T) {
	ctx := context.Background()
	list := thousandRules(t)
	st := openWithRules(t, list)
	l := rules.NewLoader(st, rules.Options{})
	set1, err := l.Current(ctx)
	if err != nil || set1.Len() != 9 {
		t.Fatalf("Current: %v, %d domains", err, set1.Len())
	}
	unrelatedWrite(t, st, 1)
	if set2, err := l.Current(ctx); err != nil || set2 != set1 {
		t.Fatalf("after an unrelated write: %v, same set %v", err, set2 == set1)
	}
	// A rule replaced in place (same id, same length of JSON).
	r := list[0]
	if r.Kind != rules.KindCooldown || r.Cooldown != "72h0m0s" {
		t.Fatalf("first rule: %+v", r)
	}
	r.Cooldown = "48h0m0s"
	if err := st.Write(ctx, func(tx store.Tx) error { return rules.Put(tx, &r) }); err != nil {
		t.Fatal(err)
	}
	set3, err := l.Current(ctx)
	if err != nil || set3 == set1 || set3.Stamp() == set1.Stamp() {
		t.Fatalf("after a changed rule: %v, same set %v", err, set3 == set1)
	}
	sub := rules.Subject{DomainOwner: loaderOwner, Domain: "dom-0", Repository: "other", Format: "maven", Namespace: "g", Name: "a",
		Version: "1", ViaConnection: "public:maven-central", PublishedAt: time.Now().Add(-60 * time.Hour)}
	if d := set3.Evaluate(sub, time.Now()); !d.Allowed {
		t.Fatalf("the 48h cooldown is not in force: %+v", d)
	}
	// A rule deleted, then written again as it was: a new set each time.
	if err := st.Write(ctx, func(tx store.Tx) error { return rules.Delete(tx, r.DomainOwner, r.Domain, r.ID) }); err != nil {
		t.Fatal(err)
	}
	set4, _ := l.Current(ctx)
	if set4 == set3 {
		t.Fatal("a deleted rule is still compiled")
	}
	if d := set4.Evaluate(sub, time.Now()); !d.Allowed || d.Rule != "" {
		t.Fatalf("without the domain's cooldown: %+v", d)
	}
	if err := st.Write(ctx, func(tx store.Tx) error { return rules.Put(tx, &list[0]) }); err != nil {
		t.Fatal(err)
	}
	set5, _ := l.Current(ctx)
	if set5 == set4 || set5.Stamp() != set1.Stamp() {
		t.Fatal("the rule written back is not compiled")
	}
	if d := set5.Evaluate(sub, time.Now()); d.Allowed {
		t.Fatalf("the 72h cooldown is not in force again: %+v", d)
	}
	// A second loader (another node) sees the same rules.
	if other, _ := rules.NewLoader(st, rules.Options{}).Current(ctx); other.Stamp() != set5.Stamp() {
		t.Fatal("two loaders disagree")
	}
}

// BenchmarkLoaderCurrent measures Loader.Current with 1,000 stored rules:
// "steady" with no write in between (the common case), "after-write" on
// the first call after a write to an unrelated table (the store's
// generation changed, so the loader must make sure the rules did not),
// "after-write-8-callers" eight concurrent calls after such a write,
// "after-rule-write" after a rule changed (a real recompile).
func BenchmarkLoaderCurrent(b *testing.B) {
	ctx := context.Background()
	list := thousandRules(b)
	st := openWithRules(b, list)
	l := rules.NewLoader(st, rules.Options{})
	if _, err := l.Current(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("steady", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Current(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	i := 0
	b.Run("after-write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			i++
			unrelatedWrite(b, st, i)
			b.StartTimer()
			if _, err := l.Current(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Eight requests arriving together after a write, as on a busy node:
	// the time until all eight have their set.
	b.Run("after-write-8-callers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			i++
			unrelatedWrite(b, st, i)
			var wg sync.WaitGroup
			b.StartTimer()
			for range 8 {
				wg.Go(func() {
					if _, err := l.Current(ctx); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
	b.Run("after-rule-write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			i++
			r := list[0]
			r.Cooldown = fmt.Sprintf("%dh0m0s", 1+i%1000)
			if err := st.Write(ctx, func(tx store.Tx) error { return rules.Put(tx, &r) }); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := l.Current(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Concurrent callers, some sharing a read under way, each get a set at
// least as current as the store was when they called: a caller that wrote
// a rule sees it.
func TestLoaderConcurrent(t *testing.T) {
	ctx := context.Background()
	list := thousandRules(t)[:100]
	st := openWithRules(t, list)
	l := rules.NewLoader(st, rules.Options{})
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if g == 0 && i%8 == 0 {
					unrelatedWrite(t, st, i)
				}
				if _, err := l.Current(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 50 {
		r := list[0]
		r.Cooldown = fmt.Sprintf("%dh0m0s", i+1)
		if err := st.Write(ctx, func(tx store.Tx) error { return rules.Put(tx, &r) }); err != nil {
			t.Fatal(err)
		}
		set, err := l.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rules.NewLoader(st, rules.Options{}).Current(ctx) // a fresh read
		if err != nil {
			t.Fatal(err)
		}
		if set.Stamp() != want.Stamp() {
			t.Fatalf("write %d: the set is not the one just written", i)
		}
	}
	close(stop)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// gatedStore holds the first Read until release is closed.
type gatedStore struct {
	store.Store
	entered, release chan struct{}
	once             sync.Once
}

func (g *gatedStore) Read(ctx context.Context, fn func(store.Tx) error) error {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
	}
	return g.Store.Read(ctx, fn)
}

// A caller that waits for another's read gets its own when that read
// fails because its caller gave up.
func TestLoaderWaiterOutlivesCancelledRead(t *testing.T) {
	st := openWithRules(t, thousandRules(t)[:10])
	g := &gatedStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
	l := rules.NewLoader(g, rules.Options{})
	ctx1, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := l.Current(ctx1); first <- err }()
	<-g.entered
	second := make(chan error, 1)
	var set *rules.Set
	go func() {
		var err error
		set, err = l.Current(context.Background())
		second <- err
	}()
	time.Sleep(20 * time.Millisecond) // the second caller waits for the first's read
	cancel()
	close(g.release)
	if err := <-first; err == nil {
		t.Log("the cancelled read finished anyway")
	}
	if err := <-second; err != nil || set.Len() == 0 {
		t.Fatalf("the waiting caller: %v", err)
	}
}
