package artifact

// The package group API operations: create, describe, update, delete and
// list groups, their origin configuration and allowed repositories, the
// packages associated with them, and group ARNs as tag targets.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode"

	"coffer/internal/fault"
	"coffer/internal/store"
)

func (s *Service) groupRef(d *store.Domain, e *groupEntry) *GroupRef {
	return &GroupRef{ARN: s.PackageGroupARN(d.Owner, d.Name, e.g.Pattern), Pattern: e.g.Pattern}
}

// describeGroup builds the API description of e.
func (s *Service) describeGroup(x *groupIndex, e *groupEntry) (*PackageGroup, error) {
	d := x.d
	out := &PackageGroup{PackageGroup: e.g, DomainName: d.Name, DomainOwner: d.Owner,
		ARN: s.PackageGroupARN(d.Owner, d.Name, e.g.Pattern), Restrictions: map[string]GroupRestriction{}}
	out.Modes = map[string]string{}
	for _, t := range RestrictionTypes {
		out.Modes[t] = e.mode(t)
	}
	parent, err := x.parent(e)
	if err != nil {
		return nil, err
	}
	if parent != nil {
		out.Parent = s.groupRef(d, parent)
	}
	counts := map[string]int{}
	if e.g.ID != 0 {
		if counts, err = x.tx.CountAllowedRepositories(e.g.ID); err != nil {
			return nil, err
		}
	}
	for _, t := range RestrictionTypes {
		eff, from, err := x.effective(e, t)
		if err != nil {
			return nil, err
		}
		r := GroupRestriction{Mode: e.mode(t), EffectiveMode: eff, RepositoriesCount: counts[t]}
		if r.Mode == ModeInherit {
			r.InheritedFrom = s.groupRef(d, from)
		}
		out.Restrictions[t] = r
	}
	return out, nil
}

