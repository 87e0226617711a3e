package controlplane

import (
	"fmt"
	"maps"
	"net/http"
	"slices"

	"coffer/internal/artifact"
)

// The package-group shapes of the model.
var (
	// PackageGroupPattern is [^\p{C}\p{IsWhitespace}]+; Java's White_Space
	// outside \p{C} is exactly Go's \p{Z}.
	specPackageGroupPattern = patternSpec(2, 520, `[^\p{C}\p{IsWhitespace}]+`, `[^\p{C}\p{Z}]+`)
	specPackageGroupPrefix  = patternSpec(0, 520, `\P{C}*`, "")
	specContactInfo         = patternSpec(0, 1000, `\P{C}*`, "")
	specRestrictionType     = enumSpec(artifact.RestrictionTypes...)
	specGroupMode           = enumSpec(artifact.GroupModes...)
	// DeletePackageGroup's packageGroup is a plain String in the model.
	specAnyString = strSpec{}
)

// packageGroupReference is the model's PackageGroupReference.
type packageGroupReference struct {
	ARN     string `json:"arn,omitempty"`
	Pattern string `json:"pattern,omitempty"`
}

// packageGroupOriginRestriction is the model's PackageGroupOriginRestriction.
type packageGroupOriginRestriction struct {
	Mode              string                 `json:"mode,omitempty"`
	EffectiveMode     string                 `json:"effectiveMode,omitempty"`
	InheritedFrom     *packageGroupReference `json:"inheritedFrom,omitempty"`
	RepositoriesCount int64                  `json:"repositoriesCount"`
}

// packageGroupOriginConfiguration is the model's PackageGroupOriginConfiguration.
type packageGroupOriginConfiguration struct {
	Restrictions map[string]packageGroupOriginRestriction `json:"restrictions"`
}

// packageGroupDescription is the model's PackageGroupDescription; its
// PackageGroupSummary has the same members.
type packageGroupDescription struct {
	ARN                 string                           `json:"arn,omitempty"`
	Pattern             string                           `json:"pattern,omitempty"`
	DomainName          string                           `json:"domainName,omitempty"`
	DomainOwner         string                           `json:"domainOwner,omitempty"`
	CreatedTime         epoch                            `json:"createdTime,omitzero"`
	ContactInfo         string                           `json:"contactInfo,omitempty"`
	Description         string                           `json:"description,omitempty"`
	OriginConfiguration *packageGroupOriginConfiguration `json:"originConfiguration,omitempty"`
	Parent              *packageGroupReference           `json:"parent,omitempty"`
}

func toGroupRef(g *artifact.GroupRef) *packageGroupReference {
	if g == nil {
		return nil
	}
	return &packageGroupReference{ARN: g.ARN, Pattern: g.Pattern}
}

func toPackageGroup(g *artifact.PackageGroup) packageGroupDescription {
	out := packageGroupDescription{
		ARN:                 g.ARN,
		Pattern:             g.Pattern,
		DomainName:          g.DomainName,
		DomainOwner:         g.DomainOwner,
		CreatedTime:         epoch(g.CreatedTime),
		ContactInfo:         g.ContactInfo,
		Description:         g.Description,
		OriginConfiguration: &packageGroupOriginConfiguration{Restrictions: map[string]packageGroupOriginRestriction{}},
		Parent:              toGroupRef(g.Parent),
	}
	for t, res := range g.Restrictions {
		out.OriginConfiguration.Restrictions[t] = packageGroupOriginRestriction{Mode: res.Mode, EffectiveMode: res.EffectiveMode,
			InheritedFrom: toGroupRef(res.InheritedFrom), RepositoriesCount: int64(res.RepositoriesCount)}
	}
	return out
}

// packageGroupOutput is the output of the operations returning one group.
type packageGroupOutput struct {
	PackageGroup packageGroupDescription `json:"packageGroup"`
}

// packageGroupListOutput is the output of ListPackageGroups and ListSubPackageGroups.
type packageGroupListOutput struct {
	PackageGroups []packageGroupDescription `json:"packageGroups"`
	NextToken     string                    `json:"nextToken,omitempty"`
}

func toPackageGroupList(gs []artifact.PackageGroup, token string) packageGroupListOutput {
	out := packageGroupListOutput{PackageGroups: make([]packageGroupDescription, 0, len(gs)), NextToken: token}
	for i := range gs {
		out.PackageGroups = append(out.PackageGroups, toPackageGroup(&gs[i]))
	}
	return out
}

