package maven

// Fuzz targets for every parser of what a client uploads (run each with
// go test -run XXX -fuzz FuzzName -fuzztime 20s ./internal/format/maven/):
//
//	FuzzPut             a PUT of any path and body through the handler: never a 5xx
//	FuzzParsePath       repository paths
//	FuzzParsePOM        POMs
//	FuzzParseMetadata   maven-metadata.xml (uploaded by mvn deploy)
//	FuzzCompareVersions version ordering
//
// None may panic, and what a client sends wrong is a client error (4xx),
// never an internal one.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"coffer/internal/artifact"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/format"
	"coffer/internal/store/sqlite"
)

type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

func FuzzPut(f *testing.F) {
	pom := `<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId><artifactId>hello</artifactId>` +
		`<version>1.0</version><dependencies><dependency><groupId>a</groupId><artifactId>b</artifactId><version>${v}</version></dependency></dependencies>` +
		`<properties><v>2</v></properties></project>`
	for _, s := range []struct{ path, body string }{
		{"com/example/hello/1.0/hello-1.0.jar", "jar bytes"},
		{"com/example/hello/1.0/hello-1.0.pom", pom},
		{"com/example/hello/1.0/hello-1.0.jar.sha1", "0123456789abcdef0123456789abcdef01234567"},
		{"com/example/hello/1.0/hello-1.0.pom.md5", "x"},
		{"com/example/hello/maven-metadata.xml", releaseMetadata},
		{"com/example/hello/maven-metadata.xml.sha1", "y"},
		{"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261125.181235-1.jar", "snap"},
		{"com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml", snapshotMetadata},
		{"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT.jar", "non-unique"},
		{"com/example/hello/1.0/hello-1.0.pom", "<project><groupId>other</groupId></project>"},
		{"a/b", ""},
	} {
		f.Add(s.path, []byte(s.body))
	}
	dir := f.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { meta.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		f.Fatal(err)
	}
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, meta, blobs, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := svc.CreateDomain(ctx, "dx", "", nil); err != nil {
		f.Fatal(err)
	}
	if _, err := svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "dx"}, Repository: "repo"}, "", nil, nil); err != nil {
		f.Fatal(err)
	}
	h := New(svc, allowAll{}, Config{MaxUploadSize: 1 << 20})
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		req := httptest.NewRequest(http.MethodPut, "/maven/d/dx-123456789012/repo/x", bytes.NewReader(body))
		req = req.WithContext(format.WithTarget(req.Context(), &format.Target{Format: artifact.FormatMaven, Domain: "dx",
			DomainOwner: "123456789012", Repository: "repo", Path: path}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("PUT %q (%d bytes): %d %s", path, len(body), rec.Code, rec.Body.String())
		}
	})
}

// FuzzParsePath: never panics; what it accepts is a consistent, valid
// coordinate that rebuilds the very path it came from.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"com/example/hello/1.0.0/hello-1.0.0.jar",
		"com/example/hello/1.0.0/hello-1.0.0-sources.jar.sha1",
		"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261125.181235-1.jar",
		"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT.pom.md5",
		"com/example/hello/maven-metadata.xml",
		"com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml.sha512",
		"a/b/c/d/e",
		"../../etc/passwd",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("error %v does not wrap ErrBadPath", err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePath(%q).String() = %q", s, p.String())
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		for _, c := range []string{p.GroupID, p.ArtifactID, p.File} {
			if c == "" || len(c) > 255 || strings.ContainsAny(c, "/\\# \t\n\x00") || c == "." || c == ".." {
				t.Fatalf("ParsePath(%q): bad coordinate %q in %+v", s, c, p)
			}
		}
		if strings.Contains(p.GroupID, "..") || strings.HasPrefix(p.GroupID, ".") || strings.HasSuffix(p.GroupID, ".") {
			t.Fatalf("ParsePath(%q): bad groupId %q", s, p.GroupID)
		}
		switch p.Kind {
		case KindArtifactMetadata:
			if p.Version != "" || p.File != MetadataFile {
				t.Fatalf("artifact metadata %+v", p)
			}
		case KindVersionMetadata:
			if !IsSnapshot(p.Version) || p.File != MetadataFile {
				t.Fatalf("version metadata %+v", p)
			}
		case KindFile:
			if p.Version == "" || strings.Contains(p.Version, "/") || p.Extension == "" {
				t.Fatalf("file %+v", p)
			}
			v := p.Version
			if p.Build != "" {
				b, ok := ParseBuild(p.Build)
				if !ok || b.Snapshot() != p.Version {
					t.Fatalf("build %q of %q", p.Build, p.Version)
				}
				v = p.Build
			}
			if FileName(p.ArtifactID, v, p.Classifier, p.Extension) != p.File {
				t.Fatalf("ParsePath(%q): file %q is not rebuilt from %+v", s, p.File, p)
			}
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(releaseMetadata))
	f.Add([]byte(snapshotMetadata))
	f.Add([]byte(pluginMetadata))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			return
		}
		m.SnapshotBuild()
		if v := m.Versioning; v != nil {
			l := &ArtifactListing{GroupID: m.GroupID, ArtifactID: m.ArtifactID, Versions: v.Versions, Plugins: m.Plugins}
			if _, err := ParseMetadata(l.Render()); err != nil {
				t.Fatalf("rendered listing does not parse: %v", err)
			}
		}
	})
}

func FuzzParsePOM(f *testing.F) {
	f.Add([]byte(`<project><groupId>g</groupId><artifactId>a</artifactId><version>${v}</version><properties><v>1</v></properties></project>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE p [<!ENTITY a "aaaa">]><project><parent><groupId>p</groupId>` +
		`<version>${a}${b}</version></parent><artifactId>&a;</artifactId><properties><a>${b}</a><b>${a}</b></properties>` +
		`<licenses><license><name>MIT</name></license></licenses><dependencies><dependency><groupId>x</groupId></dependency></dependencies></project>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParsePOM(b); err == nil {
			p.StoreDependencies()
		}
	})
}

func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0", "1.0-SNAPSHOT")
	f.Add("2.1-a", "2.1b")
	f.Add("1-pom-1", "1-1-snapshot")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d but reversed %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("CompareVersions(%q, itself) != 0", a)
		}
	})
}
