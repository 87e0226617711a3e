package quota

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// allowed counts how many of n calls at the current time pass.
func allowed[K comparable](l *Limiter[K], k K, r Rate, n int) int {
	ok := 0
	for range n {
		if a, _ := l.Allow(k, r); a {
			ok++
		}
	}
	return ok
}

func TestBucketMath(t *testing.T) {
	c := newClock()
	l := NewLimiter[string](0, c.now, nil)
	r := Rate{PerSecond: 40, Burst: 400}
	if got := allowed(l, "p", r, 500); got != 400 {
		t.Fatalf("a burst of 500 at once: %d allowed, want the bucket's 400", got)
	}
	ok, wait := l.Allow("p", r)
	if ok || wait != 25*time.Millisecond {
		t.Fatalf("empty bucket: ok %v, wait %v; want a refusal and 25ms (1/40 s)", ok, wait)
	}
	c.advance(wait)
	if ok, _ := l.Allow("p", r); !ok {
		t.Fatal("refused after the advertised wait")
	}
	// One second refills 40 tokens, no more.
	c.advance(time.Second)
	if got := allowed(l, "p", r, 100); got != 40 {
		t.Fatalf("after 1 s: %d allowed, want 40", got)
	}
	// A long idle time refills up to the burst only.
	c.advance(time.Hour)
	if got := allowed(l, "p", r, 1000); got != 400 {
		t.Fatalf("after an hour: %d allowed, want 400", got)
	}
	// Keys are independent.
	if got := allowed(l, "q", r, 10); got != 10 {
		t.Fatalf("another key: %d of 10 allowed", got)
	}
	// A fractional part of a token waits for the rest.
	c.advance(10 * time.Millisecond) // 0.4 token
	if ok, wait := l.Allow("p", r); ok || wait != 15*time.Millisecond {
		t.Fatalf("0.4 token: ok %v wait %v, want a refusal and 15ms", ok, wait)
	}
}

func TestSustainedRate(t *testing.T) {
	c := newClock()
	l := NewLimiter[string](0, c.now, nil)
	r := Rate{PerSecond: 10, Burst: 1}
	got := 0
	// 100 calls per second for 10 s: the rate, plus the first token.
	for range 1000 {
		if ok, _ := l.Allow("p", r); ok {
			got++
		}
		c.advance(10 * time.Millisecond)
	}
	if got < 100 || got > 101 {
		t.Fatalf("%d allowed in 10 s at 10/s with burst 1", got)
	}
}

func TestUnlimitedRate(t *testing.T) {
	l := NewLimiter[string](1, nil, nil)
	if got := allowed(l, "p", Rate{}, 1000); got != 1000 {
		t.Fatalf("a zero rate refused %d calls", 1000-got)
	}
	if l.Len() != 0 {
		t.Fatalf("a zero rate made %d buckets", l.Len())
	}
}

// TestEvictionBound: many subjects never keep more than max buckets; the
// full ones go before the busy ones.
func TestEvictionBound(t *testing.T) {
	c := newClock()
	const max = 100
	l := NewLimiter[string](max, c.now, nil)
	r := Rate{PerSecond: 1, Burst: 2}
	// A busy subject: its bucket is empty.
	allowed(l, "busy", r, 5)
	for i := range 10 * max {
		l.Allow(fmt.Sprint("s", i), r)
		if n := l.Len(); n > max {
			t.Fatalf("%d buckets after %d subjects, bound %d", n, i+1, max)
		}
	}
	// The busy subject was used least recently: at the bound it went too,
	// and starts afresh (the leniency the bound costs).
	if got := allowed(l, "busy", r, 5); got != 2 {
		t.Fatalf("evicted subject: %d allowed, want a fresh bucket's 2", got)
	}

	// Buckets that are full again go first: after an idle time every
	// bucket but the busy one has refilled, and new subjects replace them
	// without the map growing, the busy one kept.
	c.advance(time.Minute)
	allowed(l, "busy", r, 5)
	before := l.Len()
	for i := range max - 1 {
		l.Allow(fmt.Sprint("t", i), r)
	}
	if l.Len() > before {
		t.Fatalf("idle buckets were kept: %d buckets, %d before", l.Len(), before)
	}
	if got := allowed(l, "busy", r, 1); got != 0 {
		t.Fatal("a busy bucket was evicted while idle ones were there")
	}
}

func TestIdleBucketsAreDropped(t *testing.T) {
	c := newClock()
	l := NewLimiter[string](0, c.now, nil)
	r := Rate{PerSecond: 100, Burst: 10}
	for i := range 1000 {
		l.Allow(fmt.Sprint("s", i), r)
	}
	c.advance(time.Second) // every bucket is full again
	for i := range 1000 {
		l.Allow(fmt.Sprint("t", i), r)
	}
	// Each new bucket dropped up to two idle ones: the old thousand are
	// gone.
	if n := l.Len(); n > 1000 {
		t.Fatalf("%d buckets: idle ones were not dropped", n)
	}
}

