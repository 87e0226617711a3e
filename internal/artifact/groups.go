package artifact

// Package groups.
//
// A package group is a pattern of package coordinates in a domain, with
// origin controls that apply to the packages associated with it. Patterns
// (CodeArtifact's package-group definition syntax) take six shapes:
//
//	/*                       every package (the root group)
//	/{fmt}/*                 every package of a format
//	/{fmt}/{ns}~             namespaces starting with ns
//	/{fmt}/{ns}/*            one namespace ("" for none: /npm//*)
//	/{fmt}/{ns}/{name}~      names starting with name, in one namespace
//	/{fmt}/{ns}/{name}$      exactly one package
//
// Formats without namespaces (pypi, nuget, ruby, cargo) take an empty
// namespace segment (/pypi//requests$) and no namespace prefix; formats that
// require one (maven, generic, swift) must give it. A '*' may only end the
// pattern, after a '/'. Namespaces and names are normalised as Normalize does
// (PEP 503 for PyPI, lower case for NuGet names and Swift), so /pypi//My_Pkg$
// is the group /pypi//my-pkg$; every operation that takes a pattern
// normalises it the same way before looking the group up.
//
// Association: a package belongs to the most specific group whose pattern
// matches it. Specificity, from most to least: $ (exact), ~ on the name,
// /* on a namespace, ~ on the namespace, /{fmt}/*, /*; between two prefixes of
// the same kind the longer wins. A group's parent is the most specific other
// group that matches every package the group matches (so parents follow from
// the patterns: deleting a group re-parents its children to its parent with
// no further work). Association is computed on every request, never stored,
// so creating or deleting a group takes effect at once (CodeArtifact only
// promises eventual consistency there).
//
// Association strength: STRONG when the package's coordinates as given match
// the pattern; WEAK when they only match once normalised, which only
// GetAssociatedPackageGroup can see (a PyPI, NuGet or Swift name given in
// another spelling). Listed packages are stored normalised, so
// ListAssociatedPackages reports STRONG.
//
// Origin controls: each group has a mode per restriction type (PUBLISH,
// EXTERNAL_UPSTREAM, INTERNAL_UPSTREAM): ALLOW, BLOCK,
// ALLOW_SPECIFIC_REPOSITORIES (only the repositories on the group's list for
// that type) or INHERIT (the mode of the nearest ancestor whose mode is not
// INHERIT, whose list then applies too). New groups inherit all three. The
// allowed-repository lists can be edited whatever the mode; they only count
// under ALLOW_SPECIFIC_REPOSITORIES.
//
// The root group /* exists implicitly in every domain, with all three types
// ALLOW; it is stored the first time it is changed. It cannot be created
// (ConflictException: it already exists), set to INHERIT (it has no parent)
// or deleted: DeletePackageGroup of /* is a ValidationException, since no
// state of the domain would make the request valid (the model lists both
// ValidationException and ConflictException for DeletePackageGroup).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Origin restriction types of package groups.
const (
	RestrictionPublish          = "PUBLISH"
	RestrictionExternalUpstream = "EXTERNAL_UPSTREAM"
	RestrictionInternalUpstream = "INTERNAL_UPSTREAM"
)

// RestrictionTypes lists the restriction types in the model's order.
var RestrictionTypes = []string{RestrictionExternalUpstream, RestrictionInternalUpstream, RestrictionPublish}

// Package group origin restriction modes (ALLOW and BLOCK are Allow and Block).
const (
	ModeAllowSpecificRepositories = "ALLOW_SPECIFIC_REPOSITORIES"
	ModeInherit                   = "INHERIT"
)

// GroupModes lists the modes in the model's order.
var GroupModes = []string{Allow, ModeAllowSpecificRepositories, Block, ModeInherit}

// Association types.
const (
	AssociationStrong = "STRONG"
	AssociationWeak   = "WEAK"
)

// RootPackageGroup is the pattern of the group every domain has.
const RootPackageGroup = "/*"

// MaxPackageGroupPattern is the longest pattern, in UTF-16 code units.
const MaxPackageGroupPattern = 520

// GroupRef names a package group.
type GroupRef struct {
	ARN     string
	Pattern string
}

// GroupRestriction is one restriction type of a group's origin configuration.
type GroupRestriction struct {
	Mode          string
	EffectiveMode string
	// InheritedFrom is the group EffectiveMode comes from when Mode is INHERIT.
	InheritedFrom     *GroupRef
	RepositoriesCount int
}

