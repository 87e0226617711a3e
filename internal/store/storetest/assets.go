package storetest

import (
	"testing"

	"coffer/internal/store"
)

func testAssets(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	r := addRepo(t, s, d.ID, "main")
	p := addPackage(t, s, r.ID, "npm", "", "p")
	v := addVersion(t, s, p.ID, "1.0.0")
	w := addVersion(t, s, p.ID, "2.0.0")
	b := putAsset(t, s, d.ID, v.ID, "b.tgz", makeBlob("bee"))
	a := putAsset(t, s, d.ID, v.ID, "a.tgz", makeBlob("ay"))
	c := putAsset(t, s, d.ID, v.ID, "c/d.json", makeBlob(""))
	putAsset(t, s, d.ID, w.ID, "a.tgz", makeBlob("other version"))

	got := get(t, s, func(tx store.Tx) (*store.Asset, error) { return tx.GetAsset(v.ID, "a.tgz") })
	check(t, "GetAsset", normAsset(*got), *a)
	got = get(t, s, func(tx store.Tx) (*store.Asset, error) { return tx.GetAsset(v.ID, "c/d.json") })
	check(t, "empty asset", normAsset(*got), *c)
	wantNotFound(t, "missing asset", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetAsset(v.ID, "A.tgz")) }))

	list := func(tx store.Tx, p store.Page) ([]store.Asset, error) { return tx.ListAssets(v.ID, p) }
	key := func(a *store.Asset) string { return a.Name }
	for _, limit := range []int{1, 2, 0} {
		check(t, "assets", normAll(pageAll(t, s, limit, list, key), normAsset), []store.Asset{*a, *b, *c})
	}
	page := get(t, s, func(tx store.Tx) ([]store.Asset, error) {
		return tx.ListAssets(v.ID, store.Page{After: "a.tgz0", Limit: 5})
	})
	check(t, "assets after an absent name", normAll(page, normAsset), []store.Asset{*b, *c})

	// Putting an asset of the same name replaces it.
	a2 := &store.Asset{VersionID: v.ID, Name: "a.tgz", Blob: makeBlob("ay, changed"), CreatedTime: at(50)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutAsset(d.ID, a2) })
	got = get(t, s, func(tx store.Tx) (*store.Asset, error) { return tx.GetAsset(v.ID, "a.tgz") })
	check(t, "replaced asset", normAsset(*got), *a2)
	check(t, "assets after replace", normAll(pageAll(t, s, 0, list, key), normAsset), []store.Asset{*a2, *b, *c})

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAssets(v.ID) })
	check(t, "assets after delete", len(pageAll(t, s, 0, list, key)), 0)
	wantNotFound(t, "deleted asset", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetAsset(v.ID, "b.tgz")) }))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAssets(v.ID) }) // nothing left: no error
	get(t, s, func(tx store.Tx) (*store.Asset, error) { return tx.GetAsset(w.ID, "a.tgz") })
}

func testBlobs(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "111122223333", "other")
	vd := addVersion(t, s, addPackage(t, s, addRepo(t, s, d.ID, "r").ID, "npm", "", "p").ID, "1")
	ve := addVersion(t, s, addPackage(t, s, addRepo(t, s, e.ID, "r").ID, "npm", "", "p").ID, "1")
	blob := makeBlob("shared content")
	referenced := func() bool {
		t.Helper()
		return get(t, s, func(tx store.Tx) (bool, error) { return tx.BlobReferenced(blob.SHA256) })
	}
	find := func(domainID int64) error {
		t.Helper()
		return readErr(t, s, func(tx store.Tx) error {
			b, err := tx.FindBlob(domainID, blob.SHA256)
			if err == nil {
				check(t, "FindBlob", *b, blob)
			}
			return err
		})
	}
	check(t, "referenced before any asset", referenced(), false)
	wantNotFound(t, "unknown blob", find(d.ID))

	putAsset(t, s, d.ID, vd.ID, "x", blob)
	putAsset(t, s, d.ID, vd.ID, "y", blob)
	check(t, "referenced", referenced(), true)
	if err := find(d.ID); err != nil {
		t.Errorf("FindBlob: %v", err)
	}
	wantNotFound(t, "blob of another domain", find(e.ID))

	putAsset(t, s, e.ID, ve.ID, "x", blob)
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAssets(vd.ID) })
	check(t, "referenced by the other domain", referenced(), true)
	wantNotFound(t, "blob the domain no longer references", find(d.ID))
	if err := find(e.ID); err != nil {
		t.Errorf("FindBlob in the other domain: %v", err)
	}

	// Deleting a domain releases its references.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteDomain(e.ID) })
	check(t, "referenced after deleting the domain", referenced(), false)
	wantNotFound(t, "blob of a deleted domain", find(e.ID))

	// A blob can come back after it was released.
	putAsset(t, s, d.ID, vd.ID, "z", blob)
	if err := find(d.ID); err != nil {
		t.Errorf("FindBlob after re-adding: %v", err)
	}
	check(t, "referenced again", referenced(), true)
}

