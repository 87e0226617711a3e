package pypi_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/pypi"
	"coffer/internal/format/pypi/pypitest"
)

// enospcAfter is a spool file on a disk that is full after room bytes.
type enospcAfter struct {
	w    io.Writer
	room int
}

func (f *enospcAfter) Write(p []byte) (int, error) {
	if len(p) > f.room {
		n, _ := f.w.Write(p[:f.room])
		f.room = 0
		return n, &fs.PathError{Op: "write", Path: "/data/spool/coffer-pypi-upload-1", Err: syscall.ENOSPC}
	}
	f.room -= len(p)
	return f.w.Write(p)
}

// countingReader counts what the server read of a body; with failAt > 0
// it breaks (a client that went away) after that many bytes.
type countingReader struct {
	r      io.Reader
	n      int64
	failAt int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.failAt > 0 {
		if c.n >= c.failAt {
			return 0, io.ErrUnexpectedEOF
		}
		if left := c.failAt - c.n; int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// twineParts is a legacy upload in twine's order: fields (name first),
// then the content part; head ends where the file's bytes begin, tail
// closes the form.
func twineParts(t *testing.T, fields [][2]string, filename string) (contentType string, head, tail []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if filename != "" {
		mw.CreateFormFile("content", filename)
	}
	n := buf.Len()
	mw.Close()
	return mw.FormDataContentType(), append([]byte(nil), buf.Bytes()[:n]...), append([]byte(nil), buf.Bytes()[n:]...)
}

// fieldsOf lists a form's fields in twine's order (name, version first).
func fieldsOf(m map[string]string) [][2]string {
	var out [][2]string
	for _, k := range []string{"name", "version", "filetype", "pyversion", "metadata_version", "summary", "description",
		"sha256_digest", "md5_digest", "blake2_256_digest", ":action", "protocol_version"} {
		if v, ok := m[k]; ok {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// spoolWatch is a ResponseRecorder that notes what the spool holds when
// the answer starts: the client has its answer then, and nothing of its
// upload may be left behind.
type spoolWatch struct {
	*httptest.ResponseRecorder
	spool       string
	answered    bool
	leftAtReply []os.DirEntry
}

func (w *spoolWatch) answer() {
	if !w.answered {
		w.answered = true
		w.leftAtReply, _ = os.ReadDir(w.spool)
	}
}

func (w *spoolWatch) WriteHeader(code int) { w.answer(); w.ResponseRecorder.WriteHeader(code) }

func (w *spoolWatch) Write(p []byte) (int, error) { w.answer(); return w.ResponseRecorder.Write(p) }

func (w *spoolWatch) WriteString(s string) (int, error) {
	w.answer()
	return w.ResponseRecorder.WriteString(s)
}

// post sends one upload through the data plane in process and returns
// the answer; body counts what the server read of it. length < 0 sends
// no Content-Length. It fails the test when the spool was not empty as
// the answer was written.
func (e *env) post(contentType string, body *countingReader, length int64) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, e.app, body)
	req.ContentLength = length
	req.SetBasicAuth("aws", token)
	req.Header.Set("Content-Type", contentType)
	rec := &spoolWatch{ResponseRecorder: httptest.NewRecorder(), spool: e.spool}
	e.srv.Config.Handler.ServeHTTP(rec, req)
	if len(rec.leftAtReply) > 0 {
		e.t.Errorf("the answer %d was written while the spool held %v", rec.Code, rec.leftAtReply)
	}
	return rec.Code, rec.Body.String()
}

// postForm is post of a whole upload in twine's order.
func (e *env) postForm(fields map[string]string, filename string, content []byte) (int, string) {
	e.t.Helper()
	ct, head, tail := twineParts(e.t.(*testing.T), fieldsOf(fields), filename)
	return e.post(ct, &countingReader{r: io.MultiReader(bytes.NewReader(head), bytes.NewReader(content), bytes.NewReader(tail))}, -1)
}

// assertSpoolEmpty fails when the upload left a file in the spool.
func (e *env) assertSpoolEmpty(what string) {
	e.t.Helper()
	left, err := os.ReadDir(e.spool)
	if err != nil || len(left) != 0 {
		e.t.Errorf("%s: spool holds %v (%v)", what, left, err)
	}
}

// TestUploadRefusedBeforeItsFile: the publish is authorized as soon as
// the name field is read, so a caller who may not publish is refused
// before the rest of the form (a long description, the file) is read; a
// form whose file comes before its name, or that sends much before it, is
// refused without the file being read or spooled; a body over the limit
// is refused from its Content-Length without reading, or once the limit
// is crossed when streamed.
func TestUploadRefusedBeforeItsFile(t *testing.T) {
	e := newEnv(t)
	e.maxUpload = 1 << 20
	e.restart()
	wn, wheel := fooBar.Wheel()
	fields := form("Foo_Bar", "1.0.0", wn, wheel)
	fields["description"] = strings.Repeat("A long README line.\n", 40000) // 800 KB, as twine sends it: after name
	ct, head, tail := twineParts(t, fieldsOf(fields), wn)
	const fileSize = 8 << 20
	twine := func() io.Reader {
		return io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, fileSize), bytes.NewReader(tail))
	}
	size := int64(len(head) + fileSize + len(tail))

	t.Run("not allowed to publish", func(t *testing.T) {
		e.az.mu.Lock()
		e.az.deny["codeartifact:PublishPackageVersion"] = true
		e.az.mu.Unlock()
		defer func() { e.az.mu.Lock(); delete(e.az.deny, "codeartifact:PublishPackageVersion"); e.az.mu.Unlock() }()
		body := &countingReader{r: twine()}
		status, msg := e.post(ct, body, -1)
		t.Logf("%d after reading %d bytes", status, body.n)
		if status != http.StatusForbidden || body.n > 64<<10 {
			t.Errorf("answer %d %q after reading %d bytes; want 403 after the name field (at most 64 KiB)", status, msg, body.n)
		}
		e.assertSpoolEmpty("refused publish")
	})

	t.Run("file before name", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.CreateFormFile("content", wn)
		fileHead := append([]byte(nil), buf.Bytes()...)
		buf.Reset()
		for _, f := range fieldsOf(form("Foo_Bar", "1.0.0", wn, wheel)) {
			mw.WriteField(f[0], f[1])
		}
		mw.Close()
		body := &countingReader{r: io.MultiReader(bytes.NewReader(fileHead), io.LimitReader(zeros{}, fileSize), &buf)}
		status, msg := e.post(mw.FormDataContentType(), body, -1)
		t.Logf("%d after reading %d bytes", status, body.n)
		if status != http.StatusBadRequest || !strings.Contains(msg, "before the name field") || body.n > 64<<10 {
			t.Errorf("answer %d %q after reading %d bytes; want 400 before the file is read", status, msg, body.n)
		}
		e.assertSpoolEmpty("file before name")
	})

	t.Run("megabytes before name", func(t *testing.T) {
		ct, head, tail := twineParts(t, append([][2]string{{"comment", strings.Repeat("x", 4<<20)}}, fieldsOf(form("Foo_Bar", "1.0.0", wn, wheel))...), wn)
		body := &countingReader{r: io.MultiReader(bytes.NewReader(head), bytes.NewReader(wheel), bytes.NewReader(tail))}
		status, msg := e.post(ct, body, -1)
		t.Logf("%d after reading %d bytes", status, body.n)
		if status != http.StatusBadRequest || !strings.Contains(msg, "name field must come before") || body.n > 256<<10+64<<10 {
			t.Errorf("answer %d %q after reading %d bytes; want 400 after at most 320 KiB", status, msg, body.n)
		}
	})

	t.Run("declared length over the limit", func(t *testing.T) {
		body := &countingReader{r: twine()}
		status, msg := e.post(ct, body, size)
		t.Logf("%d after reading %d bytes", status, body.n)
		if status != http.StatusRequestEntityTooLarge || body.n != 0 {
			t.Errorf("answer %d %q after reading %d bytes; want 413 before reading", status, msg, body.n)
		}
		e.assertSpoolEmpty("declared length")
	})

	t.Run("streamed file over the limit", func(t *testing.T) {
		body := &countingReader{r: twine()}
		status, msg := e.post(ct, body, -1)
		t.Logf("%d after reading %d bytes", status, body.n)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "larger than the limit of 1048576 bytes") ||
			body.n > int64(len(head))+1<<20+64<<10 {
			t.Errorf("answer %d %q after reading %d bytes; want 413 at the limit", status, msg, body.n)
		}
		e.assertSpoolEmpty("streamed file over the limit")
	})

	t.Run("streamed form over the limit", func(t *testing.T) {
		big := form("Foo_Bar", "1.0.0", wn, wheel)
		big["description"] = strings.Repeat("y", 8<<20) // skipped, but still read: bounded too
		ct, head, tail := twineParts(t, fieldsOf(big), wn)
		body := &countingReader{r: io.MultiReader(bytes.NewReader(head), bytes.NewReader(wheel), bytes.NewReader(tail))}
		status, msg := e.post(ct, body, -1)
		t.Logf("%d after reading %d bytes", status, body.n)
		if status != http.StatusRequestEntityTooLarge || body.n > 2<<20+64<<10 {
			t.Errorf("answer %d %q after reading %d bytes; want 413 at the limit plus the form overhead", status, msg, body.n)
		}
	})

	// Within the limits, the same upload goes through.
	e.mustUpload(e.app, "Foo_Bar", "1.0.0", wn, wheel)
	e.assertSpoolEmpty("stored upload")
}

