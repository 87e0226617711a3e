package controlplane

import (
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/store"
)

// packageVersionDescription is the model's PackageVersionDescription.
type packageVersionDescription struct {
	Format               string         `json:"format,omitempty"`
	Namespace            string         `json:"namespace,omitempty"`
	PackageName          string         `json:"packageName,omitempty"`
	DisplayName          string         `json:"displayName,omitempty"`
	Version              string         `json:"version,omitempty"`
	Summary              string         `json:"summary,omitempty"`
	HomePage             string         `json:"homePage,omitempty"`
	SourceCodeRepository string         `json:"sourceCodeRepository,omitempty"`
	PublishedTime        epoch          `json:"publishedTime,omitzero"`
	Licenses             []licenseInfo  `json:"licenses,omitempty"`
	Revision             string         `json:"revision,omitempty"`
	Status               string         `json:"status,omitempty"`
	Origin               *versionOrigin `json:"origin,omitempty"`
}

type licenseInfo struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// versionOrigin is the model's PackageVersionOrigin.
type versionOrigin struct {
	DomainEntryPoint *domainEntryPoint `json:"domainEntryPoint,omitempty"`
	OriginType       string            `json:"originType,omitempty"`
}

type domainEntryPoint struct {
	RepositoryName         string `json:"repositoryName,omitempty"`
	ExternalConnectionName string `json:"externalConnectionName,omitempty"`
}

// packageVersionSummary is the model's PackageVersionSummary.
type packageVersionSummary struct {
	Version  string         `json:"version"`
	Revision string         `json:"revision,omitempty"`
	Status   string         `json:"status"`
	Origin   *versionOrigin `json:"origin,omitempty"`
}

// packageDependency is the model's PackageDependency.
type packageDependency struct {
	Namespace          string `json:"namespace,omitempty"`
	Package            string `json:"package,omitempty"`
	DependencyType     string `json:"dependencyType,omitempty"`
	VersionRequirement string `json:"versionRequirement,omitempty"`
}

func toOriginOf(v *store.Version) *versionOrigin {
	if v.OriginType == "" && v.OriginRepository == "" && v.OriginExternalConnection == "" {
		return nil
	}
	o := &versionOrigin{OriginType: v.OriginType}
	if v.OriginRepository != "" || v.OriginExternalConnection != "" {
		o.DomainEntryPoint = &domainEntryPoint{RepositoryName: v.OriginRepository, ExternalConnectionName: v.OriginExternalConnection}
	}
	return o
}

func toVersionDescription(v *artifact.Version) packageVersionDescription {
	d := packageVersionDescription{
		Format:               v.Format,
		Namespace:            v.Namespace,
		PackageName:          v.Package,
		DisplayName:          v.DisplayName,
		Version:              v.Version.Version,
		Summary:              v.Summary,
		HomePage:             v.HomePage,
		SourceCodeRepository: v.SourceCodeRepository,
		PublishedTime:        epoch(v.PublishedTime),
		Revision:             v.Revision,
		Status:               v.Status,
		Origin:               toOriginOf(&v.Version),
	}
	for _, l := range v.Licenses {
		d.Licenses = append(d.Licenses, licenseInfo{Name: l.Name, URL: l.URL})
	}
	return d
}

func (h *handler) listPackageVersions(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	f := artifact.VersionFilter{
		Status:     in.str("status", "status", specVersionStatus, false),
		SortBy:     in.str("sortBy", "sortBy", specSortBy, false),
		OriginType: in.str("originType", "originType", specOriginType, false),
	}
	page := in.page("ListPackageVersions", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListPackageVersions", h.packageARN(ref)); err != nil {
		return err
	}
	list, err := h.svc.ListPackageVersions(r.Context(), ref, f, page)
	if err != nil {
		return err
	}
	// VersionList does not echo the package, so the request's names are used.
	out := struct {
		DefaultDisplayVersion string                  `json:"defaultDisplayVersion,omitempty"`
		Format                string                  `json:"format,omitempty"`
		Namespace             string                  `json:"namespace,omitempty"`
		Package               string                  `json:"package,omitempty"`
		Versions              []packageVersionSummary `json:"versions"`
		NextToken             string                  `json:"nextToken,omitempty"`
	}{
		DefaultDisplayVersion: list.DefaultDisplayVersion,
		Format:                ref.Format,
		Namespace:             ref.Namespace,
		Package:               ref.Package,
		Versions:              make([]packageVersionSummary, 0, len(list.Versions)),
		NextToken:             in.nextToken(list.Next),
	}
	for i := range list.Versions {
		v := &list.Versions[i]
		out.Versions = append(out.Versions, packageVersionSummary{Version: v.Version, Revision: v.Revision, Status: v.Status, Origin: toOriginOf(v)})
	}
	return writeJSON(w, out)
}

func (h *handler) describePackageVersion(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.version()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DescribePackageVersion", h.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	v, err := h.svc.DescribePackageVersion(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		PackageVersion packageVersionDescription `json:"packageVersion"`
	}{toVersionDescription(v)})
}

func (h *handler) getPackageVersionReadme(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.version()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "GetPackageVersionReadme", h.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	v, err := h.svc.GetPackageVersionReadme(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		Format          string `json:"format,omitempty"`
		Namespace       string `json:"namespace,omitempty"`
		Package         string `json:"package,omitempty"`
		Version         string `json:"version,omitempty"`
		VersionRevision string `json:"versionRevision,omitempty"`
		Readme          string `json:"readme,omitempty"`
	}{v.Format, v.Namespace, v.Package, v.Version.Version, v.Revision, v.Readme})
}

