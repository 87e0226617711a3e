package npm_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	"coffer/internal/format/npm"
)

// inProcess sends a request to the handler in the test's own goroutine, with no
// connection in between, so that what the handler reads of body is exactly
// what body hands out. size is the declared Content-Length (-1: unknown).
func (e *env) inProcess(method, repo, path string, body io.Reader, size int64, header ...string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, e.base+repo+"/"+path, body)
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	return response{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()}
}

// tmpFiles lists what is left in the handler's spool directory.
func (e *env) tmpFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.tmpDir)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range entries {
		out = append(out, d.Name())
	}
	return out
}

// errorMessage is the message of npm's error shape {"error": "..."}.
func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	var m struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil || m.Error == "" {
		t.Fatalf("not npm's error shape: %d %s", r.status, r.body)
	}
	return m.Error
}

// countingBody is a request body that counts what is read of it; once at
// bytes have been read, then (if set) decides what the next Read does
// (fail, panic, cancel the request).
type countingBody struct {
	r    io.Reader
	n    int64
	at   int64
	then func() error
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.then != nil && b.n >= b.at {
		return 0, b.then()
	}
	if b.then != nil && int64(len(p)) > b.at-b.n {
		p = p[:b.at-b.n]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

var errClientGone = errors.New("the client went away")

// neverEnding fails a test whose handler reads more than max bytes.
func neverEnding(r io.Reader, max int64) *countingBody {
	return &countingBody{r: r, at: max, then: func() error { return errClientGone }}
}

// repeatReader hands out b n times.
type repeatReader struct {
	b   []byte
	n   int64
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	c := copy(p, r.b[r.off:])
	if r.off += c; r.off == len(r.b) {
		r.off, r.n = 0, r.n-1
	}
	return c, nil
}

// base64Of is the base64 of size bytes of a repeating pattern, produced as
// it is read, and its length.
func base64Of(size int64) (io.Reader, int64) {
	chunk := bytes.Repeat([]byte("npm tarball\n"), 4096) // 48 KiB, a multiple of 3
	enc := []byte(base64.StdEncoding.EncodeToString(chunk))
	full := size / int64(len(chunk))
	rest := []byte(base64.StdEncoding.EncodeToString(chunk[:size%int64(len(chunk))]))
	return io.MultiReader(&repeatReader{b: enc, n: full}, bytes.NewReader(rest)), full*int64(len(enc)) + int64(len(rest))
}

// bigPublish is an npm publish body made as it is read: a version document
// with a readme of readme bytes, and a tarball of tarball bytes (or the
// attachment data as is, when data is set).
type bigPublish struct {
	name, version   string
	readme          int
	tarball         int64
	data            *string
	attachmentFirst bool
	// length, when set, is announced before the data.
	length *int64
}

var fakeIntegrity = func() string { s := sha512.Sum512(nil); return "sha512-" + base64.StdEncoding.EncodeToString(s[:]) }()

// reader returns the body and its length.
func (p bigPublish) reader() (io.Reader, int64) {
	doc := `{"name":"` + p.name + `","version":"` + p.version + `","description":"big","readme":"` + strings.Repeat("r", p.readme) +
		`","_id":"` + p.name + "@" + p.version + `","dist":{"integrity":"` + fakeIntegrity + `","tarball":"http://localhost/x.tgz"}}`
	document := `"_id":"` + p.name + `","name":"` + p.name + `","dist-tags":{"latest":"` + p.version + `"},"versions":{"` + p.version + `":` + doc + `}`
	att := `"_attachments":{"` + p.name + "-" + p.version + `.tgz":{"content_type":"application/octet-stream",`
	if p.length != nil {
		att += fmt.Sprintf(`"length":%d,`, *p.length)
	}
	att += `"data":"`
	var data io.Reader
	var n int64
	if p.data != nil {
		data, n = strings.NewReader(*p.data), int64(len(*p.data))
	} else {
		data, n = base64Of(p.tarball)
	}
	var head, tail string
	if p.attachmentFirst {
		head, tail = `{`+att, `"}},`+document+`}`
	} else {
		head, tail = `{`+document+`,`+att, `"}}}`
	}
	return io.MultiReader(strings.NewReader(head), data, strings.NewReader(tail)), int64(len(head)) + n + int64(len(tail))
}

// headLength is how many bytes of the body come before the data.
func (p bigPublish) headLength() int64 {
	p.tarball, p.data = 0, new(string)
	_, n := p.reader()
	return n - int64(len(`"}}}`))
}

// TestPutAuthorizedBeforeTheBodyIsRead: a PUT on a package is refused
// before a byte of its body is read when the caller may do none of what
// such a PUT can do (publish, deprecate, unpublish); a caller who may
// change metadata but not publish gets the publish refused before a byte
// of its tarball is read, and may still deprecate.
func TestPutAuthorizedBeforeTheBodyIsRead(t *testing.T) {
	e := newEnv(t)
	e.publish("solo", pkg{name: "fx-auth", version: "1.0.0"})
	e.publish("solo", pkg{name: "fx-auth", version: "1.1.0"})
	write := e.get("solo", "fx-auth?write=true", "Accept", fullDoc)
	rev := write.json(t)["_rev"].(string)
	deprecation := func() []byte {
		doc := write.json(t)
		docVersions(doc)["1.0.0"].(map[string]any)["deprecated"] = "old"
		b, _ := json.Marshal(doc)
		return b
	}
	unpublication := func() []byte { // of 1.0.0, which no dist-tag names
		doc := write.json(t)
		delete(docVersions(doc), "1.0.0")
		b, _ := json.Marshal(doc)
		return b
	}
	publication := bigPublish{name: "fx-auth", version: "2.0.0", readme: 1 << 20, tarball: 8 << 20}

	for _, a := range []string{"codeartifact:PublishPackageVersion", "codeartifact:PutPackageMetadata", "codeartifact:DeletePackageVersions"} {
		e.az.set(a, true)
	}
	for name, c := range map[string]struct {
		path   string
		body   func() (io.Reader, int64)
		header []string
	}{
		"publish": {"fx-auth", publication.reader, nil},
		"deprecate": {"fx-auth", func() (io.Reader, int64) { b := deprecation(); return bytes.NewReader(b), int64(len(b)) },
			[]string{"npm-command", "deprecate"}},
		"unpublish": {"fx-auth/-rev/" + rev, func() (io.Reader, int64) { b := unpublication(); return bytes.NewReader(b), int64(len(b)) },
			[]string{"npm-command", "unpublish"}},
	} {
		for _, declared := range []bool{true, false} {
			rd, size := c.body()
			if !declared {
				size = -1
			}
			body := &countingBody{r: rd}
			r := e.inProcess("PUT", "solo", c.path, body, size, c.header...)
			if r.status != 403 || body.n != 0 {
				t.Errorf("%s (declared %v) without any write permission: %d after reading %d bytes: %s", name, declared, r.status, body.n, r.body)
			}
			if name == "publish" && !strings.Contains(r.errorMessage(t), "PublishPackageVersion") {
				t.Errorf("publish refused with %s", r.body)
			}
		}
	}
	if vs := e.versions("solo", "fx-auth"); len(vs) != 2 {
		t.Fatalf("versions %v", vs)
	}

	// Metadata but no publish: the tarball is never read.
	e.az.set("codeartifact:PutPackageMetadata", false)
	for _, first := range []bool{false, true} {
		p := publication
		p.attachmentFirst = first
		rd, size := p.reader()
		body := &countingBody{r: rd}
		r := e.inProcess("PUT", "solo", "fx-auth", body, size)
		if r.status != 403 || !strings.Contains(r.errorMessage(t), "PublishPackageVersion") {
			t.Fatalf("publish (attachment first %v) without PublishPackageVersion: %d %s", first, r.status, r.body)
		}
		if limit := p.headLength() + 64<<10; body.n > limit {
			t.Errorf("publish (attachment first %v) without PublishPackageVersion read %d bytes, more than the %d before its data", first, body.n, limit)
		}
		if left := e.tmpFiles(); len(left) != 0 {
			t.Fatalf("spooled %v", left)
		}
	}
	e.az.reset()
	b := deprecation()
	if r := e.inProcess("PUT", "solo", "fx-auth", bytes.NewReader(b), int64(len(b)), "npm-command", "deprecate"); r.status != 200 {
		t.Fatalf("deprecate without PublishPackageVersion: %d %s", r.status, r.body)
	}
	for _, a := range e.az.reset() {
		if strings.Contains(a, "Publish") || strings.Contains(a, "Delete") {
			t.Errorf("npm deprecate asked %s", a)
		}
	}
	// A client that does not say what it does is asked for publish first.
	b = deprecation()
	if r := e.inProcess("PUT", "solo", "fx-auth", bytes.NewReader(b), int64(len(b))); r.status != 200 {
		t.Fatalf("deprecate without npm-command: %d %s", r.status, r.body)
	}
	// Deleting versions but nothing else: npm unpublish of a version.
	e.az.set("codeartifact:PutPackageMetadata", true)
	e.az.set("codeartifact:DeletePackageVersions", false)
	e.az.reset()
	write = e.get("solo", "fx-auth?write=true", "Accept", fullDoc)
	rev = write.json(t)["_rev"].(string)
	b = unpublication()
	if r := e.inProcess("PUT", "solo", "fx-auth/-rev/"+rev, bytes.NewReader(b), int64(len(b)), "npm-command", "unpublish"); r.status != 200 {
		t.Fatalf("unpublish with DeletePackageVersions: %d %s", r.status, r.body)
	}
	for _, a := range e.az.reset() {
		if strings.Contains(a, "Publish") || strings.Contains(a, "PutPackageMetadata") {
			t.Errorf("npm unpublish asked %s", a)
		}
	}
	if vs := e.versions("solo", "fx-auth"); len(vs) != 1 {
		t.Fatalf("versions after unpublish %v", vs)
	}
}

// TestPublishSizeLimits: a publish is bounded by MaxPublishSize, never
// above npm's own 2 GiB: a declared Content-Length over what such a
// publish can weigh is refused before anything is read; a tarball that
// passes the limit stops being read at once; both with npm's 413.
func TestPublishSizeLimits(t *testing.T) {
	const limit = 1 << 20
	e := newEnv(t)
	e.tune = func(c *npm.Config) { c.MaxPublishSize = limit }
	e.restart()
	bound := int64(base64.StdEncoding.EncodedLen(limit)) + npm.DefaultMaxDocumentSize

	for _, first := range []bool{false, true} {
		p := bigPublish{name: "fx-size", version: "1.0.0", tarball: 48 << 20, attachmentFirst: first}
		rd, _ := p.reader()
		body := neverEnding(rd, 8<<20)
		r := e.inProcess("PUT", "solo", "fx-size", body, bound+1)
		if r.status != 413 || body.n != 0 || !strings.Contains(r.errorMessage(t), "limit") {
			t.Errorf("declared %d bytes (attachment first %v): %d after reading %d bytes: %s", bound+1, first, r.status, body.n, r.body)
		}
		for _, declared := range []bool{false, true} {
			rd, size := p.reader()
			if !declared {
				size = -1
			}
			body = neverEnding(rd, 8<<20)
			r = e.inProcess("PUT", "solo", "fx-size", body, size)
			if r.status != 413 || !strings.Contains(r.errorMessage(t), "limit") {
				t.Errorf("48 MiB tarball (attachment first %v, declared %v): %d %s", first, declared, r.status, r.body)
			}
			if max := p.headLength() + int64(base64.StdEncoding.EncodedLen(limit)) + 128<<10; body.n > max {
				t.Errorf("48 MiB tarball (attachment first %v, declared %v): read %d bytes, want at most %d", first, declared, body.n, max)
			}
		}
		// A length announced before the data is believed.
		announced := int64(limit + 1)
		p.length = &announced
		rd, _ = p.reader()
		body = neverEnding(rd, 8<<20)
		if r = e.inProcess("PUT", "solo", "fx-size", body, -1); r.status != 413 || body.n > p.headLength()+64<<10 {
			t.Errorf("announced length %d (attachment first %v): %d after %d bytes: %s", announced, first, r.status, body.n, r.body)
		}
	}
	if vs := e.versions("solo", "fx-size"); vs != nil {
		t.Fatalf("a refused publish left versions %v", vs)
	}
	if left := e.tmpFiles(); len(left) != 0 {
		t.Fatalf("a refused publish left %v", left)
	}
	// Under the limit, declared or not, a publish works.
	p := pkg{name: "fx-size", version: "1.0.0", padding: limit / 2}
	b := p.body()
	if r := e.inProcess("PUT", "solo", "fx-size", bytes.NewReader(b), int64(len(b))); r.status != 201 {
		t.Fatalf("publish under the limit: %d %s", r.status, r.body)
	}
	b = pkg{name: "fx-size", version: "1.0.1", padding: limit / 2}.body()
	if r := e.inProcess("PUT", "solo", "fx-size", bytes.NewReader(b), -1); r.status != 201 {
		t.Fatalf("publish under the limit, chunked: %d %s", r.status, r.body)
	}

	// A configured limit over npm's 2 GiB is npm's 2 GiB.
	e.tune = func(c *npm.Config) { c.MaxPublishSize = 5 << 30 }
	e.restart()
	bound = int64(base64.StdEncoding.EncodedLen(npm.DefaultMaxPublishSize)) + npm.DefaultMaxDocumentSize
	rd, _ := bigPublish{name: "fx-huge", version: "1.0.0", tarball: 3 << 30}.reader()
	body := neverEnding(rd, 1<<20)
	if r := e.inProcess("PUT", "solo", "fx-huge", body, bound+1); r.status != 413 || body.n != 0 {
		t.Errorf("declared %d bytes under a 5 GiB limit: %d after reading %d bytes: %s", bound+1, r.status, body.n, r.body)
	}
	rd, _ = bigPublish{name: "fx-huge", version: "1.0.0", tarball: 3 << 30}.reader()
	body = neverEnding(rd, 1<<20)
	if r := e.inProcess("PUT", "solo", "fx-huge", body, bound); r.status == 413 || body.n == 0 {
		t.Errorf("declared %d bytes (npm's bound) was refused: %d after reading %d bytes: %s", bound, r.status, body.n, r.body)
	}
	if left := e.tmpFiles(); len(left) != 0 {
		t.Fatalf("a refused publish left %v", left)
	}
}

// TestMalformedBase64IsRefused: attachment data that is not well-formed
// base64 (unpadded, cut in a group, stray characters, data after the
// padding) is the client's fault, a 400 naming base64, whichever comes
// first in the body.
func TestMalformedBase64IsRefused(t *testing.T) {
	e := newEnv(t)
	good := base64.StdEncoding.EncodeToString(pkg{name: "fx-b64", version: "1.0.0"}.tarball())
	for name, data := range map[string]string{
		"unpadded":            strings.TrimRight(good, "="),
		"unpadded short":      "aGk",
		"truncated":           good[:len(good)/4*4-3],
		"one character":       "a",
		"stray character":     good[:8] + "*" + good[9:],
		"data after padding":  "aGk=aGk=",
		"escaped newline cut": `aGVs\nbG8`,
	} {
		for _, first := range []bool{false, true} {
			d := data
			rd, size := bigPublish{name: "fx-b64", version: "1.0.0", data: &d, attachmentFirst: first}.reader()
			r := e.inProcess("PUT", "solo", "fx-b64", rd, size)
			if r.status != 400 || !strings.Contains(r.errorMessage(t), "base64") {
				t.Errorf("%s (attachment first %v): %d %s", name, first, r.status, r.body)
			}
		}
	}
	if vs := e.versions("solo", "fx-b64"); vs != nil {
		t.Fatalf("versions %v", vs)
	}
	if left := e.tmpFiles(); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}

// TestSpoolRemovedOnEveryPath: a tarball spooled before its version
// document is removed whatever ends the request: a refusal, a client that
// goes away, a cancelled request, a panic below the handler.
func TestSpoolRemovedOnEveryPath(t *testing.T) {
	e := newEnv(t)
	p := bigPublish{name: "fx-spool", version: "1.0.0", tarball: 4 << 20, attachmentFirst: true}
	mid := p.headLength() + 2<<20 // inside the data
	for _, c := range []struct {
		name string
		then func(cancel context.CancelFunc) error
	}{
		{"client gone", func(context.CancelFunc) error { return errClientGone }},
		{"cancelled", func(cancel context.CancelFunc) error { cancel(); return context.Canceled }},
		{"panic", func(context.CancelFunc) error { panic("a panic below the handler") }},
	} {
		name, then := c.name, c.then
		rd, size := p.reader()
		ctx, cancel := context.WithCancel(context.Background())
		body := &countingBody{r: rd, at: mid, then: func() error { return then(cancel) }}
		req := httptest.NewRequestWithContext(ctx, "PUT", e.base+"solo/fx-spool", body)
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		func() {
			defer func() { _ = recover() }()
			e.srv.Config.Handler.ServeHTTP(rec, req)
		}()
		cancel()
		if body.n != mid {
			t.Fatalf("%s: the handler read %d bytes, want %d", name, body.n, mid)
		}
		if left := e.tmpFiles(); len(left) != 0 {
			t.Errorf("%s: the spool was left: %v", name, left)
		}
	}
	// Refused after the whole tarball was spooled: the digest does not
	// match.
	rd, size := p.reader()
	if r := e.inProcess("PUT", "solo", "fx-spool", rd, size); r.status != 400 {
		t.Fatalf("mismatched tarball: %d %s", r.status, r.body)
	}
	if left := e.tmpFiles(); len(left) != 0 {
		t.Errorf("mismatch: the spool was left: %v", left)
	}
	if files := e.blobFiles(); len(files) != 0 {
		t.Errorf("blobs left: %v", files)
	}
}

// quickAudit is a quick-audit body naming n dependencies, padded to about
// size bytes.
func quickAudit(n, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"name":"x","version":"1.0.0","requires":{},"dependencies":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"dep-%d":{"version":"1.0.0","integrity":"sha512-%s","requires":{"x":"^1"}}`, i, strings.Repeat("A", 86))
	}
	b.WriteString(`},"pad":"`)
	if pad := size - b.Len() - 2; pad > 0 {
		b.WriteString(strings.Repeat("p", pad))
	}
	b.WriteString(`"}`)
	return b.Bytes()
}

// TestAuditBodiesBounded: npm audit bodies are bounded on the wire and
// decompressed (413 in npm's shape, before anything is read when the
// Content-Length says so) and streamed, not held: an audit costs the
// server a small fraction of its body in memory.
func TestAuditBodiesBounded(t *testing.T) {
	e := newEnv(t)
	const quick, bulk = "-/npm/v1/security/audits/quick", "-/npm/v1/security/advisories/bulk"
	big := quickAudit(20000, 18<<20)
	for _, repo := range []string{"solo", "app"} { // app relays to public:npmjs
		for _, path := range []string{quick, bulk} {
			body := &countingBody{r: bytes.NewReader(big)}
			r := e.inProcess("POST", repo, path, body, int64(len(big)))
			if r.status != 413 || body.n != 0 || r.errorMessage(t) == "" {
				t.Errorf("%s %s of 18 MiB: %d after reading %d bytes: %.200s", repo, path, r.status, body.n, r.body)
			}
			body = &countingBody{r: bytes.NewReader(big)}
			r = e.inProcess("POST", repo, path, body, -1)
			if r.status != 413 || body.n > 8<<20 || r.errorMessage(t) == "" {
				t.Errorf("%s %s of 18 MiB, chunked: %d after reading %d bytes: %.200s", repo, path, r.status, body.n, r.body)
			}
		}
		// A gzip bomb: 64 MiB of JSON in a few hundred KiB.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(`{"dependencies":{"a":{"version":"1.0.0","pad":"`))
		zw.Write(bytes.Repeat([]byte("0"), 64<<20))
		zw.Write([]byte(`"}}}`))
		zw.Close()
		r := e.inProcess("POST", repo, quick, bytes.NewReader(gz.Bytes()), int64(gz.Len()), "Content-Encoding", "gzip")
		if r.status != 413 || r.errorMessage(t) == "" {
			t.Errorf("%s: gzip bomb: %d %.200s", repo, r.status, r.body)
		}
	}
	if n := e.reg.Count("/-/npm/v1/security/advisories/bulk") + e.reg.Count("/-/npm/v1/security/audits/quick"); n != 0 {
		t.Errorf("refused audits reached the registry %d times", n)
	}

	// Within bounds: a 3 MiB quick audit of 3000 dependencies is counted
	// while it streams; it does not cost its size in memory.
	body := quickAudit(3000, 3<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := e.inProcess("POST", "solo", quick, bytes.NewReader(body), int64(len(body)))
	runtime.ReadMemStats(&after)
	if r.status != 200 || !strings.Contains(string(r.body), `"totalDependencies":3000`) {
		t.Fatalf("3 MiB quick audit: %d %.300s", r.status, r.body)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("a %d-byte quick audit allocated %d bytes", len(body), alloc)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	if r := e.inProcess("POST", "solo", quick, bytes.NewReader(gz.Bytes()), -1, "Content-Encoding", "gzip"); r.status != 200 ||
		!strings.Contains(string(r.body), `"totalDependencies":3000`) {
		t.Fatalf("gzipped quick audit: %d %.300s", r.status, r.body)
	}
	// Relayed: the registry gets the body as sent.
	if r := e.inProcess("POST", "app", bulk, bytes.NewReader(gz.Bytes()), int64(gz.Len()), "Content-Encoding", "gzip"); r.status != http.StatusOK {
		t.Fatalf("relayed bulk audit: %d %.300s", r.status, r.body)
	}
	if n := e.reg.Count("/-/npm/v1/security/advisories/bulk"); n != 1 {
		t.Fatalf("the bulk audit reached the registry %d times", n)
	}
}
