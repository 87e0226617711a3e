package sqlite

import (
	"strconv"

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

// CreatePackage implements store.Packages. The table has no rowid: the id is
// the next of the package_ids sequence, which a trigger advances.
func (t *tx) CreatePackage(p *store.Package) error {
	err := t.queryRow(`INSERT INTO packages (id, repository_id, format, namespace, name, publish, upstream, metadata)
		VALUES ((SELECT last + 1 FROM package_ids), ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.RepositoryID, p.Format, p.Namespace, p.Name, p.Publish, p.Upstream, p.Metadata).Scan(&p.ID)
	if isUnique(err) {
		return fault.Conflict("package", p.Name, "package %s already exists", p.Name)
	}
	return wrap(err, "create package")
}

// GetPackage implements store.Packages.
func (t *tx) GetPackage(repositoryID int64, format, namespace, name string) (*store.Package, error) {
	p, err := scanPackage(t.queryRow("SELECT "+packageColumns+
		" FROM packages WHERE repository_id = ? AND format = ? AND namespace = ? AND name = ?",
		repositoryID, format, namespace, name))
	if err != nil {
		return nil, getErr(err, "get package", packageNotFound(name))
	}
	return &p, nil
}

// GetPackageByID implements store.Packages.
func (t *tx) GetPackageByID(id int64) (*store.Package, error) {
	p, err := scanPackage(t.queryRow("SELECT "+packageColumns+" FROM packages WHERE id = ?", id))
	if err != nil {
		return nil, getErr(err, "get package", packageNotFound(strconv.FormatInt(id, 10)))
	}
	return &p, nil
}

// ListPackages implements store.Packages. The conditions are shaped so that
// SQLite seeks straight to the first row of the page: its cost follows the
// page size (or, with a name prefix, the number of names matching), not the
// size of the repository.
func (t *tx) ListPackages(f store.PackageFilter, p store.Page) ([]store.Package, error) {
	if f.Format == "" && f.NamespacePrefix != "" && f.NamePrefix == "" {
		return t.listPackagesByFormat(f, p)
	}
	query, args, ok := packagesQuery(f, p)
	if !ok {
		return nil, nil
	}
	ps, err := listRows(t, scanPackage, query, args...)
	return ps, wrap(err, "list packages")
}

// listPackagesByFormat lists packages under a namespace prefix one format
// after the other: within a format the namespaces are a range of the key
// order that SQLite can seek to, across formats they are not.
func (t *tx) listPackagesByFormat(f store.PackageFilter, p store.Page) ([]store.Package, error) {
	// The repository's formats, each found by one seek past the previous.
	formats, err := listRows(t, func(r scanner) (s string, err error) { return s, r.Scan(&s) }, `
		WITH RECURSIVE f (format) AS (
			SELECT min(format) FROM packages WHERE repository_id = ?
			UNION ALL
			SELECT (SELECT min(format) FROM packages WHERE repository_id = ? AND format > f.format)
			FROM f WHERE f.format IS NOT NULL)
		SELECT format FROM f WHERE format IS NOT NULL`, f.RepositoryID, f.RepositoryID)
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

// packagesQuery builds the ListPackages query; ok is false when the page is
// known to be empty.
func packagesQuery(f store.PackageFilter, p store.Page) (query string, args []any, ok bool) {
	var after []string // format, namespace, name of the previous page's last row
	if p.After != "" {
		k := store.SplitKey(p.After)
		after = []string{k[0], part(k, 1), part(k, 2)}
	}
	var w where
	w.add("repository_id = ?", f.RepositoryID)
	if f.Publish != "" {
		w.add("publish = ?", f.Publish)
	}
	if f.Upstream != "" {
		w.add("upstream = ?", f.Upstream)
	}
	const order = " ORDER BY format, namespace, name LIMIT ?"
	switch {
	case f.NamePrefix != "":
		// Names matching a prefix are scattered over the key order (one run
		// per namespace), so range over them in packages_name, pick the
		// page from the index alone, and only then read its rows. Without
		// the hint SQLite may prefer walking the whole key order to avoid
		// the sort.
		w.prefix("name", f.NamePrefix)
		if f.Format != "" {
			w.add("format = ?", f.Format)
		}
		w.prefix("namespace", f.NamespacePrefix)
		if after != nil {
			w.add("(format, namespace, name) > (?, ?, ?)", after[0], after[1], after[2])
		}
		page := "SELECT format, namespace, name FROM packages INDEXED BY packages_name" + w.String() + order
		return "SELECT " + packageColumns + " FROM packages WHERE repository_id = ? AND (format, namespace, name) IN (" +
			page + ") ORDER BY format, namespace, name", append(append([]any{f.RepositoryID}, w.args...), limit(p)), true
	case f.Format == "":
		if after != nil {
			w.add("(format, namespace, name) > (?, ?, ?)", after[0], after[1], after[2])
		}
		w.prefix("namespace", f.NamespacePrefix) // a filter: format varies first
	default:
		// With format fixed, SQLite can only seek on a row value that starts
		// at the next key column, so the key is cut to (namespace, name);
		// and it seeks on one lower bound only, so keep the larger of the key
		// and the namespace prefix.
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
			if end, ok := prefixEnd(np); ok {
				w.add("namespace < ?", end)
			}
		}
		if after != nil {
			w.add("(namespace, name) > (?, ?)", after[1], after[2])
		}
	}
	// An origin control filter walks its own index, in the same order: SQLite
	// would rather walk the table to save the row lookups, and then pass over
	// every package a rare value (BLOCK) does not match.
	from := "packages"
	switch {
	case f.Publish != "":
		from += " INDEXED BY packages_publish"
	case f.Upstream != "":
		from += " INDEXED BY packages_upstream"
	}
	return "SELECT " + packageColumns + " FROM " + from + w.String() + order, append(w.args, limit(p)), true
}

// UpdatePackage implements store.Packages.
func (t *tx) UpdatePackage(p *store.Package) error {
	err := t.execOne(packageNotFound(strconv.FormatInt(p.ID, 10)),
		"UPDATE packages SET publish = ?, upstream = ?, metadata = ? WHERE id = ?",
		p.Publish, p.Upstream, p.Metadata, p.ID)
	return wrap(err, "update package")
}

// DeletePackage implements store.Packages; the schema cascades to the
// package's versions and assets.
func (t *tx) DeletePackage(id int64) error {
	err := t.execOne(packageNotFound(strconv.FormatInt(id, 10)), "DELETE FROM packages WHERE id = ?", id)
	return wrap(err, "delete package")
}
