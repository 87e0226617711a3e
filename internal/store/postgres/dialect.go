package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"coffer/internal/store"
	"coffer/internal/store/sqlstore"
)

// dialect is how PostgreSQL runs the statements of sqlstore.
var dialect = &sqlstore.Dialect{
	Name:         "postgres",
	Placeholders: sqlstore.Numbered,
	IsNoRows:     func(err error) bool { return errors.Is(err, pgx.ErrNoRows) },
	Unavailable:  unavailable,
	// Text must be valid UTF-8, the bound of a prefix included.
	PrefixEnd: sqlstore.UTF8PrefixEnd,
	// Names compare case-insensitively through lower(), which the unique
	// indexes of 0001_init.sql are built on: "lower(name) = " + NoCaseArg
	// is an index lookup, and ORDER BY lower(name) an index order. The
	// argument is folded in byte order ("C"), ASCII only, like the column.
	NoCase:        func(col string) string { return "lower(" + col + ")" },
	NoCaseArg:     `lower(? COLLATE "C")`,
	UpstreamNames: `(SELECT coalesce(json_agg(u.name ORDER BY u.position), '[]')::text FROM repository_upstreams u WHERE u.repository_id = r.id)`,
	In:            func(col string, values any) (string, any) { return col + " = ANY(?)", values },
	JSONPairs:     "json_each_text(CAST(? AS json))",
	// Setting values are bytea: some are sealed secrets, which are bytes,
	// not text in any encoding.
	SettingValue:   func(v string) any { return []byte(v) },
	Replan:         planEachTime,
	DomainPackages: domainPackages,
}

// planEachTime, as the first argument of a statement, has pgx send it as
// the unnamed statement, which PostgreSQL plans anew for the arguments of
// each run (a cached prepared statement gets a generic plan after five), in
// the same single round trip.
var planEachTime any = pgx.QueryExecModeCacheDescribe

// domainPackages is sqlstore.Dialect.DomainPackages: the first page of each
// repository of the domain, each a range of its key order, then merged. A
// coordinate among the page's distinct ones is among the first page of
// every repository that holds it, so the page costs the number of
// repositories times the page size, not the number of packages.
func domainPackages(f store.DomainPackageFilter, conds []string, args []any, limit int) (string, []any) {
	limitClause := ""
	if limit > 0 {
		limitClause = " LIMIT ?"
	}
	query := "SELECT DISTINCT x.format, x.namespace, x.name FROM repositories r," +
		" LATERAL (SELECT p.format, p.namespace, p.name FROM packages p WHERE " +
		strings.Join(append([]string{"p.repository_id = r.id"}, conds...), " AND ") +
		" ORDER BY p.format, p.namespace, p.name" + limitClause + ") x WHERE r.domain_id = ?" +
		" ORDER BY x.format, x.namespace, x.name" + limitClause
	var qargs []any
	if !f.ExactName && f.Name != "" {
		// As in ListPackages: how many names the prefix matches decides
		// the plan.
		qargs = append(qargs, planEachTime)
	}
	qargs = append(qargs, args...)
	if limit > 0 {
		qargs = append(qargs, limit)
	}
	qargs = append(qargs, f.DomainID)
	if limit > 0 {
		qargs = append(qargs, limit)
	}
	return query, qargs
}
