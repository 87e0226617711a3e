package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"coffer/internal/store"
)

func BenchmarkZZFirst(b *testing.B) {
	s := openTemp(b, filepath.Join(b.TempDir(), "bench.db"))
	repoID, _ := seedPackages(b, s, 100_000)
	for _, f := range []store.PackageFilter{
		{RepositoryID: repoID, NamespacePrefix: "scope1"},
		{RepositoryID: repoID, NamespacePrefix: "org.group499"},
		{RepositoryID: repoID, NamePrefix: "kaka"},
		{RepositoryID: repoID, Publish: "BLOCK"},
	} {
		start := time.Now()
		var n int
		s.Read(b.Context(), func(tx store.Tx) error {
			ps, err := tx.ListPackages(f, store.Page{Limit: 100})
			n = len(ps)
			return err
		})
		b.Logf("%+v: %d rows in %v", f, n, time.Since(start))
	}
}
