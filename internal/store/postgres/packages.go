package postgres

import (
	"strconv"

	"github.com/jackc/pgx/v5"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const packageColumns = "id, repository_id, format, namespace, name, publish, upstream, metadata, change_seq"

func scanPackage(r scanner) (store.Package, error) {
	var p store.Package
	err := r.Scan(&p.ID, &p.RepositoryID, &p.Format, &p.Namespace, &p.Name, &p.Publish, &p.Upstream, &p.Metadata, &p.ChangeSeq)
	return p, err
}

func packageNotFound(id string) func() error {
	return func() error { return fault.NotFound("package", id, "package %s not found", id) }
}

// CreatePackage implements store.Packages.
func (t *tx) CreatePackage(p *store.Package) error {
	err := t.queryRow(`INSERT INTO packages (repository_id, format, namespace, name, publish, upstream, metadata)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
		p.RepositoryID, p.Format, p.Namespace, p.Name, p.Publish, p.Upstream, p.Metadata).Scan(&p.ID)
	return getErr(err, "create package", func() error {
		return fault.Conflict("package", p.Name, "package %s already exists", p.Name)
	})
}

// GetPackage implements store.Packages.
func (t *tx) GetPackage(repositoryID int64, format, namespace, name string) (*store.Package, error) {
	p, err := scanPackage(t.queryRow("SELECT "+packageColumns+
		" FROM packages WHERE repository_id = $1 AND format = $2 AND namespace = $3 AND name = $4",
		repositoryID, format, namespace, name))
	if err != nil {
		return nil, getErr(err, "get package", packageNotFound(name))
	}
	return &p, nil
}

// GetPackageByID implements store.Packages.
func (t *tx) GetPackageByID(id int64) (*store.Package, error) {
	p, err := scanPackage(t.queryRow("SELECT "+packageColumns+" FROM packages WHERE id = $1", id))
	if err != nil {
		return nil, getErr(err, "get package", packageNotFound(strconv.FormatInt(id, 10)))
	}
	return &p, nil
}

// ListPackages implements store.Packages. The conditions are shaped so that
// the page starts with a seek in an index: its cost follows the page size
// (or, with a name prefix, the number of names matching), not the size of
// the repository.
func (t *tx) ListPackages(f store.PackageFilter, p store.Page) ([]store.Package, error) {
	if f.Format == "" && f.NamespacePrefix != "" && f.NamePrefix == "" {
		return t.listPackagesByFormat(f, p)
	}
	sql, args, ok := packagesQuery(f, p)
	if !ok {
		return nil, nil
	}
	ps, err := listRows(t, scanPackage, sql, args...)
	return ps, wrap(err, "list packages")
}

// formatsQuery lists the formats of a repository's packages, each found by
// one seek past the previous one rather than by reading every package.
const formatsQuery = `WITH RECURSIVE f (format) AS (
	(SELECT format FROM packages WHERE repository_id = $1 ORDER BY format LIMIT 1)
	UNION ALL
	SELECT (SELECT p.format FROM packages p WHERE p.repository_id = $1 AND p.format > f.format ORDER BY p.format LIMIT 1)
	FROM f WHERE f.format IS NOT NULL)
SELECT format FROM f WHERE format IS NOT NULL`

// listPackagesByFormat lists packages under a namespace prefix one format
// after the other: within a format the namespaces are a range of the key
// order, across formats they are not.
func (t *tx) listPackagesByFormat(f store.PackageFilter, p store.Page) ([]store.Package, error) {
	formats, err := listRows(t, scanString, formatsQuery, f.RepositoryID)
	if err != nil {
		return nil, wrap(err, "list packages")
	}
	var out []store.Package
	for _, format := range formats {
		ff, pp := f, p
		ff.Format = format
		if p.Limit > 0 {
			pp.Limit = p.Limit - len(out)
		}
		ps, err := t.ListPackages(ff, pp)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		if p.Limit > 0 && len(out) >= p.Limit {
			break
		}
	}
	return out, nil
}

// packagesQuery builds the ListPackages statement for a filter with a format
// or without a namespace prefix; ok is false when the page is known to be
// empty.
func packagesQuery(f store.PackageFilter, p store.Page) (sql string, args []any, ok bool) {
	var after []string // format, namespace, name of the previous page's last row
	if p.After != "" {
		k := store.SplitKey(p.After)
		after = []string{k[0], part(k, 1), part(k, 2)}
	}
	var q query
	q.where("repository_id = " + q.arg(f.RepositoryID))
	if f.Publish != "" {
		q.where("publish = " + q.arg(f.Publish))
	}
	if f.Upstream != "" {
		q.where("upstream = " + q.arg(f.Upstream))
	}
	afterKey := func(cols string, key ...string) {
		ps := ""
		for i, k := range key {
			if i > 0 {
				ps += ", "
			}
			ps += q.arg(k)
		}
		q.where("(" + cols + ") > (" + ps + ")")
	}
	switch {
	case f.NamePrefix != "":
		// Names matching a prefix are scattered over the key order (one run
		// per namespace): either a range of packages_name, sorted, or a walk
		// of the key order until the page is full. Which is cheaper depends
		// on how many names the prefix matches, which a generic plan cannot
		// know: have PostgreSQL plan each run for its arguments.
		q.prefix("name", f.NamePrefix)
		if f.Format != "" {
			q.where("format = " + q.arg(f.Format))
		}
		q.prefix("namespace", f.NamespacePrefix)
		if after != nil {
			afterKey("format, namespace, name", after...)
		}
	case f.Format == "":
		if after != nil {
			afterKey("format, namespace, name", after...)
		}
		q.prefix("namespace", f.NamespacePrefix) // a filter: format varies first
	default:
		// With the format fixed, the page starts at a (namespace, name)
		// within it, or at the namespace prefix if that comes later.
		q.where("format = " + q.arg(f.Format))
		if after != nil && after[0] != f.Format {
			if after[0] > f.Format {
				return "", nil, false // the format's packages all came before
			}
			after = nil // ... or all come after
		}
		if np := f.NamespacePrefix; np != "" {
			if after == nil || after[1] < np {
				after = nil
				q.where("namespace >= " + q.arg(np))
			}
			if end, ok := prefixEnd(np); ok {
				q.where("namespace < " + q.arg(end))
			}
		}
		if after != nil {
			afterKey("namespace, name", after[1], after[2])
		}
	}
	sql = "SELECT " + packageColumns + " FROM packages" + q.conditions() + " ORDER BY format, namespace, name" + q.limit(p)
	if f.NamePrefix != "" {
		return sql, append([]any{planEachTime}, q.args...), true
	}
	return sql, q.args, true
}

// planEachTime, as the first argument of a statement, has pgx send it as
// the unnamed statement, which PostgreSQL plans anew for the arguments of
// each run (a cached prepared statement gets a generic plan after five), in
// the same single round trip.
var planEachTime any = pgx.QueryExecModeCacheDescribe

// UpdatePackage implements store.Packages.
func (t *tx) UpdatePackage(p *store.Package) error {
	err := t.execOne(packageNotFound(strconv.FormatInt(p.ID, 10)),
		"UPDATE packages SET publish = $1, upstream = $2, metadata = $3 WHERE id = $4",
		p.Publish, p.Upstream, p.Metadata, p.ID)
	return wrap(err, "update package")
}

// DeletePackage implements store.Packages; the schema cascades to the
// package's versions and assets.
func (t *tx) DeletePackage(id int64) error {
	err := t.execOne(packageNotFound(strconv.FormatInt(id, 10)), "DELETE FROM packages WHERE id = $1", id)
	return wrap(err, "delete package")
}
