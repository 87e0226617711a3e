package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ---------------------------------------------------------------- request classes

// Kinds of class: what a 5xx in it means.
const (
	kindWell        = "well-formed" // any 5xx or missing answer fails the run
	kindUpstream    = "hostile-up"  // names a package of the hostile upstream: 502/503/504 expected
	kindClient      = "hostile-cl"  // a hostile client: 4xx expected, or the server closing
	kindMaintenance = "measure"     // the soak's own /metrics reads
)

// outcome is how one request ended: an HTTP status ("200"), or a pseudo
// status for a request without one: "err:timeout", "err:reset", "err:eof",
// "err:other", "cancelled" (the soak's own deadline), "abandoned" (a slow
// body the soak stopped sending), "closed" (the server closed the
// connection without an answer).
type outcome string

func statusOutcome(code int) outcome { return outcome(strconv.Itoa(code)) }

func (o outcome) status() int { n, _ := strconv.Atoi(string(o)); return n }
func (o outcome) is5xx() bool { s := o.status(); return s >= 500 && s <= 599 }
func (o outcome) isErr() bool { return strings.HasPrefix(string(o), "err:") }

// errOutcome classifies a transport error.
func errOutcome(ctx context.Context, err error) outcome {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), errLoadOver) {
		return "cancelled"
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "err:timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "err:reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "err:eof"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "err:refused"
	}
	return "err:other"
}

// errLoadOver is the cause of the load context's cancellation.
var errLoadOver = errors.New("soak: load phase over")

type class struct {
	name, kind string

	mu       sync.Mutex
	outcomes map[outcome]int64
	hist     histogram
	bytes    int64 // response bytes read (or request bytes sent, for hostile bodies)
	maxSent  int64 // hostile bodies: the most bytes sent before the answer
	samples  []string
	lastN    int64 // count at the previous progress line
}

type registry struct {
	mu      sync.Mutex
	classes map[string]*class
	order   []string
}

var reg = &registry{classes: map[string]*class{}}

func (r *registry) get(name, kind string) *class {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.classes[name]
	if c == nil {
		c = &class{name: name, kind: kind, outcomes: map[outcome]int64{}}
		r.classes[name] = c
		r.order = append(r.order, name)
	}
	return c
}

func (r *registry) all() []*class {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*class, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.classes[n])
	}
	kindRank := map[string]int{kindWell: 0, kindUpstream: 1, kindClient: 2, kindMaintenance: 3}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return kindRank[out[i].kind] < kindRank[out[j].kind]
		}
		return out[i].name < out[j].name
	})
	return out
}

// record counts one request of class name.
func record(name, kind string, o outcome, d time.Duration, n int64, detail string) {
	c := reg.get(name, kind)
	c.mu.Lock()
	c.outcomes[o]++
	c.hist.add(d)
	c.bytes += n
	// Kept as examples: what fails a check, and the 4xx of well-formed
	// requests (which point at a soak bug or a coffer bug).
	bad := (kind == kindWell && (o.status() >= 400 || o.isErr())) || o == "500"
	if bad && len(c.samples) < 5 && detail != "" {
		c.samples = append(c.samples, fmt.Sprintf("%s: %.300s", o, detail))
	}
	c.mu.Unlock()
}

func noteSent(name, kind string, sent int64) {
	c := reg.get(name, kind)
	c.mu.Lock()
	c.maxSent = max(c.maxSent, sent)
	c.mu.Unlock()
}

func (c *class) snapshot() (total int64, outs map[outcome]int64, h histogram, bytes, maxSent int64, samples []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	outs = make(map[outcome]int64, len(c.outcomes))
	for k, v := range c.outcomes {
		outs[k] = v
		total += v
	}
	return total, outs, c.hist, c.bytes, c.maxSent, slices.Clone(c.samples)
}

func formatOutcomes(outs map[outcome]int64) string {
	keys := make([]string, 0, len(outs))
	for k := range outs {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", k, outs[outcome(k)])
	}
	return b.String()
}

// ---------------------------------------------------------------- latency histogram

// histogram: logarithmic buckets of 10% from 100 µs.
const (
	histBase   = 100 * time.Microsecond
	histFactor = 1.1
	histN      = 180 // up to ~3 h
)

type histogram struct {
	n      int64
	counts [histN]int64
	max    time.Duration
}

func (h *histogram) add(d time.Duration) {
	i := 0
	if d > histBase {
		i = int(math.Log(float64(d)/float64(histBase))/math.Log(histFactor)) + 1
	}
	h.counts[min(i, histN-1)]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= want {
			d := time.Duration(float64(histBase) * math.Pow(histFactor, float64(i)))
			return min(d, h.max)
		}
	}
	return h.max
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
}

// ---------------------------------------------------------------- process readings

// procStatusKiB reads a "Key: N kB" field of /proc/<pid>/status.
func procStatusKiB(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			fs := strings.Fields(v)
			if len(fs) > 0 {
				return strconv.ParseInt(fs[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}

func fdCount(pid int) (int, error) {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(es), err
}

// goMetrics reads go_goroutines and go_memstats_heap_inuse_bytes (0 when
// absent) from coffer's /metrics.
func goMetrics(hc *http.Client, base string) (goroutines int, heapInuse int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		record("metrics", kindMaintenance, errOutcome(context.TODO(), err), time.Since(start), 0, err.Error())
		return 0, 0, err
	}
	defer resp.Body.Close()
	record("metrics", kindMaintenance, statusOutcome(resp.StatusCode), time.Since(start), 0, "")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, 0, err
			}
			goroutines, found = int(f), true
		} else if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			heapInuse = int64(f)
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("no go_goroutines in /metrics (status %d)", resp.StatusCode)
	}
	return goroutines, heapInuse, nil
}

// snapshot is one reading of coffer's resources.
type snapshot struct {
	At         time.Time
	Goroutines int
	FDs        int
	RSSKiB     int64
	HWMKiB     int64
	HeapInuse  int64 // go_memstats_heap_inuse_bytes
}

func (s snapshot) String() string {
	return fmt.Sprintf("goroutines %d, fds %d, VmRSS %d MiB, VmHWM %d MiB, Go heap in use %d MiB",
		s.Goroutines, s.FDs, s.RSSKiB>>10, s.HWMKiB>>10, s.HeapInuse>>20)
}

func takeSnapshot(hc *http.Client, base string, pid int) (snapshot, error) {
	s := snapshot{At: time.Now()}
	var err error
	if s.Goroutines, s.HeapInuse, err = goMetrics(hc, base); err != nil {
		return s, err
	}
	if s.FDs, err = fdCount(pid); err != nil {
		return s, err
	}
	if s.RSSKiB, err = procStatusKiB(pid, "VmRSS"); err != nil {
		return s, err
	}
	s.HWMKiB, err = procStatusKiB(pid, "VmHWM")
	return s, err
}

// rssSampler reads VmRSS every second and keeps the maximum.
type rssSampler struct {
	pid    int
	maxRSS atomic.Int64
	last   atomic.Int64
	n      atomic.Int64
}

func (s *rssSampler) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if kib, err := procStatusKiB(s.pid, "VmRSS"); err == nil {
			s.last.Store(kib)
			s.n.Add(1)
			for {
				m := s.maxRSS.Load()
				if kib <= m || s.maxRSS.CompareAndSwap(m, kib) {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
