package swift_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, c *formattest.Client, method, path, accept string, body []byte, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// A request without valid credentials is answered by the data plane
	// before the protocol (plain text, with the Basic challenge).
	if resp.StatusCode != http.StatusUnauthorized && resp.Header.Get("Content-Version") != "1" {
		t.Errorf("%s %s: Content-Version %q", method, path, resp.Header.Get("Content-Version"))
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func wantProblem(t *testing.T, a answer, status int, what string) {
	t.Helper()
	var p struct{ Detail string }
	if a.status != status || a.header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(a.body, &p) != nil || p.Detail == "" {
		t.Errorf("%s: %d %s %s; want a %d problem", what, a.status, a.header.Get("Content-Type"), a.body, status)
	}
}

const (
	jsonV1  = "application/vnd.swift.registry.v1+json"
	zipV1   = "application/vnd.swift.registry.v1+zip"
	swiftV1 = "application/vnd.swift.registry.v1+swift"
)

func publishTo(t *testing.T, c *formattest.Client, path string, archive []byte, metadata string, header ...string) answer {
	t.Helper()
	body, ct := publishBody(archive, metadata, nil, nil)
	return call(t, c, http.MethodPut, path, jsonV1, body, append([]string{"Content-Type", ct}, header...)...)
}

func TestProtocol(t *testing.T) {
	// SwiftPM sends the token as "Authorization: Bearer" (the token
	// authentication type of swift package-registry login).
	a := confAdapter
	a.Auth = formattest.Bearer
	c := formattest.Serve(formattest.Testing(t), a)
	meta := `{"description":"One thing links to another.","repositoryURLs":["https://github.com/Mona/LinkedList","git@github.com:mona/LinkedList.git"]}`
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-beta.1"} {
		if a := publishTo(t, c, "Mona/LinkedList/"+v, packageArchive("LinkedList", v), meta); a.status != http.StatusCreated ||
			a.header.Get("Location") != c.Endpoint+"Mona/LinkedList/"+v {
			t.Fatalf("publish %s: %d %s %v", v, a.status, a.body, a.header)
		}
	}

	t.Run("ReleaseList", func(t *testing.T) {
		a := call(t, c, http.MethodGet, "mona/linkedlist", jsonV1, nil)
		if a.status != 200 || a.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s", a.status, a.body)
		}
		want := `{"releases":{"2.0.0-beta.1":{"url":"` + c.Endpoint + `mona/linkedlist/2.0.0-beta.1"},"1.1.0":{"url":"` + c.Endpoint +
			`mona/linkedlist/1.1.0"},"1.0.0":{"url":"` + c.Endpoint + `mona/linkedlist/1.0.0"}}}`
		if string(a.body) != want {
			t.Errorf("release list\n%s\nwant\n%s", a.body, want)
		}
		link := a.header.Get("Link")
		for _, l := range []string{`<` + c.Endpoint + `mona/linkedlist/2.0.0-beta.1>; rel="latest-version"`,
			`<https://github.com/Mona/LinkedList>; rel="canonical"`, `<git@github.com:mona/LinkedList.git>; rel="alternate"`} {
			if !strings.Contains(link, l) {
				t.Errorf("Link %s lacks %s", link, l)
			}
		}
		if b := call(t, c, http.MethodGet, "mona/linkedlist.json", "", nil); !bytes.Equal(b.body, a.body) {
			t.Errorf(".json: %s", b.body)
		}
		p := call(t, c, http.MethodGet, "mona/linkedlist?page=2&per_page=2", jsonV1, nil)
		if p.status != 200 || !strings.Contains(string(p.body), `"1.0.0"`) || strings.Contains(string(p.body), `"1.1.0"`) ||
			!strings.Contains(p.header.Get("Link"), `rel="prev"`) || !strings.Contains(p.header.Get("Link"), `rel="first"`) {
			t.Errorf("page 2: %d %s %s", p.status, p.body, p.header.Get("Link"))
		}
		wantProblem(t, call(t, c, http.MethodGet, "mona/nothing", jsonV1, nil), 404, "an unknown package")
		wantProblem(t, call(t, c, http.MethodGet, "mo--na/x", jsonV1, nil), 404, "an invalid scope")
	})

	t.Run("ReleaseMetadata", func(t *testing.T) {
		a := call(t, c, http.MethodGet, "mona/linkedlist/1.1.0", jsonV1, nil)
		var doc struct {
			ID, Version string
			Resources   []struct{ Name, Type, Checksum string }
			Metadata    map[string]any
			PublishedAt string
		}
		if a.status != 200 || json.Unmarshal(a.body, &doc) != nil {
			t.Fatalf("%d %s", a.status, a.body)
		}
		sum := sha256.Sum256(packageArchive("LinkedList", "1.1.0"))
		if doc.ID != "Mona.LinkedList" || doc.Version != "1.1.0" || len(doc.Resources) != 1 || doc.Resources[0].Name != "source-archive" ||
			doc.Resources[0].Type != "application/zip" || doc.Resources[0].Checksum != hex.EncodeToString(sum[:]) ||
			doc.Metadata["description"] != "One thing links to another." || !strings.HasSuffix(doc.PublishedAt, "Z") {
			t.Errorf("release metadata %s", a.body)
		}
		link := a.header.Get("Link")
		for _, l := range []string{`/2.0.0-beta.1>; rel="latest-version"`, `/2.0.0-beta.1>; rel="successor-version"`, `/1.0.0>; rel="predecessor-version"`} {
			if !strings.Contains(link, l) {
				t.Errorf("Link %s lacks %s", link, l)
			}
		}
		wantProblem(t, call(t, c, http.MethodGet, "mona/linkedlist/9.9.9", jsonV1, nil), 404, "an unknown release")
	})

	t.Run("Manifest", func(t *testing.T) {
		a := call(t, c, http.MethodGet, "mona/linkedlist/1.1.0/Package.swift", swiftV1, nil)
		if a.status != 200 || a.header.Get("Content-Type") != "text/x-swift" || string(a.body) != manifest("5.9", "LinkedList") ||
			a.header.Get("Content-Disposition") != `attachment; filename="Package.swift"` {
			t.Fatalf("%d %v %s", a.status, a.header, a.body)
		}
		want := `<` + c.Endpoint + `mona/linkedlist/1.1.0/Package.swift?swift-version=5.8>; rel="alternate"; filename="Package@swift-5.8.swift"; swift-tools-version="5.8"`
		if a.header.Get("Link") != want {
			t.Errorf("Link %s\nwant %s", a.header.Get("Link"), want)
		}
		for _, v := range []string{"5.8", "5.8.0"} {
			b := call(t, c, http.MethodGet, "mona/linkedlist/1.1.0/Package.swift?swift-version="+v, swiftV1, nil)
			if b.status != 200 || string(b.body) != manifest("5.8", "LinkedList") || b.header.Get("Content-Disposition") != `attachment; filename="Package@swift-5.8.swift"` {
				t.Errorf("swift-version=%s: %d %s", v, b.status, b.body)
			}
		}
		// No manifest for 4.2: 303 to Package.swift (§4.3.1).
		req, _ := http.NewRequest(http.MethodGet, c.Endpoint+"mona/linkedlist/1.1.0/Package.swift?swift-version=4.2", nil)
		req.Header.Set("Accept", swiftV1)
		cl := *c.HTTP
		cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		formattest.Bearer(req, c.Token)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.Endpoint+"mona/linkedlist/1.1.0/Package.swift" {
			t.Errorf("swift-version=4.2: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("SourceArchive", func(t *testing.T) {
		a := call(t, c, http.MethodGet, "Mona/LinkedList/1.1.0.zip", zipV1, nil)
		want := packageArchive("LinkedList", "1.1.0")
		sum := sha256.Sum256(want)
		if a.status != 200 || !bytes.Equal(a.body, want) || a.header.Get("Content-Type") != "application/zip" ||
			a.header.Get("Digest") != "sha-256="+base64.StdEncoding.EncodeToString(sum[:]) ||
			a.header.Get("Content-Disposition") != `attachment; filename="LinkedList-1.1.0.zip"` {
			t.Errorf("%d %v (%d bytes)", a.status, a.header, len(a.body))
		}
		wantProblem(t, call(t, c, http.MethodGet, "mona/linkedlist/9.9.9.zip", zipV1, nil), 404, "an unknown archive")
	})

	t.Run("Identifiers", func(t *testing.T) {
		for _, u := range []string{"https://github.com/mona/linkedlist", "git@github.com:Mona/LinkedList.git"} {
			a := call(t, c, http.MethodGet, "identifiers?url="+u, jsonV1, nil)
			if a.status != 200 || string(a.body) != `{"identifiers":["Mona.LinkedList"]}` {
				t.Errorf("%s: %d %s", u, a.status, a.body)
			}
		}
		wantProblem(t, call(t, c, http.MethodGet, "identifiers?url=https://github.com/octo/other", jsonV1, nil), 404, "an unknown URL")
		wantProblem(t, call(t, c, http.MethodGet, "identifiers", jsonV1, nil), 400, "no url")
	})

	t.Run("Login", func(t *testing.T) {
		if a := call(t, c, http.MethodPost, "login", "", nil); a.status != 200 {
			t.Errorf("login: %d %s", a.status, a.body)
		}
		anon := *c
		anon.Token = ""
		a := call(t, &anon, http.MethodPost, "login", "", nil)
		if a.status != 401 || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("login without credentials: %d %v, want 401 with a Basic challenge", a.status, a.header)
		}
	})

	t.Run("APIVersion", func(t *testing.T) {
		wantProblem(t, call(t, c, http.MethodGet, "mona/linkedlist", "application/vnd.swift.registry.v2+json", nil), 415, "API version 2")
		wantProblem(t, call(t, c, http.MethodGet, "mona/linkedlist", "application/vnd.swift.registry.vX+json", nil), 400, "a malformed API version")
		for _, accept := range []string{"", "application/json", "application/vnd.swift.registry+json"} {
			if a := call(t, c, http.MethodGet, "mona/linkedlist", accept, nil); a.status != 200 {
				t.Errorf("Accept %q: %d", accept, a.status)
			}
		}
	})

	t.Run("PublishRefused", func(t *testing.T) {
		before := versionsOf(t, c, "mona", "linkedlist")
		wantProblem(t, publishTo(t, c, "mona/LINKEDLIST/1.0.0", packageArchive("LinkedList", "1.0.0"), ""), 409, "a release that exists")
		for name, archive := range map[string][]byte{
			"no manifest":        zipOf(map[string]string{"P/": "", "P/Sources/A.swift": "x"}),
			"no top-level dir":   zipOf(map[string]string{"Package.swift": manifest("5.9", "P")}),
			"two top-level dirs": zipOf(map[string]string{"P/Package.swift": manifest("5.9", "P"), "Q/x": ""}),
			"not a zip":          []byte("tarball"),
		} {
			wantProblem(t, publishTo(t, c, "mona/linkedlist/3.0.0", archive, ""), 422, name)
		}
		wantProblem(t, publishTo(t, c, "mona/linkedlist/3.0.0", packageArchive("LinkedList", "3.0.0"), `{"author":"mona"}`), 422, "invalid metadata")
		wantProblem(t, publishTo(t, c, "mona/linkedlist/3.0", packageArchive("LinkedList", "3.0"), ""), 400, "a version that is no SemVer")
		wantProblem(t, publishTo(t, c, "mo_na/linkedlist/3.0.0", packageArchive("LinkedList", "3.0.0"), ""), 400, "an invalid scope")
		sig := call(t, c, http.MethodPut, "mona/linkedlist/3.0.0", jsonV1, func() []byte {
			b, _ := publishBody(packageArchive("LinkedList", "3.0.0"), "", []byte("sig"), nil)
			return b
		}(), "Content-Type", func() string { _, ct := publishBody(nil, "", nil, nil); return ct }())
		wantProblem(t, sig, 400, "a signature without its format header")
		if after := versionsOf(t, c, "mona", "linkedlist"); len(after) != len(before) {
			t.Errorf("refused publishes stored something: %v, before %v", after, before)
		}
	})

	t.Run("SuffixedVersions", func(t *testing.T) {
		// Versions that end like the path suffixes .zip and .json.
		for _, v := range []string{"4.0.0-rc.zip", "4.0.0-rc.json"} {
			if a := publishTo(t, c, "mona/suffixed/"+v, packageArchive("Suffixed", v), ""); a.status != 201 {
				t.Fatalf("publish %s: %d %s", v, a.status, a.body)
			}
		}
		if a := call(t, c, http.MethodGet, "mona/suffixed/4.0.0-rc.json", jsonV1, nil); a.status != 200 || !strings.Contains(string(a.body), `"version":"4.0.0-rc.json"`) {
			t.Errorf("release 4.0.0-rc.json: %d %s", a.status, a.body)
		}
		if a := call(t, c, http.MethodGet, "mona/suffixed/4.0.0-rc.json.json", jsonV1, nil); a.status != 200 || !strings.Contains(string(a.body), `"version":"4.0.0-rc.json"`) {
			t.Errorf("release 4.0.0-rc.json with .json: %d %s", a.status, a.body)
		}
		if a := call(t, c, http.MethodGet, "mona/suffixed/4.0.0-rc.zip.zip", zipV1, nil); a.status != 200 || !bytes.Equal(a.body, packageArchive("Suffixed", "4.0.0-rc.zip")) {
			t.Errorf("archive of 4.0.0-rc.zip: %d", a.status)
		}
	})

	t.Run("ExpectContinue", func(t *testing.T) {
		// A release that exists is refused before the body is sent.
		body, ct := publishBody(packageArchive("LinkedList", "1.0.0"), "", nil, nil)
		sent := &countingReader{r: bytes.NewReader(body)}
		req, _ := http.NewRequest(http.MethodPut, c.Endpoint+"mona/linkedlist/1.0.0", sent)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Expect", "100-continue")
		formattest.Bearer(req, c.Token)
		cl := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || sent.n != 0 {
			t.Errorf("%d after %d bytes of the body were read", resp.StatusCode, sent.n)
		}
	})

	t.Run("Signed", func(t *testing.T) {
		body, ct := publishBody(packageArchive("Signed", "1.0.0"), `{}`, []byte("archive-signature"), []byte("metadata-signature"))
		a := call(t, c, http.MethodPut, "mona/signed/1.0.0", jsonV1, body, "Content-Type", ct, "X-Swift-Package-Signature-Format", "cms-1.0.0")
		if a.status != 201 {
			t.Fatalf("signed publish: %d %s", a.status, a.body)
		}
		m := call(t, c, http.MethodGet, "mona/signed/1.0.0", jsonV1, nil)
		enc := base64.StdEncoding.EncodeToString([]byte("archive-signature"))
		if !strings.Contains(string(m.body), `"signing":{"signatureBase64Encoded":"`+enc+`","signatureFormat":"cms-1.0.0"}`) {
			t.Errorf("release metadata of a signed release: %s", m.body)
		}
		z := call(t, c, http.MethodGet, "mona/signed/1.0.0.zip", zipV1, nil)
		if z.header.Get("X-Swift-Package-Signature-Format") != "cms-1.0.0" || z.header.Get("X-Swift-Package-Signature") != enc {
			t.Errorf("archive of a signed release: %v", z.header)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func versionsOf(t *testing.T, c *formattest.Client, scope, name string) []string {
	t.Helper()
	l, err := c.App.Service.ListPackageVersions(context.Background(), c.PackageRef(artifact.FormatSwift, scope, name), artifact.VersionFilter{}, artifact.PageRequest{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range l.Versions {
		out = append(out, v.Version)
	}
	return out
}
