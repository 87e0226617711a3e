package nuget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/nuget/nugettest"
)

type feed struct {
	t *testing.T
	c *formattest.Client
}

func newFeed(t *testing.T) *feed {
	return &feed{t: t, c: formattest.Serve(formattest.Testing(t), confAdapter)}
}

func (f *feed) do(method, path string, body []byte, hdr ...string) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (f *feed) push(nupkg []byte) (int, []byte) {
	body, ct := nugettest.Multipart(nupkg)
	return f.do(http.MethodPut, "v3/package", body, "Content-Type", ct, "X-NuGet-ApiKey", "AzureDevOps")
}

// golden replaces what changes from run to run (the server's address,
// times) before comparing with testdata/<name>.golden.
func (f *feed) golden(name string, b []byte) {
	f.t.Helper()
	s := strings.ReplaceAll(string(b), f.c.URL, "http://coffer.test")
	s = regexp.MustCompile(`/d/dx-\d+/`).ReplaceAllString(s, "/d/dx-111122223333/")
	s = regexp.MustCompile(`"published":"2\d\d\d-[^"]*"`).ReplaceAllString(s, `"published":"PUBLISHED"`)
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		out, _ := json.MarshalIndent(v, "", "  ")
		s = string(out) + "\n"
	}
	formattest.Golden(f.t, name, []byte(s))
}

func (f *feed) stored() []string {
	f.t.Helper()
	var names []string
	pkgs, _, err := f.c.App.Service.ListPackages(context.Background(), artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: f.c.DomainOwner, Name: f.c.Domain},
		Repository: f.c.Repository}, artifact.PackageFilter{Format: artifact.FormatNuget}, artifact.PageRequest{})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	return names
}

