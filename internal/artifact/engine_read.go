package artifact

// ReadAsset: resolution through the search order, retention of upstream hits
// in the requested repository, ingestion from an external connection into
// the connection's holder and the requested repository.
//
// Every write re-resolves inside its transaction, so that concurrent reads of
// the same asset converge on one version record: whoever writes second finds
// the first one's record and uses it. A plan that changed underneath
// (the hit was deleted, another copy won) is resolved again from the start;
// FetchFunc still runs at most once.

import (
	"cmp"
	"context"
	"errors"
	"time"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// errReplan makes readAsset resolve again: what a write transaction found
// differs from what its read planned.
var errReplan = errors.New("artifact: read plan changed")

// maxReadAttempts bounds how often one read re-resolves.
const maxReadAttempts = 5

// fetchedBlob is a blob FetchFunc committed for one read.
type fetchedBlob struct {
	digests blob.Digests
	created bool // this read created it: remove it again unless recorded
	used    bool // an asset now references it
	// published is when the external registry published the version
	// (zero: it did not say).
	published time.Time
	blobs     blob.Store // where it was committed: the domain's store
}

func (s *Service) readAsset(ctx context.Context, req ReadRequest) (*ReadResult, error) {
	// The request as given keys the hits: only a request that passed the
	// checks below is ever remembered, so a hit needs no checking again.
	key := hitKey{ref: req.VersionRef, asset: req.Asset, allowUnfinished: req.AllowUnfinished, external: req.Fetch != nil}
	if h, ok := s.hits.Get(key, s.meta.Generation()); ok {
		if err := s.admitHit(ctx, req.VersionRef, cmp.Or(req.Owner, s.cfg.AccountID), h); err != nil {
			return nil, err
		}
		s.reads.read(h.pkg.Format, readLocal)
		return s.openResult(ctx, h.domainID, h.pkg, h.ver, h.asset, h.repo)
	}
	ref, err := normalizedRef(req.PackageRef)
	if err != nil {
		return nil, err
	}
	if err := validateCoordinate("version", req.Version); err != nil {
		return nil, err
	}
	if err := validateAssetName(req.Asset); err != nil {
		return nil, err
	}
	vref := VersionRef{PackageRef: ref, Version: req.Version}
	var fetched *fetchedBlob
	defer func() {
		if fetched != nil && fetched.created && !fetched.used {
			if unlock, err := s.locks.lock(context.WithoutCancel(ctx), fetched.digests.SHA256); err == nil {
				s.dropIfUnreferenced(ctx, fetched.digests.SHA256)
				unlock()
			} // else the orphan collector removes it later

		}
	}()
	for range maxReadAttempts {
		gen := s.meta.Generation() // before the read: what it finds is at least this new
		var plan *readPlan
		if err := s.meta.Read(ctx, func(tx store.Tx) error {
			var err error
			plan, err = s.planRead(tx, vref, req.Asset, req.AllowUnfinished, req.Fetch != nil)
			return err
		}); err != nil {
			return nil, err
		}
		if plan.hit != nil {
			if err := s.admitStored(ctx, vref, plan.d.Owner, plan.hit.ver); err != nil {
				return nil, err
			}
		}
		var res *ReadResult
		switch {
		case plan.hit != nil && plan.hit.repo.ID == plan.r.ID:
			s.hits.Put(key, gen, storedHit{domainID: plan.d.ID, pkg: plan.pkg, ver: plan.ver, asset: *plan.hit.asset, repo: plan.r.Name, admitted: &admitted{}})
			s.reads.read(plan.pkg.Format, readLocal)
			return s.openResult(ctx, plan.d.ID, plan.pkg, plan.ver, *plan.hit.asset, plan.r.Name)
		case plan.hit != nil:
			res, err = s.retainHit(ctx, vref, req, plan.hit.asset.Blob)
			if err == nil {
				s.reads.read(vref.Format, readUpstream)
			}
		default:
			if fetched == nil {
				published, err := s.admitExternal(ctx, vref, plan.d.Owner, req, *plan.ext)
				if err != nil {
					return nil, err
				}
				// The fetch stages into the domain's blob store
				// (encrypted when the domain is; encryption.go).
				bs, err := s.blobsFor(ctx, plan.d.ID)
				if err != nil {
					return nil, err
				}
				dg, created, err := req.Fetch(withFetchStore(ctx, bs), *plan.ext)
				s.reads.fetches.WithLabelValues(plan.ext.Connection, fetchOutcome(err)).Inc()
				if err != nil {
					return nil, err
				}
				fetched = &fetchedBlob{digests: dg, created: created, published: published, blobs: bs}
			}
			res, err = s.ingestFetched(ctx, vref, req, fetched)
			if err == nil {
				s.reads.read(vref.Format, readExternal)
			}
		}
		if !errors.Is(err, errReplan) {
			return res, err
		}
	}
	return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "The package version changed while it was being read; try again"}
}

