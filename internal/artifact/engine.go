package artifact

// The resolution engine: how every native format reads through a
// repository's upstream graph and external connection, retains what it finds,
// and publishes with origin controls. Formats translate their protocol into
// these calls; the rules live here (spec sections 3–4).
//
// THIS FILE IS THE CONTRACT between the engine (implemented in this package)
// and the formats (internal/format/<fmt>). The bodies live in engine_*.go;
// signatures and documented behaviour are fixed.

import (
	"context"
	"io"
	"maps"
	"slices"
	"time"

	"coffer/internal/blob"
	"coffer/internal/store"
)

// ExternalSource is an external connection reachable from a repository for
// one package, after origin controls and package groups allowed it.
type ExternalSource struct {
	// Repository holds the external connection (it retains what is ingested).
	Repository string
	Connection string // e.g. "public:maven-central"
	BaseURL    string // always ends with "/"
}

// FetchFunc retrieves one asset from an external registry into the blob
// store and returns the verified digests of the committed blob, with created
// reporting whether this call created it (see upstream.Client.Fetch). The
// engine calls it at most once per ReadAsset.
type FetchFunc func(ctx context.Context, src ExternalSource) (digests blob.Digests, created bool, err error)

// ReadRequest asks for one asset of a package version through a repository.
type ReadRequest struct {
	VersionRef
	Asset string
	// Fetch is called when no repository in the search order holds the
	// asset and an allowed external connection is reachable; nil disables
	// external fetches (e.g. Maven SNAPSHOTs, which are never ingested).
	Fetch FetchFunc
	// NewVersion fills the metadata of a version created by ingestion or by
	// retention of a new version (summary, licenses, dependencies...);
	// optional.
	NewVersion func(v *store.Version)
	// UpdateVersion, when set, may change the metadata of a version that
	// already exists when this read adds an asset to it (a second file of
	// a PyPI release ingested later); optional. Changes to the fields the
	// engine owns (identity, status, origin, revision, times) are ignored.
	UpdateVersion func(v *store.Version)
	// AllowUnfinished lets the read return assets of an Unfinished version
	// stored in the requested repository itself (Maven re-reads what it is
	// deploying); never through upstreams.
	AllowUnfinished bool
	// Published, when set, tells when the external registry published the
	// version, as its index says (zero when it does not say): asked before
	// Fetch, so that a cooldown refuses a download before anything is
	// fetched, and kept with the ingested version.
	Published func(ctx context.Context, src ExternalSource) (time.Time, error)
}

// ReadResult is what ReadAsset found.
type ReadResult struct {
	Version *Version
	Asset   store.Asset
	// Object is the content; the caller closes it.
	Object blob.Object
	// FoundIn is the repository that held it, or the external connection's
	// name when it was fetched now.
	FoundIn string
}

// ReadAsset resolves an asset for a native-protocol read of the repository:
// the repository itself, then its upstreams depth-first, pre-order,
// left-to-right, first hit wins, at most 25 repositories; then the first
// allowed external connection in that order. Unlisted versions are readable,
// Archived/Disposed/Unfinished ones are not (except AllowUnfinished on the
// repository itself). Origin controls apply: when the requested repository's
// package has upstream=BLOCK (or its package group blocks INTERNAL_UPSTREAM /
// EXTERNAL_UPSTREAM for it), upstream and external versions are invisible.
// A hit in an upstream is retained (metadata only) in the requested
// repository; an external fetch is retained in the repository holding the
// connection and in the requested one, never in intermediates. A package
// that first arrives by retention or ingestion gets publish=BLOCK,
// upstream=ALLOW. Not found anywhere: fault.NotFound.
func (s *Service) ReadAsset(ctx context.Context, req ReadRequest) (*ReadResult, error) {
	return s.readAsset(ctx, req)
}

// VisibleVersion is a version of a package visible through a repository.
type VisibleVersion struct {
	store.Version
	Repository string // where it is stored
}

// PackageView is what a repository shows of one package: the versions
// stored in the repository and its upstreams (first occurrence in search
// order wins; Published and, with includeUnlisted, Unlisted versions only;
// upstream versions hidden when origin controls or groups block them), the
// package-level metadata of the requested repository's package (npm
// dist-tags...) and of upstream packages in search order, and the external
// sources the format may consult for versions not stored yet.
type PackageView struct {
	Package *store.Package // the requested repository's own record, nil if none
	// Versions carry no Readme (DescribePackageVersion has it): a view of
	// thousands of versions would otherwise hold every one in memory.
	Versions []VisibleVersion
	// Metadata holds each repository's package Metadata in search order
	// (requested repository first), for formats that merge it.
	Metadata []RepositoryMetadata
	External []ExternalSource
	// Withheld lists, when External is not empty, the version strings that
	// no external source may supply through this repository (in the order
	// of the strings): the requested repository, or a repository holding
	// the connection, keeps a record of them that cannot be read
	// (Archived, Disposed, Unfinished), so ReadAsset would not fetch them.
	// Formats leave them out of the versions they list from upstream
	// indexes. Versions the supply-chain gate refuses are among them,
	// whether External is empty or not.
	Withheld []string
	// Refused lists the stored versions the supply-chain gate withholds,
	// with why (Admit decides the ones only external registries list).
	Refused []RefusedVersion

	gate *gateOf // nil: the gate refuses nothing of this package
	ref  PackageRef
}

