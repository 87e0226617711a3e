// Package sqlite is the SQLite driver of the metadata store, built on the pure
// Go modernc.org/sqlite so that the binary stays static.
//
// The database runs in WAL mode with one writer connection, which serialises
// writes, and a pool of query-only reader connections, so reads run
// concurrently with each other and with the write. synchronous=NORMAL is
// enough in WAL mode: a commit survives a crash of the process; only a power
// loss or OS crash may roll back the last few commits, never corrupt the file.
//
// The statements on the records are those of store/sqlstore, which both
// drivers share; this package holds the connections, the transactions, the
// schema, and the dialect (dialect.go): how SQLite differs where one
// statement cannot serve both databases.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"coffer/internal/store"
)

// busyTimeout bounds how long a connection waits for a lock held by another
// process (or by a checkpoint) before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is a store.Store backed by one SQLite database file.
type Store struct {
	writer    *pool // one connection: taking it is the write lock
	readers   *pool // query-only connections
	closeOnce sync.Once
	closeErr  error
	gen       atomic.Uint64 // write transactions ended
	readOnly  bool          // OpenReadOnly: no writer
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database at path, a file name, and
// brings its schema up to date. It refuses a database whose schema is newer
// than this binary knows (ErrSchemaTooNew).
func Open(path string) (*Store, error) {
	// Each connection keeps its own page cache (2 MiB by default), a
	// private copy of what the operating system caches anyway: 512 KiB
	// each, for the writer as for the readers (below).
	writer, err := openDB(path, 1, "_txlock=immediate", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)", "_pragma=cache_size(-512)")
	if err != nil {
		return nil, err
	}
	if err := migrate(writer); err != nil {
		writer.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	// A small page cache per reader keeps a scan of thousands of versions
	// from growing the process by the pool's size times 2 MiB.
	readers, err := openDB(path, n, "_pragma=query_only(1)", "_pragma=cache_size(-512)")
	if err != nil {
		writer.Close()
		return nil, err
	}
	return &Store{writer: newPool(writer, 1), readers: newPool(readers, n)}, nil
}

// ErrReadOnly is the error of Write on a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("sqlite: the store is open read-only")

// OpenReadOnly opens the existing database at path for reading only: its
// schema is not migrated and every connection is query-only, so it may be
// read beside the coffer that serves it (coffer backup, coffer fsck). The
// schema must be the one this binary knows: an older one is refused (serve
// it once with this binary first), a newer one is ErrSchemaTooNew. Write
// fails with ErrReadOnly.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err) // opening would create it
	}
	n := max(4, runtime.GOMAXPROCS(0))
	readers, err := openDB(path, n, "_pragma=query_only(1)", "_pragma=cache_size(-512)")
	if err != nil {
		return nil, err
	}
	steps, err := loadMigrations()
	if err != nil {
		readers.Close()
		return nil, err
	}
	var version int
	if err := readers.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		readers.Close()
		return nil, fmt.Errorf("sqlite: %s: read schema version: %w", path, err)
	}
	switch {
	case version > len(steps):
		readers.Close()
		return nil, fmt.Errorf("%w: version %d, this binary knows up to %d", ErrSchemaTooNew, version, len(steps))
	case version < len(steps):
		readers.Close()
		return nil, fmt.Errorf("sqlite: %s has schema version %d, this binary reads version %d: serve it once with this binary, or use the binary that serves it", path, version, len(steps))
	}
	return &Store{readers: newPool(readers, n), readOnly: true}, nil
}

// openDB opens a pool of at most conns connections to path, each configured
// with the common pragmas and the given extra DSN parameters.
func openDB(path string, conns int, params ...string) (*sql.DB, error) {
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String() + "?" +
		fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	for _, p := range params {
		dsn += "&" + p
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	// Fail now, not at the first transaction, if the file cannot be opened.
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// Read runs fn in a read transaction on a reader connection. The snapshot is
// taken at the first statement and holds until fn returns.
func (s *Store) Read(ctx context.Context, fn func(store.Tx) error) error {
	return run(ctx, s.readers, "BEGIN", fn, false)
}

// Write runs fn in a write transaction on the writer connection, committing
// when fn returns nil. Write must not be called from inside fn: there is one
// writer connection and the nested call would wait for it forever.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	// IMMEDIATE takes the write lock at once: should another process write
	// the file, BEGIN waits for it rather than a later statement failing.
	defer s.gen.Add(1) // after the commit, whatever its outcome
	return run(ctx, s.writer, "BEGIN IMMEDIATE", fn, true)
}

// Generation implements store.Store.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// Close waits for the transactions in progress, then closes every
// connection. Transactions started afterwards fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.readOnly {
			s.closeErr = s.readers.close()
			return
		}
		s.closeErr = errors.Join(s.readers.close(), s.writer.close())
	})
	return s.closeErr
}
