package artifact

import (
	"context"
	"errors"
	"slices"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// MaxBatchVersions bounds the versions of one batch operation.
const MaxBatchVersions = 100

func (s *Service) findVersion(tx store.Tx, ref VersionRef) (*store.Domain, *store.Repository, *store.Package, *store.Version, error) {
	if err := validateCoordinate("version", ref.Version); err != nil {
		return nil, nil, nil, nil, err
	}
	ref.Version = NormalizeVersion(ref.Format, ref.Version)
	d, r, p, err := s.findPackage(tx, ref.PackageRef)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	v, err := tx.GetVersion(p.ID, ref.Version)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil, nil, nil, fault.NotFound("package-version", ref.Version, "Package version not found. Repository: %s, Package: %s, Version: %s", r.Name, p.Name, ref.Version)
	}
	return d, r, p, v, err
}

func describeVersion(p *store.Package, v *store.Version) *Version {
	return &Version{Version: *v, Format: p.Format, Namespace: p.Namespace, Package: p.Name}
}

// displayVersion is the version CodeArtifact reports as a package's
// defaultDisplayVersion: the Published version the format's DisplayVersion
// hook names (npm: the "latest" dist-tag), otherwise (and for every format
// without the hook) the most recently published version with status
// Published; nil when there is none.
func displayVersion(tx store.Tx, p *store.Package) (*store.Version, error) {
	if hook := formatOf(p.Format).DisplayVersion; hook != nil {
		if latest := hook(p.Metadata); latest != "" {
			v, err := orNil(tx.GetVersion(p.ID, latest))
			if err != nil {
				return nil, err
			}
			if v != nil && v.Status == StatusPublished {
				return v, nil
			}
		}
	}
	// The newest by published time, the highest version string on a tie.
	vs, err := tx.ListVersions(store.VersionFilter{PackageID: p.ID, Status: StatusPublished, ByPublishedTime: true, Descending: true, OmitReadme: true},
		store.Page{Limit: 1})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return &vs[0], nil
}

// ListPackageVersions lists the versions stored in a repository.
func (s *Service) ListPackageVersions(ctx context.Context, ref PackageRef, f VersionFilter, page PageRequest) (*VersionList, error) {
	if f.Status != "" {
		if err := validateStatusValue("status", f.Status, StatusPublished, StatusUnfinished, StatusUnlisted, StatusArchived, StatusDisposed, StatusDeleted); err != nil {
			return nil, err
		}
	}
	if f.OriginType != "" {
		if err := validateStatusValue("originType", f.OriginType, OriginInternal, OriginExternal, OriginUnknown); err != nil {
			return nil, err
		}
	}
	if f.SortBy != "" {
		if err := validateStatusValue("sortBy", f.SortBy, "PUBLISHED_TIME"); err != nil {
			return nil, err
		}
	}
	out := &VersionList{}
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		byTime := f.SortBy == "PUBLISHED_TIME"
		limit := pageLimit(page)
		vs, err := tx.ListVersions(store.VersionFilter{PackageID: p.ID, Status: f.Status, OriginType: f.OriginType, ByPublishedTime: byTime},
			store.Page{After: page.After, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(vs) > limit {
			vs = vs[:limit]
			out.Next = store.VersionKey(&vs[limit-1], byTime)
		}
		out.Versions = vs
		dv, err := displayVersion(tx, p)
		if dv != nil {
			out.DefaultDisplayVersion = dv.Version
		}
		return err
	})
	return out, err
}

// DescribePackageVersion returns one version.
func (s *Service) DescribePackageVersion(ctx context.Context, ref VersionRef) (*Version, error) {
	var out *Version
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		_, _, p, v, err := s.findVersion(tx, ref)
		if err != nil {
			return err
		}
		out = describeVersion(p, v)
		return nil
	})
	return out, err
}

