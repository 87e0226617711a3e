package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	if _, err := os.Stat(path); err != nil { // not some other name the URI made of it
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
	if got := userVersion(t, s); got != want {
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
	if _, err := rawExec(t, s, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
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

// TestUpgrade migrates a database from each earlier version to the last,
// keeping its data.
func TestUpgrade(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for from := 1; from < len(steps); from++ {
		path := filepath.Join(t.TempDir(), "coffer.db")
		db, err := openDB(path, 1, "_txlock=immediate", "_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		err = migrateTo(db, steps[:from])
		if err == nil {
			_, err = db.Exec(`INSERT INTO domains (owner, name, status, encryption_key, created_time, policy_document, policy_revision)
				VALUES ('111122223333', 'old', 'Active', '', 0, '', '')`)
		}
		db.Close()
		if err != nil {
			t.Fatalf("from version %d: %v", from, err)
		}
		s := openTemp(t, path)
		if got := userVersion(t, s); got != len(steps) {
			t.Errorf("from version %d: upgraded to %d, want %d", from, got, len(steps))
		}
		err = s.Read(t.Context(), func(tx store.Tx) error { return discardValue(tx.GetDomain("111122223333", "old")) })
		if err != nil {
			t.Errorf("from version %d: %v", from, err)
		}
	}
}

func discardValue[T any](_ T, err error) error { return err }

// TestMigrationsAreNumbered checks that the embedded schema steps load:
// numbered from 1 without gaps (see sqlstore.LoadMigrations).
func TestMigrationsAreNumbered(t *testing.T) {
	if steps, err := loadMigrations(); err != nil || len(steps) == 0 {
		t.Fatalf("%d migrations embedded: %v", len(steps), err)
	}
}

func TestConnectionSettings(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "coffer.db"))
	pragma := func(p *pool, name string) string {
		t.Helper()
		var v string
		onConn(t, p, func(c *sql.Conn) error { return c.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v) })
		return v
	}
	for _, c := range []struct {
		pool        *pool
		name, value string
	}{
		{s.writer, "journal_mode", "wal"},
		{s.writer, "foreign_keys", "1"},
		{s.writer, "synchronous", "1"}, // NORMAL
		{s.writer, "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{s.readers, "query_only", "1"},
		{s.readers, "foreign_keys", "1"},
		{s.readers, "journal_mode", "wal"},
	} {
		if got := pragma(c.pool, c.name); got != c.value {
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
		if err != nil && !errors.Is(err, fault.ErrNotFound) { // an asset of a deleted version
			t.Fatalf("step %d: %v", step, err)
		}
		checkCounters(t, s)
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
func checkCounters(t *testing.T, s *Store) {
	t.Helper()
	onConn(t, s.readers, func(db *sql.Conn) error { checkCountersOn(t, db); return nil })
}

func checkCountersOn(t *testing.T, db *sql.Conn) {
	t.Helper()
	var bad int
	err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM blobs b
		WHERE refs <> (SELECT count(*) FROM assets a WHERE a.domain_id = b.domain_id AND a.sha256 = b.sha256)`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d blobs with a wrong reference count", bad)
	}
	err = db.QueryRowContext(t.Context(), `SELECT count(*) FROM assets a
		WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.domain_id = a.domain_id AND b.sha256 = a.sha256)`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d assets without a blob row", bad)
	}
	err = db.QueryRowContext(t.Context(), `SELECT count(*) FROM domain_usage u WHERE (u.blobs, u.bytes) IS NOT
		(SELECT count(*), coalesce(sum(size), 0) FROM blobs b WHERE b.domain_id = u.domain_id AND b.refs > 0)`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d domains with wrong usage", bad)
	}
}

func userVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	onConn(t, s.readers, func(c *sql.Conn) error { return c.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v) })
	return v
}

func rawExec(t *testing.T, s *Store, query string) (sql.Result, error) {
	t.Helper()
	var res sql.Result
	var err error
	onConn(t, s.writer, func(c *sql.Conn) error {
		res, err = c.ExecContext(t.Context(), query)
		return nil
	})
	return res, err
}

// onConn runs fn on a connection of the pool, outside any transaction.
func onConn(t *testing.T, p *pool, fn func(*sql.Conn) error) {
	t.Helper()
	c, err := p.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer p.put(c)
	if err := fn(c.c); err != nil {
		t.Fatal(err)
	}
}

// TestListPackagesPlans checks that every shape of ListPackages query seeks
// in an index rather than scanning the table, and that the key-order paths
// need no sort: their cost must not grow with the repository.
func TestListPackagesPlans(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "coffer.db"))
	pages := []store.Page{{Limit: 100}, {After: "npm\x00b\x00c", Limit: 100}, {After: "maven\x00b\x00c", Limit: 100}}
	filters := []store.PackageFilter{
		{RepositoryID: 1},
		{RepositoryID: 1, Format: "npm"},
		{RepositoryID: 1, Format: "npm", NamespacePrefix: "a"},
		{RepositoryID: 1, Format: "npm", NamespacePrefix: "c", Publish: "ALLOW", Upstream: "BLOCK"},
		{RepositoryID: 1, NamespacePrefix: "a"},
		{RepositoryID: 1, NamePrefix: "x"},
		{RepositoryID: 1, Publish: "BLOCK"},
		{RepositoryID: 1, Upstream: "BLOCK"},
		{RepositoryID: 1, Format: "npm", Publish: "BLOCK"},
		{RepositoryID: 1, Format: "npm", NamespacePrefix: "a", NamePrefix: "x", Publish: "ALLOW"},
	}
	for _, f := range filters {
		for _, p := range pages {
			query, args, ok := dialect.PackagesQuery(f, p)
			if !ok {
				continue
			}
			var plan []string
			onConn(t, s.readers, func(c *sql.Conn) error {
				rows, err := c.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						return err
					}
					plan = append(plan, detail)
				}
				return rows.Err()
			})
			text := strings.Join(plan, "\n")
			// Where the query has a lower bound to start from, the search
			// must seek to it, not merely filter on it (a namespace prefix
			// without a format can only filter).
			wantSeek := f.NamePrefix == "" && strings.Contains(query, ">") && (f.Format != "" || p.After != "")
			if strings.Contains(text, "SCAN") || !strings.Contains(text, "SEARCH packages USING") ||
				(f.NamePrefix == "" && strings.Contains(text, "TEMP B-TREE")) ||
				(wantSeek && !strings.Contains(text, ">")) ||
				(f.NamePrefix == "" && f.Publish != "" && !strings.Contains(text, "packages_publish")) ||
				(f.NamePrefix == "" && f.Publish == "" && f.Upstream != "" && !strings.Contains(text, "packages_upstream")) {
				t.Errorf("filter %+v, page %q:\n%s\nplan:\n%s", f, p.After, query, text)
			}
		}
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "coffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Read(ctx, func(store.Tx) error { return nil }); err == nil || ctx.Err() != nil {
		t.Errorf("Read on a closed store: %v", err)
	}
	if err := s.Write(ctx, func(store.Tx) error { return nil }); err == nil || ctx.Err() != nil {
		t.Errorf("Write on a closed store: %v", err)
	}
}

// schemaVersion is the version a fully migrated database has.
func schemaVersion() (int, error) {
	steps, err := loadMigrations()
	return len(steps), err
}
