package postgres

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"coffer/internal/store"
	"coffer/internal/store/storetest"
)

// TestQueryPlans loads 100,000 packages into one repository, and a package
// with 5,000 versions, and checks the plans of the listing statements the
// driver issues: no sequential scan of packages or versions, no sort where
// an index gives the key order, and a cost that follows the page rather than
// the table. It checks both the plan made for the actual arguments and the
// generic plan PostgreSQL may switch to for a prepared statement, and logs
// the timings.
func TestQueryPlans(t *testing.T) {
	dsn := freshSchema(t)
	s := openStore(t, dsn)
	ctx := t.Context()
	repoID, pkgs, bigID := loadPackages(t, s, dsn, 100_000, 5_000)

	sorted := slices.Clone(pkgs)
	slices.SortFunc(sorted, func(a, b store.Package) int { return strings.Compare(store.PackageKey(&a), store.PackageKey(&b)) })
	middle := store.PackageKey(&sorted[len(sorted)/2])
	var ka []store.Package
	for _, p := range sorted {
		if strings.HasPrefix(p.Name, "ka") {
			ka = append(ka, p)
		}
	}
	kaMiddle := store.PackageKey(&ka[len(ka)/2])
	var npmMiddle string
	for _, p := range sorted[len(sorted)/2:] {
		if p.Format == "npm" {
			npmMiddle = store.PackageKey(&p)
			break
		}
	}

	type statement struct {
		name   string
		sql    string
		args   []any
		sorted bool // the index gives the order: no Sort node
		// maxBuffers bounds the buffers the statement may touch: it
		// reads a page, or what a prefix matches, not the table.
		maxBuffers int
		list       func(tx store.Tx) (int, error)
	}
	var statements []statement
	const page = 300 // buffers for a page of 100 packages: ~1 heap page a row
	packages := func(name string, f store.PackageFilter, p store.Page, sorted bool) {
		sql, args, ok := dialect.PackagesQuery(f, p)
		if !ok {
			t.Fatalf("%s: no statement", name)
		}
		maxBuffers := page
		if f.NamePrefix != "" {
			matches := 0
			for _, pkg := range pkgs {
				if strings.HasPrefix(pkg.Name, f.NamePrefix) {
					matches++
				}
			}
			maxBuffers += matches
			t.Logf("%s: %d names match", name, matches)
		}
		statements = append(statements, statement{name, sql, args, sorted, maxBuffers, func(tx store.Tx) (int, error) {
			ps, err := tx.ListPackages(f, p)
			return len(ps), err
		}})
	}
	all := store.PackageFilter{RepositoryID: repoID}
	packages("packages, first page", all, store.Page{Limit: 100}, true)
	packages("packages, middle page", all, store.Page{After: middle, Limit: 100}, true)
	packages("packages, format, middle page", store.PackageFilter{RepositoryID: repoID, Format: "npm"},
		store.Page{After: npmMiddle, Limit: 100}, true)
	packages("packages, format and namespace prefix", store.PackageFilter{RepositoryID: repoID, Format: "maven", NamespacePrefix: "org.group1"},
		store.Page{Limit: 100}, true)
	packages("packages, name prefix, first page", store.PackageFilter{RepositoryID: repoID, NamePrefix: "ka"},
		store.Page{Limit: 100}, false)
	packages("packages, name prefix, middle page", store.PackageFilter{RepositoryID: repoID, NamePrefix: "ka"},
		store.Page{After: kaMiddle, Limit: 100}, false)
	packages("packages, format and name prefix", store.PackageFilter{RepositoryID: repoID, Format: "npm", NamePrefix: "ka"},
		store.Page{Limit: 100}, false)
	packages("packages, rare name prefix", store.PackageFilter{RepositoryID: repoID, NamePrefix: "kaka-9"},
		store.Page{Limit: 100}, false)
	packages("packages, unmatched name prefix", store.PackageFilter{RepositoryID: repoID, NamePrefix: "kaka-x"},
		store.Page{Limit: 100}, false)
	packages("packages, short name prefix", store.PackageFilter{RepositoryID: repoID, NamePrefix: "k"},
		store.Page{After: middle, Limit: 100}, false)
	packages("packages, publish BLOCK", store.PackageFilter{RepositoryID: repoID, Publish: "BLOCK"},
		store.Page{Limit: 100}, true)
	packages("packages, upstream BLOCK, middle page", store.PackageFilter{RepositoryID: repoID, Upstream: "BLOCK"},
		store.Page{After: middle, Limit: 100}, true)
	formatsSQL, formatsArgs := dialect.FormatsQuery(repoID)
	statements = append(statements, statement{"formats of a repository", formatsSQL, formatsArgs, true, page,
		func(tx store.Tx) (int, error) {
			ps, err := tx.ListPackages(store.PackageFilter{RepositoryID: repoID, NamespacePrefix: "scope1"}, store.Page{Limit: 100})
			return len(ps), err
		}})

	versions := func(name string, f store.VersionFilter, p store.Page) {
		sql, args, err := dialect.VersionsQuery(f, p)
		if err != nil {
			t.Fatal(err)
		}
		statements = append(statements, statement{name, sql, args, true, page, func(tx store.Tx) (int, error) {
			vs, err := tx.ListVersions(f, p)
			return len(vs), err
		}})
	}
	big := store.VersionFilter{PackageID: bigID, OmitReadme: true}
	versions("versions, first page", big, store.Page{Limit: 100})
	versions("versions, middle page", big, store.Page{After: "2.2500.0", Limit: 100})
	byTime := big
	byTime.ByPublishedTime, byTime.Descending = true, true
	versions("versions by time, descending, middle page", byTime,
		store.Page{After: store.VersionKey(&store.Version{Version: "2.2500.0", PublishedTime: versionTime(2500)}, true), Limit: 100})
	versions("versions of a small package", store.VersionFilter{PackageID: pkgs[7].ID}, store.Page{Limit: 100})

	repositories := func(name string, f store.RepositoryFilter, p store.Page) {
		sql, args := dialect.RepositoriesQuery(f, p)
		statements = append(statements, statement{name, sql, args, false, page, func(tx store.Tx) (int, error) {
			rs, err := tx.ListRepositories(f, p)
			return len(rs), err
		}})
	}
	var domainID int64
	if err := s.Read(ctx, func(tx store.Tx) error {
		r, err := tx.GetRepositoryByID(repoID)
		if err == nil {
			domainID = r.DomainID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	repositories("repositories of a domain", store.RepositoryFilter{DomainID: domainID}, store.Page{Limit: 100})
	repositories("repositories, name prefix, middle page", store.RepositoryFilter{NamePrefix: "m"},
		store.Page{After: store.RepositoryKey(&store.Repository{Name: "main", ID: repoID - 1}), Limit: 100})

	domainPackages := func(name string, f store.DomainPackageFilter, p store.Page) {
		sql, args := dialect.DomainPackagesQuery(f, p)
		statements = append(statements, statement{name, sql, args, false, 2 * page, func(tx store.Tx) (int, error) {
			cs, err := tx.ListDomainPackages(f, p)
			return len(cs), err
		}})
	}
	domainPackages("domain packages, first page", store.DomainPackageFilter{DomainID: domainID}, store.Page{Limit: 100})
	domainPackages("domain packages, middle page", store.DomainPackageFilter{DomainID: domainID}, store.Page{After: middle, Limit: 100})
	domainPackages("domain packages, format and name prefix", store.DomainPackageFilter{DomainID: domainID, Format: "npm", Name: "kaka-9"},
		store.Page{Limit: 100})
	domainPackages("domain packages, exact name", store.DomainPackageFilter{DomainID: domainID, Format: "npm",
		ExactNamespace: true, Name: pkgs[3].Name, ExactName: true}, store.Page{Limit: 100})

	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var report strings.Builder
	for i, st := range statements {
		modes := []bool{false, true}
		if len(st.args) > 0 && st.args[0] == planEachTime {
			modes, st.args = modes[:1], st.args[1:] // planned anew at each run
		}
		for _, generic := range modes {
			mode := "custom"
			if generic {
				mode = "generic"
			}
			p := explain(t, c, st.sql, st.args, generic, fmt.Sprint("q", i))
			nodes := p.nodes()
			for _, n := range nodes {
				if n.NodeType == "Seq Scan" && (n.Relation == "packages" || n.Relation == "versions") {
					t.Errorf("%s (%s plan): sequential scan of %s\n%s\nplan: %s", st.name, mode, n.Relation, st.sql, p.summary())
				}
				if st.sorted && strings.Contains(n.NodeType, "Sort") {
					t.Errorf("%s (%s plan): sorts rows the index should give in order\nplan: %s", st.name, mode, p.summary())
				}
			}
			if buffers := p.Plan.SharedHit + p.Plan.SharedRead; buffers > st.maxBuffers {
				t.Errorf("%s (%s plan): %d buffers, more than %d\nplan: %s", st.name, mode, buffers, st.maxBuffers, p.summary())
			}
			fmt.Fprintf(&report, "\n%-45s %-7s %7.3f ms %5d rows %5d buffers  %s", st.name, mode, p.ExecutionTime,
				p.Plan.Rows, p.Plan.SharedHit+p.Plan.SharedRead, p.summary())
		}
		// The statement as the store runs it, transaction included.
		const runs = 20
		begin := time.Now()
		for range runs {
			err := s.Read(ctx, func(tx store.Tx) error {
				_, err := st.list(tx)
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		fmt.Fprintf(&report, "\n%-45s through the store: %v a call", st.name, time.Since(begin)/runs)
	}
	t.Logf("plans at %d packages (%d versions in the big package):%s", len(pkgs), 5000, report.String())
}

// plan is the part of EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) the test reads.
type plan struct {
	Plan          planNode `json:"Plan"`
	ExecutionTime float64  `json:"Execution Time"`
}

type planNode struct {
	NodeType   string     `json:"Node Type"`
	Relation   string     `json:"Relation Name"`
	Index      string     `json:"Index Name"`
	Rows       int        `json:"Actual Rows"`
	SharedHit  int        `json:"Shared Hit Blocks"`
	SharedRead int        `json:"Shared Read Blocks"`
	Plans      []planNode `json:"Plans"`
}

func (p *plan) nodes() []planNode {
	var out []planNode
	var walk func(n planNode)
	walk = func(n planNode) {
		out = append(out, n)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(p.Plan)
	return out
}

// summary renders the plan tree on one line: Node[index on relation](children).
func (p *plan) summary() string {
	var render func(n planNode) string
	render = func(n planNode) string {
		s := n.NodeType
		if n.Index != "" {
			s += " " + n.Index
		} else if n.Relation != "" {
			s += " " + n.Relation
		}
		if len(n.Plans) > 0 {
			var cs []string
			for _, c := range n.Plans {
				cs = append(cs, render(c))
			}
			s += "(" + strings.Join(cs, ", ") + ")"
		}
		return s
	}
	return render(p.Plan)
}

// explain runs the statement under EXPLAIN ANALYZE as a prepared statement
// (EXPLAIN takes no parameters), with the plan made for its arguments or,
// with generic, the generic plan PostgreSQL may switch to after a few runs.
func explain(t *testing.T, c *pgx.Conn, sql string, args []any, generic bool, name string) plan {
	t.Helper()
	ctx := t.Context()
	if _, err := c.Prepare(ctx, name, sql); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	mode := "force_custom_plan"
	if generic {
		mode = "force_generic_plan"
	}
	lits := make([]string, len(args))
	for i, a := range args {
		lits[i] = literal(t, a)
	}
	if _, err := c.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	var out []byte
	err := c.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE "+name+"("+strings.Join(lits, ", ")+")").Scan(&out)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	var ps []plan
	if err := json.Unmarshal(out, &ps); err != nil || len(ps) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	return ps[0]
}

// literal renders an argument as an SQL literal.
func literal(t *testing.T, v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case int, int64:
		return fmt.Sprint(v)
	}
	t.Fatalf("no literal for %T", v)
	return ""
}

func versionTime(i int) time.Time { return time.Unix(1_700_000_000+int64(i)*60, 0) }

// loadPackages creates a domain with two repositories and loads n packages
// into the second with COPY, each with one version, plus one package with
// bigVersions versions; then it analyses the tables. The packages are
// storetest.PackageMix, as in the SQLite driver's benchmark.
func loadPackages(t *testing.T, s *Store, dsn string, n, bigVersions int) (repoID int64, pkgs []store.Package, bigID int64) {
	t.Helper()
	ctx := t.Context()
	err := s.Write(ctx, func(tx store.Tx) error {
		d := &store.Domain{Owner: "111122223333", Name: "plans", Status: "Active"}
		if err := tx.CreateDomain(d); err != nil {
			return err
		}
		if err := tx.CreateRepository(&store.Repository{DomainID: d.ID, Name: "other"}); err != nil {
			return err
		}
		r := &store.Repository{DomainID: d.ID, Name: "main"}
		err := tx.CreateRepository(r)
		repoID = r.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pkgs = storetest.PackageMix(repoID, n)
	rows := make([][]any, n)
	for i, p := range pkgs {
		rows[i] = []any{p.RepositoryID, p.Format, p.Namespace, p.Name, p.Publish, p.Upstream, p.Metadata}
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	begin := time.Now()
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"packages"},
		[]string{"repository_id", "format", "namespace", "name", "publish", "upstream", "metadata"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	idRows, err := c.Query(ctx, "SELECT id, name FROM packages WHERE repository_id = $1", repoID)
	if err != nil {
		t.Fatal(err)
	}
	for idRows.Next() {
		var id int64
		var name string
		if err := idRows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	if err := idRows.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range pkgs {
		pkgs[i].ID = ids[pkgs[i].Name]
	}
	bigID = pkgs[0].ID
	var versions [][]any
	version := func(pkg int64, v string, published time.Time) []any {
		return []any{pkg, v, "r", "Published", "INTERNAL", "", "", store.TimeNanos(published), store.TimeNanos(published),
			"", "", "", "", "[]", "", "[]", "{}"}
	}
	for _, p := range pkgs {
		versions = append(versions, version(p.ID, "1.0.0", versionTime(0)))
	}
	for i := range bigVersions {
		versions = append(versions, version(bigID, fmt.Sprintf("2.%d.0", i), versionTime(i)))
	}
	// One change stamp per version is the triggers' job in production; here
	// they would only slow the load.
	if _, err := c.Exec(ctx, "ALTER TABLE versions DISABLE TRIGGER versions_stamp"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"versions"}, []string{"package_id", "version", "revision", "status",
		"origin_type", "origin_repository", "origin_external_connection", "created_time", "published_time", "display_name",
		"summary", "home_page", "source_code_repository", "licenses", "readme", "dependencies", "metadata"},
		pgx.CopyFromRows(versions)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "ALTER TABLE versions ENABLE TRIGGER versions_stamp; ANALYZE packages, versions, repositories"); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d packages and %d versions in %v", n, len(versions), time.Since(begin))
	return repoID, pkgs, bigID
}
