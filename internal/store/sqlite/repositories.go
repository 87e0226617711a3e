package sqlite

import (
	"encoding/json"
	"strconv"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// repositoryColumns selects a repository with its upstreams gathered, in
// order, into a JSON array.
const repositoryColumns = `r.id, r.domain_id, r.name, r.description, r.administrator_account, r.created_time,
	(SELECT json_group_array(u.name ORDER BY u.position) FROM repository_upstreams u WHERE u.repository_id = r.id),
	r.external_connections, r.policy_document, r.policy_revision`

// externalConnection is the stored JSON form of store.ExternalConnection,
// with names of our own so the column does not depend on the Go field names.
type externalConnection struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

func scanRepository(r scanner) (store.Repository, error) {
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

// marshalList encodes a slice as a JSON array ("[]" for none).
func marshalList[T any](v []T) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// unmarshalList decodes a JSON array; an empty array leaves *v nil so that
// records read back compare equal to ones created without the slice.
func unmarshalList[T any](s string, v *[]T) error {
	if s == "" || s == "[]" || s == "null" {
		*v = nil
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func repositoryNotFound(id string) func() error {
	return func() error { return fault.NotFound("repository", id, "repository %s not found", id) }
}

func (t *tx) putUpstreams(r *store.Repository) error {
	if _, err := t.exec("DELETE FROM repository_upstreams WHERE repository_id = ?", r.ID); err != nil {
		return err
	}
	for i, name := range r.Upstreams {
		if _, err := t.exec("INSERT INTO repository_upstreams (repository_id, position, name) VALUES (?, ?, ?)", r.ID, i, name); err != nil {
			return err
		}
	}
	return nil
}

func marshalConnections(cs []store.ExternalConnection) (string, error) {
	ecs := make([]externalConnection, len(cs))
	for i, c := range cs {
		ecs[i] = externalConnection{Name: c.Name, Format: c.Format}
	}
	return marshalList(ecs)
}

// CreateRepository implements store.Repositories.
func (t *tx) CreateRepository(r *store.Repository) error {
	conns, err := marshalConnections(r.ExternalConnections)
	if err != nil {
		return wrap(err, "create repository")
	}
	res, err := t.exec(`INSERT INTO repositories (domain_id, name, description, administrator_account, created_time,
		external_connections, policy_document, policy_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.DomainID, r.Name, r.Description, r.AdministratorAccount, nanos(r.CreatedTime), conns, r.PolicyDocument, r.PolicyRevision)
	if isUnique(err) {
		return fault.Conflict("repository", r.Name, "repository %s already exists", r.Name)
	}
	if err != nil {
		return wrap(err, "create repository")
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return wrap(err, "create repository")
	}
	return wrap(t.putUpstreams(r), "create repository")
}

// GetRepository implements store.Repositories.
func (t *tx) GetRepository(domainID int64, name string) (*store.Repository, error) {
	r, err := scanRepository(t.queryRow("SELECT "+repositoryColumns+" FROM repositories r WHERE r.domain_id = ? AND r.name = ?", domainID, name))
	if err != nil {
		return nil, getErr(err, "get repository", repositoryNotFound(name))
	}
	return &r, nil
}

// GetRepositoryByID implements store.Repositories.
func (t *tx) GetRepositoryByID(id int64) (*store.Repository, error) {
	r, err := scanRepository(t.queryRow("SELECT "+repositoryColumns+" FROM repositories r WHERE r.id = ?", id))
	if err != nil {
		return nil, getErr(err, "get repository", repositoryNotFound(strconv.FormatInt(id, 10)))
	}
	return &r, nil
}

// ListRepositories implements store.Repositories, ordered by (name, id).
func (t *tx) ListRepositories(f store.RepositoryFilter, p store.Page) ([]store.Repository, error) {
	var w where
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
	rs, err := listRows(t, scanRepository, "SELECT "+repositoryColumns+" FROM repositories r"+w.String()+
		" ORDER BY r.name, r.id LIMIT ?", append(w.args, limit(p))...)
	return rs, wrap(err, "list repositories")
}

// UpdateRepository implements store.Repositories.
func (t *tx) UpdateRepository(r *store.Repository) error {
	conns, err := marshalConnections(r.ExternalConnections)
	if err != nil {
		return wrap(err, "update repository")
	}
	err = t.execOne(repositoryNotFound(strconv.FormatInt(r.ID, 10)),
		`UPDATE repositories SET description = ?, external_connections = ?, policy_document = ?, policy_revision = ?
		WHERE id = ?`, r.Description, conns, r.PolicyDocument, r.PolicyRevision, r.ID)
	if err != nil {
		return wrap(err, "update repository")
	}
	return wrap(t.putUpstreams(r), "update repository")
}

// DeleteRepository implements store.Repositories; the schema cascades to
// the repository's packages, versions and assets.
func (t *tx) DeleteRepository(id int64) error {
	err := t.execOne(repositoryNotFound(strconv.FormatInt(id, 10)), "DELETE FROM repositories WHERE id = ?", id)
	return wrap(err, "delete repository")
}

// Downstreams implements store.Repositories.
func (t *tx) Downstreams(domainID int64, name string) ([]store.Repository, error) {
	rs, err := listRows(t, scanRepository, "SELECT "+repositoryColumns+` FROM repositories r
		WHERE r.domain_id = ? AND r.id IN (SELECT repository_id FROM repository_upstreams WHERE name = ?)
		ORDER BY r.name, r.id`, domainID, name)
	return rs, wrap(err, "downstreams")
}
