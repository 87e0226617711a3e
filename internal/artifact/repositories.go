package artifact

import (
	"context"
	"errors"
	"slices"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// MaxUpstreams is the number of direct upstreams a repository may have.
const MaxUpstreams = 10

// findRepository loads a domain and one of its repositories.
func (s *Service) findRepository(tx store.Tx, ref RepoRef) (*store.Domain, *store.Repository, error) {
	d, err := s.findDomain(tx, ref.DomainRef)
	if err != nil {
		return nil, nil, err
	}
	if err := validateRepositoryName("repository", ref.Repository); err != nil {
		return nil, nil, err
	}
	r, err := tx.GetRepository(d.ID, ref.Repository)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil, fault.NotFound("repository", ref.Repository, "Repository not found. Repository: %s, Domain: %s, Owner: %s", ref.Repository, d.Name, d.Owner)
	}
	return d, r, err
}

func (s *Service) describeRepository(d *store.Domain, r *store.Repository) *Repository {
	return &Repository{Repository: *r, DomainName: d.Name, DomainOwner: d.Owner, ARN: s.RepositoryARN(d.Owner, d.Name, r.Name)}
}

// checkUpstreams validates an upstream list for repository name in domain d:
// at most ten, no duplicates, each an existing repository of the same domain,
// and no cycle back to name through the upstream graph.
func (s *Service) checkUpstreams(tx store.Tx, d *store.Domain, name string, upstreams []string) error {
	if len(upstreams) > MaxUpstreams {
		return fault.Validation("A repository can have at most %d upstream repositories; %d were given", MaxUpstreams, len(upstreams))
	}
	seen := map[string]bool{}
	for _, u := range upstreams {
		if err := validateRepositoryName("upstreams.repositoryName", u); err != nil {
			return err
		}
		if seen[u] {
			return fault.Validation("Upstream repository %s is listed more than once", u)
		}
		seen[u] = true
		if u == name {
			return fault.Validation("Repository %s cannot be its own upstream", name)
		}
		if _, err := tx.GetRepository(d.ID, u); err != nil {
			if errors.Is(err, fault.ErrNotFound) {
				return fault.NotFound("repository", u, "Upstream repository %s not found in domain %s", u, d.Name)
			}
			return err
		}
	}
	// Depth-first walk of the graph reachable from the new upstreams; reaching
	// name again would close a cycle.
	visited := map[string]bool{}
	var walk func(repo string, path []string) error
	walk = func(repo string, path []string) error {
		if repo == name {
			return fault.Validation("Adding these upstreams would create a cycle: %s", joinPath(append(path, repo)))
		}
		if visited[repo] {
			return nil
		}
		visited[repo] = true
		r, err := tx.GetRepository(d.ID, repo)
		if errors.Is(err, fault.ErrNotFound) {
			return nil // a dangling reference left by a deleted repository
		} else if err != nil {
			return err
		}
		for _, u := range r.Upstreams {
			if err := walk(u, append(path, repo)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, u := range upstreams {
		if err := walk(u, []string{name}); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(p []string) string {
	out := ""
	for i, r := range p {
		if i > 0 {
			out += " -> "
		}
		out += r
	}
	return out
}

// CreateRepository creates a repository with optional upstreams.
func (s *Service) CreateRepository(ctx context.Context, ref RepoRef, description string, upstreams []string, tags []store.Tag) (*Repository, error) {
	if err := validateRepositoryName("repository", ref.Repository); err != nil {
		return nil, err
	}
	if err := validateDescription(description); err != nil {
		return nil, err
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	var out *Repository
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref.DomainRef)
		if err != nil {
			return err
		}
		if err := s.checkUpstreams(tx, d, ref.Repository, upstreams); err != nil {
			return err
		}
		r := &store.Repository{DomainID: d.ID, Name: ref.Repository, Description: description,
			AdministratorAccount: s.cfg.AccountID, CreatedTime: timeNow(), Upstreams: slices.Clone(upstreams)}
		if err := tx.CreateRepository(r); err != nil {
			if errors.Is(err, fault.ErrConflict) {
				return fault.Conflict("repository", ref.Repository, "Repository %s already exists in domain %s", ref.Repository, d.Name)
			}
			return err
		}
		if err := s.checkRepositoryQuota(tx, d); err != nil {
			return err
		}
		out = s.describeRepository(d, r)
		if len(tags) > 0 {
			return tx.PutTags(out.ARN, tags)
		}
		return nil
	})
	return out, err
}

// DescribeRepository returns a repository.
func (s *Service) DescribeRepository(ctx context.Context, ref RepoRef) (*Repository, error) {
	var out *Repository
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		out = s.describeRepository(d, r)
		return nil
	})
	return out, err
}

// UpdateRepository changes the description and/or replaces the upstream list
// (a nil pointer leaves that field unchanged; an empty list removes every
// upstream).
func (s *Service) UpdateRepository(ctx context.Context, ref RepoRef, description *string, upstreams *[]string) (*Repository, error) {
	if description != nil {
		if err := validateDescription(*description); err != nil {
			return nil, err
		}
	}
	var out *Repository
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		if description != nil {
			r.Description = *description
		}
		if upstreams != nil {
			if err := s.checkUpstreams(tx, d, r.Name, *upstreams); err != nil {
				return err
			}
			r.Upstreams = slices.Clone(*upstreams)
		}
		if err := tx.UpdateRepository(r); err != nil {
			return err
		}
		out = s.describeRepository(d, r)
		return nil
	})
	return out, err
}

