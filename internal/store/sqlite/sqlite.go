// Package sqlite is the SQLite driver of the metadata store, built on the pure
// Go modernc.org/sqlite so that the binary stays static.
//
// The database runs in WAL mode with one writer connection, which serialises
// writes, and a pool of query-only reader connections, so reads run
// concurrently with each other and with the write. synchronous=NORMAL is
// enough in WAL mode: a commit survives a crash of the process; only a power
// loss or OS crash may roll back the last few commits, never corrupt the file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"coffer/internal/fault"
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
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database at path, a file name, and
// brings its schema up to date. It refuses a database whose schema is newer
// than this binary knows (ErrSchemaTooNew).
func Open(path string) (*Store, error) {
	writer, err := openDB(path, 1, "_txlock=immediate", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	if err := migrate(writer); err != nil {
		writer.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	// Each connection keeps its own page cache (2 MiB by default), a
	// private copy of what the operating system caches anyway; a small one
	// per reader keeps a scan of thousands of versions from growing the
	// process by the pool's size times that.
	readers, err := openDB(path, n, "_pragma=query_only(1)", "_pragma=cache_size(-512)")
	if err != nil {
		writer.Close()
		return nil, err
	}
	return &Store{writer: newPool(writer, 1), readers: newPool(readers, n)}, nil
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
	s.closeOnce.Do(func() { s.closeErr = errors.Join(s.readers.close(), s.writer.close()) })
	return s.closeErr
}

// tx implements store.Tx on one connection inside BEGIN ... COMMIT. Its
// methods are spread over the files named after the records they store.
type tx struct {
	ctx context.Context
	c   *conn
}

var _ store.Tx = (*tx)(nil)

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.c.prepare(t.ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.c.prepare(t.ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	st, err := t.c.prepare(t.ctx, query)
	if err != nil {
		// Run it unprepared: the *sql.Row then carries the same error.
		return t.c.c.QueryRowContext(t.ctx, query, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// execOne runs a statement that must change exactly one row, and reports
// notFound when it changed none.
func (t *tx) execOne(notFound func() error, query string, args ...any) error {
	res, err := t.exec(query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound()
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// listRows runs query and scans each row with scan.
func listRows[T any](t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var e *sqlitedrv.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	var e *sqlitedrv.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// getErr maps sql.ErrNoRows to a fault.NotFound made by notFound, and wraps
// any other error with what was being done.
func getErr(err error, what string, notFound func() error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound()
	}
	return wrap(err, what)
}

// wrap prefixes err with the operation, keeping fault errors as they are.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var f *fault.Error
	if errors.As(err, &f) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// nanos converts a time to its stored form.
func nanos(t time.Time) int64 { return store.TimeNanos(t) }

// fromNanos converts a stored time back, in UTC; 0 is the zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// prefixEnd returns the smallest string greater than every string that starts
// with prefix, so that `col >= prefix AND col < end` is an index range; ok is
// false when there is none (prefix is empty or all 0xff bytes).
func prefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// where accumulates the conditions and arguments of a dynamic query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// prefix constrains col to values starting with p (no-op for "").
func (w *where) prefix(col, p string) {
	if p == "" {
		return
	}
	w.add(col+" >= ?", p)
	if end, ok := prefixEnd(p); ok {
		w.add(col+" < ?", end)
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit is the LIMIT of a page; a zero or negative Limit means no limit.
func limit(p store.Page) int {
	if p.Limit <= 0 {
		return -1
	}
	return p.Limit
}
