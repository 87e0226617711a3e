package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

func serveBody(body []byte) func(http.ResponseWriter, *http.Request, *upstreamServer) {
	return func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		w.Header().Set("Content-Type", "application/java-archive")
		w.Header().Set("ETag", `"e1"`)
		w.Header().Set("Last-Modified", "Wed, 01 Jan 2025 10:00:00 GMT")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

func TestFetchStreamsVerifiesAndCommits(t *testing.T) {
	body := content(3<<20+17, 1)
	srv := newUpstream(t, serveBody(body))
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)

	tee := &captureTee{t: t}
	res, err := c.Fetch(context.Background(), "k", srv.URL+"/a.jar", expectAll(body), store, WithTee(tee.start))
	tee.close()
	if err != nil {
		t.Fatal(err)
	}
	want := digests(body)
	if res.Digests != want || !res.Created || res.Shared || res.Teed != int64(len(body)) || res.TeeErr != nil {
		t.Errorf("result = %+v", res)
	}
	if res.ContentType != "application/java-archive" || res.ETag != `"e1"` ||
		!res.LastModified.Equal(time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)) || res.URL != srv.URL+"/a.jar" {
		t.Errorf("result metadata = %+v", res)
	}
	if tee.meta == nil || tee.meta.Size != int64(len(body)) || tee.meta.ContentType != "application/java-archive" {
		t.Errorf("tee meta = %+v", tee.meta)
	}
	if !bytes.Equal(tee.bytes(), body) {
		t.Errorf("tee received %d bytes, not the body", len(tee.bytes()))
	}
	assertBlob(t, store, root, body)

	// The same content again (another key, so another download): the
	// blob exists already.
	res, err = c.Fetch(context.Background(), "k2", srv.URL+"/a.jar", Expectation{SHA1: want.SHA1}, store)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Digests != want || res.Teed != 0 {
		t.Errorf("second result = %+v", res)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestFetchNoExpectationChunked(t *testing.T) {
	body := content(100000, 2)
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
		w.Write(body[:50000])
		w.(http.Flusher).Flush() // no Content-Length: chunked
		w.Write(body[50000:])
	})
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)
	tee := &captureTee{t: t}
	res, err := c.Fetch(context.Background(), "", srv.URL, Expectation{}, store, WithTee(tee.start))
	tee.close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Digests != digests(body) || tee.meta.Size != -1 {
		t.Errorf("result = %+v, meta = %+v", res, tee.meta)
	}
	assertBlob(t, store, root, body)
}

func TestFetchRetriesServerErrorsThenSucceeds(t *testing.T) {
	body := content(1000, 3)
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
		if s.requests.Load() <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		serveBody(body)(w, r, s)
	})
	store, root := newStore(t)
	var events []Event
	cfg := testConfig(newFakeClock())
	cfg.Observe = func(e Event) { events = append(events, e) }
	c := New(cfg, nil)
	res, err := c.Fetch(context.Background(), "", srv.URL, expectAll(body), store)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digests.SHA256 != digests(body).SHA256 {
		t.Errorf("result = %+v", res)
	}
	if n := srv.requests.Load(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	assertBlob(t, store, root, body)
	if len(events) != 1 || events[0].Attempts != 3 || events[0].Status != 200 || events[0].Bytes != 1000 || events[0].Err != nil {
		t.Errorf("events = %+v", events)
	}
}