// ListPackageVersionAssets lists a version's assets in name order.
func (s *Service) ListPackageVersionAssets(ctx context.Context, ref VersionRef, page PageRequest) (*AssetList, error) {
	out := &AssetList{}
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		_, _, p, v, err := s.findVersion(tx, ref)
		if err != nil {
			return err
		}
		out.Version = describeVersion(p, v)
		limit := pageLimit(page)
		as, err := tx.ListAssets(v.ID, store.Page{After: page.After, Limit: limit + 1})
		if err != nil {
			return err
		}
		if len(as) > limit {
			as = as[:limit]
			out.Next = as[limit-1].Name
		}
		out.Assets = as
		return nil
	})
	return out, err
}

// GetPackageVersionAsset opens an asset; revision "" means the current one.
// Archived and Disposed versions cannot be downloaded. The caller closes the
// returned object.
func (s *Service) GetPackageVersionAsset(ctx context.Context, ref VersionRef, asset, revision string) (*Version, *store.Asset, blob.Object, error) {
	if err := validateAssetName(asset); err != nil {
		return nil, nil, nil, err
	}
	var ver *Version
	var a *store.Asset
	var stored *store.Version
	var owner string
	var domainID int64
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, _, p, v, err := s.findVersion(tx, ref)
		if err != nil {
			return err
		}
		stored, owner, domainID = v, d.Owner, d.ID
		if revision != "" && revision != v.Revision {
			return fault.NotFound("package-version", ref.Version, "Package version %s has no revision %s", v.Version, revision)
		}
		if v.Status == StatusArchived || v.Status == StatusDisposed {
			return fault.Conflict("package-version", v.Version, "Package version %s is %s; its assets cannot be downloaded", v.Version, v.Status)
		}
		ver = describeVersion(p, v)
		a, err = tx.GetAsset(v.ID, asset)
		if errors.Is(err, fault.ErrNotFound) {
			return fault.NotFound("asset", asset, "Asset %s not found in package version %s", asset, v.Version)
		}
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	// The supply-chain gate decides this download as it does a native one.
	if err := s.admitStored(ctx, ref, owner, stored); err != nil {
		return nil, nil, nil, err
	}
	bs, err := s.blobsFor(ctx, domainID)
	if err != nil {
		return nil, nil, nil, err
	}
	obj, err := bs.Open(ctx, a.Blob.SHA256)
	if err != nil {
		return nil, nil, nil, fault.Internal(err, "asset content of %s is unavailable", asset)
	}
	return ver, a, obj, nil
}

// GetPackageVersionReadme returns the version with its readme.
func (s *Service) GetPackageVersionReadme(ctx context.Context, ref VersionRef) (*Version, error) {
	return s.DescribePackageVersion(ctx, ref)
}

// ListPackageVersionDependencies returns the direct dependencies a version
// declares. They are few, so one page holds them all.
func (s *Service) ListPackageVersionDependencies(ctx context.Context, ref VersionRef, page PageRequest) (*Version, []store.Dependency, string, error) {
	v, err := s.DescribePackageVersion(ctx, ref)
	if err != nil {
		return nil, nil, "", err
	}
	return v, v.Dependencies, "", nil
}

// batchFailures reports every version of a failed all-or-nothing batch: the
// ones that failed with their reason, the rest as SKIPPED.
func batchFailures(versions []string, failed map[string]VersionFailure) *BatchResult {
	res := &BatchResult{Successful: map[string]VersionOutcome{}, Failed: failed}
	for _, v := range versions {
		if _, ok := failed[v]; !ok {
			failed[v] = VersionFailure{Code: ErrCodeSkipped, Message: "Skipped because another version in the request failed"}
		}
	}
	return res
}

func checkBatchSize(versions []string, revisions map[string]string) error {
	if len(versions) > MaxBatchVersions || len(revisions) > MaxBatchVersions {
		return fault.Validation("Value at 'versions' failed to satisfy constraint: Member must have length less than or equal to %d", MaxBatchVersions)
	}
	for _, v := range versions {
		if err := validateCoordinate("versions", v); err != nil {
			return err
		}
	}
	for v, rev := range revisions {
		if err := validateCoordinate("versionRevisions", v); err != nil {
			return err
		}
		if rev == "" || len(rev) > 50 {
			return fault.Validation("Value at 'versionRevisions' failed to satisfy constraint: Member must have length between 1 and 50")
		}
	}
	return nil
}

