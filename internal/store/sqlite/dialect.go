package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"

	"coffer/internal/store"
	"coffer/internal/store/sqlstore"
)

// dialect is how SQLite runs the statements of sqlstore.
var dialect = &sqlstore.Dialect{
	Name:      "sqlite",
	IsNoRows:  func(err error) bool { return errors.Is(err, sql.ErrNoRows) },
	PrefixEnd: sqlstore.BytePrefixEnd,
	// The IAM name columns are COLLATE NOCASE (0002_identities.sql): their
	// UNIQUE indexes compare, order and seek case-insensitively as they are.
	NoCase:        func(col string) string { return col },
	NoCaseArg:     "?",
	UpstreamNames: `(SELECT json_group_array(u.name ORDER BY u.position) FROM repository_upstreams u WHERE u.repository_id = r.id)`,
	// packages has no rowid, hence no AUTOINCREMENT: package_ids holds the
	// last id given out, which a trigger advances.
	NewPackageID: "(SELECT last + 1 FROM package_ids)",
	In:           in,
	JSONPairs:    "json_each(?)",
	// Without the hints SQLite may prefer walking the whole key order to
	// avoid a sort, or walking the table to save the row lookups of an
	// index, and then pass over every package a rare value does not match.
	IndexedBy:      func(index string) string { return " INDEXED BY " + index },
	PageByName:     true,
	DomainPackages: domainPackages,
}

// in is sqlstore.Dialect.In: the values travel as one JSON array.
func in(col string, values any) (string, any) {
	var list []byte
	switch vs := values.(type) {
	case []int64:
		list = make([]byte, 0, 8*len(vs))
		list = append(list, '[')
		for i, v := range vs {
			if i > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, v, 10)
		}
		list = append(list, ']')
	default:
		var err error
		if list, err = json.Marshal(values); err != nil {
			panic(err) // a slice of strings or numbers always encodes
		}
	}
	return col + " IN (SELECT value FROM json_each(?))", string(list)
}

// domainPackages is sqlstore.Dialect.DomainPackages: the repositories'
// packages are ranges of the packages key, whose distinct coordinates are
// then merged and sorted, so a page costs in proportion to the matching
// packages after the page start.
func domainPackages(f store.DomainPackageFilter, conds []string, args []any, limit int) (string, []any) {
	query := "SELECT DISTINCT p.format, p.namespace, p.name FROM packages p" +
		" WHERE p.repository_id IN (SELECT id FROM repositories WHERE domain_id = ?)"
	for _, c := range conds {
		query += " AND " + c
	}
	query += " ORDER BY p.format, p.namespace, p.name"
	args = append([]any{f.DomainID}, args...)
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	return query, args
}
