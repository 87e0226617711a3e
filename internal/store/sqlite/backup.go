package sqlite

import (
	"context"
	"fmt"
	"os"
)

// SnapshotTo writes a consistent copy of the database at path (which must
// exist) to the new file target with VACUUM INTO: one read transaction of
// the source, so a coffer serving it goes on writing meanwhile (WAL mode)
// and the copy holds exactly the commits made before it started. The
// source's schema is not migrated. target must not exist.
func SnapshotTo(ctx context.Context, path, target string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: %w", err) // opening would create it
	}
	// Not query-only: SQLite counts VACUUM INTO as a write statement,
	// although it writes only to target.
	db, err := openDB(path, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", target); err != nil {
		return fmt.Errorf("sqlite: snapshot %s into %s: %w", path, target, err)
	}
	return nil
}

// Check runs SQLite's own consistency checks on the store's database:
// PRAGMA integrity_check (the file's structure, indexes, NOT NULL and CHECK
// constraints) and PRAGMA foreign_key_check. It returns one line per
// problem found, none when the database is sound; err is for a check that
// could not run. It only reads, beside a coffer serving the file too.
func (s *Store) Check(ctx context.Context) (problems []string, err error) {
	db := s.readers.db
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: integrity_check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, "integrity_check: "+line)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: integrity_check: %w", err)
	}
	rows, err = db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return nil, fmt.Errorf("sqlite: foreign_key_check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid, fkid *int64
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return nil, fmt.Errorf("sqlite: foreign_key_check: %w", err)
		}
		row := "?"
		if rowid != nil {
			row = fmt.Sprint(*rowid)
		}
		problems = append(problems, fmt.Sprintf("foreign_key_check: %s row %s references a missing %s row", table, row, parent))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: foreign_key_check: %w", err)
	}
	return problems, nil
}

// SchemaVersion returns the schema version of the store's database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.readers.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}