// TestUploadOnFullDisk: a disk that fills up while an upload is spooled,
// or while the engine stages it, is the server's failure: 507, never a
// 400 that blames the upload, and the spool is emptied.
func TestUploadOnFullDisk(t *testing.T) {
	e := newEnv(t)
	wn, wheel := fooBar.Wheel()

	pypi.SetSpoolWriter(e.ph, func(w io.Writer) io.Writer { return &enospcAfter{w: w, room: 100} })
	r := e.upload(e.app, form("Foo_Bar", "1.0.0", wn, wheel), wn, wheel)
	if r.status != http.StatusInsufficientStorage || !strings.Contains(string(r.body), "insufficient storage") || strings.Contains(string(r.body), "/data") {
		t.Errorf("spool full: %d %q, want 507 naming no path", r.status, r.body)
	}
	e.assertSpoolEmpty("spool full")
	pypi.SetSpoolWriter(e.ph, nil)

	e.blobs.Full.Store(true)
	r = e.upload(e.app, form("Foo_Bar", "1.0.0", wn, wheel), wn, wheel)
	if r.status != http.StatusInsufficientStorage || !strings.Contains(string(r.body), "insufficient storage") {
		t.Errorf("blob store full: %d %q, want 507", r.status, r.body)
	}
	e.assertSpoolEmpty("blob store full")
	if vs := e.versions("app", "foo-bar"); len(vs) != 0 {
		t.Errorf("a failed upload stored versions %v", vs)
	}
	e.blobs.Full.Store(false)
	e.mustUpload(e.app, "Foo_Bar", "1.0.0", wn, wheel)
}