// DeleteRepository deletes a repository with its packages. Repositories that
// name it as an upstream keep the dangling name, as CodeArtifact does, until
// they are updated.
func (s *Service) DeleteRepository(ctx context.Context, ref RepoRef) (*Repository, error) {
	var out *Repository
	var shas []string
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		out = s.describeRepository(d, r)
		if shas, err = repositoryBlobs(tx, r.ID); err != nil {
			return err
		}
		if err := tx.DeleteRepository(r.ID); err != nil {
			return err
		}
		return tx.DeleteAllTags(out.ARN)
	})
	if err == nil {
		s.releaseBlobs(ctx, shas)
	}
	return out, err
}

// ListRepositories lists repositories of the account, or of one domain.
func (s *Service) ListRepositories(ctx context.Context, f RepositoryFilter, page PageRequest) ([]Repository, string, error) {
	if f.Prefix != "" {
		if err := validatePrefix("repositoryPrefix", f.Prefix, 100); err != nil {
			return nil, "", err
		}
	}
	var out []Repository
	next := ""
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		sf := store.RepositoryFilter{NamePrefix: f.Prefix, AdministratorAccount: f.AdministratorAccount}
		domains := map[int64]*store.Domain{}
		if f.Domain.Name != "" {
			d, err := s.findDomain(tx, f.Domain)
			if err != nil {
				return err
			}
			sf.DomainID = d.ID
			domains[d.ID] = d
		}
		limit := pageLimit(page)
		rs, err := tx.ListRepositories(sf, store.Page{After: page.After, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(rs) > limit {
			rs = rs[:limit]
			next = store.RepositoryKey(&rs[limit-1])
		}
		for i := range rs {
			d := domains[rs[i].DomainID]
			if d == nil {
				if d, err = tx.GetDomainByID(rs[i].DomainID); err != nil {
					return err
				}
				domains[d.ID] = d
			}
			out = append(out, *s.describeRepository(d, &rs[i]))
		}
		return nil
	})
	return out, next, err
}

// AssociateExternalConnection links the repository to a public registry. A
// repository holds at most one external connection: the same one again is a
// Conflict, a second one exceeds the quota.
func (s *Service) AssociateExternalConnection(ctx context.Context, ref RepoRef, connection string) (*Repository, error) {
	format, ok := ExternalConnections[connection]
	if !ok {
		return nil, fault.Validation("Value '%s' at 'externalConnection' is not a supported external connection; valid names: %s", connection, externalConnectionNames())
	}
	var out *Repository
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		for _, c := range r.ExternalConnections {
			if c.Name == connection {
				return fault.Conflict("repository", r.Name, "Repository %s is already associated with external connection %s", r.Name, connection)
			}
		}
		if len(r.ExternalConnections) > 0 {
			return fault.Quota("repository", r.Name, "Repository %s already has the external connection %s; a repository can have only one", r.Name, r.ExternalConnections[0].Name)
		}
		r.ExternalConnections = []store.ExternalConnection{{Name: connection, Format: format}}
		if err := tx.UpdateRepository(r); err != nil {
			return err
		}
		out = s.describeRepository(d, r)
		return nil
	})
	return out, err
}

