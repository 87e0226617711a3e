package artifact

import (
	"context"
	"errors"
	"io"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// MaxAssetsPerVersion bounds the assets of one package version.
const MaxAssetsPerVersion = 150

// PublishPackageVersion adds one asset to a generic package version. The body
// is streamed into the blob store while it is hashed; its SHA-256 must equal
// req.SHA256, and only then does one transaction make the asset (and, unless
// req.Unfinished, the version's Published status) visible. A version that is
// already Published accepts no new asset names; re-sending an existing asset
// with identical bytes succeeds, with other bytes it is a Conflict.
func (s *Service) PublishPackageVersion(ctx context.Context, req PublishRequest, body io.Reader) (*PublishResult, error) {
	format := formatOf(req.Format)
	if !format.APIPublish {
		return nil, fault.Validation("PublishPackageVersion supports only the generic format, not '%s'", req.Format)
	}
	ref, err := normalizedRef(req.PackageRef)
	if err != nil {
		return nil, err
	}
	if err := validateCoordinate("version", req.Version); err != nil {
		return nil, err
	}
	if err := format.validateAsset(req.Asset); err != nil {
		return nil, err
	}
	if !sha256Pattern.MatchString(req.SHA256) {
		return nil, fault.Validation("Value '%s' at 'assetSHA256' failed to satisfy constraint: Member must be 64 lower-case hexadecimal characters", req.SHA256)
	}
	// Refuse early what the transaction would refuse anyway, before reading
	// what may be gigabytes of content.
	var domainID int64
	if err := s.meta.Read(ctx, func(tx store.Tx) error {
		d, _, err := s.publishTarget(tx, ref, req)
		if d != nil {
			domainID = d.ID
		}
		return err
	}); err != nil {
		return nil, err
	}

	check := func(dg blob.Digests) error {
		if dg.SHA256 != req.SHA256 {
			return fault.Validation("The asset's SHA-256 %s does not match the assetSHA256 %s given in the request", dg.SHA256, req.SHA256)
		}
		return nil
	}
	var out *PublishResult
	err = s.writeAsset(ctx, domainID, body, check, func(tx store.Tx, b store.Blob) error {
		asset := store.Asset{Name: req.Asset, CreatedTime: timeNow(), Blob: b}
		d, p, err := s.publishTarget(tx, ref, req)
		if err != nil {
			return err
		}
		if p.ID == 0 {
			if err := tx.CreatePackage(p); err != nil {
				return err
			}
		}
		v, err := tx.GetVersion(p.ID, req.Version)
		isNew := errors.Is(err, fault.ErrNotFound)
		if isNew {
			v = &store.Version{PackageID: p.ID, Version: req.Version, Status: StatusUnfinished, OriginType: OriginInternal,
				OriginRepository: ref.Repository, CreatedTime: timeNow(), DisplayName: p.Name}
		} else if err != nil {
			return err
		}
		changed := isNew
		have, err := tx.GetAsset(v.ID, req.Asset)
		switch {
		case err == nil && have.Blob.SHA256 != asset.Blob.SHA256:
			return fault.Conflict("asset", req.Asset, "Asset %s of version %s already exists with different content", req.Asset, req.Version)
		case err == nil:
			asset = *have
		case errors.Is(err, fault.ErrNotFound):
			if err := checkAssetCount(tx, v); err != nil {
				return err
			}
			changed = true
		default:
			return err
		}
		if !req.Unfinished && v.Status == StatusUnfinished {
			v.Status, v.PublishedTime = StatusPublished, timeNow()
			changed = true
		}
		if changed {
			v.Revision = newRevision()
		}
		if isNew {
			err = tx.CreateVersion(v)
		} else if changed {
			err = tx.UpdateVersion(v)
		}
		if err != nil {
			return err
		}
		if asset.VersionID == 0 {
			asset.VersionID = v.ID
			if err := tx.PutAsset(d.ID, &asset); err != nil {
				return err
			}
		}
		out = &PublishResult{Version: describeVersion(p, v), Asset: asset}
		return nil
	})
	return out, err
}

// publishTarget checks that ref may receive req's asset and returns the
// domain and the package (with ID 0 when it is still to be created with the
// published-first origin defaults: publish ALLOW, upstream BLOCK).
func (s *Service) publishTarget(tx store.Tx, ref PackageRef, req PublishRequest) (*store.Domain, *store.Package, error) {
	d, _, p, err := s.publishablePackage(tx, ref)
	if err != nil || p.ID == 0 {
		return d, p, err
	}
	v, err := tx.GetVersion(p.ID, req.Version)
	if errors.Is(err, fault.ErrNotFound) {
		return d, p, nil
	} else if err != nil {
		return nil, nil, err
	}
	if v.Status == StatusUnfinished {
		return d, p, nil
	}
	if v.Status == StatusDisposed {
		return nil, nil, fault.Conflict("package-version", v.Version, "Package version %s is Disposed; delete it before publishing it again", v.Version)
	}
	if _, err := tx.GetAsset(v.ID, req.Asset); errors.Is(err, fault.ErrNotFound) {
		return nil, nil, fault.Conflict("package-version", v.Version, "Package version %s is %s; no asset can be added to it", v.Version, v.Status)
	} else if err != nil {
		return nil, nil, err
	}
	return d, p, nil
}

// publishablePackage loads the repository and the package that a publish of
// ref (normalised) goes to, refusing it, as a Conflict, when origin controls
// block publishing there: the package group's PUBLISH control or the
// package's publish=BLOCK. A package that does not exist yet is returned
// with ID 0 and the published-first origin defaults (publish ALLOW,
// upstream BLOCK).
func (s *Service) publishablePackage(tx store.Tx, ref PackageRef) (*store.Domain, *store.Repository, *store.Package, error) {
	d, r, err := s.findRepository(tx, ref.RepoRef)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.checkGroupPublish(tx, d, r, ref); err != nil {
		return nil, nil, nil, err
	}
	p, err := orNil(tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package))
	switch {
	case err != nil:
		return nil, nil, nil, err
	case p == nil:
		p = &store.Package{RepositoryID: r.ID, Format: ref.Format, Namespace: ref.Namespace, Name: ref.Package, Publish: Allow, Upstream: Block}
	case p.Publish != Allow:
		return nil, nil, nil, fault.Conflict("package", p.Name, "Publishing to package %s is blocked by its origin configuration (publish=BLOCK)", p.Name)
	}
	return d, r, p, nil
}

// dropIfUnreferenced removes a blob this request created when no asset
// references it; the caller holds the blob's hash lock.
func (s *Service) dropIfUnreferenced(ctx context.Context, sha string) {
	ctx = context.WithoutCancel(ctx)
	// The plaintext blob and every encrypted domain's object of sha that
	// no asset needs (encryption.go).
	if err := s.deleteUnneeded(ctx, sha); err != nil {
		s.log.Warn("could not remove the blob of a failed upload", "sha256", sha, "err", err)
	}
}
