package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
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

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded steps in order and checks their numbering.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var steps []migration
	for _, name := range names { // fs.Glob returns names sorted
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("sqlite: migration %s: name must start with its number", base)
		}
		if v != len(steps)+1 {
			return nil, fmt.Errorf("sqlite: migration %s: expected number %d", base, len(steps)+1)
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return nil, err
		}
		steps = append(steps, migration{version: v, name: base, sql: string(body)})
	}
	return steps, nil
}

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
func migrateTo(db *sql.DB, steps []migration) error {
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
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
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