// TestFetchFaults runs one misbehaving upstream per fault kind and checks the
// error's kind and cause, the number of requests, and that nothing (blob or
// staging file) is left in the store.
func TestFetchFaults(t *testing.T) {
	body := content(64<<10, 4)
	other := content(64<<10, 5)
	tests := []struct {
		name      string
		handler   func(http.ResponseWriter, *http.Request, *upstreamServer)
		config    func(*Config)
		expect    Expectation
		kind      fault.Kind
		cause     error
		status    int   // StatusError code expected, if any
		requests  int64 // 0: don't check
		closedURL bool  // fetch from a port nobody listens on
	}{
		{
			name:     "timeout before headers",
			handler:  func(w http.ResponseWriter, r *http.Request, s *upstreamServer) { s.block(r) },
			config:   func(c *Config) { c.HeaderTimeout = 100 * time.Millisecond },
			kind:     fault.KindUnavailable,
			cause:    ErrTimeout,
			requests: 1, // a header timeout is not retried
		},
		{
			name: "500 forever",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			kind:     fault.KindUnavailable,
			status:   500,
			requests: 3, // the first attempt and DefaultRetries
		},
		{
			name: "403 not retried",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				http.Error(w, "no", http.StatusForbidden)
			},
			kind:     fault.KindUnavailable,
			status:   403,
			requests: 1,
		},
		{
			name:      "connection refused",
			closedURL: true,
			kind:      fault.KindUnavailable,
		},
		{
			name: "connection reset mid-body",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				conn, rw := hijack(t, w)
				fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
				rw.Write(body[:len(body)/2])
				rw.Flush()
				conn.(*net.TCPConn).SetLinger(0) // close with RST
				conn.Close()
			},
			expect:   expectAll(body),
			kind:     fault.KindUnavailable,
			cause:    ErrTruncated,
			requests: 1, // bytes of the body were read: no retry
		},
		{
			name: "truncated body",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				conn, rw := hijack(t, w)
				fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body)+1000)
				rw.Write(body)
				rw.Flush()
				conn.Close()
			},
			kind:     fault.KindUnavailable,
			cause:    ErrTruncated,
			requests: 1,
		},
		{
			name:    "wrong checksum",
			handler: serveBody(other),
			expect:  Expectation{SHA1: digests(body).SHA1},
			kind:    fault.KindUnavailable,
			cause:   ErrChecksumMismatch,
		},
		{
			name:    "wrong sha256, right size",
			handler: serveBody(other),
			expect:  Expectation{Size: int64(len(body)), SHA256: digests(body).SHA256},
			kind:    fault.KindUnavailable,
			cause:   ErrChecksumMismatch,
		},
		{
			name:    "Content-Length disagrees with the expected size",
			handler: serveBody(body[:100]),
			expect:  Expectation{Size: int64(len(body))},
			kind:    fault.KindUnavailable,
			cause:   ErrChecksumMismatch,
		},
		{
			name:    "VerifyWith rejects",
			handler: serveBody(body),
			expect: Expectation{VerifyWith: func(d blob.Digests) error {
				return errors.New("integrity sha512-... does not match")
			}},
			kind:  fault.KindUnavailable,
			cause: ErrChecksumMismatch,
		},
		{
			name: "very slow body",
			handler: func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for i := 0; i < len(body); i += 10 { // 10 bytes per 5 ms: 2 KB/s
					select {
					case <-r.Context().Done():
						return
					case <-s.stop:
						return
					case <-tick.C:
					}
					w.Write(body[i : i+10])
					w.(http.Flusher).Flush()
				}
			},
			config: func(c *Config) {
				c.MinBodyRate = 64 << 10
				c.RateWindow = 100 * time.Millisecond
			},
			kind:  fault.KindUnavailable,
			cause: ErrSlowBody,
		},
		{
			name: "stalled body",
			handler: func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.Write(body[:1000])
				w.(http.Flusher).Flush()
				s.block(r)
			},
			config: func(c *Config) {
				c.MinBodyRate = 1
				c.RateWindow = 100 * time.Millisecond
			},
			kind:  fault.KindUnavailable,
			cause: ErrSlowBody,
		},
		{
			name: "whole request timeout",
			handler: func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.Write(body[:1000])
				w.(http.Flusher).Flush()
				s.block(r)
			},
			config: func(c *Config) { c.Timeout = 150 * time.Millisecond },
			kind:   fault.KindUnavailable,
			cause:  ErrTimeout,
		},
		{
			name:     "oversize by Content-Length",
			handler:  serveBody(body),
			config:   func(c *Config) { c.MaxSize = 1000 },
			kind:     fault.KindQuotaExceeded,
			cause:    ErrTooLarge,
			requests: 1,
		},
		{
			name: "oversize while streaming",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				for i := 0; i < len(body); i += 4096 {
					w.Write(body[i : i+4096])
					w.(http.Flusher).Flush() // chunked: no Content-Length
				}
			},
			config: func(c *Config) { c.MaxSize = 10000 },
			kind:   fault.KindQuotaExceeded,
			cause:  ErrTooLarge,
		},
		{
			name: "404",
			handler: func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				http.NotFound(w, r)
			},
			kind:     fault.KindNotFound,
			status:   404,
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := ""
			var srv *upstreamServer
			if tt.closedURL {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				url = "http://" + l.Addr().String() + "/x"
				l.Close()
			} else {
				srv = newUpstream(t, tt.handler)
				url = srv.URL + "/x"
			}
			cfg := testConfig(newFakeClock())
			if tt.config != nil {
				tt.config(&cfg)
			}
			store, root := newStore(t)
			c := New(cfg, nil)
			tee := &captureTee{t: t}
			res, err := c.Fetch(context.Background(), "", url, tt.expect, store, WithTee(tee.start))
			tee.close()
			if res != nil {
				t.Errorf("result = %+v, want nil", res)
			}
			assertFault(t, err, tt.kind, tt.cause)
			if tt.status != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != tt.status {
					t.Errorf("err = %v, want status %d", err, tt.status)
				}
			}
			// Once bytes reached the tee, the error says the client's
			// response must be aborted; before, it must not.
			var te *TeeError
			if got, want := errors.As(err, &te), tee.meta != nil; got != want {
				t.Errorf("TeeError = %v, tee started = %v (err: %v)", got, want, err)
			}
			if srv != nil && tt.requests != 0 {
				if n := srv.requests.Load(); n != tt.requests {
					t.Errorf("requests = %d, want %d", n, tt.requests)
				}
			}
			assertEmptyStore(t, root)
		})
	}
}

