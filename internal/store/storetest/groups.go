package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"coffer/internal/store"
)

func normPackageGroup(g store.PackageGroup) store.PackageGroup {
	g.CreatedTime = g.CreatedTime.UTC()
	if len(g.Modes) == 0 {
		g.Modes = nil
	}
	return g
}

func addPackageGroup(t *testing.T, s store.Store, domainID int64, pattern string) *store.PackageGroup {
	t.Helper()
	g := &store.PackageGroup{DomainID: domainID, Pattern: pattern, CreatedTime: at(5),
		Modes: map[string]string{"PUBLISH": "INHERIT", "EXTERNAL_UPSTREAM": "INHERIT", "INTERNAL_UPSTREAM": "INHERIT"}}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePackageGroup(g) })
	return g
}

func testPackageGroups(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "111122223333", "other")
	g := &store.PackageGroup{DomainID: d.ID, Pattern: "/npm/space/*", ContactInfo: "team@example.com",
		Description: "the space scope", CreatedTime: at(1),
		Modes: map[string]string{"PUBLISH": "BLOCK", "EXTERNAL_UPSTREAM": "ALLOW_SPECIFIC_REPOSITORIES", "INTERNAL_UPSTREAM": "INHERIT"}}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePackageGroup(g) })
	if g.ID == 0 {
		t.Fatal("CreatePackageGroup did not set the ID")
	}
	got := get(t, s, func(tx store.Tx) (*store.PackageGroup, error) { return tx.GetPackageGroup(d.ID, "/npm/space/*") })
	check(t, "GetPackageGroup", normPackageGroup(*got), *g)

	dup := &store.PackageGroup{DomainID: d.ID, Pattern: "/npm/space/*"}
	wantConflict(t, "duplicate package group", writeErr(t, s, func(tx store.Tx) error { return tx.CreatePackageGroup(dup) }))
	// Patterns are scoped to their domain and compared exactly.
	elsewhere := addPackageGroup(t, s, e.ID, "/npm/space/*")
	addPackageGroup(t, s, d.ID, "/npm/Space/*")
	got = get(t, s, func(tx store.Tx) (*store.PackageGroup, error) { return tx.GetPackageGroup(e.ID, "/npm/space/*") })
	check(t, "group of another domain", got.ID, elsewhere.ID)
	for _, p := range []string{"/npm/space/", "/npm/space/**", "/npm/SPACE/*"} {
		wantNotFound(t, "missing group "+p, readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPackageGroup(d.ID, p)) }))
	}
	noDomain := &store.PackageGroup{DomainID: d.ID + e.ID + 1000, Pattern: "/*"}
	wantNotFound(t, "group of a missing domain", writeErr(t, s, func(tx store.Tx) error { return tx.CreatePackageGroup(noDomain) }))

	// Update replaces contact info, description and modes, never the key.
	g.ContactInfo, g.Description = "", "changed"
	g.Modes = map[string]string{"PUBLISH": "ALLOW"}
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePackageGroup(g) })
	got = get(t, s, func(tx store.Tx) (*store.PackageGroup, error) { return tx.GetPackageGroup(d.ID, g.Pattern) })
	check(t, "updated group", normPackageGroup(*got), *g)
	g.Modes = nil
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdatePackageGroup(g) })
	got = get(t, s, func(tx store.Tx) (*store.PackageGroup, error) { return tx.GetPackageGroup(d.ID, g.Pattern) })
	check(t, "group without modes", normPackageGroup(*got), *g)
	missing := *g
	missing.ID += elsewhere.ID + 1000
	wantNotFound(t, "update missing group", writeErr(t, s, func(tx store.Tx) error { return tx.UpdatePackageGroup(&missing) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackageGroup(g.ID) })
	wantNotFound(t, "deleted group", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetPackageGroup(d.ID, g.Pattern)) }))
	wantNotFound(t, "delete missing group", writeErr(t, s, func(tx store.Tx) error { return tx.DeletePackageGroup(g.ID) }))
	again := addPackageGroup(t, s, d.ID, g.Pattern) // the pattern is free again, under a new id
	if again.ID == g.ID {
		t.Errorf("package group id %d reused", g.ID)
	}

	// Deleting the domain deletes its groups.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteDomain(e.ID) })
	wantNotFound(t, "group of a deleted domain", readErr(t, s, func(tx store.Tx) error {
		return discard(tx.GetPackageGroup(e.ID, "/npm/space/*"))
	}))
}

