package formattest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// recorder is a T that keeps what a check reports instead of failing the
// test that runs it.
type recorder struct {
	t    *testing.T
	name string

	mu      sync.Mutex
	failed  bool
	skipped bool
	lines   []string
	subs    []*recorder
}

func (r *recorder) note(failed bool, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || failed
	r.lines = append(r.lines, r.name+": "+fmt.Sprintf(format, args...))
}

func (r *recorder) Helper()                           {}
func (r *recorder) Logf(format string, args ...any)   { r.note(false, format, args...) }
func (r *recorder) Errorf(format string, args ...any) { r.note(true, format, args...) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.note(true, format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.note(false, "skipped: "+format, args...)
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) TempDir() string  { return r.t.TempDir() }
func (r *recorder) Cleanup(f func()) { r.t.Cleanup(f) }

// Run runs f on its own goroutine, as testing.T.Run does, so that Fatalf
// and Skipf end the subtest only; a failure fails every parent.
func (r *recorder) Run(name string, f func(T)) bool {
	sub := &recorder{t: r.t, name: r.name + "/" + name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(sub)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || sub.failed
	r.lines = append(r.lines, sub.lines...)
	r.subs = append(r.subs, sub)
	return !sub.failed
}

// find returns the subtest whose name ends in /path, nil if none ran.
func (r *recorder) find(path string) *recorder {
	if strings.HasSuffix(r.name, "/"+path) {
		return r
	}
	for _, s := range r.subs {
		if f := s.find(path); f != nil {
			return f
		}
	}
	return nil
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// runCheck runs one check of the suite against the Maven format, its
// handler wrapped by wrap, and returns what the check, or its subtest
// part, reported.
func runCheck(t *testing.T, check, part string, wrap func(http.Handler) http.Handler) *recorder {
	t.Helper()
	root := &recorder{t: t, name: "suite"}
	root.Run("run", func(t T) { run(t, mavenAdapter, wrap, check) })
	path := check
	if part != "" {
		path += "/" + part
	}
	rec := root.find(path)
	if rec == nil {
		t.Fatalf("%s did not run:\n%s", path, root.report())
	}
	return rec
}

// mavenAdapter is a small adapter of the Maven format: a jar per version,
// published with maven-metadata.xml, and Maven Central serving the same
// layout with .sha1 files.
var mavenAdapter = Adapter{
	Format:    "maven",
	Namespace: "org.example",
	Package:   "demo",
	Publish: func(c *Client, v string) (int, error) {
		if status, err := mavenPut(c, mavenJarPath(v), mavenJar(v)); err != nil || status != http.StatusCreated {
			return status, err
		}
		return mavenPut(c, mavenBase+"maven-metadata.xml", mavenMetadata(v))
	},
	PublishUnfinished: func(c *Client, v string) error {
		if status, err := mavenPut(c, mavenJarPath(v), mavenJar(v)); err != nil || status != http.StatusCreated {
			return fmt.Errorf("status %d, %v", status, err)
		}
		return nil
	},
	AssetPath:  mavenJarPath,
	IndexPath:  mavenBase + "maven-metadata.xml",
	Listed:     func(doc []byte, v string) bool { return bytes.Contains(doc, []byte("<version>"+v+"</version>")) },
	Connection: "public:maven-central",
	Registry: func(u *Upstream) http.Handler {
		files := map[string][]byte{mavenBase + "maven-metadata.xml": mavenMetadata(u.Versions...)}
		for _, v := range u.Versions {
			files[mavenJarPath(v)] = mavenJar(v)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path, sum := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".sha1")
			body, ok := files[path]
			switch {
			case !ok:
				http.NotFound(w, r)
				return
			case sum:
				s := sha1.Sum(body)
				body = []byte(hex.EncodeToString(s[:]))
			case u.Tampered() && strings.HasSuffix(path, ".jar"):
				body = append(body[:len(body)-1:len(body)-1], body[len(body)-1]^1)
			}
			w.Write(body)
		})
	},
}

const mavenBase = "org/example/demo/"

func mavenJarPath(v string) string { return mavenBase + v + "/demo-" + v + ".jar" }

func mavenJar(v string) []byte { return []byte("PK demo " + v) }

func mavenMetadata(versions ...string) []byte {
	var b strings.Builder
	b.WriteString("<metadata><groupId>org.example</groupId><artifactId>demo</artifactId><versioning><versions>")
	for _, v := range versions {
		b.WriteString("<version>" + v + "</version>")
	}
	b.WriteString("</versions></versioning></metadata>")
	return []byte(b.String())
}

func mavenPut(c *Client, path string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPut, c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// onDataPlane applies f to requests of the Maven endpoints only.
func onDataPlane(f func(next http.Handler, w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/maven/") {
				next.ServeHTTP(w, r)
				return
			}
			f(next, w, r)
		})
	}
}

// buffered serves r with next into a recorder, for a middleware to change
// the answer; a handler that cuts its answer short leaves what it wrote.
func buffered(next http.Handler, r *http.Request) (rec *httptest.ResponseRecorder) {
	rec = httptest.NewRecorder()
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			panic(v)
		}
	}()
	next.ServeHTTP(rec, r)
	return rec
}

