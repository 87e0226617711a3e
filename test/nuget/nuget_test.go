package nuget_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"coffer/internal/format/nuget/nugettest"
	"coffer/internal/testproc"
)

// standIn records each call of a stand-in nuget or dotnet: its arguments,
// one per line, then a line holding only ASCII RS. For the "list"
// commands the aws CLI runs first it prints $STANDIN_DIR/sources, which
// the test writes in the shape NuGet prints ("  1.  name [Enabled]" and
// the URL on the next line).
const standIn = `#!/bin/sh
{ printf '%s\n' "$(basename "$0")"; for a in "$@"; do printf '%s\n' "$a"; done; printf '\036\n'; } >> "$STANDIN_DIR/calls"
case " $* " in
*" list "*) [ -f "$STANDIN_DIR/sources" ] && cat "$STANDIN_DIR/sources" ;;
esac
exit 0
`

// calls reads the recorded calls and empties the record.
func calls(t *testing.T, dir string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "calls"))
	if err != nil {
		t.Fatalf("no stand-in was called: %v", err)
	}
	os.Remove(filepath.Join(dir, "calls"))
	var out [][]string
	for _, rec := range strings.Split(string(b), "\x1e\n") {
		if rec = strings.TrimSuffix(rec, "\n"); rec != "" {
			out = append(out, strings.Split(rec, "\n"))
		}
	}
	return out
}

// client is the scripted NuGet client: the source URL and credentials of
// a configured source, and the requests NuGet.Protocol sends.
type client struct {
	t          *testing.T
	source     string // .../v3/index.json
	user, pass string
	// authed: NuGet's HttpSourceAuthenticationHandler sends the first
	// request to a source without credentials, and on a 401 with a Basic
	// challenge retries with the source's credentials from NuGet.Config;
	// later requests carry them.
	authed    bool
	userAgent string
	resources map[string]string // @type → @id of the service index
}

// do sends one request with the headers every NuGet.Protocol request
// carries (HttpSource / ProtocolDiagnostics: X-NuGet-Client-Version,
// X-NuGet-Session-Id, User-Agent), through the authentication handler's
// 401-then-retry.
func (c *client) do(method, url string, body []byte, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	send := func(auth bool) (*http.Response, []byte) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			c.t.Fatal(err)
		}
		req.Header.Set("User-Agent", c.userAgent)
		req.Header.Set("X-NuGet-Client-Version", "6.8.0")
		req.Header.Set("X-NuGet-Session-Id", "7b7d0e0e-0000-4000-8000-000000000001")
		req.Header.Set("Accept-Language", "en-US")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		if auth {
			req.SetBasicAuth(c.user, c.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := send(c.authed)
	if resp.StatusCode == http.StatusUnauthorized && !c.authed {
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			c.t.Fatalf("%s %s: 401 without a Basic challenge", method, url)
		}
		c.authed = true
		resp, b = send(true)
	}
	return resp, b
}

func (c *client) mustGet(url string, into any) []byte {
	c.t.Helper()
	resp, b := c.do(http.MethodGet, url, nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			c.t.Fatalf("GET %s: %v\n%s", url, err, b)
		}
	}
	return b
}

// serviceIndex is the first request of every command: ServiceIndexResourceV3Provider
// reads {source} and picks resources by their versioned @type
// (ServiceTypes.cs).
func (c *client) serviceIndex() {
	c.t.Helper()
	var doc struct {
		Version   string `json:"version"`
		Resources []struct {
			ID   string `json:"@id"`
			Type string `json:"@type"`
		} `json:"resources"`
	}
	c.mustGet(c.source, &doc)
	if !strings.HasPrefix(doc.Version, "3.") {
		c.t.Fatalf("service index version %q", doc.Version)
	}
	c.resources = map[string]string{}
	for _, r := range doc.Resources {
		c.resources[r.Type] = r.ID
	}
	for _, ty := range []string{"PackageBaseAddress/3.0.0", "RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/3.4.0", "RegistrationsBaseUrl",
		"SearchQueryService/3.5.0", "SearchAutocompleteService/3.5.0", "PackagePublish/2.0.0", "ReadmeUriTemplate/6.13.0", "PackageDetailsUriTemplate/5.1.0"} {
		if c.resources[ty] == "" {
			c.t.Errorf("the service index lacks %s", ty)
		}
	}
}

