package main

// The hostile upstream: two HTTP servers on 127.0.0.1 that coffer is
// configured to use as public:npmjs and public:pypi, and a "victim" server on
// another loopback port that no upstream may make coffer reach. What they
// serve depends on the first word of the package name (see upKinds).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// upKinds are the hostile behaviours, by name prefix. A reader asks coffer
// for "<kind>-<n>" and, for the kinds marked so, then for the artifact the
// document lists.
var upKinds = []string{
	"huge",      // a ~HUGE_MIB document generated as it is sent (npm packument, PyPI page; "huge-json" for PEP 691 JSON)
	"drip",      // headers at once, then one byte a second
	"slowhead",  // no headers for 40 s
	"stall",     // 2 MiB quickly, then nothing
	"redirect",  // 302/307 to the victim (127.0.0.1 or localhost, another port)
	"loop",      // redirects to itself, forever
	"evil",      // a valid document whose artifact URL is on the victim; the reader then asks for the artifact
	"badfile",   // a valid document whose artifact is served with other bytes than its checksum; the reader asks for it
	"driptgz",   // a valid document whose artifact drips; the reader asks for it
	"random",    // 1 MiB of random bytes
	"trunc",     // Content-Length 10 MiB, 64 KiB sent, connection closed
	"nested",    // 8 MiB of '[' (npm) or '<a>' (PyPI)
	"gzipbomb",  // Content-Encoding: gzip of 512 MiB of spaces
	"err500",    // 500 with a body
	"reset",     // connection reset before any answer
	"wrongtype", // well-formed JSON of the wrong shape
}

// followUp says which kinds are read in two steps (document, then artifact).
var followUp = map[string]bool{"evil": true, "badfile": true, "driptgz": true}

type hostileUpstream struct {
	victim           *victim
	hugeBytes        int64
	stop             chan struct{} // closed when the load is over: every handler returns
	served           sync.Map      // "npm huge" -> *atomic.Int64
	servedBytes      atomic.Int64
	npmURL, pypiURL  string // base URLs as configured in coffer
	npmSrv, pypiSrv  *http.Server
	npmAddr, pyAddr  string
	gzipBombOnce     sync.Once
	gzipBomb         []byte
	descPool, shaHex []string
	integrity        []string
}

type victim struct {
	srv  *http.Server
	addr string
	hits atomic.Int64
	mu   sync.Mutex
	seen []string
}

