// Package store defines the metadata store: the records coffer keeps about
// domains, repositories, packages, versions, assets, tags, credentials and IAM
// identities, and the transactional interface every driver implements. Drivers
// (store/sqlite, store/postgres, which share their SQL in store/sqlstore) hold
// no rules: validation, status transitions and origin controls live in the
// artifact service. Every driver must pass the conformance suite in
// store/storetest.
//
// Errors: a missing record is fault.ErrNotFound, a unique-key violation is
// fault.ErrConflict; anything else is returned wrapped as is.
package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Store is a metadata store. Read runs fn in a read-only transaction that sees
// one consistent snapshot; Write runs fn in a read-write transaction that is
// committed when fn returns nil and rolled back otherwise. Writes are
// serialised; reads may run concurrently with each other and with a write.
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
	// Generation counts the write transactions that have ended. It grows
	// after a commit becomes visible to new reads (and after rolled-back
	// ones, harmlessly), so a value derived from a Read that started after
	// Generation returned g is current while Generation still returns g
	// (package gencache).
	Generation() uint64
	Close() error
}

// Locker is implemented by a store that several coffer processes share
// (store/postgres): Lock takes the lock named key, which every process
// sharing the store respects, waiting for it until ctx ends; unlock releases
// it. The artifact service takes a blob's lock this way so that an upload on
// one node and the orphan collector or a failed upload's cleanup on another
// never race (see artifact's collect.go). A store without it is used by one
// process, whose own locks suffice.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Tx is one transaction. It groups the per-record interfaces below.
type Tx interface {
	Settings
	Domains
	Repositories
	Packages
	Versions
	Assets
	Tags
	AccessKeys
	Identities
	PackageGroups
	Events
	Downloads
}

// Page asks for at most Limit records strictly after the key After (the empty
// string means from the start); a Limit of zero or less means no limit.
// Listing is always in ascending key order.
type Page struct {
	After string
	Limit int
}

// Settings is a small key/value table for installation-wide values (account
// id, encrypted token key, ...).
type Settings interface {
	GetSetting(key string) (string, error)
	PutSetting(key, value string) error
	// DeleteSetting removes a setting; a missing one is fault.ErrNotFound.
	DeleteSetting(key string) error
	// ListSettings returns every setting, ordered by key (for migration).
	ListSettings() ([]Setting, error)
	// ListSettingsPrefix returns the settings whose key starts with
	// prefix, ordered by key.
	ListSettingsPrefix(prefix string) ([]Setting, error)
}

// Setting is one installation-wide value.
type Setting struct {
	Key   string
	Value string
}

// Domain is a CodeArtifact domain.
type Domain struct {
	ID             int64
	Owner          string // 12-digit account id
	Name           string
	Status         string // "Active" or "Deleted"
	EncryptionKey  string
	CreatedTime    time.Time
	PolicyDocument string // empty when no domain permissions policy is set
	PolicyRevision string
}

// Domains stores domains. Domain keys are (owner, name).
type Domains interface {
	CreateDomain(d *Domain) error // sets d.ID; ErrConflict if (owner, name) exists
	GetDomain(owner, name string) (*Domain, error)
	GetDomainByID(id int64) (*Domain, error)
	// ListDomains lists every domain ordered by name then owner; Page.After
	// is the last "name/owner" key returned.
	ListDomains(p Page) ([]Domain, error)
	UpdateDomain(d *Domain) error // by ID: status, encryption key, policy
	DeleteDomain(id int64) error
	// DomainUsage returns the number of repositories and the deduplicated
	// asset bytes and asset count of the domain.
	DomainUsage(id int64) (repositories int, assetBytes int64, assets int64, err error)
}

// ExternalConnection is a repository's link to a public registry.
type ExternalConnection struct {
	Name   string // e.g. "public:npmjs"
	Format string // package format it serves
}

