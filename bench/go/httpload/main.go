// httpload: a closed-loop HTTP/1.1 GET load generator for the bench scripts, where wrk, oha and
// hey are not installed. C connections (keep-alive, one goroutine each) send the same request
// back to back for a duration after a warm-up; the request is written once as bytes and the
// answer is read with a minimal parser (status line, headers, Content-Length or chunked body),
// so the client costs about what wrk's does.
//
//	httpload [-c 64] [-d 10s] [-warmup 1s] [-status 200] [-H 'K: V']... -test NAME URL
//
// It prints one line as report.lua does, for ../shared/bench/table.py:
//
//	JSON {"test":NAME,"req/s":…,"p50 ms":…,"p99 ms":…,"MB/s":…,"errors":…,"_requests":…,…}
//
// req/s = requests answered in the timed window / its length; MB/s counts every byte read
// (headers and body), as wrk does; errors counts transport errors and answers whose status is
// not -status (each connection is re-opened after an error). Latency is request written → last
// body byte read.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(s string) error { *h = append(*h, s); return nil }

type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type result struct {
	lat        []time.Duration
	errs       int
	firstError string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("httpload: ")
	conns := flag.Int("c", 64, "connections")
	dur := flag.Duration("d", 10*time.Second, "timed duration")
	warm := flag.Duration("warmup", time.Second, "untimed warm-up")
	status := flag.Int("status", 200, "expected status")
	test := flag.String("test", "", "test name")
	var hs headers
	flag.Var(&hs, "H", "request header 'Name: value' (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 || *test == "" {
		log.Fatal("usage: httpload [-c 64] [-d 10s] [-status 200] [-H 'K: V']... -test NAME URL")
	}
	u, err := url.Parse(flag.Arg(0))
	if err != nil || u.Scheme != "http" {
		log.Fatalf("URL %q: only http:// is supported", flag.Arg(0))
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: coffer-httpload\r\n", u.RequestURI(), u.Host)
	for _, h := range hs {
		fmt.Fprintf(&req, "%s\r\n", h)
	}
	req.WriteString("\r\n")
	addr := u.Host
	if u.Port() == "" {
		addr += ":80"
	}

	// One request first: the status must be the expected one.
	if code, err := once(addr, req.Bytes()); err != nil || code != *status {
		log.Fatalf("%s: first request: status %d, error %v (want %d)", *test, code, err, *status)
	}

	var bytesRead atomic.Int64
	var timing atomic.Bool
	start := time.Now()
	timedStart := start.Add(*warm)
	end := timedStart.Add(*dur)
	results := make([]result, *conns)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			r.lat = make([]time.Duration, 0, 1<<14)
			var c net.Conn
			var br *bufio.Reader
			for {
				now := time.Now()
				if !now.Before(end) {
					break
				}
				if c == nil {
					nc, err := net.Dial("tcp", addr)
					if err != nil {
						r.fail(err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					c = countConn{nc, &bytesRead}
					br = bufio.NewReaderSize(c, 64<<10)
				}
				t0 := time.Now()
				_, err := c.Write(req.Bytes())
				var code int
				var keep bool
				if err == nil {
					code, keep, err = readResponse(br)
				}
				t1 := time.Now()
				if err == nil && code != *status {
					err = fmt.Errorf("status %d", code)
				}
				if t0.Before(timedStart) || t1.After(end) {
					// warm-up, or finished after the window: not counted
				} else if err != nil {
					r.fail(err)
				} else {
					r.lat = append(r.lat, t1.Sub(t0))
				}
				if err != nil || !keep {
					c.Close()
					c = nil
				}
				if !timing.Load() && !t1.Before(timedStart) {
					if timing.CompareAndSwap(false, true) {
						bytesRead.Store(0)
					}
				}
			}
			if c != nil {
				c.Close()
			}
		}(&results[i])
	}
	wg.Wait()
	var all []time.Duration
	errs := 0
	first := ""
	for _, r := range results {
		all = append(all, r.lat...)
		errs += r.errs
		if first == "" {
			first = r.firstError
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	sec := dur.Seconds()
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / 1e6
	}
	if first != "" {
		fmt.Fprintf(os.Stderr, "httpload: %s: %d errors, first: %s\n", *test, errs, first)
	}
	fmt.Printf(`JSON {"test":%q,"req/s":%.1f,"p50 ms":%.2f,"p99 ms":%.2f,"MB/s":%.2f,"errors":%d,"_requests":%d,"_conns":%d}`+"\n",
		*test, float64(len(all))/sec, pct(0.50), pct(0.99), float64(bytesRead.Load())/sec/1e6, errs, len(all), *conns)
}

func (r *result) fail(err error) {
	r.errs++
	if r.firstError == "" {
		r.firstError = err.Error()
	}
}

func once(addr string, req []byte) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	code, _, err := readResponse(bufio.NewReader(c))
	return code, err
}

var errMalformed = errors.New("malformed response")

// readResponse reads one answer to a GET; keep is false when the server closes the connection.
func readResponse(br *bufio.Reader) (code int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errMalformed
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errMalformed
	}
	keep = line[7] == '1'
	length, chunked := int64(-1), false
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return code, false, err
		}
		if len(h) <= 2 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return code, false, errMalformed
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEq(k, "content-length"):
			length, err = strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return code, false, errMalformed
			}
		case asciiEq(k, "transfer-encoding"):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case asciiEq(k, "connection"):
			if bytes.EqualFold(v, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(v, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case code == 304 || code == 204 || code/100 == 1:
		return code, keep, nil
	case chunked:
		for {
			l, err := br.ReadSlice('\n')
			if err != nil {
				return code, false, err
			}
			s, _, _ := bytes.Cut(bytes.TrimSpace(l), []byte(";"))
			n, err := strconv.ParseInt(string(s), 16, 64)
			if err != nil {
				return code, false, errMalformed
			}
			if n == 0 {
				for { // trailers
					t, err := br.ReadSlice('\n')
					if err != nil {
						return code, false, err
					}
					if len(t) <= 2 {
						return code, keep, nil
					}
				}
			}
			if _, err := br.Discard(int(n) + 2); err != nil {
				return code, false, err
			}
		}
	case length >= 0:
		_, err := br.Discard(int(length))
		return code, keep, err
	default:
		_, err := io.Copy(io.Discard, br)
		return code, false, err
	}
}

func asciiEq(b []byte, s string) bool { return bytes.EqualFold(bytes.TrimSpace(b), []byte(s)) }
