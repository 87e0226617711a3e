package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/fault"
)

const mib = 1 << 20

// observeDraws sets b's observe hook: the channel receives whether each
// draw was queued.
func observeDraws(b *Budget) chan bool {
	ch := make(chan bool, 16)
	b.observe = func(queued bool) { ch <- queued }
	return ch
}

// next returns the next draw's queued flag.
func next(t *testing.T, draws chan bool) bool {
	t.Helper()
	return <-draws
}

// TestBudgetBoundsConcurrentGets: with a budget of 5 MiB, two documents of
// 3 MiB being read hold 4 MiB (each reads its first MiB freely); a third
// waits for budget without reading its body until one of them is done,
// then all three arrive whole.
func TestBudgetBoundsConcurrentGets(t *testing.T) {
	release := map[string]chan struct{}{"/a": make(chan struct{}), "/b": make(chan struct{}), "/c": make(chan struct{})}
	close(release["/c"])
	doc := func(p string) []byte { return bytes.Repeat([]byte(p[1:]), 3*mib) }
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
		body := doc(r.URL.Path)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:mib])
		w.(http.Flusher).Flush()
		select {
		case <-release[r.URL.Path]:
		case <-s.stop:
			return
		}
		w.Write(body[mib:])
	})
	b := NewBudget(5 * mib)
	draws := observeDraws(b)
	cfg := testConfig(newFakeClock())
	cfg.Budget = b
	c := New(cfg, nil)

	type result struct {
		body []byte
		err  error
	}
	results := map[string]chan result{}
	get := func(p string) {
		ch := make(chan result, 1)
		results[p] = ch
		go func() {
			r, err := c.Get(context.Background(), srv.URL+p)
			if err != nil {
				ch <- result{err: err}
				return
			}
			ch <- result{body: r.Body}
		}()
	}
	// a and b draw 2 MiB each (their Content-Length beyond the free MiB).
	get("/a")
	get("/b")
	if drewA, drewB := next(t, draws), next(t, draws); drewA || drewB || b.Used() != 4*mib {
		t.Fatalf("a and b did not draw their 2 MiB each at once (used %d)", b.Used())
	}
	get("/c")
	if !next(t, draws) { // c waits: 4 + 2 > 5
		t.Fatal("c drew at once beyond the budget")
	}
	select {
	case r := <-results["/c"]:
		t.Fatalf("c was read while the budget was spent: %v", r.err)
	default:
	}
	close(release["/a"])
	for _, p := range []string{"/a", "/c"} {
		r := <-results[p]
		if r.err != nil || !bytes.Equal(r.body, doc(p)) {
			t.Fatalf("%s: %d bytes, %v", p, len(r.body), r.err)
		}
	}
	close(release["/b"])
	if r := <-results["/b"]; r.err != nil || !bytes.Equal(r.body, doc("/b")) {
		t.Fatalf("b: %d bytes, %v", len(r.body), r.err)
	}
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes still drawn after every Get returned", u)
	}
}

// TestBudgetHoldersNeverDeadlock: two documents that hold the whole budget
// both need more: the older goes beyond the budget, finishes, and then the
// other gets what it needs.
func TestBudgetHoldersNeverDeadlock(t *testing.T) {
	b := NewBudget(4 * mib)
	draws := observeDraws(b)
	ctx := context.Background()
	l1, l2 := b.newLease(-1), b.newLease(-1)
	for _, l := range []*lease{l1, l2} {
		if err := l.ensure(ctx, budgetFree+2*mib); err != nil || l.held != 2*mib || next(t, draws) {
			t.Fatalf("first draw: held %d, %v", l.held, err)
		}
	}
	done1, done2 := make(chan error, 1), make(chan error, 1)
	go func() { done1 <- l1.ensure(ctx, budgetFree+8*mib) }()
	if !next(t, draws) {
		t.Fatal("l1 was served at once")
	}
	select {
	case err := <-done1:
		t.Fatalf("l1 was served beyond the budget while l2 could still finish: %v", err)
	default:
	}
	go func() { done2 <- l2.ensure(ctx, budgetFree+3*mib) }()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if !next(t, draws) { // l2 queued (and let l1 through)
		t.Fatal("l2 was served at once")
	}
	if u := b.Used(); u != 4*mib+2*mib || l1.held != 4*mib {
		t.Errorf("used %d during the overdraft, want l1's 4 MiB (the whole budget, its cap) and l2's 2 MiB", u)
	}
	l1.release()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	if l2.held != 4*mib {
		t.Errorf("l2 holds %d, want 4 MiB (its growth, capped by the budget)", l2.held)
	}
	l2.release()
	if u := b.Used(); u != 0 {
		t.Errorf("used %d after both released", u)
	}
}