// Repository is a repository in a domain.
type Repository struct {
	ID                   int64
	DomainID             int64
	Name                 string
	Description          string
	AdministratorAccount string
	CreatedTime          time.Time
	// Upstreams are repository names in the same domain, in priority order.
	Upstreams           []string
	ExternalConnections []ExternalConnection
	PolicyDocument      string
	PolicyRevision      string
}

// RepositoryFilter narrows ListRepositories.
type RepositoryFilter struct {
	DomainID             int64  // 0 = every domain
	DomainOwner          string // "" = any owner (with DomainID 0)
	NamePrefix           string
	AdministratorAccount string
}

// Repositories stores repositories. Keys are (domain id, name); names are
// case-sensitive.
type Repositories interface {
	CreateRepository(r *Repository) error // sets r.ID; ErrConflict on a duplicate name
	GetRepository(domainID int64, name string) (*Repository, error)
	GetRepositoryByID(id int64) (*Repository, error)
	// ListRepositories orders by repository name, then id (the tie-break
	// between domains); Page.After is the key returned by RepositoryKey.
	ListRepositories(f RepositoryFilter, p Page) ([]Repository, error)
	UpdateRepository(r *Repository) error // by ID: description, upstreams, connections, policy
	// DeleteRepository removes the repository with its packages, versions
	// and assets. Its tags are the caller's to remove (Tags.DeleteAllTags);
	// blobs stay in the blob store (see Assets.BlobReferenced).
	DeleteRepository(id int64) error
	// Downstreams lists the repositories whose upstream list names the given
	// repository name in the domain.
	Downstreams(domainID int64, name string) ([]Repository, error)
}

// Package is one package in one repository. Namespace is "" when the format
// has none. Names are stored normalised (the format decides how).
type Package struct {
	ID           int64
	RepositoryID int64
	Format       string
	Namespace    string
	Name         string
	Publish      string // origin control: "ALLOW" or "BLOCK"
	Upstream     string // origin control: "ALLOW" or "BLOCK"
	// Metadata is package-level data a format keeps (npm dist-tags...), as
	// opaque JSON; "" when none.
	Metadata string
	// ChangeSeq is maintained by the driver: it grows in the same
	// transaction as any change to the package's origin controls or
	// metadata, or to one of its versions or their assets. Callers ignore it
	// on writes.
	ChangeSeq int64
}

// PackageFilter narrows ListPackages.
type PackageFilter struct {
	RepositoryID    int64
	Format          string // "" = any
	NamespacePrefix string // "" = any; CodeArtifact treats namespace as a prefix
	NamePrefix      string
	Publish         string // "" = any
	Upstream        string // "" = any
}

// Packages stores packages. Keys are (repository, format, namespace, name).
type Packages interface {
	CreatePackage(p *Package) error // sets p.ID; ErrConflict on duplicate key
	GetPackage(repositoryID int64, format, namespace, name string) (*Package, error)
	GetPackageByID(id int64) (*Package, error)
	// ListPackages orders by format, namespace, name; Page.After is the key
	// returned by PackageKey.
	ListPackages(f PackageFilter, p Page) ([]Package, error)
	UpdatePackage(p *Package) error // by ID: origin controls, metadata
	DeletePackage(id int64) error   // with its versions and assets
}

// License is a package version's license.
type License struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Dependency is a direct dependency declared by a package version.
type Dependency struct {
	Namespace          string `json:"namespace,omitempty"`
	Package            string `json:"package,omitempty"`
	DependencyType     string `json:"dependencyType,omitempty"`
	VersionRequirement string `json:"versionRequirement,omitempty"`
}

