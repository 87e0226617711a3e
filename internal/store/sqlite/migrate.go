package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

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
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this binary")

// loadMigrations reads the embedded steps in order and checks their numbering.
func loadMigrations() ([]sqlstore.Migration, error) { return dialect.LoadMigrations(migrations) }

// migrate brings the database up to the last embedded step.
func migrate(db *sql.DB) error {
	steps, err := loadMigrations()
	if err != nil {
		return err
	}
	return migrateTo(db, steps)
}

// migrateTo applies the steps the database lacks, all in one transaction, and
// records the version reached in PRAGMA user_version, which is transactional.
// Foreign keys are on and cannot be turned off inside the transaction: a step
// that rebuilds a table uses PRAGMA defer_foreign_keys instead.
func migrateTo(db *sql.DB, steps []sqlstore.Migration) error {
	ctx := context.Background()
	// The writer's DSN makes this BEGIN IMMEDIATE, so that no other process
	// can migrate between our reading the version and applying the steps.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: read version: %w", err)
	}
	if current > len(steps) {
		return fmt.Errorf("%w: version %d, this binary knows up to %d", ErrSchemaTooNew, current, len(steps))
	}
	if current == len(steps) {
		return nil
	}
	for _, m := range steps[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
		return fmt.Errorf("sqlite: migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: commit: %w", err)
	}
	return nil
}
