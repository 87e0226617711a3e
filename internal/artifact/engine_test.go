package artifact_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
	"coffer/internal/upstream"
)

var ctx = context.Background()

const (
	domainName = "dx"
	npmjs      = "public:npmjs"
	pkgName    = "lib"
)

var dom = artifact.DomainRef{Name: domainName}

// fixture is a Service over a real SQLite store and filesystem blob store in
// a temporary directory, with one domain, and a fake external registry.
type fixture struct {
	t       *testing.T
	svc     *artifact.Service
	blobs   blob.Store
	blobDir string
	ext     *fakeRegistry
}

func newFixture(t *testing.T, cfg ...artifact.Config) *fixture {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobDir := filepath.Join(dir, "blobs")
	blobs, err := blobfs.New(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	c := artifact.Config{Region: "us-east-1", AccountID: "123456789012"}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	svc := artifact.New(c, meta, blobs, slog.New(slog.DiscardHandler))
	if _, err := svc.CreateDomain(ctx, domainName, "", nil); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, svc: svc, blobs: blobs, blobDir: blobDir, ext: &fakeRegistry{blobs: blobs, content: map[string]string{}}}
}

// fakeRegistry is an external registry: its FetchFunc writes the asset's
// content into the blob store as upstream.Client.Fetch does.
type fakeRegistry struct {
	blobs   blob.Store
	mu      sync.Mutex
	content map[string]string // by "version/asset"
	sources []artifact.ExternalSource
	calls   atomic.Int32
	failing atomic.Bool
}

func (e *fakeRegistry) set(version, asset, content string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.content[version+"/"+asset] = content
}

func (e *fakeRegistry) fetch(version, asset string) artifact.FetchFunc {
	return func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
		e.calls.Add(1)
		e.mu.Lock()
		e.sources = append(e.sources, src)
		content, ok := e.content[version+"/"+asset]
		e.mu.Unlock()
		if e.failing.Load() {
			return blob.Digests{}, false, &fault.Error{Kind: fault.KindUnavailable, Message: "registry is down"}
		}
		if !ok {
			return blob.Digests{}, false, fault.NotFound("asset", asset, "not in the registry")
		}
		st, err := e.blobs.Stage(ctx, strings.NewReader(content), 0)
		if err != nil {
			return blob.Digests{}, false, err
		}
		defer st.Discard()
		created, err := st.Commit(ctx)
		return st.Digests(), created, err
	}
}

func (f *fixture) repo(name string, upstreams ...string) {
	f.t.Helper()
	if _, err := f.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: dom, Repository: name}, "", upstreams, nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) connect(repo string) {
	f.t.Helper()
	if _, err := f.svc.AssociateExternalConnection(ctx, artifact.RepoRef{DomainRef: dom, Repository: repo}, npmjs); err != nil {
		f.t.Fatal(err)
	}
}

func pkgRef(repo string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: dom, Repository: repo}, Format: artifact.FormatNpm, Package: pkgName}
}

func verRef(repo, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: pkgRef(repo), Version: version}
}

func tgz(version string) string { return pkgName + "-" + version + ".tgz" }

func (f *fixture) put(repo, version, asset, content string) (*artifact.PublishResult, error) {
	return f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: verRef(repo, version), Asset: asset, NewStatus: artifact.StatusPublished},
		strings.NewReader(content))
}

func (f *fixture) publish(repo, version, content string) {
	f.t.Helper()
	if _, err := f.put(repo, version, tgz(version), content); err != nil {
		f.t.Fatalf("publish %s %s: %v", repo, version, err)
	}
}

// read reads an asset through repo with the fake registry as the external
// source and returns what was found, with its content.
func (f *fixture) read(repo, version, asset string) (*artifact.ReadResult, string, error) {
	f.t.Helper()
	return f.readReq(artifact.ReadRequest{VersionRef: verRef(repo, version), Asset: asset, Fetch: f.ext.fetch(version, asset)})
}

func (f *fixture) readReq(req artifact.ReadRequest) (*artifact.ReadResult, string, error) {
	f.t.Helper()
	res, err := f.svc.ReadAsset(ctx, req)
	if err != nil {
		return nil, "", err
	}
	defer res.Object.Close()
	b, err := io.ReadAll(res.Object)
	if err != nil {
		f.t.Fatal(err)
	}
	return res, string(b), nil
}

func (f *fixture) mustRead(repo, version, asset, wantContent, wantFoundIn string) *artifact.ReadResult {
	f.t.Helper()
	res, content, err := f.read(repo, version, asset)
	if err != nil {
		f.t.Fatalf("read %s %s via %s: %v", asset, version, repo, err)
	}
	if content != wantContent || res.FoundIn != wantFoundIn {
		f.t.Fatalf("read %s %s via %s: found %q in %s, want %q in %s", asset, version, repo, content, res.FoundIn, wantContent, wantFoundIn)
	}
	return res
}