// PackageGroup is a package group as the API describes it.
type PackageGroup struct {
	store.PackageGroup
	DomainName  string
	DomainOwner string
	ARN         string
	Parent      *GroupRef // nil for the root group
	// Restrictions holds every restriction type.
	Restrictions map[string]GroupRestriction
}

// AssociatedPackage is a package associated with a group.
type AssociatedPackage struct {
	store.PackageCoordinate
	AssociationType string
}

// AllowedRepository names a repository on one of a group's lists.
type AllowedRepository struct {
	Repository      string
	RestrictionType string
}

// GroupOriginUpdate is the input of UpdatePackageGroupOriginConfiguration: new
// modes by restriction type, and repositories to add to or remove from the
// allowed lists.
type GroupOriginUpdate struct {
	Restrictions map[string]string
	Add          []AllowedRepository
	Remove       []AllowedRepository
}

// AllowedRepositoryUpdate reports the repositories added to and removed from
// one allowed-repository list.
type AllowedRepositoryUpdate struct {
	Added   []string
	Removed []string
}

// PackageGroupARN is arn:aws:codeartifact:<region>:<owner>:package-group/<domain><encoded pattern>.
func (s *Service) PackageGroupARN(owner, domain, pattern string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:package-group/%s%s", s.cfg.Region, owner, domain, encodeGroupPattern(pattern))
}

// CanonicalPackageGroupPattern returns a pattern in the form the service
// keeps it (namespaces and names normalised), or unchanged when it is not a
// valid pattern. Protocols use it to name the group's ARN before the service
// has validated the request.
func CanonicalPackageGroupPattern(pattern string) string {
	if p, err := parsePattern("packageGroup", pattern); err == nil {
		return p.String()
	}
	return pattern
}

