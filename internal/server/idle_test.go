package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestIdleBodiesEndStalledUploads: a body that stops arriving ends with a
// read error after the idle timeout; one that keeps arriving is read whole,
// and a slow response written after the body ended is not cut.
func TestIdleBodiesEndStalledUploads(t *testing.T) {
	const timeout = 200 * time.Millisecond
	readErr := make(chan error, 1)
	srv := httptest.NewServer(idleBodies(timeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/stall" {
			readErr <- err
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(3 * timeout) // the handler's own work outlasts the body's deadline
		if err := r.Context().Err(); err != nil {
			http.Error(w, "request cancelled: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "read %d", n)
	})))
	defer srv.Close()

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nfirst ten.")
	select {
	case err := <-readErr:
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("stalled body: err = %v, want a timeout", err)
		}
	case <-time.After(30 * time.Second): // a bound on the test only
		t.Fatal("the stalled body was never cut")
	}

	resp, err := http.Post(srv.URL+"/steady", "text/plain", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "read 1048576" {
		t.Fatalf("steady body: %d %q %v", resp.StatusCode, body, err)
	}
}

// TestIdleBodiesLeaveTheServersRequest: the wrapper travels on a copy of
// the request. net/http inspects the body of its own request after the
// handler (to drain what is left, or to half-close and wait before closing
// so that an early refusal reaches a client still sending) and must find
// it as it made it.
func TestIdleBodiesLeaveTheServersRequest(t *testing.T) {
	var sawWrapper bool
	h := idleBodies(time.Minute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawWrapper = r.Body.(*idleBody)
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := r.Body
		h.ServeHTTP(w, r)
		if r.Body != body {
			t.Errorf("the server's request body was replaced by %T", r.Body)
		}
	}))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "application/octet-stream", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !sawWrapper {
		t.Fatalf("status %d, handler saw the wrapper: %v", resp.StatusCode, sawWrapper)
	}
}

// TestIdleBodiesRefusalsReachStalledClients: a refusal given before the
// body is read reaches a client whose body trickles or stalls, at once,
// and the connection is closed rather than kept for a body nobody reads.
func TestIdleBodiesRefusalsReachStalledClients(t *testing.T) {
	srv := httptest.NewServer(idleBodies(time.Minute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/read" {
			_, _ = io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, "read")
			return
		}
		http.Error(w, "refused", http.StatusUnauthorized)
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound on the test only: the answer is due at once
	fmt.Fprintf(conn, "POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nten bytes.")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body stalls: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
	}

	// A body read to its end keeps the connection.
	resp, err = srv.Client().Post(srv.URL+"/read", "text/plain", strings.NewReader("all of it"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("read body: status %d, close %v", resp.StatusCode, resp.Close)
	}
}
