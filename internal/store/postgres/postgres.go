// Package postgres is the PostgreSQL driver of the metadata store, for
// installations where several coffer processes (nodes) share one database.
// It is built on pgx and its pool. The statements on the records are those
// of store/sqlstore, which both drivers share; this package holds the
// connections, the transactions, the schema, the generation, the locks, and
// the dialect (dialect.go): how PostgreSQL differs where one statement
// cannot serve both databases.
//
// # Transactions
//
// A Read is BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY: one snapshot,
// taken at its first statement, for the whole transaction, and any write
// fails. A Write is a READ COMMITTED transaction whose first statement is
//
//	UPDATE coffer_generation SET gen = gen + 1
//
// on a one-row table. That row lock serialises every write transaction of
// every process sharing the database, as the store contract says: the
// artifact service relies on one writer per conflicting change (a
// read-modify-write of a package, a version or a counter cannot lose an
// update), and on unique constraints making racing ingests converge. Each
// statement of a Write then sees every write committed before it. The price
// is that writes never overlap, even on different nodes; the service keeps
// them short (no blob transfer or upstream fetch inside one), so a write
// holds the row for a few round trips. Within a process, writers queue on a
// local semaphore first, so that at most one pool connection waits for the
// row lock and reads keep the others.
//
// A unique or foreign-key violation must fail one statement, not the
// transaction (the service may try a create and fall back to a get), yet in
// PostgreSQL an error aborts the transaction. Rather than a SAVEPOINT around
// each such statement (two more round trips, and a subtransaction each: a
// transaction with more than 64 of them makes every snapshot of every
// session slower), the statements that may conflict say ON CONFLICT DO
// NOTHING, or insert only WHERE EXISTS the referenced row, and report
// fault.ErrConflict or fault.ErrNotFound when no row came out. Writes being
// serialised, nothing can change between such a check and the insert.
//
// # Generation
//
// Generation must reflect the writes of every process, since every node
// caches values tagged with it (package gencache): a write acknowledged on
// one node must be seen by a request that starts afterwards on any other. It
// therefore reads the generation row: one database round trip (about 0.1
// ms on loopback), on a connection of its own so that it never waits behind
// transactions. Concurrent callers share queries: a caller
// waits for the next query to start and takes its result (never the result
// of a query that started before it called, which could miss a write
// acknowledged just before), so a node under load sends about one
// generation query per round-trip time rather than one per request. While
// the database cannot be reached, Generation returns a new value at each
// call, so that nothing cached is served.
//
// # Connections
//
// A Store opens up to Options.MaxConns connections for transactions (by
// default max(4, 2*GOMAXPROCS)), one for Generation, and one for each lock
// held through Lock (the artifact service holds a blob's lock while it
// commits an upload's metadata or deletes a blob). PostgreSQL's
// max_connections must therefore be at least
//
//	nodes × (MaxConns + 1 + concurrent uploads) + other clients
//
// and a pooler in front of PostgreSQL must run in session mode: advisory
// locks belong to a session.
//
// Connection failures are fault.ErrUnavailable, which the servers answer
// with 503; the pools reconnect by themselves once the database is back.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"coffer/internal/store"
	"coffer/internal/store/sqlstore"
)

// Options tunes a Store.
type Options struct {
	// MaxConns bounds the connections used for transactions; 0 means
	// max(4, 2*GOMAXPROCS).
	MaxConns int32
}

// Store is a store.Store and store.Locker backed by a PostgreSQL database.
type Store struct {
	pool  *pgxpool.Pool // transactions
	gen   *pgxpool.Pool // generation queries: one connection
	locks *pgxpool.Pool // one connection per lock held
	// writer admits one write transaction of this process at a time.
	writer chan struct{}
	// ended counts this process's write transactions that have ended.
	ended      atomic.Uint64
	generation generation
	keys       keyLocks
	closeOnce  sync.Once
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Locker = (*Store)(nil)
)

