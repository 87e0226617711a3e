package rubygems_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/rubygems"
	"coffer/internal/format/rubygems/rubygemstest"
)

// do sends a request to the repository endpoint with the adapter's
// credentials and returns the response with its body read.
func do(t *testing.T, c *formattest.Client, method, path string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.Endpoint+path, body)
	if err != nil {
		t.Fatal(err)
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
	return resp, b
}

func push(t *testing.T, c *formattest.Client, gem []byte, header ...string) (int, string) {
	t.Helper()
	resp, b := do(t, c, http.MethodPost, "api/v1/gems", bytes.NewReader(gem), header...)
	return resp.StatusCode, string(b)
}

func mustGet(t *testing.T, c *formattest.Client, path string) []byte {
	t.Helper()
	resp, b := do(t, c, http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	gemPlain = rubygemstest.Gem{Name: "fx_gem", Version: "1.0.0", Summary: "the plain build", Homepage: "https://example.com/fx",
		Licenses: []string{"MIT", "Apache-2.0"},
		Deps:     []rubygemstest.Dep{{Name: "fx_dep", Constraints: []string{"~> 1.0"}}, {Name: "rake", Constraints: []string{">= 13"}, Development: true}}}
	gemNative = rubygemstest.Gem{Name: "fx_gem", Version: "1.0.0", Platform: "x86_64-linux", Summary: "the native build"}
	gemPre    = rubygemstest.Gem{Name: "fx_gem", Version: "2.0.0.pre1", Summary: "a prerelease"}
	gemDep    = rubygemstest.Gem{Name: "fx_dep", Version: "1.1.0"}
)

// TestPushAndIndexes pushes a gem's plain and native builds of one version,
// a prerelease and a dependency, and reads every index.
func TestPushAndIndexes(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	ctx := context.Background()
	for _, g := range []rubygemstest.Gem{gemPlain, gemNative, gemPre, gemDep} {
		if status, body := push(t, c, g.Bytes()); status != http.StatusOK || !strings.HasPrefix(body, "Successfully registered gem: "+g.Name) {
			t.Fatalf("push %s: %d %s", g.FileName(), status, body)
		}
	}
	// The same bytes again succeed; other bytes under the same name are a
	// conflict.
	if status, body := push(t, c, gemPlain.Bytes(), "Authorization", "Bearer "+c.Token); status != http.StatusOK {
		t.Errorf("push of the same bytes with Bearer: %d %s", status, body)
	}
	changed := gemPlain
	changed.Summary = "other bytes"
	if status, body := push(t, c, changed.Bytes()); status != http.StatusConflict {
		t.Errorf("push of other bytes: %d %s", status, body)
	}

	// Platform builds are assets of one version; the version records the
	// first build's spec.
	ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatRuby, "", "fx_gem"), Version: "1.0.0"}
	assets, err := c.App.Service.ListPackageVersionAssets(ctx, ref, artifact.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range assets.Assets {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"fx_gem-1.0.0-x86_64-linux.gem", "fx_gem-1.0.0.gem"}) {
		t.Errorf("assets of 1.0.0: %v", names)
	}
	v, err := c.App.Service.DescribePackageVersion(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if v.Summary != "the plain build" || v.HomePage != "https://example.com/fx" || len(v.Licenses) != 2 || v.Licenses[0].Name != "MIT" {
		t.Errorf("version: %+v", v)
	}
	_, deps, _, err := c.App.Service.ListPackageVersionDependencies(ctx, ref, artifact.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, d.Package+" "+d.DependencyType+" "+d.VersionRequirement)
	}
	if !slices.Equal(got, []string{"fx_dep runtime ~> 1.0", "rake development >= 13"}) {
		t.Errorf("dependencies: %v", got)
	}

	// info/<gem>: one line per build, development dependencies left out.
	info := mustGet(t, c, "info/fx_gem")
	lines := strings.Split(strings.TrimSuffix(string(info), "\n"), "\n")
	want := []string{"---",
		"1.0.0 fx_dep:~> 1.0|checksum:" + rubygemstest.SHA256(gemPlain.Bytes()),
		"1.0.0-x86_64-linux |checksum:" + rubygemstest.SHA256(gemNative.Bytes()),
		"2.0.0.pre1 |checksum:" + rubygemstest.SHA256(gemPre.Bytes())}
	if !slices.Equal(lines, want) {
		t.Errorf("info/fx_gem:\n%s\nwant\n%s", info, strings.Join(want, "\n"))
	}
	resp, _ := do(t, c, http.MethodGet, "info/fx_gem", nil)
	if resp.Header.Get("ETag") != rubygems.ETag(info) || resp.Header.Get("Repr-Digest") != rubygems.ReprDigest(info) || resp.Header.Get("Digest") != rubygems.LegacyDigest(info) {
		t.Errorf("info headers: %v", resp.Header)
	}

	// versions: each gem with its builds and the MD5 of its info file.
	versions := string(mustGet(t, c, "versions"))
	depInfo := mustGet(t, c, "info/fx_dep")
	for _, l := range []string{"fx_gem 1.0.0,1.0.0-x86_64-linux,2.0.0.pre1 " + rubygems.MD5Hex(info), "fx_dep 1.1.0 " + rubygems.MD5Hex(depInfo)} {
		if !strings.Contains(versions, "\n"+l+"\n") {
			t.Errorf("versions lacks %q:\n%s", l, versions)
		}
	}
	if names := string(mustGet(t, c, "names")); names != "---\nfx_dep\nfx_gem\n" {
		t.Errorf("names: %q", names)
	}

	// The dependencies API.
	list, err := rubygems.UnmarshalDependencies(mustGet(t, c, "api/v1/dependencies?gems=fx_gem,nope,fx_dep"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, e := range list {
		s := e.Name + " " + e.Number + " " + e.Platform
		for _, d := range e.Dependencies {
			s += " " + d.Name + ":" + d.Requirement.String()
		}
		entries = append(entries, s)
	}
	if !slices.Equal(entries, []string{"fx_gem 1.0.0 ruby fx_dep:~> 1.0", "fx_gem 1.0.0 x86_64-linux", "fx_gem 2.0.0.pre1 ruby", "fx_dep 1.1.0 ruby"}) {
		t.Errorf("dependencies API: %v", entries)
	}
	if b := mustGet(t, c, "api/v1/dependencies"); len(b) == 0 {
		t.Errorf("dependencies API without gems: empty body")
	}

	// The full index.
	for path, want := range map[string][]string{
		"specs.4.8.gz":            {"fx_dep-1.1.0", "fx_gem-1.0.0", "fx_gem-1.0.0-x86_64-linux"},
		"latest_specs.4.8.gz":     {"fx_dep-1.1.0", "fx_gem-1.0.0", "fx_gem-1.0.0-x86_64-linux"},
		"prerelease_specs.4.8.gz": {"fx_gem-2.0.0.pre1"},
	} {
		specs, err := rubygems.UnmarshalSpecs(gunzip(t, mustGet(t, c, path)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var got []string
		for _, g := range specs {
			got = append(got, g.FullName())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}

	// Quick specs and the .gem files of both builds.
	for _, g := range []rubygemstest.Gem{gemPlain, gemNative} {
		full := strings.TrimSuffix(g.FileName(), ".gem")
		spec, err := rubygems.ReadQuickSpec(mustGet(t, c, "quick/Marshal.4.8/"+full+".gemspec.rz"), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if spec.FullName() != full || spec.Summary != g.Summary {
			t.Errorf("quick spec of %s: %+v", full, spec)
		}
		if b := mustGet(t, c, "gems/"+g.FileName()); !bytes.Equal(b, g.Bytes()) {
			t.Errorf("gems/%s differs from what was pushed", g.FileName())
		}
	}
	if resp, _ := do(t, c, http.MethodGet, "gems/fx_gem-9.9.9.gem", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing gem: %d", resp.StatusCode)
	}
	if resp, _ := do(t, c, http.MethodGet, "info/nope", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing gem's info: %d", resp.StatusCode)
	}
}

// TestPushRefusesBadGems checks that a malformed or tampered gem is a 400
// and stores nothing.
func TestPushRefusesBadGems(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	good := gemPlain.Bytes()
	// The archive: header, metadata.gz (521 bytes, padded to 1024),
	// header, data.tar.gz from offset 2048. A byte of data.tar.gz's
	// compressed content is changed: its checksum no longer matches.
	tampered := slices.Clone(good)
	tampered[2048+60] ^= 0xff
	for name, body := range map[string][]byte{
		"empty":     nil,
		"not a gem": []byte("this is not a tar archive at all, just text"),
		"tampered":  tampered,
		"truncated": good[:1000], // inside metadata.gz
	} {
		if status, msg := push(t, c, body); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, status, msg)
		} else {
			t.Logf("%s: %s", name, strings.TrimSpace(msg))
		}
	}
	pkgs, _, err := c.App.Service.ListPackages(context.Background(), c.PackageRef(artifact.FormatRuby, "", "x").RepoRef, artifact.PackageFilter{}, artifact.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 0 {
		t.Errorf("a refused push stored %v", pkgs)
	}
	// No token at all: 401 with a Basic challenge.
	req, _ := http.NewRequest(http.MethodPost, c.Endpoint+"api/v1/gems", bytes.NewReader(good))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("push without a key: %d", resp.StatusCode)
	}
}

// TestCompactIndexValidators checks what Bundler relies on when it
// updates its copy: Range (206), If-None-Match (304), and an ETag that is
// the MD5 of the whole body.
func TestCompactIndexValidators(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	push(t, c, gemDep.Bytes())
	for _, path := range []string{"versions", "info/fx_dep", "names"} {
		resp, body := do(t, c, http.MethodGet, path, nil)
		tag := resp.Header.Get("ETag")
		if tag != rubygems.ETag(body) {
			t.Errorf("%s: ETag %s, MD5 of the body %s", path, tag, rubygems.ETag(body))
		}
		resp, part := do(t, c, http.MethodGet, path, nil, "Range", "bytes="+itoa(len(body)-1)+"-")
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[len(body)-1:]) {
			t.Errorf("%s with Range: %d %q", path, resp.StatusCode, part)
		}
		if resp, _ := do(t, c, http.MethodGet, path, nil, "If-None-Match", tag, "Range", "bytes="+itoa(len(body)-1)+"-"); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d", path, resp.StatusCode)
		}
	}
	// A new version changes the versions file and its ETag.
	resp, before := do(t, c, http.MethodGet, "versions", nil)
	next := gemDep
	next.Version = "1.2.0"
	push(t, c, next.Bytes())
	resp2, after := do(t, c, http.MethodGet, "versions", nil, "If-None-Match", resp.Header.Get("ETag"))
	if resp2.StatusCode != http.StatusOK || bytes.Equal(before, after) || !strings.Contains(string(after), "fx_dep 1.1.0,1.2.0 ") {
		t.Errorf("versions after a push: %d\n%s", resp2.StatusCode, after)
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// TestYank checks gem yank's mapping: the version becomes Unlisted, leaves
// the indexes, and its .gem stays downloadable.
func TestYank(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	next := gemDep
	next.Version = "1.2.0"
	push(t, c, gemDep.Bytes())
	push(t, c, next.Bytes())
	yank := func(form url.Values) (int, string) {
		resp, b := do(t, c, http.MethodDelete, "api/v1/gems/yank", strings.NewReader(form.Encode()),
			"Content-Type", "application/x-www-form-urlencoded", "Authorization", c.Token)
		return resp.StatusCode, string(b)
	}
	if status, body := yank(url.Values{"gem_name": {"fx_dep"}, "version": {"1.2.0"}}); status != http.StatusOK || !strings.Contains(body, "Successfully deleted gem: fx_dep (1.2.0)") {
		t.Fatalf("yank: %d %s", status, body)
	}
	v, err := c.App.Service.DescribePackageVersion(context.Background(),
		artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatRuby, "", "fx_dep"), Version: "1.2.0"})
	if err != nil || v.Status != artifact.StatusUnlisted {
		t.Errorf("yanked version: %v %v", v, err)
	}
	if info := string(mustGet(t, c, "info/fx_dep")); strings.Contains(info, "1.2.0") {
		t.Errorf("info after the yank:\n%s", info)
	}
	if versions := string(mustGet(t, c, "versions")); !strings.Contains(versions, "\nfx_dep 1.1.0 ") {
		t.Errorf("versions after the yank:\n%s", versions)
	}
	if b := mustGet(t, c, "gems/fx_dep-1.2.0.gem"); !bytes.Equal(b, next.Bytes()) {
		t.Errorf("the yanked .gem is not served")
	}
	if status, body := yank(url.Values{"gem_name": {"fx_dep"}, "version": {"1.2.0"}}); status != http.StatusBadRequest {
		t.Errorf("yanking again: %d %s", status, body)
	}
	if status, body := yank(url.Values{"gem_name": {"fx_dep"}, "version": {"9.9"}}); status != http.StatusNotFound {
		t.Errorf("yanking a missing version: %d %s", status, body)
	}
	if status, body := yank(url.Values{"gem_name": {"fx_dep"}}); status != http.StatusBadRequest {
		t.Errorf("yanking without a version: %d %s", status, body)
	}
}

// TestGolden keeps the documents the handler serves for a fixed set of
// pushed gems (go test -run Golden -update rewrites them).
func TestGolden(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	for _, g := range []rubygemstest.Gem{gemPlain, gemNative, gemPre, gemDep} {
		if status, body := push(t, c, g.Bytes()); status != http.StatusOK {
			t.Fatalf("push %s: %d %s", g.FileName(), status, body)
		}
	}
	formattest.Golden(t, "served-info-fx_gem", mustGet(t, c, "info/fx_gem"))
	formattest.Golden(t, "served-versions", mustGet(t, c, "versions"))
	formattest.Golden(t, "served-names", mustGet(t, c, "names"))
	formattest.Golden(t, "served-dependencies", mustGet(t, c, "api/v1/dependencies?gems=fx_gem,fx_dep"))
	formattest.Golden(t, "served-specs.4.8", gunzip(t, mustGet(t, c, "specs.4.8.gz")))
}

// TestExternalMerge checks info/<gem> through public:ruby-gems-org: the
// registry's versions beside the repository's own; a fetched gem keeps its
// line and gains its spec; a yanked ingested version does not come back
// from the registry's line; the dependencies API and quick specs read
// through the connection.
func TestExternalMerge(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	ctx := context.Background()
	repo := c.PackageRef(artifact.FormatRuby, "", confGem).RepoRef
	if _, err := c.App.Service.AssociateExternalConnection(ctx, repo, "public:ruby-gems-org"); err != nil {
		t.Fatal(err)
	}
	info := string(mustGet(t, c, "info/"+confGem))
	for _, v := range []string{"3.1.1", "3.2.1", "3.3.1"} {
		if !strings.Contains(info, "\n"+v+" |checksum:"+rubygemstest.SHA256(confBuild(v).Bytes())+"\n") {
			t.Errorf("info lacks the registry's %s:\n%s", v, info)
		}
	}
	// The quick spec of a registry gem fetches (and retains) the gem.
	spec, err := rubygems.ReadQuickSpec(mustGet(t, c, "quick/Marshal.4.8/"+confGem+"-3.2.1.gemspec.rz"), 1<<20)
	if err != nil || spec.Version != "3.2.1" || spec.Summary != "conformance gem" {
		t.Fatalf("quick spec: %+v %v", spec, err)
	}
	ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatRuby, "", confGem), Version: "3.2.1"}
	v, err := c.App.Service.DescribePackageVersion(ctx, ref)
	if err != nil || v.Summary != "conformance gem" || v.OriginType != "EXTERNAL" {
		t.Fatalf("the fetched version: %+v %v", v, err)
	}
	if got := string(mustGet(t, c, "info/"+confGem)); got != info {
		t.Errorf("info changed when a gem was fetched:\n%s\nwas\n%s", got, info)
	}
	list, err := rubygems.UnmarshalDependencies(mustGet(t, c, "api/v1/dependencies?gems="+confGem))
	if err != nil || len(list) != 3 {
		t.Errorf("dependencies API: %v %v", list, err)
	}
	// Yanked here, the version leaves the indexes although the registry
	// still lists it.
	if _, err := c.App.Service.SetVersionStatus(ctx, ref, artifact.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	if got := string(mustGet(t, c, "info/"+confGem)); strings.Contains(got, "3.2.1") || !strings.Contains(got, "3.3.1") {
		t.Errorf("info after the yank of 3.2.1:\n%s", got)
	}
	// The versions file lists the gem (it is stored now).
	if versions := string(mustGet(t, c, "versions")); !strings.Contains(versions, "\n"+confGem+" 3.1.1,3.3.1 ") {
		t.Errorf("versions:\n%s", versions)
	}
}

