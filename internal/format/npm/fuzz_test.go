package npm

// Fuzz targets for every parser of what npm clients upload: the publish
// body (the scanner alone, and the whole PUT through the handler), package
// names in URLs, and audit bodies. CI runs each with
//
//	go test -run XXX -fuzz '^FuzzName$' -fuzztime 20s ./internal/format/npm/

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/format/npm/npmtest"
	"coffer/internal/store"
)

// fuzzTarball is the tarball of the publish seeds: a real npm tarball
// (package/package.json in a gzipped tar), as small as one can be, so
// that the fuzzer's inputs stay short.
var fuzzTarball = func() []byte {
	manifest := []byte(`{"name":"fx-fuzz","version":"1.0.0"}`)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(manifest)), ModTime: npmtest.PackageTime, Typeflag: tar.TypeReg})
	tw.Write(manifest)
	tw.Close()
	zw.Close()
	return b.Bytes()
}()

// publishSeed is what npm publish sends for fx-fuzz@version (npm 11's
// members and their order: the document, then "_attachments"; the version
// document trimmed to what a publish needs), with data as the
// attachment's data.
func publishSeed(version, data string) []byte {
	doc := `{"_id":"fx-fuzz","name":"fx-fuzz","dist-tags":{"latest":"` + version + `"},"versions":{"` + version + `":{"name":"fx-fuzz","version":"` + version +
		`","_id":"fx-fuzz@` + version + `","dist":{"integrity":"` + npmtest.Integrity(fuzzTarball) + `","shasum":"` + npmtest.Shasum(fuzzTarball) +
		`"}}},"access":null,"_attachments":{"fx-fuzz-` + version + `.tgz":{"content_type":"application/octet-stream","data":"` + data +
		`","length":` + strconv.Itoa(len(fuzzTarball)) + `}}}`
	if !json.Valid([]byte(doc)) {
		panic(doc)
	}
	return []byte(doc)
}

// publishSeeds are real publish bodies and their usual corruptions.
func publishSeeds() [][]byte {
	data := base64.StdEncoding.EncodeToString(fuzzTarball)
	unpadded := strings.TrimRight(data, "=")
	if unpadded == data {
		unpadded += "QQ"
	}
	good := publishSeed("1.0.0", data)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(good, &m)
	first := []byte(`{"_attachments":` + string(m["_attachments"]) + `,"name":"fx-fuzz","versions":` + string(m["versions"]) + `}`)
	return [][]byte{
		good,
		first,
		publishSeed("1.0.1", unpadded),
		publishSeed("1.0.2", data[:len(data)/2+1]),
		publishSeed("1.0.3", strings.ReplaceAll(data, "/", `\/`)),
		publishSeed("1.0.4", "aGk="),
		[]byte(`{"name":"fx-fuzz","versions":{"1.0.0":{"name":"fx-fuzz","version":"1.0.0","deprecated":"old"}}}`),
		[]byte(`{"_attachments":{"a":{"data":"aGk="},"b":{"data":"aGk="}}}`),
		[]byte(`{"versions":{"2.0.0":{"dist":{"shasum":"0000000000000000000000000000000000000000"}}},"_attachments":{"a":{"length":1e400,"data":"aGk="}}}`),
	}
}

