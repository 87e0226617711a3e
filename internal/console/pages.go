package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/rules/ruleops"
)

// ---- domains ----

type domainsView struct {
	Domains  []domainRow
	NextURL  string
	FirstURL string
}

type domainRow struct {
	Name, Owner, Status, URL string
	Repositories             int
	Size                     string
	SizeBytes                int64
	Assets                   int64
	Created                  stamp
}

func (c *Console) domainsPage(w http.ResponseWriter, r *http.Request, s *state) error {
	if err := c.authorize(r.Context(), auth.ActionListDomains, "*"); err != nil {
		return err
	}
	after, ok := decodeKey(r.URL.Query().Get("after"))
	if !ok {
		return fault.Validation("The page link is not valid.")
	}
	ds, next, err := c.svc.ListDomains(r.Context(), artifact.PageRequest{After: after, Max: 100})
	if err != nil {
		return err
	}
	dv := domainsView{}
	for _, d := range ds {
		dv.Domains = append(dv.Domains, domainRow{Name: d.Name, Owner: d.Owner, Status: d.Status, URL: domainURL(d.Name),
			Repositories: d.RepositoryCount, Size: humanBytes(d.AssetSizeBytes), SizeBytes: d.AssetSizeBytes, Assets: d.AssetCount,
			Created: stampOf(d.CreatedTime)})
	}
	if next != "" {
		dv.NextURL = withQuery(Prefix, url.Values{"after": {encodeKey(next)}})
	}
	if after != "" {
		dv.FirstURL = Prefix
	}
	c.render(w, r, http.StatusOK, "domains", &view{Title: "Domains", Crumbs: []crumb{{Label: "Domains"}},
		Principal: s.principal, CSRF: s.csrf, Body: dv})
	return nil
}

// ---- domain ----

type domainView struct {
	Domain       *artifact.Domain
	Size         string
	Created      stamp
	Repositories []repoRow
	ReposDenied  bool
	NextURL      string
	FirstURL     string
	// PolicyState is "set", "none" or "denied".
	PolicyState    string
	Policy         string
	PolicyRevision string
	GroupsURL      string
	RulesURL       string // "" when the principal may not list the domain's rules
	Token          tokenForm
}

type repoRow struct {
	Name, URL, Description, Admin string
	Created                       stamp
}

// tokenForm is the "Get a token" button.
type tokenForm struct {
	Allowed bool
	Action  string
	Return  string // the page to go back to
	CSRF    string
}

func (c *Console) tokenForm(r *http.Request, s *state, d artifact.DomainRef, back string) tokenForm {
	ok := c.allowed(r.Context(), auth.ActionGetAuthorizationToken, c.domainARN(d)) && c.allowed(r.Context(), auth.ActionGetServiceBearerToken, "*")
	return tokenForm{Allowed: ok, Action: domainURL(d.Name) + "token", Return: back, CSRF: s.csrf}
}