// version returns the version stored in repo, nil if none.
func (f *fixture) version(repo, version string) *artifact.Version {
	f.t.Helper()
	v, err := f.svc.DescribePackageVersion(ctx, verRef(repo, version))
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	} else if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) pkg(repo string) *artifact.Package {
	f.t.Helper()
	p, err := f.svc.DescribePackage(ctx, pkgRef(repo))
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	} else if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) assets(repo, version string) []string {
	f.t.Helper()
	l, err := f.svc.ListPackageVersionAssets(ctx, verRef(repo, version), artifact.PageRequest{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, a := range l.Assets {
		out = append(out, a.Name)
	}
	return out
}

func (f *fixture) origin(repo string, publish, upstream string) {
	f.t.Helper()
	if _, err := f.svc.PutPackageOriginConfiguration(ctx, pkgRef(repo), publish, upstream); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) groupModes(pattern string, modes map[string]string, allow ...artifact.AllowedRepository) {
	f.t.Helper()
	if _, err := f.svc.CreatePackageGroup(ctx, dom, pattern, "", "", nil); err != nil && !errors.Is(err, fault.ErrConflict) {
		f.t.Fatal(err)
	}
	if _, _, err := f.svc.UpdatePackageGroupOriginConfiguration(ctx, dom, pattern, artifact.GroupOriginUpdate{Restrictions: modes, Add: allow}); err != nil {
		f.t.Fatal(err)
	}
}

// blobFiles lists the committed blobs and anything left in staging.
func (f *fixture) blobFiles() []string {
	f.t.Helper()
	var out []string
	err := filepath.WalkDir(f.blobDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func wantKind(t *testing.T, err error, kind fault.Kind, what string) {
	t.Helper()
	if err == nil || fault.KindOf(err) != kind {
		t.Fatalf("%s: got %v, want an error of kind %d", what, err, kind)
	}
}

// The documented example: my_repo -> [A, B]; A -> [C, D]; D -> [E] is
// searched my_repo, A, C, D, E, B, and the first repository holding the
// version wins.
func TestReadSearchOrder(t *testing.T) {
	f := newFixture(t)
	for _, r := range [][]string{{"repo-c"}, {"repo-e"}, {"repo-b"}, {"repo-d", "repo-e"}, {"repo-a", "repo-c", "repo-d"}, {"my_repo", "repo-a", "repo-b"}} {
		f.repo(r[0], r[1:]...)
	}
	for _, r := range []string{"my_repo", "repo-a", "repo-c", "repo-d", "repo-e", "repo-b"} {
		if _, err := f.svc.PutPackageMetadata(ctx, pkgRef(r), `{"repo":"`+r+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	// PutPackageMetadata created my_repo's package published-first
	// (upstream BLOCK); let it see its upstreams.
	f.origin("my_repo", artifact.Allow, artifact.Allow)
	view, err := f.svc.ViewPackage(ctx, pkgRef("my_repo"), false)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, m := range view.Metadata {
		order = append(order, m.Repository)
	}
	if want := []string{"my_repo", "repo-a", "repo-c", "repo-d", "repo-e", "repo-b"}; !slices.Equal(order, want) {
		t.Fatalf("search order %v, want %v", order, want)
	}
	for i, c := range []struct {
		holders []string
		want    string
	}{
		{[]string{"repo-b", "repo-e"}, "repo-e"},
		{[]string{"repo-c", "repo-d"}, "repo-c"},
		{[]string{"repo-b", "repo-d"}, "repo-d"},
		{[]string{"repo-a", "repo-c"}, "repo-a"},
		{[]string{"repo-b"}, "repo-b"},
		{[]string{"my_repo", "repo-e"}, "my_repo"}, // published in my_repo before E has it
	} {
		version := "1.0." + string(rune('0'+i))
		for _, h := range c.holders {
			f.publish(h, version, "from "+h)
		}
		f.mustRead("my_repo", version, tgz(version), "from "+c.want, c.want)
		// Retained: the next read finds it in my_repo itself.
		f.mustRead("my_repo", version, tgz(version), "from "+c.want, "my_repo")
	}
	if f.ext.calls.Load() != 0 {
		t.Fatal("no repository has an external connection, yet the registry was asked")
	}
}

// Chain A -> B -> C with the version in C: a read through A retains it in A,
// not in B, with every asset of the version, the upstream's origin and a new
// revision; the retained copy outlives the upstream's.
func TestRetentionInRequestedRepositoryOnly(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-c")
	f.repo("repo-b", "repo-c")
	f.repo("repo-a", "repo-b")
	f.publish("repo-c", "1.0.0", "tarball")
	if _, err := f.put("repo-c", "1.0.0", "README.md", "readme"); err != nil {
		t.Fatal(err)
	}
	f.mustRead("repo-a", "1.0.0", tgz("1.0.0"), "tarball", "repo-c")

	if f.pkg("repo-b") != nil || f.version("repo-b", "1.0.0") != nil {
		t.Fatal("the intermediate repository B retained the version")
	}
	a, c := f.version("repo-a", "1.0.0"), f.version("repo-c", "1.0.0")
	if a == nil {
		t.Fatal("A did not retain the version")
	}
	if a.Status != artifact.StatusPublished || a.OriginType != artifact.OriginInternal || a.OriginRepository != "repo-c" ||
		a.Revision == c.Revision || !a.PublishedTime.Equal(c.PublishedTime) {
		t.Fatalf("retained version %+v (upstream %+v)", a.Version, c.Version)
	}
	if got := f.assets("repo-a", "1.0.0"); !slices.Equal(got, []string{"README.md", tgz("1.0.0")}) {
		t.Fatalf("retained assets %v", got)
	}
	if p := f.pkg("repo-a"); p.Publish != artifact.Block || p.Upstream != artifact.Allow {
		t.Fatalf("retained package origin %s/%s, want BLOCK/ALLOW", p.Publish, p.Upstream)
	}

	// Independent of the upstream afterwards.
	if _, err := f.svc.DeletePackageVersions(ctx, pkgRef("repo-c"), []string{"1.0.0"}, ""); err != nil {
		t.Fatal(err)
	}
	f.mustRead("repo-a", "1.0.0", "README.md", "readme", "repo-a")
	if _, _, err := f.read("repo-b", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("B after the upstream deletion: %v", err)
	}
}

// An Unlisted upstream version is readable and stays Unlisted where it is
// retained, so that it does not reappear in version lists.
func TestRetainedUnlistedStaysUnlisted(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-u")
	f.repo("repo-r", "repo-u")
	f.publish("repo-u", "1.0.0", "old")
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-u", "1.0.0"), artifact.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	f.mustRead("repo-r", "1.0.0", tgz("1.0.0"), "old", "repo-u")
	if v := f.version("repo-r", "1.0.0"); v.Status != artifact.StatusUnlisted {
		t.Fatalf("retained status %s", v.Status)
	}
}

// Chain A -> B -> C, C holding the external connection: a fetched version is
// stored in A and C, not in B, as EXTERNAL with the connection's name, in a
// package with publish BLOCK, upstream ALLOW. Later reads never fetch again,
// even when the registry fails; other assets of the version join the
// existing records.
func TestExternalIngestionThroughChain(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-c")
	f.connect("repo-c")
	f.repo("repo-b", "repo-c")
	f.repo("repo-a", "repo-b")
	f.ext.set("1.0.0", tgz("1.0.0"), "public tarball")
	f.ext.set("1.0.0", "package.json", `{"name":"lib"}`)

	hooked := 0
	req := artifact.ReadRequest{VersionRef: verRef("repo-a", "1.0.0"), Asset: tgz("1.0.0"), Fetch: f.ext.fetch("1.0.0", tgz("1.0.0")),
		NewVersion: func(v *store.Version) {
			hooked++
			v.Summary = "a library"
			v.Status = artifact.StatusArchived // engine-owned: ignored
		}}
	res, content, err := f.readReq(req)
	if err != nil {
		t.Fatal(err)
	}
	if content != "public tarball" || res.FoundIn != npmjs || res.Version.Summary != "a library" || hooked != 2 {
		t.Fatalf("ingested %q from %s (version %+v, hook ran %d times)", content, res.FoundIn, res.Version.Version, hooked)
	}
	if src := f.ext.sources[0]; src != (artifact.ExternalSource{Repository: "repo-c", Connection: npmjs, BaseURL: "https://registry.npmjs.org/"}) {
		t.Fatalf("fetched from %+v", src)
	}
	for _, r := range []string{"repo-a", "repo-c"} {
		v := f.version(r, "1.0.0")
		if v == nil {
			t.Fatalf("%s did not keep the ingested version", r)
		}
		if v.Status != artifact.StatusPublished || v.OriginType != artifact.OriginExternal || v.OriginExternalConnection != npmjs ||
			v.PublishedTime.IsZero() || v.Summary != "a library" {
			t.Fatalf("ingested version in %s: %+v", r, v.Version)
		}
		if p := f.pkg(r); p.Publish != artifact.Block || p.Upstream != artifact.Allow {
			t.Fatalf("ingested package in %s: %s/%s, want BLOCK/ALLOW", r, p.Publish, p.Upstream)
		}
	}
	if f.pkg("repo-b") != nil {
		t.Fatal("the intermediate repository B kept the ingested version")
	}

	f.mustRead("repo-a", "1.0.0", tgz("1.0.0"), "public tarball", "repo-a")
	if n := f.ext.calls.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}

	// A failing registry never hides what is cached.
	f.ext.failing.Store(true)
	f.mustRead("repo-a", "1.0.0", tgz("1.0.0"), "public tarball", "repo-a")
	f.mustRead("repo-c", "1.0.0", tgz("1.0.0"), "public tarball", "repo-c")
	f.mustRead("repo-b", "1.0.0", tgz("1.0.0"), "public tarball", "repo-c") // retained from C, no fetch
	if _, _, err := f.read("repo-a", "1.0.0", "package.json"); fault.KindOf(err) != fault.KindUnavailable {
		t.Fatalf("uncached asset with the registry down: %v", err)
	}
	f.ext.failing.Store(false)

	revA, revC := f.version("repo-a", "1.0.0").Revision, f.version("repo-c", "1.0.0").Revision
	f.mustRead("repo-a", "1.0.0", "package.json", `{"name":"lib"}`, npmjs)
	for r, rev := range map[string]string{"repo-a": revA, "repo-c": revC} {
		if got := f.assets(r, "1.0.0"); !slices.Equal(got, []string{tgz("1.0.0"), "package.json"}) {
			t.Fatalf("assets in %s: %v", r, got)
		}
		if f.version(r, "1.0.0").Revision == rev {
			t.Fatalf("a new asset in %s left the revision unchanged", r)
		}
	}
	if got := f.assets("repo-b", "1.0.0"); !slices.Equal(got, []string{tgz("1.0.0")}) {
		t.Fatalf("assets in B: %v", got)
	}
}

// Nil Fetch disables external fetches; generic packages are never fetched.
func TestNoFetchWithoutFetchFuncOrForGeneric(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	f.connect("repo-r")
	f.ext.set("1.0.0", tgz("1.0.0"), "x")
	if _, _, err := f.readReq(artifact.ReadRequest{VersionRef: verRef("repo-r", "1.0.0"), Asset: tgz("1.0.0")}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("without Fetch: %v", err)
	}
	g := artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: pkgRef("repo-r").RepoRef, Format: artifact.FormatGeneric, Namespace: "ns", Package: pkgName}, Version: "1.0.0"}
	if _, _, err := f.readReq(artifact.ReadRequest{VersionRef: g, Asset: tgz("1.0.0"), Fetch: f.ext.fetch("1.0.0", tgz("1.0.0"))}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("generic: %v", err)
	}
	if f.ext.calls.Load() != 0 {
		t.Fatal("the registry was asked")
	}
}

// upstream=BLOCK on the requested repository's package hides upstream
// versions and prevents ingestion.
func TestUpstreamBlockHidesUpstreamsAndExternal(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-c")
	f.repo("repo-a", "repo-c")
	f.connect("repo-a")
	f.publish("repo-c", "1.0.0", "in C")
	f.ext.set("2.0.0", tgz("2.0.0"), "public")
	f.origin("repo-a", artifact.Allow, artifact.Block)

	if _, _, err := f.read("repo-a", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("upstream version through upstream=BLOCK: %v", err)
	}
	if _, _, err := f.read("repo-a", "2.0.0", tgz("2.0.0")); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("external version through upstream=BLOCK: %v", err)
	}
	if f.ext.calls.Load() != 0 || f.version("repo-a", "1.0.0") != nil || f.version("repo-a", "2.0.0") != nil {
		t.Fatal("upstream=BLOCK let something through")
	}
	view, err := f.svc.ViewPackage(ctx, pkgRef("repo-a"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Versions) != 0 || len(view.External) != 0 || len(view.Metadata) != 1 {
		t.Fatalf("view through upstream=BLOCK: %+v", view)
	}

	f.origin("repo-a", artifact.Allow, artifact.Allow)
	f.mustRead("repo-a", "1.0.0", tgz("1.0.0"), "in C", "repo-c")
	f.mustRead("repo-a", "2.0.0", tgz("2.0.0"), "public", npmjs)
}

// Dependency confusion, both ways: an internally published package is never
// ingested; an ingested one refuses internal publishing; with publish and
// upstream ALLOW a version that exists upstream cannot be published.
func TestDependencyConfusion(t *testing.T) {
	t.Run("internal first", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-r")
		f.connect("repo-r")
		f.publish("repo-r", "1.0.0", "ours")
		f.ext.set("1.0.0", "evil.js", "theirs")
		f.ext.set("9.9.9", tgz("9.9.9"), "theirs")
		if p := f.pkg("repo-r"); p.Publish != artifact.Allow || p.Upstream != artifact.Block {
			t.Fatalf("published package origin %s/%s", p.Publish, p.Upstream)
		}
		if _, _, err := f.read("repo-r", "9.9.9", tgz("9.9.9")); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("newer public version of an internal package: %v", err)
		}
		if _, _, err := f.read("repo-r", "1.0.0", "evil.js"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("public asset added to an internal version: %v", err)
		}
		if f.ext.calls.Load() != 0 {
			t.Fatal("the registry was asked for an internal package")
		}
		view, err := f.svc.ViewPackage(ctx, pkgRef("repo-r"), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(view.External) != 0 || len(view.Versions) != 1 || view.Versions[0].Version.Version != "1.0.0" {
			t.Fatalf("view of an internal package: %+v", view)
		}
	})
	t.Run("ingested first", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-r")
		f.connect("repo-r")
		f.ext.set("1.0.0", tgz("1.0.0"), "theirs")
		f.mustRead("repo-r", "1.0.0", tgz("1.0.0"), "theirs", npmjs)
		if _, err := f.put("repo-r", "1.1.0", tgz("1.1.0"), "ours"); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("internal publish to an ingested package: %v", err)
		}
		f.origin("repo-r", artifact.Allow, artifact.Allow)
		if _, err := f.put("repo-r", "1.0.0", "extra.js", "ours"); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("publishing into an ingested version: %v", err)
		}
		if _, err := f.put("repo-r", "2.0.0", tgz("2.0.0"), "ours"); err != nil {
			t.Fatalf("a new version with publish ALLOW: %v", err)
		}
	})
	t.Run("exists upstream", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-u")
		f.repo("repo-r", "repo-u")
		f.publish("repo-u", "3.0.0", "upstream")
		f.origin("repo-r", artifact.Allow, artifact.Allow)
		if _, err := f.put("repo-r", "3.0.0", tgz("3.0.0"), "ours"); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("publishing a version that exists upstream: %v", err)
		}
		if _, err := f.put("repo-r", "4.0.0", tgz("4.0.0"), "ours"); err != nil {
			t.Fatalf("a version that is not upstream: %v", err)
		}
		// The spec's override: upstream BLOCK lets any version be published.
		f.origin("repo-r", artifact.Allow, artifact.Block)
		if _, err := f.put("repo-r", "3.0.0", tgz("3.0.0"), "ours"); err != nil {
			t.Fatalf("upstream=BLOCK: %v", err)
		}
	})
}

