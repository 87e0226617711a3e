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

import "coffer/internal/store"

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
