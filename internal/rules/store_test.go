package rules_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

func TestStoreAndLoader(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	put := func(r rules.Rule) rules.Rule {
		t.Helper()
		if err := rules.Validate(&r); err != nil {
			t.Fatal(err)
		}
		if err := st.Write(ctx, func(tx store.Tx) error { return rules.Put(tx, &r) }); err != nil {
			t.Fatal(err)
		}
		return r
	}
	acme := rules.Scope{DomainOwner: "111122223333", Domain: "acme"}
	other := rules.Scope{DomainOwner: "111122223333", Domain: "acme-two"}
	cool := put(rules.Rule{Scope: acme, Kind: rules.KindCooldown, Cooldown: "1h"})
	put(rules.Rule{Scope: other, Kind: rules.KindBlock, Package: "/npm//x$", Reason: "r"})

	loader := rules.NewLoader(st, rules.Options{})
	set1, err := loader.Current(ctx)
	if err != nil || set1.Len() != 2 {
		t.Fatalf("Current: %v, %d domains", err, set1.Len())
	}
	if set2, _ := loader.Current(ctx); set2 != set1 {
		t.Error("the set was compiled again without a write")
	}
	var list []rules.Rule
	_ = st.Read(ctx, func(tx store.Tx) (err error) { list, err = rules.List(tx, "111122223333", "acme"); return err })
	if len(list) != 1 || list[0].ID != cool.ID {
		t.Errorf("List of acme (not acme-two): %+v", list)
	}

	err = st.Write(ctx, func(tx store.Tx) error { return rules.Delete(tx, "111122223333", "acme", cool.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if set3, _ := loader.Current(ctx); set3 == set1 || set3.Len() != 1 {
		t.Errorf("after a delete: %d domains", set3.Len())
	}
	err = st.Read(ctx, func(tx store.Tx) error { _, err := rules.Get(tx, "111122223333", "acme", cool.ID); return err })
	if !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Get of a deleted rule: %v", err)
	}
}
