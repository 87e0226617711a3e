package artifact

// What a repository reaches for one package: the search order, what origin
// controls and package groups let it see there, and which external
// connections it may ingest from. ReadAsset, ViewPackage and PutAsset all
// start here, so that the three apply the same rules.

import (
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// reach is what requested repository r shows of one package (normalised ref),
// as one transaction sees the store. reachOf loads only r and its package;
// expand loads the rest, which a read served by r itself never needs.
type reach struct {
	ref PackageRef
	d   *store.Domain
	r   *store.Repository
	pkg *store.Package // r's own package, nil if none
	// upstreams: r's package (if any) has upstream=ALLOW; the package-level
	// control covers both upstream repositories and external connections.
	upstreams bool

	// Set by expand.
	expanded bool
	order    []*store.Repository // searchOrder(r): r first
	// internal: versions stored in the upstream repositories are visible
	// (upstreams, and the package group allows INTERNAL_UPSTREAM for r).
	internal bool
	// external: the package group allows EXTERNAL_UPSTREAM for r (the holder
	// of a connection must be allowed too, see externals).
	external bool
	groups   *groupIndex
}

// holder is a repository of the search order whose external connection is
// allowed for the package, with its package (nil if none).
type holder struct {
	repo       *store.Repository
	connection string
	pkg        *store.Package
}

// orNil turns a store lookup's ErrNotFound into a nil record.
func orNil[T any](v *T, err error) (*T, error) {
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// readable reports whether a version's assets can be downloaded through a
// native protocol (Unfinished only on request, never through upstreams).
func readable(status string) bool { return status == StatusPublished || status == StatusUnlisted }

// publishedHere reports whether v was published into repo itself, rather
// than retained from an upstream, ingested or copied: such a version never
// takes assets from anywhere else.
func publishedHere(v *store.Version, repo *store.Repository) bool {
	return v.OriginType == OriginInternal && v.OriginRepository == repo.Name
}

// reachOf loads the repository of ref (normalised) and its package.
func (s *Service) reachOf(tx store.Tx, ref PackageRef) (*reach, error) {
	d, r, err := s.findRepository(tx, ref.RepoRef)
	if err != nil {
		return nil, err
	}
	p, err := orNil(tx.GetPackage(r.ID, ref.Format, ref.Namespace, ref.Package))
	if err != nil {
		return nil, err
	}
	upstreams := p == nil || p.Upstream == Allow
	if row, ok := LookupFormat(ref.Format); ok && row.NoUpstreams {
		upstreams = false
	}
	return &reach{ref: ref, d: d, r: r, pkg: p, upstreams: upstreams}, nil
}

// expand loads the search order and what the package groups allow r.
func (rc *reach) expand(tx store.Tx) error {
	if rc.expanded {
		return nil
	}
	var err error
	if rc.order, err = searchOrder(tx, rc.r); err != nil {
		return err
	}
	if rc.groups, err = newGroupIndex(tx, rc.d); err != nil {
		return err
	}
	if rc.upstreams {
		ref := rc.ref
		if rc.internal, _, _, err = groupDecision(rc.groups, ref.Format, ref.Namespace, ref.Package, RestrictionInternalUpstream, rc.r); err != nil {
			return err
		}
		if rc.external, _, _, err = groupDecision(rc.groups, ref.Format, ref.Namespace, ref.Package, RestrictionExternalUpstream, rc.r); err != nil {
			return err
		}
	}
	rc.expanded = true
	return nil
}

// visible returns the repositories whose stored versions r shows: r itself,
// then its upstreams when they are visible. expand must have run.
func (rc *reach) visible() []*store.Repository {
	if rc.internal {
		return rc.order
	}
	return rc.order[:1]
}

// packageIn returns the package in repo (r's own record for r), nil if none.
func (rc *reach) packageIn(tx store.Tx, repo *store.Repository) (*store.Package, error) {
	if repo.ID == rc.r.ID {
		return rc.pkg, nil
	}
	return orNil(tx.GetPackage(repo.ID, rc.ref.Format, rc.ref.Namespace, rc.ref.Package))
}

// externals lists, in search order, the repositories whose external
// connection serves the package's format and may be ingested from for r:
// r's package (if any) has upstream=ALLOW, the holder's package (if any)
// has upstream=ALLOW, and the package group allows EXTERNAL_UPSTREAM for
// the holder and for r. Packages of a format without external connections
// (generic) are never fetched.
func (rc *reach) externals(tx store.Tx) ([]holder, error) {
	if !rc.upstreams || !formatOf(rc.ref.Format).ingests() {
		return nil, nil
	}
	if err := rc.expand(tx); err != nil || !rc.external {
		return nil, err
	}
	var out []holder
	for _, repo := range rc.order {
		for _, c := range repo.ExternalConnections {
			if c.Format != rc.ref.Format {
				continue
			}
			p, err := rc.packageIn(tx, repo)
			if err != nil {
				return nil, err
			}
			if p != nil && p.Upstream != Allow {
				continue
			}
			if repo.ID != rc.r.ID {
				ok, _, _, err := groupDecision(rc.groups, rc.ref.Format, rc.ref.Namespace, rc.ref.Package, RestrictionExternalUpstream, repo)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			out = append(out, holder{repo: repo, connection: c.Name, pkg: p})
		}
	}
	return out, nil
}

// storedAsset is an asset of a version stored in a repository.
type storedAsset struct {
	repo  *store.Repository
	pkg   *store.Package
	ver   *store.Version
	asset *store.Asset
}

// readPlan is where a read of one asset goes: a stored hit, or else an
// external connection to fetch from.
type readPlan struct {
	*reach
	ver *store.Version // r's own version, nil if none
	hit *storedAsset
	// When there is no hit: the connection to fetch from, with its holder's
	// version (nil if none).
	ext       *ExternalSource
	holder    holder
	holderVer *store.Version
}

// planRead resolves an asset of ref (normalised) through r's search order:
// the first readable copy wins; with none and withExternal, the first
// allowed external connection whose holder can take the version.
// fault.NotFound when neither exists.
func (s *Service) planRead(tx store.Tx, ref VersionRef, asset string, allowUnfinished, withExternal bool) (*readPlan, error) {
	rc, err := s.reachOf(tx, ref.PackageRef)
	if err != nil {
		return nil, err
	}
	plan := &readPlan{reach: rc}
	notFound := fault.NotFound("asset", asset, "Asset %s of package version %s not found in repository %s or its upstreams. Package = PackageCoordinate{packageType=%s, packageNamespace=%s, packageName=%s}",
		asset, ref.Version, rc.r.Name, ref.Format, ref.Namespace, ref.Package)
	// The repository's own version decides first: one that is not
	// downloadable is not found, whatever the upstreams hold, and one
	// published here (or still Unfinished) takes no assets from elsewhere.
	if rc.pkg != nil {
		v, err := orNil(tx.GetVersion(rc.pkg.ID, ref.Version))
		if err != nil {
			return nil, err
		}
		if plan.ver = v; v != nil {
			if !readable(v.Status) && (v.Status != StatusUnfinished || !allowUnfinished) {
				return nil, fault.NotFound("package-version", v.Version, "Package version %s of %s is %s; its assets cannot be downloaded", v.Version, rc.pkg.Name, v.Status)
			}
			a, err := orNil(tx.GetAsset(v.ID, asset))
			if err != nil {
				return nil, err
			}
			if a != nil {
				plan.hit = &storedAsset{repo: rc.r, pkg: rc.pkg, ver: v, asset: a}
				return plan, nil
			}
			if v.Status == StatusUnfinished || publishedHere(v, rc.r) {
				return nil, notFound
			}
		}
	}
	if !rc.upstreams {
		return nil, notFound
	}
	if err := rc.expand(tx); err != nil {
		return nil, err
	}
	for _, repo := range rc.visible()[1:] {
		p, err := rc.packageIn(tx, repo)
		if p == nil || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		v, err := orNil(tx.GetVersion(p.ID, ref.Version))
		if v == nil || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if !readable(v.Status) {
			continue
		}
		a, err := orNil(tx.GetAsset(v.ID, asset))
		if err != nil {
			return nil, err
		}
		if a != nil {
			plan.hit = &storedAsset{repo: repo, pkg: p, ver: v, asset: a}
			return plan, nil
		}
	}
	if !withExternal {
		return nil, notFound
	}
	holders, err := rc.externals(tx)
	if err != nil {
		return nil, err
	}
	for _, h := range holders {
		hv := plan.ver
		if h.repo.ID != rc.r.ID {
			hv = nil
			if h.pkg != nil {
				if hv, err = orNil(tx.GetVersion(h.pkg.ID, ref.Version)); err != nil {
					return nil, err
				}
			}
		}
		// A holder that keeps the version archived, disposed or unfinished,
		// or published it itself, takes nothing from its connection for it.
		if hv != nil && (!readable(hv.Status) || publishedHere(hv, h.repo)) {
			continue
		}
		plan.holder, plan.holderVer = h, hv
		plan.ext = &ExternalSource{Repository: h.repo.Name, Connection: h.connection, BaseURL: s.ExternalURL(h.connection)}
		return plan, nil
	}
	return nil, notFound
}

// eachVersion calls fn for every version of a package in version order,
// without its Readme.
func eachVersion(tx store.Tx, packageID int64, omitMetadata bool, fn func(v *store.Version)) error {
	after := ""
	for {
		vs, err := tx.ListVersions(store.VersionFilter{PackageID: packageID, OmitReadme: true, OmitMetadata: omitMetadata}, store.Page{After: after, Limit: 1000})
		if err != nil {
			return err
		}
		for i := range vs {
			fn(&vs[i])
		}
		if len(vs) < 1000 {
			return nil
		}
		after = store.VersionKey(&vs[len(vs)-1], false)
	}
}

// upstreamHolding returns the first upstream repository of r's search order
// that holds a readable copy of the version (ingested versions live in the
// repository holding the connection, which is in the search order too), ""
// when none does.
func upstreamHolding(tx store.Tx, rc *reach, version string) (string, error) {
	if err := rc.expand(tx); err != nil {
		return "", err
	}
	for _, repo := range rc.order[1:] {
		p, err := rc.packageIn(tx, repo)
		if p == nil || err != nil {
			if err != nil {
				return "", err
			}
			continue
		}
		v, err := orNil(tx.GetVersion(p.ID, version))
		if err != nil {
			return "", err
		}
		if v != nil && readable(v.Status) {
			return repo.Name, nil
		}
	}
	return "", nil
}
