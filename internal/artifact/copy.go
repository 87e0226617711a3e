package artifact

import (
	"context"
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// CopyPackageVersions copies versions between two repositories of a domain.
// Only metadata is written: assets keep pointing at the same blobs. With
// IncludeFromUpstream a version that the source only reaches through its
// upstreams is copied too.
func (s *Service) CopyPackageVersions(ctx context.Context, req CopyRequest) (*BatchResult, error) {
	req.Versions, req.VersionRevisions = normalizeVersions(req.Format, req.Versions, req.VersionRevisions)
	if (len(req.Versions) == 0) == (len(req.VersionRevisions) == 0) {
		return nil, fault.Validation("Exactly one of versions and versionRevisions must be given")
	}
	if err := checkBatchSize(req.Versions, req.VersionRevisions); err != nil {
		return nil, err
	}
	if err := validateRepositoryName("sourceRepository", req.SourceRepository); err != nil {
		return nil, err
	}
	if err := validateRepositoryName("destinationRepository", req.DestinationRepository); err != nil {
		return nil, err
	}
	if req.SourceRepository == req.DestinationRepository {
		return nil, fault.Validation("The source and destination repositories must differ")
	}
	if req.ExpectedStatus != "" {
		return nil, fault.Validation("expectedStatus is not a member of CopyPackageVersions")
	}
	src := PackageRef{RepoRef: RepoRef{DomainRef: req.Domain, Repository: req.SourceRepository}, Format: req.Format, Namespace: req.Namespace, Package: req.Package}
	src, err := normalizedRef(src)
	if err != nil {
		return nil, err
	}
	res := &BatchResult{Successful: map[string]VersionOutcome{}, Failed: map[string]VersionFailure{}}
	var released []string
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		d, srcRepo, err := s.findRepository(tx, src.RepoRef)
		if err != nil {
			return err
		}
		_, dstRepo, err := s.findRepository(tx, RepoRef{DomainRef: req.Domain, Repository: req.DestinationRepository})
		if err != nil {
			return err
		}
		searched := []*store.Repository{srcRepo}
		if req.IncludeFromUpstream {
			if searched, err = searchOrder(tx, srcRepo); err != nil {
				return err
			}
		}
		dstPkg, err := tx.GetPackage(dstRepo.ID, src.Format, src.Namespace, src.Package)
		if errors.Is(err, fault.ErrNotFound) {
			dstPkg = nil
		} else if err != nil {
			return err
		}
		for _, name := range req.VersionSelection.selected() {
			v, assets, err := versionWithAssets(tx, searched, src, name)
			if err != nil {
				return err
			}
			switch {
			case v == nil:
				res.Failed[name] = VersionFailure{Code: ErrCodeNotFound, Message: "Package version " + name + " not found in " + req.SourceRepository}
				continue
			case req.VersionRevisions[name] != "" && req.VersionRevisions[name] != v.Revision:
				res.Failed[name] = VersionFailure{Code: ErrCodeMismatchedRevision, Message: "Revision " + req.VersionRevisions[name] + " does not match the current revision " + v.Revision}
				continue
			case v.Status == StatusDisposed || v.Status == StatusUnfinished:
				res.Failed[name] = VersionFailure{Code: ErrCodeNotAllowed, Message: "A " + v.Status + " version cannot be copied"}
				continue
			case dstPkg != nil && dstPkg.Publish == Block:
				res.Failed[name] = VersionFailure{Code: ErrCodeNotAllowed, Message: "The destination package's origin configuration blocks publishing (publish=BLOCK)"}
				continue
			}
			if dstPkg == nil {
				dstPkg = &store.Package{RepositoryID: dstRepo.ID, Format: src.Format, Namespace: src.Namespace, Name: src.Package, Publish: Allow, Upstream: Block}
				if err := tx.CreatePackage(dstPkg); err != nil {
					return err
				}
			}
			existing, err := tx.GetVersion(dstPkg.ID, name)
			switch {
			case err == nil && !req.AllowOverwrite:
				res.Failed[name] = VersionFailure{Code: ErrCodeAlreadyExists, Message: "Version " + name + " already exists in " + req.DestinationRepository}
				continue
			case err == nil:
				old, err := versionBlobs(tx, existing.ID)
				if err != nil {
					return err
				}
				released = append(released, old...)
				if err := tx.DeleteVersion(existing.ID); err != nil {
					return err
				}
			case !errors.Is(err, fault.ErrNotFound):
				return err
			}
			cp := *v
			cp.ID, cp.PackageID = 0, dstPkg.ID
			if err := tx.CreateVersion(&cp); err != nil {
				return err
			}
			for _, a := range assets {
				a.VersionID = cp.ID
				if err := tx.PutAsset(d.ID, &a); err != nil {
					return err
				}
			}
			res.Successful[name] = VersionOutcome{Revision: cp.Revision, Status: cp.Status}
		}
		if hook := formatOf(src.Format).CopyMetadata; hook != nil && len(res.Successful) > 0 {
			return copyMetadata(tx, hook, searched, src, dstPkg, res.Successful)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.releaseBlobs(ctx, released)
	return res, nil
}

// versionWithAssets finds a version in the first of repos that holds it and
// returns it with all its assets; nil when none holds it.
func versionWithAssets(tx store.Tx, repos []*store.Repository, ref PackageRef, version string) (*store.Version, []store.Asset, error) {
	for _, r := range repos {
		p, err := tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		v, err := tx.GetVersion(p.ID, version)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		assets, err := allAssets(tx, v.ID)
		return v, assets, err
	}
	return nil, nil, nil
}

// copyMetadata gives the destination package the package-level Metadata
// that the format's CopyMetadata hook takes from the searched repositories'
// packages for the copied versions (npm: their dist-tags).
func copyMetadata(tx store.Tx, hook func(string, []string, func(string) bool) (string, bool), searched []*store.Repository, ref PackageRef,
	dst *store.Package, copied map[string]VersionOutcome) error {
	var sources []string
	for _, r := range searched {
		p, err := orNil(tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package))
		if err != nil {
			return err
		}
		if p != nil {
			sources = append(sources, p.Metadata)
		}
	}
	m, changed := hook(dst.Metadata, sources, func(v string) bool { _, ok := copied[v]; return ok })
	if !changed {
		return nil
	}
	dst.Metadata = m
	return tx.UpdatePackage(dst)
}
