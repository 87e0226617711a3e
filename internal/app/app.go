// Package app is the composition root: it builds the stores, the services and
// the HTTP handler from a configuration. The coffer command serves it; tests
// run the same assembly in-process.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"coffer/internal/advisory"
	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth/policy"
	"coffer/internal/auth/seal"
	"coffer/internal/auth/sigv4"
	"coffer/internal/authz"
	"coffer/internal/backend"
	"coffer/internal/blob"
	"coffer/internal/cofferapi"
	"coffer/internal/config"
	"coffer/internal/console"
	"coffer/internal/controlplane"
	"coffer/internal/events"
	"coffer/internal/format"
	"coffer/internal/format/plugins"
	"coffer/internal/gate"
	"coffer/internal/iam"
	"coffer/internal/osv/ecosystems"
	"coffer/internal/quota"
	"coffer/internal/retention"
	"coffer/internal/rules"
	"coffer/internal/server"
	"coffer/internal/store"
	"coffer/internal/upstream"
	"coffer/internal/webhook"
)

// App is an assembled coffer.
type App struct {
	Handler  http.Handler
	Service  *artifact.Service
	Identity *iam.Identity
	// Advisories are the imported OSV sources and their index.
	Advisories *advisory.Sources
	meta       store.Store
	audit      *audit.Log
	downloads  *retention.DownloadLog
}

