package sqlite

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/store"
	"coffer/internal/store/storetest"
)

// seedPackages creates n packages in one repository (storetest.PackageMix)
// in a few big transactions.
func seedPackages(b *testing.B, s *Store, n int) (repoID int64, pkgs []store.Package) {
	b.Helper()
	err := s.Write(b.Context(), func(tx store.Tx) error {
		d := &store.Domain{Owner: "111122223333", Name: "bench", Status: "Active"}
		if err := tx.CreateDomain(d); err != nil {
			return err
		}
		r := &store.Repository{DomainID: d.ID, Name: "main"}
		err := tx.CreateRepository(r)
		repoID = r.ID
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	pkgs = storetest.PackageMix(repoID, n)
	const batch = 20_000
	for start := 0; start < n; start += batch {
		err := s.Write(b.Context(), func(tx store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				if err := tx.CreatePackage(&pkgs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return repoID, pkgs
}

// BenchmarkListPackages reads one page of 100 packages out of 100,000 in one
// repository, starting from a random key, with and without filters.
func BenchmarkListPackages(b *testing.B) {
	s := openTemp(b, filepath.Join(b.TempDir(), "bench.db"))
	repoID, pkgs := seedPackages(b, s, 100_000)
	rng := rand.New(rand.NewPCG(2, 2))

	run := func(name string, f store.PackageFilter, match func(p *store.Package) bool) {
		// Start pages at the keys of matching packages: the page a client
		// asks for next; and at the start, the first page.
		keys := []string{""}
		for i := range pkgs {
			if match(&pkgs[i]) {
				keys = append(keys, store.PackageKey(&pkgs[i]))
			}
		}
		b.Run(name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				after := keys[rng.IntN(len(keys))]
				err := s.Read(b.Context(), func(tx store.Tx) error {
					ps, err := tx.ListPackages(f, store.Page{After: after, Limit: 100})
					rows += len(ps)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		})
	}
	f := store.PackageFilter{RepositoryID: repoID}
	run("RandomKey", f, func(*store.Package) bool { return true })
	f.Format = "npm"
	run("Format", f, func(p *store.Package) bool { return p.Format == "npm" })
	f.NamePrefix = "ka"
	run("FormatNamePrefix", f, func(p *store.Package) bool { return p.Format == "npm" && strings.HasPrefix(p.Name, "ka") })
	f = store.PackageFilter{RepositoryID: repoID, NamePrefix: "ka"}
	run("NamePrefix", f, func(p *store.Package) bool { return strings.HasPrefix(p.Name, "ka") })
	f = store.PackageFilter{RepositoryID: repoID, NamespacePrefix: "scope1"}
	run("NamespacePrefixAnyFormat", f, func(p *store.Package) bool { return strings.HasPrefix(p.Namespace, "scope1") })
	f = store.PackageFilter{RepositoryID: repoID, Format: "maven", NamespacePrefix: "org.group1"}
	run("NamespacePrefix", f, func(p *store.Package) bool {
		return p.Format == "maven" && strings.HasPrefix(p.Namespace, "org.group1")
	})
}
