package controlplane

import (
	"context"
	"fmt"
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

// repositoryDescription is the model's RepositoryDescription. The two lists
// are always present (empty when there is nothing), as AWS returns them.
type repositoryDescription struct {
	Name                 string                   `json:"name,omitempty"`
	AdministratorAccount string                   `json:"administratorAccount,omitempty"`
	DomainName           string                   `json:"domainName,omitempty"`
	DomainOwner          string                   `json:"domainOwner,omitempty"`
	ARN                  string                   `json:"arn,omitempty"`
	Description          string                   `json:"description,omitempty"`
	Upstreams            []upstreamInfo           `json:"upstreams"`
	ExternalConnections  []externalConnectionInfo `json:"externalConnections"`
	CreatedTime          epoch                    `json:"createdTime,omitzero"`
}

type upstreamInfo struct {
	RepositoryName string `json:"repositoryName"`
}

type externalConnectionInfo struct {
	ExternalConnectionName string `json:"externalConnectionName"`
	PackageFormat          string `json:"packageFormat,omitempty"`
	Status                 string `json:"status"`
}

// repositorySummary is the model's RepositorySummary.
type repositorySummary struct {
	Name                 string `json:"name,omitempty"`
	AdministratorAccount string `json:"administratorAccount,omitempty"`
	DomainName           string `json:"domainName,omitempty"`
	DomainOwner          string `json:"domainOwner,omitempty"`
	ARN                  string `json:"arn,omitempty"`
	Description          string `json:"description,omitempty"`
	CreatedTime          epoch  `json:"createdTime,omitzero"`
}

// adminAccount defaults the administrator to the domain owner.
func adminAccount(r *artifact.Repository) string {
	if r.AdministratorAccount != "" {
		return r.AdministratorAccount
	}
	return r.DomainOwner
}

func toRepository(r *artifact.Repository) repositoryDescription {
	d := repositoryDescription{
		Name:                 r.Name,
		AdministratorAccount: adminAccount(r),
		DomainName:           r.DomainName,
		DomainOwner:          r.DomainOwner,
		ARN:                  r.ARN,
		Description:          r.Description,
		Upstreams:            make([]upstreamInfo, 0, len(r.Upstreams)),
		ExternalConnections:  make([]externalConnectionInfo, 0, len(r.ExternalConnections)),
		CreatedTime:          epoch(r.CreatedTime),
	}
	for _, u := range r.Upstreams {
		d.Upstreams = append(d.Upstreams, upstreamInfo{RepositoryName: u})
	}
	for _, c := range r.ExternalConnections {
		// The model's ExternalConnectionStatus has the single value Available.
		d.ExternalConnections = append(d.ExternalConnections, externalConnectionInfo{ExternalConnectionName: c.Name, PackageFormat: c.Format, Status: "Available"})
	}
	return d
}

func toRepositorySummary(r *artifact.Repository) repositorySummary {
	return repositorySummary{
		Name:                 r.Name,
		AdministratorAccount: adminAccount(r),
		DomainName:           r.DomainName,
		DomainOwner:          r.DomainOwner,
		ARN:                  r.ARN,
		Description:          r.Description,
		CreatedTime:          epoch(r.CreatedTime),
	}
}

// repositoryOutput is the output of the operations returning one repository.
type repositoryOutput struct {
	Repository repositoryDescription `json:"repository"`
}

// repositoryListOutput is the output of ListRepositories(InDomain).
type repositoryListOutput struct {
	Repositories []repositorySummary `json:"repositories"`
	NextToken    string              `json:"nextToken,omitempty"`
}

// upstream is the model's UpstreamRepository in a request body.
type upstream struct {
	RepositoryName *string `json:"repositoryName"`
}

// upstreams validates an UpstreamRepositoryList and returns the names.
func (in *input) upstreams(list []upstream) []string {
	names := make([]string, 0, len(list))
	for i, u := range list {
		names = append(names, in.v.reqStr(fmt.Sprintf("upstreams.%d.member.repositoryName", i+1), u.RepositoryName, specRepositoryName))
	}
	return names
}

// authorizeUpstreams checks AssociateWithDownstreamRepository on each
// upstream: naming a repository as an upstream reads through it.
func (h *handler) authorizeUpstreams(r *http.Request, d artifact.DomainRef, names []string) error {
	for _, name := range names {
		if err := h.authorize(r, "AssociateWithDownstreamRepository", h.repoARN(d, name)); err != nil {
			return err
		}
	}
	return nil
}

func (h *handler) createRepository(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	var body struct {
		Description *string    `json:"description"`
		Upstreams   []upstream `json:"upstreams"`
		Tags        []tag      `json:"tags"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	description := in.v.optStr("description", body.Description, specDescription)
	ups := in.upstreams(body.Upstreams)
	tags := in.tags("tags", body.Tags)
	if err := in.done(); err != nil {
		return err
	}
	// CreateRepository is granted on the domain (the repository does not exist yet).
	if err := h.authorizeTagged(r, "CreateRepository", h.domainARN(ref.DomainRef), tags); err != nil {
		return err
	}
	if err := h.authorizeUpstreams(r, ref.DomainRef, ups); err != nil {
		return err
	}
	repo, err := h.svc.CreateRepository(r.Context(), ref, description, ups, tags)
	if err != nil {
		return err
	}
	return writeJSON(w, repositoryOutput{toRepository(repo)})
}

func (h *handler) updateRepository(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	// Pointers keep "absent" apart from "empty"; what absence means is the
	// service's rule.
	var body struct {
		Description *string     `json:"description"`
		Upstreams   *[]upstream `json:"upstreams"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	var description *string
	if body.Description != nil {
		in.v.str("description", *body.Description, specDescription)
		description = body.Description
	}
	var ups *[]string
	if body.Upstreams != nil {
		names := in.upstreams(*body.Upstreams)
		ups = &names
	}
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "UpdateRepository", h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	if ups != nil {
		// Every listed upstream is checked, not only new ones: finding out
		// which are new would need a read before authorization.
		if err := h.authorizeUpstreams(r, ref.DomainRef, *ups); err != nil {
			return err
		}
	}
	repo, err := h.svc.UpdateRepository(r.Context(), ref, description, ups)
	if err != nil {
		return err
	}
	return writeJSON(w, repositoryOutput{toRepository(repo)})
}

func (h *handler) describeRepository(w http.ResponseWriter, r *http.Request) error {
	return h.repositoryOp(w, r, "DescribeRepository", h.svc.DescribeRepository)
}

func (h *handler) deleteRepository(w http.ResponseWriter, r *http.Request) error {
	return h.repositoryOp(w, r, "DeleteRepository", h.svc.DeleteRepository)
}

// repositoryOp serves the operations that take only the repository and return it.
func (h *handler) repositoryOp(w http.ResponseWriter, r *http.Request, op string,
	call func(context.Context, artifact.RepoRef) (*artifact.Repository, error)) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, op, h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	repo, err := call(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, repositoryOutput{toRepository(repo)})
}

func (h *handler) associateExternalConnection(w http.ResponseWriter, r *http.Request) error {
	return h.externalConnectionOp(w, r, "AssociateExternalConnection", h.svc.AssociateExternalConnection)
}

func (h *handler) disassociateExternalConnection(w http.ResponseWriter, r *http.Request) error {
	return h.externalConnectionOp(w, r, "DisassociateExternalConnection", h.svc.DisassociateExternalConnection)
}

func (h *handler) externalConnectionOp(w http.ResponseWriter, r *http.Request, op string,
	call func(context.Context, artifact.RepoRef, string) (*artifact.Repository, error)) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	conn := in.str("external-connection", "externalConnection", specExternalConn, true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, op, h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	repo, err := call(r.Context(), ref, conn)
	if err != nil {
		return err
	}
	return writeJSON(w, repositoryOutput{toRepository(repo)})
}

func (h *handler) listRepositories(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	f := artifact.RepositoryFilter{Prefix: in.str("repository-prefix", "repositoryPrefix", specRepositoryName, false)}
	page := in.page("ListRepositories", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListRepositories", "*"); err != nil {
		return err
	}
	return h.writeRepositories(w, r, in, f, page)
}

func (h *handler) listRepositoriesInDomain(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	f := artifact.RepositoryFilter{
		Domain:               in.domain(),
		AdministratorAccount: in.str("administrator-account", "administratorAccount", specAccountID, false),
		Prefix:               in.str("repository-prefix", "repositoryPrefix", specRepositoryName, false),
	}
	page := in.page("ListRepositoriesInDomain", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListRepositoriesInDomain", h.domainARN(f.Domain)); err != nil {
		return err
	}
	return h.writeRepositories(w, r, in, f, page)
}

func (h *handler) writeRepositories(w http.ResponseWriter, r *http.Request, in *input, f artifact.RepositoryFilter, page artifact.PageRequest) error {
	repos, next, err := h.svc.ListRepositories(r.Context(), f, page)
	if err != nil {
		return err
	}
	out := repositoryListOutput{Repositories: make([]repositorySummary, 0, len(repos)), NextToken: in.nextToken(next)}
	for i := range repos {
		out.Repositories = append(out.Repositories, toRepositorySummary(&repos[i]))
	}
	return writeJSON(w, out)
}

func (h *handler) getRepositoryEndpoint(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	format := in.str("format", "format", specFormat, true)
	// ipv4 and dualstack get the same URL: coffer listens where it listens.
	in.str("endpointType", "endpointType", specEndpointType, false)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "GetRepositoryEndpoint", h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	path, err := h.svc.RepositoryEndpointPath(r.Context(), ref, format)
	if err != nil {
		return err
	}
	if h.cfg.PublicURL == "" {
		return fault.Internal(nil, "controlplane: Config.PublicURL is not set")
	}
	return writeJSON(w, struct {
		RepositoryEndpoint string `json:"repositoryEndpoint"`
	}{h.cfg.PublicURL + path})
}

func (h *handler) putRepositoryPolicy(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	var body struct {
		PolicyRevision *string `json:"policyRevision"`
		PolicyDocument *string `json:"policyDocument"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	revision := in.v.optStr("policyRevision", body.PolicyRevision, specPolicyRevision)
	document := in.v.reqStr("policyDocument", body.PolicyDocument, specPolicyDocument)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "PutRepositoryPermissionsPolicy", h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	p, err := h.svc.PutRepositoryPolicy(r.Context(), ref, revision, document)
	if err != nil {
		return err
	}
	return writeJSON(w, policyOutput{toPolicy(p)})
}

func (h *handler) getRepositoryPolicy(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "GetRepositoryPermissionsPolicy", h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	p, err := h.svc.GetRepositoryPolicy(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, policyOutput{toPolicy(p)})
}

func (h *handler) deleteRepositoryPolicy(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	revision := in.str("policy-revision", "policyRevision", specPolicyRevision, false)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DeleteRepositoryPermissionsPolicy", h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	p, err := h.svc.DeleteRepositoryPolicy(r.Context(), ref, revision)
	if err != nil {
		return err
	}
	return writeJSON(w, policyOutput{toPolicy(p)})
}
