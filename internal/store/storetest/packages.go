package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"coffer/internal/store"
)

func testPackages(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	r := addRepo(t, s, d.ID, "main")
	r2 := addRepo(t, s, d.ID, "second")
	p := &store.Package{RepositoryID: r.ID, Format: "npm", Namespace: "types", Name: "node",
		Publish: "BLOCK", Upstream: "ALLOW", Metadata: `{"dist-tags":{"latest":"1.0.0"}}`}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePackage(p) })
	if p.ID == 0 {
		t.Fatal("CreatePackage did not set the ID")
	}
	got := get(t, s, func(tx store.Tx) (*store.Package, error) { return tx.GetPackage(r.ID, "npm", "types", "node") })
	check(t, "GetPackage", *got, *p)
	got = get(t, s, func(tx store.Tx) (*store.Package, error) { return tx.GetPackageByID(p.ID) })
	check(t, "GetPackageByID", *got, *p)

	dup := &store.Package{RepositoryID: r.ID, Format: "npm", Namespace: "types", Name: "node", Publish: "ALLOW", Upstream: "ALLOW"}
	wantConflict(t, "duplicate package", writeErr(t, s, func(tx store.Tx) error { return tx.CreatePackage(dup) }))
	// Every part of the key counts.
	addPackage(t, s, r.ID, "npm", "", "node")
	addPackage(t, s, r.ID, "pypi", "types", "node")
	addPackage(t, s, r2.ID, "npm", "types", "node")
	for _, k := range [][3]string{{"npm", "", "Node"}, {"npm", "type", "node"}, {"maven", "types", "node"}} {
		wantNotFound(t, fmt.Sprint("missing package ", k), readErr(t, s, func(tx store.Tx) error {
			return discard(tx.GetPackage(r.ID, k[0], k[1], k[2]))
		}))
	}
	wantNotFound(t, "missing package ID", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPackageByID(p.ID + 1000)) }))

	p.Publish, p.Upstream, p.Metadata = "ALLOW", "BLOCK", `{"dist-tags":{}}`
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePackage(p) })
	got = get(t, s, func(tx store.Tx) (*store.Package, error) { return tx.GetPackageByID(p.ID) })
	if got.ChangeSeq <= p.ChangeSeq {
		t.Errorf("UpdatePackage left ChangeSeq at %d", got.ChangeSeq)
	}
	p.ChangeSeq = got.ChangeSeq
	check(t, "updated package", *got, *p)
	missing := *p
	missing.ID += 1000
	wantNotFound(t, "update missing package", writeErr(t, s, func(tx store.Tx) error { return tx.UpdatePackage(&missing) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackage(p.ID) })
	wantNotFound(t, "deleted package", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPackageByID(p.ID)) }))
	wantNotFound(t, "delete missing package", writeErr(t, s, func(tx store.Tx) error { return tx.DeletePackage(p.ID) }))
	get(t, s, func(tx store.Tx) (*store.Package, error) { return tx.GetPackage(r2.ID, "npm", "types", "node") })
}

