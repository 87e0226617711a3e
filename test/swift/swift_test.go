package swift_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/internal/testproc"
)

// Accept headers SwiftPM sends: RegistryClient.acceptHeader(mediaType:),
// "application/vnd.swift.registry.v1+" json, zip or swift.
const (
	acceptJSON  = "application/vnd.swift.registry.v1+json"
	acceptZip   = "application/vnd.swift.registry.v1+zip"
	acceptSwift = "application/vnd.swift.registry.v1+swift"
)

// zipOf builds a zip of the files (a path ending in "/" is a directory).
func zipOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func manifest(tools string) string {
	return "// swift-tools-version:" + tools + "\nimport PackageDescription\n\nlet package = Package(\n    name: \"LinkedList\",\n" +
		"    products: [.library(name: \"LinkedList\", targets: [\"LinkedList\"])],\n    targets: [.target(name: \"LinkedList\")]\n)\n"
}

// sourceArchive is what `swift package-registry publish` uploads
// (PackageArchiver.archive in PackageRegistryCommand+Publish.swift): the
// package's files copied under a directory named by the package
// identifier and zipped with that directory at the top, here with
// Package.swift, a manifest for Swift 5.8 and the sources.
func sourceArchive(t *testing.T, version string) []byte {
	return zipOf(t, map[string]string{
		"mona.LinkedList/":                                    "",
		"mona.LinkedList/Package.swift":                       manifest("5.9"),
		"mona.LinkedList/Package@swift-5.8.swift":             manifest("5.8"),
		"mona.LinkedList/Sources/LinkedList/LinkedList.swift": "public struct LinkedList { public static let version = \"" + version + "\" }\n",
	})
}