func (c *Console) domainPage(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := domainRef(r)
	ctx := r.Context()
	if err := c.authorize(ctx, auth.ActionDescribeDomain, c.domainARN(ref)); err != nil {
		return err
	}
	d, err := c.svc.DescribeDomain(ctx, ref)
	if err != nil {
		return err
	}
	dv := domainView{Domain: d, Size: humanBytes(d.AssetSizeBytes), Created: stampOf(d.CreatedTime), GroupsURL: domainURL(d.Name) + "groups",
		Token: c.tokenForm(r, s, ref, domainURL(d.Name))}
	if c.allowed(ctx, ruleops.ActionList, c.rules.Resource("", d.Name, "")) {
		dv.RulesURL = rulesURL(d.Name)
	}
	if c.allowed(ctx, auth.ActionListRepositoriesInDomain, c.domainARN(ref)) {
		after, ok := decodeKey(r.URL.Query().Get("after"))
		if !ok {
			return fault.Validation("The page link is not valid.")
		}
		rs, next, err := c.svc.ListRepositories(ctx, artifact.RepositoryFilter{Domain: ref}, artifact.PageRequest{After: after, Max: 100})
		if err != nil {
			return err
		}
		for _, rp := range rs {
			dv.Repositories = append(dv.Repositories, repoRow{Name: rp.Name, URL: repoURL(d.Name, rp.Name), Description: rp.Description,
				Admin: rp.AdministratorAccount, Created: stampOf(rp.CreatedTime)})
		}
		if next != "" {
			dv.NextURL = withQuery(domainURL(d.Name), url.Values{"after": {encodeKey(next)}})
		}
		if after != "" {
			dv.FirstURL = domainURL(d.Name)
		}
	} else {
		dv.ReposDenied = true
	}
	dv.PolicyState = "denied"
	if c.allowed(ctx, auth.ActionGetDomainPermissionsPolicy, c.domainARN(ref)) {
		p, err := c.svc.GetDomainPolicy(ctx, ref)
		switch {
		case errors.Is(err, fault.ErrNotFound):
			dv.PolicyState = "none"
		case err != nil:
			return err
		default:
			dv.PolicyState, dv.Policy, dv.PolicyRevision = "set", prettyJSON(p.Document), p.Revision
		}
	}
	c.render(w, r, http.StatusOK, "domain", &view{Title: d.Name, Principal: s.principal, CSRF: s.csrf, Body: dv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: d.Name}}})
	return nil
}

func prettyJSON(doc string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(doc), "", "  "); err != nil {
		return doc
	}
	return buf.String()
}

// ---- package groups ----

type groupsView struct {
	Domain   string
	Groups   []groupRow
	NextURL  string
	FirstURL string
	Types    []string
}

type groupRow struct {
	Pattern, Description, Contact, Parent string
	Created                               stamp
	Restrictions                          []restrictionCell
}

// restrictionCell is one restriction type of a group, as the table shows it.
type restrictionCell struct {
	Type, Mode, Effective, InheritedFrom string
	Repositories                         int
}

// restrictionTypes are the origin restriction types in the API's order.
var restrictionTypes = []string{artifact.RestrictionPublish, artifact.RestrictionExternalUpstream, artifact.RestrictionInternalUpstream}

func restrictionCells(g *artifact.PackageGroup) []restrictionCell {
	out := make([]restrictionCell, 0, len(restrictionTypes))
	for _, t := range restrictionTypes {
		res := g.Restrictions[t]
		cell := restrictionCell{Type: t, Mode: res.Mode, Effective: res.EffectiveMode, Repositories: res.RepositoriesCount}
		if res.InheritedFrom != nil {
			cell.InheritedFrom = res.InheritedFrom.Pattern
		}
		out = append(out, cell)
	}
	return out
}

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := domainRef(r)
	if err := c.authorize(r.Context(), auth.ActionListPackageGroups, c.domainARN(ref)); err != nil {
		return err
	}
	after, ok := decodeKey(r.URL.Query().Get("after"))
	if !ok {
		return fault.Validation("The page link is not valid.")
	}
	gs, next, err := c.svc.ListPackageGroups(r.Context(), ref, "", artifact.PageRequest{After: after, Max: 100})
	if err != nil {
		return err
	}
	self := domainURL(ref.Name) + "groups"
	gv := groupsView{Domain: ref.Name, Types: restrictionTypes}
	for i := range gs {
		g := &gs[i]
		row := groupRow{Pattern: g.Pattern, Description: g.Description, Contact: g.ContactInfo, Created: stampOf(g.CreatedTime),
			Restrictions: restrictionCells(g)}
		if g.Parent != nil {
			row.Parent = g.Parent.Pattern
		}
		gv.Groups = append(gv.Groups, row)
	}
	if next != "" {
		gv.NextURL = withQuery(self, url.Values{"after": {encodeKey(next)}})
	}
	if after != "" {
		gv.FirstURL = self
	}
	c.render(w, r, http.StatusOK, "groups", &view{Title: "Package groups · " + ref.Name, Principal: s.principal, CSRF: s.csrf, Body: gv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)}, {Label: "Package groups"}}})
	return nil
}

// ---- repository ----