func validateContactInfo(c string) error {
	if utf16Units(c) > 1000 {
		return fault.Validation("Value at 'contactInfo' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	for _, r := range c {
		if unicode.In(r, unicode.C) {
			return fault.Validation("Value at 'contactInfo' failed to satisfy constraint: Member must satisfy regular expression pattern: \\P{C}*")
		}
	}
	return nil
}

func validateRestrictionType(field, t string) error {
	return validateStatusValue(field, t, RestrictionTypes...)
}

// CreatePackageGroup creates a package group whose origin controls all
// inherit from its parent.
func (s *Service) CreatePackageGroup(ctx context.Context, ref DomainRef, pattern, contactInfo, description string, tags []store.Tag) (*PackageGroup, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, err
	}
	if err := validateContactInfo(contactInfo); err != nil {
		return nil, err
	}
	if err := validateDescription(description); err != nil {
		return nil, err
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	var out *PackageGroup
	err = s.groupTx(ctx, true, ref, func(x *groupIndex) error {
		exists := func() error {
			return fault.Conflict("package-group", pat.String(), "Package group %s already exists in domain %s", pat.String(), x.d.Name)
		}
		if pat.kind == kindRoot {
			return exists()
		}
		g := store.PackageGroup{DomainID: x.d.ID, Pattern: pat.String(), ContactInfo: contactInfo, Description: description,
			CreatedTime: timeNow(), Modes: map[string]string{}}
		for _, t := range RestrictionTypes {
			g.Modes[t] = ModeInherit
		}
		if err := x.tx.CreatePackageGroup(&g); err != nil {
			if errors.Is(err, fault.ErrConflict) {
				return exists()
			}
			return err
		}
		if err := s.checkPackageGroupQuota(x.tx, x.d); err != nil {
			return err
		}
		e, err := x.find(pat) // reads the format's groups, the new one included
		if err != nil {
			return err
		} else if e == nil {
			return fault.Internal(nil, "package group %s vanished after its creation", g.Pattern)
		}
		arn := s.PackageGroupARN(x.d.Owner, x.d.Name, g.Pattern)
		// Tags left by an earlier group of this ARN (one of a deleted
		// domain) do not carry over.
		if err := setExactTags(x.tx, arn, tags); err != nil {
			return err
		}
		out, err = s.describeGroup(x, e)
		return err
	})
	return out, err
}

// setExactTags makes tags the only tags of arn.
func setExactTags(tx store.Tx, arn string, tags []store.Tag) error {
	have, err := tx.ListTags(arn)
	if err != nil {
		return err
	}
	if len(have) > 0 {
		keys := make([]string, len(have))
		for i, t := range have {
			keys[i] = t.Key
		}
		if err := tx.DeleteTags(arn, keys); err != nil {
			return err
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return tx.PutTags(arn, tags)
}

// DescribePackageGroup returns a package group.
func (s *Service) DescribePackageGroup(ctx context.Context, ref DomainRef, pattern string) (*PackageGroup, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, err
	}
	var out *PackageGroup
	err = s.groupTx(ctx, false, ref, func(x *groupIndex) error {
		e, err := s.findGroup(x, pat)
		if err != nil {
			return err
		}
		out, err = s.describeGroup(x, e)
		return err
	})
	return out, err
}

// UpdatePackageGroup changes the contact information and/or the description
// of a group (nil leaves a field unchanged).
func (s *Service) UpdatePackageGroup(ctx context.Context, ref DomainRef, pattern string, contactInfo, description *string) (*PackageGroup, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, err
	}
	if contactInfo != nil {
		if err := validateContactInfo(*contactInfo); err != nil {
			return nil, err
		}
	}
	if description != nil {
		if err := validateDescription(*description); err != nil {
			return nil, err
		}
	}
	var out *PackageGroup
	err = s.groupTx(ctx, true, ref, func(x *groupIndex) error {
		e, err := s.findGroup(x, pat)
		if err != nil {
			return err
		}
		if contactInfo != nil {
			e.g.ContactInfo = *contactInfo
		}
		if description != nil {
			e.g.Description = *description
		}
		if e.g.ID == 0 {
			err = storeRoot(x)
		} else {
			err = x.tx.UpdatePackageGroup(&e.g)
		}
		if err != nil {
			return err
		}
		out, err = s.describeGroup(x, e)
		return err
	})
	return out, err
}

// UpdatePackageGroupOriginConfiguration sets modes and edits the allowed
// repository lists of a group. Every repository named must exist in the
// domain. The result reports, per restriction type, the repositories the
// request added and removed (a repository already on a list, or not on it,
// is reported all the same: the call is idempotent).
func (s *Service) UpdatePackageGroupOriginConfiguration(ctx context.Context, ref DomainRef, pattern string, u GroupOriginUpdate) (*PackageGroup, map[string]AllowedRepositoryUpdate, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range slices.Sorted(maps.Keys(u.Restrictions)) {
		if err := validateRestrictionType("restrictions.key", t); err != nil {
			return nil, nil, err
		}
		if err := validateStatusValue("restrictions."+t+".value", u.Restrictions[t], GroupModes...); err != nil {
			return nil, nil, err
		}
		if pat.kind == kindRoot && u.Restrictions[t] == ModeInherit {
			return nil, nil, fault.Validation("The root package group %s has no parent to inherit %s from", RootPackageGroup, t)
		}
	}
	adding := map[AllowedRepository]bool{}
	for _, list := range []struct {
		field string
		repos []AllowedRepository
	}{{"addAllowedRepositories", u.Add}, {"removeAllowedRepositories", u.Remove}} {
		for _, a := range list.repos {
			if err := validateRepositoryName(list.field+".repositoryName", a.Repository); err != nil {
				return nil, nil, err
			}
			if err := validateRestrictionType(list.field+".originRestrictionType", a.RestrictionType); err != nil {
				return nil, nil, err
			}
			if list.field == "addAllowedRepositories" {
				adding[a] = true
			} else if adding[a] {
				return nil, nil, fault.Validation("Repository %s is both added to and removed from the %s allowed repositories", a.Repository, a.RestrictionType)
			}
		}
	}
	var out *PackageGroup
	updates := map[string]AllowedRepositoryUpdate{}
	err = s.groupTx(ctx, true, ref, func(x *groupIndex) error {
		e, err := s.findGroup(x, pat)
		if err != nil {
			return err
		}
		if e.g.ID == 0 && (len(u.Restrictions) > 0 || len(u.Add) > 0 || len(u.Remove) > 0) {
			if err := storeRoot(x); err != nil {
				return err
			}
		}
		if len(u.Restrictions) > 0 {
			modes := map[string]string{}
			for _, t := range RestrictionTypes {
				modes[t] = e.mode(t)
			}
			for t, m := range u.Restrictions {
				modes[t] = m
			}
			e.g.Modes = modes
			if err := x.tx.UpdatePackageGroup(&e.g); err != nil {
				return err
			}
		}
		apply := func(list []AllowedRepository, add bool) error {
			seen := map[AllowedRepository]bool{}
			for _, a := range list {
				if seen[a] {
					continue
				}
				seen[a] = true
				r, err := x.tx.GetRepository(x.d.ID, a.Repository)
				if errors.Is(err, fault.ErrNotFound) {
					return fault.NotFound("repository", a.Repository, "Repository not found. Repository: %s, Domain: %s, Owner: %s", a.Repository, x.d.Name, x.d.Owner)
				} else if err != nil {
					return err
				}
				upd := updates[a.RestrictionType]
				if add {
					err = x.tx.AddAllowedRepository(e.g.ID, a.RestrictionType, r.ID)
					upd.Added = append(upd.Added, r.Name)
				} else {
					err = x.tx.RemoveAllowedRepository(e.g.ID, a.RestrictionType, r.ID)
					upd.Removed = append(upd.Removed, r.Name)
				}
				if err != nil {
					return err
				}
				updates[a.RestrictionType] = upd
			}
			return nil
		}
		if err := apply(u.Add, true); err != nil {
			return err
		}
		if err := apply(u.Remove, false); err != nil {
			return err
		}
		out, err = s.describeGroup(x, e)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, updates, nil
}

// DeletePackageGroup deletes a group with its allowed-repository lists and
// tags, and returns it as it was. Packages are untouched; the group's
// children now have its parent as their parent.
func (s *Service) DeletePackageGroup(ctx context.Context, ref DomainRef, pattern string) (*PackageGroup, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, err
	}
	if pat.kind == kindRoot {
		return nil, fault.Validation("The root package group %s cannot be deleted", RootPackageGroup)
	}
	var out *PackageGroup
	err = s.groupTx(ctx, true, ref, func(x *groupIndex) error {
		e, err := s.findGroup(x, pat)
		if err != nil {
			return err
		}
		if out, err = s.describeGroup(x, e); err != nil {
			return err
		}
		if err := x.tx.DeletePackageGroup(e.g.ID); err != nil {
			return err
		}
		// Exactly this ARN: DeleteAllTags takes a prefix, and the ARN of
		// /npm/a~ is a prefix of the ARN of /npm/a~b/*.
		return setExactTags(x.tx, out.ARN, nil)
	})
	return out, err
}

// pageGroups pages through groups sorted by pattern.
func pageGroups(es []*groupEntry, page PageRequest) ([]*groupEntry, string) {
	limit := pageLimit(page)
	i, _ := slices.BinarySearchFunc(es, page.After, func(e *groupEntry, after string) int { return strings.Compare(e.g.Pattern, after) })
	for i < len(es) && es[i].g.Pattern <= page.After {
		i++
	}
	es = es[i:]
	if len(es) > limit {
		return es[:limit], es[limit-1].g.Pattern
	}
	return es, ""
}

func (s *Service) describeGroups(x *groupIndex, es []*groupEntry) ([]PackageGroup, error) {
	out := make([]PackageGroup, 0, len(es))
	for _, e := range es {
		g, err := s.describeGroup(x, e)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, nil
}

// ListPackageGroups lists the groups of a domain whose pattern starts with
// prefix, in pattern order; the root group comes first.
func (s *Service) ListPackageGroups(ctx context.Context, ref DomainRef, prefix string, page PageRequest) ([]PackageGroup, string, error) {
	if err := validatePrefix("prefix", prefix, MaxPackageGroupPattern); err != nil {
		return nil, "", err
	}
	var out []PackageGroup
	next := ""
	err := s.groupTx(ctx, false, ref, func(x *groupIndex) error {
		limit := pageLimit(page)
		gs, err := x.tx.ListPackageGroups(x.d.ID, prefix, store.Page{After: page.After, Limit: limit + 1})
		if err != nil {
			return err
		}
		// "/*" sorts before every other pattern: the implicit root goes first.
		if x.root.g.ID == 0 && page.After < RootPackageGroup && strings.HasPrefix(RootPackageGroup, prefix) {
			gs = append([]store.PackageGroup{x.root.g}, gs...)
		}
		if len(gs) > limit {
			gs = gs[:limit]
			next = store.PackageGroupKey(&gs[limit-1])
		}
		es := make([]*groupEntry, 0, len(gs))
		for _, g := range gs {
			e, err := entryOf(g)
			if err != nil {
				return err
			}
			es = append(es, e)
		}
		out, err = s.describeGroups(x, es)
		return err
	})
	return out, next, err
}

// ListSubPackageGroups lists the direct children of a group, in pattern order.
func (s *Service) ListSubPackageGroups(ctx context.Context, ref DomainRef, pattern string, page PageRequest) ([]PackageGroup, string, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, "", err
	}
	var out []PackageGroup
	next := ""
	err = s.groupTx(ctx, false, ref, func(x *groupIndex) error {
		e, err := s.findGroup(x, pat)
		if err != nil {
			return err
		}
		es, err := x.candidates(pat.format)
		if err != nil {
			return err
		}
		var children []*groupEntry
		for _, c := range es {
			if !e.pat.contains(c.pat) {
				continue
			}
			p, err := x.parent(c)
			if err != nil {
				return err
			}
			if p == e {
				children = append(children, c)
			}
		}
		slices.SortFunc(children, func(a, b *groupEntry) int { return strings.Compare(a.g.Pattern, b.g.Pattern) })
		children, next = pageGroups(children, page)
		out, err = s.describeGroups(x, children)
		return err
	})
	return out, next, err
}

// ListAssociatedPackages lists the packages held anywhere in the domain whose
// group is the given one, in format, namespace, name order. With preview the
// group need not exist: the listing shows what would be associated with it
// if it were created. Without preview a missing group is ResourceNotFound.
func (s *Service) ListAssociatedPackages(ctx context.Context, ref DomainRef, pattern string, preview bool, page PageRequest) ([]AssociatedPackage, string, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, "", err
	}
	var out []AssociatedPackage
	next := ""
	err = s.groupTx(ctx, false, ref, func(x *groupIndex) error {
		e, err := x.find(pat)
		if err != nil {
			return err
		}
		if e == nil {
			if !preview {
				_, err := s.findGroup(x, pat)
				return err
			}
			e = &groupEntry{g: store.PackageGroup{DomainID: x.d.ID, Pattern: pat.String()}, pat: pat}
		}
		limit := pageLimit(page)
		const batch = 500
		after := page.After
		for {
			cs, err := x.tx.ListDomainPackages(pat.filter(x.d.ID), store.Page{After: after, Limit: batch})
			if err != nil {
				return err
			}
			for _, c := range cs {
				es, err := x.candidates(c.Format)
				if err != nil {
					return err
				}
				if best := bestOf(append(es, e), c.Format, c.Namespace, c.Name); best != e {
					continue
				}
				if len(out) == limit {
					next = store.PackageCoordinateKey(&out[limit-1].PackageCoordinate)
					return nil
				}
				out = append(out, AssociatedPackage{PackageCoordinate: c, AssociationType: AssociationStrong})
			}
			if len(cs) < batch {
				return nil
			}
			after = store.PackageCoordinateKey(&cs[len(cs)-1])
		}
	})
	return out, next, err
}

// ListAllowedRepositoriesForGroup lists the repositories on a group's list for
// one restriction type, in name order.
func (s *Service) ListAllowedRepositoriesForGroup(ctx context.Context, ref DomainRef, pattern, restrictionType string, page PageRequest) ([]string, string, error) {
	pat, err := parsePattern("packageGroup", pattern)
	if err != nil {
		return nil, "", err
	}
	if err := validateRestrictionType("originRestrictionType", restrictionType); err != nil {
		return nil, "", err
	}
	var out []string
	next := ""
	err = s.groupTx(ctx, false, ref, func(x *groupIndex) error {
		e, err := s.findGroup(x, pat)
		if err != nil || e.g.ID == 0 {
			return err
		}
		limit := pageLimit(page)
		out, err = x.tx.ListAllowedRepositories(e.g.ID, restrictionType, store.Page{After: page.After, Limit: limit + 1})
		if len(out) > limit {
			out = out[:limit]
			next = out[limit-1]
		}
		return err
	})
	return out, next, err
}

// GetAssociatedPackageGroup returns the group a package belongs to, whether
// or not the package exists, with the association type.
func (s *Service) GetAssociatedPackageGroup(ctx context.Context, ref DomainRef, format, namespace, pkg string) (*PackageGroup, string, error) {
	if err := validatePackage(format, namespace, pkg); err != nil {
		return nil, "", err
	}
	ns, name := Normalize(format, namespace, pkg)
	association := AssociationStrong
	if ns != namespace || name != pkg {
		association = AssociationWeak
	}
	var out *PackageGroup
	err := s.groupTx(ctx, false, ref, func(x *groupIndex) error {
		e, err := x.associated(format, ns, name)
		if err != nil {
			return err
		}
		out, err = s.describeGroup(x, e)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, association, nil
}

// taggableGroup checks that a package-group ARN names a group of this
// installation and returns the ARN in its canonical form.
func (s *Service) taggableGroup(tx store.Tx, arn string) (string, error) {
	region, account, domain, pattern, ok := parsePackageGroupARN(arn)
	if !ok || region != s.cfg.Region {
		return "", fault.Validation("Value '%s' at 'resourceArn' is not the ARN of a domain, repository or package group in region %s", arn, s.cfg.Region)
	}
	pat, err := parsePattern("resourceArn", pattern)
	if err != nil {
		return "", err
	}
	d, err := s.findDomain(tx, DomainRef{Owner: account, Name: domain})
	if errors.Is(err, fault.ErrValidation) {
		return "", fault.Validation("Value '%s' at 'resourceArn' is not a valid resource ARN: %v", arn, err)
	} else if err != nil {
		return "", err
	}
	x, err := newGroupIndex(tx, d)
	if err != nil {
		return "", err
	}
	e, err := s.findGroup(x, pat)
	if err != nil {
		return "", err
	}
	return s.PackageGroupARN(d.Owner, d.Name, e.g.Pattern), nil
}
