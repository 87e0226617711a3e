package console

import (
	"net/http"

	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format/guide"
)

// Connection instructions: one tab per client guide the plug-ins supply
// (Config.Guides), each the configuration that points the client at the
// repository's real endpoint. Nothing here depends on the format being
// implemented yet: the endpoint URL is all a client needs.

type connectView struct {
	Repo, Domain, Owner, Region string
	Client                      guide.Guide
	Tabs                        []tabLink
	Endpoint                    string
	Snippets                    []guide.Snippet
	Token                       tokenForm
	RepoURL                     string
}

type tabLink struct {
	ID, Label, URL string
	Active         bool
}

func (c *Console) connectPage(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := repoRef(r)
	ctx := r.Context()
	if err := c.authorize(ctx, auth.ActionGetRepositoryEndpoint, c.repoARN(ref)); err != nil {
		return err
	}
	repo, err := c.svc.DescribeRepository(ctx, ref)
	if err != nil {
		return err
	}
	id := r.URL.Query().Get("client")
	if len(c.guides) == 0 {
		return fault.NotFound("guide", "", "no connection instructions are configured")
	}
	cl := c.guides[0]
	for _, x := range c.guides {
		if x.ID == id {
			cl = x
		}
	}
	epPath, err := c.svc.RepositoryEndpointPath(ctx, ref, cl.Format)
	if err != nil {
		return err
	}
	base := c.baseURL(r)
	self := repoURL(ref.Name, ref.Repository) + "connect"
	cv := connectView{Repo: repo.Name, Domain: repo.DomainName, Owner: repo.DomainOwner, Region: c.svc.Region(), Client: cl,
		Endpoint: base + epPath, RepoURL: repoURL(ref.Name, ref.Repository)}
	cv.Token = c.tokenForm(r, s, ref.DomainRef, self+"?client="+cl.ID)
	for _, x := range c.guides {
		cv.Tabs = append(cv.Tabs, tabLink{ID: x.ID, Label: x.Label, URL: self + "?client=" + x.ID, Active: x.ID == cl.ID})
	}
	cv.Snippets = cl.Snippets(guide.Conn{Endpoint: cv.Endpoint, API: base, Domain: repo.DomainName, Owner: repo.DomainOwner,
		Repo: repo.Name, Region: c.svc.Region()})
	c.render(w, r, http.StatusOK, "connect", &view{Title: "Connect to " + repo.Name, Principal: s.principal, CSRF: s.csrf, Body: cv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)},
			{Label: ref.Repository, Href: repoURL(ref.Name, ref.Repository)}, {Label: "Connection instructions"}}})
	return nil
}

// baseURL is the configured public URL, or the one the browser used.
func (c *Console) baseURL(r *http.Request) string {
	if c.publicURL != "" {
		return c.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
