package artifact

// Metadata changes that native protocols make without adding an asset: npm's
// dist-tag add/rm (package-level metadata, changed read-modify-write so that
// concurrent publishes and tag changes lose nothing) and npm deprecate
// (version-level metadata).

import (
	"context"
	"slices"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// UpdatePackageMetadata changes the requested repository's package-level
// Metadata in one transaction: update receives the current value ("" when
// none) and returns the new one; an error from update aborts the change and
// is returned as is. Unlike PutPackageMetadata it never creates the package
// (fault.NotFound when the repository stores no such package), so that a
// metadata change in a downstream repository cannot give a package that
// lives upstream the published-first origin controls, which would hide its
// upstream versions. Requires codeartifact:PutPackageMetadata to have been
// authorized.
func (s *Service) UpdatePackageMetadata(ctx context.Context, ref PackageRef, update func(current string) (string, error)) (*Package, error) {
	out, err := s.UpdatePackage(ctx, ref, "", PackageChange{Metadata: update})
	if err != nil {
		return nil, err
	}
	return out.Package, nil
}

// UpdateVersionMetadata changes the descriptive metadata of versions stored
// in the requested repository, all in one transaction (npm deprecate marks
// many versions at once). update is called with each named version as
// stored and may change its Metadata, DisplayName, Summary, HomePage,
// SourceCodeRepository, Licenses, Readme and Dependencies; changes to
// anything else (identity, status, origin, revision, times) are ignored. A
// version whose metadata changed gets a new revision; one that did not is
// left untouched. A version the package does not have is reported in
// Failed with NOT_FOUND; an error from update aborts the whole change and
// is returned as is. Any version status may be updated except Disposed,
// which is reported NOT_ALLOWED. Requires codeartifact:PutPackageMetadata
// to have been authorized.
func (s *Service) UpdateVersionMetadata(ctx context.Context, ref PackageRef, versions []string, update func(v *store.Version) error) (*BatchResult, error) {
	if len(versions) == 0 {
		return nil, fault.Validation("Value at 'versions' failed to satisfy constraint: Member must not be empty")
	}
	for _, v := range versions {
		if err := validateCoordinate("versions", v); err != nil {
			return nil, err
		}
	}
	var res *BatchResult
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		res = &BatchResult{Successful: map[string]VersionOutcome{}, Failed: map[string]VersionFailure{}}
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		return eachNamedVersion(tx, p.ID, versions, res, func(name string, v *store.Version) error {
			if v.Status == StatusDisposed {
				res.Failed[name] = VersionFailure{Code: ErrCodeNotAllowed, Message: "A Disposed version can only be deleted"}
				return nil
			}
			if err := editVersion(tx, v, update); err != nil {
				return err
			}
			res.Successful[name] = VersionOutcome{Revision: v.Revision, Status: v.Status}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// editVersion lets update change the descriptive metadata of v (see
// UpdateVersionMetadata) and stores v with a new revision if it changed.
func editVersion(tx store.Tx, v *store.Version, update func(v *store.Version) error) error {
	before := *v
	var hookErr error
	fillVersion(v, func(v *store.Version) { hookErr = update(v) })
	if hookErr != nil {
		return hookErr
	}
	if sameDescription(&before, v) {
		return nil
	}
	v.Revision = newRevision()
	return tx.UpdateVersion(v)
}

// sameDescription reports whether two records of a version carry the same
// descriptive metadata.
func sameDescription(a, b *store.Version) bool {
	return a.Metadata == b.Metadata && a.DisplayName == b.DisplayName && a.Summary == b.Summary &&
		a.HomePage == b.HomePage && a.SourceCodeRepository == b.SourceCodeRepository && a.Readme == b.Readme &&
		slices.Equal(a.Licenses, b.Licenses) && slices.Equal(a.Dependencies, b.Dependencies)
}