func (h *handler) listPackageVersionDependencies(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.version()
	page := in.page("ListPackageVersionDependencies", false) // the model has next-token but no max-results here
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListPackageVersionDependencies", h.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	v, deps, next, err := h.svc.ListPackageVersionDependencies(r.Context(), ref, page)
	if err != nil {
		return err
	}
	out := struct {
		Format          string              `json:"format,omitempty"`
		Namespace       string              `json:"namespace,omitempty"`
		Package         string              `json:"package,omitempty"`
		Version         string              `json:"version,omitempty"`
		VersionRevision string              `json:"versionRevision,omitempty"`
		NextToken       string              `json:"nextToken,omitempty"`
		Dependencies    []packageDependency `json:"dependencies"`
	}{
		Format: v.Format, Namespace: v.Namespace, Package: v.Package, Version: v.Version.Version, VersionRevision: v.Revision,
		NextToken: in.nextToken(next), Dependencies: make([]packageDependency, 0, len(deps)),
	}
	for _, d := range deps {
		out.Dependencies = append(out.Dependencies, packageDependency(d))
	}
	return writeJSON(w, out)
}

// versionsBody holds the body members the version batch operations share.
type versionsBody struct {
	Versions         []string          `json:"versions"`
	VersionRevisions map[string]string `json:"versionRevisions"`
	ExpectedStatus   *string           `json:"expectedStatus"`
}

// selection validates a versionsBody; versionsRequired follows the model.
func (in *input) selection(b *versionsBody, versionsRequired bool) artifact.VersionSelection {
	if b.Versions == nil && versionsRequired {
		in.v.missing("versions")
	}
	in.versions("versions", b.Versions)
	in.revisions("versionRevisions", b.VersionRevisions)
	return artifact.VersionSelection{
		Versions:         b.Versions,
		VersionRevisions: b.VersionRevisions,
		ExpectedStatus:   in.v.optStr("expectedStatus", b.ExpectedStatus, specVersionStatus),
	}
}

func (h *handler) updatePackageVersionsStatus(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	var body struct {
		versionsBody
		TargetStatus *string `json:"targetStatus"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	sel := in.selection(&body.versionsBody, true)
	target := in.v.reqStr("targetStatus", body.TargetStatus, specVersionStatus)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "UpdatePackageVersionsStatus", h.packageARN(ref)); err != nil {
		return err
	}
	res, err := h.svc.UpdatePackageVersionsStatus(r.Context(), ref, artifact.StatusUpdate{
		Versions: sel.Versions, VersionRevisions: sel.VersionRevisions, ExpectedStatus: sel.ExpectedStatus, TargetStatus: target,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, toBatch(res))
}

func (h *handler) copyPackageVersions(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	req := artifact.CopyRequest{
		Domain:                in.domain(),
		SourceRepository:      in.str("source-repository", "sourceRepository", specRepositoryName, true),
		DestinationRepository: in.str("destination-repository", "destinationRepository", specRepositoryName, true),
	}
	req.Format, req.Namespace, req.Package = in.pkgCoords()
	var body struct {
		Versions            []string          `json:"versions"`
		VersionRevisions    map[string]string `json:"versionRevisions"`
		AllowOverwrite      *bool             `json:"allowOverwrite"`
		IncludeFromUpstream *bool             `json:"includeFromUpstream"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	// Neither list is required by the model; "exactly one" is the service's rule.
	req.VersionSelection = in.selection(&versionsBody{Versions: body.Versions, VersionRevisions: body.VersionRevisions}, false)
	req.AllowOverwrite = body.AllowOverwrite != nil && *body.AllowOverwrite
	req.IncludeFromUpstream = body.IncludeFromUpstream != nil && *body.IncludeFromUpstream
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "CopyPackageVersions", h.repoARN(req.Domain, req.DestinationRepository)); err != nil {
		return err
	}
	if err := h.authorize(r, "ReadFromRepository", h.repoARN(req.Domain, req.SourceRepository)); err != nil {
		return err
	}
	res, err := h.svc.CopyPackageVersions(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, toBatch(res))
}

func (h *handler) deletePackageVersions(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	var body struct {
		Versions       []string `json:"versions"`
		ExpectedStatus *string  `json:"expectedStatus"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	sel := in.selection(&versionsBody{Versions: body.Versions, ExpectedStatus: body.ExpectedStatus}, true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DeletePackageVersions", h.packageARN(ref)); err != nil {
		return err
	}
	res, err := h.svc.DeletePackageVersions(r.Context(), ref, sel.Versions, sel.ExpectedStatus)
	if err != nil {
		return err
	}
	return writeJSON(w, toBatch(res))
}

func (h *handler) disposePackageVersions(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	var body versionsBody
	if err := in.body(r, &body); err != nil {
		return err
	}
	sel := in.selection(&body, true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DisposePackageVersions", h.packageARN(ref)); err != nil {
		return err
	}
	res, err := h.svc.DisposePackageVersions(r.Context(), ref, sel)
	if err != nil {
		return err
	}
	return writeJSON(w, toBatch(res))
}
