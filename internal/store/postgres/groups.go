package postgres

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const packageGroupColumns = "id, domain_id, pattern, contact_info, description, created_time, modes"

func scanPackageGroup(r scanner) (store.PackageGroup, error) {
	var g store.PackageGroup
	var created int64
	var modes string
	if err := r.Scan(&g.ID, &g.DomainID, &g.Pattern, &g.ContactInfo, &g.Description, &created, &modes); err != nil {
		return g, err
	}
	g.CreatedTime = fromNanos(created)
	if modes != "" && modes != "{}" && modes != "null" {
		if err := json.Unmarshal([]byte(modes), &g.Modes); err != nil {
			return g, err
		}
	}
	return g, nil
}

// marshalModes encodes the modes as a JSON object ("{}" for none); the keys
// come out sorted, so equal maps store equal text.
func marshalModes(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func packageGroupNotFound(id string) func() error {
	return func() error { return fault.NotFound("package-group", id, "package group %s not found", id) }
}

// CreatePackageGroup implements store.PackageGroups.
func (t *tx) CreatePackageGroup(g *store.PackageGroup) error {
	modes, err := marshalModes(g.Modes)
	if err != nil {
		return wrap(err, "create package group")
	}
	err = t.queryRow(`INSERT INTO package_groups (domain_id, pattern, contact_info, description, created_time, modes)
		SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM domains WHERE id = $1)
		ON CONFLICT DO NOTHING RETURNING id`,
		g.DomainID, g.Pattern, g.ContactInfo, g.Description, nanos(g.CreatedTime), modes).Scan(&g.ID)
	if !errors.Is(err, pgx.ErrNoRows) {
		return wrap(err, "create package group")
	}
	// Either the pattern is taken or the domain is missing.
	var domain bool
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM domains WHERE id = $1)", g.DomainID).Scan(&domain); err != nil {
		return wrap(err, "create package group")
	}
	if !domain {
		return domainNotFound(strconv.FormatInt(g.DomainID, 10))()
	}
	return fault.Conflict("package-group", g.Pattern, "package group %s already exists", g.Pattern)
}

// GetPackageGroup implements store.PackageGroups.
func (t *tx) GetPackageGroup(domainID int64, pattern string) (*store.PackageGroup, error) {
	g, err := scanPackageGroup(t.queryRow("SELECT "+packageGroupColumns+
		" FROM package_groups WHERE domain_id = $1 AND pattern = $2", domainID, pattern))
	if err != nil {
		return nil, getErr(err, "get package group", packageGroupNotFound(pattern))
	}
	return &g, nil
}

// ListPackageGroups implements store.PackageGroups: a range of the
// (domain_id, pattern) index.
func (t *tx) ListPackageGroups(domainID int64, prefix string, p store.Page) ([]store.PackageGroup, error) {
	var q query
	q.where("domain_id = " + q.arg(domainID))
	q.prefix("pattern", prefix)
	if p.After != "" {
		q.where("pattern > " + q.arg(p.After))
	}
	gs, err := listRows(t, scanPackageGroup, "SELECT "+packageGroupColumns+" FROM package_groups"+q.conditions()+
		" ORDER BY pattern"+q.limit(p), q.args...)
	return gs, wrap(err, "list package groups")
}

// UpdatePackageGroup implements store.PackageGroups.
func (t *tx) UpdatePackageGroup(g *store.PackageGroup) error {
	modes, err := marshalModes(g.Modes)
	if err != nil {
		return wrap(err, "update package group")
	}
	err = t.execOne(packageGroupNotFound(strconv.FormatInt(g.ID, 10)),
		"UPDATE package_groups SET contact_info = $1, description = $2, modes = $3 WHERE id = $4",
		g.ContactInfo, g.Description, modes, g.ID)
	return wrap(err, "update package group")
}

// DeletePackageGroup implements store.PackageGroups; the schema cascades to
// the allowed-repository lists.
func (t *tx) DeletePackageGroup(id int64) error {
	err := t.execOne(packageGroupNotFound(strconv.FormatInt(id, 10)), "DELETE FROM package_groups WHERE id = $1", id)
	return wrap(err, "delete package group")
}

// AddAllowedRepository implements store.PackageGroups. The group and the
// repository are checked in the statement, so that a missing one is not
// found rather than a foreign key error that would end the transaction.
func (t *tx) AddAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error {
	var ok bool
	err := t.queryRow(`WITH ok AS (SELECT EXISTS (SELECT 1 FROM package_groups WHERE id = $1)
			AND EXISTS (SELECT 1 FROM repositories WHERE id = $3) AS ok),
		a AS (INSERT INTO package_group_repositories (group_id, restriction_type, repository_id)
			SELECT $1, $2::text, $3 FROM ok WHERE ok ON CONFLICT DO NOTHING)
		SELECT ok FROM ok`, groupID, restrictionType, repositoryID).Scan(&ok)
	if err == nil && !ok {
		return fault.NotFound("package-group", strconv.FormatInt(groupID, 10),
			"package group %d or repository %d not found", groupID, repositoryID)
	}
	return wrap(err, "add allowed repository")
}