// fetchOutcome is the outcome label of an external fetch.
func fetchOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case fault.KindOf(err) == fault.KindNotFound:
		return "not_found"
	}
	return "error"
}

// hitKey identifies a read for the hits cache.
type hitKey struct {
	ref             VersionRef
	asset           string
	allowUnfinished bool
	external        bool
}

// storedHit is an asset a read found in the requested repository itself.
// Its records are shared between reads and never changed.
type storedHit struct {
	domainID int64
	pkg      *store.Package
	ver      *store.Version
	asset    store.Asset
	repo     string
	// admitted remembers the gate state that last allowed the version.
	admitted *admitted
}

// readResult is what a write transaction of readAsset settled on.
type readResult struct {
	pkg     *store.Package
	ver     *store.Version
	asset   store.Asset
	foundIn string
}

func (s *Service) openResult(ctx context.Context, domainID int64, p *store.Package, v *store.Version, a store.Asset, foundIn string) (*ReadResult, error) {
	bs, err := s.blobsFor(ctx, domainID)
	if err != nil {
		return nil, err
	}
	obj, err := bs.Open(ctx, a.Blob.SHA256)
	if err != nil {
		return nil, fault.Internal(err, "asset content of %s is unavailable", a.Name)
	}
	if s.downloads != nil {
		s.downloads.Downloaded(v.ID) // in memory; written in batches (retention.go)
	}
	return &ReadResult{Version: describeVersion(p, v), Asset: a, Object: obj, FoundIn: foundIn}, nil
}