// testPackageList checks ListPackages against a model: every combination of
// filters, paged with several limits and from keys that do and do not name a
// package, including keys outside the filtered format.
func testPackageList(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	r := addRepo(t, s, d.ID, "main")
	other := addRepo(t, s, d.ID, "other")
	namespaces := map[string][]string{
		"generic": {"ns", "ns%1", "ns_1", "nsx"},
		"maven":   {"com.google", "org.apache", "org.apache.commons", "org_apache"},
		"npm":     {"", "angular", "typ", "types", "tyq"}, // tyq: just past the prefix typ
		"pypi":    {""},
	}
	names := []string{"re", "react", "react-dom", "rf", "lodash", "a_b", "a%b", "a`", "ab", "zeta", "Zed", "é-pkg"}
	var all []store.Package
	i := 0
	for format, nss := range namespaces {
		for _, ns := range nss {
			for _, name := range names {
				i++
				if i%7 == 0 {
					continue // not every combination exists
				}
				p := &store.Package{RepositoryID: r.ID, Format: format, Namespace: ns, Name: name,
					Publish: []string{"ALLOW", "BLOCK"}[i%2], Upstream: []string{"ALLOW", "BLOCK"}[i%3%2],
					Metadata: fmt.Sprintf(`{"n":%d}`, i)}
				mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePackage(p) })
				all = append(all, *p)
			}
		}
	}
	addPackage(t, s, other.ID, "npm", "", "react") // in another repository: never listed
	keyOf := func(p *store.Package) [3]string { return [3]string{p.Format, p.Namespace, p.Name} }
	compareKeys := func(a, b [3]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]), cmp.Compare(a[2], b[2]))
	}
	slices.SortFunc(all, func(x, y store.Package) int { return compareKeys(keyOf(&x), keyOf(&y)) })

	// Page starts: every listed key, plus keys between, before and after
	// packages and formats.
	afters := [][3]string{
		{"", "", ""}, {"a", "", ""}, {"generic", "ns", ""}, {"generic", "ns_", "zzz"}, {"maven", "", ""},
		{"maven", "org.apache", "lodash"}, {"maven", "org.apache.commons", "\U0010ffff"}, {"npm", "", "react"},
		{"npm", "", "reb"}, {"npm", "angular", ""}, {"npm", "ty", "a"}, {"npm", "typ", "zz"}, {"npm", "types", "re"},
		{"npm", "typesz", ""}, {"npmx", "", ""}, {"pypi", "", "a%b"}, {"zzz", "", ""},
	}
	for i := 0; i < len(all); i += 5 {
		afters = append(afters, keyOf(&all[i]))
	}

	type filter = store.PackageFilter
	var filters []filter
	for _, format := range []string{"", "npm", "maven", "generic", "nonexistent"} {
		for _, nsp := range []string{"", "typ", "org.apache", "ns_", "ns%", "a"} {
			for _, np := range []string{"", "re", "react-", "a_", "a%", "é", "q"} {
				filters = append(filters, filter{RepositoryID: r.ID, Format: format, NamespacePrefix: nsp, NamePrefix: np})
			}
		}
	}
	filters = append(filters,
		filter{RepositoryID: r.ID, Publish: "BLOCK"},
		filter{RepositoryID: r.ID, Upstream: "BLOCK"},
		filter{RepositoryID: r.ID, Format: "npm", Publish: "ALLOW", Upstream: "BLOCK"},
		filter{RepositoryID: r.ID, Format: "maven", NamespacePrefix: "org", NamePrefix: "re", Publish: "BLOCK"},
		filter{RepositoryID: r.ID + other.ID + 1000},
	)

	for _, f := range filters {
		var want []store.Package
		for _, p := range all {
			if p.RepositoryID == f.RepositoryID && (f.Format == "" || p.Format == f.Format) &&
				strings.HasPrefix(p.Namespace, f.NamespacePrefix) && strings.HasPrefix(p.Name, f.NamePrefix) &&
				(f.Publish == "" || p.Publish == f.Publish) && (f.Upstream == "" || p.Upstream == f.Upstream) {
				want = append(want, p)
			}
		}
		list := func(tx store.Tx, p store.Page) ([]store.Package, error) { return tx.ListPackages(f, p) }
		for _, limit := range []int{3, 0} {
			got := pageAll(t, s, limit, list, func(p *store.Package) string { return store.PackageKey(p) })
			check(t, fmt.Sprintf("packages %+v limit %d", f, limit), got, want)
		}
		for _, after := range afters {
			var wantPage []store.Package
			for _, p := range want {
				if compareKeys(keyOf(&p), after) > 0 && len(wantPage) < 4 {
					wantPage = append(wantPage, p)
				}
			}
			afterKey := store.PackageKey(&store.Package{Format: after[0], Namespace: after[1], Name: after[2]})
			got := get(t, s, func(tx store.Tx) ([]store.Package, error) {
				return tx.ListPackages(f, store.Page{After: afterKey, Limit: 4})
			})
			check(t, fmt.Sprintf("packages %+v after %q", f, after), got, wantPage)
		}
	}
}

// testPackageChangeSeq checks that ChangeSeq grows with every change to a
// package, its versions and their assets, and only to that package.
func testPackageChangeSeq(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	r := addRepo(t, s, d.ID, "main")
	p := addPackage(t, s, r.ID, "maven", "org.acme", "lib")
	other := addPackage(t, s, r.ID, "maven", "org.acme", "other")
	seq := func(id int64) int64 {
		t.Helper()
		return get(t, s, func(tx store.Tx) (*store.Package, error) { return tx.GetPackageByID(id) }).ChangeSeq
	}
	last := seq(p.ID)
	step := func(what string, fn func(tx store.Tx) error) {
		t.Helper()
		mustWrite(t, s, fn)
		if now := seq(p.ID); now <= last {
			t.Errorf("%s left ChangeSeq at %d", what, now)
		} else {
			last = now
		}
	}
	var v *store.Version
	step("a new version", func(tx store.Tx) error {
		v = &store.Version{PackageID: p.ID, Version: "1.0", Revision: "r1", Status: "Unfinished", OriginType: "INTERNAL"}
		return tx.CreateVersion(v)
	})
	step("a new asset", func(tx store.Tx) error {
		return tx.PutAsset(d.ID, &store.Asset{VersionID: v.ID, Name: "lib-1.0.jar", Blob: store.Blob{SHA256: strings.Repeat("a", 64), Size: 1}})
	})
	step("a status change", func(tx store.Tx) error { v.Status = "Published"; return tx.UpdateVersion(v) })
	step("deleting assets", func(tx store.Tx) error { return tx.DeleteAssets(v.ID) })
	step("an origin change", func(tx store.Tx) error { p.Publish = "BLOCK"; return tx.UpdatePackage(p) })
	step("deleting the version", func(tx store.Tx) error { return tx.DeleteVersion(v.ID) })
	if got := seq(other.ID); got != other.ChangeSeq {
		t.Errorf("another package's ChangeSeq moved from %d to %d", other.ChangeSeq, got)
	}
}