// FuzzBodyScanner: any body either scans or fails with a fault of the
// client's (Validation, or Quota for the budget), without panicking; the
// data it hands out decodes as encoding/json decodes it.
func FuzzBodyScanner(f *testing.F) {
	f.Add([]byte(`{"versions":{},"_attachments":{"a":{"data":"aGk=","length":2}}}`))
	f.Add([]byte(`{"_attachments":{"a":{"data":"a\/b\u0041"}}}`))
	f.Add([]byte(`{"a":[{"b":"}"}],"_attachments":null}`))
	for _, s := range publishSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newBodyScanner(bytes.NewReader(body), 1<<16)
		clientFault := func(err error) {
			if k := fault.KindOf(err); k != fault.KindValidation && k != fault.KindQuotaExceeded {
				t.Fatalf("%q: error of kind %v: %v", body, k, err)
			}
		}
		var datas []string
		for {
			found, err := s.next()
			if err != nil {
				clientFault(err)
				return
			}
			if !found {
				break
			}
			b, err := io.ReadAll(s.dataReader())
			if err != nil {
				clientFault(err)
				return
			}
			datas = append(datas, string(b))
		}
		// Accepted: it must be JSON, with the same data strings.
		var doc struct {
			Attachments map[string]struct {
				Data string `json:"data"`
			} `json:"_attachments"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("accepted invalid JSON %q: %v", body, err)
		}
		for _, d := range datas {
			found := false
			for _, a := range doc.Attachments {
				found = found || a.Data == d
			}
			if !found {
				t.Fatalf("data %q is not what encoding/json reads from %q", d, body)
			}
		}
	})
}

// allowAll authorizes everything.
type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

// memEngine is what a PUT asks of the artifact service, in memory, for one
// package: fast enough to fuzz (the handler tests run the real service).
// Any other Engine method panics, which the fuzzer reports.
type memEngine struct {
	Engine
	versions map[string]*store.Version
	metadata string
	seq      int64
}

// reset leaves the package with version 0.1.0, tagged latest.
func (m *memEngine) reset() {
	doc := `{"name":"fx-fuzz","version":"0.1.0","dist":{"integrity":"` + npmtest.Integrity(fuzzTarball) + `","shasum":"` + npmtest.Shasum(fuzzTarball) + `"}}`
	m.versions = map[string]*store.Version{"0.1.0": {ID: 1, PackageID: 1, Version: "0.1.0", Status: artifact.StatusPublished, Metadata: doc}}
	m.metadata, m.seq = `{"dist-tags":{"latest":"0.1.0"}}`, 1
}

func (m *memEngine) pkg() *artifact.Package {
	return &artifact.Package{Package: store.Package{ID: 1, Format: artifact.FormatNpm, Name: "fx-fuzz", Metadata: m.metadata, ChangeSeq: m.seq}}
}

func (m *memEngine) DescribePackage(_ context.Context, ref artifact.PackageRef) (*artifact.Package, error) {
	if len(m.versions) == 0 {
		return nil, fault.NotFound("package", ref.Package, "no package %s", ref.Package)
	}
	return m.pkg(), nil
}

func (m *memEngine) DescribePackageVersion(_ context.Context, ref artifact.VersionRef) (*artifact.Version, error) {
	v, ok := m.versions[ref.Version]
	if !ok {
		return nil, fault.NotFound("package-version", ref.Version, "no version %s", ref.Version)
	}
	return &artifact.Version{Version: *v, Format: artifact.FormatNpm, Package: ref.Package}, nil
}

func (m *memEngine) ListPackageVersions(context.Context, artifact.PackageRef, artifact.VersionFilter, artifact.PageRequest) (*artifact.VersionList, error) {
	l := &artifact.VersionList{}
	for _, v := range m.versions {
		l.Versions = append(l.Versions, *v)
	}
	slices.SortFunc(l.Versions, func(a, b store.Version) int { return strings.Compare(a.Version, b.Version) })
	return l, nil
}

// PutAsset reads the body to its end, verifies it and records the version,
// as the service does.
func (m *memEngine) PutAsset(_ context.Context, req artifact.PutAssetRequest, body io.Reader) (*artifact.PublishResult, error) {
	hs := blob.NewHasher()
	defer hs.Close()
	if _, err := io.Copy(hs, body); err != nil {
		return nil, err
	}
	dg := hs.Sum()
	if req.Verify != nil {
		if err := req.Verify(dg); err != nil {
			return nil, err
		}
	}
	v, ok := m.versions[req.Version]
	if !ok {
		v = &store.Version{ID: int64(len(m.versions) + 1), PackageID: 1, Version: req.Version, Status: req.NewStatus}
		if req.NewVersion != nil {
			req.NewVersion(v)
		}
		m.versions[req.Version] = v
		m.seq++
	}
	return &artifact.PublishResult{Version: &artifact.Version{Version: *v}}, nil
}

func (m *memEngine) UpdatePackageMetadata(_ context.Context, _ artifact.PackageRef, update func(string) (string, error)) (*artifact.Package, error) {
	md, err := update(m.metadata)
	if err != nil {
		return nil, err
	}
	m.metadata = md
	m.seq++
	return m.pkg(), nil
}

// UpdatePackage applies the change to copies and keeps them only when all
// of it succeeded, as the service's one transaction does.
func (m *memEngine) UpdatePackage(_ context.Context, ref artifact.PackageRef, expectedRev string, c artifact.PackageChange) (*artifact.PackageUpdate, error) {
	if len(m.versions) == 0 {
		return nil, fault.NotFound("package", ref.Package, "no package %s", ref.Package)
	}
	if expectedRev != "" && expectedRev != m.pkg().Revision() {
		return nil, fault.Conflict("package", ref.Package, "stale revision %s", expectedRev)
	}
	res := &artifact.BatchResult{Successful: map[string]artifact.VersionOutcome{}, Failed: map[string]artifact.VersionFailure{}}
	if c.DeletePackage {
		p := m.pkg()
		m.versions = map[string]*store.Version{}
		return &artifact.PackageUpdate{Package: p, Versions: res}, nil
	}
	versions := map[string]*store.Version{}
	for k, v := range m.versions {
		versions[k] = v
	}
	seq, md := m.seq, m.metadata
	for _, name := range c.Delete {
		if _, ok := versions[name]; !ok {
			res.Failed[name] = artifact.VersionFailure{Code: artifact.ErrCodeNotFound}
			continue
		}
		delete(versions, name)
		res.Successful[name] = artifact.VersionOutcome{Status: artifact.StatusDeleted}
		seq++
	}
	for _, name := range c.Edit {
		v, ok := versions[name]
		if !ok {
			res.Failed[name] = artifact.VersionFailure{Code: artifact.ErrCodeNotFound}
			continue
		}
		cp := *v
		if err := c.EditVersion(&cp); err != nil {
			return nil, err
		}
		versions[name] = &cp
		res.Successful[name] = artifact.VersionOutcome{Status: cp.Status}
		seq++
	}
	if c.Metadata != nil {
		next, err := c.Metadata(md)
		if err != nil {
			return nil, err
		}
		md = next
		seq++
	}
	m.versions, m.seq, m.metadata = versions, seq, md
	return &artifact.PackageUpdate{Package: m.pkg(), Versions: res}, nil
}

func (m *memEngine) RepositoryARN(owner, domain, repository string) string {
	return "arn:aws:codeartifact:us-east-1:" + owner + ":repository/" + domain + "/" + repository
}

func (m *memEngine) PackageARN(owner, domain, repository, format, namespace, pkg string) string {
	return m.RepositoryARN(owner, domain, repository) + "/" + format + "/" + namespace + "/" + pkg
}

// fuzzTarget is the repository the fuzzed requests address.
var fuzzTarget = format.Target{Format: artifact.FormatNpm, Domain: "dx", DomainOwner: "123456789012", Repository: "solo",
	Principal: &auth.Principal{ARN: "arn:aws:iam::123456789012:user/fuzz", Account: "123456789012", Type: "User", Username: "fuzz"}}

// serveFuzz PUTs body on path under the repository endpoint.
func serveFuzz(h *Handler, path string, body []byte, command string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPut, "/npm/d/dx-"+fuzzTarget.DomainOwner+"/solo/"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if command != "" {
		req.Header.Set("npm-command", command)
	}
	t := fuzzTarget
	t.Path = path
	req = req.WithContext(format.WithTarget(req.Context(), &t))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzPublishBody: the whole PUT of an npm publish (or deprecate, or
// unpublish of a version, by mode) through the handler: whatever the
// body, the answer is never a 500 (malformed input is the client's fault)
// and is in npm's shape, nothing panics, and nothing stays in the spool.
// Limits are small (64 KiB of tarball, 64 KiB of JSON) so that they are
// reached too.
func FuzzPublishBody(f *testing.F) {
	for _, s := range publishSeeds() {
		for mode := range byte(3) {
			f.Add(s, mode)
		}
	}
	spool := f.TempDir()
	m := &memEngine{}
	h := New(m, allowAll{}, Config{TempDir: spool, MaxPublishSize: 64 << 10, MaxDocumentSize: 64 << 10})
	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		m.reset()
		path, command := "fx-fuzz", ""
		switch mode % 3 {
		case 1:
			command = "deprecate"
		case 2:
			path, command = "fx-fuzz/-rev/"+revision(m.pkg()), "unpublish"
		}
		rec := serveFuzz(h, path, body, command)
		if rec.Code >= 500 {
			t.Fatalf("PUT %s (%s) %q: %d %s", path, command, body, rec.Code, rec.Body)
		}
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("PUT %s %q: %d, not JSON: %s", path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && answer["error"] == nil {
			t.Fatalf("PUT %s %q: %d without npm's error shape: %s", path, body, rec.Code, rec.Body)
		}
		if left, _ := os.ReadDir(spool); len(left) != 0 {
			t.Fatalf("PUT %s %q left %v in the spool", path, body, left)
		}
	})
}

// FuzzParseName: a parsed name prints back as its input.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"react", "@types/node", "@a/b/c", "..", "@/", "a%2fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseName(s)
		if !ok {
			return
		}
		if n.String() != s || n.Base == "" || strings.Contains(n.Base, "/") || strings.Contains(n.Scope, "/") {
			t.Fatalf("ParseName(%q) = %+v", s, n)
		}
		if segs := format.SplitEscaped(n.Escaped(), n.String()); len(segs) != 1 || segs[0] != s {
			t.Fatalf("%q escapes to %q, split %q", s, n.Escaped(), segs)
		}
	})
}

// FuzzNameFromPath: the package name read from a request path (split as
// the handler splits it, encoded slashes kept in their segment) is a valid
// name made of the segments it says it used.
func FuzzNameFromPath(f *testing.F) {
	for _, s := range []string{"react", "@types%2fnode", "@types%2Fnode/-/node-1.0.0.tgz", "@fx/util/1.0.0", "a/-rev/3-1",
		"-/package/@fx%2futil/dist-tags/beta", "%40fx%2futil", "bad%zz", "@fx", "@fx%2f", "/a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		decoded := escaped
		if u, err := pathUnescape(escaped); err == nil {
			decoded = u
		}
		segs := format.SplitEscaped(escaped, decoded)
		n, used, ok := nameFromSegments(segs)
		if !ok {
			return
		}
		if used < 1 || used > 2 || used > len(segs) {
			t.Fatalf("nameFromSegments(%q) used %d", segs, used)
		}
		if p, ok := ParseName(n.String()); !ok || p != n || strings.Join(segs[:used], "/") != n.String() {
			t.Fatalf("nameFromSegments(%q) = %+v", segs, n)
		}
	})
}

// pathUnescape decodes a URL path as net/url does for Request.URL.Path.
func pathUnescape(s string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://x/"+s, nil)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(req.URL.Path, "/"), nil
}

// FuzzAuditBody: any audit body, plain or gzipped, is read to its end
// without panicking, refused only with a fault of the client's, and
// counted as encoding/json counts the members of its "dependencies"
// object.
func FuzzAuditBody(f *testing.F) {
	f.Add([]byte(`{"name":"x","version":"1.0.0","requires":{"a":"1"},"dependencies":{"a":{"version":"1.0.0"},"b":{"version":"2.0.0"}}}`), false)
	f.Add([]byte(`{"a":["1.0.0"],"@fx/util":["1.0.0","2.0.0"]}`), true)
	f.Add([]byte(`{"dependencies":{"a":1,"a":2},"dependencies":{"x":[{"}":"]"}],"y":null}}`), false)
	f.Add([]byte(`{"\u0064ependencies":{"a":{}},"d":-1.5e3,"e":true}`), true)
	f.Add([]byte(`{"dependencies":null}`), false)
	f.Add([]byte{0x1f, 0x8b, 0, 0}, false)
	f.Fuzz(func(t *testing.T, body []byte, zip bool) {
		sent := body
		encoding := ""
		if zip {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			sent, encoding = b.Bytes(), "gzip"
		}
		deps, err := readAudit(bytes.NewReader(sent), encoding)
		if err != nil {
			if k := fault.KindOf(err); k != fault.KindValidation && k != fault.KindQuotaExceeded {
				t.Fatalf("%q: error of kind %v: %v", body, k, err)
			}
			return
		}
		gzipLike := len(body) > 1 && body[0] == 0x1f && body[1] == 0x8b // not gzipped by the test, read as gzip
		if want, ok := jsonDependencies(body); ok && deps != want && (zip || !gzipLike) {
			t.Fatalf("%q (gzip %v): %d dependencies, encoding/json counts %d", body, zip, deps, want)
		}
		n, err := countDependencies(bytes.NewReader(body))
		if want, ok := jsonDependencies(body); ok && (err != nil || n != want) {
			t.Fatalf("countDependencies(%q) = %d, %v; encoding/json counts %d", body, n, err, want)
		}
	})
}

// jsonDependencies counts, with encoding/json, the members of the
// "dependencies" object of a JSON object; false when body is not one.
func jsonDependencies(body []byte) (int, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return 0, false
	}
	raw := bytes.TrimSpace(top["dependencies"])
	if len(raw) == 0 || raw[0] != '{' {
		return 0, true
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if _, err := d.Token(); err != nil {
		return 0, false
	}
	n := 0
	for d.More() {
		if _, err := d.Token(); err != nil {
			return 0, false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return 0, false
		}
		n++
	}
	return n, true
}
