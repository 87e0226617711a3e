package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"coffer/internal/store"
)

func testVersions(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	r := addRepo(t, s, d.ID, "main")
	p := addPackage(t, s, r.ID, "npm", "", "left-pad")
	q := addPackage(t, s, r.ID, "npm", "", "right-pad")
	v := &store.Version{PackageID: p.ID, Version: "1.0.0", Revision: "rev-a", Status: "Unfinished",
		OriginType: "EXTERNAL", OriginRepository: "main", OriginExternalConnection: "public:npmjs",
		CreatedTime: at(10), DisplayName: "left-pad", Summary: "pads", HomePage: "https://example.com",
		SourceCodeRepository: "https://example.com/git",
		Licenses:             []store.License{{Name: "MIT", URL: "https://mit"}, {Name: "WTFPL"}},
		Readme:               "# left-pad\n\nünïcode",
		Dependencies: []store.Dependency{
			{Namespace: "types", Package: "node", DependencyType: "dev", VersionRequirement: "^20"},
			{Package: "is-odd", DependencyType: "regular", VersionRequirement: "1.x"}},
		Metadata: `{"dist":{"tarball":"x"}}`}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateVersion(v) })
	if v.ID == 0 {
		t.Fatal("CreateVersion did not set the ID")
	}
	got := get(t, s, func(tx store.Tx) (*store.Version, error) { return tx.GetVersion(p.ID, "1.0.0") })
	check(t, "GetVersion", normVersion(*got), *v)
	// A list that omits readmes has everything else.
	brief := get(t, s, func(tx store.Tx) ([]store.Version, error) {
		return tx.ListVersions(store.VersionFilter{PackageID: p.ID, OmitReadme: true}, store.Page{})
	})
	noReadme := *v
	noReadme.Readme = ""
	if len(brief) != 1 {
		t.Fatalf("ListVersions OmitReadme: %d versions", len(brief))
	}
	check(t, "ListVersions OmitReadme", normVersion(brief[0]), noReadme)
	bare := get(t, s, func(tx store.Tx) ([]store.Version, error) {
		return tx.ListVersions(store.VersionFilter{PackageID: p.ID, OmitReadme: true, OmitMetadata: true}, store.Page{})
	})
	noMetadata := noReadme
	noMetadata.Metadata, noMetadata.Dependencies = "", nil
	if len(bare) != 1 {
		t.Fatalf("ListVersions OmitMetadata: %d versions", len(bare))
	}
	check(t, "ListVersions OmitReadme OmitMetadata", normVersion(bare[0]), noMetadata)
	withReadme := get(t, s, func(tx store.Tx) ([]store.Version, error) {
		return tx.ListVersions(store.VersionFilter{PackageID: p.ID, OmitMetadata: true}, store.Page{})
	})
	noMetadata.Readme = v.Readme
	check(t, "ListVersions OmitMetadata", normVersion(withReadme[0]), noMetadata)
	metas := get(t, s, func(tx store.Tx) (map[int64]string, error) { return tx.VersionsMetadata([]int64{v.ID, v.ID + 1000}) })
	check(t, "VersionsMetadata", metas, map[int64]string{v.ID: v.Metadata})
	none := get(t, s, func(tx store.Tx) (map[int64]string, error) { return tx.VersionsMetadata(nil) })
	check(t, "VersionsMetadata of no ids", len(none), 0)

	dup := &store.Version{PackageID: p.ID, Version: "1.0.0", Status: "Published"}
	wantConflict(t, "duplicate version", writeErr(t, s, func(tx store.Tx) error { return tx.CreateVersion(dup) }))
	addVersion(t, s, q.ID, "1.0.0") // another package
	addVersion(t, s, p.ID, "1.0.0-rc.1")
	wantNotFound(t, "missing version", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetVersion(p.ID, "1.0")) }))
	check(t, "count", get(t, s, func(tx store.Tx) (int, error) { return tx.CountVersions(p.ID) }), 2)

	// Update changes every field but the key.
	v.Revision, v.Status, v.OriginType = "rev-b", "Published", "INTERNAL"
	v.OriginRepository, v.OriginExternalConnection = "other", ""
	v.CreatedTime, v.PublishedTime, v.UpstreamPublishedTime = at(11), at(12), at(10)
	v.DisplayName, v.Summary, v.HomePage, v.SourceCodeRepository = "LP", "pads more", "", "git://x"
	v.Licenses = []store.License{{Name: "Apache-2.0"}}
	v.Readme = ""
	v.Dependencies = nil
	v.Metadata = `{}`
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateVersion(v) })
	got = get(t, s, func(tx store.Tx) (*store.Version, error) { return tx.GetVersion(p.ID, "1.0.0") })
	check(t, "updated version", normVersion(*got), *v)
	missing := *v
	missing.ID += 1000
	wantNotFound(t, "update missing version", writeErr(t, s, func(tx store.Tx) error { return tx.UpdateVersion(&missing) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteVersion(v.ID) })
	wantNotFound(t, "deleted version", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetVersion(p.ID, "1.0.0")) }))
	wantNotFound(t, "delete missing version", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteVersion(v.ID) }))
	check(t, "count after delete", get(t, s, func(tx store.Tx) (int, error) { return tx.CountVersions(p.ID) }), 1)
	check(t, "count of another package", get(t, s, func(tx store.Tx) (int, error) { return tx.CountVersions(q.ID) }), 1)
	check(t, "count of a missing package", get(t, s, func(tx store.Tx) (int, error) { return tx.CountVersions(q.ID + 1000) }), 0)
	get(t, s, func(tx store.Tx) (*store.Version, error) { return tx.GetVersion(q.ID, "1.0.0") })
}