// testPackageGroupList checks ListPackageGroups against a model for several
// prefixes and page sizes.
func testPackageGroupList(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "444455556666", "acme")
	patterns := []string{"/*", "/npm/*", "/npm//*", "/npm//react$", "/npm//re~", "/npm/space/*", "/npm/space/ui~",
		"/npm/sp~", "/npm/s%/*", "/npm/s_/*", "/maven/*", "/maven/org.apache~", "/maven/org.apache/log4j$",
		"/pypi//requests$", "/pypi/*", "/generic/ns/é-pkg$", "/npm/space/ui-kit$"}
	var all []store.PackageGroup
	for i, p := range patterns {
		g := &store.PackageGroup{DomainID: d.ID, Pattern: p, CreatedTime: at(i), Description: fmt.Sprint(i)}
		mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePackageGroup(g) })
		all = append(all, *g)
	}
	addPackageGroup(t, s, e.ID, "/npm/other/*") // another domain: never listed
	slices.SortFunc(all, func(x, y store.PackageGroup) int { return cmp.Compare(x.Pattern, y.Pattern) })

	for _, prefix := range []string{"", "/", "/npm/", "/npm/s", "/npm/s_", "/npm/s%", "/npm//", "/maven/org.apache", "/pypi//requests$", "/cargo", "/generic/ns/é"} {
		var want []store.PackageGroup
		for _, g := range all {
			if strings.HasPrefix(g.Pattern, prefix) {
				want = append(want, g)
			}
		}
		list := func(tx store.Tx, p store.Page) ([]store.PackageGroup, error) {
			return tx.ListPackageGroups(d.ID, prefix, p)
		}
		for _, limit := range []int{1, 2, 5, 0} {
			got := pageAll(t, s, limit, list, func(g *store.PackageGroup) string { return store.PackageGroupKey(g) })
			check(t, fmt.Sprintf("groups with prefix %q limit %d", prefix, limit), normAll(got, normPackageGroup), want)
		}
	}
	// A page may start after a pattern that is not stored.
	got := get(t, s, func(tx store.Tx) ([]store.PackageGroup, error) {
		return tx.ListPackageGroups(d.ID, "/npm/", store.Page{After: "/npm/r", Limit: 2})
	})
	check(t, "groups after a missing pattern", normAll(got, normPackageGroup), []store.PackageGroup{all[slices.IndexFunc(all, func(g store.PackageGroup) bool {
		return g.Pattern == "/npm/s%/*"
	})], all[slices.IndexFunc(all, func(g store.PackageGroup) bool { return g.Pattern == "/npm/s_/*" })]})
}

