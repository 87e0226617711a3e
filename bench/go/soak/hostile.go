package main

// Hostile traffic: readers that ask coffer for packages of the hostile
// upstream (classes "up.<format>.<kind>"), and hostile clients that send
// slow bodies ("hc.slow.<target>") and large bodies with a bad signature
// or token ("hc.big.<target>"). All of it stops when the load context is
// cancelled.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type hostileConfig struct {
	readers     int           // concurrent readers of hostile upstream packages
	hugeConc    int           // of which at most this many ask for a huge document at once
	readTimeout time.Duration // per hostile read
	slowClients int
	slowEvery   time.Duration
	slowMax     time.Duration
	bigClients  int
	bigBytes    int64
	bigTimeout  time.Duration
}

var upSeq, upPick, slowPick, bigPick atomic.Int64

// upFormats are the formats whose hostile upstream the readers use.
var upFormats = []string{"npm", "pypi"}

// upstreamReader asks for hostile upstream packages through repository
// work until load is cancelled: it picks a kind and a format, and for the
// kinds that list an artifact, asks for that artifact next.
func (e *env) upstreamReader(load context.Context, cfg hostileConfig, hugeSem chan struct{}) {
	for load.Err() == nil {
		// Round robin over kinds and formats, so that even a short run
		// covers every behaviour.
		n := int(upPick.Add(1) - 1)
		format := upFormats[n%len(upFormats)]
		kind := upKinds[(n/len(upFormats))%len(upKinds)]
		if kind == "huge" {
			if format == "pypi" && rand.IntN(2) == 0 {
				kind = "huge-json"
			}
			select {
			case hugeSem <- struct{}{}:
			case <-load.Done():
				return
			}
		}
		name := fmt.Sprintf("%s-%d", kind, upSeq.Add(1)%2000)
		e.hostileRead(load, cfg, format, kind, name)
		if strings.HasPrefix(kind, "huge") {
			<-hugeSem
		}
	}
}

func (e *env) hostileRead(load context.Context, cfg hostileConfig, format, kind, name string) {
	ctx, cancel := context.WithTimeout(load, cfg.readTimeout)
	defer cancel()
	class := "up." + format + "." + kind
	var doc string
	header := []string{}
	if format == "npm" {
		doc = e.ep["npm"] + name
		header = append(header, "Accept", "application/json")
		if rand.IntN(2) == 0 {
			header = append(header, "Accept-Encoding", "gzip")
		}
	} else {
		doc = e.ep["pypi"] + "simple/" + name + "/"
		accept := []string{"text/html", "application/vnd.pypi.simple.v1+json"}[rand.IntN(2)]
		if followUp[kind] {
			accept = "text/html" // the artifact's link is read from the HTML page
		}
		header = append(header, "Accept", accept)
	}
	st, body := e.rawGet(ctx, class, doc, header...)
	if !followUp[kind] || st != http.StatusOK {
		return
	}
	// The artifact the document lists, through coffer.
	var artifact string
	if format == "npm" {
		artifact = e.ep["npm"] + name + "/-/" + name + "-1.0.0.tgz"
	} else {
		m := hrefRE.FindStringSubmatch(string(body))
		if m == nil {
			record(class+".file", kindUpstream, "nolink", 0, 0, "")
			return
		}
		base, _ := url.Parse(doc)
		f, err := base.Parse(m[1])
		if err != nil || !strings.HasPrefix(f.String(), e.base) {
			record(class+".file", kindUpstream, "foreignlink", 0, 0, m[1])
			return
		}
		f.Fragment = ""
		artifact = f.String()
	}
	e.rawGet(ctx, class+".file", artifact)
}

