package storetest

import (
	"errors"
	"testing"
	"time"

	"coffer/internal/store"
)

func testEvents(t *testing.T, s store.Store) {
	check(t, "no event", get(t, s, func(tx store.Tx) (int64, error) { return tx.LastEventSeq() }), int64(0))
	t0 := time.Unix(1_700_000_000, 0)
	var seqs []int64
	mustWrite(t, s, func(tx store.Tx) error {
		for i, v := range []string{"1.0.0", "1.0.1", "2.0.0"} {
			e := &store.Event{DomainID: 7, Time: t0.Add(time.Duration(i) * time.Hour), Format: "npm", Namespace: "scope", Name: "pkg",
				Version: v, Body: `{"v":"` + v + `"}`}
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
			seqs = append(seqs, e.Seq)
		}
		return nil
	})
	if !(seqs[0] > 0 && seqs[0] < seqs[1] && seqs[1] < seqs[2]) {
		t.Fatalf("event seqs %v do not grow", seqs)
	}
	// An event of a rolled-back transaction is not kept.
	errRollback := errors.New("rollback")
	if err := s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.AppendEvent(&store.Event{DomainID: 7, Time: t0, Format: "npm", Name: "gone", Version: "1", Body: "{}"}); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("rolled back write: %v", err)
	}
	got := get(t, s, func(tx store.Tx) ([]store.Event, error) { return tx.ListEvents(seqs[0], 10) })
	if len(got) != 2 || got[0].Seq != seqs[1] || got[1].Seq != seqs[2] || got[1].Version != "2.0.0" || got[1].Body != `{"v":"2.0.0"}` ||
		got[1].Namespace != "scope" || got[1].DomainID != 7 || !got[1].Time.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("ListEvents after %d: %+v", seqs[0], got)
	}
	check(t, "ListEvents limit", len(get(t, s, func(tx store.Tx) ([]store.Event, error) { return tx.ListEvents(0, 1) })), 1)
	check(t, "LastEventSeq", get(t, s, func(tx store.Tx) (int64, error) { return tx.LastEventSeq() }), seqs[2])
	// Deleting by seq and by age.
	deleted := func(upTo int64, before time.Time) (n int64) {
		mustWrite(t, s, func(tx store.Tx) (err error) { n, err = tx.DeleteEvents(upTo, before); return err })
		return n
	}
	check(t, "DeleteEvents by seq", deleted(seqs[0], time.Time{}), int64(1))
	check(t, "DeleteEvents by age", deleted(0, t0.Add(90*time.Minute)), int64(1))
	got = get(t, s, func(tx store.Tx) ([]store.Event, error) { return tx.ListEvents(0, 10) })
	if len(got) != 1 || got[0].Seq != seqs[2] {
		t.Fatalf("after deletes: %+v", got)
	}
	// Seqs are never reused, even once every event is gone.
	check(t, "DeleteEvents of the last", deleted(seqs[2], time.Time{}), int64(1))
	var next int64
	mustWrite(t, s, func(tx store.Tx) error {
		e := &store.Event{DomainID: 7, Time: t0, Format: "npm", Name: "pkg", Version: "3", Body: "{}"}
		err := tx.AppendEvent(e)
		next = e.Seq
		return err
	})
	if next <= seqs[2] {
		t.Fatalf("seq %d after %d: reused", next, seqs[2])
	}
}