func TestFetchChecksumMismatchAfterTee(t *testing.T) {
	body := content(200000, 6)
	srv := newUpstream(t, serveBody(body))
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)
	tee := &captureTee{t: t}
	_, err := c.Fetch(context.Background(), "", srv.URL, Expectation{SHA256: digests(content(1, 0)).SHA256}, store, WithTee(tee.start))
	tee.close()
	var te *TeeError
	if !errors.As(err, &te) || te.Teed != int64(len(body)) {
		t.Fatalf("err = %v, want a TeeError after %d bytes", err, len(body))
	}
	assertFault(t, err, fault.KindUnavailable, ErrChecksumMismatch)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("errors.Is(err, fault.ErrUnavailable) = false")
	}
	if !bytes.Equal(tee.bytes(), body) {
		t.Errorf("tee got %d bytes", len(tee.bytes()))
	}
	assertEmptyStore(t, root)
}

func TestFetchNegativeCache(t *testing.T) {
	for _, code := range []int{http.StatusNotFound, http.StatusGone} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) {
				w.WriteHeader(code)
			})
			clock := newFakeClock()
			cfg := testConfig(clock)
			cfg.NegativeTTL = time.Minute
			store, root := newStore(t)
			c := New(cfg, nil)
			ctx := context.Background()

			_, err := c.Fetch(ctx, "", srv.URL+"/missing.jar", Expectation{}, store)
			assertFault(t, err, fault.KindNotFound, nil)
			clock.Advance(59 * time.Second)
			_, err = c.Fetch(ctx, "", srv.URL+"/missing.jar", Expectation{}, store)
			assertFault(t, err, fault.KindNotFound, nil)
			if n := srv.requests.Load(); n != 1 {
				t.Errorf("requests = %d, want 1 (the second answer from the negative cache)", n)
			}
			// Another URL is not affected.
			_, err = c.Fetch(ctx, "", srv.URL+"/other.jar", Expectation{}, store)
			assertFault(t, err, fault.KindNotFound, nil)
			if n := srv.requests.Load(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			clock.Advance(time.Second)
			_, err = c.Fetch(ctx, "", srv.URL+"/missing.jar", Expectation{}, store)
			assertFault(t, err, fault.KindNotFound, nil)
			if n := srv.requests.Load(); n != 3 {
				t.Errorf("requests = %d, want 3 (the negative entry expired)", n)
			}
			assertEmptyStore(t, root)
		})
	}
}