// testCascades checks that deleting a record deletes what it owns, and only
// that.
func testCascades(t *testing.T, s store.Store) {
	type tree struct {
		d *store.Domain
		r *store.Repository
		p *store.Package
		v *store.Version
	}
	build := func(name string) tree {
		d := addDomain(t, s, "111122223333", name)
		r := addRepo(t, s, d.ID, "r")
		p := addPackage(t, s, r.ID, "npm", "", "p")
		v := addVersion(t, s, p.ID, "1")
		putAsset(t, s, d.ID, v.ID, "a", makeBlob(name))
		return tree{d, r, p, v}
	}
	assetGone := func(what string, v *store.Version) {
		t.Helper()
		wantNotFound(t, what, readErr(t, s, func(tx store.Tx) error { return discard(tx.GetAsset(v.ID, "a")) }))
		n := get(t, s, func(tx store.Tx) (int, error) {
			as, err := tx.ListAssets(v.ID, store.Page{})
			return len(as), err
		})
		check(t, what+": assets listed", n, 0)
	}
	intact := func(what string, x tree) {
		t.Helper()
		get(t, s, func(tx store.Tx) (*store.Asset, error) { return tx.GetAsset(x.v.ID, "a") })
		get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepositoryByID(x.r.ID) })
	}

	a, b := build("a"), build("b")
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteVersion(a.v.ID) })
	assetGone("asset of a deleted version", a.v)
	intact("other tree", b)

	a.v = addVersion(t, s, a.p.ID, "2")
	putAsset(t, s, a.d.ID, a.v.ID, "a", makeBlob("a"))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackage(a.p.ID) })
	wantNotFound(t, "version of a deleted package", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetVersion(a.p.ID, "2")) }))
	check(t, "versions of a deleted package", get(t, s, func(tx store.Tx) (int, error) { return tx.CountVersions(a.p.ID) }), 0)
	assetGone("asset of a deleted package", a.v)

	a.p = addPackage(t, s, a.r.ID, "npm", "", "p")
	a.v = addVersion(t, s, a.p.ID, "3")
	putAsset(t, s, a.d.ID, a.v.ID, "a", makeBlob("a"))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRepository(a.r.ID) })
	wantNotFound(t, "package of a deleted repository", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPackageByID(a.p.ID)) }))
	check(t, "versions of a deleted repository", get(t, s, func(tx store.Tx) (int, error) { return tx.CountVersions(a.p.ID) }), 0)
	assetGone("asset of a deleted repository", a.v)

	a.r = addRepo(t, s, a.d.ID, "r")
	a.p = addPackage(t, s, a.r.ID, "npm", "", "p")
	a.v = addVersion(t, s, a.p.ID, "4")
	putAsset(t, s, a.d.ID, a.v.ID, "a", makeBlob("a"))
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteDomain(a.d.ID) })
	wantNotFound(t, "repository of a deleted domain", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetRepositoryByID(a.r.ID)) }))
	wantNotFound(t, "package of a deleted domain", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPackageByID(a.p.ID)) }))
	assetGone("asset of a deleted domain", a.v)
	n := get(t, s, func(tx store.Tx) (int, error) {
		rs, err := tx.ListRepositories(store.RepositoryFilter{DomainID: a.d.ID}, store.Page{})
		return len(rs), err
	})
	check(t, "repositories of a deleted domain", n, 0)
	intact("other tree at the end", b)
}