// TestRelayThroughEngine: once the repository reaches the external
// connection, versions and names relay the registry's files, then the
// repository's lines (with the checksums of coffer's info files); a gem
// the registry lists but the repository blocks has an empty info file.
func TestRelayThroughEngine(t *testing.T) {
	const upVersions = "created_at: 2024-04-01T00:00:05Z\n---\nfx_gem 3.1.1,3.2.1,3.3.1 0123\nfx_public 1.0.0 4567\n"
	const upNames = "---\nfx_gem\nfx_public\n"
	a := confAdapter
	a.Registry = func(u *formattest.Upstream) http.Handler {
		h := confRegistry(u)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/versions":
				io.WriteString(w, upVersions)
			case "/names":
				io.WriteString(w, upNames)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
	c := formattest.Serve(formattest.Testing(t), a)
	ctx := context.Background()
	push(t, c, gemDep.Bytes())
	own := "fx_dep 1.1.0 " + rubygems.MD5Hex(mustGet(t, c, "info/fx_dep")) + "\n"
	// Without the connection: the repository's own file.
	if got := string(mustGet(t, c, "versions")); got != "created_at: 2024-01-01T00:00:00Z\n---\n"+own {
		t.Errorf("versions without the connection:\n%s", got)
	}
	repo := c.PackageRef(artifact.FormatRuby, "", confGem).RepoRef
	if _, err := c.App.Service.AssociateExternalConnection(ctx, repo, "public:ruby-gems-org"); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, c, http.MethodGet, "versions", nil)
	if string(body) != upVersions+own || resp.Header.Get("ETag") != rubygems.ETag(body) || resp.Header.Get("Repr-Digest") != rubygems.ReprDigest(body) {
		t.Errorf("versions with the connection: %v\n%s", resp.Header, body)
	}
	if got := string(mustGet(t, c, "names")); got != upNames+"fx_dep\n" {
		t.Errorf("names with the connection:\n%s", got)
	}
	// Bundler's append after the repository's lines grew at their end.
	next := gemDep
	next.Name = "zz_gem"
	push(t, c, next.Bytes())
	resp2, tail := do(t, c, http.MethodGet, "versions", nil, "If-None-Match", resp.Header.Get("ETag"), "Range", "bytes="+itoa(len(body)-1)+"-")
	if resp2.StatusCode != http.StatusPartialContent || !strings.HasPrefix(string(tail), "\nzz_gem 1.1.0 ") {
		t.Errorf("append after a push: %d %q", resp2.StatusCode, tail)
	}
	// A gem of the registry the repository blocks: an empty info file.
	if !strings.Contains(string(mustGet(t, c, "info/"+confGem)), "3.3.1 |checksum:") {
		t.Error("info/fx_gem lacks the registry's versions")
	}
	if _, err := c.App.Service.PutPackageOriginConfiguration(ctx, c.PackageRef(artifact.FormatRuby, "", confGem), artifact.Allow, artifact.Block); err != nil {
		t.Fatal(err)
	}
	if got := string(mustGet(t, c, "info/"+confGem)); got != "---\n" {
		t.Errorf("info/fx_gem with upstream=BLOCK: %q", got)
	}
	if resp, _ := do(t, c, http.MethodGet, "info/no_such_gem", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("info of a gem nowhere: %d", resp.StatusCode)
	}
}
