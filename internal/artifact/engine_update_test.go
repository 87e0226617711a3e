package artifact_test

import (
	"errors"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// deprecateAll is an EditVersion hook.
func deprecateAll(v *store.Version) error {
	v.Metadata = `{"deprecated":"old"}`
	return nil
}

func setTags(tags string) func(string) (string, error) {
	return func(string) (string, error) { return tags, nil }
}

func TestUpdatePackage(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	_, err := f.svc.UpdatePackage(ctx, pkgRef("repo-r"), "", artifact.PackageChange{Metadata: setTags("{}")})
	wantKind(t, err, fault.KindNotFound, "update of a package the repository does not store")
	if f.pkg("repo-r") != nil {
		t.Fatal("UpdatePackage created a package")
	}
	f.publish("repo-r", "1.0.0", "one")
	f.publish("repo-r", "2.0.0", "two")
	f.publish("repo-r", "3.0.0", "three")
	before := f.pkg("repo-r")
	res, err := f.svc.UpdatePackage(ctx, pkgRef("repo-r"), before.Revision(), artifact.PackageChange{
		Delete: []string{"3.0.0", "4.0.0"}, Edit: []string{"1.0.0"}, EditVersion: deprecateAll,
		Metadata: setTags(`{"dist-tags":{"latest":"2.0.0"}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Versions.Successful["3.0.0"].Status != artifact.StatusDeleted || res.Versions.Failed["4.0.0"].Code != artifact.ErrCodeNotFound ||
		res.Versions.Successful["1.0.0"].Status != artifact.StatusPublished {
		t.Fatalf("result %+v", res.Versions)
	}
	p := f.pkg("repo-r")
	if p.Metadata != `{"dist-tags":{"latest":"2.0.0"}}` || res.Package.Revision() != p.Revision() || p.Revision() == before.Revision() {
		t.Fatalf("package after the change: %+v (result %+v)", p.Package, res.Package.Package)
	}
	if f.version("repo-r", "3.0.0") != nil || f.version("repo-r", "1.0.0").Metadata != `{"deprecated":"old"}` {
		t.Fatal("3.0.0 not deleted or 1.0.0 not deprecated")
	}
	// The revision read before the change is stale now: 409, nothing changes.
	_, err = f.svc.UpdatePackage(ctx, pkgRef("repo-r"), before.Revision(), artifact.PackageChange{Delete: []string{"2.0.0"}, Metadata: setTags("")})
	wantKind(t, err, fault.KindConflict, "stale revision")
	if f.version("repo-r", "2.0.0") == nil || f.pkg("repo-r").Revision() != p.Revision() {
		t.Fatal("a change with a stale revision changed the package")
	}
	// Without an expected revision, nothing is checked.
	if _, err := f.svc.UpdatePackage(ctx, pkgRef("repo-r"), "", artifact.PackageChange{Metadata: setTags("")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []artifact.PackageChange{
		{DeletePackage: true, Delete: []string{"1.0.0"}},
		{Edit: []string{"1.0.0"}},
		{Delete: []string{"1.0.0"}, Edit: []string{"1.0.0"}, EditVersion: deprecateAll},
		{Delete: []string{"a/b"}},
	} {
		_, err := f.svc.UpdatePackage(ctx, pkgRef("repo-r"), "", c)
		wantKind(t, err, fault.KindValidation, "invalid change")
	}
	// Deleting the package takes everything.
	_, err = f.svc.UpdatePackage(ctx, pkgRef("repo-r"), f.pkg("repo-r").Revision(), artifact.PackageChange{DeletePackage: true})
	if err != nil || f.pkg("repo-r") != nil {
		t.Fatalf("package delete: %v", err)
	}
}

// TestUpdatePackageAllOrNothing: when the last step of a change fails, the
// steps before it are undone.
func TestUpdatePackageAllOrNothing(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	f.publish("repo-r", "1.0.0", "one")
	f.publish("repo-r", "2.0.0", "two")
	f.publish("repo-r", "3.0.0", "three")
	if _, err := f.svc.UpdatePackageMetadata(ctx, pkgRef("repo-r"), setTags(`{"dist-tags":{"latest":"3.0.0"}}`)); err != nil {
		t.Fatal(err)
	}
	before := f.pkg("repo-r")
	v1 := f.version("repo-r", "1.0.0")
	boom := errors.New("boom")
	_, err := f.svc.UpdatePackage(ctx, pkgRef("repo-r"), before.Revision(), artifact.PackageChange{
		Delete: []string{"3.0.0"}, Edit: []string{"1.0.0"}, EditVersion: deprecateAll,
		Metadata: func(string) (string, error) { return `{"dist-tags":{"latest":"2.0.0"}}`, boom },
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing change: %v", err)
	}
	if after := f.pkg("repo-r"); after.Revision() != before.Revision() || after.Metadata != before.Metadata || f.version("repo-r", "3.0.0") == nil ||
		f.version("repo-r", "1.0.0").Revision != v1.Revision {
		t.Fatalf("a change whose last step failed changed the package: %+v", after.Package)
	}
	// A Disposed version cannot be edited: the deletion before it is undone.
	if _, err := f.svc.DisposePackageVersions(ctx, pkgRef("repo-r"), artifact.VersionSelection{Versions: []string{"2.0.0"}}); err != nil {
		t.Fatal(err)
	}
	before = f.pkg("repo-r")
	blobs := f.blobFiles()
	_, err = f.svc.UpdatePackage(ctx, pkgRef("repo-r"), before.Revision(), artifact.PackageChange{
		Delete: []string{"3.0.0"}, Edit: []string{"1.0.0", "2.0.0"}, EditVersion: deprecateAll,
	})
	wantKind(t, err, fault.KindConflict, "edit of a Disposed version")
	after := f.pkg("repo-r")
	if after.Revision() != before.Revision() || after.Metadata != before.Metadata {
		t.Fatalf("package changed: %+v -> %+v", before.Package, after.Package)
	}
	if f.version("repo-r", "3.0.0") == nil {
		t.Fatal("3.0.0 was deleted")
	}
	if got := f.version("repo-r", "1.0.0"); got.Metadata != v1.Metadata || got.Revision != v1.Revision {
		t.Fatalf("1.0.0 changed: %+v", got.Version)
	}
	if got := f.blobFiles(); len(got) != len(blobs) {
		t.Fatalf("blobs %v, were %v", got, blobs)
	}
}
