package artifact_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

func repoRef(name string) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: dom, Repository: name}
}

func TestSearchOrderView(t *testing.T) {
	f := newFixture(t)
	// top -> [left, right], left -> [shared, gone], right -> [shared]:
	// depth-first, pre-order, each once, dangling names skipped.
	f.repo("shared")
	f.repo("gone")
	f.repo("left", "shared", "gone")
	f.repo("right", "shared")
	f.repo("top", "left", "right")
	if _, err := f.svc.DeleteRepository(ctx, repoRef("gone")); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.SearchOrder(ctx, repoRef("top"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"top", "left", "shared", "right"}; !slices.Equal(got, want) {
		t.Errorf("SearchOrder(top) = %v, want %v", got, want)
	}
	got, err = f.svc.SearchOrder(ctx, repoRef("shared"))
	if err != nil || !slices.Equal(got, []string{"shared"}) {
		t.Errorf("SearchOrder(shared) = %v, %v", got, err)
	}
	_, err = f.svc.SearchOrder(ctx, repoRef("gone"))
	wantKind(t, err, fault.KindNotFound, "SearchOrder of a missing repository")
	_, err = f.svc.ExternalConnectionsReached(ctx, repoRef("gone"), artifact.FormatNpm)
	wantKind(t, err, fault.KindNotFound, "ExternalConnectionsReached of a missing repository")
}

func TestSearchOrderViewBound(t *testing.T) {
	f := newFixture(t)
	// A chain of 30: r29 <- r28 <- ... <- r0; the view stops at the
	// engine's bound, as reads do.
	const n = 30
	f.repo(fmt.Sprintf("r%d", n-1))
	for i := n - 2; i >= 0; i-- {
		f.repo(fmt.Sprintf("r%d", i), fmt.Sprintf("r%d", i+1))
	}
	got, err := f.svc.SearchOrder(ctx, repoRef("r0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != artifact.MaxSearchedRepositories || got[0] != "r0" || got[len(got)-1] != fmt.Sprintf("r%d", artifact.MaxSearchedRepositories-1) {
		t.Errorf("SearchOrder(r0) = %v, want r0..r%d", got, artifact.MaxSearchedRepositories-1)
	}
	// A connection beyond the bound is not reached; one within it is.
	f.connect(fmt.Sprintf("r%d", artifact.MaxSearchedRepositories))
	ext, err := f.svc.ExternalConnectionsReached(ctx, repoRef("r0"), artifact.FormatNpm)
	if err != nil || len(ext) != 0 {
		t.Errorf("connection beyond the bound: got %v, %v", ext, err)
	}
	last := fmt.Sprintf("r%d", artifact.MaxSearchedRepositories-1)
	f.connect(last)
	ext, err = f.svc.ExternalConnectionsReached(ctx, repoRef("r0"), artifact.FormatNpm)
	if err != nil || len(ext) != 1 || ext[0].Repository != last {
		t.Errorf("connection at the bound: got %v, %v", ext, err)
	}
}

func TestExternalConnectionsReached(t *testing.T) {
	f := newFixture(t)
	f.repo("npm-b")
	f.repo("pypi-c")
	f.repo("npm-d")
	f.repo("mid", "npm-b")
	f.repo("top", "mid", "pypi-c", "npm-d")
	f.connect("npm-b")
	f.connect("npm-d")
	if _, err := f.svc.AssociateExternalConnection(ctx, repoRef("pypi-c"), "public:pypi"); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.ExternalConnectionsReached(ctx, repoRef("top"), artifact.FormatNpm)
	if err != nil {
		t.Fatal(err)
	}
	base := f.svc.ExternalURL(npmjs)
	want := []artifact.ExternalSource{
		{Repository: "npm-b", Connection: npmjs, BaseURL: base},
		{Repository: "npm-d", Connection: npmjs, BaseURL: base},
	}
	if !slices.Equal(got, want) {
		t.Errorf("npm connections of top = %v, want %v", got, want)
	}
	got, err = f.svc.ExternalConnectionsReached(ctx, repoRef("top"), artifact.FormatPypi)
	if err != nil || !slices.Equal(got, []artifact.ExternalSource{{Repository: "pypi-c", Connection: "public:pypi", BaseURL: f.svc.ExternalURL("public:pypi")}}) {
		t.Errorf("pypi connections of top = %v, %v", got, err)
	}
	got, err = f.svc.ExternalConnectionsReached(ctx, repoRef("pypi-c"), artifact.FormatNpm)
	if err != nil || len(got) != 0 {
		t.Errorf("npm connections of pypi-c = %v, %v", got, err)
	}
}

// TestPackageNames: the packages of one format in the repository and its
// upstream repositories, each once, sorted; other formats and repositories
// outside the search order are left out.
func TestPackageNames(t *testing.T) {
	f := newFixture(t)
	f.repo("up")
	f.repo("other")
	f.repo("app", "up")
	put := func(repo, format, name string) {
		t.Helper()
		ref := artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: repoRef(repo), Format: format, Package: name}, Version: "1.0.0"}
		if _, err := f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: ref, Asset: name + ".tgz"}, strings.NewReader(name)); err != nil {
			t.Fatal(err)
		}
	}
	put("app", artifact.FormatNpm, "zeta")
	put("up", artifact.FormatNpm, "alpha")
	put("up", artifact.FormatNpm, "zeta")
	put("other", artifact.FormatNpm, "beta")
	put("app", artifact.FormatPypi, "gamma")
	got, err := f.svc.PackageNames(ctx, repoRef("app"), artifact.FormatNpm)
	if want := []string{"alpha", "zeta"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("PackageNames(app, npm) = %v, %v; want %v", got, err, want)
	}
	_, err = f.svc.PackageNames(ctx, repoRef("missing"), artifact.FormatNpm)
	wantKind(t, err, fault.KindNotFound, "PackageNames of a missing repository")
}