type repoView struct {
	Repo       *artifact.Repository
	Created    stamp
	Upstreams  []upstreamLink
	External   []string
	Flow       template.HTML
	FlowURL    string
	ConnectURL string
	CanConnect bool
	Packages   *packagesTable
	PkgsDenied bool
	DomainURL  string
}

type upstreamLink struct {
	Name, URL string
	Missing   bool
}

func (c *Console) repositoryPage(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := repoRef(r)
	ctx := r.Context()
	if err := c.authorize(ctx, auth.ActionDescribeRepository, c.repoARN(ref)); err != nil {
		return err
	}
	repo, err := c.svc.DescribeRepository(ctx, ref)
	if err != nil {
		return err
	}
	g, err := c.flowGraph(r, repo)
	if err != nil {
		return err
	}
	base := repoURL(ref.Name, ref.Repository)
	rv := repoView{Repo: repo, Created: stampOf(repo.CreatedTime), Flow: template.HTML(g.svg()), FlowURL: base + "flow.svg",
		ConnectURL: base + "connect", CanConnect: c.allowed(ctx, auth.ActionGetRepositoryEndpoint, c.repoARN(ref)), DomainURL: domainURL(ref.Name)}
	missing := g.missing()
	for _, u := range repo.Upstreams {
		rv.Upstreams = append(rv.Upstreams, upstreamLink{Name: u, URL: repoURL(ref.Name, u), Missing: missing[u]})
	}
	for _, ec := range repo.ExternalConnections {
		rv.External = append(rv.External, ec.Name)
	}
	if c.allowed(ctx, auth.ActionListPackages, c.repoARN(ref)) {
		t, err := c.packagesTable(r, ref)
		if err != nil {
			return err
		}
		rv.Packages = t
	} else {
		rv.PkgsDenied = true
	}
	c.render(w, r, http.StatusOK, "repository", &view{Title: repo.Name + " · " + ref.Name, Principal: s.principal, CSRF: s.csrf, Body: rv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)}, {Label: repo.Name}}})
	return nil
}

// packagesTable is the repository's packages table: one page of the
// service's keyset-paginated listing, filtered by name prefix, format,
// namespace prefix and origin controls.
type packagesTable struct {
	Action   string
	Filter   packageFilter
	Formats  []string
	Rows     []packageRow
	NextURL  string
	FirstURL string
	Error    string
	Sizes    []int
	Size     int
	Filtered bool
}

type packageFilter struct {
	Prefix, Format, Namespace, Publish, Upstream string
}

type packageRow struct {
	Name, Namespace, Format, URL string
	Latest, LatestURL            string
	LatestPublished              stamp
	Publish, Upstream            string
}