// New assembles coffer for cfg. getenv supplies the secrets that are read
// from the environment only (COFFER_MASTER_KEY, COFFER_ROOT_*).
func New(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) (*App, error) {
	for name := range cfg.ExternalConnections {
		if _, ok := artifact.ExternalConnections[name]; !ok {
			return nil, fmt.Errorf("external-connection: %s is not a known external connection", name)
		}
	}
	if err := checkAPIRates(cfg.APIRates); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	metaSpec, err := backend.ParseMetadata(cfg.Metadata, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	blobSpec, err := backend.ParseBlobs(cfg.Blobs, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	masterKey, err := loadMasterKey(cfg, metaSpec, getenv)
	if err != nil {
		return nil, err
	}
	meta, err := backend.OpenMetadata(ctx, metaSpec)
	if err != nil {
		return nil, err
	}
	blobs, err := backend.OpenBlobs(ctx, blobSpec, backend.BlobOptions{RedirectSize: cfg.BlobRedirectSize})
	if err != nil {
		return nil, errors.Join(err, meta.Close())
	}
	log.Info("storage", "metadata", metaSpec.String(), "blobs", blobSpec.String())
	a, err := assemble(ctx, cfg, getenv, log, meta, blobs, masterKey)
	if err != nil {
		return nil, errors.Join(err, meta.Close())
	}
	return a, nil
}

// loadMasterKey reads the master key from COFFER_MASTER_KEY or the key file.
// Only a deployment of one process may have a key made up on first start: a
// node sharing its metadata store with others must be given the key they
// all use, or it would seal secrets nobody else can open.
func loadMasterKey(cfg config.Config, meta backend.Spec, getenv func(string) string) ([]byte, error) {
	file := cmp.Or(cfg.MasterKeyFile, filepath.Join(cfg.DataDir, "master.key"))
	env := getenv("COFFER_MASTER_KEY")
	if meta.Shared() && env == "" {
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("master key: with a shared metadata store every node needs the same master key: "+
				"set COFFER_MASTER_KEY (base64 of %d random bytes, e.g. from `head -c %d /dev/urandom | base64`) or --master-key-file (%v)",
				seal.KeySize, seal.KeySize, err)
		}
	}
	key, err := seal.LoadKey(file, env)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return key, nil
}

func assemble(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger, meta store.Store, blobs blob.Store, masterKey []byte) (*App, error) {
	spool, err := newSpool(filepath.Join(cfg.DataDir, "spool"))
	if err != nil {
		return nil, err
	}
	sealer, err := seal.New(masterKey)
	if err != nil {
		return nil, err
	}
	identity, err := iam.Open(ctx, meta, sealer, iam.Options{AccountID: cfg.AccountID, DataDir: cfg.DataDir,
		RootAccessKeyID: getenv("COFFER_ROOT_ACCESS_KEY_ID"), RootSecretAccessKey: getenv("COFFER_ROOT_SECRET_ACCESS_KEY")}, log)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	// Imported OSV data: one blob and one settings row per source, the
	// index rebuilt on every node when they change.
	advisories := advisory.New(advisory.Config{Store: meta, Blobs: blobs, Log: log, Ecosystems: ecosystems.Table(),
		SpoolDir: spool, SyncURLs: cfg.OSVSync, SyncInterval: cfg.OSVSyncInterval})
	// Every version change the engine writes records its event in the same
	// transaction; the deliverer sends them to the webhooks.
	journal := events.NewJournal(meta, cfg.Region)
	deliverer := &webhook.Deliverer{Store: meta, Sealer: sealer, Log: log}
	journal.OnCommit(deliverer.Wake)
	svc := artifact.New(artifact.Config{Region: cfg.Region, AccountID: identity.AccountID(), MaxAssetSize: cfg.MaxAssetSize,
		ValidatePolicy: validateResourcePolicy, ExternalConnectionURLs: cfg.ExternalConnections,
		MaxDomains: cfg.MaxDomains, MaxRepositoriesPerDomain: cfg.MaxRepositoriesPerDomain, MaxPackageGroupsPerDomain: cfg.MaxPackageGroupsPerDomain},
		journal.AsStore(), advisories.Retain(blobs), log) // the artifact service's orphan collection keeps the sources' blobs
	auditLog, err := audit.Open(filepath.Join(cfg.DataDir, "audit.log"))
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	authorizer := authz.New(svc, identity, auditLog)
	supplyChain := gate.New(gate.Config{Rules: rules.NewLoader(meta, rules.Options{Compare: gate.CompareVersions}),
		Advisories: advisories, Audit: auditLog, Store: meta, Log: log})
	svc.SetGate(supplyChain)
	svc.SetKeySealer(sealer) // domains created with an encryptionKey encrypt their blobs
	// Downloads are noted in memory and written every minute and at Close,
	// for retention's "not downloaded for D days".
	downloads := &retention.DownloadLog{Store: meta, Log: log}
	svc.SetDownloadRecorder(downloads)
	keeper := &retention.Service{Artifacts: svc, Store: meta, Authorizer: authorizer, Audit: auditLog, Log: log}
	connections := map[string]string{}
	for name := range artifact.ExternalConnections {
		connections[name] = svc.ExternalURL(name)
	}
	upstreamMetrics := upstream.NewMetrics(connections)
	deps := format.Deps{Engine: svc, Authorizer: authorizer, Log: log, Advisories: advisories.Index, // npm audit without public:npmjs
		// One upstream client for every format: one address policy, one
		// deduplication of fetches, one document cache budget.
		Fetcher: format.NewFetcher(format.FetcherConfig{Blobs: blobs, URLs: svc, Log: log,
			Upstream: upstream.Config{MetadataCacheBytes: upstreamDocumentCache, MetadataTTL: cfg.UpstreamMetadataMaxAge,
				Observe: upstreamMetrics.Observe}}),
		Limits: format.Limits{MaxAssetSize: cfg.MaxAssetSize, SpoolDir: spool}}
	protocols := map[string]http.Handler{}
	for _, p := range plugins.All {
		protocols[p.Format] = p.New(deps)
	}
	web, err := console.New(console.Config{Service: svc, Authorizer: authorizer, Guides: plugins.Guides(),
		Probe:  authz.New(svc, identity, nil), // same decisions, no audit records for showing a button
		Lookup: identity.Lookup, MintToken: identity.Mint, Sealer: sealer, Store: meta, PublicURL: cfg.PublicURL,
		Audit: auditLog, Log: log, OnPrincipal: server.SetLogPrincipal})
	if err != nil {
		return nil, err
	}
	limits := quota.New(quota.Config{API: cfg.APIRates, DataPlane: cfg.DataPlaneLimit, Repository: cfg.RepositoryLimit,
		Unauthenticated: cfg.UnauthenticatedLimit})
	cofferAPI := cofferapi.New(cofferapi.Config{Service: svc, Store: meta, Authorizer: authorizer, Audit: auditLog, Log: log,
		Advisories: advisories, MaxOSVImportSize: cfg.MaxOSVImportSize, Gate: supplyChain,
		Webhooks:  &webhook.Service{Artifacts: svc, Store: meta, Sealer: sealer, Authorizer: authorizer, Audit: auditLog},
		Retention: keeper, // retention rules and runs
	})
	handler := server.Handler(server.Deps{
		ControlPlane:      controlplane.New(controlplane.Config{PublicURL: cfg.PublicURL}, svc, authorizer, identity, log),
		Coffer:            cofferAPI,
		WriteControlError: controlplane.WriteError,
		Verifier:          &sigv4.Verifier{Lookup: identity.Lookup, Scopes: []sigv4.Scope{{Service: "codeartifact", Region: cfg.Region}}},
		QueryVerifier:     &sigv4.Verifier{Lookup: identity.Lookup, Scopes: queryScopes(cfg.Region)},
		DataPlane:         server.DataPlane(protocols, identity.TokenPrincipal, server.AuditAuthFailures(auditLog), server.RateLimits(limits)),
		Query:             map[string]http.Handler{"iam": identity.IAMHandler(), "sts": identity.STSHandler()},
		WriteQueryError:   iam.WriteQueryError,
		IsUnsignedAction:  iam.IsUnsignedAction,
		Audit:             auditLog,
		Console:           web,
		Limits:            limits,
		ControlOperation:  controlplane.Operation,
		Ready:             func(ctx context.Context) error { return ready(ctx, meta, blobs) },
		Log:               log,
		Collectors:        slices.Concat(deliverer.Collectors(), journal.Collectors(), svc.Collectors(), upstreamMetrics.Collectors(), keeper.Collectors()),
	})
	go svc.CollectOrphansEvery(ctx, artifact.OrphanGrace, artifact.OrphanInterval)
	// Cached versions that new advisories mark malicious are quarantined
	// within seconds, not at their next download.
	go supplyChain.Run(ctx, svc, gateSweepInterval)
	go advisories.Run(ctx)
	go deliverer.Run(ctx)
	go downloads.Run(ctx, retention.DownloadInterval)
	go keeper.RunScheduled(ctx, retention.ScheduleInterval)
	return &App{Handler: handler, Service: svc, Identity: identity, Advisories: advisories, meta: meta, audit: auditLog, downloads: downloads}, nil
}

// ready checks that both stores answer: the metadata store with a read of the
// account, the blob store with a lookup of the empty blob (present or not,
// the backend answered).
func ready(ctx context.Context, meta store.Store, blobs blob.Store) error {
	if err := meta.Read(ctx, func(tx store.Tx) error { _, err := tx.GetSetting("account-id"); return err }); err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	if _, err := blobs.Exists(ctx, emptySHA256); err != nil {
		return err // the drivers' errors name the blob store
	}
	return nil
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// gateSweepInterval is how often the supply-chain gate checks whether its
// rules or advisories changed, and sweeps the stored versions when they did.
const gateSweepInterval = 10 * time.Second

// upstreamDocumentCache bounds the upstream documents (packuments, simple
// pages, maven-metadata.xml) kept in memory for every format together.
const upstreamDocumentCache = 128 << 20

// queryScopes are the credential scopes IAM and STS calls may be signed
// for: the configured region, and us-east-1, where the SDKs sign IAM (a
// global service) and STS's global endpoint.
func queryScopes(region string) []sigv4.Scope {
	var scopes []sigv4.Scope
	for _, service := range []string{"iam", "sts"} {
		scopes = append(scopes, sigv4.Scope{Service: service, Region: region})
		if region != "us-east-1" {
			scopes = append(scopes, sigv4.Scope{Service: service, Region: "us-east-1"})
		}
	}
	return scopes
}

// newSpool makes the directory where native uploads wait while they are
// parsed (an npm tarball before its version document, a PyPI file before its
// metadata) and empties what a killed process left there. It lies under the
// data dir so that uploads count against the data volume, not the system's
// temp dir, and nothing outlives a restart.
func newSpool(dir string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	return dir, nil
}

// validateResourcePolicy checks a domain or repository permissions policy
// against the policy language before it is stored.
func validateResourcePolicy(doc string) error {
	_, err := policy.ParseWith(doc, policy.ParseOptions{Kind: policy.KindResource, MaxSize: policy.MaxCodeArtifactResourcePolicySize})
	return err
}

// checkAPIRates refuses an API rate named after no operation, class or
// Query service.
func checkAPIRates(rates map[string]quota.Rate) error {
	known := map[string]bool{quota.Reads: true, quota.Writes: true, quota.IAM: true, quota.STS: true}
	for _, op := range controlplane.Operations() {
		known[op] = true
	}
	for name := range rates {
		if !known[name] {
			return fmt.Errorf("api-rate: %s is no CodeArtifact operation, nor reads, writes, iam or sts", name)
		}
	}
	return nil
}

// Close writes the downloads noted since the last flush and releases the
// stores.
func (a *App) Close() error {
	var flush error
	if a.downloads != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		flush = a.downloads.Flush(ctx)
		cancel()
	}
	return errors.Join(flush, a.audit.Close(), a.meta.Close())
}