// push is dotnet nuget push (PackageUpdateResource.PushPackageToServer):
// PUT to the PackagePublish/2.0.0 URL, a multipart body with one part
// "package" (filename package.nupkg, application/octet-stream), the API
// key in X-NuGet-ApiKey (coffer ignores it) and X-NuGet-Protocol-Version
// 4.1.0. NuGet reports 409 as "already exists".
func (c *client) push(nupkg []byte) (int, string) {
	c.t.Helper()
	body, ct := nugettest.Multipart(nupkg)
	resp, b := c.do(http.MethodPut, c.resources["PackagePublish/2.0.0"], body, "Content-Type", ct,
		"X-NuGet-ApiKey", "not-read", "X-NuGet-Protocol-Version", "4.1.0")
	return resp.StatusCode, string(b)
}

// restore is dotnet restore of id at version (RemoteV3FindPackageByIdResource
// over the flat container, HttpFileSystemBasedFindPackageByIdResource):
// GET {PackageBaseAddress}{id-lower}/index.json, then the .nupkg at
// {id-lower}/{version-lower}/{id-lower}.{version-lower}.nupkg; the nuspec
// is read from the downloaded package.
func (c *client) restore(id, version string) []byte {
	c.t.Helper()
	flat := c.resources["PackageBaseAddress/3.0.0"]
	lid, lv := strings.ToLower(id), strings.ToLower(version)
	var idx struct {
		Versions []string `json:"versions"`
	}
	c.mustGet(flat+lid+"/index.json", &idx)
	if !slices.Contains(idx.Versions, lv) {
		c.t.Fatalf("%s/index.json lacks %s: %v", lid, lv, idx.Versions)
	}
	resp, b := c.do(http.MethodGet, flat+lid+"/"+lv+"/"+lid+"."+lv+".nupkg", nil)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("download %s %s: %d %s", id, version, resp.StatusCode, b)
	}
	return b
}

// regLeaf is what NuGet's RegistrationUtility reads of a registration
// page's items.
type regLeaf struct {
	CatalogEntry struct {
		ID               string `json:"id"`
		Version          string `json:"version"`
		Listed           *bool  `json:"listed"`
		PackageContent   string `json:"packageContent"`
		DependencyGroups []struct {
			TargetFramework string `json:"targetFramework"`
			Dependencies    []struct {
				ID    string `json:"id"`
				Range string `json:"range"`
			} `json:"dependencies"`
		} `json:"dependencyGroups"`
	} `json:"catalogEntry"`
	PackageContent string `json:"packageContent"`
}

// registration is nuget install's dependency walk (DependencyInfoResourceV3 →
// RegistrationUtility.LoadRanges): GET {RegistrationsBaseUrl/3.6.0}{id-lower}/index.json;
// pages without items are fetched by their @id.
func (c *client) registration(id string) []regLeaf {
	c.t.Helper()
	var idx struct {
		Items []struct {
			ID    string    `json:"@id"`
			Items []regLeaf `json:"items"`
			Lower string    `json:"lower"`
			Upper string    `json:"upper"`
		} `json:"items"`
	}
	c.mustGet(c.resources["RegistrationsBaseUrl/3.6.0"]+strings.ToLower(id)+"/index.json", &idx)
	var leaves []regLeaf
	for _, p := range idx.Items {
		if p.Items == nil {
			var page struct {
				Items []regLeaf `json:"items"`
			}
			c.mustGet(p.ID, &page)
			p.Items = page.Items
		}
		leaves = append(leaves, p.Items...)
	}
	return leaves
}