// Version is one package version.
type Version struct {
	ID        int64
	PackageID int64
	Version   string
	// Revision identifies the exact assets+metadata state; it changes
	// whenever assets or metadata change.
	Revision string
	// Status: Published, Unfinished, Unlisted, Archived or Disposed.
	Status string
	// OriginType: INTERNAL, EXTERNAL or UNKNOWN. OriginRepository or
	// OriginExternalConnection names the domain entry point.
	OriginType               string
	OriginRepository         string
	OriginExternalConnection string
	CreatedTime              time.Time
	PublishedTime            time.Time // zero until published
	// UpstreamPublishedTime is when the external registry published a
	// version ingested from it, as its protocol tells (zero: unknown).
	UpstreamPublishedTime time.Time
	DisplayName           string
	Summary               string
	HomePage              string
	SourceCodeRepository  string
	Licenses              []License
	Readme                string
	Dependencies          []Dependency
	// Metadata is format-specific version data as opaque JSON ("" when none).
	Metadata string
}

// VersionFilter narrows ListVersions.
type VersionFilter struct {
	PackageID  int64
	Status     string // "" = any
	OriginType string // "" = any
	// ByPublishedTime orders by published time (then version) instead of by
	// version string; Page.After then holds the key from VersionKey.
	ByPublishedTime bool
	// Descending reverses the order (Page.After still holds the key of the
	// last version of the previous page).
	Descending bool
	// OmitReadme leaves Readme empty: views over many versions do not
	// need it, and it is often the largest field.
	OmitReadme bool
	// OmitMetadata leaves Metadata and Dependencies (derived from the
	// same document) empty, for documents that read Metadata in batches
	// while they stream (VersionsMetadata).
	OmitMetadata bool
}

// Versions stores package versions. Keys are (package, version).
type Versions interface {
	CreateVersion(v *Version) error // sets v.ID; ErrConflict on duplicate key
	GetVersion(packageID int64, version string) (*Version, error)
	ListVersions(f VersionFilter, p Page) ([]Version, error)
	UpdateVersion(v *Version) error // by ID: every field but the key
	DeleteVersion(id int64) error   // with its assets
	// CountVersions returns how many versions the package has.
	CountVersions(packageID int64) (int, error)
	// VersionsMetadata returns the Metadata of the versions with these
	// IDs; IDs of versions that no longer exist are left out.
	VersionsMetadata(ids []int64) (map[int64]string, error)
}

// Blob is the content of an asset, content-addressed by SHA-256, with the
// other digests computed in the same pass.
type Blob struct {
	SHA256 string
	SHA512 string
	SHA1   string
	MD5    string
	Size   int64
}

// Asset is one named file of a package version.
type Asset struct {
	VersionID   int64
	Name        string
	Blob        Blob
	CreatedTime time.Time
}

// Assets stores assets and the per-domain blob references that account for
// deduplicated storage.
type Assets interface {
	// PutAsset adds the asset, or replaces the one with the same name, and
	// records the blob as referenced by the asset's domain.
	PutAsset(domainID int64, a *Asset) error
	GetAsset(versionID int64, name string) (*Asset, error)
	// ListAssets orders by name; Page.After is the last name returned.
	ListAssets(versionID int64, p Page) ([]Asset, error)
	DeleteAssets(versionID int64) error
	// BlobReferenced reports whether any asset anywhere references sha256.
	BlobReferenced(sha256 string) (bool, error)
	// FindBlob returns the digests of a blob that an asset of the domain
	// references, or ErrNotFound (also once the last such asset is gone:
	// the blob store may then collect it).
	FindBlob(domainID int64, sha256 string) (*Blob, error)
}

// Downloads keeps when each package version was last downloaded, for
// retention's "not downloaded for D days". The engine notes downloads in
// memory and writes them here in batches, never on the read path. A row
// goes with its version.
type Downloads interface {
	// RecordDownloads sets the last-download time of each version to the
	// given one unless the stored one is later; IDs of versions that no
	// longer exist are skipped.
	RecordDownloads(times map[int64]time.Time) error
	// LastDownloads returns the last-download times of those of the
	// versions with these IDs that have one.
	LastDownloads(ids []int64) (map[int64]time.Time, error)
}

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// Tags stores tags by resource ARN.
type Tags interface {
	ListTags(resourceARN string) ([]Tag, error)         // ordered by key
	PutTags(resourceARN string, tags []Tag) error       // upsert each
	DeleteTags(resourceARN string, keys []string) error // missing keys are ignored
	DeleteAllTags(resourceARNPrefix string) error       // every ARN starting with the prefix
	CountTags(resourceARN string) (int, error)          // number of tags on the resource
}