func TestPackageGroupsGateUpstreams(t *testing.T) {
	t.Run("EXTERNAL_UPSTREAM BLOCK", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-r")
		f.connect("repo-r")
		f.ext.set("1.0.0", tgz("1.0.0"), "public")
		f.groupModes("/npm//lib$", map[string]string{artifact.RestrictionExternalUpstream: artifact.Block})
		if _, _, err := f.read("repo-r", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("ingestion blocked by the group: %v", err)
		}
		if _, err := f.svc.ViewPackage(ctx, pkgRef("repo-r"), false); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("view with nothing visible: %v", err)
		}
		if f.ext.calls.Load() != 0 {
			t.Fatal("the registry was asked")
		}
	})
	t.Run("EXTERNAL_UPSTREAM ALLOW_SPECIFIC_REPOSITORIES", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-r1")
		f.repo("repo-r2")
		f.connect("repo-r1")
		f.connect("repo-r2")
		f.ext.set("1.0.0", tgz("1.0.0"), "public")
		f.groupModes("/npm/*", map[string]string{artifact.RestrictionExternalUpstream: artifact.ModeAllowSpecificRepositories},
			artifact.AllowedRepository{Repository: "repo-r1", RestrictionType: artifact.RestrictionExternalUpstream})
		f.mustRead("repo-r1", "1.0.0", tgz("1.0.0"), "public", npmjs)
		if _, _, err := f.read("repo-r2", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("repository not on the list: %v", err)
		}
		view, err := f.svc.ViewPackage(ctx, pkgRef("repo-r1"), false)
		if err != nil || len(view.External) != 1 || view.External[0].Repository != "repo-r1" {
			t.Fatalf("view of R1: %+v, %v", view, err)
		}
	})
	t.Run("EXTERNAL_UPSTREAM for the holder", func(t *testing.T) {
		// The holder C must be allowed too, not only the requested A.
		f := newFixture(t)
		f.repo("repo-c")
		f.connect("repo-c")
		f.repo("repo-a", "repo-c")
		f.ext.set("1.0.0", tgz("1.0.0"), "public")
		f.groupModes("/npm/*", map[string]string{artifact.RestrictionExternalUpstream: artifact.ModeAllowSpecificRepositories},
			artifact.AllowedRepository{Repository: "repo-a", RestrictionType: artifact.RestrictionExternalUpstream})
		if _, _, err := f.read("repo-a", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("holder not on the list: %v", err)
		}
	})
	t.Run("INTERNAL_UPSTREAM BLOCK", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-c")
		f.repo("repo-a", "repo-c")
		f.publish("repo-c", "1.0.0", "in C")
		f.groupModes("/npm//lib~", map[string]string{artifact.RestrictionInternalUpstream: artifact.Block})
		if _, _, err := f.read("repo-a", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("upstream version with INTERNAL_UPSTREAM blocked: %v", err)
		}
		f.mustRead("repo-c", "1.0.0", tgz("1.0.0"), "in C", "repo-c")
	})
	t.Run("PUBLISH BLOCK", func(t *testing.T) {
		f := newFixture(t)
		f.repo("repo-r")
		f.groupModes("/npm/*", map[string]string{artifact.RestrictionPublish: artifact.Block})
		if _, err := f.put("repo-r", "1.0.0", tgz("1.0.0"), "x"); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("publish blocked by the group: %v", err)
		}
		if f.pkg("repo-r") != nil {
			t.Fatal("a refused publish created the package")
		}
	})
}