// retainHit records the asset found in an upstream repository (blob b) in
// the requested repository and opens it. The blob's hash lock keeps a
// concurrent release of the upstream copy from deleting the content before
// the retained record references it.
func (s *Service) retainHit(ctx context.Context, ref VersionRef, req ReadRequest, b store.Blob) (*ReadResult, error) {
	unlock, err := s.locks.lock(ctx, b.SHA256)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out readResult
	var domainID int64
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		plan, err := s.planRead(tx, ref, req.Asset, req.AllowUnfinished, false)
		if errors.Is(err, fault.ErrNotFound) {
			return errReplan // the upstream copy went away; an external one may do
		} else if err != nil {
			return err
		}
		if plan.hit.asset.Blob.SHA256 != b.SHA256 {
			return errReplan
		}
		domainID = plan.d.ID
		out, err = s.settle(tx, plan, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.openResult(ctx, domainID, out.pkg, out.ver, out.asset, out.foundIn)
}

// ingestFetched records a blob fetched from an external connection in the
// repository holding the connection and in the requested repository, and
// opens it. When another read recorded the asset meanwhile, that record wins.
func (s *Service) ingestFetched(ctx context.Context, ref VersionRef, req ReadRequest, f *fetchedBlob) (*ReadResult, error) {
	dg := f.digests
	unlock, err := s.locks.lock(ctx, dg.SHA256)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// FetchFunc committed the blob before this lock was taken: when it was
	// already present (created false), a release of its last other reference
	// may have removed it since. Under the lock it can no longer go away.
	if ok, err := f.blobs.Exists(ctx, dg.SHA256); err != nil {
		return nil, fault.Internal(err, "could not check the fetched asset %s", req.Asset)
	} else if !ok {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "The fetched asset " + req.Asset + " was removed before it was recorded; try again"}
	}
	var out readResult
	var domainID int64
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		plan, err := s.planRead(tx, ref, req.Asset, req.AllowUnfinished, true)
		if err != nil {
			return err
		}
		domainID = plan.d.ID
		if plan.hit != nil {
			if plan.hit.repo.ID != plan.r.ID && plan.hit.asset.Blob.SHA256 != dg.SHA256 {
				return errReplan // retain that copy under its own blob's lock
			}
			out, err = s.settle(tx, plan, req)
			return err
		}
		asset := store.Asset{Name: req.Asset, CreatedTime: timeNow(),
			Blob: store.Blob{SHA256: dg.SHA256, SHA512: dg.SHA512, SHA1: dg.SHA1, MD5: dg.MD5, Size: dg.Size}}
		origin := func() *store.Version {
			now := timeNow()
			return &store.Version{Version: ref.Version, Status: StatusPublished, OriginType: OriginExternal,
				OriginExternalConnection: plan.ext.Connection, CreatedTime: now, PublishedTime: now,
				UpstreamPublishedTime: f.published}
		}
		h := plan.holder
		k, err := keepAsset(tx, plan.d, h.repo, h.pkg, plan.holderVer, ref.PackageRef, asset, origin, req.NewVersion, req.UpdateVersion)
		if err == nil && h.repo.ID != plan.r.ID {
			k, err = keepAsset(tx, plan.d, plan.r, plan.pkg, plan.ver, ref.PackageRef, asset, origin, req.NewVersion, req.UpdateVersion)
		}
		if err != nil {
			return err
		}
		out = readResult{pkg: k.pkg, ver: k.ver, asset: k.asset, foundIn: plan.ext.Connection}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.used = f.used || out.asset.Blob.SHA256 == dg.SHA256
	return s.openResult(ctx, domainID, out.pkg, out.ver, out.asset, out.foundIn)
}

// settle records a stored hit in the requested repository when it was
// found upstream (retention) and returns what the requested repository now
// holds.
func (s *Service) settle(tx store.Tx, plan *readPlan, req ReadRequest) (readResult, error) {
	hit := plan.hit
	if hit.repo.ID == plan.r.ID {
		return readResult{pkg: hit.pkg, ver: hit.ver, asset: *hit.asset, foundIn: hit.repo.Name}, nil
	}
	// A retained version keeps its origin, its status (Published or
	// Unlisted: an unlisted version must not reappear in listings) and its
	// published time; it gets its own revision.
	origin := func() *store.Version {
		v := *hit.ver
		v.ID, v.PackageID, v.Revision, v.CreatedTime = 0, 0, "", timeNow()
		if v.PublishedTime.IsZero() {
			v.PublishedTime = v.CreatedTime
		}
		return &v
	}
	k, err := keepAsset(tx, plan.d, plan.r, plan.pkg, plan.ver, plan.ref, *hit.asset, origin, req.NewVersion, req.UpdateVersion)
	if err == nil && k.created {
		// A version retained just now takes every asset of the upstream copy.
		err = copyAssets(tx, plan.d.ID, hit.ver.ID, k.ver.ID)
	}
	return readResult{pkg: k.pkg, ver: k.ver, asset: k.asset, foundIn: hit.repo.Name}, err
}

// copyAssets gives version to every asset of version from that it lacks,
// sharing the blobs.
func copyAssets(tx store.Tx, domainID, from, to int64) error {
	as, err := allAssets(tx, from)
	if err != nil {
		return err
	}
	for _, a := range as {
		have, err := orNil(tx.GetAsset(to, a.Name))
		if err != nil {
			return err
		}
		if have != nil {
			continue
		}
		a.VersionID = to
		if err := tx.PutAsset(domainID, &a); err != nil {
			return err
		}
	}
	return nil
}