func TestFetchNegativeCacheDisabled(t *testing.T) {
	srv := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ *upstreamServer) { http.NotFound(w, r) })
	cfg := testConfig(newFakeClock())
	cfg.NegativeTTL = -1
	store, _ := newStore(t)
	c := New(cfg, nil)
	for range 2 {
		_, err := c.Fetch(context.Background(), "", srv.URL, Expectation{}, store)
		assertFault(t, err, fault.KindNotFound, nil)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

// gatedUpstream serves body after the test closes release; arrived receives
// a value when a request has come in. firstHalf makes it send half the body
// before waiting.
func gatedUpstream(t *testing.T, body []byte, firstHalf bool) (srv *upstreamServer, arrived chan struct{}, release chan struct{}) {
	arrived = make(chan struct{}, 100)
	release = make(chan struct{})
	srv = newUpstream(t, func(w http.ResponseWriter, r *http.Request, s *upstreamServer) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		rest := body
		if firstHalf {
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			rest = body[len(body)/2:]
		}
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		}
		w.Write(rest)
	})
	return srv, arrived, release
}

func TestFetchConcurrentCallersShareOneDownload(t *testing.T) {
	const callers = 50
	body := content(1<<20, 7)
	srv, arrived, release := gatedUpstream(t, body, false)
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)
	var joined sync.WaitGroup
	joined.Add(callers - 1)
	c.fetches.joined = func(string) { joined.Done() }

	type outcome struct {
		res *Result
		err error
	}
	results := make(chan outcome, callers)
	fetch := func(ctx context.Context) {
		res, err := c.Fetch(ctx, "maven/g/a/1.0/a-1.0.jar", srv.URL+"/a-1.0.jar", expectAll(body), store)
		results <- outcome{res, err}
	}
	// The leader first, so that the follower cancelled below is a
	// follower; then the others, who join its flight.
	go fetch(context.Background())
	<-arrived
	const cancelled = 7
	cancelCtx, cancel := context.WithCancel(context.Background())
	cancelledDone := make(chan error, 1)
	for i := 1; i < callers; i++ {
		if i == cancelled {
			go func() {
				_, err := c.Fetch(cancelCtx, "maven/g/a/1.0/a-1.0.jar", srv.URL+"/a-1.0.jar", expectAll(body), store)
				cancelledDone <- err
			}()
			continue
		}
		go fetch(context.Background())
	}
	joined.Wait()
	cancel()
	if err := <-cancelledDone; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled follower: err = %v, want context.Canceled", err)
	}
	close(release)

	leaders := 0
	for range callers - 1 {
		o := <-results
		if o.err != nil {
			t.Errorf("Fetch: %v", o.err)
			continue
		}
		if o.res.Digests != digests(body) || o.res.Created == o.res.Shared {
			t.Errorf("result = %+v (Created only for the leader)", o.res)
		}
		if !o.res.Shared {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d results not Shared, want 1", leaders)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("upstream requests = %d, want 1", n)
	}
	assertBlob(t, store, root, body)
}

func TestFetchLeaderLeavesFollowersFinish(t *testing.T) {
	body := content(256<<10, 8)
	srv, arrived, release := gatedUpstream(t, body, true)
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)
	joined := make(chan struct{}, 1)
	c.fetches.joined = func(string) { joined <- struct{}{} }

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	tee := &captureTee{t: t}
	teeWritten := make(chan struct{})
	var once sync.Once
	tee.onWrite = func(int) { once.Do(func() { close(teeWritten) }) }
	leaderDone := make(chan error, 1)
	go func() {
		_, err := c.Fetch(leaderCtx, "k", srv.URL, expectAll(body), store, WithTee(tee.start))
		tee.close() // from here on a write to the tee fails the test
		leaderDone <- err
	}()
	<-arrived
	followerDone := make(chan *Result, 1)
	go func() {
		res, err := c.Fetch(context.Background(), "k", srv.URL, expectAll(body), store)
		if err != nil {
			t.Errorf("follower: %v", err)
		}
		followerDone <- res
	}()
	<-joined
	<-teeWritten // the leader's client has part of the body
	cancelLeader()
	err := <-leaderDone
	var te *TeeError
	if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Errorf("leader: err = %v, want a TeeError wrapping context.Canceled", err)
	}
	close(release)
	res := <-followerDone
	if res == nil || !res.Shared || res.Digests != digests(body) {
		t.Fatalf("follower result = %+v", res)
	}
	assertBlob(t, store, root, body)
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestFetchCancelledWhenEveryCallerLeaves(t *testing.T) {
	body := content(256<<10, 9)
	srv, arrived, _ := gatedUpstream(t, body, true)
	store, root := newStore(t)
	observed := make(chan Event, 1)
	cfg := testConfig(newFakeClock())
	cfg.Observe = func(e Event) { observed <- e }
	c := New(cfg, nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, "k", srv.URL, expectAll(body), store)
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// The download ends (and cleans up) on its own goroutine.
	e := <-observed
	if !errors.Is(e.Err, context.Canceled) {
		t.Errorf("download ended with %v, want context.Canceled", e.Err)
	}
	assertEmptyStore(t, root)
	// The key is free again: a new caller starts a new download.
	c.fetches.mu.Lock()
	_, ok := c.fetches.calls["k"]
	c.fetches.mu.Unlock()
	if ok {
		t.Error("flight still registered")
	}
}