func TestArchivedAndDisposedAreNotRead(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-c")
	f.repo("repo-b")
	f.repo("repo-r", "repo-b", "repo-c")
	f.publish("repo-r", "1.0.0", "in R")
	f.publish("repo-c", "1.0.0", "in C")
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusArchived); err != nil {
		t.Fatal(err)
	}
	f.origin("repo-r", artifact.Allow, artifact.Allow)
	if _, _, err := f.read("repo-r", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("Archived version in the requested repository: %v", err)
	}
	view, err := f.svc.ViewPackage(ctx, pkgRef("repo-r"), true)
	if err != nil || len(view.Versions) != 0 {
		t.Fatalf("view: an Archived version hides the upstream copy: %+v, %v", view, err)
	}

	// Upstream, an Archived or Disposed copy is skipped.
	f.publish("repo-b", "2.0.0", "in B")
	f.publish("repo-c", "2.0.0", "in C")
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-b", "2.0.0"), artifact.StatusArchived); err != nil {
		t.Fatal(err)
	}
	f.mustRead("repo-r", "2.0.0", tgz("2.0.0"), "in C", "repo-c")
	f.publish("repo-b", "3.0.0", "in B")
	f.publish("repo-c", "3.0.0", "in C")
	if _, err := f.svc.DisposePackageVersions(ctx, pkgRef("repo-b"), artifact.VersionSelection{Versions: []string{"3.0.0"}}); err != nil {
		t.Fatal(err)
	}
	f.mustRead("repo-r", "3.0.0", tgz("3.0.0"), "in C", "repo-c")
}

