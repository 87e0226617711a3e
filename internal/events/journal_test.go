package events_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/events"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

var dom = artifact.DomainRef{Name: "dx"}

type fixture struct {
	t       *testing.T
	svc     *artifact.Service
	meta    store.Store
	blobs   blob.Store
	after   int64 // events up to here were checked
	commits int
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, meta: meta, blobs: blobs}
	j := events.NewJournal(meta, "eu-west-1")
	j.OnCommit(func() { f.commits++ })
	f.svc = artifact.New(artifact.Config{Region: "eu-west-1", AccountID: "123456789012"}, j.AsStore(), blobs, slog.New(slog.DiscardHandler))
	ctx := t.Context()
	if _, err := f.svc.CreateDomain(ctx, dom.Name, "", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"up", "team", "copy"} {
		ups := []string(nil)
		if r == "team" {
			ups = []string{"up"}
		}
		if _, err := f.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: dom, Repository: r}, "", ups, nil); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// got returns the events since the last call, as "op repo name@version
// state +added -removed ~updated meta status".
func (f *fixture) got() []string {
	f.t.Helper()
	var rows []store.Event
	if err := f.meta.Read(f.t.Context(), func(tx store.Tx) (err error) { rows, err = tx.ListEvents(f.after, 1000); return err }); err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		e, err := events.Decode(r.Body, r.Seq)
		if err != nil {
			f.t.Fatal(err)
		}
		d := e.Detail
		if e.Version != "0" || e.DetailType != events.DetailType || e.Source != events.Source || e.Account != "123456789012" ||
			e.Region != "eu-west-1" || len(e.Resources) != 1 || d.SequenceNumber != r.Seq || len(d.EventDeduplicationID) != 43 ||
			len(e.ID) != 36 || d.DomainName != "dx" || d.DomainOwner != "123456789012" || d.PackageVersionRevision == "" {
			f.t.Errorf("event envelope: %s", r.Body)
		}
		want := fmt.Sprintf("arn:aws:codeartifact:eu-west-1:123456789012:package/dx/%s/%s/%s/%s", d.RepositoryName, d.PackageFormat,
			r.Namespace, d.PackageName)
		if e.Resources[0] != want {
			f.t.Errorf("resource %s, want %s", e.Resources[0], want)
		}
		if (d.PackageNamespace == nil) != (r.Namespace == "") {
			f.t.Errorf("namespace %v for %q", d.PackageNamespace, r.Namespace)
		}
		c := d.Changes
		out = append(out, fmt.Sprintf("%s %s %s@%s %s +%d -%d ~%d meta=%v status=%v", d.OperationType, d.RepositoryName, d.PackageName,
			d.PackageVersion, d.PackageVersionState, c.AssetsAdded, c.AssetsRemoved, c.AssetsUpdated, c.MetadataUpdated, c.StatusChanged))
		f.after = r.Seq
	}
	return out
}

