package pypi

// Fuzz targets for every parser of what a client uploads (run each with
// go test -run XXX -fuzz FuzzName -fuzztime 20s ./internal/format/pypi/):
//
//	FuzzUploadForm          the legacy upload form, through readUpload and check
//	FuzzDistributionMetadata a wheel's or sdist's archive, to its METADATA / PKG-INFO
//	FuzzParseCoreMetadata   METADATA / PKG-INFO
//	FuzzParseFileName       wheel and sdist file names
//	FuzzParseVersion        PEP 440 versions
//
// None may panic, and what a client sends wrong is a validation error
// (400), never an internal one (500).

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/store"
)

// arnEngine answers the ARN helpers, all that parsing an upload needs of
// the engine.
type arnEngine struct{ Engine }

func (arnEngine) PackageARN(owner, domain, repository, format, namespace, pkg string) string {
	return "arn:aws:codeartifact:us-east-1:" + owner + ":package/" + domain + "/" + repository + "/" + format + "//" + pkg
}

type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

const fuzzBoundary = "fuzzfuzzfuzz"

// uploadForm is a legacy upload's body with fuzzBoundary, fields in the
// given order, then the content part when filename is not "".
func uploadForm(fields [][2]string, filename string, content []byte) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary(fuzzBoundary)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if filename != "" {
		w, _ := mw.CreateFormFile("content", filename)
		w.Write(content)
	}
	mw.Close()
	return buf.Bytes()
}

func FuzzUploadForm(f *testing.F) {
	d := pypitest.Dist{Name: "Foo_Bar", Version: "1.0.0", Requires: []string{"dep>=1"}, Description: "# hi"}
	wn, wheel := d.Wheel()
	sn, sdist := d.Sdist()
	for _, c := range []struct {
		name    string
		content []byte
		ft      string
	}{{wn, wheel, "bdist_wheel"}, {sn, sdist, "sdist"}} {
		m5 := md5.Sum(c.content)
		fields := [][2]string{{"name", "Foo_Bar"}, {"version", "1.0.0"}, {"filetype", c.ft}, {"md5_digest", hex.EncodeToString(m5[:])},
			{"sha256_digest", pypitest.SHA256(c.content)}, {":action", "file_upload"}, {"protocol_version", "1"}}
		f.Add(uploadForm(fields, c.name, c.content))
		f.Add(uploadForm(append([][2]string{{"description", strings.Repeat("x", 100)}}, fields...), c.name, c.content[:len(c.content)/2]))
	}
	f.Add(uploadForm([][2]string{{":action", "file_upload"}}, wn, wheel)) // file before name
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--" + fuzzBoundary))
	f.Add([]byte("garbage"))

	spool := f.TempDir()
	h := New(arnEngine{}, allowAll{}, Config{TempDir: spool, MaxUploadSize: 1 << 20})
	t := &format.Target{Format: artifact.FormatPypi, Domain: "dx", DomainOwner: "123456789012", Repository: "repo"}
	f.Fuzz(func(tt *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/pypi/d/dx-123456789012/repo/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		u, err := h.readUpload(r, t)
		if err == nil {
			_, err = u.check()
		}
		u.cleanup()
		if err != nil {
			if k := fault.KindOf(err); k != fault.KindValidation && k != fault.KindQuotaExceeded {
				tt.Fatalf("a malformed upload is a %v error, not a client error: %v", k, err)
			}
		}
		if left, _ := os.ReadDir(spool); len(left) != 0 {
			tt.Fatalf("the spool keeps %v", left)
		}
	})
}

// archive builds a small archive of kind (0 zip, 1 tar.gz, 2 tar) holding
// files.
func archive(kind byte, files map[string][]byte) []byte {
	var buf bytes.Buffer
	switch kind {
	case 0:
		z := zip.NewWriter(&buf)
		for n, b := range files {
			w, _ := z.Create(n)
			w.Write(b)
		}
		z.Close()
	default:
		var gz *gzip.Writer
		var tw *tar.Writer
		if kind == 1 {
			gz = gzip.NewWriter(&buf)
			tw = tar.NewWriter(gz)
		} else {
			tw = tar.NewWriter(&buf)
		}
		for n, b := range files {
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
			tw.Write(b)
		}
		tw.Close()
		if gz != nil {
			gz.Close()
		}
	}
	return buf.Bytes()
}