// DisassociateExternalConnection removes the repository's external connection.
func (s *Service) DisassociateExternalConnection(ctx context.Context, ref RepoRef, connection string) (*Repository, error) {
	if _, ok := ExternalConnections[connection]; !ok {
		return nil, fault.Validation("Value '%s' at 'externalConnection' is not a supported external connection; valid names: %s", connection, externalConnectionNames())
	}
	var out *Repository
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(r.ExternalConnections, func(c store.ExternalConnection) bool { return c.Name == connection })
		if i < 0 {
			return fault.NotFound("repository", r.Name, "Repository %s is not associated with external connection %s", r.Name, connection)
		}
		r.ExternalConnections = slices.Delete(r.ExternalConnections, i, i+1)
		if err := tx.UpdateRepository(r); err != nil {
			return err
		}
		out = s.describeRepository(d, r)
		return nil
	})
	return out, err
}

func externalConnectionNames() string {
	names := make([]string, 0, len(ExternalConnections))
	for n := range ExternalConnections {
		names = append(names, n)
	}
	slices.Sort(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// RepositoryEndpointPath returns the path of the repository's endpoint for the
// format, "/<format>/d/<domain>-<owner>/<repository>/".
func (s *Service) RepositoryEndpointPath(ctx context.Context, ref RepoRef, format string) (string, error) {
	if err := validateFormat(format); err != nil {
		return "", err
	}
	var out string
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		out = "/" + format + "/d/" + d.Name + "-" + d.Owner + "/" + r.Name + "/"
		return nil
	})
	return out, err
}

// PutRepositoryPolicy sets the repository's permissions policy.
func (s *Service) PutRepositoryPolicy(ctx context.Context, ref RepoRef, revision, document string) (*ResourcePolicy, error) {
	var out *ResourcePolicy
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		rev, err := s.putPolicy("repository", r.Name, r.PolicyRevision, revision, document)
		if err != nil {
			return err
		}
		r.PolicyDocument, r.PolicyRevision = document, rev
		out = &ResourcePolicy{ResourceARN: s.RepositoryARN(d.Owner, d.Name, r.Name), Revision: rev, Document: document}
		return tx.UpdateRepository(r)
	})
	return out, err
}

// GetRepositoryPolicy returns the repository's permissions policy.
func (s *Service) GetRepositoryPolicy(ctx context.Context, ref RepoRef) (*ResourcePolicy, error) {
	var out *ResourcePolicy
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		if r.PolicyDocument == "" {
			return fault.NotFound("repository", r.Name, "No resource policy is set on repository %s", r.Name)
		}
		out = &ResourcePolicy{ResourceARN: s.RepositoryARN(d.Owner, d.Name, r.Name), Revision: r.PolicyRevision, Document: r.PolicyDocument}
		return nil
	})
	return out, err
}

// DeleteRepositoryPolicy removes the repository's permissions policy and returns it.
func (s *Service) DeleteRepositoryPolicy(ctx context.Context, ref RepoRef, revision string) (*ResourcePolicy, error) {
	var out *ResourcePolicy
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		d, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		if err := deletePolicy("repository", r.Name, r.PolicyDocument, r.PolicyRevision, revision); err != nil {
			return err
		}
		out = &ResourcePolicy{ResourceARN: s.RepositoryARN(d.Owner, d.Name, r.Name), Revision: r.PolicyRevision, Document: r.PolicyDocument}
		r.PolicyDocument, r.PolicyRevision = "", ""
		return tx.UpdateRepository(r)
	})
	return out, err
}
