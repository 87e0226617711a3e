package postgres

import (
	"encoding/json"
	"strconv"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// repositoryColumns selects a repository with its upstreams gathered, in
// order, into an array.
const repositoryColumns = `r.id, r.domain_id, r.name, r.description, r.administrator_account, r.created_time,
	ARRAY(SELECT u.name FROM repository_upstreams u WHERE u.repository_id = r.id ORDER BY u.position),
	r.external_connections, r.policy_document, r.policy_revision`

// externalConnection is the stored JSON form of store.ExternalConnection, with
// names of its own so that the column does not depend on the Go field names.
type externalConnection struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

func scanRepository(r scanner) (store.Repository, error) {
	var repo store.Repository
	var created int64
	var conns string
	err := r.Scan(&repo.ID, &repo.DomainID, &repo.Name, &repo.Description, &repo.AdministratorAccount, &created,
		&repo.Upstreams, &conns, &repo.PolicyDocument, &repo.PolicyRevision)
	if err != nil {
		return repo, err
	}
	repo.CreatedTime = fromNanos(created)
	if len(repo.Upstreams) == 0 {
		repo.Upstreams = nil
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

// marshalList encodes a slice as a JSON array ("[]" for none).
func marshalList[T any](v []T) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// unmarshalList decodes a JSON array; an empty one leaves *v nil, so that
// records read back compare equal to ones created without the slice.
func unmarshalList[T any](s string, v *[]T) error {
	if s == "" || s == "[]" || s == "null" {
		*v = nil
		return nil
	}
	return json.Unmarshal([]byte(s), v)
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

// putUpstreams replaces the repository's upstream list.
func (t *tx) putUpstreams(r *store.Repository) error {
	if _, err := t.exec("DELETE FROM repository_upstreams WHERE repository_id = $1", r.ID); err != nil {
		return err
	}
	if len(r.Upstreams) == 0 {
		return nil
	}
	_, err := t.exec(`INSERT INTO repository_upstreams (repository_id, position, name)
		SELECT $1, u.position - 1, u.name FROM unnest($2::text[]) WITH ORDINALITY AS u (name, position)`,
		r.ID, r.Upstreams)
	return err
}

// CreateRepository implements store.Repositories.
func (t *tx) CreateRepository(r *store.Repository) error {
	conns, err := marshalConnections(r.ExternalConnections)
	if err != nil {
		return wrap(err, "create repository")
	}
	err = t.queryRow(`INSERT INTO repositories (domain_id, name, description, administrator_account, created_time,
		external_connections, policy_document, policy_revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING RETURNING id`,
		r.DomainID, r.Name, r.Description, r.AdministratorAccount, nanos(r.CreatedTime), conns, r.PolicyDocument,
		r.PolicyRevision).Scan(&r.ID)
	if err != nil {
		return getErr(err, "create repository", func() error {
			return fault.Conflict("repository", r.Name, "repository %s already exists", r.Name)
		})
	}
	return wrap(t.putUpstreams(r), "create repository")
}

// GetRepository implements store.Repositories.
func (t *tx) GetRepository(domainID int64, name string) (*store.Repository, error) {
	r, err := scanRepository(t.queryRow("SELECT "+repositoryColumns+
		" FROM repositories r WHERE r.domain_id = $1 AND r.name = $2", domainID, name))
	if err != nil {
		return nil, getErr(err, "get repository", repositoryNotFound(name))
	}
	return &r, nil
}

// GetRepositoryByID implements store.Repositories.
func (t *tx) GetRepositoryByID(id int64) (*store.Repository, error) {
	r, err := scanRepository(t.queryRow("SELECT "+repositoryColumns+" FROM repositories r WHERE r.id = $1", id))
	if err != nil {
		return nil, getErr(err, "get repository", repositoryNotFound(strconv.FormatInt(id, 10)))
	}
	return &r, nil
}

// ListRepositories implements store.Repositories, ordered by (name, id).
func (t *tx) ListRepositories(f store.RepositoryFilter, p store.Page) ([]store.Repository, error) {
	sql, args := repositoriesQuery(f, p)
	rs, err := listRows(t, scanRepository, sql, args...)
	return rs, wrap(err, "list repositories")
}

// repositoriesQuery builds the ListRepositories statement.
func repositoriesQuery(f store.RepositoryFilter, p store.Page) (string, []any) {
	var q query
	if f.DomainID != 0 {
		q.where("r.domain_id = " + q.arg(f.DomainID))
	}
	if f.DomainOwner != "" {
		q.where("r.domain_id IN (SELECT id FROM domains WHERE owner = " + q.arg(f.DomainOwner) + ")")
	}
	q.prefix("r.name", f.NamePrefix)
	if f.AdministratorAccount != "" {
		q.where("r.administrator_account = " + q.arg(f.AdministratorAccount))
	}
	if p.After != "" {
		k := store.SplitKey(p.After)
		id, _ := strconv.ParseInt(part(k, 1), 10, 64)
		q.where("(r.name, r.id) > (" + q.arg(k[0]) + ", " + q.arg(id) + ")")
	}
	return "SELECT " + repositoryColumns + " FROM repositories r" + q.conditions() + " ORDER BY r.name, r.id" + q.limit(p), q.args
}

// UpdateRepository implements store.Repositories.
func (t *tx) UpdateRepository(r *store.Repository) error {
	conns, err := marshalConnections(r.ExternalConnections)
	if err != nil {
		return wrap(err, "update repository")
	}
	err = t.execOne(repositoryNotFound(strconv.FormatInt(r.ID, 10)),
		`UPDATE repositories SET description = $1, external_connections = $2, policy_document = $3, policy_revision = $4
		WHERE id = $5`, r.Description, conns, r.PolicyDocument, r.PolicyRevision, r.ID)
	if err != nil {
		return wrap(err, "update repository")
	}
	return wrap(t.putUpstreams(r), "update repository")
}

// DeleteRepository implements store.Repositories; the schema cascades to the
// repository's packages, versions and assets.
func (t *tx) DeleteRepository(id int64) error {
	err := t.execOne(repositoryNotFound(strconv.FormatInt(id, 10)), "DELETE FROM repositories WHERE id = $1", id)
	return wrap(err, "delete repository")
}

// Downstreams implements store.Repositories.
func (t *tx) Downstreams(domainID int64, name string) ([]store.Repository, error) {
	rs, err := listRows(t, scanRepository, "SELECT "+repositoryColumns+` FROM repositories r
		WHERE r.domain_id = $1 AND r.id IN (SELECT repository_id FROM repository_upstreams WHERE name = $2)
		ORDER BY r.name, r.id`, domainID, name)
	return rs, wrap(err, "downstreams")
}
