package sqlstore

import (
	"encoding/json"
	"strconv"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// repositoryColumns selects a repository, aliased r, with its upstreams
// gathered in order into a JSON array.
func (d *Dialect) repositoryColumns() string {
	return `r.id, r.domain_id, r.name, r.description, r.administrator_account, r.created_time, ` +
		d.UpstreamNames + `, r.external_connections, r.policy_document, r.policy_revision`
}

// externalConnection is the stored JSON form of store.ExternalConnection, with
// names of its own so that the column does not depend on the Go field names.
type externalConnection struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

func scanRepository(r Row) (store.Repository, error) {
	var repo store.Repository
	var created int64
	var upstreams, conns string
	err := r.Scan(&repo.ID, &repo.DomainID, &repo.Name, &repo.Description, &repo.AdministratorAccount, &created,
		&upstreams, &conns, &repo.PolicyDocument, &repo.PolicyRevision)
	if err != nil {
		return repo, err
	}
	repo.CreatedTime = fromNanos(created)
	if err := unmarshalList(upstreams, &repo.Upstreams); err != nil {
		return repo, err
	}
	var ecs []externalConnection
	if err := unmarshalList(conns, &ecs); err != nil {
		return repo, err
	}
	for _, c := range ecs {
		repo.ExternalConnections = append(repo.ExternalConnections, store.ExternalConnection{Name: c.Name, Format: c.Format})
	}
	return repo, nil
}

func marshalConnections(cs []store.ExternalConnection) (string, error) {
	ecs := make([]externalConnection, len(cs))
	for i, c := range cs {
		ecs[i] = externalConnection{Name: c.Name, Format: c.Format}
	}
	return marshalList(ecs)
}

func repositoryNotFound(id string) func() error {
	return func() error { return fault.NotFound("repository", id, "repository %s not found", id) }
}

// putUpstreams replaces the repository's upstream list, in one statement
// whatever its length: the names travel as a JSON object from position to
// name.
func (t *Tx) putUpstreams(r *store.Repository) error {
	if _, err := t.exec("DELETE FROM repository_upstreams WHERE repository_id = ?", r.ID); err != nil {
		return err
	}
	if len(r.Upstreams) == 0 {
		return nil
	}
	byPosition := make(map[string]string, len(r.Upstreams))
	for i, name := range r.Upstreams {
		byPosition[strconv.Itoa(i)] = name
	}
	positions, err := json.Marshal(byPosition)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO repository_upstreams (repository_id, position, name)
		SELECT ?, CAST(key AS integer), value FROM `+t.d.JSONPairs+` WHERE true`, r.ID, string(positions))
	return err
}

// CreateRepository implements store.Repositories.
func (t *Tx) CreateRepository(r *store.Repository) error {
	conns, err := marshalConnections(r.ExternalConnections)
	if err != nil {
		return t.wrap(err, "create repository")
	}
	err = t.queryRow(`INSERT INTO repositories (domain_id, name, description, administrator_account, created_time,
		external_connections, policy_document, policy_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		r.DomainID, r.Name, r.Description, r.AdministratorAccount, nanos(r.CreatedTime), conns, r.PolicyDocument,
		r.PolicyRevision).Scan(&r.ID)
	if err != nil {
		return t.getErr(err, "create repository", func() error {
			return fault.Conflict("repository", r.Name, "repository %s already exists", r.Name)
		})
	}
	return t.wrap(t.putUpstreams(r), "create repository")
}

// GetRepository implements store.Repositories.
func (t *Tx) GetRepository(domainID int64, name string) (*store.Repository, error) {
	r, err := scanRepository(t.queryRow("SELECT "+t.d.repositoryColumns()+
		" FROM repositories r WHERE r.domain_id = ? AND r.name = ?", domainID, name))
	if err != nil {
		return nil, t.getErr(err, "get repository", repositoryNotFound(name))
	}
	return &r, nil
}

// GetRepositoryByID implements store.Repositories.
func (t *Tx) GetRepositoryByID(id int64) (*store.Repository, error) {
	r, err := scanRepository(t.queryRow("SELECT "+t.d.repositoryColumns()+" FROM repositories r WHERE r.id = ?", id))
	if err != nil {
		return nil, t.getErr(err, "get repository", repositoryNotFound(idString(id)))
	}
	return &r, nil
}

// ListRepositories implements store.Repositories, ordered by (name, id).
func (t *Tx) ListRepositories(f store.RepositoryFilter, p store.Page) ([]store.Repository, error) {
	query, args := t.d.RepositoriesQuery(f, p)
	rs, err := listRows(t, scanRepository, query, args...)
	return rs, t.wrap(err, "list repositories")
}

// RepositoriesQuery returns the ListRepositories statement, as the database
// takes it, with its arguments.
func (d *Dialect) RepositoriesQuery(f store.RepositoryFilter, p store.Page) (string, []any) {
	w := where{d: d}
	if f.DomainID != 0 {
		w.add("r.domain_id = ?", f.DomainID)
	}
	if f.DomainOwner != "" {
		w.add("r.domain_id IN (SELECT id FROM domains WHERE owner = ?)", f.DomainOwner)
	}
	w.prefix("r.name", f.NamePrefix)
	if f.AdministratorAccount != "" {
		w.add("r.administrator_account = ?", f.AdministratorAccount)
	}
	if p.After != "" {
		k := store.SplitKey(p.After)
		id, _ := strconv.ParseInt(part(k, 1), 10, 64)
		w.add("(r.name, r.id) > (?, ?)", k[0], id)
	}
	query := "SELECT " + d.repositoryColumns() + " FROM repositories r" + w.String() + " ORDER BY r.name, r.id" + w.limit(p)
	return d.sql(query), w.args
}

// UpdateRepository implements store.Repositories.
func (t *Tx) UpdateRepository(r *store.Repository) error {
	conns, err := marshalConnections(r.ExternalConnections)
	if err != nil {
		return t.wrap(err, "update repository")
	}
	err = t.execOne(repositoryNotFound(idString(r.ID)),
		`UPDATE repositories SET description = ?, external_connections = ?, policy_document = ?, policy_revision = ?
		WHERE id = ?`, r.Description, conns, r.PolicyDocument, r.PolicyRevision, r.ID)
	if err != nil {
		return t.wrap(err, "update repository")
	}
	return t.wrap(t.putUpstreams(r), "update repository")
}

// DeleteRepository implements store.Repositories; the schema cascades to the
// repository's packages, versions and assets.
func (t *Tx) DeleteRepository(id int64) error {
	err := t.execOne(repositoryNotFound(idString(id)), "DELETE FROM repositories WHERE id = ?", id)
	return t.wrap(err, "delete repository")
}

// Downstreams implements store.Repositories.
func (t *Tx) Downstreams(domainID int64, name string) ([]store.Repository, error) {
	rs, err := list(t, scanRepository, "SELECT "+t.d.repositoryColumns()+` FROM repositories r
		WHERE r.domain_id = ? AND r.id IN (SELECT repository_id FROM repository_upstreams WHERE name = ?)
		ORDER BY r.name, r.id`, domainID, name)
	return rs, t.wrap(err, "downstreams")
}