// copyAnswer sends what rec holds.
func copyAnswer(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// replayRefusedReads serves a read refused with 403 again with the
// credentials of the last publish that succeeded (the root's).
func replayRefusedReads() func(http.Handler) http.Handler {
	var mu sync.Mutex
	var granted string
	return onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		rec := buffered(next, r)
		mu.Lock()
		if r.Method == http.MethodPut && rec.Code/100 == 2 {
			granted = r.Header.Get("Authorization")
		}
		replay := granted
		mu.Unlock()
		if rec.Code == http.StatusForbidden && r.Method == http.MethodGet && replay != "" {
			r.Header.Set("Authorization", replay)
			next.ServeHTTP(w, r)
			return
		}
		copyAnswer(w, rec)
	})
}

// alsoThroughMid reads what a client read through repository app through
// repository mid as well, which makes mid keep it.
var alsoThroughMid = onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := buffered(next, r)
	if r.Method == http.MethodGet && rec.Code == http.StatusOK && strings.Contains(r.URL.Path, "/app/") {
		mid := r.Clone(r.Context())
		mid.URL.Path = strings.Replace(r.URL.Path, "/app/", "/mid/", 1)
		buffered(next, mid)
	}
	copyAnswer(w, rec)
})

// conflictAccepted answers 201 to a publish refused with 409.
var conflictAccepted = onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := buffered(next, r)
	if rec.Code == http.StatusConflict && r.Method == http.MethodPut {
		w.WriteHeader(http.StatusCreated)
		return
	}
	copyAnswer(w, rec)
})

// Each case breaks one rule with a middleware in front of a real coffer and
// the check of that rule must report it; without the middleware the same
// check passes, so that the failure is the rule's.
func TestSuiteFailsWhenARuleIsBroken(t *testing.T) {
	for _, tc := range []struct {
		check, part, rule string
		wrap              func(http.Handler) http.Handler
	}{
		{CheckUnauthenticated, "", "a read without a token is answered 200",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") == "" {
					w.Write([]byte("public after all"))
					return
				}
				next.ServeHTTP(w, r)
			})},
		{CheckReadDenied, "", "a refused read is served with the credentials of an earlier publish", replayRefusedReads()},
		{CheckPublishDenied, "", "a refused publish is answered 201",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				rec := buffered(next, r)
				if rec.Code == http.StatusForbidden && r.Method == http.MethodPut {
					w.WriteHeader(http.StatusCreated)
					return
				}
				copyAnswer(w, rec)
			})},
		{CheckStatuses, "", "an Archived (Disposed, Unfinished) version is served",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				rec := buffered(next, r)
				if rec.Code == http.StatusNotFound {
					w.Write([]byte("the bytes of a version that is not to be served"))
					return
				}
				copyAnswer(w, rec)
			})},
		{CheckUpstreamRetention, "", "the intermediate repository retains what is read", alsoThroughMid},
		{CheckExternalRetention, "", "the intermediate repository retains what is fetched", alsoThroughMid},
		{CheckPublishConflict, "UpstreamRepository", "a publish of what an upstream repository holds is answered 201", conflictAccepted},
		{CheckPublishConflict, "Ingested", "a publish of what was ingested upstream is answered 201", conflictAccepted},
		{CheckNotModified, "", "If-None-Match is ignored",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				r.Header.Del("If-None-Match")
				next.ServeHTTP(w, r)
			})},
		{CheckHead, "", "HEAD has no ETag",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				rec := buffered(next, r)
				if r.Method == http.MethodHead {
					rec.Header().Del("ETag")
				}
				copyAnswer(w, rec)
			})},
		{CheckInternalError, "", "a 500 tells its cause",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				rec := buffered(next, r)
				if rec.Code == http.StatusInternalServerError {
					rec.Body.WriteString(": " + syscall.ELOOP.Error())
				}
				copyAnswer(w, rec)
			})},
		{CheckTeeCut, "", "a download that fails its verification is completed",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				rec := buffered(next, r)
				rec.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
				copyAnswer(w, rec)
			})},
		{CheckOriginBlock, "", "a blocked read is served through the connection's repository",
			onDataPlane(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				rec := buffered(next, r)
				if rec.Code == http.StatusNotFound && strings.HasSuffix(r.URL.Path, ".jar") {
					r = r.Clone(r.Context())
					r.URL.Path = strings.Replace(r.URL.Path, "/app/", "/ext/", 1)
					next.ServeHTTP(w, r)
					return
				}
				copyAnswer(w, rec)
			})},
	} {
		name := tc.check
		if tc.part != "" {
			name += "/" + tc.part
		}
		t.Run(name, func(t *testing.T) {
			if rec := runCheck(t, tc.check, tc.part, tc.wrap); !rec.failed {
				t.Errorf("with %s, the check passed:\n%s", tc.rule, rec.report())
			} else {
				t.Logf("with %s, the check reports:\n%s", tc.rule, rec.report())
			}
			if rec := runCheck(t, tc.check, tc.part, nil); rec.failed || rec.skipped {
				t.Errorf("without the middleware, the check does not pass:\n%s", rec.report())
			}
		})
	}
}
