package artifact

// The group index: a domain's package groups as one transaction sees them,
// and the lookups every group operation and check is built on (a package's
// group, a group's parent, inherited modes).

import (
	"context"
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// filter is the store filter of the packages the pattern matches.
func (p groupPattern) filter(domainID int64) store.DomainPackageFilter {
	f := store.DomainPackageFilter{DomainID: domainID, Format: p.format, Namespace: p.namespace, Name: p.name}
	f.ExactNamespace = p.kind >= kindNamespace
	f.ExactName = p.kind == kindExact
	return f
}

// groupEntry is a group with its parsed pattern. ID 0 is the root group
// while it is not stored.
type groupEntry struct {
	g   store.PackageGroup
	pat groupPattern
}

func (e *groupEntry) mode(restrictionType string) string {
	if m := e.g.Modes[restrictionType]; m != "" {
		return m
	}
	if e.pat.kind == kindRoot {
		return Allow
	}
	return ModeInherit
}

// groupIndex holds a domain's groups as one transaction sees them, read per
// format on first use: a package's group, a group's parent and its inherited
// modes only ever involve the groups of one format and the root.
type groupIndex struct {
	tx       store.Tx
	d        *store.Domain
	root     *groupEntry
	byFormat map[string][]*groupEntry
}

func rootGroup(d *store.Domain) store.PackageGroup {
	return store.PackageGroup{DomainID: d.ID, Pattern: RootPackageGroup, CreatedTime: d.CreatedTime,
		Modes: map[string]string{RestrictionPublish: Allow, RestrictionExternalUpstream: Allow, RestrictionInternalUpstream: Allow}}
}

func newGroupIndex(tx store.Tx, d *store.Domain) (*groupIndex, error) {
	root, err := tx.GetPackageGroup(d.ID, RootPackageGroup)
	if errors.Is(err, fault.ErrNotFound) {
		g := rootGroup(d)
		root = &g
	} else if err != nil {
		return nil, err
	}
	return &groupIndex{tx: tx, d: d, root: &groupEntry{g: *root, pat: groupPattern{kind: kindRoot}}, byFormat: map[string][]*groupEntry{}}, nil
}

func entryOf(g store.PackageGroup) (*groupEntry, error) {
	pat, err := parsePattern("packageGroup", g.Pattern)
	if err != nil {
		return nil, fault.Internal(err, "stored package group pattern %q does not parse", g.Pattern)
	}
	return &groupEntry{g: g, pat: pat}, nil
}

// format returns the groups of one format.
func (x *groupIndex) format(format string) ([]*groupEntry, error) {
	if es, ok := x.byFormat[format]; ok {
		return es, nil
	}
	gs, err := x.tx.ListPackageGroups(x.d.ID, "/"+format+"/", store.Page{})
	if err != nil {
		return nil, err
	}
	es := make([]*groupEntry, 0, len(gs))
	for _, g := range gs {
		e, err := entryOf(g)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	x.byFormat[format] = es
	return es, nil
}

// candidates returns the root and the groups of the format (every group when
// format is "").
func (x *groupIndex) candidates(format string) ([]*groupEntry, error) {
	formats := []string{format}
	if format == "" {
		formats = Formats
	}
	out := []*groupEntry{x.root}
	for _, f := range formats {
		es, err := x.format(f)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// find returns the entry of a stored group (or of the root), nil if none.
func (x *groupIndex) find(pat groupPattern) (*groupEntry, error) {
	if pat.kind == kindRoot {
		return x.root, nil
	}
	es, err := x.format(pat.format)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.pat == pat {
			return e, nil
		}
	}
	return nil, nil
}

// bestOf returns the most specific of es matching the package.
func bestOf(es []*groupEntry, format, namespace, name string) *groupEntry {
	var best *groupEntry
	for _, e := range es {
		if e.pat.matches(format, namespace, name) && (best == nil || e.pat.moreSpecific(best.pat)) {
			best = e
		}
	}
	return best
}

// associated returns the group of a package (normalised coordinates).
func (x *groupIndex) associated(format, namespace, name string) (*groupEntry, error) {
	es, err := x.candidates(format)
	if err != nil {
		return nil, err
	}
	return bestOf(es, format, namespace, name), nil
}

// parent returns the parent of e: the most specific other group containing
// it; nil for the root.
func (x *groupIndex) parent(e *groupEntry) (*groupEntry, error) {
	if e.pat.kind == kindRoot {
		return nil, nil
	}
	es, err := x.candidates(e.pat.format)
	if err != nil {
		return nil, err
	}
	var best *groupEntry
	for _, c := range es {
		if c.pat.contains(e.pat) && (best == nil || c.pat.moreSpecific(best.pat)) {
			best = c
		}
	}
	return best, nil
}

// effective resolves INHERIT upwards: the mode that applies to e for the
// restriction type and the group it is set on.
func (x *groupIndex) effective(e *groupEntry, restrictionType string) (string, *groupEntry, error) {
	for cur := e; ; {
		if m := cur.mode(restrictionType); m != ModeInherit {
			return m, cur, nil
		}
		p, err := x.parent(cur)
		if err != nil {
			return "", nil, err
		}
		if p == nil { // only the root has no parent, and it never inherits
			return Allow, x.root, nil
		}
		cur = p
	}
}

// findGroup loads the group of a pattern (the root always exists).
func (s *Service) findGroup(x *groupIndex, pat groupPattern) (*groupEntry, error) {
	e, err := x.find(pat)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fault.NotFound("package-group", pat.String(), "Package group not found. Package group: %s, Domain: %s, Owner: %s",
			pat.String(), x.d.Name, x.d.Owner)
	}
	return e, nil
}

// storeRoot stores the root group if it is still implicit, so that it can be
// changed.
func storeRoot(x *groupIndex) error {
	if x.root.g.ID != 0 {
		return nil
	}
	return x.tx.CreatePackageGroup(&x.root.g)
}

// groupTx runs fn with the domain and its group index in a read or write
// transaction.
func (s *Service) groupTx(ctx context.Context, write bool, ref DomainRef, fn func(x *groupIndex) error) error {
	run := s.meta.Read
	if write {
		run = s.meta.Write
	}
	return run(ctx, func(tx store.Tx) error {
		d, err := s.findDomain(tx, ref)
		if err != nil {
			return err
		}
		x, err := newGroupIndex(tx, d)
		if err != nil {
			return err
		}
		return fn(x)
	})
}
