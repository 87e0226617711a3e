package sqlite

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// TestMigrateSessionToken upgrades a database of schema 1, whose access keys
// kept a hash of the session token, and checks that the long-term keys stay
// as they were while the temporary ones, whose token cannot be recovered,
// are gone rather than left without a token.
func TestMigrateSessionToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coffer.db")
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{steps[0].SQL, nil},
		{"PRAGMA user_version = 1", nil},
		{`INSERT INTO access_keys (access_key_id, secret_encrypted, principal_arn, status, created_time,
			session_token_hash, expiration, last_used, principal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{"AKIALONGTERM", []byte{1, 2}, "arn:aws:iam::111122223333:user/alice", "Active", created.UnixNano(), "", 0, 0, "{}",
				"ASIATEMPORARY", []byte{3, 4}, "arn:aws:sts::111122223333:assumed-role/r/s", "Active", 1, "hash", 2, 0, ""}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			db.Close()
			t.Fatalf("%.40s: %v", q.sql, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTemp(t, path)
	if got, want := userVersion(t, s), len(steps); got != want {
		t.Errorf("user_version %d, want %d", got, want)
	}
	err = s.Read(t.Context(), func(tx store.Tx) error {
		k, err := tx.GetAccessKey("AKIALONGTERM")
		if err != nil {
			return err
		}
		want := store.AccessKey{AccessKeyID: "AKIALONGTERM", SecretEncrypted: []byte{1, 2},
			PrincipalARN: "arn:aws:iam::111122223333:user/alice", Status: "Active", CreatedTime: created, Principal: "{}"}
		if len(k.SessionToken) != 0 || string(k.SecretEncrypted) != string(want.SecretEncrypted) || k.AccessKeyID != want.AccessKeyID ||
			k.PrincipalARN != want.PrincipalARN || k.Status != want.Status || !k.CreatedTime.Equal(want.CreatedTime) ||
			!k.Expiration.IsZero() || !k.LastUsed.IsZero() || k.Principal != want.Principal {
			t.Errorf("long-term key after migration: %+v, want %+v", *k, want)
		}
		if _, err := tx.GetAccessKey("ASIATEMPORARY"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("temporary key after migration: %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The new column takes a token.
	k := &store.AccessKey{AccessKeyID: "ASIANEW", PrincipalARN: "p", Status: "Active",
		SessionToken: []byte("sealed"), Expiration: created.Add(time.Hour)}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.CreateAccessKey(k) }); err != nil {
		t.Fatal(err)
	}
	err = s.Read(t.Context(), func(tx store.Tx) error {
		got, err := tx.GetAccessKey("ASIANEW")
		if err == nil && string(got.SessionToken) != "sealed" {
			t.Errorf("session token %q, want %q", got.SessionToken, "sealed")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