func testAllowedRepositories(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	g := addPackageGroup(t, s, d.ID, "/npm/*")
	h := addPackageGroup(t, s, d.ID, "/pypi/*")
	names := []string{"zeta", "alpha", "Beta", "mid", "a_b", "a-b"}
	repos := map[string]*store.Repository{}
	for _, n := range names {
		repos[n] = addRepo(t, s, d.ID, n)
	}
	for _, n := range names {
		mustWrite(t, s, func(tx store.Tx) error { return tx.AddAllowedRepository(g.ID, "PUBLISH", repos[n].ID) })
	}
	// Adding again does nothing; lists are per type and per group.
	mustWrite(t, s, func(tx store.Tx) error { return tx.AddAllowedRepository(g.ID, "PUBLISH", repos["alpha"].ID) })
	mustWrite(t, s, func(tx store.Tx) error { return tx.AddAllowedRepository(g.ID, "EXTERNAL_UPSTREAM", repos["mid"].ID) })
	mustWrite(t, s, func(tx store.Tx) error { return tx.AddAllowedRepository(h.ID, "PUBLISH", repos["zeta"].ID) })

	sorted := slices.Clone(names)
	slices.Sort(sorted)
	list := func(groupID int64, typ string) func(store.Tx, store.Page) ([]string, error) {
		return func(tx store.Tx, p store.Page) ([]string, error) { return tx.ListAllowedRepositories(groupID, typ, p) }
	}
	for _, limit := range []int{1, 4, 0} {
		got := pageAll(t, s, limit, list(g.ID, "PUBLISH"), func(n *string) string { return *n })
		check(t, fmt.Sprintf("allowed PUBLISH limit %d", limit), got, sorted)
	}
	check(t, "allowed EXTERNAL_UPSTREAM", pageAll(t, s, 0, list(g.ID, "EXTERNAL_UPSTREAM"), func(n *string) string { return *n }), []string{"mid"})
	check(t, "allowed INTERNAL_UPSTREAM", pageAll(t, s, 0, list(g.ID, "INTERNAL_UPSTREAM"), func(n *string) string { return *n }), []string(nil))
	check(t, "allowed of another group", pageAll(t, s, 0, list(h.ID, "PUBLISH"), func(n *string) string { return *n }), []string{"zeta"})
	check(t, "counts", get(t, s, func(tx store.Tx) (map[string]int, error) { return tx.CountAllowedRepositories(g.ID) }),
		map[string]int{"PUBLISH": len(names), "EXTERNAL_UPSTREAM": 1})
	check(t, "counts of an empty group", len(get(t, s, func(tx store.Tx) (map[string]int, error) {
		return tx.CountAllowedRepositories(g.ID + h.ID + 1000)
	})), 0)
	isAllowed := func(groupID int64, typ, repo string) bool {
		t.Helper()
		return get(t, s, func(tx store.Tx) (bool, error) { return tx.IsAllowedRepository(groupID, typ, repos[repo].ID) })
	}
	check(t, "alpha allowed to publish", isAllowed(g.ID, "PUBLISH", "alpha"), true)
	check(t, "alpha allowed external", isAllowed(g.ID, "EXTERNAL_UPSTREAM", "alpha"), false)
	check(t, "alpha allowed in the other group", isAllowed(h.ID, "PUBLISH", "alpha"), false)

	mustWrite(t, s, func(tx store.Tx) error { return tx.RemoveAllowedRepository(g.ID, "PUBLISH", repos["alpha"].ID) })
	mustWrite(t, s, func(tx store.Tx) error { return tx.RemoveAllowedRepository(g.ID, "PUBLISH", repos["alpha"].ID) })
	mustWrite(t, s, func(tx store.Tx) error {
		return tx.RemoveAllowedRepository(g.ID, "INTERNAL_UPSTREAM", repos["zeta"].ID)
	})
	check(t, "alpha removed", isAllowed(g.ID, "PUBLISH", "alpha"), false)
	check(t, "zeta kept", isAllowed(g.ID, "PUBLISH", "zeta"), true)

	wantNotFound(t, "add to a missing group", writeErr(t, s, func(tx store.Tx) error {
		return tx.AddAllowedRepository(g.ID+h.ID+1000, "PUBLISH", repos["alpha"].ID)
	}))
	wantNotFound(t, "add a missing repository", writeErr(t, s, func(tx store.Tx) error {
		return tx.AddAllowedRepository(g.ID, "PUBLISH", repos["zeta"].ID+1000)
	}))

	// Deleting a repository takes it off every list; a new repository of
	// the same name is not on them.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRepository(repos["zeta"].ID) })
	check(t, "after a repository delete", pageAll(t, s, 0, list(h.ID, "PUBLISH"), func(n *string) string { return *n }), []string(nil))
	addRepo(t, s, d.ID, "zeta")
	check(t, "after the name is reused", pageAll(t, s, 2, list(g.ID, "PUBLISH"), func(n *string) string { return *n }),
		[]string{"Beta", "a-b", "a_b", "mid"})

	// Deleting the group deletes its lists.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackageGroup(g.ID) })
	check(t, "lists of a deleted group", pageAll(t, s, 0, list(g.ID, "PUBLISH"), func(n *string) string { return *n }), []string(nil))
	check(t, "counts of a deleted group", len(get(t, s, func(tx store.Tx) (map[string]int, error) { return tx.CountAllowedRepositories(g.ID) })), 0)
}