// keepAsset records asset a for the version ref names in repo: it creates
// the package when p is nil (publish BLOCK, upstream ALLOW: it arrives from
// an upstream or an external connection), creates the version from
// newVersion when v is nil (the format's hook filling in its metadata), and
// adds the asset unless the version already has one of that name, letting
// update change an existing version's metadata as it does. A
// concurrent request that created the package or version first wins (the
// store refuses the duplicate statement only, not the transaction).
func keepAsset(tx store.Tx, d *store.Domain, repo *store.Repository, p *store.Package, v *store.Version,
	ref PackageRef, a store.Asset, newVersion func() *store.Version, hook, update func(*store.Version)) (kept, error) {
	var err error
	if p == nil {
		p = &store.Package{RepositoryID: repo.ID, Format: ref.Format, Namespace: ref.Namespace, Name: ref.Package, Publish: Block, Upstream: Allow}
		if err = tx.CreatePackage(p); errors.Is(err, fault.ErrConflict) {
			p, err = tx.GetPackage(repo.ID, ref.Format, ref.Namespace, ref.Package)
		}
		if err != nil {
			return kept{}, err
		}
	}
	if v == nil {
		nv := newVersion()
		nv.PackageID, nv.Revision = p.ID, newRevision()
		if nv.DisplayName == "" {
			nv.DisplayName = p.Name
		}
		fillVersion(nv, hook)
		err = tx.CreateVersion(nv)
		switch {
		case err == nil:
			a.VersionID = nv.ID
			return kept{pkg: p, ver: nv, asset: a, created: true}, tx.PutAsset(d.ID, &a)
		case errors.Is(err, fault.ErrConflict):
			if v, err = tx.GetVersion(p.ID, nv.Version); err != nil {
				return kept{}, err
			}
		default:
			return kept{}, err
		}
	}
	have, err := orNil(tx.GetAsset(v.ID, a.Name))
	if err != nil {
		return kept{}, err
	}
	if have != nil {
		return kept{pkg: p, ver: v, asset: *have}, nil
	}
	if err := checkAssetCount(tx, v); err != nil {
		return kept{}, err
	}
	a.VersionID = v.ID
	if err := tx.PutAsset(d.ID, &a); err != nil {
		return kept{}, err
	}
	fillVersion(v, update)
	v.Revision = newRevision()
	return kept{pkg: p, ver: v, asset: a}, tx.UpdateVersion(v)
}

// kept is what keepAsset recorded: the package, the version (created by
// this call or not) and the asset the version holds under the name.
type kept struct {
	pkg     *store.Package
	ver     *store.Version
	asset   store.Asset
	created bool
}

// fillVersion runs a format's hook on a version and keeps the fields the
// engine owns: identity, status, origin, revision and times.
func fillVersion(v *store.Version, hook func(*store.Version)) {
	if hook == nil {
		return
	}
	keep := *v
	hook(v)
	v.ID, v.PackageID, v.Version, v.Revision, v.Status = keep.ID, keep.PackageID, keep.Version, keep.Revision, keep.Status
	v.OriginType, v.OriginRepository, v.OriginExternalConnection = keep.OriginType, keep.OriginRepository, keep.OriginExternalConnection
	v.CreatedTime, v.PublishedTime, v.UpstreamPublishedTime = keep.CreatedTime, keep.PublishedTime, keep.UpstreamPublishedTime
}

// checkAssetCount refuses a new asset for a version that has the most it may.
func checkAssetCount(tx store.Tx, v *store.Version) error {
	n, err := tx.ListAssets(v.ID, store.Page{Limit: MaxAssetsPerVersion})
	if err != nil {
		return err
	}
	if len(n) >= MaxAssetsPerVersion {
		return fault.Quota("package-version", v.Version, "A package version can have at most %d assets", MaxAssetsPerVersion)
	}
	return nil
}