// groupARN names a package group for authorization, with its pattern in the
// form the service keeps.
func (h *handler) groupARN(d artifact.DomainRef, pattern string) string {
	return h.svc.PackageGroupARN(h.owner(d.Owner), d.Name, artifact.CanonicalPackageGroupPattern(pattern))
}

// packageGroup reads package-group*, the pattern in the query string.
func (in *input) packageGroup() string {
	return in.str("package-group", "packageGroup", specPackageGroupPattern, true)
}

func (h *handler) createPackageGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	var body struct {
		PackageGroup *string `json:"packageGroup"`
		ContactInfo  *string `json:"contactInfo"`
		Description  *string `json:"description"`
		Tags         []tag   `json:"tags"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	pattern := in.v.reqStr("packageGroup", body.PackageGroup, specPackageGroupPattern)
	contact := in.v.optStr("contactInfo", body.ContactInfo, specContactInfo)
	description := in.v.optStr("description", body.Description, specDescription)
	tags := in.tags("tags", body.Tags)
	if err := in.done(); err != nil {
		return err
	}
	// CreatePackageGroup is granted on the domain (the group does not exist yet).
	if err := h.authorizeTagged(r, "CreatePackageGroup", h.domainARN(ref), tags); err != nil {
		return err
	}
	g, err := h.svc.CreatePackageGroup(r.Context(), ref, pattern, contact, description, tags)
	if err != nil {
		return err
	}
	return writeJSON(w, packageGroupOutput{toPackageGroup(g)})
}

func (h *handler) describePackageGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	pattern := in.packageGroup()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DescribePackageGroup", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	g, err := h.svc.DescribePackageGroup(r.Context(), ref, pattern)
	if err != nil {
		return err
	}
	return writeJSON(w, packageGroupOutput{toPackageGroup(g)})
}

func (h *handler) updatePackageGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	// Pointers keep "absent" (unchanged) apart from "empty" (cleared).
	var body struct {
		PackageGroup *string `json:"packageGroup"`
		ContactInfo  *string `json:"contactInfo"`
		Description  *string `json:"description"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	pattern := in.v.reqStr("packageGroup", body.PackageGroup, specPackageGroupPattern)
	in.v.optStr("contactInfo", body.ContactInfo, specContactInfo)
	in.v.optStr("description", body.Description, specDescription)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "UpdatePackageGroup", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	g, err := h.svc.UpdatePackageGroup(r.Context(), ref, pattern, body.ContactInfo, body.Description)
	if err != nil {
		return err
	}
	return writeJSON(w, packageGroupOutput{toPackageGroup(g)})
}

// allowedRepository is the model's PackageGroupAllowedRepository in a request body.
type allowedRepository struct {
	RepositoryName        *string `json:"repositoryName"`
	OriginRestrictionType *string `json:"originRestrictionType"`
}

// allowedRepositories validates a PackageGroupAllowedRepositoryList at field.
// The model marks neither member required; without both the entry means
// nothing, so each is checked as if it were.
func (in *input) allowedRepositories(field string, list []allowedRepository) []artifact.AllowedRepository {
	out := make([]artifact.AllowedRepository, 0, len(list))
	for i, a := range list {
		prefix := fmt.Sprintf("%s.%d.member.", field, i+1)
		out = append(out, artifact.AllowedRepository{
			Repository:      in.v.reqStr(prefix+"repositoryName", a.RepositoryName, specRepositoryName),
			RestrictionType: in.v.reqStr(prefix+"originRestrictionType", a.OriginRestrictionType, specRestrictionType),
		})
	}
	return out
}

// allowedRepositoryUpdate is the model's PackageGroupAllowedRepositoryUpdate:
// a map from ADDED / REMOVED to repository names.
type allowedRepositoryUpdate map[string][]string

