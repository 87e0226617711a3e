package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"coffer/internal/store"
	"coffer/internal/store/sqlstore"
)

// pool is a fixed number of connections to one *sql.DB, each held by one
// transaction at a time.
type pool struct {
	db    *sql.DB
	conns chan *conn // idle connections; nil is one still to be opened
}

func newPool(db *sql.DB, n int) *pool {
	p := &pool{db: db, conns: make(chan *conn, n)}
	for range n {
		p.conns <- nil
	}
	return p
}

// get waits for an idle connection, opening it if needed.
func (p *pool) get(ctx context.Context) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // select would not prefer Done over an idle connection
	}
	select {
	case c, ok := <-p.conns:
		if !ok {
			return nil, errors.New("store is closed")
		}
		if c != nil {
			return c, nil
		}
		sc, err := p.db.Conn(ctx)
		if err != nil {
			p.conns <- nil
			return nil, err
		}
		return &conn{c: sc, stmts: make(map[string]*sql.Stmt)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put gives back a connection taken with get, or nil for one discarded.
func (p *pool) put(c *conn) { p.conns <- c }

// close waits for every connection to be idle, then closes them; get fails
// from then on.
func (p *pool) close() error {
	var errs []error
	for range cap(p.conns) {
		if c := <-p.conns; c != nil {
			errs = append(errs, c.close())
		}
	}
	close(p.conns)
	return errors.Join(append(errs, p.db.Close())...)
}

// conn is one connection with the statements prepared on it. Transactions are
// plain BEGIN/COMMIT statements rather than sql.Tx so that prepared statements
// outlive them: parsing and planning a statement costs SQLite about as much as
// running a short query.
type conn struct {
	c     *sql.Conn
	mu    sync.Mutex // guards stmts, should fn share its Tx between goroutines
	stmts map[string]*sql.Stmt
}

// prepare returns the statement for query, preparing it on first use. The
// queries are constants or built from a bounded set of fragments, so the
// cache stays small.
func (c *conn) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// exec runs a statement without arguments, such as BEGIN or COMMIT.
func (c *conn) exec(ctx context.Context, query string) error {
	st, err := c.prepare(ctx, query)
	if err == nil {
		_, err = st.ExecContext(ctx)
	}
	return err
}

func (c *conn) close() error {
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, c.c.Close())...)
}

// txConn is sqlstore.Conn on a connection inside BEGIN ... COMMIT: its
// statements are prepared once per connection and kept.
type txConn struct {
	ctx context.Context
	c   *conn
}

func (t *txConn) Exec(query string, args ...any) (int64, error) {
	st, err := t.c.prepare(t.ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(t.ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *txConn) Query(query string, args ...any) (sqlstore.Rows, error) {
	st, err := t.c.prepare(t.ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (t *txConn) QueryRow(query string, args ...any) sqlstore.Row {
	st, err := t.c.prepare(t.ctx, query)
	if err != nil {
		// Run it unprepared: the *sql.Row then carries the same error.
		return t.c.c.QueryRowContext(t.ctx, query, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// run runs fn on a connection of p between begin and COMMIT, or ROLLBACK
// when commit is false or fn fails or panics.
func run(ctx context.Context, p *pool, begin string, fn func(store.Tx) error, commit bool) error {
	c, err := p.get(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := c.exec(ctx, begin); err != nil {
		p.put(c.rollback()) // in case it was left in a transaction somehow
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			c = c.rollback()
		}
		p.put(c)
	}()
	if err := fn(sqlstore.NewTx(&txConn{ctx: ctx, c: c}, dialect)); err != nil {
		return err
	}
	end := "ROLLBACK"
	if commit {
		end = "COMMIT"
	}
	if err := c.exec(ctx, end); err != nil {
		return fmt.Errorf("sqlite: %s: %w", strings.ToLower(end), err)
	}
	done = true
	return nil
}

// rollback ends the transaction on c and returns the connection to give back
// to the pool: c, or nil when c could not be brought out of its transaction
// and was discarded. SQLite may have rolled back already (an interrupted
// statement can), which is fine.
func (c *conn) rollback() *conn {
	err := c.exec(context.Background(), "ROLLBACK")
	if err == nil || strings.Contains(err.Error(), "no transaction is active") {
		return c
	}
	c.c.Raw(func(any) error { return driver.ErrBadConn }) // makes database/sql drop it
	c.close()
	return nil
}