func FuzzDistributionMetadata(f *testing.F) {
	d := pypitest.Dist{Name: "foo", Version: "1.0"}
	_, wheel := d.Wheel()
	_, sdist := d.Sdist()
	f.Add(byte(0), wheel)
	f.Add(byte(1), sdist)
	f.Add(byte(2), archive(2, map[string][]byte{"foo-1.0/PKG-INFO": d.Metadata()}))
	f.Add(byte(3), archive(0, map[string][]byte{"foo-1.0/PKG-INFO": d.Metadata()}))
	f.Add(byte(0), archive(0, map[string][]byte{"a.dist-info/METADATA": nil, "b.dist-info/METADATA": nil}))
	f.Add(byte(4), []byte("BZh91AY&SY"))
	names := []string{"foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz", "foo-1.0.tar", "foo-1.0.zip", "foo-1.0.tar.bz2", "foo-1.0.tar.xz"}
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		name := names[int(kind)%len(names)]
		file, ok := ParseFileName(name, "foo")
		if !ok {
			t.Fatalf("seed name %s", name)
		}
		mb, err := DistributionMetadata(bytes.NewReader(data), int64(len(data)), file)
		if err != nil {
			return
		}
		if len(mb) > MaxMetadataSize {
			t.Fatalf("%d bytes of metadata", len(mb))
		}
		if m, err := ParseCoreMetadata(mb); err == nil {
			var v store.Version
			m.Apply(&v, false)
		}
	})
}

func FuzzParseCoreMetadata(f *testing.F) {
	f.Add([]byte(pypitest.Dist{Name: "a", Version: "1", Requires: []string{"b (>=1) ; extra == 'x'"}, Description: "hi"}.Metadata()))
	f.Add([]byte("Name: x\nVersion: 1\nDescription: a\n  |b\n"))
	f.Add([]byte("Name: x\r\nVersion: 1\r\nLicense-Expression: MIT\r\nProject-URL: a, b\r\n\r\nbody"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseCoreMetadata(data)
		if err != nil {
			return
		}
		if m.Name == "" || m.Version == "" {
			t.Fatalf("accepted without Name or Version: %+v", m)
		}
		var v store.Version
		m.Apply(&v, false)
		m.Apply(&v, true)
		_ = m.Dependencies()
	})
}

func FuzzParseFileName(f *testing.F) {
	f.Add("foo_bar-1.0-py3-none-any.whl", "foo-bar")
	f.Add("foo-bar-1.0.tar.gz", "")
	f.Add("Foo-Bar-1.0.TAR.GZ", "foo.bar")
	f.Add("foo-1.0-1-py3-none-any.whl", "foo")
	f.Fuzz(func(t *testing.T, name, project string) {
		got, ok := ParseFileName(name, project)
		if !ok {
			return
		}
		if got.Name != name || got.Project == "" || got.Version == "" || (got.Kind != KindWheel && got.Kind != KindSdist) {
			t.Fatalf("ParseFileName(%q, %q) = %+v", name, project, got)
		}
		if strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") {
			t.Fatalf("ParseFileName(%q) accepted a name that is not one path segment", name)
		}
		if project != "" && NormalizeName(got.Project) != NormalizeName(project) {
			t.Fatalf("ParseFileName(%q, %q): project part %q", name, project, got.Project)
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.0", "v1.0.0-Alpha1", "0!1.0.post2.dev3+abc.1", "1.0-1", "x", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseVersion(s)
		if !ok {
			return
		}
		n := v.String()
		w, ok := ParseVersion(n)
		if !ok || w.String() != n || w.Compare(v) != 0 {
			t.Fatalf("%q normalised to %q, which does not round-trip", s, n)
		}
		if k, _ := VersionKey(n); k != v.Key() {
			t.Fatalf("key of %q changed", s)
		}
	})
}