func (h *handler) updatePackageGroupOriginConfiguration(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	pattern := in.packageGroup()
	var body struct {
		Restrictions              map[string]string   `json:"restrictions"`
		AddAllowedRepositories    []allowedRepository `json:"addAllowedRepositories"`
		RemoveAllowedRepositories []allowedRepository `json:"removeAllowedRepositories"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(body.Restrictions)) {
		in.v.str("restrictions.key", k, specRestrictionType)
		in.v.str("restrictions."+k+".value", body.Restrictions[k], specGroupMode)
	}
	u := artifact.GroupOriginUpdate{
		Restrictions: body.Restrictions,
		Add:          in.allowedRepositories("addAllowedRepositories", body.AddAllowedRepositories),
		Remove:       in.allowedRepositories("removeAllowedRepositories", body.RemoveAllowedRepositories),
	}
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "UpdatePackageGroupOriginConfiguration", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	g, updates, err := h.svc.UpdatePackageGroupOriginConfiguration(r.Context(), ref, pattern, u)
	if err != nil {
		return err
	}
	out := struct {
		PackageGroup             packageGroupDescription            `json:"packageGroup"`
		AllowedRepositoryUpdates map[string]allowedRepositoryUpdate `json:"allowedRepositoryUpdates"`
	}{toPackageGroup(g), make(map[string]allowedRepositoryUpdate, len(updates))}
	for t, upd := range updates {
		m := allowedRepositoryUpdate{}
		if len(upd.Added) > 0 {
			m["ADDED"] = upd.Added
		}
		if len(upd.Removed) > 0 {
			m["REMOVED"] = upd.Removed
		}
		out.AllowedRepositoryUpdates[t] = m
	}
	return writeJSON(w, out)
}

func (h *handler) deletePackageGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	pattern := in.str("package-group", "packageGroup", specAnyString, true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DeletePackageGroup", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	g, err := h.svc.DeletePackageGroup(r.Context(), ref, pattern)
	if err != nil {
		return err
	}
	return writeJSON(w, packageGroupOutput{toPackageGroup(g)})
}

func (h *handler) listPackageGroups(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	prefix := in.str("prefix", "prefix", specPackageGroupPrefix, false)
	page := in.page("ListPackageGroups", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListPackageGroups", h.domainARN(ref)); err != nil {
		return err
	}
	gs, next, err := h.svc.ListPackageGroups(r.Context(), ref, prefix, page)
	if err != nil {
		return err
	}
	return writeJSON(w, toPackageGroupList(gs, in.nextToken(next)))
}

func (h *handler) listSubPackageGroups(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	pattern := in.packageGroup()
	page := in.page("ListSubPackageGroups", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListSubPackageGroups", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	gs, next, err := h.svc.ListSubPackageGroups(r.Context(), ref, pattern, page)
	if err != nil {
		return err
	}
	return writeJSON(w, toPackageGroupList(gs, in.nextToken(next)))
}

// associatedPackage is the model's AssociatedPackage.
type associatedPackage struct {
	Format          string `json:"format,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Package         string `json:"package,omitempty"`
	AssociationType string `json:"associationType,omitempty"`
}

func (h *handler) listAssociatedPackages(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	pattern := in.packageGroup()
	page := in.page("ListAssociatedPackages", true)
	preview := in.bool("preview", "preview")
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListAssociatedPackages", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	pkgs, next, err := h.svc.ListAssociatedPackages(r.Context(), ref, pattern, preview, page)
	if err != nil {
		return err
	}
	out := struct {
		Packages  []associatedPackage `json:"packages"`
		NextToken string              `json:"nextToken,omitempty"`
	}{Packages: make([]associatedPackage, 0, len(pkgs)), NextToken: in.nextToken(next)}
	for _, p := range pkgs {
		out.Packages = append(out.Packages, associatedPackage{Format: p.Format, Namespace: p.Namespace, Package: p.Name, AssociationType: p.AssociationType})
	}
	return writeJSON(w, out)
}

func (h *handler) listAllowedRepositoriesForGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	pattern := in.packageGroup()
	typ := in.str("originRestrictionType", "originRestrictionType", specRestrictionType, true)
	page := in.page("ListAllowedRepositoriesForGroup", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListAllowedRepositoriesForGroup", h.groupARN(ref, pattern)); err != nil {
		return err
	}
	names, next, err := h.svc.ListAllowedRepositoriesForGroup(r.Context(), ref, pattern, typ, page)
	if err != nil {
		return err
	}
	out := struct {
		AllowedRepositories []string `json:"allowedRepositories"`
		NextToken           string   `json:"nextToken,omitempty"`
	}{AllowedRepositories: append(make([]string, 0, len(names)), names...), NextToken: in.nextToken(next)}
	return writeJSON(w, out)
}

func (h *handler) getAssociatedPackageGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.domain()
	format, namespace, pkg := in.pkgCoords()
	if err := in.done(); err != nil {
		return err
	}
	// Granted on the domain: the package need not exist, and which group
	// it belongs to is what the caller is asking.
	if err := h.authorize(r, "GetAssociatedPackageGroup", h.domainARN(ref)); err != nil {
		return err
	}
	g, association, err := h.svc.GetAssociatedPackageGroup(r.Context(), ref, format, namespace, pkg)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		PackageGroup    packageGroupDescription `json:"packageGroup"`
		AssociationType string                  `json:"associationType,omitempty"`
	}{toPackageGroup(g), association})
}
