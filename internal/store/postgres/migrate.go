package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"coffer/internal/store/sqlstore"
)

// migrations holds the schema steps, named NNNN_description.sql and numbered
// from 1 without gaps. A step is never edited once released: changes go in a
// new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// ErrSchemaTooNew is returned by Open for a database written by a newer
// binary: its schema version is beyond the last migration this one knows.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this binary")

// migrationLock is the advisory lock (in the two-int4 key space, which the
// int8 keys of Store.Lock never meet) held while the schema is checked and
// brought up to date: "co", "ffer" in ASCII.
const migrationLock = "pg_advisory_lock(x'636f'::int, x'66666572'::int)"

// loadMigrations reads the embedded steps in order and checks their numbering.
func loadMigrations() ([]sqlstore.Migration, error) { return dialect.LoadMigrations(migrations) }

// migrate brings the schema up to the last embedded step.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	steps, err := loadMigrations()
	if err != nil {
		return err
	}
	return migrateTo(ctx, pool, steps)
}

// migrateTo applies the steps the schema lacks in one transaction, recording
// each in coffer_migrations. It runs under a session advisory lock, so that
// when several nodes start at once one migrates and the others wait, then
// find the work done. The lock is released with the session should anything
// go wrong: the connection is closed, not returned to the pool.
func migrateTo(ctx context.Context, pool *pgxpool.Pool, steps []sqlstore.Migration) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return wrap(err, "migrate")
	}
	conn := c.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT "+migrationLock); err != nil {
		return wrap(err, "migrate: lock")
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// The version table is the runner's, not a step's: it must exist
		// before the first step can be looked up.
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS coffer_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`)
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM coffer_migrations").Scan(&current); err != nil {
			return fmt.Errorf("postgres: migrate: read version: %w", err)
		}
		if current > len(steps) {
			return fmt.Errorf("%w: version %d, this binary knows up to %d: the binary is older than the schema",
				ErrSchemaTooNew, current, len(steps))
		}
		for _, m := range steps[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO coffer_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return wrap(err, "migrate")
	}
	_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock(x'636f'::int, x'66666572'::int)")
	return wrap(err, "migrate: unlock")
}
