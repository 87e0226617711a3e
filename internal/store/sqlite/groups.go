package sqlite

import (
	"encoding/json"
	"strconv"

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
	res, err := t.exec(`INSERT INTO package_groups (domain_id, pattern, contact_info, description, created_time, modes)
		VALUES (?, ?, ?, ?, ?, ?)`, g.DomainID, g.Pattern, g.ContactInfo, g.Description, nanos(g.CreatedTime), modes)
	switch {
	case isUnique(err):
		return fault.Conflict("package-group", g.Pattern, "package group %s already exists", g.Pattern)
	case isForeignKey(err):
		return domainNotFound(strconv.FormatInt(g.DomainID, 10))()
	case err != nil:
		return wrap(err, "create package group")
	}
	g.ID, err = res.LastInsertId()
	return wrap(err, "create package group")
}

// GetPackageGroup implements store.PackageGroups.
func (t *tx) GetPackageGroup(domainID int64, pattern string) (*store.PackageGroup, error) {
	g, err := scanPackageGroup(t.queryRow("SELECT "+packageGroupColumns+
		" FROM package_groups WHERE domain_id = ? AND pattern = ?", domainID, pattern))
	if err != nil {
		return nil, getErr(err, "get package group", packageGroupNotFound(pattern))
	}
	return &g, nil
}

// ListPackageGroups implements store.PackageGroups: a range of the
// (domain_id, pattern) index.
func (t *tx) ListPackageGroups(domainID int64, prefix string, p store.Page) ([]store.PackageGroup, error) {
	var w where
	w.add("domain_id = ?", domainID)
	w.prefix("pattern", prefix)
	if p.After != "" {
		w.add("pattern > ?", p.After)
	}
	gs, err := listRows(t, scanPackageGroup, "SELECT "+packageGroupColumns+" FROM package_groups"+w.String()+
		" ORDER BY pattern LIMIT ?", append(w.args, limit(p))...)
	return gs, wrap(err, "list package groups")
}

// UpdatePackageGroup implements store.PackageGroups.
func (t *tx) UpdatePackageGroup(g *store.PackageGroup) error {
	modes, err := marshalModes(g.Modes)
	if err != nil {
		return wrap(err, "update package group")
	}
	err = t.execOne(packageGroupNotFound(strconv.FormatInt(g.ID, 10)),
		"UPDATE package_groups SET contact_info = ?, description = ?, modes = ? WHERE id = ?",
		g.ContactInfo, g.Description, modes, g.ID)
	return wrap(err, "update package group")
}

// DeletePackageGroup implements store.PackageGroups; the schema cascades to
// the allowed-repository lists.
func (t *tx) DeletePackageGroup(id int64) error {
	err := t.execOne(packageGroupNotFound(strconv.FormatInt(id, 10)), "DELETE FROM package_groups WHERE id = ?", id)
	return wrap(err, "delete package group")
}

// AddAllowedRepository implements store.PackageGroups.
func (t *tx) AddAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error {
	_, err := t.exec(`INSERT INTO package_group_repositories (group_id, restriction_type, repository_id)
		VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, groupID, restrictionType, repositoryID)
	if isForeignKey(err) {
		return fault.NotFound("package-group", strconv.FormatInt(groupID, 10),
			"package group %d or repository %d not found", groupID, repositoryID)
	}
	return wrap(err, "add allowed repository")
}

// RemoveAllowedRepository implements store.PackageGroups.
func (t *tx) RemoveAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error {
	_, err := t.exec("DELETE FROM package_group_repositories WHERE group_id = ? AND restriction_type = ? AND repository_id = ?",
		groupID, restrictionType, repositoryID)
	return wrap(err, "remove allowed repository")
}

// ListAllowedRepositories implements store.PackageGroups.
func (t *tx) ListAllowedRepositories(groupID int64, restrictionType string, p store.Page) ([]string, error) {
	var w where
	w.add("a.group_id = ?", groupID)
	w.add("a.restriction_type = ?", restrictionType)
	if p.After != "" {
		w.add("r.name > ?", p.After)
	}
	names, err := listRows(t, func(r scanner) (s string, err error) { return s, r.Scan(&s) },
		"SELECT r.name FROM package_group_repositories a JOIN repositories r ON r.id = a.repository_id"+w.String()+
			" ORDER BY r.name LIMIT ?", append(w.args, limit(p))...)
	return names, wrap(err, "list allowed repositories")
}

// IsAllowedRepository implements store.PackageGroups.
func (t *tx) IsAllowedRepository(groupID int64, restrictionType string, repositoryID int64) (bool, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM package_group_repositories
		WHERE group_id = ? AND restriction_type = ? AND repository_id = ?`, groupID, restrictionType, repositoryID).Scan(&n)
	return n > 0, wrap(err, "is allowed repository")
}

// CountAllowedRepositories implements store.PackageGroups.
func (t *tx) CountAllowedRepositories(groupID int64) (map[string]int, error) {
	type count struct {
		typ string
		n   int
	}
	counts, err := listRows(t, func(r scanner) (c count, err error) { return c, r.Scan(&c.typ, &c.n) },
		`SELECT restriction_type, count(*) FROM package_group_repositories WHERE group_id = ?
		GROUP BY restriction_type ORDER BY restriction_type`, groupID)
	if err != nil {
		return nil, wrap(err, "count allowed repositories")
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.typ] = c.n
	}
	return out, nil
}

// ListDomainPackages implements store.PackageGroups. Each repository's
// packages are a range of the packages key; the distinct coordinates of
// the domain are then merged and sorted, so a page costs in proportion to
// the matching packages after the page start, not to the page size.
func (t *tx) ListDomainPackages(f store.DomainPackageFilter, p store.Page) ([]store.PackageCoordinate, error) {
	var w where
	w.add("repository_id IN (SELECT id FROM repositories WHERE domain_id = ?)", f.DomainID)
	if f.Format != "" {
		w.add("format = ?", f.Format)
	}
	if f.ExactNamespace {
		w.add("namespace = ?", f.Namespace)
	} else {
		w.prefix("namespace", f.Namespace)
	}
	if f.ExactName {
		w.add("name = ?", f.Name)
	} else {
		w.prefix("name", f.Name)
	}
	if p.After != "" {
		k := store.SplitKey(p.After)
		w.add("(format, namespace, name) > (?, ?, ?)", k[0], part(k, 1), part(k, 2))
	}
	cs, err := listRows(t, func(r scanner) (c store.PackageCoordinate, err error) {
		return c, r.Scan(&c.Format, &c.Namespace, &c.Name)
	}, "SELECT DISTINCT format, namespace, name FROM packages"+w.String()+
		" ORDER BY format, namespace, name LIMIT ?", append(w.args, limit(p))...)
	return cs, wrap(err, "list domain packages")
}