func (c *Console) packagesTable(r *http.Request, ref artifact.RepoRef) (*packagesTable, error) {
	q := r.URL.Query()
	base := repoURL(ref.Name, ref.Repository)
	t := &packagesTable{Action: base, Formats: artifact.Formats, Sizes: []int{25, 50, 100}, Size: pageSize(r),
		Filter: packageFilter{Prefix: q.Get("prefix"), Format: q.Get("format"), Namespace: q.Get("namespace"),
			Publish: q.Get("publish"), Upstream: q.Get("upstream")}}
	f := t.Filter
	t.Filtered = f != packageFilter{}
	switch {
	case f.Format != "" && !slices.Contains(artifact.Formats, f.Format):
		t.Error = "Choose a format from the list."
	case f.Publish != "" && f.Publish != artifact.Allow && f.Publish != artifact.Block,
		f.Upstream != "" && f.Upstream != artifact.Allow && f.Upstream != artifact.Block:
		t.Error = "Origin controls are ALLOW or BLOCK."
	case len(f.Prefix) > 255 || len(f.Namespace) > 255:
		t.Error = "Prefixes are at most 255 characters."
	}
	after, ok := decodeKey(q.Get("after"))
	if !ok {
		t.Error = "The page link is not valid; showing the first page."
		after = ""
	}
	if t.Error != "" {
		return t, nil
	}
	pkgs, next, err := c.svc.ListPackages(r.Context(), ref, artifact.PackageFilter{Format: f.Format, NamespacePrefix: f.Namespace,
		PackagePrefix: f.Prefix, Publish: f.Publish, Upstream: f.Upstream}, artifact.PageRequest{After: after, Max: t.Size})
	if fault.KindOf(err) == fault.KindValidation {
		t.Error = fault.As(err).Message
		return t, nil
	} else if err != nil {
		return nil, err
	}
	// Latest versions, for the packages whose versions the principal may list.
	ids := make([]int64, 0, len(pkgs))
	for _, p := range pkgs {
		pr := artifact.PackageRef{RepoRef: ref, Format: p.Format, Namespace: p.Namespace, Package: p.Name}
		if c.allowed(r.Context(), auth.ActionListPackageVersions, c.packageARN(pr)) {
			ids = append(ids, p.ID)
		}
	}
	latest, err := c.svc.LatestVersions(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		row := packageRow{Name: p.Name, Namespace: p.Namespace, Format: p.Format, Publish: p.Publish, Upstream: p.Upstream,
			URL: packageURL(ref.Name, ref.Repository, p.Format, p.Namespace, p.Name)}
		if v, ok := latest[p.ID]; ok {
			row.Latest, row.LatestPublished = v.Version, stampOf(v.PublishedTime)
			row.LatestURL = versionURL(ref.Name, ref.Repository, p.Format, p.Namespace, p.Name, v.Version)
		}
		t.Rows = append(t.Rows, row)
	}
	keep := url.Values{}
	for k, v := range map[string]string{"prefix": f.Prefix, "format": f.Format, "namespace": f.Namespace, "publish": f.Publish, "upstream": f.Upstream} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	if t.Size != 50 {
		keep.Set("size", itoa(t.Size))
	}
	if next != "" {
		nq := url.Values{}
		for k, v := range keep {
			nq[k] = v
		}
		nq.Set("after", encodeKey(next))
		t.NextURL = withQuery(base, nq) + "#packages"
	}
	if after != "" {
		t.FirstURL = withQuery(base, keep) + "#packages"
	}
	return t, nil
}

// ---- package ----

type packageView struct {
	Pkg         *artifact.Package
	Display     string
	ARN         string
	Versions    []versionRow
	VersDenied  bool
	Default     string
	NextURL     string
	FirstURL    string
	CanOrigin   bool
	OriginForm  string
	Coordinates url.Values
	Notice      string
	// Group is the package group the package belongs to (nil when the
	// principal may not ask).
	Group     *groupRow
	GroupsURL string
	// Withheld is what the supply-chain gate withholds (withheld.go); nil
	// when nothing is or the principal may not list the versions.
	Withheld *withheldPanel
}

type versionRow struct {
	Version, URL, Status, Origin, EntryPoint, Revision string
	Published                                          stamp
	Withheld                                           string // the gate's state of the version ("withheld", "quarantined"); "" when offered
}

