package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"coffer/internal/store"
)

func testRepositories(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "444455556666", "other")
	r := &store.Repository{DomainID: d.ID, Name: "main", Description: "the main one",
		AdministratorAccount: "111122223333", CreatedTime: at(1),
		Upstreams: []string{"zeta", "alpha", "mid"}, // priority order, not sorted
		ExternalConnections: []store.ExternalConnection{
			{Name: "public:npmjs", Format: "npm"}, {Name: "public:pypi", Format: "pypi"}},
		PolicyDocument: `{"Version":"2012-10-17"}`, PolicyRevision: "rev-1"}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateRepository(r) })
	if r.ID == 0 {
		t.Fatal("CreateRepository did not set the ID")
	}
	got := get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepository(d.ID, "main") })
	check(t, "GetRepository", normRepo(*got), *r)
	got = get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepositoryByID(r.ID) })
	check(t, "GetRepositoryByID", normRepo(*got), *r)

	dup := &store.Repository{DomainID: d.ID, Name: "main"}
	wantConflict(t, "duplicate repository", writeErr(t, s, func(tx store.Tx) error { return tx.CreateRepository(dup) }))
	// Names are case-sensitive, and scoped to their domain.
	addRepo(t, s, d.ID, "Main")
	elsewhere := addRepo(t, s, e.ID, "main")
	got = get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepository(e.ID, "main") })
	check(t, "repository of another domain", got.ID, elsewhere.ID)
	wantNotFound(t, "missing repository", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetRepository(d.ID, "MAIN")) }))
	wantNotFound(t, "missing repository ID", readErr(t, s, func(tx store.Tx) error {
		return discard(tx.GetRepositoryByID(r.ID + elsewhere.ID + 1000))
	}))

	// Update replaces description, upstreams, connections and policy.
	r.Description = "changed"
	r.Upstreams = []string{"mid", "zeta"}
	r.ExternalConnections = []store.ExternalConnection{{Name: "public:maven-central", Format: "maven"}}
	r.PolicyDocument, r.PolicyRevision = `{"Statement":[]}`, "rev-2"
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateRepository(r) })
	got = get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepositoryByID(r.ID) })
	check(t, "updated repository", normRepo(*got), *r)
	r.Description, r.Upstreams, r.ExternalConnections, r.PolicyDocument, r.PolicyRevision = "", nil, nil, "", ""
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateRepository(r) })
	got = get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepositoryByID(r.ID) })
	check(t, "cleared repository", normRepo(*got), *r)
	missing := *r
	missing.ID = r.ID + elsewhere.ID + 1000
	wantNotFound(t, "update missing repository", writeErr(t, s, func(tx store.Tx) error { return tx.UpdateRepository(&missing) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRepository(r.ID) })
	wantNotFound(t, "deleted repository", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetRepositoryByID(r.ID)) }))
	wantNotFound(t, "delete missing repository", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteRepository(r.ID) }))
	got = get(t, s, func(tx store.Tx) (*store.Repository, error) { return tx.GetRepository(d.ID, "Main") })
	check(t, "sibling survives", got.Name, "Main")
	addRepo(t, s, d.ID, "main") // the name is free again
}

func testRepositoryList(t *testing.T, s store.Store) {
	d1 := addDomain(t, s, "111111111111", "d1")
	d2 := addDomain(t, s, "222222222222", "d2")
	d3 := addDomain(t, s, "111111111111", "d3")
	owner := map[int64]string{d1.ID: d1.Owner, d2.ID: d2.Owner, d3.ID: d3.Owner}
	names := map[int64][]string{
		d1.ID: {"alpha", "beta", "gamma", "Alpha", "a_b", "a%c", "a`", "ab", "b"},
		d2.ID: {"alpha", "beta2", "delta", "a_b"},
		d3.ID: {"alpha", "zeta"},
	}
	var all []store.Repository
	i := 0
	for _, dom := range []int64{d1.ID, d2.ID, d3.ID} {
		for _, n := range names[dom] {
			r := &store.Repository{DomainID: dom, Name: n, AdministratorAccount: fmt.Sprintf("%012d", i%3),
				CreatedTime: at(i), Upstreams: []string{"u" + n}}
			mustWrite(t, s, func(tx store.Tx) error { return tx.CreateRepository(r) })
			all = append(all, *r)
			i++
		}
	}
	slices.SortFunc(all, func(x, y store.Repository) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) })

	filters := []store.RepositoryFilter{
		{},
		{DomainID: d1.ID},
		{DomainID: d2.ID, NamePrefix: "b"},
		{DomainOwner: d1.Owner},
		{DomainOwner: d2.Owner, AdministratorAccount: "000000000000"},
		{NamePrefix: "a"},
		{NamePrefix: "a_"},
		{NamePrefix: "a%"},
		{NamePrefix: "alpha"},
		{NamePrefix: "nothing"},
		{AdministratorAccount: "000000000001"},
		{DomainID: d3.ID, DomainOwner: d3.Owner, NamePrefix: "z", AdministratorAccount: "000000000000"},
	}
	for _, f := range filters {
		var want []store.Repository
		for _, r := range all {
			if (f.DomainID == 0 || r.DomainID == f.DomainID) &&
				(f.DomainOwner == "" || owner[r.DomainID] == f.DomainOwner) &&
				strings.HasPrefix(r.Name, f.NamePrefix) &&
				(f.AdministratorAccount == "" || r.AdministratorAccount == f.AdministratorAccount) {
				want = append(want, r)
			}
		}
		list := func(tx store.Tx, p store.Page) ([]store.Repository, error) { return tx.ListRepositories(f, p) }
		for _, limit := range []int{1, 2, 5, 0} {
			got := pageAll(t, s, limit, list, func(r *store.Repository) string { return store.RepositoryKey(r) })
			check(t, fmt.Sprintf("repositories %+v limit %d", f, limit), normAll(got, normRepo), want)
		}
	}
}

func testDownstreams(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "111122223333", "other")
	a := addRepo(t, s, d.ID, "a", "b", "c")
	dd := addRepo(t, s, d.ID, "d", "c")
	addRepo(t, s, d.ID, "e")
	addRepo(t, s, e.ID, "f", "c") // another domain
	names := func(rs []store.Repository) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		slices.Sort(out)
		return out
	}
	downstreams := func(name string) []store.Repository {
		t.Helper()
		return get(t, s, func(tx store.Tx) ([]store.Repository, error) { return tx.Downstreams(d.ID, name) })
	}
	check(t, "downstreams of c", names(downstreams("c")), []string{"a", "d"})
	check(t, "downstreams of b", names(downstreams("b")), []string{"a"})
	check(t, "downstreams of e", names(downstreams("e")), []string(nil))
	check(t, "downstreams of an unknown name", names(downstreams("zzz")), []string(nil))
	for _, r := range downstreams("b") {
		check(t, "downstream record", normRepo(r), *a)
	}

	a.Upstreams = []string{"b"}
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateRepository(a) })
	check(t, "downstreams of c after an update", names(downstreams("c")), []string{"d"})
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRepository(dd.ID) })
	check(t, "downstreams of c after a delete", names(downstreams("c")), []string(nil))
}