// RemoveAllowedRepository implements store.PackageGroups.
func (t *tx) RemoveAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error {
	_, err := t.exec("DELETE FROM package_group_repositories WHERE group_id = $1 AND restriction_type = $2 AND repository_id = $3",
		groupID, restrictionType, repositoryID)
	return wrap(err, "remove allowed repository")
}

// ListAllowedRepositories implements store.PackageGroups.
func (t *tx) ListAllowedRepositories(groupID int64, restrictionType string, p store.Page) ([]string, error) {
	var q query
	q.where("a.group_id = " + q.arg(groupID))
	q.where("a.restriction_type = " + q.arg(restrictionType))
	if p.After != "" {
		q.where("r.name > " + q.arg(p.After))
	}
	names, err := listRows(t, scanString,
		"SELECT r.name FROM package_group_repositories a JOIN repositories r ON r.id = a.repository_id"+q.conditions()+
			" ORDER BY r.name"+q.limit(p), q.args...)
	return names, wrap(err, "list allowed repositories")
}

// IsAllowedRepository implements store.PackageGroups.
func (t *tx) IsAllowedRepository(groupID int64, restrictionType string, repositoryID int64) (bool, error) {
	var ok bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM package_group_repositories
		WHERE group_id = $1 AND restriction_type = $2 AND repository_id = $3)`, groupID, restrictionType, repositoryID).Scan(&ok)
	return ok, wrap(err, "is allowed repository")
}

// CountAllowedRepositories implements store.PackageGroups.
func (t *tx) CountAllowedRepositories(groupID int64) (map[string]int, error) {
	type count struct {
		typ string
		n   int
	}
	counts, err := listRows(t, func(r scanner) (c count, err error) { return c, r.Scan(&c.typ, &c.n) },
		`SELECT restriction_type, count(*) FROM package_group_repositories WHERE group_id = $1
		GROUP BY restriction_type`, groupID)
	if err != nil {
		return nil, wrap(err, "count allowed repositories")
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.typ] = c.n
	}
	return out, nil
}

// ListDomainPackages implements store.PackageGroups.
func (t *tx) ListDomainPackages(f store.DomainPackageFilter, p store.Page) ([]store.PackageCoordinate, error) {
	sql, args := domainPackagesQuery(f, p)
	cs, err := listRows(t, func(r scanner) (c store.PackageCoordinate, err error) {
		return c, r.Scan(&c.Format, &c.Namespace, &c.Name)
	}, sql, args...)
	return cs, wrap(err, "list domain packages")
}

// domainPackagesQuery builds the ListDomainPackages statement: the first
// page of each repository of the domain, each a range of its key order, then
// merged. A coordinate among the page's distinct ones is among the first
// page of every repository that holds it, so the page costs the number of
// repositories times the page size, not the number of packages.
func domainPackagesQuery(f store.DomainPackageFilter, p store.Page) (string, []any) {
	var q query
	domain := q.arg(f.DomainID)
	q.where("p.repository_id = r.id")
	if f.Format != "" {
		q.where("p.format = " + q.arg(f.Format))
	}
	if f.ExactNamespace {
		q.where("p.namespace = " + q.arg(f.Namespace))
	} else {
		q.prefix("p.namespace", f.Namespace)
	}
	if f.ExactName {
		q.where("p.name = " + q.arg(f.Name))
	} else {
		q.prefix("p.name", f.Name)
	}
	if p.After != "" {
		k := store.SplitKey(p.After)
		q.where("(p.format, p.namespace, p.name) > (" + q.arg(k[0]) + ", " + q.arg(part(k, 1)) + ", " + q.arg(part(k, 2)) + ")")
	}
	limit := q.limit(p)
	sql := "SELECT DISTINCT x.format, x.namespace, x.name FROM repositories r, LATERAL (SELECT p.format, p.namespace, p.name FROM packages p" +
		q.conditions() + " ORDER BY p.format, p.namespace, p.name" + limit + ") x WHERE r.domain_id = " + domain +
		" ORDER BY x.format, x.namespace, x.name" + limit
	if !f.ExactName && f.Name != "" {
		// As in packagesQuery: how many names the prefix matches decides the plan.
		return sql, append([]any{planEachTime}, q.args...)
	}
	return sql, q.args
}