func (c *Console) packagePage(w http.ResponseWriter, r *http.Request, s *state) error {
	q := r.URL.Query()
	ref := packageRef(r, q)
	ctx := r.Context()
	if err := c.authorize(ctx, auth.ActionDescribePackage, c.packageARN(ref)); err != nil {
		return err
	}
	p, err := c.svc.DescribePackage(ctx, ref)
	if err != nil {
		return err
	}
	// Links use the stored (normalised) coordinates.
	ref.Namespace, ref.Package = p.Namespace, p.Name
	pv := packageView{Pkg: p, Display: displayName(p.Format, p.Namespace, p.Name), ARN: c.packageARN(ref),
		CanOrigin: c.allowed(ctx, auth.ActionPutPackageOriginConfiguration, c.packageARN(ref)), OriginForm: repoURL(ref.Name, ref.Repository) + "package/origin",
		Coordinates: pkgQuery(p.Format, p.Namespace, p.Name)}
	if c.allowed(ctx, auth.ActionGetAssociatedPackageGroup, c.domainARN(ref.DomainRef)) {
		g, _, err := c.svc.GetAssociatedPackageGroup(ctx, ref.DomainRef, p.Format, p.Namespace, p.Name)
		if err != nil {
			return err
		}
		pv.Group = &groupRow{Pattern: g.Pattern, Description: g.Description, Restrictions: restrictionCells(g)}
		pv.GroupsURL = domainURL(ref.Name) + "groups"
	}
	switch q.Get("done") {
	case "origin":
		pv.Notice = "Origin controls saved."
	case "deleted":
		pv.Notice = "The version was deleted."
	}
	if c.allowed(ctx, auth.ActionListPackageVersions, c.packageARN(ref)) {
		after, ok := decodeKey(q.Get("after"))
		if !ok {
			return fault.Validation("The page link is not valid.")
		}
		vl, err := c.svc.ListPackageVersions(ctx, ref, artifact.VersionFilter{}, artifact.PageRequest{After: after, Max: 100})
		if err != nil {
			return err
		}
		pv.Default = vl.DefaultDisplayVersion
		if pv.Withheld, err = c.withheld(ctx, ref); err != nil {
			return err
		}
		for _, v := range vl.Versions {
			row := versionRow{Version: v.Version, Status: v.Status, Origin: v.OriginType, Revision: v.Revision, Published: stampOf(v.PublishedTime),
				URL: versionURL(ref.Name, ref.Repository, p.Format, p.Namespace, p.Name, v.Version), Withheld: pv.Withheld.state(v.Version)}
			switch {
			case v.OriginRepository != "":
				row.EntryPoint = v.OriginRepository
			case v.OriginExternalConnection != "":
				row.EntryPoint = v.OriginExternalConnection
			}
			pv.Versions = append(pv.Versions, row)
		}
		self := packageURL(ref.Name, ref.Repository, p.Format, p.Namespace, p.Name)
		if vl.Next != "" {
			pv.NextURL = self + "&after=" + url.QueryEscape(encodeKey(vl.Next))
		}
		if after != "" {
			pv.FirstURL = self
		}
	} else {
		pv.VersDenied = true
	}
	c.render(w, r, http.StatusOK, "package", &view{Title: pv.Display + " · " + ref.Repository, Principal: s.principal, CSRF: s.csrf, Body: pv,
		Notice: pv.Notice, Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)},
			{Label: ref.Repository, Href: repoURL(ref.Name, ref.Repository)}, {Label: pv.Display}}})
	return nil
}

// ---- version ----

type versionView struct {
	V            *artifact.Version
	Display      string
	PackageURL   string
	Published    stamp
	Created      stamp
	EntryPoint   string
	Assets       []assetRow
	AssetsDenied bool
	AssetsMore   bool
	CanDownload  bool
	Deps         []depRow
	DepsDenied   bool
	Readme       template.HTML
	ReadmeDenied bool
	Coordinates  url.Values
	CanStatus    bool
	StatusForm   string
	Targets      []string
	CanDelete    bool
	DeleteForm   string
	CanDispose   bool
	DisposeForm  string
}

type assetRow struct {
	Name, Size, MD5, SHA1, SHA256, SHA512, URL string
	SizeBytes                                  int64
}

type depRow struct {
	Name, Type, Requirement string
}

