package store

import "time"

// PackageGroup is a package group of a domain: a pattern of package
// coordinates with origin controls. The store keeps patterns as given (the
// artifact service canonicalises them first) and knows nothing of their
// syntax; parents, association and inheritance are the service's rules.
type PackageGroup struct {
	ID          int64
	DomainID    int64
	Pattern     string // the group's key within its domain, e.g. "/npm/space/*"
	ContactInfo string
	Description string
	CreatedTime time.Time
	// Modes maps an origin restriction type (PUBLISH, EXTERNAL_UPSTREAM,
	// INTERNAL_UPSTREAM) to its mode (ALLOW, BLOCK,
	// ALLOW_SPECIFIC_REPOSITORIES, INHERIT); nil when none is set.
	Modes map[string]string
}

// PackageCoordinate names a package independently of the repositories that
// hold it.
type PackageCoordinate struct {
	Format    string
	Namespace string
	Name      string
}

// DomainPackageFilter narrows ListDomainPackages. The namespace and name are
// prefixes unless the matching Exact flag is set, in which case they must be
// equal (an exact empty namespace selects the packages without one).
type DomainPackageFilter struct {
	DomainID       int64
	Format         string // "" = every format
	Namespace      string
	ExactNamespace bool
	Name           string
	ExactName      bool
}

// PackageGroups stores package groups and their allowed-repository lists.
// Group keys are (domain id, pattern); patterns compare byte-wise.
type PackageGroups interface {
	CreatePackageGroup(g *PackageGroup) error // sets g.ID; ErrConflict if (domain, pattern) exists
	GetPackageGroup(domainID int64, pattern string) (*PackageGroup, error)
	// ListPackageGroups lists the domain's groups whose pattern starts with
	// prefix ("" = all), ordered by pattern; Page.After is the last pattern
	// returned (PackageGroupKey).
	ListPackageGroups(domainID int64, prefix string, p Page) ([]PackageGroup, error)
	UpdatePackageGroup(g *PackageGroup) error // by ID: contact info, description, modes
	// DeletePackageGroup removes the group with its allowed-repository
	// lists. Its tags are the caller's to remove.
	DeletePackageGroup(id int64) error

	// AddAllowedRepository puts a repository on the group's list for one
	// restriction type; adding one already listed does nothing. A missing
	// group or repository is ErrNotFound. Deleting the repository or the
	// group removes it from every list.
	AddAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error
	// RemoveAllowedRepository takes a repository off the list; removing one
	// not listed does nothing.
	RemoveAllowedRepository(groupID int64, restrictionType string, repositoryID int64) error
	// ListAllowedRepositories lists the names of the repositories on the
	// list, ordered by name; Page.After is the last name returned.
	ListAllowedRepositories(groupID int64, restrictionType string, p Page) ([]string, error)
	// IsAllowedRepository reports whether the repository is on the list.
	IsAllowedRepository(groupID int64, restrictionType string, repositoryID int64) (bool, error)
	// CountAllowedRepositories returns the length of each of the group's
	// non-empty lists, by restriction type.
	CountAllowedRepositories(groupID int64) (map[string]int, error)

	// ListDomainPackages lists the distinct coordinates of the packages held
	// by any repository of the domain, ordered by format, namespace, name;
	// Page.After is the key returned by PackageCoordinateKey.
	ListDomainPackages(f DomainPackageFilter, p Page) ([]PackageCoordinate, error)
}

// PackageGroupKey is the listing key of a package group: its pattern.
func PackageGroupKey(g *PackageGroup) string { return g.Pattern }

// PackageCoordinateKey is the listing key of a package coordinate: format,
// namespace, name (the same as PackageKey).
func PackageCoordinateKey(c *PackageCoordinate) string { return joinKey(c.Format, c.Namespace, c.Name) }