// TestBudgetWaitEndsWithContext: a draw that cannot be served ends with
// its context; the queue behind it moves on.
func TestBudgetWaitEndsWithContext(t *testing.T) {
	b := NewBudget(2 * mib)
	draws := observeDraws(b)
	hold := b.newLease(-1)
	if err := hold.ensure(context.Background(), budgetFree+2*mib); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	l := b.newLease(-1)
	go func() { done <- l.ensure(ctx, budgetFree+mib) }()
	if next(t, draws) || !next(t, draws) {
		t.Fatal("the holder's draw waited, or the second did not")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || l.held != 0 {
		t.Fatalf("ensure = %v, held %d", err, l.held)
	}
	hold.release()
	if err := l.ensure(context.Background(), budgetFree+mib); err != nil || b.Used() != mib {
		t.Fatalf("after the release: %v, used %d", err, b.Used())
	}
	l.release()
}

// TestGetBudgetTimeout: a Get that cannot get budget within Config.Timeout
// fails Unavailable (ErrTimeout) and draws nothing.
func TestGetBudgetTimeout(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3*mib)
	srv := newUpstream(t, serveBody(body))
	b := NewBudget(2 * mib)
	hold := b.newLease(-1)
	if err := hold.ensure(context.Background(), budgetFree+2*mib); err != nil {
		t.Fatal(err)
	}
	defer hold.release()
	cfg := testConfig(newFakeClock())
	cfg.Budget = b
	cfg.Timeout = 200 * time.Millisecond
	_, err := New(cfg, nil).Get(context.Background(), srv.URL+"/big")
	assertFault(t, err, fault.KindUnavailable, ErrTimeout)
	if u := b.Used(); u != 2*mib {
		t.Errorf("used %d, want only the holder's 2 MiB", u)
	}
}

// wordCount is a Decoder that counts the words of a document as it reads.
func wordCount(calls *int, mu *sync.Mutex) Decoder {
	return func(body io.Reader, d *Document) (any, int64, error) {
		mu.Lock()
		*calls++
		mu.Unlock()
		b, err := io.ReadAll(io.LimitReader(body, 4))
		if err != nil {
			return nil, 0, err
		}
		if string(b) == "bad!" {
			return nil, 0, errors.New("not a word list")
		}
		rest, err := io.ReadAll(body)
		if err != nil {
			return nil, 0, err
		}
		return len(strings.Fields(string(b) + string(rest))), 8, nil
	}
}

// TestGetDecode: a decoded document keeps its value, not its bytes, and
// is cached, revalidated and served stale like any other.
func TestGetDecode(t *testing.T) {
	clock := newFakeClock()
	v := newVersionedUpstream(t)
	v.set("one two three", `"v1"`, false)
	var mu sync.Mutex
	calls := 0
	c := New(testConfig(clock), nil)
	dec := WithDecode("words", wordCount(&calls, &mu))

	r := mustGet(t, c, v.URL, dec)
	if r.Value != 3 || r.Body != nil || r.Size != 13 || r.Freshness != Fetched || r.ETag != `"v1"` {
		t.Fatalf("decoded: %+v", r.Document)
	}
	if r := mustGet(t, c, v.URL, dec); r.Value != 3 || r.Freshness != Fresh {
		t.Fatalf("second Get: %+v %v", r.Document, r.Freshness)
	}
	if r := mustGet(t, c, v.URL); string(r.Body) != "one two three" || r.Value != nil {
		t.Fatalf("undecoded Get of the same URL: %+v", r.Document)
	}
	clock.Advance(DefaultMetadataTTL + time.Second)
	if r := mustGet(t, c, v.URL, dec); r.Value != 3 || r.Freshness != Revalidated {
		t.Fatalf("revalidated: %+v %v", r.Document, r.Freshness)
	}
	if calls != 1 {
		t.Errorf("decoded %d times, want once", calls)
	}
	clock.Advance(DefaultMetadataTTL + time.Second)
	v.set("bad! document", `"v2"`, false)
	r = mustGet(t, c, v.URL, dec)
	if r.Freshness != Stale || r.Value != 3 || fault.KindOf(r.Err) != fault.KindUnavailable || !strings.Contains(r.Err.Error(), "unreadable") {
		t.Fatalf("unreadable new version: %+v %v %v", r.Document, r.Freshness, r.Err)
	}
	_, err := New(testConfig(clock), nil).Get(context.Background(), v.URL, dec)
	assertFault(t, err, fault.KindUnavailable, nil)
}

// TestGetDecodeTruncated: a body that ends before its Content-Length is
// truncated, even when the decoder stops reading before the end.
func TestGetDecodeTruncated(t *testing.T) {
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		conn, rw := hijack(t, w)
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nword word")
		rw.Flush()
		conn.Close()
	})
	c := New(testConfig(newFakeClock()), nil)
	stopEarly := func(body io.Reader, d *Document) (any, int64, error) {
		b := make([]byte, 4)
		_, err := io.ReadFull(body, b)
		return string(b), 4, err
	}
	_, err := c.Get(context.Background(), srv.URL, WithDecode("first-word", stopEarly))
	assertFault(t, err, fault.KindUnavailable, ErrTruncated)
}
