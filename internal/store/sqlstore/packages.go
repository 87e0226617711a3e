package sqlstore

import (
	"coffer/internal/fault"
	"coffer/internal/store"
)

const packageColumns = "id, repository_id, format, namespace, name, publish, upstream, metadata, change_seq"

func scanPackage(r Row) (store.Package, error) {
	var p store.Package
	err := r.Scan(&p.ID, &p.RepositoryID, &p.Format, &p.Namespace, &p.Name, &p.Publish, &p.Upstream, &p.Metadata, &p.ChangeSeq)
	return p, err
}

func packageNotFound(id string) func() error {
	return func() error { return fault.NotFound("package", id, "package %s not found", id) }
}

// CreatePackage implements store.Packages. The id is the database's, or
// Dialect.NewPackageID.
func (t *Tx) CreatePackage(p *store.Package) error {
	columns, values := "", ""
	if t.d.NewPackageID != "" {
		columns, values = "id, ", t.d.NewPackageID+", "
	}
	err := t.queryRow("INSERT INTO packages ("+columns+"repository_id, format, namespace, name, publish, upstream, metadata)"+
		" VALUES ("+values+"?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
		p.RepositoryID, p.Format, p.Namespace, p.Name, p.Publish, p.Upstream, p.Metadata).Scan(&p.ID)
	return t.getErr(err, "create package", func() error {
		return fault.Conflict("package", p.Name, "package %s already exists", p.Name)
	})
}

// GetPackage implements store.Packages.
func (t *Tx) GetPackage(repositoryID int64, format, namespace, name string) (*store.Package, error) {
	p, err := scanPackage(t.queryRow("SELECT "+packageColumns+
		" FROM packages WHERE repository_id = ? AND format = ? AND namespace = ? AND name = ?",
		repositoryID, format, namespace, name))
	if err != nil {
		return nil, t.getErr(err, "get package", packageNotFound(name))
	}
	return &p, nil
}

// GetPackageByID implements store.Packages.
func (t *Tx) GetPackageByID(id int64) (*store.Package, error) {
	p, err := scanPackage(t.queryRow("SELECT "+packageColumns+" FROM packages WHERE id = ?", id))
	if err != nil {
		return nil, t.getErr(err, "get package", packageNotFound(idString(id)))
	}
	return &p, nil
}

// ListPackages implements store.Packages. The conditions are shaped so that
// the page starts with a seek in an index: its cost follows the page size
// (or, with a name prefix, the number of names matching), not the size of
// the repository.
func (t *Tx) ListPackages(f store.PackageFilter, p store.Page) ([]store.Package, error) {
	if f.Format == "" && f.NamespacePrefix != "" && f.NamePrefix == "" {
		return t.listPackagesByFormat(f, p)
	}
	query, args, ok := t.d.PackagesQuery(f, p)
	if !ok {
		return nil, nil
	}
	ps, err := listRows(t, scanPackage, query, args...)
	return ps, t.wrap(err, "list packages")
}

// FormatsQuery returns the statement, as the database takes it, that lists
// the formats of a repository's packages, each found by one seek past the
// previous one rather than by reading every package, with its arguments.
func (d *Dialect) FormatsQuery(repositoryID int64) (string, []any) {
	return d.sql(`WITH RECURSIVE f (format) AS (
	SELECT (SELECT format FROM packages WHERE repository_id = ? ORDER BY format LIMIT 1)
	UNION ALL
	SELECT (SELECT p.format FROM packages p WHERE p.repository_id = ? AND p.format > f.format ORDER BY p.format LIMIT 1)
	FROM f WHERE f.format IS NOT NULL)
SELECT format FROM f WHERE format IS NOT NULL`), []any{repositoryID, repositoryID}
}

