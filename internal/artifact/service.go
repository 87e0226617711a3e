// Package artifact is the model and every rule of coffer: domains,
// repositories and their upstream graph, packages, versions, assets, statuses,
// origin controls and tags. Protocols (the CodeArtifact API, the native
// package-manager routes, the console) translate requests into calls on
// Service; they never decide a rule themselves.
package artifact

import (
	"log/slog"
	"sync"

	"coffer/internal/blob"
	"coffer/internal/gencache"
	"coffer/internal/store"
)

// Config holds what the service needs to know about the installation.
type Config struct {
	Region    string // e.g. "us-east-1"
	AccountID string // the account that owns domains created here
	// MaxAssetSize bounds one asset (default 5 GiB).
	MaxAssetSize int64
	// ValidatePolicy, when set, checks resource policy documents against the
	// policy language before they are stored.
	ValidatePolicy func(doc string) error
	// ExternalConnectionURLs overrides where public:* external connections
	// point, by connection name (a mirror, an air-gapped copy); the others
	// use DefaultExternalURLs.
	ExternalConnectionURLs map[string]string
	// Count quotas, 0 for none: domains of the account, repositories and
	// package groups (besides /*) per domain.
	MaxDomains                int
	MaxRepositoriesPerDomain  int
	MaxPackageGroupsPerDomain int
}

// Service implements the artifact rules over a metadata store and a blob store.
type Service struct {
	cfg   Config
	meta  store.Store
	blobs blob.Store
	log   *slog.Logger
	locks hashLocks
	// hits remembers where reads found assets in the requested repository
	// itself, until the store's next write (the hot path of every cached
	// download).
	hits *gencache.Cache[hitKey, storedHit]
	// stamps remembers ViewStamp results the same way (metadata documents'
	// cache hits).
	stamps *gencache.Cache[PackageRef, viewStamp]
	// gate is the supply-chain check (SetGate); nil checks nothing.
	gate      Gate
	sightings *sightings
	reads     *readMetrics
	// downloads notes each asset read (SetDownloadRecorder); nil: none.
	downloads DownloadRecorder
	// sealer opens domains' data keys (SetKeySealer, encryption.go);
	// domainBlobs holds each domain's blob store by domain ID (blobsFor).
	sealer      KeySealer
	domainBlobs sync.Map
}

// New returns a Service.
func New(cfg Config, meta store.Store, blobs blob.Store, log *slog.Logger) *Service {
	if cfg.MaxAssetSize <= 0 {
		cfg.MaxAssetSize = 5 << 30
	}
	s := &Service{cfg: cfg, meta: meta, blobs: blobs, log: log, hits: gencache.New[hitKey, storedHit](16384),
		stamps: gencache.New[PackageRef, viewStamp](16384), sightings: &sightings{meta: meta}, reads: newReadMetrics()}
	s.locks.shared, _ = meta.(store.Locker)
	return s
}

// MaxAssetSize is the largest asset accepted, in bytes.
func (s *Service) MaxAssetSize() int64 { return s.cfg.MaxAssetSize }

// Region returns the configured region.
func (s *Service) Region() string { return s.cfg.Region }

// AccountID returns the account that owns this installation's domains.
func (s *Service) AccountID() string { return s.cfg.AccountID }

// Generation is the metadata store's write generation: values derived from
// reads stay current while it is unchanged (package gencache).
func (s *Service) Generation() uint64 { return s.meta.Generation() }