func TestCloneKeys(t *testing.T) {
	big := strings.Repeat("x", 1<<20) + "domain"
	l := NewLimiter(0, nil, cloneRepoKey)
	k := RepoKey{Owner: "111122223333", Domain: big[len(big)-6:], Repository: "r"}
	l.Allow(k, PerSec(1))
	for kept := range l.buckets {
		if kept != k {
			t.Fatal("the kept key differs")
		}
		if strings.Contains(big, kept.Domain) && &[]byte(kept.Domain)[0] == &[]byte(big[len(big)-6:])[0] {
			t.Fatal("not cloned")
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"40":      {PerSecond: 40, Burst: 400},
		"0.5":     {PerSecond: 0.5, Burst: 5},
		"0.01":    {PerSecond: 0.01, Burst: 1},
		"10/3":    {PerSecond: 10, Burst: 3},
		" 2.5/1 ": {PerSecond: 2.5, Burst: 1},
		"0":       {},
		"0/5":     {},
		"1e300":   {PerSecond: 1e300, Burst: math.MaxInt32},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "10/0", "10/x", "Inf", "NaN", "1/2/3"} {
		if r, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %+v, want an error", in, r)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 25 * time.Second: 25} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestAPIClasses(t *testing.T) {
	c := newClock()
	api := map[string]Rate{"GetAuthorizationToken": {PerSecond: 1, Burst: 2}, Reads: {PerSecond: 1, Burst: 3}, Writes: {PerSecond: 1, Burst: 4}, STS: {PerSecond: 1, Burst: 5}}
	l := New(Config{API: api, Now: c.now})
	count := func(principal, op string) int {
		n := 0
		for range 10 {
			if ok, _ := l.API(principal, op); ok {
				n++
			}
		}
		return n
	}
	if n := count("alice", "GetAuthorizationToken"); n != 2 {
		t.Errorf("own rate: %d", n)
	}
	// Reads share one bucket, apart from the operations with their own.
	if n := count("alice", "DescribeDomain") + count("alice", "ListRepositories"); n != 3 {
		t.Errorf("reads: %d", n)
	}
	if n := count("alice", "CreateDomain") + count("alice", "PutPackageOriginConfiguration"); n != 4 {
		t.Errorf("writes: %d", n)
	}
	if n := count("bob", "DescribeDomain"); n != 3 {
		t.Errorf("another principal's reads: %d", n)
	}
	if n := count("alice", STS); n != 5 {
		t.Errorf("sts: %d", n)
	}
	if n := count("alice", IAM); n != 10 {
		t.Errorf("iam without a rate: %d of 10 allowed", n)
	}
	// An operation given 0 has no limit, not its class's.
	l = New(Config{API: map[string]Rate{"GetAuthorizationToken": {}, Reads: {PerSecond: 1, Burst: 1}}, Now: c.now})
	if n := count("carol", "GetAuthorizationToken"); n != 10 {
		t.Errorf("an operation without a limit: %d of 10 allowed", n)
	}
	if l.DataPlaneLimited() {
		t.Error("data plane limited without a data-plane rate")
	}
	if ok, _ := l.DataPlane("alice", RepoKey{}); !ok {
		t.Error("data plane refused without a data-plane rate")
	}
}

func TestDataPlane(t *testing.T) {
	c := newClock()
	l := New(Config{DataPlane: Rate{PerSecond: 1, Burst: 3}, Repository: Rate{PerSecond: 1, Burst: 4}, Now: c.now})
	if !l.DataPlaneLimited() {
		t.Fatal("not limited")
	}
	if ok, _ := l.API("alice", "ListPackages"); !ok {
		t.Fatal("API limited without API rates")
	}
	repo := RepoKey{"111122223333", "d", "r"}
	n := 0
	for range 10 {
		if ok, _ := l.DataPlane("alice", repo); ok {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("principal bucket: %d", n)
	}
	// The repository had 4 tokens, alice took 3.
	n = 0
	for range 10 {
		if ok, _ := l.DataPlane("bob", repo); ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("repository bucket: %d", n)
	}
	if ok, _ := l.DataPlane("carol", RepoKey{"111122223333", "d", "other"}); !ok {
		t.Fatal("another repository refused")
	}
}

func TestNilLimits(t *testing.T) {
	var l *Limits
	if ok, _ := l.API("a", "ListPackages"); !ok {
		t.Fatal("nil refused an API call")
	}
	if ok, _ := l.DataPlane("a", RepoKey{}); !ok || l.DataPlaneLimited() {
		t.Fatal("nil limits the data plane")
	}
	if ok, _ := l.Unauthenticated("127.0.0.1"); !ok {
		t.Fatal("nil refused an unauthenticated call")
	}
	if New(Config{API: map[string]Rate{Reads: {}}}) != nil {
		t.Fatal("a config without a rate made Limits")
	}
}

func TestDefaults(t *testing.T) {
	d := APIDefaults()
	for name, want := range map[string]float64{"GetAuthorizationToken": 40, "GetPackageVersionAsset": 50, "ListPackages": 200,
		"PublishPackageVersion": 10, "CopyPackageVersions": 5, Reads: 800, Writes: 100} {
		if d[name].PerSecond != want || d[name].Burst != int(want*BurstSeconds) {
			t.Errorf("%s: %+v, want %v/s", name, d[name], want)
		}
	}
}

// BenchmarkAllow is the cost on the hot path: one principal, one
// operation, never empty.
func BenchmarkAllow(b *testing.B) {
	l := New(Config{API: map[string]Rate{Reads: {PerSecond: 1e12, Burst: 1 << 30}}})
	principal := "arn:aws:iam::111122223333:user/builder"
	b.ReportAllocs()
	for b.Loop() {
		l.API(principal, "DescribePackageVersion")
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := New(Config{DataPlane: Rate{PerSecond: 1e12, Burst: 1 << 30}, Repository: Rate{PerSecond: 1e12, Burst: 1 << 30}})
	repo := RepoKey{"111122223333", "domain", "repo"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.DataPlane("arn:aws:iam::111122223333:user/builder", repo)
		}
	})
}