// selected merges Versions and the keys of VersionRevisions, in order.
func (sel VersionSelection) selected() []string {
	out := slices.Clone(sel.Versions)
	keys := make([]string, 0, len(sel.VersionRevisions))
	for v := range sel.VersionRevisions {
		if !slices.Contains(out, v) {
			keys = append(keys, v)
		}
	}
	slices.Sort(keys)
	return append(out, keys...)
}

// UpdatePackageVersionsStatus moves versions to Published, Unlisted or
// Archived. It is all or nothing: when one version fails, nothing changes and
// the others are reported SKIPPED.
func (s *Service) UpdatePackageVersionsStatus(ctx context.Context, ref PackageRef, u StatusUpdate) (*BatchResult, error) {
	u.Versions, u.VersionRevisions = normalizeVersions(ref.Format, u.Versions, u.VersionRevisions)
	if err := validateStatusValue("targetStatus", u.TargetStatus, StatusPublished, StatusUnlisted, StatusArchived); err != nil {
		return nil, err
	}
	if u.ExpectedStatus != "" {
		if err := validateStatusValue("expectedStatus", u.ExpectedStatus, StatusPublished, StatusUnfinished, StatusUnlisted, StatusArchived, StatusDisposed); err != nil {
			return nil, err
		}
	}
	if len(u.Versions) == 0 {
		return nil, fault.Validation("Value at 'versions' failed to satisfy constraint: Member must not be empty")
	}
	if err := checkBatchSize(u.Versions, u.VersionRevisions); err != nil {
		return nil, err
	}
	if len(u.VersionRevisions) > 0 {
		for _, v := range u.Versions {
			if _, ok := u.VersionRevisions[v]; !ok {
				return nil, fault.Validation("versionRevisions must give a revision for every version in versions; %s has none", v)
			}
		}
	}
	var res *BatchResult
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		failed := map[string]VersionFailure{}
		var todo []*store.Version
		for _, name := range u.Versions {
			v, err := tx.GetVersion(p.ID, name)
			switch {
			case errors.Is(err, fault.ErrNotFound):
				failed[name] = notFoundVersion(name)
				continue
			case err != nil:
				return err
			}
			if rev, ok := u.VersionRevisions[name]; ok && rev != v.Revision {
				failed[name] = VersionFailure{Code: ErrCodeMismatchedRevision, Message: "Revision " + rev + " does not match the current revision " + v.Revision}
			} else if u.ExpectedStatus != "" && v.Status != u.ExpectedStatus {
				failed[name] = VersionFailure{Code: ErrCodeMismatchedStatus, Message: "Version " + name + " is " + v.Status + ", not " + u.ExpectedStatus}
			} else if v.Status == StatusDisposed {
				failed[name] = VersionFailure{Code: ErrCodeNotAllowed, Message: "A Disposed version can only be deleted"}
			} else {
				todo = append(todo, v)
			}
		}
		if len(failed) > 0 {
			res = batchFailures(u.Versions, failed)
			return nil
		}
		res = &BatchResult{Successful: map[string]VersionOutcome{}, Failed: map[string]VersionFailure{}}
		for _, v := range todo {
			if v.Status != u.TargetStatus {
				v.Status = u.TargetStatus
				if v.Status == StatusPublished && v.PublishedTime.IsZero() {
					v.PublishedTime = timeNow()
				}
				if err := tx.UpdateVersion(v); err != nil {
					return err
				}
			}
			res.Successful[v.Version] = VersionOutcome{Revision: v.Revision, Status: v.Status}
		}
		return nil
	})
	return res, err
}