func TestFetchSlowTeeIsNotASlowUpstream(t *testing.T) {
	body := content(512<<10, 10)
	srv := newUpstream(t, serveBody(body))
	store, root := newStore(t)
	cfg := testConfig(newFakeClock())
	cfg.MinBodyRate = 64 << 10
	cfg.RateWindow = 50 * time.Millisecond
	c := New(cfg, nil)
	tee := &captureTee{t: t}
	first := true
	tee.onWrite = func(int) {
		if first { // a client that stalls for several rate windows
			first = false
			time.Sleep(250 * time.Millisecond)
		}
	}
	res, err := c.Fetch(context.Background(), "", srv.URL, expectAll(body), store, WithTee(tee.start))
	tee.close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Teed != int64(len(body)) {
		t.Errorf("teed %d bytes", res.Teed)
	}
	assertBlob(t, store, root, body)
}

func TestFetchTeeWriteErrorDoesNotStopTheDownload(t *testing.T) {
	body := content(512<<10, 11)
	srv := newUpstream(t, serveBody(body))
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)
	tee := &captureTee{t: t, failAfter: 1000}
	res, err := c.Fetch(context.Background(), "", srv.URL, expectAll(body), store, WithTee(tee.start))
	tee.close()
	if err != nil {
		t.Fatal(err)
	}
	if res.TeeErr == nil || res.Teed >= int64(len(body)) {
		t.Errorf("result = %+v, want a TeeErr", res)
	}
	assertBlob(t, store, root, body)
}

func TestFetchPanicInTeeBecomesAnError(t *testing.T) {
	body := content(1000, 12)
	srv := newUpstream(t, serveBody(body))
	store, root := newStore(t)
	c := New(testConfig(newFakeClock()), nil)
	_, err := c.Fetch(context.Background(), "", srv.URL, expectAll(body), store,
		WithTee(func(Meta) io.Writer { panic("bug") }))
	assertFault(t, err, fault.KindInternal, nil)
	assertEmptyStore(t, root)
}

func TestExpectationCheck(t *testing.T) {
	d := digests([]byte("hello"))
	ok := []Expectation{
		{},
		{Size: 5},
		{SHA256: d.SHA256, SHA512: d.SHA512, SHA1: d.SHA1, MD5: d.MD5},
		{SHA1: " " + strings.ToUpper(d.SHA1) + "\n"},
		{VerifyWith: func(got blob.Digests) error { return nil }},
	}
	for _, e := range ok {
		if err := e.Check(d); err != nil {
			t.Errorf("Check(%+v) = %v", e, err)
		}
	}
	bad := []Expectation{
		{Size: 6},
		{SHA256: d.SHA1},
		{SHA512: "00"},
		{SHA1: d.MD5},
		{MD5: "zz"},
		{VerifyWith: func(got blob.Digests) error { return errors.New("no") }},
	}
	for _, e := range bad {
		if err := e.Check(d); !errors.Is(err, ErrChecksumMismatch) {
			t.Errorf("Check(%+v) = %v, want ErrChecksumMismatch", e, err)
		}
	}
}