// listPackagesByFormat lists packages under a namespace prefix one format
// after the other: within a format the namespaces are a range of the key
// order, across formats they are not.
func (t *Tx) listPackagesByFormat(f store.PackageFilter, p store.Page) ([]store.Package, error) {
	query, args := t.d.FormatsQuery(f.RepositoryID)
	formats, err := listRows(t, scanString, query, args...)
	if err != nil {
		return nil, t.wrap(err, "list packages")
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

// PackagesQuery returns the ListPackages statement, as the database takes
// it, with its arguments, for a filter with a format or without a namespace
// prefix (ListPackages lists the others one format at a time); ok is false
// when the page is known to be empty.
func (d *Dialect) PackagesQuery(f store.PackageFilter, p store.Page) (query string, args []any, ok bool) {
	var after []string // format, namespace, name of the previous page's last row
	if p.After != "" {
		k := store.SplitKey(p.After)
		after = []string{k[0], part(k, 1), part(k, 2)}
	}
	w := where{d: d}
	w.add("repository_id = ?", f.RepositoryID)
	if f.Publish != "" {
		w.add("publish = ?", f.Publish)
	}
	if f.Upstream != "" {
		w.add("upstream = ?", f.Upstream)
	}
	const order = " ORDER BY format, namespace, name"
	switch {
	case f.NamePrefix != "":
		// Names matching a prefix are scattered over the key order (one run
		// per namespace): either a range of packages_name, sorted, or a walk
		// of the key order until the page is full. Which is cheaper depends
		// on how many names the prefix matches.
		w.prefix("name", f.NamePrefix)
		if f.Format != "" {
			w.add("format = ?", f.Format)
		}
		w.prefix("namespace", f.NamespacePrefix)
		if after != nil {
			w.add("(format, namespace, name) > (?, ?, ?)", after[0], after[1], after[2])
		}
		if d.PageByName {
			// Pick the page from the index alone, and only then read its
			// rows.
			page := "SELECT format, namespace, name FROM packages" + d.indexedBy("packages_name") + w.String() + order + w.limit(p)
			return d.sql("SELECT " + packageColumns + " FROM packages WHERE repository_id = ? AND (format, namespace, name) IN (" +
				page + ")" + order), append([]any{f.RepositoryID}, w.args...), true
		}
		// Else have the database plan each run for its arguments.
		query = d.sql("SELECT " + packageColumns + " FROM packages" + w.String() + order + w.limit(p))
		if d.Replan != nil {
			return query, append([]any{d.Replan}, w.args...), true
		}
		return query, w.args, true
	case f.Format == "":
		if after != nil {
			w.add("(format, namespace, name) > (?, ?, ?)", after[0], after[1], after[2])
		}
		w.prefix("namespace", f.NamespacePrefix) // a filter: format varies first
	default:
		// With the format fixed, the page starts at a (namespace, name)
		// within it, or at the namespace prefix if that comes later: a row
		// value that starts at the next key column, and one lower bound
		// only, so that SQLite seeks to it.
		w.add("format = ?", f.Format)
		if after != nil && after[0] != f.Format {
			if after[0] > f.Format {
				return "", nil, false // the format's packages all came before
			}
			after = nil // ... or all come after
		}
		if np := f.NamespacePrefix; np != "" {
			if after == nil || after[1] < np {
				after = nil
				w.add("namespace >= ?", np)
			}
			if end, ok := d.PrefixEnd(np); ok {
				w.add("namespace < ?", end)
			}
		}
		if after != nil {
			w.add("(namespace, name) > (?, ?)", after[1], after[2])
		}
	}
	// An origin control filter walks its own index, in the same order: the
	// database might rather walk the key order to save the row lookups, and
	// then pass over every package a rare value (BLOCK) does not match.
	from := "packages"
	switch {
	case f.Publish != "":
		from += d.indexedBy("packages_publish")
	case f.Upstream != "":
		from += d.indexedBy("packages_upstream")
	}
	return d.sql("SELECT " + packageColumns + " FROM " + from + w.String() + order + w.limit(p)), w.args, true
}

// indexedBy is the hint to walk index, if the dialect has hints.
func (d *Dialect) indexedBy(index string) string {
	if d.IndexedBy == nil {
		return ""
	}
	return d.IndexedBy(index)
}

// UpdatePackage implements store.Packages.
func (t *Tx) UpdatePackage(p *store.Package) error {
	err := t.execOne(packageNotFound(idString(p.ID)),
		"UPDATE packages SET publish = ?, upstream = ?, metadata = ? WHERE id = ?",
		p.Publish, p.Upstream, p.Metadata, p.ID)
	return t.wrap(err, "update package")
}

// DeletePackage implements store.Packages; the schema cascades to the
// package's versions and assets.
func (t *Tx) DeletePackage(id int64) error {
	err := t.execOne(packageNotFound(idString(id)), "DELETE FROM packages WHERE id = ?", id)
	return t.wrap(err, "delete package")
}