func TestUnfinishedVersions(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	f.repo("repo-d", "repo-r")
	if _, err := f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: verRef("repo-r", "1.0.0"), Asset: tgz("1.0.0"), NewStatus: artifact.StatusUnfinished},
		strings.NewReader("wip")); err != nil {
		t.Fatal(err)
	}
	if v := f.version("repo-r", "1.0.0"); v.Status != artifact.StatusUnfinished || !v.PublishedTime.IsZero() {
		t.Fatalf("new version %+v", v.Version)
	}
	if _, _, err := f.read("repo-r", "1.0.0", tgz("1.0.0")); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("Unfinished without AllowUnfinished: %v", err)
	}
	req := artifact.ReadRequest{VersionRef: verRef("repo-r", "1.0.0"), Asset: tgz("1.0.0"), AllowUnfinished: true}
	if res, content, err := f.readReq(req); err != nil || content != "wip" || res.FoundIn != "repo-r" {
		t.Fatalf("Unfinished with AllowUnfinished: %v %q", err, content)
	}
	req.VersionRef = verRef("repo-d", "1.0.0")
	if _, _, err := f.readReq(req); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("Unfinished through an upstream: %v", err)
	}
	view, err := f.svc.ViewPackage(ctx, pkgRef("repo-r"), true)
	if err != nil || len(view.Versions) != 0 {
		t.Fatalf("view lists an Unfinished version: %+v, %v", view, err)
	}

	v, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusPublished)
	if err != nil || v.Status != artifact.StatusPublished || v.PublishedTime.IsZero() {
		t.Fatalf("Unfinished -> Published: %+v, %v", v, err)
	}
	f.mustRead("repo-d", "1.0.0", tgz("1.0.0"), "wip", "repo-r")
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusUnfinished); !errors.Is(err, fault.ErrValidation) {
		t.Fatalf("Published -> Unfinished: %v", err)
	}
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusDisposed); !errors.Is(err, fault.ErrValidation) {
		t.Fatalf("SetVersionStatus Disposed: %v", err)
	}
}