// testVersionList checks ListVersions against a model, in both orders.
func testVersionList(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	r := addRepo(t, s, d.ID, "main")
	p := addPackage(t, s, r.ID, "npm", "", "p")
	q := addPackage(t, s, r.ID, "npm", "", "q")
	specs := []struct {
		version, status, origin string
		published               time.Time
	}{
		{"1.0.0", "Published", "INTERNAL", at(5)},
		{"1.10.0", "Published", "EXTERNAL", at(7)},
		{"1.2.0", "Unlisted", "INTERNAL", at(5)}, // same published time as 1.0.0
		{"2.0.0-beta", "Archived", "INTERNAL", at(6)},
		{"2.0.0", "Published", "EXTERNAL", at(8)},
		{"0.9", "Unfinished", "UNKNOWN", time.Time{}}, // never published
		{"0.8", "Unfinished", "INTERNAL", time.Time{}},
		{"3.0.0", "Disposed", "INTERNAL", at(-100)},
	}
	var all []store.Version
	for i, sp := range specs {
		v := &store.Version{PackageID: p.ID, Version: sp.version, Revision: fmt.Sprint("r", i), Status: sp.status,
			OriginType: sp.origin, CreatedTime: at(i), PublishedTime: sp.published}
		mustWrite(t, s, func(tx store.Tx) error { return tx.CreateVersion(v) })
		all = append(all, *v)
	}
	addVersion(t, s, q.ID, "1.5.0") // another package: never listed

	for _, order := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		byTime, desc := order[0], order[1]
		sorted := slices.Clone(all)
		slices.SortFunc(sorted, func(x, y store.Version) int {
			if byTime {
				if c := cmp.Compare(store.TimeNanos(x.PublishedTime), store.TimeNanos(y.PublishedTime)); c != 0 {
					return c
				}
			}
			return cmp.Compare(x.Version, y.Version)
		})
		if desc {
			slices.Reverse(sorted)
		}
		for _, status := range []string{"", "Published", "Unfinished", "Deleted"} {
			for _, origin := range []string{"", "INTERNAL"} {
				f := store.VersionFilter{PackageID: p.ID, Status: status, OriginType: origin, ByPublishedTime: byTime, Descending: desc}
				var want []store.Version
				for _, v := range sorted {
					if (status == "" || v.Status == status) && (origin == "" || v.OriginType == origin) {
						want = append(want, v)
					}
				}
				list := func(tx store.Tx, p store.Page) ([]store.Version, error) { return tx.ListVersions(f, p) }
				for _, limit := range []int{1, 2, 3, 0} {
					got := pageAll(t, s, limit, list, func(v *store.Version) string { return store.VersionKey(v, byTime) })
					check(t, fmt.Sprintf("versions %+v limit %d", f, limit), normAll(got, normVersion), want)
				}
			}
		}
	}
	// A key that names no version still places the page.
	after := store.VersionKey(&store.Version{Version: "1.1", PublishedTime: at(5)}, true)
	got := get(t, s, func(tx store.Tx) ([]store.Version, error) {
		return tx.ListVersions(store.VersionFilter{PackageID: p.ID, ByPublishedTime: true}, store.Page{After: after, Limit: 2})
	})
	check(t, "versions after an absent key", normAll(got, normVersion), []store.Version{all[2], all[3]})
	got = get(t, s, func(tx store.Tx) ([]store.Version, error) {
		return tx.ListVersions(store.VersionFilter{PackageID: p.ID}, store.Page{After: "1.1", Limit: 2})
	})
	check(t, "versions after an absent version", normAll(got, normVersion), []store.Version{all[1], all[2]})
}