func TestPushAndRead(t *testing.T) {
	f := newFeed(t)
	deps := map[string][]string{"net8.0": {"Newtonsoft.Json:[13.0.1, )"}, "netstandard2.0": {"Newtonsoft.Json:[13.0.1, )", "System.Memory:4.5.5"}}

	// Malformed pushes are 400 and store nothing.
	spec := nugettest.Nuspec("My.Pkg", "1.0.0", nil)
	for name, b := range map[string][]byte{
		"not a zip":   []byte("not a zip at all"),
		"no nuspec":   nugettest.Zip(nugettest.File{Name: "lib/net8.0/My.Pkg.dll", Body: "x"}),
		"two nuspecs": nugettest.Zip(nugettest.File{Name: "My.Pkg.nuspec", Body: spec}, nugettest.File{Name: "Other.nuspec", Body: spec}),
		"bad version": nugettest.Zip(nugettest.File{Name: "My.Pkg.nuspec", Body: strings.Replace(spec, "1.0.0", "one", 1)}),
	} {
		if code, body := f.push(b); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if code, _ := f.do(http.MethodPut, "v3/package", []byte("--x\r\n"), "Content-Type", "multipart/form-data; boundary=x"); code != http.StatusBadRequest {
		t.Errorf("a broken multipart body: %d", code)
	}
	if s := f.stored(); len(s) != 0 {
		t.Fatalf("refused pushes stored %v", s)
	}

	if code, body := f.push(nugettest.Nupkg("My.Pkg", "01.0.0.0", deps)); code != http.StatusCreated {
		t.Fatalf("push: %d %s", code, body)
	}
	if code, body := f.push(nugettest.Nupkg("My.Pkg", "1.0.0", deps)); code != http.StatusConflict {
		t.Errorf("push of the same normalised version: %d %s", code, body)
	}
	if code, body := f.push(nugettest.Nupkg("my.pkg", "2.0.0-beta.1+build.5", nil)); code != http.StatusCreated {
		t.Fatalf("push of a SemVer 2.0.0 version: %d %s", code, body)
	}

	// The API reads the normalised name and version, the display name
	// keeps the id's case (the latest version, pushed as my.pkg, gives
	// search its spelling), the dependencies of every framework are kept.
	ref := artifact.VersionRef{PackageRef: f.c.PackageRef(artifact.FormatNuget, "", "My.Pkg"), Version: "1.0.0"}
	v, err := f.c.App.Service.DescribePackageVersion(context.Background(), ref)
	if err != nil || v.DisplayName != "My.Pkg" || v.HomePage != "https://example.com/My.Pkg" || v.Readme != "# My.Pkg\n" ||
		len(v.Licenses) != 1 || v.Licenses[0].Name != "MIT" || v.SourceCodeRepository != "https://example.com/My.Pkg.git" {
		t.Fatalf("%+v %v", v, err)
	}
	// API inputs are normalised as NuGet versions.
	for _, in := range []string{"01.0.0.0", "1.0", "1.0.0+meta"} {
		alt := ref
		alt.Version = in
		if w, err := f.c.App.Service.DescribePackageVersion(context.Background(), alt); err != nil || w.Version.Version != "1.0.0" {
			t.Errorf("DescribePackageVersion %s: %v", in, err)
		}
	}
	_, deps2, _, err := f.c.App.Service.ListPackageVersionDependencies(context.Background(), ref, artifact.PageRequest{})
	if err != nil || len(deps2) != 2 || deps2[0].Package != "Newtonsoft.Json" || deps2[1].Package != "System.Memory" || deps2[1].VersionRequirement != "4.5.5" {
		t.Errorf("dependencies %+v %v", deps2, err)
	}

	code, idx := f.do(http.MethodGet, "v3/index.json", nil)
	if code != 200 {
		t.Fatalf("service index: %d", code)
	}
	f.golden("service-index", idx)
	if code, b := f.do(http.MethodGet, "v3-flatcontainer/My.Pkg/index.json", nil); code != 200 || string(b) != `{"versions":["1.0.0","2.0.0-beta.1"]}` {
		t.Errorf("flat index: %d %s", code, b)
	}
	for _, p := range []string{"v3-flatcontainer/my.pkg/1.0.0/my.pkg.1.0.0.nupkg", "v3-flatcontainer/My.Pkg/1.0.0.0/My.Pkg.1.0.0.nupkg"} {
		if code, b := f.do(http.MethodGet, p, nil); code != 200 || !bytes.Equal(b, nugettest.Nupkg("My.Pkg", "01.0.0.0", deps)) {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if code, b := f.do(http.MethodGet, "v3-flatcontainer/my.pkg/1.0.0/my.pkg.nuspec", nil); code != 200 || !strings.Contains(string(b), "<id>My.Pkg</id>") {
		t.Errorf("nuspec: %d %s", code, b)
	}
	if code, b := f.do(http.MethodGet, "v3-flatcontainer/my.pkg/1.0.0/readme", nil); code != 200 || string(b) != "# My.Pkg\n" {
		t.Errorf("readme: %d %s", code, b)
	}
	if code, _ := f.do(http.MethodGet, "v3-flatcontainer/my.pkg/1.0.0/other.nupkg", nil); code != 404 {
		t.Errorf("another file: %d", code)
	}
	code, reg := f.do(http.MethodGet, "v3/registration-semver2/my.pkg/index.json", nil)
	if code != 200 {
		t.Fatalf("registration: %d %s", code, reg)
	}
	f.golden("registration-semver2", reg)
	// The SemVer 1.0.0 registration leaves 2.0.0-beta.1 out.
	if code, b := f.do(http.MethodGet, "v3/registration/my.pkg/index.json", nil); code != 200 || strings.Contains(string(b), "2.0.0-beta.1") {
		t.Errorf("semver1 registration: %d %s", code, b)
	}
	code, leaf := f.do(http.MethodGet, "v3/registration-semver2/my.pkg/1.0.0.json", nil)
	if code != 200 {
		t.Fatalf("leaf: %d", code)
	}
	f.golden("registration-leaf", leaf)
	code, search := f.do(http.MethodGet, "v3/search?q=pkg&skip=0&take=20&prerelease=true&semVerLevel=2.0.0", nil)
	if code != 200 {
		t.Fatalf("search: %d", code)
	}
	f.golden("search", search)
	if code, b := f.do(http.MethodGet, "v3/search?q=pkg&prerelease=false", nil); code != 200 || strings.Contains(string(b), "beta") || !strings.Contains(string(b), `"totalHits":1`) {
		t.Errorf("search without prerelease: %s", b)
	}
	if code, b := f.do(http.MethodGet, "v3/autocomplete?q=my&prerelease=true&semVerLevel=2.0.0", nil); code != 200 || string(b) != `{"totalHits":1,"data":["my.pkg"]}` {
		t.Errorf("autocomplete: %s", b)
	}
	if code, b := f.do(http.MethodGet, "v3/autocomplete?id=my.pkg&prerelease=true&semVerLevel=2.0.0", nil); code != 200 || string(b) != `{"totalHits":2,"data":["1.0.0","2.0.0-beta.1"]}` {
		t.Errorf("autocomplete versions: %s", b)
	}

	// Unlist: the version stays downloadable and in the flat container,
	// listed false in its registration.
	if code, b := f.do(http.MethodDelete, "v3/package/My.Pkg/1.0.0.0", nil, "X-NuGet-ApiKey", "x"); code != http.StatusNoContent {
		t.Fatalf("unlist: %d %s", code, b)
	}
	if v, _ := f.c.App.Service.DescribePackageVersion(context.Background(), ref); v.Status != artifact.StatusUnlisted {
		t.Errorf("status %s", v.Status)
	}
	if code, b := f.do(http.MethodGet, "v3/registration-semver2/my.pkg/1.0.0.json", nil); code != 200 || !strings.Contains(string(b), `"listed":false`) {
		t.Errorf("unlisted leaf: %s", b)
	}
	if code, _ := f.do(http.MethodGet, "v3-flatcontainer/my.pkg/1.0.0/my.pkg.1.0.0.nupkg", nil); code != 200 {
		t.Errorf("unlisted download: %d", code)
	}
	if code, _ := f.do(http.MethodDelete, "v3/package/My.Pkg/9.0.0", nil); code != 404 {
		t.Errorf("unlist of a missing version: %d", code)
	}
}

// More than 128 versions: the registration index links pages of 64, each
// served under the URL the index gives.
func TestRegistrationPagesServed(t *testing.T) {
	f := newFeed(t)
	for i := range 130 {
		if code, b := f.push(nugettest.Zip(nugettest.File{Name: "Many.Pkg.nuspec",
			Body: "<package><metadata><id>Many.Pkg</id><version>1.0." + strconv.Itoa(i) + "</version><authors>a</authors><description>d</description></metadata></package>"})); code != http.StatusCreated {
			t.Fatalf("push %d: %d %s", i, code, b)
		}
	}
	var idx struct {
		Count int `json:"count"`
		Items []struct {
			ID    string            `json:"@id"`
			Count int               `json:"count"`
			Items []json.RawMessage `json:"items"`
		} `json:"items"`
	}
	code, b := f.do(http.MethodGet, "v3/registration-semver2/many.pkg/index.json", nil)
	if code != 200 || json.Unmarshal(b, &idx) != nil || idx.Count != 3 || idx.Items[0].Items != nil {
		t.Fatalf("index: %d %s", code, b)
	}
	total := 0
	for _, p := range idx.Items {
		req, _ := http.NewRequest(http.MethodGet, p.ID, nil)
		resp, err := f.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items []struct {
				CatalogEntry struct {
					Version string `json:"version"`
				} `json:"catalogEntry"`
			} `json:"items"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || len(page.Items) != p.Count {
			t.Fatalf("page %s: %d %v", p.ID, resp.StatusCode, err)
		}
		total += len(page.Items)
	}
	if total != 130 {
		t.Errorf("pages hold %d versions", total)
	}
}