func TestPutAsset(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	var created, updated int
	req := artifact.PutAssetRequest{VersionRef: verRef("repo-r", "1.0.0"), Asset: "lib.jar", NewStatus: artifact.StatusPublished,
		NewVersion:    func(v *store.Version) { created++; v.Summary = "first" },
		UpdateVersion: func(v *store.Version) { updated++; v.Summary = "updated" }}
	first, err := f.svc.PutAsset(ctx, req, strings.NewReader("one"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Version.Status != artifact.StatusPublished || first.Version.OriginType != artifact.OriginInternal || first.Version.OriginRepository != "repo-r" ||
		first.Version.Summary != "first" || created != 1 || updated != 0 {
		t.Fatalf("first asset: %+v", first.Version.Version)
	}
	if p := f.pkg("repo-r"); p.Publish != artifact.Allow || p.Upstream != artifact.Block {
		t.Fatalf("published package origin %s/%s", p.Publish, p.Upstream)
	}

	// Identical bytes: success, no change.
	again, err := f.svc.PutAsset(ctx, req, strings.NewReader("one"))
	if err != nil || again.Version.Revision != first.Version.Revision || updated != 0 {
		t.Fatalf("identical bytes: %+v, %v", again, err)
	}
	// Other bytes: Conflict, nothing left behind.
	before := f.blobFiles()
	if _, err := f.svc.PutAsset(ctx, req, strings.NewReader("two")); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("other bytes: %v", err)
	}
	if after := f.blobFiles(); !slices.Equal(before, after) {
		t.Fatalf("a refused asset left blobs: %v -> %v", before, after)
	}
	// A new asset changes the revision and runs UpdateVersion.
	req2 := req
	req2.Asset = "lib.pom"
	second, err := f.svc.PutAsset(ctx, req2, strings.NewReader("<project/>"))
	if err != nil || second.Version.Revision == first.Version.Revision || second.Version.Summary != "updated" || updated != 1 || created != 1 {
		t.Fatalf("new asset: %+v, %v", second, err)
	}
	// Replace: other bytes accepted, the old blob released.
	req.Replace = true
	replaced, err := f.svc.PutAsset(ctx, req, strings.NewReader("three"))
	if err != nil || replaced.Version.Revision == second.Version.Revision || replaced.Asset.Blob.Size != 5 {
		t.Fatalf("replace: %+v, %v", replaced, err)
	}
	if n := len(f.blobFiles()); n != 2 {
		t.Fatalf("%d blobs after replacing, want 2 (pom and the new jar)", n)
	}
	_, content, err := f.readReq(artifact.ReadRequest{VersionRef: verRef("repo-r", "1.0.0"), Asset: "lib.jar"})
	if err != nil || content != "three" {
		t.Fatalf("read after replace: %q, %v", content, err)
	}

	// Verify failure: Validation, nothing stored.
	f.repo("repo-v")
	before = f.blobFiles()
	bad := artifact.PutAssetRequest{VersionRef: verRef("repo-v", "1.0.0"), Asset: "x.tgz", NewStatus: artifact.StatusPublished,
		Verify: func(blob.Digests) error { return errors.New("integrity mismatch") }}
	if _, err := f.svc.PutAsset(ctx, bad, bytes.NewReader(bytes.Repeat([]byte("z"), 1<<20))); !errors.Is(err, fault.ErrValidation) {
		t.Fatalf("verify failure: %v", err)
	}
	if after := f.blobFiles(); !slices.Equal(before, after) {
		t.Fatalf("a failed verification left files: %v -> %v", before, after)
	}
	if f.pkg("repo-v") != nil {
		t.Fatal("a failed verification created the package")
	}

	// publish=BLOCK.
	f.origin("repo-r", artifact.Block, artifact.Block)
	if _, err := f.svc.PutAsset(ctx, req2, strings.NewReader("<other/>")); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("publish=BLOCK: %v", err)
	}
	// Archived versions take no assets.
	f.origin("repo-r", artifact.Allow, artifact.Block)
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusArchived); err != nil {
		t.Fatal(err)
	}
	req2.Asset = "lib-sources.jar"
	if _, err := f.svc.PutAsset(ctx, req2, strings.NewReader("src")); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("asset for an Archived version: %v", err)
	}
	if _, err := f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: verRef("repo-r", "2.0.0"), Asset: "a", NewStatus: artifact.StatusArchived},
		strings.NewReader("a")); !errors.Is(err, fault.ErrValidation) {
		t.Fatalf("NewStatus Archived: %v", err)
	}
}

func TestPutPackageMetadataAndExternalURL(t *testing.T) {
	f := newFixture(t, artifact.Config{Region: "us-east-1", AccountID: "123456789012",
		ExternalConnectionURLs: map[string]string{npmjs: "http://127.0.0.1:9000/npm"}})
	f.repo("repo-r")
	p, err := f.svc.PutPackageMetadata(ctx, pkgRef("repo-r"), `{"dist-tags":{"latest":"1.0.0"}}`)
	if err != nil || p.Publish != artifact.Allow || p.Upstream != artifact.Block || p.Metadata != `{"dist-tags":{"latest":"1.0.0"}}` {
		t.Fatalf("PutPackageMetadata: %+v, %v", p, err)
	}
	f.origin("repo-r", artifact.Block, artifact.Allow)
	if p, err = f.svc.PutPackageMetadata(ctx, pkgRef("repo-r"), `{}`); err != nil || p.Metadata != `{}` || p.Publish != artifact.Block {
		t.Fatalf("PutPackageMetadata on an existing package: %+v, %v", p, err)
	}
	for conn, want := range map[string]string{
		npmjs:                  "http://127.0.0.1:9000/npm/",
		"public:maven-central": "https://repo.maven.apache.org/maven2/",
		"public:pypi":          "https://pypi.org/",
	} {
		if got := f.svc.ExternalURL(conn); got != want {
			t.Errorf("ExternalURL(%s) = %s, want %s", conn, got, want)
		}
	}
}