func TestNuGet(t *testing.T) {
	testproc.Need(t, "aws")

	// The fixture nuget.org: Upstream.Dep 1.0.0 and 1.1.0.
	upDep := map[string][]byte{"1.0.0": nugettest.Nupkg("Upstream.Dep", "1.0.0", nil), "1.1.0": nugettest.Nupkg("Upstream.Dep", "1.1.0", nil)}
	var nupkgFetches atomic.Int64
	// Its registrations are paged, as nuget.org's are for packages of many
	// versions.
	fixture := &nugettest.Registry{Packages: map[string]map[string][]byte{"upstream.dep": upDep}, Paged: true}
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".nupkg") {
			nupkgFetches.Add(1)
		}
		fixture.ServeHTTP(w, r)
	}))
	defer reg.Close()

	dataDir := t.TempDir()
	bin := t.TempDir()
	for _, tool := range []string{"nuget", "dotnet"} {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(standIn), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := clientEnv(t, dataDir, bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	standDir := t.TempDir()
	env = append(env, "STANDIN_DIR="+standDir)
	cl := &testproc.Runner{T: t, Env: env}
	c := testproc.Start(t, cofferBin, dataDir, "--external-connection", "public:nuget-org="+reg.URL+"/")

	cl.AWS(c.URL, "create-domain", "--domain", "dom")
	cl.AWS(c.URL, "create-repository", "--domain", "dom", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "dom", "--repository", "store", "--external-connection", "public:nuget-org")
	cl.AWS(c.URL, "create-repository", "--domain", "dom", "--repository", "app", "--upstreams", "repositoryName=store")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "dom", "--repository", "app", "--format", "nuget"), "repositoryEndpoint")
	if !strings.HasSuffix(endpoint, "/nuget/d/dom-"+str(cl.AWS(c.URL, "describe-domain", "--domain", "dom"), "domain", "owner")+"/app/") {
		t.Fatalf("endpoint %s", endpoint)
	}
	source := endpoint + "v3/index.json"

	// aws codeartifact login --tool nuget (awscli customizations/codeartifact/login.py,
	// NuGetLogin): nuget sources list -format detailed, then
	// nuget sources add|update -name dom/app -source <endpoint>v3/index.json
	// -username aws -password <token>.
	os.WriteFile(filepath.Join(standDir, "sources"), []byte("Registered Sources:\n\n  1.  nuget.org [Enabled]\n      https://api.nuget.org/v3/index.json\n"), 0o644)
	login := func(tool string) [][]string {
		t.Helper()
		cl.Must("", "aws", "codeartifact", "login", "--tool", tool, "--domain", "dom", "--repository", "app", "--endpoint-url", c.URL)
		return calls(t, standDir)
	}
	got := login("nuget")
	if len(got) != 2 || !slices.Equal(got[0], []string{"nuget", "sources", "list", "-format", "detailed"}) {
		t.Fatalf("nuget calls: %q", got)
	}
	add := got[1]
	if len(add) != 11 || !slices.Equal(add[:10], []string{"nuget", "sources", "add", "-name", "dom/app", "-source", source, "-username", "aws", "-password"}) || add[10] == "" {
		t.Fatalf("nuget sources add: %q", add)
	}
	token := add[10]
	// With the source configured, login updates it.
	os.WriteFile(filepath.Join(standDir, "sources"), []byte("Registered Sources:\n\n  1.  nuget.org [Enabled]\n      https://api.nuget.org/v3/index.json\n  2.  dom/app [Enabled]\n      "+source+"\n"), 0o644)
	got = login("nuget")
	if len(got) != 2 || !slices.Equal(got[1][:10], []string{"nuget", "sources", "update", "-name", "dom/app", "-source", source, "-username", "aws", "-password"}) {
		t.Fatalf("nuget sources update: %q", got)
	}
	// --tool dotnet (DotNetLogin): dotnet nuget list source --format
	// detailed, then dotnet nuget add source <url> --name dom/app
	// --username aws --password <token> --store-password-in-clear-text.
	os.WriteFile(filepath.Join(standDir, "sources"), []byte("Registered Sources:\n  1.  nuget.org [Enabled]\n      https://api.nuget.org/v3/index.json\n"), 0o644)
	got = login("dotnet")
	if len(got) != 2 || !slices.Equal(got[0], []string{"dotnet", "nuget", "list", "source", "--format", "detailed"}) {
		t.Fatalf("dotnet calls: %q", got)
	}
	dadd := got[1]
	if len(dadd) != 12 || !slices.Equal(dadd[:10], []string{"dotnet", "nuget", "add", "source", source, "--name", "dom/app", "--username", "aws", "--password"}) ||
		dadd[11] != "--store-password-in-clear-text" {
		t.Fatalf("dotnet nuget add source: %q", dadd)
	}
	os.WriteFile(filepath.Join(standDir, "sources"), []byte("Registered Sources:\n  1.  dom/app [Enabled]\n      "+source+"\n"), 0o644)
	got = login("dotnet")
	if !slices.Equal(got[1][:10], []string{"dotnet", "nuget", "update", "source", "dom/app", "--source", source, "--username", "aws", "--password"}) {
		t.Fatalf("dotnet nuget update source: %q", got[1])
	}
	dtoken := dadd[10]

	// What the stand-ins were given is a working source.
	push := &client{t: t, source: add[6], user: add[8], pass: token, userAgent: "NuGet .NET Core MSBuild Task/6.8.0 (Linux)"}
	push.serviceIndex()
	if !push.authed {
		t.Error("the service index answered without credentials")
	}

	// dotnet nuget push: malformed packages are 400, nothing stored.
	spec := nugettest.Nuspec("Acme.Lib", "1.0.0", nil)
	for name, b := range map[string][]byte{
		"not a zip":   []byte("definitely not a zip"),
		"no nuspec":   nugettest.Zip(nugettest.File{Name: "lib/net8.0/Acme.Lib.dll", Body: "x"}),
		"two nuspecs": nugettest.Zip(nugettest.File{Name: "Acme.Lib.nuspec", Body: spec}, nugettest.File{Name: "Acme.Other.nuspec", Body: spec}),
		"bad id":      nugettest.Zip(nugettest.File{Name: "Acme.Lib.nuspec", Body: strings.Replace(spec, "<id>Acme.Lib</id>", "<id>Acme Lib</id>", 1)}),
	} {
		if code, msg := push.push(b); code != http.StatusBadRequest {
			t.Errorf("push of %s: %d %s", name, code, msg)
		}
	}
	if pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "dom", "--repository", "app"), "packages"); len(pkgs) != 0 {
		t.Fatalf("refused pushes stored %v", pkgs)
	}

	// Acme.Lib 1.0.0 depends on Upstream.Dep, which only nuget.org has.
	lib := nugettest.Nupkg("Acme.Lib", "01.0.0.0", map[string][]string{"net8.0": {"Upstream.Dep:[1.0.0, )"}, "netstandard2.0": {"Upstream.Dep:[1.0.0, )"}})
	if code, msg := push.push(lib); code != http.StatusCreated {
		t.Fatalf("push: %d %s", code, msg)
	}
	if code, msg := push.push(lib); code != http.StatusConflict {
		t.Errorf("second push: %d %s", code, msg)
	}
	if code, msg := push.push(nugettest.Nupkg("Acme.Lib", "1.1.0-beta.1", nil)); code != http.StatusCreated {
		t.Fatalf("push of a SemVer 2.0.0 pre-release: %d %s", code, msg)
	}
	// The API sees normalised names and versions, the display name as
	// published, the dependencies of both frameworks once.
	v := cl.AWS(c.URL, "describe-package-version", "--domain", "dom", "--repository", "app", "--format", "nuget",
		"--package", "ACME.LIB", "--package-version", "1.00.0.0")
	if str(v, "packageVersion", "packageName") != "acme.lib" || str(v, "packageVersion", "displayName") != "Acme.Lib" ||
		str(v, "packageVersion", "version") != "1.0.0" || str(v, "packageVersion", "status") != "Published" {
		t.Errorf("describe-package-version: %v", v)
	}
	deps := list(cl.AWS(c.URL, "list-package-version-dependencies", "--domain", "dom", "--repository", "app", "--format", "nuget",
		"--package", "acme.lib", "--package-version", "1.0.0"), "dependencies")
	if len(deps) != 1 || str(deps[0], "package") != "Upstream.Dep" || str(deps[0], "versionRequirement") != "[1.0.0, )" {
		t.Errorf("dependencies: %v", deps)
	}

	// dotnet restore from a clean client, with the dotnet login's token.
	restore := &client{t: t, source: dadd[4], user: dadd[8], pass: dtoken, userAgent: "NuGet .NET Core MSBuild Task/6.8.0 (Linux)"}
	restore.serviceIndex()
	if b := restore.restore("Acme.Lib", "1.0.0"); !bytes.Equal(b, lib) {
		t.Error("the restored Acme.Lib differs from the pushed one")
	}
	// Its dependency comes from nuget.org through store, fetched once.
	if b := restore.restore("Upstream.Dep", "1.1.0"); !bytes.Equal(b, upDep["1.1.0"]) {
		t.Error("Upstream.Dep 1.1.0 differs from nuget.org's")
	}
	if b := restore.restore("upstream.dep", "1.1.0"); !bytes.Equal(b, upDep["1.1.0"]) || nupkgFetches.Load() != 1 {
		t.Errorf("a second restore: %d fetches from nuget.org", nupkgFetches.Load())
	}
	// The readme the manifest names, through the ReadmeUriTemplate.
	readmeURL := strings.NewReplacer("{lower_id}", "acme.lib", "{lower_version}", "1.0.0").Replace(restore.resources["ReadmeUriTemplate/6.13.0"])
	if resp, b := restore.do(http.MethodGet, readmeURL, nil); resp.StatusCode != 200 || string(b) != "# Acme.Lib\n" {
		t.Errorf("readme: %d %q", resp.StatusCode, b)
	}
	// The manifest of a version nuget.org offers and coffer has not
	// fetched is relayed; nothing is stored for it.
	flatURL := restore.resources["PackageBaseAddress/3.0.0"]
	if resp, b := restore.do(http.MethodGet, flatURL+"upstream.dep/1.0.0/upstream.dep.nuspec", nil); resp.StatusCode != 200 ||
		!strings.Contains(string(b), "<version>1.0.0</version>") || nupkgFetches.Load() != 1 {
		t.Errorf("nuspec of an upstream version: %d %s", resp.StatusCode, b)
	}
	for _, repo := range []string{"store", "app"} {
		pv := cl.AWS(c.URL, "describe-package-version", "--domain", "dom", "--repository", repo, "--format", "nuget",
			"--package", "upstream.dep", "--package-version", "1.1.0")
		if str(pv, "packageVersion", "origin", "originType") != "EXTERNAL" || str(pv, "packageVersion", "displayName") != "Upstream.Dep" {
			t.Errorf("%s: %v", repo, pv)
		}
	}

	// nuget install Acme.Lib (nuget.exe, semVerLevel 2.0.0): the
	// registration gives the dependency ranges, DownloadResourceV3 the
	// packageContent URL.
	install := &client{t: t, source: source, user: "aws", pass: token, userAgent: "NuGet Command Line/6.8.0 (Linux)"}
	install.serviceIndex()
	leaves := install.registration("Acme.Lib")
	if len(leaves) != 2 || leaves[0].CatalogEntry.Version != "1.0.0" || leaves[1].CatalogEntry.Version != "1.1.0-beta.1" ||
		leaves[0].CatalogEntry.ID != "Acme.Lib" || len(leaves[0].CatalogEntry.DependencyGroups) != 2 ||
		leaves[0].CatalogEntry.DependencyGroups[0].Dependencies[0].ID != "Upstream.Dep" {
		t.Fatalf("registration of Acme.Lib: %+v", leaves)
	}
	resp, b := install.do(http.MethodGet, leaves[0].PackageContent, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, lib) {
		t.Errorf("packageContent: %d", resp.StatusCode)
	}
	up := install.registration("Upstream.Dep")
	if len(up) != 2 || up[0].CatalogEntry.Version != "1.0.0" || up[1].CatalogEntry.ID != "Upstream.Dep" ||
		up[0].CatalogEntry.DependencyGroups[0].Dependencies[0].ID != "Upstream.Base" {
		t.Fatalf("registration of Upstream.Dep: %+v", up)
	}
	resp, b = install.do(http.MethodGet, up[0].PackageContent, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, upDep["1.0.0"]) {
		t.Errorf("Upstream.Dep 1.0.0: %d", resp.StatusCode)
	}
	// The SemVer 1.0.0 registration (older clients) leaves 1.1.0-beta.1 out.
	var old struct {
		Items []struct {
			Items []regLeaf `json:"items"`
		} `json:"items"`
	}
	install.mustGet(install.resources["RegistrationsBaseUrl/3.4.0"]+"acme.lib/index.json", &old)
	if len(old.Items) != 1 || len(old.Items[0].Items) != 1 {
		t.Errorf("SemVer 1.0.0 registration: %+v", old)
	}
	// Search as Visual Studio's package manager and dotnet package search
	// send it (SearchQueryService: q, skip, take, prerelease,
	// semVerLevel).
	var found struct {
		TotalHits int `json:"totalHits"`
		Data      []struct {
			ID       string `json:"id"`
			Version  string `json:"version"`
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
		} `json:"data"`
	}
	install.mustGet(install.resources["SearchQueryService/3.5.0"]+"?q=acme&skip=0&take=20&prerelease=true&semVerLevel=2.0.0", &found)
	if found.TotalHits != 1 || found.Data[0].ID != "Acme.Lib" || found.Data[0].Version != "1.1.0-beta.1" || len(found.Data[0].Versions) != 2 {
		t.Errorf("search: %+v", found)
	}

	// dotnet nuget delete (PackageUpdateResource.DeletePackage): DELETE
	// {PackagePublish}/{id}/{version} with X-NuGet-ApiKey; the version
	// becomes Unlisted, still restorable, listed false.
	resp, b = push.do(http.MethodDelete, push.resources["PackagePublish/2.0.0"]+"/Acme.Lib/1.0.0", nil, "X-NuGet-ApiKey", "not-read")
	if resp.StatusCode/100 != 2 {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	if s := str(cl.AWS(c.URL, "describe-package-version", "--domain", "dom", "--repository", "app", "--format", "nuget",
		"--package", "acme.lib", "--package-version", "1.0.0"), "packageVersion", "status"); s != "Unlisted" {
		t.Errorf("status after delete: %s", s)
	}
	if leaves := install.registration("acme.lib"); leaves[0].CatalogEntry.Listed == nil || *leaves[0].CatalogEntry.Listed {
		t.Error("the unlisted version is listed")
	}
	restore.restore("Acme.Lib", "1.0.0")

	// Without the token: 401 with the Basic challenge NuGet's credential
	// providers answer.
	anon, err := http.Get(source)
	if err != nil {
		t.Fatal(err)
	}
	anon.Body.Close()
	if anon.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(anon.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no credentials: %d %q", anon.StatusCode, anon.Header.Get("WWW-Authenticate"))
	}
	bad := &client{t: t, source: source, user: "aws", pass: base64.StdEncoding.EncodeToString([]byte("nope")), userAgent: "x", authed: true}
	if resp, _ := bad.do(http.MethodGet, source, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a bad token: %d", resp.StatusCode)
	}

	// With nuget.org gone, what was fetched is still restored, its
	// manifest read from the stored package.
	reg.Close()
	offline := &client{t: t, source: source, user: "aws", pass: token, userAgent: "NuGet .NET Core MSBuild Task/6.8.0 (Linux)"}
	offline.serviceIndex()
	if b := offline.restore("Upstream.Dep", "1.1.0"); !bytes.Equal(b, upDep["1.1.0"]) {
		t.Error("Upstream.Dep from what coffer kept differs")
	}
	flat := offline.resources["PackageBaseAddress/3.0.0"]
	if resp, b := offline.do(http.MethodGet, flat+"upstream.dep/1.1.0/upstream.dep.nuspec", nil); resp.StatusCode != 200 ||
		!strings.Contains(string(b), "<id>Upstream.Dep</id>") {
		t.Errorf("nuspec of a fetched version: %d %s", resp.StatusCode, b)
	}
	if resp, b := offline.do(http.MethodGet, flat+"acme.lib/1.0.0/acme.lib.nuspec", nil); resp.StatusCode != 200 || !strings.Contains(string(b), "<version>01.0.0.0</version>") {
		t.Errorf("nuspec of a pushed version: %d %s", resp.StatusCode, b)
	}
}