// AccessKey is a long-term or temporary access key pair. The secret is kept
// encrypted by a key that lives outside the store.
type AccessKey struct {
	AccessKeyID     string
	SecretEncrypted []byte
	// PrincipalARN is who the key belongs to (root, an IAM user, an assumed
	// role session).
	PrincipalARN string
	Status       string // "Active" or "Inactive"
	CreatedTime  time.Time
	// SessionToken (sealed like the secret) and Expiration are set for
	// temporary credentials.
	SessionToken []byte
	Expiration   time.Time
	LastUsed     time.Time
	// Principal holds principal-specific data as opaque JSON (session
	// policies, role id, user name...).
	Principal string
}

// AccessKeys stores access keys.
type AccessKeys interface {
	CreateAccessKey(k *AccessKey) error
	GetAccessKey(id string) (*AccessKey, error)
	ListAccessKeys(principalARN string) ([]AccessKey, error) // ordered by id
	UpdateAccessKey(k *AccessKey) error                      // status, last used
	DeleteAccessKey(id string) error
	DeleteExpiredAccessKeys(now time.Time) (int, error)
}

// Listing keys. A Page.After value is built with these functions from the last
// record of the previous page; drivers split it with SplitKey. The parts are
// joined with NUL, which no name may contain.

// DomainKey is the listing key of a domain: name, owner.
func DomainKey(d *Domain) string { return joinKey(d.Name, d.Owner) }

// RepositoryKey is the listing key of a repository: name, zero-padded id.
func RepositoryKey(r *Repository) string { return joinKey(r.Name, fmt.Sprintf("%020d", r.ID)) }

// PackageKey is the listing key of a package: format, namespace, name.
func PackageKey(p *Package) string { return joinKey(p.Format, p.Namespace, p.Name) }

// VersionKey is the listing key of a version: the version string, or with
// byPublishedTime the zero-padded published time in nanoseconds and the version.
func VersionKey(v *Version, byPublishedTime bool) string {
	if byPublishedTime {
		return joinKey(fmt.Sprintf("%020d", TimeNanos(v.PublishedTime)), v.Version)
	}
	return v.Version
}

// SplitKey splits a listing key into its parts.
func SplitKey(key string) []string { return strings.Split(key, "\x00") }

func joinKey(parts ...string) string { return strings.Join(parts, "\x00") }

// TimeNanos is t in Unix nanoseconds, or 0 for the zero time; drivers store
// times this way so that ordering by time works on plain integers.
func TimeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Event is one row of the event outbox: a package version change, written
// in the transaction that made it, so that no event is lost and none is
// recorded for a change that did not commit. Seq is the store's: it grows
// with every event, in commit order (writes are serialised).
type Event struct {
	Seq       int64
	DomainID  int64
	Time      time.Time
	Format    string
	Namespace string
	Name      string
	Version   string
	// Body is the event as JSON, with every field but its sequence number.
	Body string
}

// Events is the event outbox.
type Events interface {
	AppendEvent(e *Event) error // sets e.Seq
	// ListEvents returns at most limit events with Seq > after, in order.
	ListEvents(after int64, limit int) ([]Event, error)
	// LastEventSeq is the Seq of the newest event, 0 when there is none.
	LastEventSeq() (int64, error)
	// DeleteEvents removes the events with Seq <= upTo, and those older
	// than before; it returns how many went.
	DeleteEvents(upTo int64, before time.Time) (int64, error)
}
