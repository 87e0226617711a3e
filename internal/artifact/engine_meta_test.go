package artifact_test

import (
	"errors"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/store"
)

func TestUpdatePackageMetadata(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	_, err := f.svc.UpdatePackageMetadata(ctx, pkgRef("repo-r"), func(string) (string, error) { return "{}", nil })
	wantKind(t, err, fault.KindNotFound, "update of a package the repository does not store")
	if f.pkg("repo-r") != nil {
		t.Fatal("UpdatePackageMetadata created a package")
	}
	f.publish("repo-r", "1.0.0", "one")
	before := f.pkg("repo-r")
	p, err := f.svc.UpdatePackageMetadata(ctx, pkgRef("repo-r"), func(cur string) (string, error) {
		if cur != "" {
			t.Errorf("current metadata %q, want empty", cur)
		}
		return `{"dist-tags":{"latest":"1.0.0"}}`, nil
	})
	if err != nil || p.Metadata != `{"dist-tags":{"latest":"1.0.0"}}` {
		t.Fatalf("UpdatePackageMetadata: %+v, %v", p, err)
	}
	if p.Publish != before.Publish || p.Upstream != before.Upstream {
		t.Errorf("origin controls changed: %+v", p)
	}
	if p.ChangeSeq <= before.ChangeSeq {
		t.Errorf("ChangeSeq did not grow: %d -> %d", before.ChangeSeq, p.ChangeSeq)
	}
	boom := errors.New("boom")
	if _, err := f.svc.UpdatePackageMetadata(ctx, pkgRef("repo-r"), func(string) (string, error) { return "x", boom }); !errors.Is(err, boom) {
		t.Fatalf("update error: %v", err)
	}
	if got := f.pkg("repo-r").Metadata; got != `{"dist-tags":{"latest":"1.0.0"}}` {
		t.Fatalf("a failed update changed the metadata to %q", got)
	}
}

func TestUpdateVersionMetadata(t *testing.T) {
	f := newFixture(t)
	f.repo("repo-r")
	f.publish("repo-r", "1.0.0", "one")
	f.publish("repo-r", "2.0.0", "two")
	v1 := f.version("repo-r", "1.0.0")
	v2 := f.version("repo-r", "2.0.0")
	res, err := f.svc.UpdateVersionMetadata(ctx, pkgRef("repo-r"), []string{"1.0.0", "2.0.0", "3.0.0"}, func(v *store.Version) error {
		if v.Version == "1.0.0" {
			v.Metadata = `{"deprecated":"old"}`
			v.Summary = "s"
		}
		v.Status, v.Version, v.Revision = artifact.StatusArchived, "9.9.9", "forged" // ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Successful) != 2 || res.Failed["3.0.0"].Code != artifact.ErrCodeNotFound {
		t.Fatalf("result %+v", res)
	}
	got1 := f.version("repo-r", "1.0.0")
	if got1.Metadata != `{"deprecated":"old"}` || got1.Summary != "s" || got1.Status != artifact.StatusPublished || got1.Revision == v1.Revision ||
		got1.Revision == "forged" || res.Successful["1.0.0"].Revision != got1.Revision {
		t.Fatalf("1.0.0 after update: %+v (result %+v)", got1.Version, res.Successful["1.0.0"])
	}
	if got2 := f.version("repo-r", "2.0.0"); got2.Revision != v2.Revision || got2.Metadata != v2.Metadata {
		t.Fatalf("unchanged 2.0.0 got a new revision: %+v", got2.Version)
	}
	boom := errors.New("boom")
	_, err = f.svc.UpdateVersionMetadata(ctx, pkgRef("repo-r"), []string{"2.0.0", "1.0.0"}, func(v *store.Version) error {
		v.Metadata = "changed"
		if v.Version == "1.0.0" {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update error: %v", err)
	}
	if got := f.version("repo-r", "2.0.0"); got.Metadata != v2.Metadata {
		t.Fatal("a failed update changed another version")
	}
	_, err = f.svc.UpdateVersionMetadata(ctx, pkgRef("repo-r"), nil, func(*store.Version) error { return nil })
	wantKind(t, err, fault.KindValidation, "no versions")
	_, err = f.svc.UpdateVersionMetadata(ctx, artifact.PackageRef{RepoRef: pkgRef("repo-r").RepoRef, Format: artifact.FormatNpm, Package: "nope"},
		[]string{"1.0.0"}, func(*store.Version) error { return nil })
	wantKind(t, err, fault.KindNotFound, "unknown package")
}