func (v *victim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.hits.Add(1)
	v.mu.Lock()
	if len(v.seen) < 10 {
		v.seen = append(v.seen, r.Method+" "+r.URL.String()+" from "+r.Header.Get("User-Agent"))
	}
	v.mu.Unlock()
	io.WriteString(w, "secret of the internal network\n")
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func serve(l net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(l)
	return srv
}

func startHostileUpstream(hugeMiB int) (*hostileUpstream, error) {
	u := &hostileUpstream{victim: &victim{}, hugeBytes: int64(hugeMiB) << 20, stop: make(chan struct{})}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the a of registry package version module install build test lint bundle stream buffer parse render serve cache token " +
		"upstream mirror proxy tarball integrity digest manifest lock resolve semver range peer optional dev engine node browser")
	for range 64 {
		var b strings.Builder
		for b.Len() < 7000 {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		u.descPool = append(u.descPool, strconv.Quote(b.String()))
		var sum [32]byte
		for i := range sum {
			sum[i] = byte(rng.Uint32())
		}
		u.shaHex = append(u.shaHex, hex.EncodeToString(sum[:]))
		var s512 [64]byte
		for i := range s512 {
			s512[i] = byte(rng.Uint32())
		}
		u.integrity = append(u.integrity, "sha512-"+base64.StdEncoding.EncodeToString(s512[:]))
	}
	lv, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	u.victim.addr = lv.Addr().String()
	u.victim.srv = serve(lv, u.victim)
	ln, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	lp, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	u.npmAddr, u.pyAddr = ln.Addr().String(), lp.Addr().String()
	u.npmURL = "http://" + u.npmAddr + "/"
	u.pypiURL = "http://" + u.pyAddr + "/simple/"
	u.npmSrv = serve(ln, http.HandlerFunc(u.serveNPM))
	u.pypiSrv = serve(lp, http.HandlerFunc(u.servePyPI))
	return u, nil
}

// stopServing makes every handler return and drops idle keep-alive
// connections (coffer's pooled connections to the upstream), so that what
// coffer holds afterwards is its own.
func (u *hostileUpstream) stopServing() {
	close(u.stop)
	u.npmSrv.SetKeepAlivesEnabled(false)
	u.pypiSrv.SetKeepAlivesEnabled(false)
}

func (u *hostileUpstream) close() {
	for _, s := range []*http.Server{u.npmSrv, u.pypiSrv, u.victim.srv} {
		s.Close()
	}
}

func (u *hostileUpstream) count(key string) {
	v, _ := u.served.LoadOrStore(key, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// wait sleeps d unless the load is over or the request gone; false if it
// did not sleep the whole time.
func (u *hostileUpstream) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-u.stop:
	case <-r.Context().Done():
	}
	return false
}

func kindOf(name string) string {
	if strings.HasPrefix(name, "huge-json") {
		return "huge-json"
	}
	k, _, _ := strings.Cut(name, "-")
	return k
}

// common handles the behaviours shared by both formats; it returns false
// when the kind is format-specific.
func (u *hostileUpstream) common(w http.ResponseWriter, r *http.Request, format, kind, self string, prefix []byte) bool {
	switch kind {
	case "drip":
		w.Header().Set("Content-Type", contentType(format))
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		w.Write(prefix)
		rc.Flush()
		for i := 0; i < 120 && u.wait(r, time.Second); i++ {
			if _, err := w.Write([]byte{' '}); err != nil {
				return true
			}
			rc.Flush()
		}
	case "slowhead":
		u.wait(r, 40*time.Second)
		http.Error(w, "late", http.StatusServiceUnavailable)
	case "stall":
		w.Header().Set("Content-Type", contentType(format))
		w.WriteHeader(http.StatusOK)
		w.Write(prefix)
		w.Write(bytes.Repeat([]byte{' '}, 2<<20))
		http.NewResponseController(w).Flush()
		u.wait(r, 120*time.Second)
	case "redirect":
		host := u.victim.addr
		if r.URL.Query().Get("n") == "" && rand.IntN(2) == 0 {
			_, port, _ := net.SplitHostPort(host)
			host = "localhost:" + port
		}
		code := []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusMovedPermanently}[rand.IntN(3)]
		http.Redirect(w, r, "http://"+host+"/latest/meta-data/iam/security-credentials/"+format, code)
	case "loop":
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n > 100 { // a client that follows 100 redirects has no limit; stop anyway
			http.Error(w, "loop ends", http.StatusGone)
			return true
		}
		http.Redirect(w, r, self+"?n="+strconv.Itoa(n+1), http.StatusFound)
	case "random":
		w.Header().Set("Content-Type", contentType(format))
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = byte(rand.Uint32())
		}
		w.Write(b)
	case "trunc":
		w.Header().Set("Content-Type", contentType(format))
		w.Header().Set("Content-Length", strconv.Itoa(10<<20))
		w.WriteHeader(http.StatusOK)
		w.Write(prefix)
		w.Write(bytes.Repeat([]byte{' '}, 64<<10))
		http.NewResponseController(w).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	case "nested":
		w.Header().Set("Content-Type", contentType(format))
		unit := []byte("[")
		if format == "pypi" {
			unit = []byte("<a>")
		}
		w.Write(prefix)
		chunk := bytes.Repeat(unit, 64<<10/len(unit))
		for range (8 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
	case "gzipbomb":
		w.Header().Set("Content-Type", contentType(format))
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(u.bomb())
	case "err500":
		http.Error(w, "internal upstream trouble", http.StatusInternalServerError)
	case "reset":
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
	default:
		return false
	}
	return true
}

func contentType(format string) string {
	if format == "npm" {
		return "application/json"
	}
	return "text/html"
}

// bomb is the gzip of 512 MiB of spaces (about 0.5 MiB), made once.
func (u *hostileUpstream) bomb() []byte {
	u.gzipBombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		zw.Write([]byte(`{"name":"gzipbomb","versions":{`))
		chunk := bytes.Repeat([]byte{' '}, 1<<20)
		for range 512 {
			zw.Write(chunk)
		}
		zw.Close()
		u.gzipBomb = buf.Bytes()
	})
	return u.gzipBomb
}

// ---------------------------------------------------------------- npm