// client is the scripted SwiftPM: the registry URL and the credentials
// `swift package-registry login` left it.
type client struct {
	t        *testing.T
	registry string // ends in "/"
	auth     func(*http.Request)
	http     *http.Client
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (c *client) do(method, path, accept string, body []byte, header ...string) answer {
	c.t.Helper()
	req, err := http.NewRequest(method, c.registry+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// publish is RegistryClient.publish: PUT {scope}/{name}/{version} with
// Accept json, "Expect: 100-continue", "Prefer: respond-async" and a
// multipart body whose boundary is a UUID quoted in the Content-Type;
// source-archive (binary), then metadata labelled quoted-printable but
// sent as is. SwiftPM takes 201 (published) or 202 (processing).
func (c *client) publish(scope, name, version string, archive []byte, metadata string) answer {
	const boundary = "4C9F1C52-0F3B-4C45-8C5B-2F0D3E1A9B77"
	var b bytes.Buffer
	b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"source-archive\"\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: binary\r\n\r\n")
	b.Write(archive)
	if metadata != "" {
		b.WriteString("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(metadata)
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return c.do(http.MethodPut, scope+"/"+name+"/"+version, acceptJSON, b.Bytes(),
		"Content-Type", `multipart/form-data;boundary="`+boundary+`"`, "Expect", "100-continue", "Prefer", "respond-async")
}

// want fails unless a has the status and Content-Version 1 (SwiftPM's
// validateAPIVersion), and for 200 the Content-Type SwiftPM's
// validateContentType expects.
func (c *client) want(a answer, status int, contentType, what string) {
	c.t.Helper()
	if a.status != status {
		c.t.Fatalf("%s: %d %s; want %d", what, a.status, a.body, status)
	}
	if v := a.header.Get("Content-Version"); v != "1" {
		c.t.Errorf("%s: Content-Version %q, want 1", what, v)
	}
	if contentType != "" && a.header.Get("Content-Type") != contentType {
		c.t.Errorf("%s: Content-Type %q, want %s", what, a.header.Get("Content-Type"), contentType)
	}
}

// links parses a Link header as SwiftPM does (split on "," then ";").
func links(h http.Header) map[string][]map[string]string {
	out := map[string][]map[string]string{}
	for _, v := range h.Values("Link") {
		for _, l := range strings.Split(v, ",") {
			fields := strings.Split(l, ";")
			m := map[string]string{"url": strings.Trim(strings.TrimSpace(fields[0]), "<>")}
			for _, f := range fields[1:] {
				k, val, _ := strings.Cut(strings.TrimSpace(f), "=")
				m[k] = strings.Trim(val, `"`)
			}
			out[m["rel"]] = append(out[m["rel"]], m)
		}
	}
	return out
}

// standIn is a `swift` that records its arguments (one line per run,
// each argument followed by \x1f) and accepts only what
// `aws codeartifact login --tool swift` runs.
const standIn = `#!/bin/sh
for a in "$@"; do printf '%s\037' "$a"; done >> "$SWIFT_RECORD"
printf '\n' >> "$SWIFT_RECORD"
case "$1 $2" in
"package-registry set"|"package-registry login") exit 0 ;;
esac
echo "unexpected swift command: $*" >&2
exit 64
`

func TestSwiftRegistry(t *testing.T) {
	testproc.Need(t, "aws")
	dataDir := t.TempDir()
	c := testproc.Start(t, cofferBin, dataDir)
	home, bin, work := t.TempDir(), t.TempDir(), t.TempDir()
	record := filepath.Join(t.TempDir(), "swift-args")
	if err := os.WriteFile(filepath.Join(bin, "swift"), []byte(standIn), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if !strings.HasPrefix(k, "AWS_") && k != "HOME" && k != "PATH" {
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "SWIFT_RECORD="+record,
		"AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"),
		"AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1")
	cl := &testproc.Runner{T: t, Env: env}

	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "store")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "app", "--upstreams", "repositoryName=store")
	appEndpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "app", "--format", "swift"), "repositoryEndpoint")
	storeEndpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "store", "--format", "swift"), "repositoryEndpoint")
	if !strings.HasPrefix(appEndpoint, c.URL+"/swift/d/demo-") || !strings.HasSuffix(appEndpoint, "/app/") {
		t.Fatalf("endpoint %s", appEndpoint)
	}

	// aws codeartifact login --tool swift (awscli customizations/codeartifact/login.py,
	// SwiftLogin): GetAuthorizationToken, GetRepositoryEndpoint(format swift),
	// then on Linux the token goes to ~/.netrc and swift runs without --token.
	out := cl.Must(work, "aws", "codeartifact", "login", "--tool", "swift", "--domain", "demo", "--repository", "app",
		"--namespace", "mona", "--endpoint-url", c.URL)
	if !strings.Contains(out, "Successfully configured swift to use AWS CodeArtifact repository "+appEndpoint) {
		t.Errorf("aws codeartifact login: %s", out)
	}
	rec, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	var runs [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(rec), "\n"), "\n") {
		runs = append(runs, strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f"))
	}
	wantRuns := [][]string{
		{"package-registry", "set", appEndpoint, "--scope", "mona"},
		{"package-registry", "login", appEndpoint + "login"},
	}
	if fmt.Sprint(runs) != fmt.Sprint(wantRuns) {
		t.Fatalf("swift was run with\n%q\nwant\n%q", runs, wantRuns)
	}
	netrc, err := os.ReadFile(filepath.Join(home, ".netrc"))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.Split(strings.TrimPrefix(c.URL, "http://"), ":")[0]
	f := strings.Fields(string(netrc))
	if len(f) != 6 || f[0] != "machine" || f[1] != host || f[2] != "login" || f[3] != "token" || f[4] != "password" {
		t.Fatalf(".netrc: %q", netrc)
	}
	token := f[5]
	if st, _ := os.Stat(filepath.Join(home, ".netrc")); st.Mode().Perm() != 0o600 {
		t.Errorf(".netrc mode %v", st.Mode())
	}

	// `swift package-registry login <endpoint>login` without --username
	// uses the token authentication type, finds the token in ~/.netrc
	// under the placeholder user "token", and sends "Authorization:
	// Bearer <token>" (PackageRegistryCommand+Auth.swift, RegistryClient's
	// authorizationProvider); curl and scripts send Basic. Both are used.
	basic := func(r *http.Request) { r.SetBasicAuth("token", token) }
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	hc := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	app := &client{t: t, registry: runs[0][2], auth: bearer, http: hc}
	store := &client{t: t, registry: storeEndpoint, auth: basic, http: hc}

	t.Run("Login", func(t *testing.T) {
		// RegistryClient.login: POST, no Accept, no body, to the path of the
		// URL given to `login` (the endpoint + "login"; Login.loginURL keeps
		// its path and makes the scheme https); 200 is success.
		for _, auth := range []func(*http.Request){basic, bearer} {
			lc := *app
			lc.auth, lc.t = auth, t
			lc.want(lc.do(http.MethodPost, strings.TrimPrefix(runs[1][2], app.registry), "", nil), 200, "", "login")
		}
		wrong := *app
		wrong.t, wrong.auth = t, func(r *http.Request) { r.SetBasicAuth("token", "not-a-token") }
		if a := wrong.do(http.MethodPost, "login", "", nil); a.status != 401 {
			t.Errorf("login with a wrong token: %d", a.status)
		}
	})

	metadata := `{"description":"One thing links to another.","repositoryURLs":["https://github.com/mona/LinkedList"],` +
		`"licenseURL":"https://www.apache.org/licenses/LICENSE-2.0?x=1","author":{"name":"Mona Lisa Octocat"}}`
	archives := map[string][]byte{"1.0.0": sourceArchive(t, "1.0.0"), "1.1.0": sourceArchive(t, "1.1.0")}
	t.Run("Publish", func(t *testing.T) {
		store.t = t
		for _, v := range []string{"1.0.0", "1.1.0"} {
			a := store.publish("mona", "LinkedList", v, archives[v], metadata)
			store.want(a, 201, "", "publish "+v)
			if a.header.Get("Location") != storeEndpoint+"mona/LinkedList/"+v {
				t.Errorf("Location %q", a.header.Get("Location"))
			}
		}
		// A release that exists: 409 (§4.6), in any spelling of the name.
		a := store.publish("MONA", "linkedlist", "1.0.0", archives["1.0.0"], "")
		store.want(a, 409, "application/problem+json", "publishing 1.0.0 again")
		// What CodeArtifact's API shows: scope and name in lower case.
		pv := cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "store", "--format", "swift",
			"--namespace", "Mona", "--package", "LinkedList", "--package-version", "1.1.0")
		if str(pv, "packageVersion", "namespace") != "mona" || str(pv, "packageVersion", "packageName") != "linkedlist" ||
			str(pv, "packageVersion", "status") != "Published" || str(pv, "packageVersion", "summary") != "One thing links to another." {
			t.Errorf("describe-package-version: %v", pv)
		}
		assets := cl.AWS(c.URL, "list-package-version-assets", "--domain", "demo", "--repository", "store", "--format", "swift",
			"--namespace", "mona", "--package", "linkedlist", "--package-version", "1.1.0")
		sum := sha256.Sum256(archives["1.1.0"])
		if str(assets, "assets", 0, "name") != "linkedlist-1.1.0.zip" || str(assets, "assets", 0, "hashes", "SHA-256") != hex.EncodeToString(sum[:]) {
			t.Errorf("assets: %v", assets)
		}
	})

	t.Run("PublishRefused", func(t *testing.T) {
		store.t = t
		bad := map[string][]byte{
			"no manifest":                    zipOf(t, map[string]string{"LinkedList/": "", "LinkedList/Sources/A.swift": "x"}),
			"no top-level dir":               zipOf(t, map[string]string{"Package.swift": manifest("5.9")}),
			"two top-level dirs":             zipOf(t, map[string]string{"LinkedList/Package.swift": manifest("5.9"), "Other/x.swift": ""}),
			"path escape":                    zipOf(t, map[string]string{"LinkedList/Package.swift": manifest("5.9"), "LinkedList/../x": ""}),
			"manifest without tools version": zipOf(t, map[string]string{"LinkedList/Package.swift": "import PackageDescription\n"}),
			"not a zip":                      []byte("\x1f\x8b not a zip"),
		}
		for what, archive := range bad {
			store.want(store.publish("mona", "LinkedList", "2.0.0", archive, ""), 422, "application/problem+json", what)
		}
		store.want(store.publish("mona", "LinkedList", "2.0.0", archives["1.0.0"], `{"repositoryURLs":"x"}`), 422, "application/problem+json", "invalid metadata")
		store.want(store.publish("mona", "LinkedList", "2.0", archives["1.0.0"], ""), 400, "application/problem+json", "a version that is no SemVer")
		store.want(store.publish("mona_", "LinkedList", "2.0.0", archives["1.0.0"], ""), 400, "application/problem+json", "an invalid scope")
		// Nothing of them was stored.
		vs := cl.AWS(c.URL, "list-package-versions", "--domain", "demo", "--repository", "store", "--format", "swift",
			"--namespace", "mona", "--package", "linkedlist")
		var got []string
		for i := range 10 {
			if v := str(vs, "versions", i, "version"); v != "" {
				got = append(got, v)
			}
		}
		slices.Sort(got)
		if fmt.Sprint(got) != "[1.0.0 1.1.0]" {
			t.Errorf("store has %v after refused publishes", got)
		}
	})

	// The resolve sequence of `swift package resolve` for a dependency
	// .package(id: "mona.LinkedList", from: "1.0.0") through app, whose
	// upstream store holds the releases.
	t.Run("Resolve", func(t *testing.T) {
		app.t = t
		// 1. RegistryClient._getPackageMetadata: GET {scope}/{name}, Accept json;
		//    releases without a problem are the candidates.
		a := app.do(http.MethodGet, "mona/LinkedList", acceptJSON, nil)
		app.want(a, 200, "application/json", "release list")
		var list struct {
			Releases map[string]struct {
				URL     string `json:"url"`
				Problem any    `json:"problem"`
			} `json:"releases"`
		}
		if err := json.Unmarshal(a.body, &list); err != nil || len(list.Releases) != 2 || list.Releases["1.1.0"].URL != app.registry+"mona/LinkedList/1.1.0" {
			t.Fatalf("release list %s (%v)", a.body, err)
		}
		l := links(a.header)
		if len(l["latest-version"]) != 1 || l["latest-version"][0]["url"] != app.registry+"mona/LinkedList/1.1.0" ||
			len(l["canonical"]) != 1 || l["canonical"][0]["url"] != "https://github.com/mona/LinkedList" {
			t.Errorf("release list links %v", l)
		}
		// 2. _getRawPackageVersionMetadata: GET {scope}/{name}/{version}, Accept json.
		a = app.do(http.MethodGet, "mona/LinkedList/1.1.0", acceptJSON, nil)
		app.want(a, 200, "application/json", "release metadata")
		var meta struct {
			ID, Version string
			Resources   []struct{ Name, Type, Checksum string }
			Metadata    struct {
				Description, LicenseURL string
				RepositoryURLs          []string
				Author                  struct{ Name string }
			}
			PublishedAt string
		}
		if err := json.Unmarshal(a.body, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.ID != "mona.LinkedList" || meta.Version != "1.1.0" || len(meta.Resources) != 1 || meta.Resources[0].Name != "source-archive" ||
			meta.Resources[0].Type != "application/zip" || meta.Metadata.Author.Name != "Mona Lisa Octocat" ||
			meta.Metadata.LicenseURL != "https://www.apache.org/licenses/LICENSE-2.0?x=1" {
			t.Errorf("release metadata %s", a.body)
		}
		if _, err := time.Parse("2006-01-02T15:04:05Z07:00", meta.PublishedAt); err != nil || strings.Contains(meta.PublishedAt, ".") {
			t.Errorf("publishedAt %q: SwiftPM's ISO 8601 decoder takes no fractional seconds", meta.PublishedAt)
		}
		if l := links(a.header); len(l["predecessor-version"]) != 1 || !strings.HasSuffix(l["predecessor-version"][0]["url"], "/1.0.0") {
			t.Errorf("release metadata links %v", l)
		}
		// 3. _getAvailableManifests: GET .../{version}/Package.swift, Accept swift;
		//    Link rel="alternate" with exactly filename and swift-tools-version.
		a = app.do(http.MethodGet, "mona/LinkedList/1.1.0/Package.swift", acceptSwift, nil)
		app.want(a, 200, "text/x-swift", "Package.swift")
		if string(a.body) != manifest("5.9") {
			t.Errorf("Package.swift %q", a.body)
		}
		alt := links(a.header)["alternate"]
		if len(alt) != 1 || alt[0]["filename"] != "Package@swift-5.8.swift" || alt[0]["swift-tools-version"] != "5.8" || len(alt[0]) != 4 {
			t.Fatalf("manifest links %v", alt)
		}
		// 4. _getManifestContent with a custom tools version: ?swift-version=
		//    (ToolsVersion's description, "5.8.0"), and one there is none for: 303.
		u, _ := url.Parse(alt[0]["url"])
		a = app.do(http.MethodGet, "mona/LinkedList/1.1.0/Package.swift?swift-version=5.8.0", acceptSwift, nil)
		app.want(a, 200, "text/x-swift", "Package.swift?swift-version=5.8.0")
		if string(a.body) != manifest("5.8") || u.Query().Get("swift-version") != "5.8" {
			t.Errorf("Package@swift-5.8.swift %q (link %s)", a.body, u)
		}
		a = app.do(http.MethodGet, "mona/LinkedList/1.1.0/Package.swift?swift-version=4.2", acceptSwift, nil)
		if a.status != 303 || a.header.Get("Location") != app.registry+"mona/LinkedList/1.1.0/Package.swift" {
			t.Errorf("swift-version=4.2: %d %s", a.status, a.header.Get("Location"))
		}
		// 5. _downloadSourceArchive: GET .../{version}.zip, Accept zip; the
		//    checksum of the release metadata (§4.4.1) and the Digest header.
		a = app.do(http.MethodGet, "mona/LinkedList/1.1.0.zip", acceptZip, nil)
		app.want(a, 200, "application/zip", "source archive")
		sum := sha256.Sum256(a.body)
		if hex.EncodeToString(sum[:]) != meta.Resources[0].Checksum || !bytes.Equal(a.body, archives["1.1.0"]) {
			t.Errorf("the archive does not match the release's checksum %s", meta.Resources[0].Checksum)
		}
		if d := a.header.Get("Digest"); d != "sha-256="+base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("Digest %q", d)
		}
		if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="LinkedList-1.1.0.zip"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		// SwiftPM strips the first level of what it extracts: one directory.
		zr, err := zip.NewReader(bytes.NewReader(a.body), int64(len(a.body)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !strings.HasPrefix(f.Name, "mona.LinkedList/") {
				t.Errorf("entry %s outside the top-level directory", f.Name)
			}
		}
		// The download through app retained the release there.
		pv := cl.AWS(c.URL, "describe-package-version", "--domain", "demo", "--repository", "app", "--format", "swift",
			"--namespace", "mona", "--package", "linkedlist", "--package-version", "1.1.0")
		if str(pv, "packageVersion", "status") != "Published" {
			t.Errorf("app after the download: %v", pv)
		}
		// What app now serves of its own copy is what store served.
		again := app.do(http.MethodGet, "mona/LinkedList/1.1.0", acceptJSON, nil)
		app.want(again, 200, "application/json", "release metadata of the retained release")
		if !strings.Contains(string(again.body), `"checksum":"`+meta.Resources[0].Checksum+`"`) {
			t.Errorf("release metadata of the retained release: %s", again.body)
		}
		if m := app.do(http.MethodGet, "mona/LinkedList/1.1.0/Package.swift", acceptSwift, nil); string(m.body) != manifest("5.9") ||
			len(links(m.header)["alternate"]) != 1 {
			t.Errorf("Package.swift of the retained release: %d %s", m.status, m.body)
		}
		// Scope and name are case-insensitive (§3.6).
		app.want(app.do(http.MethodGet, "MONA/linkedLIST/1.0.0", acceptJSON, nil), 200, "application/json", "release metadata in other case")
		// An API version this registry does not serve (§3.5).
		app.want(app.do(http.MethodGet, "mona/LinkedList", "application/vnd.swift.registry.v2+json", nil), 415, "application/problem+json", "API version 2")
		app.want(app.do(http.MethodGet, "mona/Unknown", acceptJSON, nil), 404, "application/problem+json", "an unknown package")
	})

	// RegistryClient._lookupIdentities: GET identifiers?url=, Accept json;
	// 404 is "no identities".
	t.Run("Identifiers", func(t *testing.T) {
		app.t = t
		for _, u := range []string{"https://github.com/mona/LinkedList", "https://github.com/mona/LinkedList.git", "git@github.com:mona/linkedlist.git"} {
			a := app.do(http.MethodGet, "identifiers?url="+url.QueryEscape(u), acceptJSON, nil)
			app.want(a, 200, "application/json", "identifiers of "+u)
			if string(a.body) != `{"identifiers":["mona.LinkedList"]}` {
				t.Errorf("identifiers of %s: %s", u, a.body)
			}
		}
		app.want(app.do(http.MethodGet, "identifiers?url="+url.QueryEscape("https://github.com/octo/other"), acceptJSON, nil), 404, "application/problem+json", "an unknown URL")
	})

	// Origin controls apply to the registry's reads: with upstream=BLOCK on
	// the package in app, store's 1.0.0 (never read through app) is gone
	// from app's release list and archive; app's own 1.1.0 stays.
	t.Run("OriginBlock", func(t *testing.T) {
		app.t = t
		cl.AWS(c.URL, "put-package-origin-configuration", "--domain", "demo", "--repository", "app", "--format", "swift",
			"--namespace", "mona", "--package", "linkedlist", "--restrictions", "publish=ALLOW,upstream=BLOCK")
		a := app.do(http.MethodGet, "mona/LinkedList", acceptJSON, nil)
		app.want(a, 200, "application/json", "release list with upstream=BLOCK")
		if strings.Contains(string(a.body), `"1.0.0"`) || !strings.Contains(string(a.body), `"1.1.0"`) {
			t.Errorf("release list with upstream=BLOCK: %s", a.body)
		}
		app.want(app.do(http.MethodGet, "mona/LinkedList/1.0.0.zip", acceptZip, nil), 404, "application/problem+json", "store's archive with upstream=BLOCK")
		app.want(app.do(http.MethodGet, "mona/LinkedList/1.0.0", acceptJSON, nil), 404, "application/problem+json", "store's release with upstream=BLOCK")
	})
}