// DeletePackageVersions deletes versions and their assets; each version
// succeeds or fails on its own. A deleted version may be published again.
func (s *Service) DeletePackageVersions(ctx context.Context, ref PackageRef, versions []string, expectedStatus string) (*BatchResult, error) {
	versions, _ = normalizeVersions(ref.Format, versions, nil)
	if len(versions) == 0 {
		return nil, fault.Validation("Value at 'versions' failed to satisfy constraint: Member must not be empty")
	}
	if err := checkBatchSize(versions, nil); err != nil {
		return nil, err
	}
	if expectedStatus != "" {
		if err := validateStatusValue("expectedStatus", expectedStatus, StatusPublished, StatusUnfinished, StatusUnlisted, StatusArchived, StatusDisposed); err != nil {
			return nil, err
		}
	}
	res := &BatchResult{Successful: map[string]VersionOutcome{}, Failed: map[string]VersionFailure{}}
	var shas []string
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		return eachNamedVersion(tx, p.ID, versions, res, func(name string, v *store.Version) error {
			if expectedStatus != "" && v.Status != expectedStatus {
				res.Failed[name] = VersionFailure{Code: ErrCodeMismatchedStatus, Message: "Version " + name + " is " + v.Status + ", not " + expectedStatus}
				return nil
			}
			return deleteVersion(tx, name, v, res, &shas)
		})
	})
	if err != nil {
		return nil, err
	}
	s.releaseBlobs(ctx, shas)
	return res, nil
}

// DisposePackageVersions deletes the assets of versions and marks them
// Disposed; the version records stay.
func (s *Service) DisposePackageVersions(ctx context.Context, ref PackageRef, sel VersionSelection) (*BatchResult, error) {
	sel.Versions, sel.VersionRevisions = normalizeVersions(ref.Format, sel.Versions, sel.VersionRevisions)
	names := sel.selected()
	if len(names) == 0 {
		return nil, fault.Validation("Value at 'versions' failed to satisfy constraint: Member must not be empty")
	}
	if err := checkBatchSize(sel.Versions, sel.VersionRevisions); err != nil {
		return nil, err
	}
	if sel.ExpectedStatus != "" {
		if err := validateStatusValue("expectedStatus", sel.ExpectedStatus, StatusPublished, StatusUnfinished, StatusUnlisted, StatusArchived, StatusDisposed); err != nil {
			return nil, err
		}
	}
	res := &BatchResult{Successful: map[string]VersionOutcome{}, Failed: map[string]VersionFailure{}}
	var shas []string
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		return eachNamedVersion(tx, p.ID, names, res, func(name string, v *store.Version) error {
			if rev, ok := sel.VersionRevisions[name]; ok && rev != v.Revision {
				res.Failed[name] = VersionFailure{Code: ErrCodeMismatchedRevision, Message: "Revision " + rev + " does not match the current revision " + v.Revision}
				return nil
			}
			if sel.ExpectedStatus != "" && v.Status != sel.ExpectedStatus {
				res.Failed[name] = VersionFailure{Code: ErrCodeMismatchedStatus, Message: "Version " + name + " is " + v.Status + ", not " + sel.ExpectedStatus}
				return nil
			}
			vshas, err := versionBlobs(tx, v.ID)
			if err != nil {
				return err
			}
			shas = append(shas, vshas...)
			if err := tx.DeleteAssets(v.ID); err != nil {
				return err
			}
			v.Status = StatusDisposed
			if err := tx.UpdateVersion(v); err != nil {
				return err
			}
			res.Successful[name] = VersionOutcome{Revision: v.Revision, Status: StatusDisposed}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.releaseBlobs(ctx, shas)
	return res, nil
}

// eachNamedVersion calls fn, in a write transaction, with each named version of
// package pkg; a name with no version is recorded in res as not found.
func eachNamedVersion(tx store.Tx, pkg int64, names []string, res *BatchResult, fn func(name string, v *store.Version) error) error {
	for _, name := range names {
		v, err := tx.GetVersion(pkg, name)
		switch {
		case errors.Is(err, fault.ErrNotFound):
			res.Failed[name] = notFoundVersion(name)
			continue
		case err != nil:
			return err
		}
		if err := fn(name, v); err != nil {
			return err
		}
	}
	return nil
}

// deleteVersion drops v (named name) and records it in res; the blobs it
// referenced are added to shas, to be released after the transaction.
func deleteVersion(tx store.Tx, name string, v *store.Version, res *BatchResult, shas *[]string) error {
	vshas, err := dropVersion(tx, v)
	if err != nil {
		return err
	}
	*shas = append(*shas, vshas...)
	res.Successful[name] = VersionOutcome{Revision: v.Revision, Status: StatusDeleted}
	return nil
}
