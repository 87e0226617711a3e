package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"coffer/internal/store/sqlstore"
)

// txConn is sqlstore.Conn on one connection inside BEGIN ... COMMIT.
// Statements take turns on the connection, should fn share its Tx between
// goroutines: a statement holds mu until its rows are closed. pgx prepares
// each statement text once per connection.
type txConn struct {
	ctx context.Context
	c   *pgx.Conn
	mu  sync.Mutex
}

func (t *txConn) Exec(sql string, args ...any) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tag, err := t.c.Exec(t.ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (t *txConn) Query(sql string, args ...any) (sqlstore.Rows, error) {
	t.mu.Lock()
	rows, err := t.c.Query(t.ctx, sql, args...)
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	return &txRows{Rows: rows, mu: &t.mu}, nil
}

// txRows are the rows of a statement, which give the connection back to
// the next statement when closed.
type txRows struct {
	pgx.Rows
	mu *sync.Mutex // held until Close
}

func (r *txRows) Close() error {
	if r.mu != nil {
		r.Rows.Close()
		r.mu.Unlock()
		r.mu = nil
	}
	return nil
}

func (t *txConn) QueryRow(sql string, args ...any) sqlstore.Row { return row{t, sql, args} }

// row is a statement that returns at most one row, run when scanned.
type row struct {
	t    *txConn
	sql  string
	args []any
}

func (r row) Scan(dest ...any) error {
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	return r.t.c.QueryRow(r.t.ctx, r.sql, r.args...).Scan(dest...)
}

// wrap prefixes err with the operation, keeping fault errors as they are
// and making a failure to reach the database fault.ErrUnavailable.
func wrap(err error, what string) error { return dialect.Wrap(err, what) }

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