// RepositoryMetadata is one repository's package-level metadata.
type RepositoryMetadata struct {
	Repository string
	Metadata   string
}

// ViewPackage returns what the repository shows of a package (for metadata
// documents such as maven-metadata.xml, packuments, simple pages).
// fault.NotFound when nothing is visible and no external source is allowed.
func (s *Service) ViewPackage(ctx context.Context, ref PackageRef, includeUnlisted bool) (*PackageView, error) {
	return s.viewPackage(ctx, ref, includeUnlisted, true)
}

// ViewPackageIndex is ViewPackage with every version's Metadata left
// empty, for documents of thousands of versions that read it in batches
// (VersionsMetadata) as they write, so that it is never all in memory.
func (s *Service) ViewPackageIndex(ctx context.Context, ref PackageRef, includeUnlisted bool) (*PackageView, error) {
	return s.viewPackage(ctx, ref, includeUnlisted, false)
}

// VersionsMetadata returns the Metadata of versions a view listed, by
// version ID; versions deleted since are left out.
func (s *Service) VersionsMetadata(ctx context.Context, ids []int64) (map[int64]string, error) {
	var out map[int64]string
	err := s.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.VersionsMetadata(ids)
		return err
	})
	return out, err
}

// PutAssetRequest adds one asset to a package version by a native publish.
type PutAssetRequest struct {
	VersionRef
	Asset string
	// Status of a version this call creates: StatusUnfinished (Maven, until
	// its maven-metadata.xml arrives) or StatusPublished (npm, PyPI, cargo).
	NewStatus string
	// Verify, when set, checks the digests before the asset becomes visible
	// (e.g. npm's dist.integrity, PyPI's sha256_digest); a failure is a
	// fault.Validation and nothing is stored.
	Verify func(blob.Digests) error
	// NewVersion fills the metadata of a version this call creates.
	NewVersion func(v *store.Version)
	// UpdateVersion, when set, may change an existing version's metadata
	// (e.g. a POM arriving after the jar).
	UpdateVersion func(v *store.Version)
	// Replace allows other bytes under an existing asset name (Maven
	// SNAPSHOT metadata files); otherwise other bytes are a Conflict and
	// identical bytes succeed without change.
	Replace bool
	// Offered, when set, says whether an external source offers the version
	// (its index lists it). A version new to the repository whose package
	// has upstream=ALLOW is refused when a source the package reaches
	// offers it, fetched or not (spec 3.5). fault.KindNotFound means the
	// source has no such package; a source that cannot be asked does not
	// block the publish.
	Offered func(ctx context.Context, src ExternalSource) (bool, error)
}

// PutAsset streams body into the blob store, verifies it, and records the
// asset in one transaction, creating the package (publish ALLOW, upstream
// BLOCK) and the version as needed. Origin rules: publish=BLOCK on the
// package, or a package group blocking PUBLISH for the repository, is a
// Conflict; with upstream=ALLOW, publishing a version that already exists in
// an upstream repository or was ingested from an external connection is a
// Conflict (HTTP 409), as in CodeArtifact. Requires the caller to have
// authorized codeartifact:PublishPackageVersion.
func (s *Service) PutAsset(ctx context.Context, req PutAssetRequest, body io.Reader) (*PublishResult, error) {
	return s.putAsset(ctx, req, body)
}

// SetVersionStatus sets a version's status for a native protocol (Maven's
// maven-metadata.xml upload publishes an Unfinished version; a newer SNAPSHOT
// build makes older builds Unlisted). Published never returns to Unfinished.
func (s *Service) SetVersionStatus(ctx context.Context, ref VersionRef, status string) (*Version, error) {
	return s.setVersionStatus(ctx, ref, status)
}

// PutPackageMetadata replaces the requested repository's package-level
// Metadata (npm dist-tags, Maven's uploaded maven-metadata.xml...), creating
// the package if needed with the published-first origin defaults. Requires
// codeartifact:PutPackageMetadata to have been authorized.
func (s *Service) PutPackageMetadata(ctx context.Context, ref PackageRef, metadata string) (*Package, error) {
	return s.putPackageMetadata(ctx, ref, metadata)
}

// ExternalURL returns the base URL of an external connection (the operator's
// override or the public default), always ending in "/".
func (s *Service) ExternalURL(connection string) string {
	return s.externalURL(connection)
}

// ExternalURLs returns the base URL of every external connection (the
// operator's overrides and the public defaults), sorted: the upstream
// client may reach their host:port whatever address they resolve to (an
// air-gapped mirror, a test fixture on loopback), and only public
// addresses besides (upstream.Policy).
func (s *Service) ExternalURLs() []string {
	var urls []string
	for _, c := range slices.Sorted(maps.Keys(ExternalConnections)) {
		if u := s.externalURL(c); u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}
