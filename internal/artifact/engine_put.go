package artifact

import (
	"context"
	"errors"
	"io"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// writeAsset is the one way uploaded content becomes an asset: stage it
// (hashed in one pass, bounded by MaxAssetSize), check its digests, take the
// blob's hash lock, commit the blob, then record it in one write
// transaction. A blob this call created is removed again when the
// transaction fails, so a refused upload leaves nothing behind. The content
// goes to the domain's blob store (encrypted when the domain is).
func (s *Service) writeAsset(ctx context.Context, domainID int64, body io.Reader, check func(blob.Digests) error, record func(tx store.Tx, b store.Blob) error) error {
	bs, err := s.blobsFor(ctx, domainID)
	if err != nil {
		return err
	}
	staged, err := bs.Stage(ctx, body, s.cfg.MaxAssetSize)
	if err != nil {
		return err
	}
	defer staged.Discard()
	dg := staged.Digests()
	if err := check(dg); err != nil {
		return err
	}
	unlock, err := s.locks.lock(ctx, dg.SHA256)
	if err != nil {
		return err
	}
	defer unlock()
	created, err := staged.Commit(ctx)
	if err != nil {
		return fault.Internal(err, "could not store the asset")
	}
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		return record(tx, store.Blob{SHA256: dg.SHA256, SHA512: dg.SHA512, SHA1: dg.SHA1, MD5: dg.MD5, Size: dg.Size})
	})
	if err != nil && created {
		s.dropIfUnreferenced(ctx, dg.SHA256)
	}
	return err
}

// putTarget is where a native publish of one asset goes.
type putTarget struct {
	d   *store.Domain
	r   *store.Repository
	pkg *store.Package // ID 0 when it is still to be created
	ver *store.Version // nil when it is still to be created
}

// findPutTarget applies the publishing rules to a native publish of ref
// (normalised): the origin controls (publishablePackage), then, for a
// package with upstream=ALLOW, CodeArtifact's refusal to publish a version
// that upstream repositories or an external connection already provide
// (spec 3.5), and no assets for Archived or Disposed versions.
func (s *Service) findPutTarget(tx store.Tx, ref VersionRef) (*putTarget, error) {
	d, r, p, err := s.publishablePackage(tx, ref.PackageRef)
	if err != nil {
		return nil, err
	}
	t := &putTarget{d: d, r: r, pkg: p}
	if p.ID == 0 {
		return t, nil
	}
	if t.ver, err = orNil(tx.GetVersion(p.ID, ref.Version)); err != nil {
		return nil, err
	}
	if v := t.ver; v != nil {
		if v.Status == StatusArchived || v.Status == StatusDisposed {
			return nil, fault.Conflict("package-version", v.Version, "Package version %s is %s; no asset can be added to it", v.Version, v.Status)
		}
		if p.Upstream == Allow && !publishedHere(v, r) {
			return nil, fault.Conflict("package-version", v.Version, "Package version %s of %s came from an upstream repository or external connection; with upstream=ALLOW it cannot be published to repository %s",
				v.Version, p.Name, r.Name)
		}
		return t, nil
	}
	if p.Upstream == Allow {
		rc, err := s.reachOf(tx, ref.PackageRef)
		if err != nil {
			return nil, err
		}
		in, err := upstreamHolding(tx, rc, ref.Version)
		if err != nil {
			return nil, err
		}
		if in != "" {
			return nil, fault.Conflict("package-version", ref.Version, "Package version %s of %s already exists in upstream repository %s; with upstream=ALLOW it cannot be published to repository %s",
				ref.Version, p.Name, in, r.Name)
		}
	}
	return t, nil
}

// refuseOffered is the publish rule findPutTarget cannot decide inside a
// transaction: with upstream=ALLOW, a version new to the repository that an
// external source the package reaches offers is a Conflict.
func (s *Service) refuseOffered(ctx context.Context, ref VersionRef, t *putTarget, offered func(context.Context, ExternalSource) (bool, error)) error {
	if offered == nil || t.ver != nil || t.pkg.ID == 0 || t.pkg.Upstream != Allow {
		return nil
	}
	_, sources, err := s.ViewStamp(ctx, ref.PackageRef)
	if err != nil {
		return err
	}
	for _, src := range sources {
		ok, err := offered(ctx, src)
		if fault.KindOf(err) == fault.KindNotFound {
			continue // the source has no such package
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("could not ask an external connection whether it offers a version being published",
				"connection", src.Connection, "package", t.pkg.Name, "version", ref.Version, "err", err)
			continue
		}
		if ok {
			return fault.Conflict("package-version", ref.Version, "Package version %s of %s is offered by external connection %s; with upstream=ALLOW it cannot be published to repository %s",
				ref.Version, t.pkg.Name, src.Connection, t.r.Name)
		}
	}
	return nil
}

