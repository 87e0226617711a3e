package artifact

import (
	"time"

	"coffer/internal/store"
)

// Version statuses.
const (
	StatusPublished  = "Published"
	StatusUnfinished = "Unfinished"
	StatusUnlisted   = "Unlisted"
	StatusArchived   = "Archived"
	StatusDisposed   = "Disposed"
	StatusDeleted    = "Deleted" // reported by DeletePackageVersions only
)

// Origin control values and origin types.
const (
	Allow = "ALLOW"
	Block = "BLOCK"

	OriginInternal = "INTERNAL"
	OriginExternal = "EXTERNAL"
	OriginUnknown  = "UNKNOWN"
)

// Batch failure codes of the version batch operations.
const (
	ErrCodeAlreadyExists      = "ALREADY_EXISTS"
	ErrCodeMismatchedRevision = "MISMATCHED_REVISION"
	ErrCodeMismatchedStatus   = "MISMATCHED_STATUS"
	ErrCodeNotAllowed         = "NOT_ALLOWED"
	ErrCodeNotFound           = "NOT_FOUND"
	ErrCodeSkipped            = "SKIPPED"
)

// DomainRef addresses a domain. An empty Owner means the service's account.
type DomainRef struct {
	Owner string
	Name  string
}

// RepoRef addresses a repository.
type RepoRef struct {
	DomainRef
	Repository string
}

// PackageRef addresses a package in a repository. Namespace is "" for
// formats without namespaces.
type PackageRef struct {
	RepoRef
	Format    string
	Namespace string
	Package   string
}

// VersionRef addresses a package version.
type VersionRef struct {
	PackageRef
	Version string
}

// PageRequest asks for one page. After is the opaque listing key returned as
// Next by the previous page ("" for the first page); Max is 1–1000 (0 means
// the default of 100).
type PageRequest struct {
	After string
	Max   int
}

// Domain is a domain as the API describes it.
type Domain struct {
	store.Domain
	ARN             string
	RepositoryCount int
	AssetSizeBytes  int64
	AssetCount      int64
	S3BucketARN     string // see AssetStoreARN
}

// Repository is a repository as the API describes it.
type Repository struct {
	store.Repository
	DomainName  string
	DomainOwner string
	ARN         string
}

// Package is a package as the API describes it.
type Package struct {
	store.Package
}

// Version is a package version as the API describes it.
type Version struct {
	store.Version
	Format    string
	Namespace string
	Package   string
}

// RepositoryFilter narrows ListRepositories.
type RepositoryFilter struct {
	// Domain limits the listing to one domain when Domain.Name != "".
	Domain               DomainRef
	Prefix               string
	AdministratorAccount string
}

// PackageFilter narrows ListPackages.
type PackageFilter struct {
	Format          string
	NamespacePrefix string
	PackagePrefix   string
	Publish         string
	Upstream        string
}

// VersionFilter narrows ListPackageVersions.
type VersionFilter struct {
	Status     string
	OriginType string
	// SortBy is "" or "PUBLISHED_TIME".
	SortBy string
}

// VersionList is one page of ListPackageVersions.
type VersionList struct {
	DefaultDisplayVersion string
	Versions              []store.Version
	Next                  string
}

// AssetList is one page of ListPackageVersionAssets.
type AssetList struct {
	Version *Version
	Assets  []store.Asset
	Next    string
}

// BatchResult is the outcome of a version batch operation.
type BatchResult struct {
	Successful map[string]VersionOutcome
	Failed     map[string]VersionFailure
}

// VersionOutcome is a successful version in a batch result.
type VersionOutcome struct {
	Revision string
	Status   string
}

// VersionFailure is a failed version in a batch result.
type VersionFailure struct {
	Code    string
	Message string
}

// StatusUpdate is the input of UpdatePackageVersionsStatus.
type StatusUpdate struct {
	Versions         []string
	VersionRevisions map[string]string
	ExpectedStatus   string
	TargetStatus     string
}

// VersionSelection names versions for Copy and Dispose: exactly one of
// Versions and VersionRevisions (Dispose also accepts both).
type VersionSelection struct {
	Versions         []string
	VersionRevisions map[string]string
	ExpectedStatus   string
}

// CopyRequest is the input of CopyPackageVersions.
type CopyRequest struct {
	Domain                DomainRef
	SourceRepository      string
	DestinationRepository string
	Format                string
	Namespace             string
	Package               string
	VersionSelection
	AllowOverwrite      bool
	IncludeFromUpstream bool
}

// PublishRequest is the input of PublishPackageVersion (generic format).
type PublishRequest struct {
	VersionRef
	Asset      string
	SHA256     string // expected lower-case hex SHA-256 of the content
	Unfinished bool
}

// PublishResult is the outcome of PublishPackageVersion.
type PublishResult struct {
	Version *Version
	Asset   store.Asset
}

// ResourcePolicy is a stored permissions policy.
type ResourcePolicy struct {
	ResourceARN string
	Revision    string
	Document    string
}

// timeNow is replaced in tests.
var timeNow = func() time.Time { return time.Now().UTC() }