// The view merges the repository and its upstreams, first occurrence of a
// version string winning, and names the external sources.
func TestViewPackage(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-u")
	f.connect("repo-u")
	f.repo("repo-r", "repo-u")
	f.publish("repo-u", "1.0.0", "u1")
	f.publish("repo-u", "2.0.0", "u2")
	f.publish("repo-u", "3.0.0", "u3")
	f.origin("repo-u", artifact.Allow, artifact.Allow) // U may ingest too
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-u", "3.0.0"), artifact.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	f.mustRead("repo-r", "1.0.0", tgz("1.0.0"), "u1", "repo-u")
	if _, err := f.svc.SetVersionStatus(ctx, verRef("repo-r", "1.0.0"), artifact.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	got := func(includeUnlisted bool) []string {
		view, err := f.svc.ViewPackage(ctx, pkgRef("repo-r"), includeUnlisted)
		if err != nil {
			t.Fatal(err)
		}
		if view.Package == nil || len(view.External) != 1 || view.External[0] != (artifact.ExternalSource{Repository: "repo-u", Connection: npmjs, BaseURL: "https://registry.npmjs.org/"}) {
			t.Fatalf("view: %+v", view)
		}
		var out []string
		for _, v := range view.Versions {
			out = append(out, v.Version.Version+"@"+v.Repository)
		}
		return out
	}
	if v := got(false); !slices.Equal(v, []string{"2.0.0@repo-u"}) {
		t.Fatalf("published versions %v", v)
	}
	if v := got(true); !slices.Equal(v, []string{"1.0.0@repo-r", "2.0.0@repo-u", "3.0.0@repo-u"}) {
		t.Fatalf("with unlisted %v", v)
	}

	// Nothing stored but an allowed external source: the view is not NotFound.
	f.repo("repo-e")
	f.connect("repo-e")
	view, err := f.svc.ViewPackage(ctx, pkgRef("repo-e"), false)
	if err != nil || view.Package != nil || len(view.Versions) != 0 || len(view.External) != 1 {
		t.Fatalf("view of an external-only package: %+v, %v", view, err)
	}
	f.repo("repo-n")
	if _, err := f.svc.ViewPackage(ctx, pkgRef("repo-n"), false); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("view of nothing: %v", err)
	}
}

// Twenty concurrent reads of one uncached asset all succeed and leave one
// version record with one asset, in A and in the connection holder C.
func TestConcurrentReadsOfOneUncachedAsset(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-c")
	f.connect("repo-c")
	f.repo("repo-b", "repo-c")
	f.repo("repo-a", "repo-b")
	f.ext.set("1.0.0", tgz("1.0.0"), strings.Repeat("public ", 10000))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			res, err := f.svc.ReadAsset(ctx, artifact.ReadRequest{VersionRef: verRef("repo-a", "1.0.0"), Asset: tgz("1.0.0"), Fetch: f.ext.fetch("1.0.0", tgz("1.0.0"))})
			if err != nil {
				errs <- err
				return
			}
			defer res.Object.Close()
			b, err := io.ReadAll(res.Object)
			if err == nil && string(b) != strings.Repeat("public ", 10000) {
				err = errors.New("wrong content")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"repo-a", "repo-c"} {
		l, err := f.svc.ListPackageVersions(ctx, pkgRef(r), artifact.VersionFilter{}, artifact.PageRequest{})
		if err != nil || len(l.Versions) != 1 {
			t.Fatalf("versions in %s: %+v, %v", r, l, err)
		}
		if a := f.assets(r, "1.0.0"); len(a) != 1 {
			t.Fatalf("assets in %s: %v", r, a)
		}
	}
	if f.pkg("repo-b") != nil {
		t.Fatal("B kept the version")
	}
	if n := len(f.blobFiles()); n != 1 {
		t.Fatalf("%d blob files, want 1", n)
	}
}

// Ingestion with the real upstream client against an httptest registry that
// the operator's ExternalConnectionURLs override points at: the FetchFunc a
// format would write.
func TestIngestionWithUpstreamClient(t *testing.T) {
	const tarball = "the real tarball"
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/mirror/npm/lib/-/lib-1.0.0.tgz" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, tarball)
	}))
	defer srv.Close()
	f := newFixture(t, artifact.Config{Region: "us-east-1", AccountID: "123456789012",
		ExternalConnectionURLs: map[string]string{npmjs: srv.URL + "/mirror/npm"}})
	f.repo("store")
	f.connect("store")
	f.repo("team", "store")
	client := upstream.New(upstream.Config{Retries: -1}, srv.Client())
	fetch := func(asset string, sum [32]byte) artifact.FetchFunc {
		return func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
			res, err := client.Fetch(ctx, src.Connection+"/"+asset, src.BaseURL+"lib/-/"+asset,
				upstream.Expectation{SHA256: hex.EncodeToString(sum[:])}, f.blobs)
			if err != nil {
				return blob.Digests{}, false, err
			}
			return res.Digests, res.Created, nil
		}
	}
	req := artifact.ReadRequest{VersionRef: verRef("team", "1.0.0"), Asset: tgz("1.0.0"), Fetch: fetch(tgz("1.0.0"), sha256.Sum256([]byte(tarball)))}
	res, content, err := f.readReq(req)
	if err != nil || content != tarball || res.FoundIn != npmjs {
		t.Fatalf("ingest through the client: %q from %v, %v", content, res, err)
	}
	if sum := sha256.Sum256([]byte(tarball)); res.Asset.Blob.SHA256 != hex.EncodeToString(sum[:]) || res.Asset.Blob.Size != int64(len(tarball)) {
		t.Fatalf("asset %+v", res.Asset)
	}
	if f.version("store", "1.0.0") == nil || f.version("team", "1.0.0") == nil {
		t.Fatal("the ingested version is not in the holder and the requested repository")
	}
	// A checksum mismatch stores nothing.
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tampered") })
	bad := artifact.ReadRequest{VersionRef: verRef("team", "2.0.0"), Asset: tgz("2.0.0"), Fetch: fetch(tgz("2.0.0"), sha256.Sum256([]byte("genuine")))}
	if _, _, err := f.readReq(bad); fault.KindOf(err) != fault.KindUnavailable || f.version("team", "2.0.0") != nil || f.version("store", "2.0.0") != nil {
		t.Fatalf("checksum mismatch: %v", err)
	}
	if n := len(f.blobFiles()); n != 1 {
		t.Fatalf("%d blob files after a failed fetch, want 1", n)
	}
	// Cached: no further request, even once the registry is gone.
	srv.Close()
	if _, content, err := f.readReq(req); err != nil || content != tarball || hits.Load() != 1 {
		t.Fatalf("cached read: %q, %v, %d requests", content, err, hits.Load())
	}
}