func (f *fixture) want(what string, want ...string) {
	f.t.Helper()
	got := f.got()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Fatalf("%s: events\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func ref(repo, format, ns, name string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: dom, Repository: repo}, Format: format, Namespace: ns, Package: name}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestJournal drives every way the engine changes versions through a
// journal over a real store and checks the events each leaves.
func TestJournal(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	gen := ref("team", artifact.FormatGeneric, "acme", "tool")
	publish := func(version, asset, content string, unfinished bool) {
		t.Helper()
		if _, err := f.svc.PublishPackageVersion(ctx, artifact.PublishRequest{VersionRef: artifact.VersionRef{PackageRef: gen, Version: version},
			Asset: asset, SHA256: sum(content), Unfinished: unfinished}, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	publish("1.0.0", "tool.tar", "one", true)
	f.want("publish", "Created team tool@1.0.0 Unfinished +1 -0 ~0 meta=true status=true")
	publish("1.0.0", "tool.tar", "one", true)
	f.want("the same asset again: nothing changed")
	publish("1.0.0", "tool.sig", "sig", false)
	f.want("the last asset", "Updated team tool@1.0.0 Published +1 -0 ~0 meta=false status=true")
	publish("2.0.0", "tool.tar", "two", true)
	f.want("unfinished", "Created team tool@2.0.0 Unfinished +1 -0 ~0 meta=true status=true")

	if _, err := f.svc.UpdatePackageVersionsStatus(ctx, gen, artifact.StatusUpdate{Versions: []string{"2.0.0", "1.0.0"}, TargetStatus: artifact.StatusUnlisted}); err != nil {
		t.Fatal(err)
	}
	got := f.got()
	if len(got) != 2 || !strings.Contains(strings.Join(got, "\n"), "Updated team tool@2.0.0 Unlisted +0 -0 ~0 meta=false status=true") ||
		!strings.Contains(strings.Join(got, "\n"), "Updated team tool@1.0.0 Unlisted +0 -0 ~0 meta=false status=true") {
		t.Fatalf("status update: %v", got)
	}

	if _, err := f.svc.CopyPackageVersions(ctx, artifact.CopyRequest{Domain: dom, SourceRepository: "team", DestinationRepository: "copy",
		Format: gen.Format, Namespace: gen.Namespace, Package: gen.Package, VersionSelection: artifact.VersionSelection{Versions: []string{"1.0.0"}}}); err != nil {
		t.Fatal(err)
	}
	f.want("copy", "Created copy tool@1.0.0 Unlisted +2 -0 ~0 meta=true status=true")

	if _, err := f.svc.DisposePackageVersions(ctx, gen, artifact.VersionSelection{Versions: []string{"1.0.0"}}); err != nil {
		t.Fatal(err)
	}
	f.want("dispose", "Updated team tool@1.0.0 Disposed +0 -2 ~0 meta=false status=true")

	if _, err := f.svc.DeletePackageVersions(ctx, gen, []string{"1.0.0"}, ""); err != nil {
		t.Fatal(err)
	}
	f.want("delete version", "Deleted team tool@1.0.0 Disposed +0 -0 ~0 meta=false status=false")

	if _, err := f.svc.DeletePackage(ctx, gen); err != nil {
		t.Fatal(err)
	}
	f.want("delete package", "Deleted team tool@2.0.0 Unlisted +0 -1 ~0 meta=false status=false")

	// A native publish that replaces an asset, and a metadata update.
	npm := ref("team", artifact.FormatNpm, "", "lib")
	put := func(content string, replace bool) {
		t.Helper()
		if _, err := f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: npm, Version: "1.0.0"},
			Asset: "lib-1.0.0.tgz", NewStatus: artifact.StatusPublished, Replace: replace}, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	put("a", false)
	f.want("native publish", "Created team lib@1.0.0 Published +1 -0 ~0 meta=true status=true")
	put("b", true)
	f.want("replaced asset", "Updated team lib@1.0.0 Published +0 -0 ~1 meta=false status=false")
	// Deleting a version that still has its asset counts it removed.
	if _, err := f.svc.DeletePackageVersions(ctx, npm, []string{"1.0.0"}, ""); err != nil {
		t.Fatal(err)
	}
	f.want("delete a published version", "Deleted team lib@1.0.0 Published +0 -1 ~0 meta=false status=false")

	// Retention of an upstream version into the requested repository.
	up := ref("up", artifact.FormatNpm, "", "other")
	if _, err := f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: up, Version: "3.0.0"},
		Asset: "other-3.0.0.tgz", NewStatus: artifact.StatusPublished}, strings.NewReader("up")); err != nil {
		t.Fatal(err)
	}
	f.want("upstream publish", "Created up other@3.0.0 Published +1 -0 ~0 meta=true status=true")
	res, err := f.svc.ReadAsset(ctx, artifact.ReadRequest{VersionRef: artifact.VersionRef{PackageRef: ref("team", artifact.FormatNpm, "", "other"),
		Version: "3.0.0"}, Asset: "other-3.0.0.tgz"})
	if err != nil {
		t.Fatal(err)
	}
	res.Object.Close()
	f.want("retention", "Created team other@3.0.0 Published +1 -0 ~0 meta=true status=true")

	// A failed write records nothing.
	before := f.commits
	if _, err := f.svc.PublishPackageVersion(ctx, artifact.PublishRequest{VersionRef: artifact.VersionRef{PackageRef: gen, Version: "9"},
		Asset: "x", SHA256: sum("not this")}, strings.NewReader("x")); err == nil {
		t.Fatal("a publish with a wrong hash succeeded")
	}
	f.want("failed publish")
	if f.commits != before {
		t.Fatal("a failed write woke the deliveries")
	}
}