func (u *hostileUpstream) serveNPM(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	name, file, isTarball := strings.Cut(p, "/-/")
	kind := kindOf(name)
	u.count("npm " + kind)
	if isTarball {
		u.npmTarball(w, r, name, file, kind)
		return
	}
	self := u.npmURL + name
	prefix := []byte(`{"_id":"` + name + `","name":"` + name + `","versions":{`)
	if u.common(w, r, "npm", kind, self, prefix) {
		return
	}
	switch kind {
	case "huge", "huge-json":
		w.Header().Set("Content-Type", "application/json")
		n, _ := u.hugePackument(w, name)
		u.servedBytes.Add(n)
	case "evil", "badfile", "driptgz":
		tgz := []byte("a tarball of " + name)
		tarball := u.npmURL + name + "/-/" + name + "-1.0.0.tgz"
		if kind == "evil" {
			tarball = "http://" + u.victim.addr + "/latest/meta-data/" + name + "-1.0.0.tgz"
		}
		s := sha512.Sum512(tgz)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"_id":%q,"name":%q,"dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":%q,"version":"1.0.0",`+
			`"dist":{"tarball":%q,"integrity":"sha512-%s"}}},"time":{"1.0.0":"2020-01-01T00:00:00.000Z"}}`,
			name, name, name, tarball, base64.StdEncoding.EncodeToString(s[:]))
	case "wrongtype":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"_id":7,"name":[%q],"dist-tags":"latest","versions":[{"version":{}},null,1e999],"time":{"1.0.0":{"x":[]}},"_attachments":"x"}`, name)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"Not found"}`)
	}
}

func (u *hostileUpstream) npmTarball(w http.ResponseWriter, r *http.Request, name, file, kind string) {
	switch kind {
	case "badfile":
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, "other bytes than the integrity says, for "+name)
	case "driptgz":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := 0; i < 120 && u.wait(r, time.Second); i++ {
			if _, err := w.Write([]byte{0}); err != nil {
				return
			}
			rc.Flush()
		}
	default:
		http.NotFound(w, r)
	}
}

// hugePackument streams a packument of about u.hugeBytes: versions of
// about 10 KiB each (a description, 120 dependencies, dist), then the time
// block. Nothing of it is held in memory but the 64 pre-made descriptions.
func (u *hostileUpstream) hugePackument(w io.Writer, name string) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &countWriter{w: bw}
	rng := rand.New(rand.NewPCG(uint64(len(name)), 7))
	fmt.Fprintf(cw, `{"_id":%q,"name":%q,"dist-tags":{"latest":"1.0.0"},"versions":{`, name, name)
	var deps strings.Builder
	n := 0
	for ; cw.n < u.hugeBytes && cw.err == nil; n++ {
		select {
		case <-u.stop:
			return cw.n, nil // cut short: the client gets a truncated document
		default:
		}
		if n > 0 {
			cw.Write([]byte{','})
		}
		v := "1." + strconv.Itoa(n) + ".0"
		deps.Reset()
		for d := range 120 {
			if d > 0 {
				deps.WriteByte(',')
			}
			fmt.Fprintf(&deps, `"dep-%03d-%x":"^%d.%d.%d"`, d, rng.Uint32()&0xfff, rng.IntN(20), rng.IntN(20), rng.IntN(20))
		}
		fmt.Fprintf(cw, `%q:{"name":%q,"version":%q,"description":%s,"license":"MIT","main":"index.js","dependencies":{%s},`+
			`"scripts":{"test":"node test.js"},"_npmUser":{"name":"gen","email":"gen@example.com"},`+
			`"dist":{"tarball":"%s%s/-/%s-%s.tgz","integrity":"%s","shasum":"%s"}}`,
			v, name, v, u.descPool[rng.IntN(len(u.descPool))], deps.String(), u.npmURL, name, name, v,
			u.integrity[rng.IntN(64)], u.shaHex[rng.IntN(64)][:40])
	}
	io.WriteString(cw, `},"time":{"created":"2020-01-01T00:00:00.000Z"`)
	for i := range n {
		fmt.Fprintf(cw, `,"1.%d.0":"2020-01-%02dT00:00:00.000Z"`, i, 1+i%28)
	}
	io.WriteString(cw, `}}`)
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// ---------------------------------------------------------------- PyPI

func (u *hostileUpstream) servePyPI(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/files/"); ok {
		u.pypiFile(w, r, rest)
		return
	}
	project, ok := strings.CutPrefix(r.URL.Path, "/simple/")
	project = strings.TrimSuffix(project, "/")
	if !ok || project == "" {
		http.NotFound(w, r)
		return
	}
	kind := kindOf(project)
	u.count("pypi " + kind)
	self := u.pypiURL + project + "/"
	prefix := []byte("<!DOCTYPE html><html><body>\n")
	if u.common(w, r, "pypi", kind, self, prefix) {
		return
	}
	norm := strings.ReplaceAll(project, "-", "_")
	switch kind {
	case "huge":
		w.Header().Set("Content-Type", "text/html")
		n, _ := u.hugePage(w, project, norm, false)
		u.servedBytes.Add(n)
	case "huge-json":
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		n, _ := u.hugePage(w, project, norm, true)
		u.servedBytes.Add(n)
	case "evil", "badfile", "driptgz":
		content := []byte("an sdist of " + project)
		sum := sha256.Sum256(content)
		href := "http://" + u.pyAddr + "/files/" + kind + "/" + norm + "-1.0.tar.gz"
		if kind == "evil" {
			href = "http://" + u.victim.addr + "/packages/" + norm + "-1.0.tar.gz"
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><a href=\"%s#sha256=%s\">%s-1.0.tar.gz</a></body></html>\n", href, hex.EncodeToString(sum[:]), norm)
	case "wrongtype":
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		io.WriteString(w, `{"meta":{"api-version":[]},"name":{},"files":[{"filename":7,"url":null,"hashes":"x"},1,"x"],"versions":{"a":1}}`)
	default:
		http.NotFound(w, r)
	}
}

func (u *hostileUpstream) pypiFile(w http.ResponseWriter, r *http.Request, rest string) {
	kind, _, _ := strings.Cut(rest, "/")
	switch kind {
	case "badfile":
		io.WriteString(w, "other bytes than the sha256 says")
	case "driptgz":
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := 0; i < 120 && u.wait(r, time.Second); i++ {
			if _, err := w.Write([]byte{0}); err != nil {
				return
			}
			rc.Flush()
		}
	default:
		http.NotFound(w, r)
	}
}

// hugePage streams a simple page of about u.hugeBytes: HTML links or PEP
// 691 JSON files, each a distinct file of a distinct version.
func (u *hostileUpstream) hugePage(w io.Writer, project, norm string, asJSON bool) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &countWriter{w: bw}
	files := int(u.hugeBytes / 200)
	if asJSON {
		files = int(u.hugeBytes / 260)
		fmt.Fprintf(cw, `{"meta":{"api-version":"1.1"},"name":%q,"versions":[`, project)
		for i := range files {
			if i > 0 {
				cw.Write([]byte{','})
			}
			fmt.Fprintf(cw, `"1.0.%d"`, i)
		}
		io.WriteString(cw, `],"files":[`)
	} else {
		io.WriteString(cw, "<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.0\"></head><body>\n")
	}
	for i := 0; i < files && cw.err == nil; i++ {
		if i%1024 == 0 {
			select {
			case <-u.stop:
				return cw.n, nil
			default:
			}
		}
		sha := u.shaHex[i%64]
		if asJSON {
			if i > 0 {
				cw.Write([]byte{','})
			}
			fmt.Fprintf(cw, `{"filename":"%s-1.0.%d.tar.gz","url":"../../files/huge/%s-1.0.%d.tar.gz","hashes":{"sha256":"%s"},"requires-python":">=3.8","size":%d,"upload-time":"2020-01-01T00:00:00.000000Z"}`,
				norm, i, norm, i, sha, 1000+i)
		} else {
			fmt.Fprintf(cw, "<a href=\"../../files/huge/%s-1.0.%d.tar.gz#sha256=%s\" data-requires-python=\"&gt;=3.8\">%s-1.0.%d.tar.gz</a><br/>\n",
				norm, i, sha, norm, i)
		}
	}
	if asJSON {
		io.WriteString(cw, "]}")
	} else {
		io.WriteString(cw, "</body></html>\n")
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

// servedSummary lists how many requests of each kind the upstream received.
func (u *hostileUpstream) servedSummary() string {
	var parts []string
	u.served.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("%s:%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
