package artifact

import (
	"context"
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// normalizedRef validates a package reference and returns it with its
// namespace and name normalised for the format.
func normalizedRef(ref PackageRef) (PackageRef, error) {
	if err := validatePackage(ref.Format, ref.Namespace, ref.Package); err != nil {
		return ref, err
	}
	ref.Namespace, ref.Package = Normalize(ref.Format, ref.Namespace, ref.Package)
	return ref, nil
}

// findPackage loads the domain, repository and package of ref (normalised).
func (s *Service) findPackage(tx store.Tx, ref PackageRef) (*store.Domain, *store.Repository, *store.Package, error) {
	ref, err := normalizedRef(ref)
	if err != nil {
		return nil, nil, nil, err
	}
	d, r, err := s.findRepository(tx, ref.RepoRef)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil, nil, fault.NotFound("package", ref.Package, "Package not found in repository. Repository: %s, Package = PackageCoordinate{packageType=%s, packageNamespace=%s, packageName=%s}", r.Name, ref.Format, ref.Namespace, ref.Package)
	}
	return d, r, p, err
}

// ListPackages lists the packages stored in a repository (never its upstreams).
func (s *Service) ListPackages(ctx context.Context, ref RepoRef, f PackageFilter, page PageRequest) ([]Package, string, error) {
	if f.Format != "" {
		if err := validateFormat(f.Format); err != nil {
			return nil, "", err
		}
	}
	for field, v := range map[string]string{"publish": f.Publish, "upstream": f.Upstream} {
		if v != "" {
			if err := validateOrigin(field, v); err != nil {
				return nil, "", err
			}
		}
	}
	var out []Package
	next := ""
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		_, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		limit := pageLimit(page)
		ps, err := tx.ListPackages(store.PackageFilter{RepositoryID: r.ID, Format: f.Format, NamespacePrefix: f.NamespacePrefix,
			NamePrefix: f.PackagePrefix, Publish: f.Publish, Upstream: f.Upstream}, store.Page{After: page.After, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(ps) > limit {
			ps = ps[:limit]
			next = store.PackageKey(&ps[limit-1])
		}
		for _, p := range ps {
			out = append(out, Package{Package: p})
		}
		return nil
	})
	return out, next, err
}

// DescribePackage returns a package with its origin configuration.
func (s *Service) DescribePackage(ctx context.Context, ref PackageRef) (*Package, error) {
	var out *Package
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		out = &Package{Package: *p}
		return nil
	})
	return out, err
}

// DeletePackage deletes a package with every version and asset.
func (s *Service) DeletePackage(ctx context.Context, ref PackageRef) (*Package, error) {
	var out *Package
	var shas []string
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		if shas, err = packageBlobs(tx, p.ID); err != nil {
			return err
		}
		out = &Package{Package: *p}
		return tx.DeletePackage(p.ID)
	})
	if err == nil {
		s.releaseBlobs(ctx, shas)
	}
	return out, err
}

// PutPackageOriginConfiguration sets a package's origin controls, creating a
// version-less package record when the package does not exist yet (to block
// a name before anything arrives).
func (s *Service) PutPackageOriginConfiguration(ctx context.Context, ref PackageRef, publish, upstream string) (*Package, error) {
	if err := validateOrigin("restrictions.publish", publish); err != nil {
		return nil, err
	}
	if err := validateOrigin("restrictions.upstream", upstream); err != nil {
		return nil, err
	}
	ref, err := normalizedRef(ref)
	if err != nil {
		return nil, err
	}
	var out *Package
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		_, r, err := s.findRepository(tx, ref.RepoRef)
		if err != nil {
			return err
		}
		p, err := tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package)
		switch {
		case errors.Is(err, fault.ErrNotFound):
			p = &store.Package{RepositoryID: r.ID, Format: ref.Format, Namespace: ref.Namespace, Name: ref.Package, Publish: publish, Upstream: upstream}
			err = tx.CreatePackage(p)
		case err == nil:
			p.Publish, p.Upstream = publish, upstream
			err = tx.UpdatePackage(p)
		}
		if err != nil {
			return err
		}
		out = &Package{Package: *p}
		return nil
	})
	return out, err
}
