package controlplane

import (
	"net/http"

	"coffer/internal/artifact"
)

// originConfiguration is the model's PackageOriginConfiguration.
type originConfiguration struct {
	Restrictions originRestrictions `json:"restrictions"`
}

// originRestrictions is the model's PackageOriginRestrictions.
type originRestrictions struct {
	Publish  string `json:"publish,omitempty"`
	Upstream string `json:"upstream,omitempty"`
}

// packageSummary is the model's PackageSummary.
type packageSummary struct {
	Format              string               `json:"format,omitempty"`
	Namespace           string               `json:"namespace,omitempty"`
	Package             string               `json:"package,omitempty"`
	OriginConfiguration *originConfiguration `json:"originConfiguration,omitempty"`
}

// packageDescription is the model's PackageDescription (name, not package).
type packageDescription struct {
	Format              string               `json:"format,omitempty"`
	Namespace           string               `json:"namespace,omitempty"`
	Name                string               `json:"name,omitempty"`
	OriginConfiguration *originConfiguration `json:"originConfiguration,omitempty"`
}

func toOrigin(p *artifact.Package) *originConfiguration {
	if p.Publish == "" && p.Upstream == "" {
		return nil
	}
	return &originConfiguration{Restrictions: originRestrictions{Publish: p.Publish, Upstream: p.Upstream}}
}

func toPackageSummary(p *artifact.Package) packageSummary {
	return packageSummary{Format: p.Format, Namespace: p.Namespace, Package: p.Name, OriginConfiguration: toOrigin(p)}
}

func (h *handler) listPackages(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.repo()
	f := artifact.PackageFilter{
		Format: in.str("format", "format", specFormat, false),
		// The model calls it namespace, but it filters by prefix.
		NamespacePrefix: in.str("namespace", "namespace", specPackagePart, false),
		PackagePrefix:   in.str("package-prefix", "packagePrefix", specPackagePart, false),
		Publish:         in.str("publish", "publish", specAllowBlock, false),
		Upstream:        in.str("upstream", "upstream", specAllowBlock, false),
	}
	page := in.page("ListPackages", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListPackages", h.repoARN(ref.DomainRef, ref.Repository)); err != nil {
		return err
	}
	pkgs, next, err := h.svc.ListPackages(r.Context(), ref, f, page)
	if err != nil {
		return err
	}
	out := struct {
		Packages  []packageSummary `json:"packages"`
		NextToken string           `json:"nextToken,omitempty"`
	}{Packages: make([]packageSummary, 0, len(pkgs)), NextToken: in.nextToken(next)}
	for i := range pkgs {
		out.Packages = append(out.Packages, toPackageSummary(&pkgs[i]))
	}
	return writeJSON(w, out)
}

func (h *handler) describePackage(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DescribePackage", h.packageARN(ref)); err != nil {
		return err
	}
	p, err := h.svc.DescribePackage(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		Package packageDescription `json:"package"`
	}{packageDescription{Format: p.Format, Namespace: p.Namespace, Name: p.Name, OriginConfiguration: toOrigin(p)}})
}

func (h *handler) deletePackage(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "DeletePackage", h.packageARN(ref)); err != nil {
		return err
	}
	p, err := h.svc.DeletePackage(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		DeletedPackage packageSummary `json:"deletedPackage"`
	}{toPackageSummary(p)})
}

func (h *handler) putPackageOriginConfiguration(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.pkg()
	var body struct {
		Restrictions *struct {
			Publish  *string `json:"publish"`
			Upstream *string `json:"upstream"`
		} `json:"restrictions"`
	}
	if err := in.body(r, &body); err != nil {
		return err
	}
	var publish, upstream string
	if body.Restrictions == nil {
		in.v.missing("restrictions")
	} else {
		publish = in.v.reqStr("restrictions.publish", body.Restrictions.Publish, specAllowBlock)
		upstream = in.v.reqStr("restrictions.upstream", body.Restrictions.Upstream, specAllowBlock)
	}
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "PutPackageOriginConfiguration", h.packageARN(ref)); err != nil {
		return err
	}
	p, err := h.svc.PutPackageOriginConfiguration(r.Context(), ref, publish, upstream)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		OriginConfiguration originConfiguration `json:"originConfiguration"`
	}{originConfiguration{Restrictions: originRestrictions{Publish: p.Publish, Upstream: p.Upstream}}})
}