// rawGet is a GET with the token, recorded in a hostile-upstream class;
// the body is read to its end (kept only when small).
func (e *env) rawGet(ctx context.Context, class, u string, header ...string) (int, []byte) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if strings.Contains(u, "/npm/") {
		req.Header.Set("Authorization", "Bearer "+e.token)
	} else {
		req.SetBasicAuth("aws", e.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	start := time.Now()
	resp, err := e.hc.Do(req)
	if err != nil {
		record(class, kindUpstream, errOutcome(ctx, err), time.Since(start), 0, err.Error())
		return 0, nil
	}
	defer resp.Body.Close()
	var small bytes.Buffer
	n, err := io.Copy(io.MultiWriter(&limitedBuffer{&small, 1 << 20}, io.Discard), resp.Body)
	o := statusOutcome(resp.StatusCode)
	if err != nil {
		o = errOutcome(ctx, err)
		if o == "err:other" || o == "err:eof" {
			o = outcome(fmt.Sprintf("%d+cut", resp.StatusCode)) // the status came, the body was cut short
		}
	}
	record(class, kindUpstream, o, time.Since(start), n, fmt.Sprintf("GET %s: %.300s", u, small.Bytes()))
	return resp.StatusCode, small.Bytes()
}

type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// ---------------------------------------------------------------- raw requests

// rawRequest is a request written by hand on its own connection, so that
// its body can be paced or cut at will.
type rawRequest struct {
	method, path string
	header       http.Header
	length       int64 // -1: chunked
}

func (r rawRequest) head(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.method, r.path, host)
	r.header.Write(&b)
	if r.length >= 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", r.length)
	} else {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// exchange dials, writes the head, then calls body with a writer onto the
// connection and a channel closed when the server answered (or closed the
// connection). It returns the outcome and how many body bytes were written
// before the answer.
type answer struct {
	status int
	err    error
	at     time.Time
}

func (e *env) exchange(ctx context.Context, r rawRequest, deadline time.Duration,
	body func(w io.Writer, answered <-chan struct{}) (int64, error)) (outcome, int64, time.Duration) {
	host := strings.TrimPrefix(e.base, "http://")
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return errOutcome(ctx, err), 0, time.Since(start)
	}
	defer conn.Close()
	conn.SetDeadline(start.Add(deadline))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	answered := make(chan struct{})
	var ans answer
	go func() {
		defer close(answered)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		ans.at = time.Now()
		if err != nil {
			ans.err = err
			return
		}
		ans.status = resp.StatusCode
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	var sent int64
	if _, err = conn.Write(r.head(host)); err == nil {
		sent, err = body(conn, answered)
	}
	if err == nil && r.length < 0 {
		_, err = io.WriteString(conn, "0\r\n\r\n")
	}
	// Wait for the answer: at once if the body was cut (the soak gave up,
	// or the server closed the connection).
	if err != nil {
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	}
	<-answered
	elapsed := time.Since(start)
	switch {
	case ans.err == nil:
		return statusOutcome(ans.status), sent, ans.at.Sub(start)
	case ctx.Err() != nil:
		return "cancelled", sent, elapsed
	case err != nil && err == errAbandoned:
		return "abandoned", sent, elapsed
	case ans.err == io.EOF || ans.err == io.ErrUnexpectedEOF || isReset(ans.err) || isReset(err):
		return "closed", sent, elapsed
	}
	return errOutcome(ctx, ans.err), sent, elapsed
}

var errAbandoned = fmt.Errorf("soak: slow body abandoned")

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// ---------------------------------------------------------------- slow bodies

// slowTargets: requests whose body (of 1 MiB) comes one byte every
// cfg.slowEvery, abandoned after cfg.slowMax. "headers" sends the header
// block itself that way; "-stalled" sends no body byte at all; "-small"
// declares a body of 1000 bytes (under the 256 KiB that net/http reads
// from an unread body before it writes an answer).
var slowTargets = []string{"cp-publish-signed", "cp-badsig", "npm-publish", "npm-noauth", "npm-noauth-stalled",
	"npm-noauth-small", "npm-noauth-small-stalled", "maven-put", "pypi-upload", "headers"}

func (e *env) slowClient(load context.Context, cfg hostileConfig) {
	for load.Err() == nil {
		target := slowTargets[int(slowPick.Add(1)-1)%len(slowTargets)]
		class := "hc.slow." + target
		if target == "headers" {
			o, d := e.slowHeaders(load, cfg)
			record(class, kindClient, o, d, 0, "")
			continue
		}
		base, stalled := strings.CutSuffix(target, "-stalled")
		length := int64(1 << 20)
		if b, ok := strings.CutSuffix(base, "-small"); ok {
			base, length = b, 1000
		}
		r := e.hostileRequest(base, length)
		// What the body starts with, sent at once, so that the server has
		// a valid beginning to wait on; then one byte at a time.
		var prefix []byte
		drip := byte('x')
		switch target {
		case "cp-publish-signed":
			drip = '{' // the signed payload hash is of length bytes of '{'
		case "npm-publish":
			prefix = []byte(`{"_id":"hostile","name":"hostile","description":"`)
		case "pypi-upload":
			prefix = []byte("--soakboundary\r\nContent-Disposition: form-data; name=\"summary\"\r\n\r\n")
		}
		start := time.Now()
		o, sent, d := e.exchange(load, r, cfg.slowMax+30*time.Second, func(w io.Writer, answered <-chan struct{}) (int64, error) {
			n, err := w.Write(prefix)
			if err != nil {
				return int64(n), err
			}
			sent := int64(n)
			t := time.NewTicker(cfg.slowEvery)
			defer t.Stop()
			for time.Since(start) < cfg.slowMax {
				select {
				case <-answered:
					return sent, nil
				case <-load.Done():
					return sent, load.Err()
				case <-t.C:
				}
				if stalled {
					continue
				}
				if _, err := w.Write([]byte{drip}); err != nil {
					return sent, err
				}
				sent++
			}
			return sent, errAbandoned
		})
		record(class, kindClient, o, d, sent, "")
	}
}

// slowHeaders sends a request's header block one byte every cfg.slowEvery.
func (e *env) slowHeaders(load context.Context, cfg hostileConfig) (outcome, time.Duration) {
	host := strings.TrimPrefix(e.base, "http://")
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(load, "tcp", host)
	if err != nil {
		return errOutcome(load, err), 0
	}
	defer conn.Close()
	stop := context.AfterFunc(load, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	head := []byte("GET " + strings.TrimPrefix(e.ep["npm"], e.base) + "soak-npm-00 HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + e.token + "\r\nX-Padding: " + strings.Repeat("p", 4096) + "\r\n\r\n")
	closed := make(chan struct{})
	go func() { // the server closing the connection (or answering) ends it
		defer close(closed)
		var b [1]byte
		conn.Read(b[:])
	}()
	t := time.NewTicker(cfg.slowEvery)
	defer t.Stop()
	for i := 0; i < len(head); i++ {
		if time.Since(start) >= cfg.slowMax {
			return "abandoned", time.Since(start)
		}
		if _, err := conn.Write(head[i : i+1]); err != nil {
			return "closed", time.Since(start)
		}
		select {
		case <-closed:
			return "closed", time.Since(start)
		case <-load.Done():
			return "cancelled", time.Since(start)
		case <-t.C:
		}
	}
	return "sent", time.Since(start)
}

// hostileRequest builds the head of a hostile request to target, with a
// body of length bytes (-1: chunked). Signed requests carry a valid SigV4
// signature; "badsig" ones the root access key id with a garbage
// signature.
func (e *env) hostileRequest(target string, length int64) rawRequest {
	h := http.Header{}
	q := url.Values{"domain": {domain}, "repository": {workRepo}, "format": {"generic"}, "namespace": {genNS},
		"package": {"hostile"}, "version": {fmt.Sprintf("9.9.%d", rand.IntN(1<<30))}, "asset": {"h.bin"}}
	cpPath := "/v1/package/version/publish?" + q.Encode()
	path := func(full string) string { return strings.TrimPrefix(full, e.base) }
	switch target {
	case "cp-publish-signed":
		// A valid signature over a payload hash of length bytes of '{'.
		sum := sha256.Sum256(bytes.Repeat([]byte{'{'}, int(length)))
		hexSum := hex.EncodeToString(sum[:])
		req, _ := http.NewRequest(http.MethodPost, e.base+cpPath, nil)
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-Amz-Content-Sha256", hexSum)
		v4.NewSigner().SignHTTP(context.Background(), e.creds, req, hexSum, "codeartifact", "us-east-1", time.Now())
		return rawRequest{http.MethodPost, cpPath, req.Header, length}
	case "cp-badsig", "cp-badsig-unsigned", "cp-badsig-nohash", "iam-badsig":
		service, p := "codeartifact", cpPath
		if target == "iam-badsig" {
			service, p = "iam", "/"
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			h.Set("Content-Type", "application/octet-stream")
		}
		now := time.Now().UTC()
		signed := "host;x-amz-date"
		switch target {
		case "cp-badsig":
			h.Set("X-Amz-Content-Sha256", hex.EncodeToString(randomBytes(32)))
			signed = "host;x-amz-content-sha256;x-amz-date"
		case "cp-badsig-unsigned":
			h.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			signed = "host;x-amz-content-sha256;x-amz-date"
		}
		h.Set("X-Amz-Date", now.Format("20060102T150405Z"))
		h.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			e.creds.AccessKeyID, now.Format("20060102"), service, signed, hex.EncodeToString(randomBytes(32))))
		return rawRequest{http.MethodPost, p, h, length}
	case "npm-publish", "npm-noauth", "npm-badtoken":
		switch target {
		case "npm-publish":
			h.Set("Authorization", "Bearer "+e.token)
		case "npm-badtoken":
			h.Set("Authorization", "Bearer "+garbageToken(len(e.token)))
		}
		h.Set("Content-Type", "application/json")
		return rawRequest{http.MethodPut, path(e.ep["npm"]) + "hostile-" + strconv.Itoa(rand.IntN(1000)), h, length}
	case "maven-put", "maven-badtoken":
		tok := e.token
		if target == "maven-badtoken" {
			tok = garbageToken(len(e.token))
		}
		req, _ := http.NewRequest(http.MethodPut, e.base, nil)
		req.SetBasicAuth("aws", tok)
		h.Set("Authorization", req.Header.Get("Authorization"))
		v := fmt.Sprintf("6.6.%d", rand.IntN(1<<30))
		return rawRequest{http.MethodPut, path(e.ep["maven"]) + mvnBase("hostile") + v + "/hostile-" + v + ".jar", h, length}
	case "pypi-upload":
		req, _ := http.NewRequest(http.MethodPost, e.base, nil)
		req.SetBasicAuth("aws", e.token)
		h.Set("Authorization", req.Header.Get("Authorization"))
		h.Set("Content-Type", "multipart/form-data; boundary=soakboundary")
		return rawRequest{http.MethodPost, path(e.ep["pypi"]), h, length}
	}
	panic("unknown target " + target)
}

func garbageToken(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
	b := make([]byte, max(n, 32))
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// ---------------------------------------------------------------- big bodies

// bigTargets: bodies of cfg.bigBytes with the root access key id and a
// garbage signature, or a garbage token, or no credentials; "-chunked"
// without a Content-Length.
var bigTargets = []string{"cp-badsig", "cp-badsig-unsigned", "cp-badsig-nohash", "cp-badsig-nohash-chunked", "iam-badsig",
	"npm-badtoken", "npm-noauth-chunked", "maven-badtoken"}

func (e *env) bigClient(load context.Context, cfg hostileConfig) {
	chunk := bytes.Repeat([]byte("hostile body "), 64<<10/13)
	for load.Err() == nil {
		target := bigTargets[int(bigPick.Add(1)-1)%len(bigTargets)]
		class := "hc.big." + target
		length := cfg.bigBytes
		base := target
		if t, ok := strings.CutSuffix(target, "-chunked"); ok {
			length, base = -1, t
		}
		r := e.hostileRequest(base, length)
		o, sent, d := e.exchange(load, r, cfg.bigTimeout, func(w io.Writer, answered <-chan struct{}) (int64, error) {
			var n int64
			for n < cfg.bigBytes {
				select {
				case <-answered:
					return n, nil
				default:
				}
				p := chunk[:min(int64(len(chunk)), cfg.bigBytes-n)]
				var err error
				if length < 0 {
					_, err = fmt.Fprintf(w, "%x\r\n%s\r\n", len(p), p)
				} else {
					_, err = w.Write(p)
				}
				if err != nil {
					return n, err
				}
				n += int64(len(p))
			}
			return n, nil
		})
		noteSent(class, kindClient, sent)
		record(class, kindClient, o, d, sent, "")
	}
}