// TestUploadSpoolEmptiedOnEveryPath: whatever becomes of an upload
// (stored, refused, conflicting, over the limit, broken off by its
// client), its spooled file is gone by the time the answer is written.
func TestUploadSpoolEmptiedOnEveryPath(t *testing.T) {
	e := newEnv(t)
	e.maxUpload = 1 << 20
	e.restart()
	wn, wheel := fooBar.Wheel()
	_, other := pypitest.Dist{Name: "Foo_Bar", Version: "1.0.0", Description: "other bytes"}.Wheel()
	if status, msg := e.postForm(form("Foo_Bar", "1.0.0", wn, wheel), wn, wheel); status != http.StatusOK {
		t.Errorf("upload: %d %s", status, msg)
	}
	e.assertSpoolEmpty("stored")

	bad := form("Foo_Bar", "1.0.0", wn, wheel)
	bad["sha256_digest"] = strings.Repeat("0", 64)
	if status, msg := e.postForm(bad, wn, wheel); status != http.StatusBadRequest {
		t.Errorf("wrong digest: %d %s", status, msg)
	}
	e.assertSpoolEmpty("wrong digest")

	if status, msg := e.postForm(form("Foo_Bar", "1.0.0", wn, other), wn, other); status != http.StatusConflict {
		t.Errorf("other bytes: %d %s", status, msg)
	}
	e.assertSpoolEmpty("conflict")

	big := make([]byte, 2<<20)
	if status, msg := e.postForm(form("Foo_Bar", "1.0.0", wn, big), wn, big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("over the limit: %d %s", status, msg)
	}
	e.assertSpoolEmpty("over the limit")

	ct, head, tail := twineParts(t, fieldsOf(form("Foo_Bar", "1.0.0", wn, other)), wn)
	body := &countingReader{r: io.MultiReader(bytes.NewReader(head), bytes.NewReader(other), bytes.NewReader(tail)), failAt: int64(len(head) + len(other)/2)}
	if status, msg := e.post(ct, body, -1); status != http.StatusBadRequest || !strings.Contains(msg, "interrupted") {
		t.Errorf("broken body: %d %q", status, msg)
	}
	e.assertSpoolEmpty("broken body")

	// A client that goes away mid-file: its request context ends and its
	// body breaks; nothing is answered and nothing stays.
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	req := httptest.NewRequest(http.MethodPost, e.app, pr).WithContext(ctx)
	req.SetBasicAuth("aws", token)
	req.Header.Set("Content-Type", ct)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.srv.Config.Handler.ServeHTTP(httptest.NewRecorder(), req)
	}()
	if _, err := pw.Write(head); err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Write(other[:len(other)/2]); err != nil { // returns once the handler has read it
		t.Fatal(err)
	}
	cancel()
	pw.CloseWithError(context.Canceled)
	<-done
	e.assertSpoolEmpty("client gone")
}