func (c *Console) versionPage(w http.ResponseWriter, r *http.Request, s *state) error {
	q := r.URL.Query()
	ref := versionRef(r, q)
	ctx := r.Context()
	arn := c.packageARN(ref.PackageRef)
	if err := c.authorize(ctx, auth.ActionDescribePackageVersion, arn); err != nil {
		return err
	}
	v, err := c.svc.DescribePackageVersion(ctx, ref)
	if err != nil {
		return err
	}
	ref.Namespace, ref.Package = v.Namespace, v.Package
	base := repoURL(ref.Name, ref.Repository)
	vv := versionView{V: v, Display: displayName(v.Format, v.Namespace, v.Package), Published: stampOf(v.PublishedTime), Created: stampOf(v.CreatedTime),
		PackageURL: packageURL(ref.Name, ref.Repository, v.Format, v.Namespace, v.Package)}
	vv.Coordinates = pkgQuery(v.Format, v.Namespace, v.Package)
	vv.Coordinates.Set("version", v.Version.Version)
	switch {
	case v.OriginRepository != "":
		vv.EntryPoint = "repository " + v.OriginRepository
	case v.OriginExternalConnection != "":
		vv.EntryPoint = "external connection " + v.OriginExternalConnection
	}
	if c.allowed(ctx, auth.ActionListPackageVersionAssets, arn) {
		al, err := c.svc.ListPackageVersionAssets(ctx, ref, artifact.PageRequest{Max: 1000})
		if err != nil {
			return err
		}
		vv.AssetsMore = al.Next != ""
		vv.CanDownload = c.allowed(ctx, auth.ActionGetPackageVersionAsset, arn) && v.Status != artifact.StatusArchived && v.Status != artifact.StatusDisposed
		for _, a := range al.Assets {
			row := assetRow{Name: a.Name, Size: humanBytes(a.Blob.Size), SizeBytes: a.Blob.Size, MD5: a.Blob.MD5, SHA1: a.Blob.SHA1,
				SHA256: a.Blob.SHA256, SHA512: a.Blob.SHA512}
			if vv.CanDownload {
				row.URL = assetURL(ref.Name, ref.Repository, v.Format, v.Namespace, v.Package, v.Version.Version, a.Name)
			}
			vv.Assets = append(vv.Assets, row)
		}
	} else {
		vv.AssetsDenied = true
	}
	if c.allowed(ctx, auth.ActionListPackageVersionDependencies, arn) {
		for _, d := range v.Dependencies {
			vv.Deps = append(vv.Deps, depRow{Name: displayName(v.Format, d.Namespace, d.Package), Type: d.DependencyType, Requirement: d.VersionRequirement})
		}
	} else {
		vv.DepsDenied = true
	}
	if c.allowed(ctx, auth.ActionGetPackageVersionReadme, arn) {
		vv.Readme = renderReadme(v.Readme)
	} else {
		vv.ReadmeDenied = true
	}
	if v.Status != artifact.StatusDisposed && c.allowed(ctx, auth.ActionUpdatePackageVersionsStatus, arn) {
		vv.CanStatus, vv.StatusForm = true, base+"version/status"
		for _, t := range []string{artifact.StatusPublished, artifact.StatusUnlisted, artifact.StatusArchived} {
			if t != v.Status {
				vv.Targets = append(vv.Targets, t)
			}
		}
	}
	vv.CanDelete, vv.DeleteForm = c.allowed(ctx, auth.ActionDeletePackageVersions, arn), base+"version/delete"
	vv.CanDispose = v.Status != artifact.StatusDisposed && c.allowed(ctx, auth.ActionDisposePackageVersions, arn)
	vv.DisposeForm = base + "version/dispose"
	notice := ""
	switch q.Get("done") {
	case "status":
		notice = "Status changed to " + v.Status + "."
	case "disposed":
		notice = "Version disposed: its assets are deleted."
	}
	c.render(w, r, http.StatusOK, "version", &view{Title: vv.Display + " " + v.Version.Version, Principal: s.principal, CSRF: s.csrf, Body: vv,
		Notice: notice, Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)},
			{Label: ref.Repository, Href: repoURL(ref.Name, ref.Repository)}, {Label: vv.Display, Href: vv.PackageURL}, {Label: v.Version.Version}}})
	return nil
}

// download serves an asset as an attachment.
func (c *Console) download(w http.ResponseWriter, r *http.Request, s *state) error {
	q := r.URL.Query()
	ref := versionRef(r, q)
	if err := c.authorize(r.Context(), auth.ActionGetPackageVersionAsset, c.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	_, a, obj, err := c.svc.GetPackageVersionAsset(r.Context(), ref, q.Get("asset"), "")
	if err != nil {
		return err
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", attachment(a.Name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if a.Blob.SHA256 != "" {
		h.Set("ETag", `"`+a.Blob.SHA256+`"`)
	}
	modified := a.CreatedTime
	if modified.IsZero() {
		modified = obj.ModTime()
	}
	http.ServeContent(w, r, "", modified, obj.Reader())
	return nil
}
