package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"coffer/internal/fault"
	"coffer/internal/store"
	"coffer/internal/store/storetest"
)

func openTemp(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, filepath.Join(t.TempDir(), "coffer.db"))
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir with spaces?#", "coffer.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &store.Domain{Owner: "111122223333", Name: "acme", Status: "Active"}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.CreateDomain(d) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTemp(t, path)
	err = s.Read(t.Context(), func(tx store.Tx) error {
		got, err := tx.GetDomainByID(d.ID)
		if err == nil && got.Name != "acme" {
			err = fmt.Errorf("got domain %+v", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := schemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if got := userVersion(t, s.writer.db); got != want {
		t.Errorf("user_version %d, want %d", got, want)
	}
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := schemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrationsAreNumbered(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range steps {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d at position %d", m.name, m.version, i+1)
		}
	}
}

func TestConnectionSettings(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "coffer.db"))
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		db          *sql.DB
		name, value string
	}{
		{s.writer.db, "journal_mode", "wal"},
		{s.writer.db, "foreign_keys", "1"},
		{s.writer.db, "synchronous", "1"}, // NORMAL
		{s.writer.db, "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{s.readers.db, "query_only", "1"},
		{s.readers.db, "journal_mode", "wal"},
	} {
		if got := pragma(c.db, c.name); got != c.value {
			t.Errorf("%s = %s, want %s", c.name, got, c.value)
		}
	}
}

// TestUsageCounters runs random asset operations and checks after each that
// the trigger-maintained reference counts and domain usage equal what the
// assets table says.
func TestUsageCounters(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "coffer.db"))
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	var domains []int64
	var versions [][2]int64 // domain id, version id
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range 3 {
			d := &store.Domain{Owner: "111122223333", Name: fmt.Sprint("d", i), Status: "Active"}
			if err := tx.CreateDomain(d); err != nil {
				return err
			}
			domains = append(domains, d.ID)
			r := &store.Repository{DomainID: d.ID, Name: "r"}
			if err := tx.CreateRepository(r); err != nil {
				return err
			}
			for j := range 3 {
				p := &store.Package{RepositoryID: r.ID, Format: "npm", Name: fmt.Sprint("p", j)}
				if err := tx.CreatePackage(p); err != nil {
					return err
				}
				for k := range 3 {
					v := &store.Version{PackageID: p.ID, Version: fmt.Sprint(k)}
					if err := tx.CreateVersion(v); err != nil {
						return err
					}
					versions = append(versions, [2]int64{d.ID, v.ID})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	blob := func(i int) store.Blob {
		return store.Blob{SHA256: fmt.Sprintf("%064x", i), Size: int64(100 * (i + 1))}
	}
	for step := range 300 {
		v := versions[rng.IntN(len(versions))]
		err := s.Write(ctx, func(tx store.Tx) error {
			switch rng.IntN(10) {
			case 0:
				return tx.DeleteAssets(v[1])
			case 1:
				err := tx.DeleteVersion(v[1])
				if errors.Is(err, fault.ErrNotFound) {
					return nil
				}
				return err
			default:
				a := &store.Asset{VersionID: v[1], Name: fmt.Sprint("a", rng.IntN(3)), Blob: blob(rng.IntN(8))}
				err := tx.PutAsset(v[0], a)
				if err != nil && rng.IntN(2) == 0 {
					return nil // asset of a deleted version: commit anyway
				}
				return err
			}
		})
		if err != nil && !isForeignKey(err) {
			t.Fatalf("step %d: %v", step, err)
		}
		checkCounters(t, s.writer.db)
	}
	for _, d := range domains {
		err := s.Read(ctx, func(tx store.Tx) error {
			_, bytes, assets, err := tx.DomainUsage(d)
			t.Logf("domain %d: %d bytes in %d blobs", d, bytes, assets)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkCounters compares blobs.refs and domain_usage with a recount.
func checkCounters(t *testing.T, db *sql.DB) {
	t.Helper()
	var bad int
	err := db.QueryRow(`SELECT count(*) FROM blobs b
		WHERE refs <> (SELECT count(*) FROM assets a WHERE a.domain_id = b.domain_id AND a.sha256 = b.sha256)`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d blobs with a wrong reference count", bad)
	}
	err = db.QueryRow(`SELECT count(*) FROM assets a
		WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.domain_id = a.domain_id AND b.sha256 = a.sha256)`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d assets without a blob row", bad)
	}
	err = db.QueryRow(`SELECT count(*) FROM domain_usage u WHERE (u.blobs, u.bytes) IS NOT
		(SELECT count(*), coalesce(sum(size), 0) FROM blobs b WHERE b.domain_id = u.domain_id AND b.refs > 0)`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d domains with wrong usage", bad)
	}
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func isForeignKey(err error) bool {
	var e *sqlitedrv.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
