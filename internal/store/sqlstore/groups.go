package sqlstore

import (
	"encoding/json"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const packageGroupColumns = "id, domain_id, pattern, contact_info, description, created_time, modes"

func scanPackageGroup(r Row) (store.PackageGroup, error) {
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
func (t *Tx) CreatePackageGroup(g *store.PackageGroup) error {
	modes, err := marshalModes(g.Modes)
	if err != nil {
		return t.wrap(err, "create package group")
	}
	err = t.queryRow(`INSERT INTO package_groups (domain_id, pattern, contact_info, description, created_time, modes)
		SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM domains WHERE id = ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		g.DomainID, g.Pattern, g.ContactInfo, g.Description, nanos(g.CreatedTime), modes, g.DomainID).Scan(&g.ID)
	if err == nil || !t.d.IsNoRows(err) {
		return t.wrap(err, "create package group")
	}
	// Either the pattern is taken or the domain is missing.
	var domain bool
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM domains WHERE id = ?)", g.DomainID).Scan(&domain); err != nil {
		return t.wrap(err, "create package group")
	}
	if !domain {
		return domainNotFound(idString(g.DomainID))()
	}
	return fault.Conflict("package-group", g.Pattern, "package group %s already exists", g.Pattern)
}

// GetPackageGroup implements store.PackageGroups.
func (t *Tx) GetPackageGroup(domainID int64, pattern string) (*store.PackageGroup, error) {
	g, err := scanPackageGroup(t.queryRow("SELECT "+packageGroupColumns+
		" FROM package_groups WHERE domain_id = ? AND pattern = ?", domainID, pattern))
	if err != nil {
		return nil, t.getErr(err, "get package group", packageGroupNotFound(pattern))
	}
	return &g, nil
}

// ListPackageGroups implements store.PackageGroups: a range of the
// (domain_id, pattern) index.
func (t *Tx) ListPackageGroups(domainID int64, prefix string, p store.Page) ([]store.PackageGroup, error) {
	w := where{d: t.d}
	w.add("domain_id = ?", domainID)
	w.prefix("pattern", prefix)
	if p.After != "" {
		w.add("pattern > ?", p.After)
	}
	gs, err := list(t, scanPackageGroup, "SELECT "+packageGroupColumns+" FROM package_groups"+w.String()+
		" ORDER BY pattern"+w.limit(p), w.args...)
	return gs, t.wrap(err, "list package groups")
}

// UpdatePackageGroup implements store.PackageGroups.
func (t *Tx) UpdatePackageGroup(g *store.PackageGroup) error {
	modes, err := marshalModes(g.Modes)
	if err != nil {
		return t.wrap(err, "update package group")
	}
	err = t.execOne(packageGroupNotFound(idString(g.ID)),
		"UPDATE package_groups SET contact_info = ?, description = ?, modes = ? WHERE id = ?",
		g.ContactInfo, g.Description, modes, g.ID)
	return t.wrap(err, "update package group")
}

// DeletePackageGroup implements store.PackageGroups; the schema cascades to
// the allowed-repository lists.
func (t *Tx) DeletePackageGroup(id int64) error {
	err := t.execOne(packageGroupNotFound(idString(id)), "DELETE FROM package_groups WHERE id = ?", id)
	return t.wrap(err, "delete package group")
}

// AddAllowedRepository implements store.PackageGroups. The group and the
// repository are checked in the statement, so that a missing one is not
// found rather than a foreign key error (which would end a PostgreSQL
// transaction).
func (t *Tx) AddAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error {
	const exist = "EXISTS (SELECT 1 FROM package_groups WHERE id = ?) AND EXISTS (SELECT 1 FROM repositories WHERE id = ?)"
	n, err := t.exec(`INSERT INTO package_group_repositories (group_id, restriction_type, repository_id)
		SELECT ?, ?, ? WHERE `+exist+` ON CONFLICT DO NOTHING`,
		groupID, restrictionType, repositoryID, groupID, repositoryID)
	if err != nil || n > 0 {
		return t.wrap(err, "add allowed repository")
	}
	// Listed already, or the group or the repository is missing.
	var ok bool
	if err := t.queryRow("SELECT "+exist, groupID, repositoryID).Scan(&ok); err != nil {
		return t.wrap(err, "add allowed repository")
	}
	if !ok {
		return fault.NotFound("package-group", idString(groupID),
			"package group %d or repository %d not found", groupID, repositoryID)
	}
	return nil
}

// RemoveAllowedRepository implements store.PackageGroups.
func (t *Tx) RemoveAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error {
	_, err := t.exec("DELETE FROM package_group_repositories WHERE group_id = ? AND restriction_type = ? AND repository_id = ?",
		groupID, restrictionType, repositoryID)
	return t.wrap(err, "remove allowed repository")
}

// ListAllowedRepositories implements store.PackageGroups.
func (t *Tx) ListAllowedRepositories(groupID int64, restrictionType string, p store.Page) ([]string, error) {
	w := where{d: t.d}
	w.add("a.group_id = ?", groupID)
	w.add("a.restriction_type = ?", restrictionType)
	if p.After != "" {
		w.add("r.name > ?", p.After)
	}
	names, err := list(t, scanString,
		"SELECT r.name FROM package_group_repositories a JOIN repositories r ON r.id = a.repository_id"+w.String()+
			" ORDER BY r.name"+w.limit(p), w.args...)
	return names, t.wrap(err, "list allowed repositories")
}

// IsAllowedRepository implements store.PackageGroups.
func (t *Tx) IsAllowedRepository(groupID int64, restrictionType string, repositoryID int64) (bool, error) {
	var ok bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM package_group_repositories
		WHERE group_id = ? AND restriction_type = ? AND repository_id = ?)`, groupID, restrictionType, repositoryID).Scan(&ok)
	return ok, t.wrap(err, "is allowed repository")
}

// CountAllowedRepositories implements store.PackageGroups.
func (t *Tx) CountAllowedRepositories(groupID int64) (map[string]int, error) {
	type count struct {
		typ string
		n   int
	}
	counts, err := list(t, func(r Row) (c count, err error) { return c, r.Scan(&c.typ, &c.n) },
		`SELECT restriction_type, count(*) FROM package_group_repositories WHERE group_id = ?
		GROUP BY restriction_type`, groupID)
	if err != nil {
		return nil, t.wrap(err, "count allowed repositories")
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.typ] = c.n
	}
	return out, nil
}

// ListDomainPackages implements store.PackageGroups.
func (t *Tx) ListDomainPackages(f store.DomainPackageFilter, p store.Page) ([]store.PackageCoordinate, error) {
	query, args := t.d.DomainPackagesQuery(f, p)
	cs, err := listRows(t, func(r Row) (c store.PackageCoordinate, err error) {
		return c, r.Scan(&c.Format, &c.Namespace, &c.Name)
	}, query, args...)
	return cs, t.wrap(err, "list domain packages")
}

// DomainPackagesQuery returns the ListDomainPackages statement, as the
// database takes it, with its arguments: the conditions on the packages are
// the same in every dialect, the way to the distinct coordinates of the
// domain's repositories is the dialect's (Dialect.DomainPackages).
func (d *Dialect) DomainPackagesQuery(f store.DomainPackageFilter, p store.Page) (string, []any) {
	w := where{d: d}
	if f.Format != "" {
		w.add("p.format = ?", f.Format)
	}
	if f.ExactNamespace {
		w.add("p.namespace = ?", f.Namespace)
	} else {
		w.prefix("p.namespace", f.Namespace)
	}
	if f.ExactName {
		w.add("p.name = ?", f.Name)
	} else {
		w.prefix("p.name", f.Name)
	}
	if p.After != "" {
		k := store.SplitKey(p.After)
		w.add("(p.format, p.namespace, p.name) > (?, ?, ?)", k[0], part(k, 1), part(k, 2))
	}
	query, args := d.DomainPackages(f, w.conds, w.args, max(p.Limit, 0))
	return d.sql(query), args
}