// testDomainPackages checks ListDomainPackages against a model: coordinates
// held by several repositories come once, other domains never.
func testDomainPackages(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "111122223333", "other")
	r1 := addRepo(t, s, d.ID, "one")
	r2 := addRepo(t, s, d.ID, "two")
	r3 := addRepo(t, s, e.ID, "three")
	type coord = store.PackageCoordinate
	mk := func(format, ns, name string) coord { return coord{Format: format, Namespace: ns, Name: name} }
	seen := map[coord]bool{}
	var all []coord
	i := 0
	for _, format := range []string{"npm", "pypi", "maven"} {
		for _, ns := range []string{"", "space", "sp", "space_x", "s%"} {
			if format == "pypi" && ns != "" {
				continue
			}
			for _, name := range []string{"react", "re", "re_x", "ui", "Ui", "é"} {
				i++
				c := mk(format, ns, name)
				for j, r := range []*store.Repository{r1, r2} {
					if (i+j)%3 == 0 {
						continue // not every repository holds every package
					}
					addPackage(t, s, r.ID, format, ns, name)
					if !seen[c] {
						seen[c] = true
						all = append(all, c)
					}
				}
			}
		}
	}
	addPackage(t, s, r3.ID, "npm", "", "only-elsewhere")
	compare := func(a, b coord) int {
		return cmp.Or(cmp.Compare(a.Format, b.Format), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	}
	slices.SortFunc(all, compare)

	type filter = store.DomainPackageFilter
	var filters []filter
	for _, format := range []string{"", "npm", "pypi", "cargo"} {
		for _, ns := range []string{"", "sp", "space", "s%"} {
			for _, exactNS := range []bool{false, true} {
				for _, name := range []string{"", "re", "re_", "ui"} {
					for _, exactName := range []bool{false, true} {
						filters = append(filters, filter{DomainID: d.ID, Format: format, Namespace: ns, ExactNamespace: exactNS, Name: name, ExactName: exactName})
					}
				}
			}
		}
	}
	filters = append(filters, filter{DomainID: d.ID + e.ID + 1000})
	matches := func(f filter, c coord) bool {
		nsOK := strings.HasPrefix(c.Namespace, f.Namespace)
		if f.ExactNamespace {
			nsOK = c.Namespace == f.Namespace
		}
		nameOK := strings.HasPrefix(c.Name, f.Name)
		if f.ExactName {
			nameOK = c.Name == f.Name
		}
		return f.DomainID == d.ID && (f.Format == "" || c.Format == f.Format) && nsOK && nameOK
	}
	for _, f := range filters {
		var want []coord
		for _, c := range all {
			if matches(f, c) {
				want = append(want, c)
			}
		}
		list := func(tx store.Tx, p store.Page) ([]coord, error) { return tx.ListDomainPackages(f, p) }
		for _, limit := range []int{3, 0} {
			got := pageAll(t, s, limit, list, func(c *coord) string { return store.PackageCoordinateKey(c) })
			check(t, fmt.Sprintf("domain packages %+v limit %d", f, limit), got, want)
		}
	}
	// A page may start after a key that names no package.
	start := mk("npm", "s", "zzz")
	got := get(t, s, func(tx store.Tx) ([]coord, error) {
		return tx.ListDomainPackages(filter{DomainID: d.ID, Format: "npm"}, store.Page{
			After: store.PackageCoordinateKey(&start), Limit: 2})
	})
	var want []coord
	for _, c := range all {
		if c.Format == "npm" && compare(c, start) > 0 && len(want) < 2 {
			want = append(want, c)
		}
	}
	check(t, "domain packages after a missing key", got, want)
}