// encodeGroupPattern percent-encodes a pattern for its ARN as CodeArtifact
// does: '/' and the URL-unreserved characters stay, every other byte becomes
// %xx in lower case ("/npm/*" -> "/npm/%2a", "$" -> "%24").
func encodeGroupPattern(p string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// parsePackageGroupARN splits a package-group ARN into its region, account,
// domain and (decoded, not yet validated) pattern.
func parsePackageGroupARN(arn string) (region, account, domain, pattern string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "codeartifact" {
		return "", "", "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "package-group/")
	if !found {
		return "", "", "", "", false
	}
	domain, encoded, found := strings.Cut(rest, "/")
	if !found || domain == "" {
		return "", "", "", "", false
	}
	pattern, err := url.PathUnescape("/" + encoded)
	if err != nil {
		return "", "", "", "", false
	}
	return parts[3], parts[4], domain, pattern, true
}

// Pattern kinds, from the least specific to the most.
type patternKind int

const (
	kindRoot            patternKind = iota // /*
	kindFormat                             // /{fmt}/*
	kindNamespacePrefix                    // /{fmt}/{ns}~
	kindNamespace                          // /{fmt}/{ns}/*
	kindNamePrefix                         // /{fmt}/{ns}/{name}~
	kindExact                              // /{fmt}/{ns}/{name}$
)

// groupPattern is a parsed, normalised pattern. namespace is a prefix for
// kindNamespacePrefix and name a prefix for kindNamePrefix.
type groupPattern struct {
	kind      patternKind
	format    string
	namespace string
	name      string
}

func (p groupPattern) String() string {
	switch p.kind {
	case kindRoot:
		return RootPackageGroup
	case kindFormat:
		return "/" + p.format + "/*"
	case kindNamespacePrefix:
		return "/" + p.format + "/" + p.namespace + "~"
	case kindNamespace:
		return "/" + p.format + "/" + p.namespace + "/*"
	case kindNamePrefix:
		return "/" + p.format + "/" + p.namespace + "/" + p.name + "~"
	default:
		return "/" + p.format + "/" + p.namespace + "/" + p.name + "$"
	}
}

// parsePattern validates a package group pattern and returns it normalised.
func parsePattern(field, raw string) (groupPattern, error) {
	bad := func(why string, args ...any) error {
		return fault.Validation("Value '%s' at '%s' is not a valid package group pattern: %s", ShowName(raw), field, fmt.Sprintf(why, args...))
	}
	if n := utf16Units(raw); n < 2 || n > MaxPackageGroupPattern {
		return groupPattern{}, bad("it must have 2 to %d characters", MaxPackageGroupPattern)
	}
	for _, r := range raw {
		if unicode.IsSpace(r) || unicode.In(r, unicode.C) || r == unicode.ReplacementChar {
			return groupPattern{}, bad("it must not contain whitespace or control characters")
		}
	}
	if raw[0] != '/' {
		return groupPattern{}, bad("it must start with '/'")
	}
	if raw == RootPackageGroup {
		return groupPattern{kind: kindRoot}, nil
	}
	if i := strings.IndexByte(raw, '*'); i >= 0 && (i != len(raw)-1 || raw[i-1] != '/') {
		return groupPattern{}, bad("'*' may only end the pattern, after a '/'")
	}
	format, rest, found := strings.Cut(raw[1:], "/")
	if !found {
		return groupPattern{}, bad("it must be /*, /{format}/*, /{format}/{namespace}~, /{format}/{namespace}/*, /{format}/{namespace}/{package}~ or /{format}/{namespace}/{package}$")
	}
	if !slices.Contains(Formats, format) {
		return groupPattern{}, bad("'%s' is not a package format; valid formats: %s", format, strings.Join(Formats, ", "))
	}
	p := groupPattern{format: format}
	if rest == "*" {
		p.kind = kindFormat
		return p, nil
	}
	ns, last, hasName := strings.Cut(rest, "/")
	switch {
	case !hasName:
		ns, found = strings.CutSuffix(rest, "~")
		if !found || ns == "" {
			return groupPattern{}, bad("a namespace must be followed by '~' (a prefix) or '/'")
		}
		p.kind = kindNamespacePrefix
	case strings.Contains(last, "/"):
		return groupPattern{}, bad("it has too many components; the most are /{format}/{namespace}/{package}")
	case last == "*":
		p.kind = kindNamespace
	case strings.HasSuffix(last, "$") && len(last) > 1:
		p.kind, p.name = kindExact, strings.TrimSuffix(last, "$")
	case strings.HasSuffix(last, "~") && len(last) > 1:
		p.kind, p.name = kindNamePrefix, strings.TrimSuffix(last, "~")
	default:
		return groupPattern{}, bad("a package name must end with '$' (an exact match) or '~' (a prefix)")
	}
	required, allowed := namespaceRule(format)
	switch {
	case ns != "" && !allowed:
		return groupPattern{}, bad("%s packages have no namespace; use an empty namespace segment, as in /%s//name$", format, format)
	case ns == "" && required:
		return groupPattern{}, bad("%s packages have a namespace; the pattern must include it", format)
	}
	for _, part := range []struct{ what, v string }{{"namespace", ns}, {"package", p.name}} {
		if part.v != "" && !coordinatePattern.MatchString(part.v) {
			return groupPattern{}, bad("the %s '%s' must have 1 to 255 characters other than '#', '/' and whitespace", part.what, part.v)
		}
		if problem := NameProblem(part.v); part.v != "" && problem != "" {
			return groupPattern{}, fault.Validation("Value '%s' at '%s' is not a valid package group pattern: the %s breaks a constraint: %s", ShowName(raw), field, part.what, problem)
		}
	}
	p.namespace, p.name = Normalize(format, ns, p.name)
	return p, nil
}

func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// matches reports whether the package (normalised coordinates) matches p.
func (p groupPattern) matches(format, namespace, name string) bool {
	if p.kind == kindRoot {
		return true
	}
	if format != p.format {
		return false
	}
	switch p.kind {
	case kindFormat:
		return true
	case kindNamespacePrefix:
		return strings.HasPrefix(namespace, p.namespace)
	case kindNamespace:
		return namespace == p.namespace
	case kindNamePrefix:
		return namespace == p.namespace && strings.HasPrefix(name, p.name)
	default:
		return namespace == p.namespace && name == p.name
	}
}

// contains reports whether every package matching q matches p, q being
// another pattern.
func (p groupPattern) contains(q groupPattern) bool {
	if p == q {
		return false
	}
	if p.kind == kindRoot {
		return true
	}
	if q.kind == kindRoot || q.format != p.format {
		return false
	}
	nameLevel := q.kind == kindNamePrefix || q.kind == kindExact
	switch p.kind {
	case kindFormat:
		return true
	case kindNamespacePrefix:
		return q.kind != kindFormat && strings.HasPrefix(q.namespace, p.namespace)
	case kindNamespace:
		return nameLevel && q.namespace == p.namespace
	case kindNamePrefix:
		return nameLevel && q.namespace == p.namespace && strings.HasPrefix(q.name, p.name)
	}
	return false
}

// moreSpecific reports whether p ranks above q: a later kind, or the same
// prefix kind with a longer prefix.
func (p groupPattern) moreSpecific(q groupPattern) bool {
	if p.kind != q.kind {
		return p.kind > q.kind
	}
	switch p.kind {
	case kindNamespacePrefix:
		return len(p.namespace) > len(q.namespace)
	case kindNamePrefix:
		return len(p.name) > len(q.name)
	}
	return false
}

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