func (s *Service) putAsset(ctx context.Context, req PutAssetRequest, body io.Reader) (*PublishResult, error) {
	ref, err := normalizedRef(req.PackageRef)
	if err != nil {
		return nil, err
	}
	if err := validateCoordinate("version", req.Version); err != nil {
		return nil, err
	}
	if err := formatOf(ref.Format).validateAsset(req.Asset); err != nil {
		return nil, err
	}
	status := req.NewStatus
	if status == "" {
		status = StatusPublished
	}
	if err := validateStatusValue("status", status, StatusPublished, StatusUnfinished); err != nil {
		return nil, err
	}
	vref := VersionRef{PackageRef: ref, Version: req.Version}
	// Refuse early what the transaction would refuse anyway, before reading
	// what may be gigabytes of content.
	var early *putTarget
	if err := s.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		early, err = s.findPutTarget(tx, vref)
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.refuseOffered(ctx, vref, early, req.Offered); err != nil {
		return nil, err
	}
	check := func(dg blob.Digests) error {
		if req.Verify == nil {
			return nil
		}
		if err := req.Verify(dg); err != nil {
			if errors.Is(err, fault.ErrValidation) {
				return err
			}
			return fault.Validation("The asset %s failed verification: %v", req.Asset, err)
		}
		return nil
	}
	var out *PublishResult
	var replaced string
	err = s.writeAsset(ctx, early.d.ID, body, check, func(tx store.Tx, b store.Blob) error {
		replaced = ""
		t, err := s.findPutTarget(tx, vref)
		if err != nil {
			return err
		}
		p, v := t.pkg, t.ver
		if p.ID == 0 {
			if err := tx.CreatePackage(p); err != nil {
				return err
			}
		}
		asset := store.Asset{Name: req.Asset, Blob: b, CreatedTime: timeNow()}
		if v == nil {
			now := timeNow()
			v = &store.Version{PackageID: p.ID, Version: req.Version, Status: status, OriginType: OriginInternal,
				OriginRepository: t.r.Name, CreatedTime: now, DisplayName: p.Name, Revision: newRevision()}
			if status == StatusPublished {
				v.PublishedTime = now
			}
			fillVersion(v, req.NewVersion)
			if err := tx.CreateVersion(v); err != nil {
				return err
			}
		} else {
			have, err := orNil(tx.GetAsset(v.ID, req.Asset))
			switch {
			case err != nil:
				return err
			case have != nil && have.Blob.SHA256 == b.SHA256:
				out = &PublishResult{Version: describeVersion(p, v), Asset: *have}
				return nil
			case have != nil && !req.Replace:
				return fault.Conflict("asset", req.Asset, "Asset %s of version %s already exists with different content", req.Asset, req.Version)
			case have != nil:
				replaced = have.Blob.SHA256
			default:
				if err := checkAssetCount(tx, v); err != nil {
					return err
				}
			}
			fillVersion(v, req.UpdateVersion)
			v.Revision = newRevision()
			if err := tx.UpdateVersion(v); err != nil {
				return err
			}
		}
		asset.VersionID = v.ID
		if err := tx.PutAsset(t.d.ID, &asset); err != nil {
			return err
		}
		out = &PublishResult{Version: describeVersion(p, v), Asset: asset}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if replaced != "" {
		s.releaseBlobs(ctx, []string{replaced})
	}
	return out, nil
}

func (s *Service) setVersionStatus(ctx context.Context, ref VersionRef, status string) (*Version, error) {
	if err := validateStatusValue("status", status, StatusPublished, StatusUnfinished, StatusUnlisted, StatusArchived); err != nil {
		return nil, err
	}
	var out *Version
	err := s.meta.Write(ctx, func(tx store.Tx) error {
		_, _, p, v, err := s.findVersion(tx, ref)
		if err != nil {
			return err
		}
		switch {
		case v.Status == status:
		case v.Status == StatusDisposed:
			return fault.Conflict("package-version", v.Version, "Package version %s is Disposed; it can only be deleted", v.Version)
		case status == StatusUnfinished:
			return fault.Validation("Package version %s is %s; a version never returns to Unfinished", v.Version, v.Status)
		default:
			v.Status = status
			if status == StatusPublished && v.PublishedTime.IsZero() {
				v.PublishedTime = timeNow()
			}
			if err := tx.UpdateVersion(v); err != nil {
				return err
			}
		}
		out = describeVersion(p, v)
		return nil
	})
	return out, err
}

func (s *Service) putPackageMetadata(ctx context.Context, ref PackageRef, metadata string) (*Package, error) {
	ref, err := normalizedRef(ref)
	if err != nil {
		return nil, err
	}
	var out *Package
	err = s.meta.Write(ctx, func(tx store.Tx) error {
		_, r, err := s.findRepository(tx, ref.RepoRef)
		if err != nil {
			return err
		}
		p, err := orNil(tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package))
		switch {
		case err != nil:
			return err
		case p == nil:
			p = &store.Package{RepositoryID: r.ID, Format: ref.Format, Namespace: ref.Namespace, Name: ref.Package, Publish: Allow, Upstream: Block, Metadata: metadata}
			err = tx.CreatePackage(p)
		case p.Metadata != metadata:
			p.Metadata = metadata
			err = tx.UpdatePackage(p)
		}
		if err != nil {
			return err
		}
		out = &Package{Package: *p}
		return nil
	})
	return out, err
}
