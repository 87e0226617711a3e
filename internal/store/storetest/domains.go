package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"coffer/internal/store"
)

func testSettings(t *testing.T, s store.Store) {
	wantNotFound(t, "missing setting", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetSetting("account-id")) }))
	mustWrite(t, s, func(tx store.Tx) error {
		if err := tx.PutSetting("account-id", "111122223333"); err != nil {
			return err
		}
		if err := tx.PutSetting("sealed", "\xff\x00\xfe sealed bytes"); err != nil { // any bytes, not only UTF-8
			return err
		}
		return tx.PutSetting("empty", "")
	})
	check(t, "binary setting", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("sealed") }), "\xff\x00\xfe sealed bytes")
	check(t, "setting", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("account-id") }), "111122223333")
	check(t, "empty setting", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("empty") }), "")
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutSetting("account-id", "444455556666") })
	check(t, "overwritten setting", get(t, s, func(tx store.Tx) (string, error) { return tx.GetSetting("account-id") }), "444455556666")
	check(t, "ListSettings", get(t, s, func(tx store.Tx) ([]store.Setting, error) { return tx.ListSettings() }),
		[]store.Setting{{Key: "account-id", Value: "444455556666"}, {Key: "empty", Value: ""}, {Key: "sealed", Value: "\xff\x00\xfe sealed bytes"}})
	mustWrite(t, s, func(tx store.Tx) error {
		for _, k := range []string{"rules/a/1", "rules/a/2", "rules/b/1", "rules0", "rulez"} {
			if err := tx.PutSetting(k, k); err != nil {
				return err
			}
		}
		return nil
	})
	check(t, "ListSettingsPrefix", get(t, s, func(tx store.Tx) ([]store.Setting, error) { return tx.ListSettingsPrefix("rules/a/") }),
		[]store.Setting{{Key: "rules/a/1", Value: "rules/a/1"}, {Key: "rules/a/2", Value: "rules/a/2"}})
	check(t, "ListSettingsPrefix of '%' and '_'", get(t, s, func(tx store.Tx) ([]store.Setting, error) { return tx.ListSettingsPrefix("rules_") }),
		[]store.Setting(nil))
	mustWrite(t, s, func(tx store.Tx) error {
		for _, k := range []string{"rules/a/1", "rules/a/2", "rules/b/1", "rules0", "rulez"} {
			if err := tx.DeleteSetting(k); err != nil {
				return err
			}
		}
		return nil
	})
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteSetting("empty") })
	wantNotFound(t, "deleted setting", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetSetting("empty")) }))
	wantNotFound(t, "delete a missing setting", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteSetting("empty") }))
	check(t, "ListSettings after delete", get(t, s, func(tx store.Tx) ([]store.Setting, error) { return tx.ListSettings() }),
		[]store.Setting{{Key: "account-id", Value: "444455556666"}, {Key: "sealed", Value: "\xff\x00\xfe sealed bytes"}})
}

func testDomains(t *testing.T, s store.Store) {
	d := &store.Domain{Owner: "111122223333", Name: "acme", Status: "Active",
		EncryptionKey: "arn:aws:kms:us-east-1:111122223333:key/1", CreatedTime: at(0),
		PolicyDocument: `{"Version":"2012-10-17"}`, PolicyRevision: "rev-1"}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateDomain(d) })
	if d.ID == 0 {
		t.Fatal("CreateDomain did not set the ID")
	}
	byKey := get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomain("111122223333", "acme") })
	check(t, "GetDomain", normDomain(*byKey), *d)
	byID := get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomainByID(d.ID) })
	check(t, "GetDomainByID", normDomain(*byID), *d)

	// Times come back as the same instant, in UTC.
	zoned := &store.Domain{Owner: "111122223333", Name: "zoned", Status: "Active",
		CreatedTime: time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 5*3600))}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateDomain(zoned) })
	got := get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomainByID(zoned.ID) })
	if !got.CreatedTime.Equal(zoned.CreatedTime) || got.CreatedTime.Location() != time.UTC {
		t.Errorf("created time %v, want %v in UTC", got.CreatedTime, zoned.CreatedTime)
	}

	// The key is (owner, name).
	dup := &store.Domain{Owner: "111122223333", Name: "acme", Status: "Active"}
	wantConflict(t, "duplicate domain", writeErr(t, s, func(tx store.Tx) error { return tx.CreateDomain(dup) }))
	other := addDomain(t, s, "444455556666", "acme")
	if other.ID == d.ID {
		t.Error("two domains share an ID")
	}
	wantNotFound(t, "domain of another owner", readErr(t, s, func(tx store.Tx) error {
		return discard(tx.GetDomain("999999999999", "acme"))
	}))
	wantNotFound(t, "missing domain", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetDomain("111122223333", "nope")) }))
	wantNotFound(t, "missing domain ID", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetDomainByID(d.ID + 1000)) }))

	// Update changes status, key and policy.
	d.Status = "Deleted"
	d.EncryptionKey = "arn:aws:kms:us-east-1:111122223333:key/2"
	d.PolicyDocument = `{"Version":"2012-10-17","Statement":[]}`
	d.PolicyRevision = "rev-2"
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateDomain(d) })
	byID = get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomainByID(d.ID) })
	check(t, "updated domain", normDomain(*byID), *d)
	d.PolicyDocument, d.PolicyRevision = "", ""
	mustWrite(t, s, func(tx store.Tx) error { return tx.UpdateDomain(d) })
	byID = get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomainByID(d.ID) })
	check(t, "domain with policy removed", normDomain(*byID), *d)
	missing := *d
	missing.ID += 1000
	wantNotFound(t, "update missing domain", writeErr(t, s, func(tx store.Tx) error { return tx.UpdateDomain(&missing) }))

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteDomain(d.ID) })
	wantNotFound(t, "deleted domain", readErr(t, s, func(tx store.Tx) error { return discard(tx.GetDomainByID(d.ID)) }))
	wantNotFound(t, "delete missing domain", writeErr(t, s, func(tx store.Tx) error { return tx.DeleteDomain(d.ID) }))
	// The other owner's domain of the same name stays.
	get(t, s, func(tx store.Tx) (*store.Domain, error) { return tx.GetDomain("444455556666", "acme") })
	// The name is free again.
	addDomain(t, s, "111122223333", "acme")
}