// Open connects to the database named by dsn, a postgres:// URL or a libpq
// key=value string, and brings its schema up to date, waiting while another
// node does. It refuses a database whose schema is newer than this binary
// knows (ErrSchemaTooNew). The pool_* parameters of pgxpool are honoured,
// except pool_max_conns, which Options.MaxConns replaces.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// On a cancelled context, ask the server to cancel the statement (a
	// wait for a lock, a long query) rather than only dropping the
	// connection, which the server would notice only when it next writes.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}

	genCfg := cfg.Copy()
	genCfg.MaxConns, genCfg.MinConns = 1, 0
	genPool, err := pgxpool.NewWithConfig(ctx, genCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// A lock connection lives as long as the lock; the pool only saves
	// reconnecting for the next one, and bounds nothing.
	lockCfg := cfg.Copy()
	lockCfg.MaxConns, lockCfg.MinConns = 1<<20, 0
	lockCfg.MaxConnIdleTime = time.Minute
	lockPool, err := pgxpool.NewWithConfig(ctx, lockCfg)
	if err != nil {
		pool.Close()
		genPool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, gen: genPool, locks: lockPool, writer: make(chan struct{}, 1)}
	s.generation.batch.fn = s.queryGeneration
	return s, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return wrap(s.pool.Ping(ctx), "ping")
}

// Close waits for the transactions in progress and the locks held, then
// closes every connection. Transactions started afterwards fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.pool.Close()
		s.gen.Close()
		s.locks.Close()
	})
	return nil
}

// Read runs fn in a read-only transaction on one snapshot.
func (s *Store) Read(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "ROLLBACK", fn)
}

// beginWrite starts a write transaction and takes the generation row's lock,
// in one round trip.
const beginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED; UPDATE coffer_generation SET gen = gen + 1"

// Write runs fn in a write transaction, committing when fn returns nil.
// Write must not be called from inside fn: the inner call would wait for
// the outer one forever.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writer }()
	defer s.ended.Add(1) // after the commit or rollback, whatever its outcome
	return s.run(ctx, beginWrite, "COMMIT", fn)
}

// run runs fn on a pool connection between begin and end, or ROLLBACK when
// fn fails or panics.
func (s *Store) run(ctx context.Context, begin, end string, fn func(store.Tx) error) error {
	c, err := s.begin(ctx, begin)
	if err != nil {
		return err
	}
	// Release destroys the connection if it is broken or still in a
	// transaction.
	defer c.Release()
	done := false
	defer func() {
		if !done {
			rollback(c.Conn())
		}
	}()
	if err := fn(sqlstore.NewTx(&txConn{ctx: ctx, c: c.Conn()}, dialect)); err != nil {
		return err
	}
	done = true
	tag, err := c.Exec(ctx, end)
	if err != nil {
		rollback(c.Conn())
		return wrap(err, "commit")
	}
	// COMMIT of a transaction a failed statement aborted rolls back.
	if end == "COMMIT" && tag.String() != "COMMIT" {
		return errors.New("postgres: commit: the transaction was rolled back after a failed statement")
	}
	return nil
}

// begin takes a connection and starts a transaction on it. Should that
// fail for want of the server, the pool's idle connections are likely
// broken as well (the server restarted, the network broke): they are
// dropped, and one new connection tried, so that a server that came back
// costs no request an error.
func (s *Store) begin(ctx context.Context, begin string) (*pgxpool.Conn, error) {
	for retry := true; ; retry = false {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return nil, wrap(err, "connect")
		}
		if _, err = c.Exec(ctx, begin); err == nil {
			return c, nil
		}
		rollback(c.Conn())
		c.Release()
		if !retry || !unavailable(err) || ctx.Err() != nil {
			return nil, wrap(err, "begin")
		}
		s.pool.Reset()
	}
}

// rollback ends the transaction on c, if any. Should that fail the
// connection is closed, which rolls back on the server, and the pool then
// drops it.
func rollback(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
		c.Close(ctx)
	}
}
