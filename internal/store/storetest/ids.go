package storetest

import (
	"testing"

	"coffer/internal/store"
)

// testIDsNotReused checks that the id of a deleted record is never given to a
// new one, even when it was the largest: the service may hold an id across
// transactions and must not end up acting on another record.
func testIDsNotReused(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "a")
	r := addRepo(t, s, d.ID, "r")
	p := addPackage(t, s, r.ID, "npm", "", "p")
	v := addVersion(t, s, p.ID, "1")

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteVersion(v.ID) })
	if v2 := addVersion(t, s, p.ID, "1"); v2.ID == v.ID {
		t.Errorf("version id %d reused", v.ID)
	}
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackage(p.ID) })
	if p2 := addPackage(t, s, r.ID, "npm", "", "p"); p2.ID == p.ID {
		t.Errorf("package id %d reused", p.ID)
	}
	// A failed create does not use up or move the sequence backwards.
	dup := &store.Package{RepositoryID: r.ID, Format: "npm", Name: "p", Publish: "ALLOW", Upstream: "ALLOW"}
	wantConflict(t, "duplicate package", writeErr(t, s, func(tx store.Tx) error { return tx.CreatePackage(dup) }))
	p3 := addPackage(t, s, r.ID, "npm", "", "q")
	if p3.ID == p.ID {
		t.Errorf("package id %d reused", p.ID)
	}
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRepository(r.ID) })
	if r2 := addRepo(t, s, d.ID, "r"); r2.ID == r.ID {
		t.Errorf("repository id %d reused", r.ID)
	}
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteDomain(d.ID) })
	if d2 := addDomain(t, s, "111122223333", "a"); d2.ID == d.ID {
		t.Errorf("domain id %d reused", d.ID)
	}
}