func testDomainList(t *testing.T, s store.Store) {
	keys := [][2]string{ // name, owner
		{"b", "111111111111"}, {"a", "222222222222"}, {"a", "111111111111"}, {"c", "111111111111"},
		{"a-b", "111111111111"}, {"ab", "111111111111"}, {"B", "111111111111"}, {"é", "111111111111"},
	}
	var want []store.Domain
	for _, k := range keys {
		want = append(want, *addDomain(t, s, k[1], k[0]))
	}
	slices.SortFunc(want, func(x, y store.Domain) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Owner, y.Owner)) })
	list := func(tx store.Tx, p store.Page) ([]store.Domain, error) { return tx.ListDomains(p) }
	for _, limit := range []int{1, 2, 3, len(want), 100, 0} {
		got := pageAll(t, s, limit, list, func(d *store.Domain) string { return store.DomainKey(d) })
		check(t, "domains", normAll(got, normDomain), want)
	}
	// A key that names no domain still places the page.
	got := get(t, s, func(tx store.Tx) ([]store.Domain, error) {
		return tx.ListDomains(store.Page{After: store.DomainKey(&store.Domain{Name: "a", Owner: "150000000000"}), Limit: 2})
	})
	check(t, "domains after an absent key", normAll(got, normDomain), want[2:4])
}

func testDomainUsage(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	e := addDomain(t, s, "111122223333", "other")
	r1 := addRepo(t, s, d.ID, "one")
	r2 := addRepo(t, s, d.ID, "two")
	p := addPackage(t, s, r1.ID, "npm", "", "p")
	q := addPackage(t, s, r2.ID, "npm", "", "q")
	v1 := addVersion(t, s, p.ID, "1.0.0")
	v2 := addVersion(t, s, p.ID, "2.0.0")
	w1 := addVersion(t, s, q.ID, "1.0.0")
	blobA, blobB, blobC := makeBlob(contentOf("a", 10)), makeBlob(contentOf("b", 20)), makeBlob(contentOf("c", 40))

	type usage struct {
		repos  int
		bytes  int64
		assets int64
	}
	usageOf := func(id int64) usage {
		t.Helper()
		return get(t, s, func(tx store.Tx) (usage, error) {
			r, b, a, err := tx.DomainUsage(id)
			return usage{r, b, a}, err
		})
	}
	check(t, "empty domain", usageOf(d.ID), usage{2, 0, 0})

	putAsset(t, s, d.ID, v1.ID, "a", blobA)
	putAsset(t, s, d.ID, v1.ID, "b", blobB)
	putAsset(t, s, d.ID, v2.ID, "a", blobA) // same blob: counted once
	putAsset(t, s, d.ID, w1.ID, "c", blobC)
	putAsset(t, s, d.ID, w1.ID, "d", blobA) // same blob in another repository
	check(t, "usage", usageOf(d.ID), usage{2, 70, 3})

	// Another domain counts its own references to the same blob.
	r3 := addRepo(t, s, e.ID, "three")
	x := addVersion(t, s, addPackage(t, s, r3.ID, "npm", "", "x").ID, "1")
	putAsset(t, s, e.ID, x.ID, "a", blobA)
	check(t, "other domain", usageOf(e.ID), usage{1, 10, 1})
	check(t, "usage after the other domain", usageOf(d.ID), usage{2, 70, 3})

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteVersion(v1.ID) })
	check(t, "after deleting a version", usageOf(d.ID), usage{2, 50, 2}) // b gone, a still referenced

	putAsset(t, s, d.ID, w1.ID, "c", blobB) // replaced: c's blob goes, b comes back
	check(t, "after replacing an asset", usageOf(d.ID), usage{2, 30, 2})
	putAsset(t, s, d.ID, w1.ID, "c", blobB) // replaced by the same blob
	check(t, "after replacing an asset by itself", usageOf(d.ID), usage{2, 30, 2})

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackage(p.ID) })
	check(t, "after deleting a package", usageOf(d.ID), usage{2, 30, 2}) // a still referenced by w1

	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteAssets(w1.ID) })
	check(t, "after deleting assets", usageOf(d.ID), usage{2, 0, 0})

	putAsset(t, s, d.ID, w1.ID, "c", blobC)
	check(t, "after adding again", usageOf(d.ID), usage{2, 40, 1})
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteRepository(r2.ID) })
	check(t, "after deleting a repository", usageOf(d.ID), usage{1, 0, 0})
	check(t, "other domain at the end", usageOf(e.ID), usage{1, 10, 1})

	wantNotFound(t, "usage of a missing domain", readErr(t, s, func(tx store.Tx) error {
		_, _, _, err := tx.DomainUsage(d.ID + e.ID + 1000)
		return err
	}))
}