// The view withholds from external sources the versions ReadAsset would
// not fetch: those the requested repository, or the repository holding the
// connection, keeps but cannot serve.
func TestViewWithholdsUnreadableVersions(t *testing.T) {
	f := newFixture(t)
	f.repo("store")
	f.connect("store")
	f.repo("app", "store")
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0"} {
		f.ext.set(v, tgz(v), "public "+v)
	}
	f.mustRead("app", "1.0.0", tgz("1.0.0"), "public 1.0.0", npmjs) // retained in app and store
	f.mustRead("store", "2.0.0", tgz("2.0.0"), "public 2.0.0", npmjs)
	archive := func(repo, version string) {
		t.Helper()
		res, err := f.svc.UpdatePackageVersionsStatus(ctx, pkgRef(repo), artifact.StatusUpdate{Versions: []string{version}, TargetStatus: artifact.StatusArchived})
		if err != nil || len(res.Successful) != 1 {
			t.Fatalf("archive %s in %s: %+v %v", version, repo, res, err)
		}
	}
	archive("app", "1.0.0")
	archive("store", "2.0.0")

	view, err := f.svc.ViewPackage(ctx, pkgRef("app"), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.0.0", "2.0.0"}; !slices.Equal(view.Withheld, want) || len(view.External) != 1 {
		t.Fatalf("Withheld %v (external %v), want %v", view.Withheld, view.External, want)
	}
	// ReadAsset agrees: neither is fetched, the third version is.
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if _, _, err := f.read("app", v, tgz(v)); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("read of withheld %s: %v", v, err)
		}
	}
	f.mustRead("app", "3.0.0", tgz("3.0.0"), "public 3.0.0", npmjs)
}

// UpdateVersion lets a format amend the metadata of a version that gains an
// ingested asset, but not what the engine owns.
func TestReadUpdateVersionOnLaterAsset(t *testing.T) {
	f := newFixture(t)
	f.repo("store")
	f.connect("store")
	f.ext.set("1.0.0", "a.whl", "wheel")
	f.ext.set("1.0.0", "a.tar.gz", "sdist")
	first := artifact.ReadRequest{VersionRef: verRef("store", "1.0.0"), Asset: "a.whl", Fetch: f.ext.fetch("1.0.0", "a.whl"),
		NewVersion: func(v *store.Version) { v.Summary = "first" }}
	if _, _, err := f.readReq(first); err != nil {
		t.Fatal(err)
	}
	before := f.version("store", "1.0.0")
	second := artifact.ReadRequest{VersionRef: verRef("store", "1.0.0"), Asset: "a.tar.gz", Fetch: f.ext.fetch("1.0.0", "a.tar.gz"),
		NewVersion: func(v *store.Version) { t.Error("NewVersion called for an existing version") },
		UpdateVersion: func(v *store.Version) {
			v.Summary = "first and second"
			v.Status = artifact.StatusArchived // ignored: the engine's field
		}}
	if _, _, err := f.readReq(second); err != nil {
		t.Fatal(err)
	}
	after := f.version("store", "1.0.0")
	if after.Summary != "first and second" || after.Status != artifact.StatusPublished || after.Revision == before.Revision {
		t.Errorf("after the second asset: summary %q status %s revision %s (was %s)", after.Summary, after.Status, after.Revision, before.Revision)
	}
}

// npm's rules on the control plane: defaultDisplayVersion is the version
// "latest" names, and a copy carries the dist-tags that name copied
// versions.
func TestNpmDistTagsOnTheControlPlane(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-src")
	f.repo("repo-dst")
	f.publish("repo-src", "1.0.0", "one")
	f.publish("repo-src", "2.0.0", "two")
	display := func(repo string) string {
		t.Helper()
		l, err := f.svc.ListPackageVersions(ctx, pkgRef(repo), artifact.VersionFilter{}, artifact.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return l.DefaultDisplayVersion
	}
	if got := display("repo-src"); got != "2.0.0" {
		t.Errorf("without tags: defaultDisplayVersion %q, want the newest", got)
	}
	if _, err := f.svc.PutPackageMetadata(ctx, pkgRef("repo-src"), `{"dist-tags":{"latest":"1.0.0","next":"2.0.0","gone":"0.1.0"}}`); err != nil {
		t.Fatal(err)
	}
	if got := display("repo-src"); got != "1.0.0" {
		t.Errorf("latest=1.0.0: defaultDisplayVersion %q", got)
	}
	if _, err := f.svc.PutPackageMetadata(ctx, pkgRef("repo-dst"), `{"dist-tags":{"latest":"9.9.9","keep":"9.9.9"}}`); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.CopyPackageVersions(ctx, artifact.CopyRequest{Domain: dom, SourceRepository: "repo-src", DestinationRepository: "repo-dst",
		Format: artifact.FormatNpm, Package: pkgName, VersionSelection: artifact.VersionSelection{Versions: []string{"1.0.0"}}})
	if err != nil || len(res.Successful) != 1 {
		t.Fatalf("copy: %+v %v", res, err)
	}
	got := artifact.ParseNpmPackageMetadata(f.pkg("repo-dst").Metadata).DistTags
	if want := map[string]string{"latest": "1.0.0", "keep": "9.9.9"}; !maps.Equal(got, want) {
		t.Errorf("destination tags %v, want %v", got, want)
	}
	if got := display("repo-dst"); got != "1.0.0" {
		t.Errorf("destination defaultDisplayVersion %q", got)
	}
}