// TestUploadFileNamesDifferingOnlyByCase: within a release, file names
// that differ only by case are one file, as on PyPI: other bytes are a
// conflict, the same bytes succeed and add nothing.
func TestUploadFileNamesDifferingOnlyByCase(t *testing.T) {
	e := newEnv(t)
	foo := pypitest.Dist{Name: "foo", Version: "1.0", Description: "first"}
	sn, sdist := foo.Sdist() // foo-1.0.tar.gz
	_, other := pypitest.Dist{Name: "foo", Version: "1.0", Description: "second"}.Sdist()
	if sn != "foo-1.0.tar.gz" {
		t.Fatalf("sdist name %s", sn)
	}
	e.mustUpload(e.app, "foo", "1.0", sn, sdist)
	for _, name := range []string{"Foo-1.0.tar.gz", "FOO-1.0.TAR.GZ"} {
		if r := e.upload(e.app, form("Foo", "1.0", name, other), name, other); r.status != http.StatusConflict {
			t.Errorf("%s with other bytes: %d %s, want 409", name, r.status, r.body)
		}
	}
	e.mustUpload(e.app, "Foo", "1.0", "Foo-1.0.tar.gz", sdist) // the same bytes: 200, nothing new

	wn, wheel := foo.Wheel()
	e.mustUpload(e.app, "foo", "1.0", wn, wheel)
	upper := strings.Replace(wn, "foo-", "Foo-", 1)
	_, otherWheel := pypitest.Dist{Name: "foo", Version: "1.0", Description: "second"}.Wheel()
	if r := e.upload(e.app, form("foo", "1.0", upper, otherWheel), upper, otherWheel); r.status != http.StatusConflict {
		t.Errorf("%s with other bytes: %d %s, want 409", upper, r.status, r.body)
	}

	fs := files(e.page(e.app + "simple/foo/"))
	if len(fs) != 2 || fs[sn] == nil || fs[wn] == nil {
		names := []string{}
		for n := range fs {
			names = append(names, n)
		}
		t.Fatalf("page lists %v, want only %s and %s", names, sn, wn)
	}
	l, err := e.svc.ListPackageVersionAssets(bg, artifact.VersionRef{PackageRef: e.ref("app", "foo"), Version: "1.0"}, artifact.PageRequest{Max: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range l.Assets {
		names = append(names, a.Name)
	}
	if len(names) != 3 { // the sdist, the wheel and its .metadata
		t.Errorf("stored assets %v", names)
	}
}
