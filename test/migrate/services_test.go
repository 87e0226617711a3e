package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"coffer/internal/backend"
)

// createDatabase creates a database of its own for the test on the server
// of dsn (a postgres:// URL or a libpq key-value string), dropped at the
// end, and returns its DSN.
func createDatabase(t *testing.T, dsn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("COFFER_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(context.Background())
	name := "coffer_migrate_" + suffix()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key-value: the last setting wins
}

// s3Prefix is s3URL with a fresh key prefix under its own; the blobs under
// it are deleted at the end.
func s3Prefix(t *testing.T, s3URL string) string {
	t.Helper()
	base, query, _ := strings.Cut(s3URL, "?")
	prefixed := strings.TrimRight(base, "/") + "/migrate-" + suffix()
	if query != "" {
		prefixed += "?" + query
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		spec, err := backend.ParseBlobs(prefixed, "")
		if err != nil {
			t.Logf("clean %s: %v", prefixed, err)
			return
		}
		bs, err := backend.OpenBlobs(ctx, spec, backend.BlobOptions{})
		if err != nil {
			t.Logf("clean %s: %v", prefixed, err)
			return
		}
		for info, err := range bs.List(ctx) {
			if err == nil {
				err = bs.Delete(ctx, info.SHA256)
			}
			if err != nil {
				t.Logf("clean %s: %v", prefixed, err)
				return
			}
		}
	})
	return prefixed
}

func suffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
