package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// tx implements store.Tx on one connection inside BEGIN ... COMMIT. Its
// methods are spread over the files named after the records they store.
// Statements take turns on the connection, should fn share its Tx between
// goroutines. pgx prepares each statement text once per connection.
type tx struct {
	ctx context.Context
	c   *pgx.Conn
	mu  sync.Mutex
}

var _ store.Tx = (*tx)(nil)

func (t *tx) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.c.Exec(t.ctx, sql, args...)
}

// row is a statement that returns at most one row, run when scanned.
type row struct {
	t    *tx
	sql  string
	args []any
}

func (r row) Scan(dest ...any) error {
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	return r.t.c.QueryRow(r.t.ctx, r.sql, r.args...).Scan(dest...)
}

func (t *tx) queryRow(sql string, args ...any) row { return row{t, sql, args} }

// execOne runs a statement that must change exactly one row, and reports
// notFound when it changed none.
func (t *tx) execOne(notFound func() error, sql string, args ...any) error {
	tag, err := t.exec(sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound()
	}
	return nil
}

// scanner is a row or rows.
type scanner interface{ Scan(dest ...any) error }

// listRows runs sql and scans each row with scan.
func listRows[T any](t *tx, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rows, err := t.c.Query(t.ctx, sql, args...)
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

// scanString scans a row of one text column.
func scanString(r scanner) (s string, err error) { return s, r.Scan(&s) }

// getErr maps pgx.ErrNoRows to the fault.NotFound made by notFound, and wraps
// any other error with what was being done.
func getErr(err error, what string, notFound func() error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound()
	}
	return wrap(err, what)
}

// wrap prefixes err with the operation, keeping fault errors as they are
// and making a failure to reach the database fault.ErrUnavailable.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var f *fault.Error
	if errors.As(err, &f) {
		return err
	}
	if unavailable(err) {
		return fault.Unavailable(err, "the metadata database is unavailable (%s)", what)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// unavailable reports whether err says that the database cannot be reached
// or is shutting down, rather than that it refused a statement. A context
// that ended is the caller's doing, not the database's.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
			"53300": // too many connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exception
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed)
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

// notNull returns b, or an empty slice for nil, which would bind as NULL.
func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// prefixEnd returns the smallest string greater than every string that starts
// with prefix, so that `col >= prefix AND col < end` is an index range in
// byte order; ok is false when there is none. The end must be valid UTF-8
// (PostgreSQL refuses anything else), so it increments the last code point,
// not the last byte: UTF-8 byte order is code point order.
func prefixEnd(prefix string) (end string, ok bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch {
		case r == utf8.RuneError && size == 1:
			return "", false // not UTF-8: the prefix itself will be refused
		case r == 0xd7ff:
			return prefix + "\ue000", true // past the surrogates
		case r < utf8.MaxRune:
			return prefix + string(r+1), true
		}
	}
	return "", false
}

// query accumulates the conditions and arguments of a dynamic statement.
type query struct {
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// where adds a condition.
func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

// prefix constrains col to values starting with p (no-op for "").
func (q *query) prefix(col, p string) {
	if p == "" {
		return
	}
	q.where(col + " >= " + q.arg(p))
	if end, ok := prefixEnd(p); ok {
		q.where(col + " < " + q.arg(end))
	}
}

// conditions returns the WHERE clause, if any.
func (q *query) conditions() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// limit returns the LIMIT clause of a page; none for a zero or negative
// Limit.
func (q *query) limit(p store.Page) string {
	if p.Limit <= 0 {
		return ""
	}
	return " LIMIT " + q.arg(p.Limit)
}

// part returns k[i], or "" when the key has fewer parts (a malformed key
// then still sorts somewhere rather than failing).
func part(k []string, i int) string {
	if i < len(k) {
		return k[i]
	}
	return ""
}
