package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"coffer/internal/fault"
	"coffer/internal/store"
	"coffer/internal/store/storetest"
)

// serverDSN returns the DSN of the test server, from COFFER_TEST_POSTGRES.
// Without one the test fails, unless COFFER_TEST_SKIP names postgres: tests
// of an external server are skipped only when asked to.
func serverDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("COFFER_TEST_POSTGRES")
	if dsn == "" {
		if strings.Contains(os.Getenv("COFFER_TEST_SKIP"), "postgres") {
			t.Skip("COFFER_TEST_SKIP has postgres")
		}
		t.Fatal("COFFER_TEST_POSTGRES is not set: run scripts/test.sh, or start a server with " +
			"`scripts/postgres.sh start DIR` and export the line it prints (COFFER_TEST_SKIP=postgres skips these tests)")
	}
	return dsn
}

// freshSchema creates an empty schema on the test server, dropped when the
// test ends, and returns a DSN whose search_path selects it.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := serverDSN(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "coffer_test_" + hex.EncodeToString(b[:])
	admin(t, dsn, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, dsn, "DROP SCHEMA "+schema+" CASCADE") })
	return withParam(t, dsn, "search_path", schema)
}

// admin runs statements on a connection of their own.
func admin(t testing.TB, dsn string, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, sql := range sqls {
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// withParam adds a parameter to a DSN of either form.
func withParam(t testing.TB, dsn, key, value string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}

// openStore opens a store on dsn, closed when the test ends.
func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, freshSchema(t)) })
}

// TestMigrateConcurrently opens one fresh schema from several stores at once,
// as nodes starting together do: one migrates, the others wait and find the
// schema done.
func TestMigrateConcurrently(t *testing.T) {
	dsn := freshSchema(t)
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stores := make([]*Store, 5)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn, Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("store %d: %v", i, errs[i])
			continue
		}
		defer s.Close()
	}
	var applied, version int
	ctx := t.Context()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, "SELECT count(*), max(version) FROM coffer_migrations").Scan(&applied, &version); err != nil {
		t.Fatal(err)
	}
	if applied != len(steps) || version != len(steps) {
		t.Errorf("%d migrations recorded up to version %d, want %d", applied, version, len(steps))
	}
	// Every store works on the one schema.
	for i, s := range stores {
		if s == nil {
			continue
		}
		name := fmt.Sprint("node", i)
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.PutSetting(name, "up") }); err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	dsn := freshSchema(t)
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	admin(t, dsn, fmt.Sprintf("INSERT INTO coffer_migrations (version, name) VALUES (%d, 'from the future')", len(steps)+1))
	s, err = Open(t.Context(), dsn, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "binary is older than the schema") {
		t.Errorf("error %q does not say the binary is older than the schema", err)
	}
}

