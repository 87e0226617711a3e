package artifact

// Enforcement of package group origin controls: whether a package's group
// lets a repository publish it, or retain it from an internal or external
// upstream.

import (
	"context"
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// GroupAllows reports whether the origin controls of a package's group let
// the restriction type (PUBLISH, EXTERNAL_UPSTREAM or INTERNAL_UPSTREAM) add
// versions to the package in the repository: the effective mode of the
// package's most specific group (INHERIT resolved upwards) is ALLOW, or
// ALLOW_SPECIFIC_REPOSITORIES with the repository on the list of the group
// that mode is set on. group is the pattern of the package's group. The
// package need not exist; an unknown repository is never on a list. The
// package's own origin configuration is a separate check: both must allow.
func (s *Service) GroupAllows(ctx context.Context, domain DomainRef, format, namespace, pkg, restrictionType, repository string) (allowed bool, group string, err error) {
	if err := validatePackage(format, namespace, pkg); err != nil {
		return false, "", err
	}
	if err := validateRestrictionType("restrictionType", restrictionType); err != nil {
		return false, "", err
	}
	ns, name := Normalize(format, namespace, pkg)
	err = s.groupTx(ctx, false, domain, func(x *groupIndex) error {
		r, err := x.tx.GetRepository(x.d.ID, repository)
		if errors.Is(err, fault.ErrNotFound) {
			r = nil
		} else if err != nil {
			return err
		}
		var e *groupEntry
		allowed, e, _, err = groupDecision(x, format, ns, name, restrictionType, r)
		if e != nil {
			group = e.g.Pattern
		}
		return err
	})
	return allowed, group, err
}

// groupDecision applies the group origin controls to a package (normalised
// coordinates) and a repository (nil when it does not exist). It returns the
// package's group and the effective mode.
func groupDecision(x *groupIndex, format, namespace, name, restrictionType string, r *store.Repository) (bool, *groupEntry, string, error) {
	e, err := x.associated(format, namespace, name)
	if err != nil {
		return false, nil, "", err
	}
	mode, from, err := x.effective(e, restrictionType)
	if err != nil {
		return false, nil, "", err
	}
	switch mode {
	case Allow:
		return true, e, mode, nil
	case ModeAllowSpecificRepositories:
		if r == nil || from.g.ID == 0 {
			return false, e, mode, nil
		}
		ok, err := x.tx.IsAllowedRepository(from.g.ID, restrictionType, r.ID)
		return ok, e, mode, err
	}
	return false, e, mode, nil
}

// checkGroupPublish refuses a publish of ref (normalised) to repository r
// when the package's group does not allow PUBLISH there, as a Conflict like
// the package-level publish=BLOCK.
func (s *Service) checkGroupPublish(tx store.Tx, d *store.Domain, r *store.Repository, ref PackageRef) error {
	x, err := newGroupIndex(tx, d)
	if err != nil {
		return err
	}
	ok, e, mode, err := groupDecision(x, ref.Format, ref.Namespace, ref.Package, RestrictionPublish, r)
	if err != nil || ok {
		return err
	}
	if mode == ModeAllowSpecificRepositories {
		return fault.Conflict("package", ref.Package, "Publishing to package %s is blocked by the origin configuration of its package group %s (PUBLISH=%s; repository %s is not allowed)",
			ref.Package, e.g.Pattern, mode, r.Name)
	}
	return fault.Conflict("package", ref.Package, "Publishing to package %s is blocked by the origin configuration of its package group %s (PUBLISH=%s)",
		ref.Package, e.g.Pattern, mode)
}
