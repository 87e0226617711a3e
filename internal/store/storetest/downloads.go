package storetest

import (
	"testing"
	"time"

	"coffer/internal/store"
)

func testDownloads(t *testing.T, s store.Store) {
	d := addDomain(t, s, "111122223333", "acme")
	p := addPackage(t, s, addRepo(t, s, d.ID, "main").ID, "npm", "", "p")
	v := addVersion(t, s, p.ID, "1.0.0")
	w := addVersion(t, s, p.ID, "2.0.0")
	last := func(ids ...int64) map[int64]time.Time {
		t.Helper()
		return get(t, s, func(tx store.Tx) (map[int64]time.Time, error) { return tx.LastDownloads(ids) })
	}
	record := func(times map[int64]time.Time) {
		t.Helper()
		mustWrite(t, s, func(tx store.Tx) error { return tx.RecordDownloads(times) })
	}
	check(t, "no downloads", len(last(v.ID, w.ID)), 0)
	check(t, "no ids", len(last()), 0)
	t0 := time.Unix(1_700_000_000, 123)
	// A version that does not exist is skipped, the others recorded.
	record(map[int64]time.Time{v.ID: t0, w.ID + 1000: t0})
	got := last(v.ID, w.ID, w.ID+1000)
	if len(got) != 1 || !got[v.ID].Equal(t0) {
		t.Fatalf("LastDownloads after one record: %v", got)
	}
	// Times only move forward.
	record(map[int64]time.Time{v.ID: t0.Add(-time.Hour), w.ID: t0.Add(time.Minute)})
	got = last(v.ID, w.ID)
	if len(got) != 2 || !got[v.ID].Equal(t0) || !got[w.ID].Equal(t0.Add(time.Minute)) {
		t.Fatalf("LastDownloads after an older time: %v", got)
	}
	record(map[int64]time.Time{v.ID: t0.Add(time.Hour)})
	if got := last(v.ID); !got[v.ID].Equal(t0.Add(time.Hour)) {
		t.Fatalf("LastDownloads after a newer time: %v", got)
	}
	// The row goes with its version, and with its package.
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeleteVersion(v.ID) })
	if got := last(v.ID, w.ID); len(got) != 1 || got[w.ID].IsZero() {
		t.Fatalf("LastDownloads after a version's delete: %v", got)
	}
	mustWrite(t, s, func(tx store.Tx) error { return tx.DeletePackage(p.ID) })
	check(t, "downloads after the package's delete", len(last(v.ID, w.ID)), 0)
}