// TestGenerationAcrossProcesses checks that a write through one store moves
// the generation another store sharing the database reports, which every
// node's caches depend on.
func TestGenerationAcrossProcesses(t *testing.T) {
	dsn := freshSchema(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	ctx := t.Context()
	for i := range 3 {
		before := b.Generation()
		if g := b.Generation(); g != before {
			t.Fatalf("generation moved from %d to %d without a write", before, g)
		}
		if err := a.Write(ctx, func(tx store.Tx) error { return tx.PutSetting("k", fmt.Sprint(i)) }); err != nil {
			t.Fatal(err)
		}
		after := b.Generation()
		if after <= before {
			t.Fatalf("a write on another store left the generation at %d (was %d)", after, before)
		}
		got, err := readSetting(b, "k")
		if err != nil || got != fmt.Sprint(i) {
			t.Fatalf("read on the other store: %q, %v", got, err)
		}
	}
}

func readSetting(s *Store, key string) (v string, err error) {
	err = s.Read(context.Background(), func(tx store.Tx) error {
		v, err = tx.GetSetting(key)
		return err
	})
	return v, err
}

// TestLock checks the shared lock between two stores on one database, as
// between two nodes, and within one store.
func TestLock(t *testing.T) {
	dsn := freshSchema(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	ctx := t.Context()
	unlock, err := a.Lock(ctx, "blob:x")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free.
	other, err := b.Lock(ctx, "blob:y")
	if err != nil {
		t.Fatal(err)
	}
	other()

	for _, s := range []*Store{b, a} {
		got := make(chan error, 1)
		var release func()
		go func() {
			var err error
			release, err = s.Lock(ctx, "blob:x")
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("a second Lock of a held key returned %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		unlock()
		unlock() // a second unlock does nothing
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Lock still waits after unlock")
		}
		unlock = release
	}

	// A waiter gives up when its context ends.
	for _, s := range []*Store{b, a} {
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		begin := time.Now()
		_, err := s.Lock(wctx, "blob:x")
		cancel()
		if err == nil {
			t.Fatal("Lock of a held key succeeded")
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("Lock returned %v after its context ended", d)
		}
	}
	unlock()
	// The cancelled waiters left nothing behind.
	again, err := b.Lock(ctx, "blob:x")
	if err != nil {
		t.Fatal(err)
	}
	again()
	if n := len(a.keys.m) + len(b.keys.m); n != 0 {
		t.Errorf("%d local lock entries left", n)
	}
}

// TestUnavailable cuts the store's connections from the server side: a
// transaction under way fails with fault.ErrUnavailable, and the next one
// succeeds on a new connection.
func TestUnavailable(t *testing.T) {
	const app = "coffer-unavailable-test"
	s := openStore(t, withParam(t, freshSchema(t), "application_name", app))
	ctx := t.Context()
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.PutSetting("k", "v") }); err != nil {
		t.Fatal(err)
	}
	cut := func() {
		admin(t, serverDSN(t), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+app+"'")
	}
	before := s.Generation()
	err := s.Read(ctx, func(tx store.Tx) error {
		cut()
		_, err := tx.GetSetting("k")
		return err
	})
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("read whose connection was cut: %v, want ErrUnavailable", err)
	}
	if g := s.Generation(); g == before {
		t.Errorf("generation %d unchanged after its connection was cut", g)
	}
	for range 2 {
		if v, err := readSetting(s, "k"); err != nil || v != "v" {
			t.Fatalf("read after the connections were cut: %q, %v", v, err)
		}
		cut() // idle connections, this time
	}
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.PutSetting("k", "w") }); err != nil {
		t.Fatalf("write after the connections were cut: %v", err)
	}
}

// TestUnreachable checks that a server that does not answer is
// fault.ErrUnavailable.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable&connect_timeout=5", Options{})
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Open of an unreachable server: %v, want ErrUnavailable", err)
	}
}

// TestGenerationUnreachable checks that a store whose database cannot be
// reached returns a new generation at each call.
func TestGenerationUnreachable(t *testing.T) {
	s := openStore(t, freshSchema(t))
	g0 := s.Generation()
	s.Close()
	g1 := s.Generation()
	g2 := s.Generation()
	if !(g0 < g1 && g1 < g2) {
		t.Errorf("generations %d, %d, %d while unreachable: want each new", g0, g1, g2)
	}
}

// TestCommitAfterFailedStatement checks that a write whose fn ignores a
// failed statement and returns nil is reported as failed, not committed.
func TestCommitAfterFailedStatement(t *testing.T) {
	s := openStore(t, freshSchema(t))
	err := s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.PutSetting("k", "v"); err != nil {
			return err
		}
		_ = tx.CreateRepository(&store.Repository{DomainID: 12345, Name: "orphan"}) // no such domain
		return nil
	})
	if err == nil {
		t.Fatal("Write committed after a failed statement")
	}
	if _, err := readSetting(s, "k"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("setting of the failed write: %v, want not found", err)
	}
}

// TestMigrationsAreNumbered checks that the embedded steps of the schema
// load, which needs no server.
func TestMigrationsAreNumbered(t *testing.T) {
	if steps, err := loadMigrations(); err != nil || len(steps) == 0 {
		t.Fatalf("%d migrations embedded: %v", len(steps), err)
	}
}
