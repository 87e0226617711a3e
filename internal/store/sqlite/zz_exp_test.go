package sqlite

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"coffer/internal/store"
)

func BenchmarkZZExp(b *testing.B) {
	s := openTemp(b, filepath.Join(b.TempDir(), "bench.db"))
	repoID, pkgs := seedPackages(b, s, 100_000)
	rng := rand.New(rand.NewPCG(2, 2))
	ctx := context.Background()
	q, _, _ := packagesQuery(store.PackageFilter{RepositoryID: repoID}, store.Page{After: "x", Limit: 100})
	b.Log(q)
	b.Run("rawStmt", func(b *testing.B) {
		conn, _ := s.readers.db.Conn(ctx)
		defer conn.Close()
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			p := pkgs[rng.IntN(len(pkgs))]
			rows, err := st.QueryContext(ctx, repoID, p.Format, p.Namespace, p.Name, 100)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				_, err := scanPackage(rows)
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
		}
	})
	b.Run("rawStmtIDsOnly", func(b *testing.B) {
		conn, _ := s.readers.db.Conn(ctx)
		defer conn.Close()
		st, err := conn.PrepareContext(ctx, "SELECT id FROM packages WHERE repository_id = ? AND (format, namespace, name) > (?, ?, ?) ORDER BY format, namespace, name LIMIT ?")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			p := pkgs[rng.IntN(len(pkgs))]
			rows, err := st.QueryContext(ctx, repoID, p.Format, p.Namespace, p.Name, 100)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var id int64
				rows.Scan(&id)
			}
			rows.Close()
		}
	})
	b.Run("count", func(b *testing.B) {
		conn, _ := s.readers.db.Conn(ctx)
		defer conn.Close()
		for b.Loop() {
			p := pkgs[rng.IntN(len(pkgs))]
			var n int
			conn.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT id FROM packages WHERE repository_id = ? AND (format, namespace, name) > (?, ?, ?) ORDER BY format, namespace, name LIMIT ?)", repoID, p.Format, p.Namespace, p.Name, 100).Scan(&n)
		}
	})
	b.Run("emptyRead", func(b *testing.B) {
		for b.Loop() {
			s.Read(ctx, func(tx store.Tx) error { return nil })
		}
	})
	b.Run("select1Read", func(b *testing.B) {
		for b.Loop() {
			s.Read(ctx, func(tx store.Tx) error { _, err := tx.GetPackageByID(5); return err })
		}
	})
}

func TestZZPlan(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "x.db"))
	for _, f := range []store.PackageFilter{{RepositoryID: 1}, {RepositoryID: 1, Format: "npm"}, {RepositoryID: 1, NamePrefix: "x", Publish: "ALLOW"}, {RepositoryID: 1, Format: "npm", NamespacePrefix: "a"}} {
		q, args, _ := packagesQuery(f, store.Page{After: "npm\x00b\x00c", Limit: 100})
		rows, err := s.writer.db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(q)
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			t.Log("   ", detail)
		}
		rows.Close()
	}
}
