package artifact

// One change to a package as a whole, checked against the revision its
// author read: npm's PUT <name>/-rev/<rev> (versions deleted, deprecations,
// dist-tags replaced), DELETE <name>/-rev/<rev> and DELETE of a tarball.

import (
	"context"
	"strconv"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Revision is the package's revision (npm's _rev): it changes with every
// change to the package, its versions or their assets.
func (p *Package) Revision() string {
	return strconv.FormatInt(p.ChangeSeq, 10) + "-" + strconv.FormatInt(p.ID, 16)
}

// PackageChange is what UpdatePackage does to a package. The steps run in
// this order, in one transaction.
type PackageChange struct {
	// DeletePackage deletes the package with every version and asset; a
	// change that deletes the package carries nothing else.
	DeletePackage bool
	// Delete names versions to delete with their assets. A version the
	// package does not have is reported NOT_FOUND and otherwise ignored
	// (it is already gone).
	Delete []string
	// Edit names versions whose descriptive metadata EditVersion changes,
	// as UpdateVersionMetadata's update does. A version the package does
	// not have is reported NOT_FOUND and otherwise ignored; a Disposed one
	// refuses the whole change.
	Edit        []string
	EditVersion func(v *store.Version) error
	// Metadata, when set, receives the package-level Metadata ("" when
	// none) and returns the new value.
	Metadata func(current string) (string, error)
}

// PackageUpdate is the outcome of UpdatePackage.
type PackageUpdate struct {
	// Package is the package after the change (as it was, for a deleted
	// package).
	Package *Package
	// Versions has an outcome for each version named in Delete and Edit:
	// Successful with status Deleted, or its status and (new) revision;
	// Failed with NOT_FOUND.
	Versions *BatchResult
}

// UpdatePackage applies change to the requested repository's package in
// one write transaction: all of it, or nothing. With expectedRev (not "")
// the change is refused with fault.Conflict, and nothing changed, when the
// package's Revision is no longer expectedRev (it changed since its author
// read it). An error from a hook aborts the change and is returned as is.
// Like UpdatePackageMetadata it never creates the package (fault.NotFound).
// The blobs of deleted assets no other asset references are released
// after the commit, as DeletePackageVersions does. Requires the actions the
// change needs (DeletePackageVersions for deletions, PutPackageMetadata for
// edits and Metadata) to have been authorized.
func (s *Service) UpdatePackage(ctx context.Context, ref PackageRef, expectedRev string, change PackageChange) (*PackageUpdate, error) {
	if err := change.validate(); err != nil {
		return nil, err
	}
	var out *PackageUpdate
	var shas []string
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		out, shas = nil, nil
		_, _, p, err := s.findPackage(tx, ref)
		if err != nil {
			return err
		}
		if rev := (&Package{Package: *p}).Revision(); expectedRev != "" && rev != expectedRev {
			return fault.Conflict("package", ShowName(p.Name), "Document update conflict: the package's revision is %s, not %s", rev, expectedRev)
		}
		res := &BatchResult{Successful: map[string]VersionOutcome{}, Failed: map[string]VersionFailure{}}
		if change.DeletePackage {
			if shas, err = packageBlobs(tx, p.ID); err != nil {
				return err
			}
			out = &PackageUpdate{Package: &Package{Package: *p}, Versions: res}
			return tx.DeletePackage(p.ID)
		}
		if err := eachNamedVersion(tx, p.ID, change.Delete, res, func(name string, v *store.Version) error {
			return deleteVersion(tx, name, v, res, &shas)
		}); err != nil {
			return err
		}
		if err := eachNamedVersion(tx, p.ID, change.Edit, res, func(name string, v *store.Version) error {
			if v.Status == StatusDisposed {
				return fault.Conflict("package-version", name, "Version %s is Disposed: a Disposed version can only be deleted", name)
			}
			if err := editVersion(tx, v, change.EditVersion); err != nil {
				return err
			}
			res.Successful[name] = VersionOutcome{Revision: v.Revision, Status: v.Status}
			return nil
		}); err != nil {
			return err
		}
		if change.Metadata != nil {
			next, err := change.Metadata(p.Metadata)
			if err != nil {
				return err
			}
			if next != p.Metadata {
				p.Metadata = next
				if err := tx.UpdatePackage(p); err != nil {
					return err
				}
			}
		}
		if p, err = tx.GetPackageByID(p.ID); err != nil { // the driver's ChangeSeq
			return err
		}
		out = &PackageUpdate{Package: &Package{Package: *p}, Versions: res}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.releaseBlobs(ctx, shas)
	return out, nil
}

// validate checks a change before anything is read.
func (c *PackageChange) validate() error {
	if c.DeletePackage && (len(c.Delete) > 0 || len(c.Edit) > 0 || c.Metadata != nil) {
		return fault.Validation("A change that deletes the package carries nothing else")
	}
	if len(c.Edit) > 0 && c.EditVersion == nil {
		return fault.Validation("A change that edits versions needs EditVersion")
	}
	deleted := map[string]bool{}
	for _, v := range c.Delete {
		if err := validateCoordinate("versions", v); err != nil {
			return err
		}
		deleted[v] = true
	}
	for _, v := range c.Edit {
		if err := validateCoordinate("versions", v); err != nil {
			return err
		}
		if deleted[v] {
			return fault.Validation("Version %s cannot be both deleted and edited", v)
		}
	}
	return nil
}

// dropVersion deletes v in tx and returns the blobs its assets held, to be
// released after the commit.
func dropVersion(tx store.Tx, v *store.Version) ([]string, error) {
	shas, err := versionBlobs(tx, v.ID)
	if err != nil {
		return nil, err
	}
	return shas, tx.DeleteVersion(v.ID)
}

// notFoundVersion is the batch failure for a version that does not exist.
func notFoundVersion(name string) VersionFailure {
	return VersionFailure{Code: ErrCodeNotFound, Message: "Package version " + name + " not found"}
}
