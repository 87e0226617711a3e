package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Journal is a store.Store whose write transactions record an event for
// every package version they create, change or delete. Reads pass through.
type Journal struct {
	store.Store
	region  string
	now     func() time.Time
	metrics *metrics
	// committed, when set, is called after a write that recorded events
	// committed (the webhook deliveries wake up).
	committed func()
}

// NewJournal wraps s. region names the ARNs of the events' resources. The
// result is a store.Locker when s is one.
func NewJournal(s store.Store, region string) *Journal {
	return &Journal{Store: s, region: region, now: time.Now, metrics: newMetrics()}
}

// AsStore returns j as the store the engine writes through: j itself, or j
// with the wrapped store's locks (store.Locker) when it has them, so that
// the engine still sees a store shared by several processes as one.
func (j *Journal) AsStore() store.Store {
	if l, ok := j.Store.(store.Locker); ok {
		return lockingJournal{j, l}
	}
	return j
}

type lockingJournal struct {
	*Journal
	store.Locker
}

// OnCommit sets the function called after a write that recorded events
// committed. It must not block.
func (j *Journal) OnCommit(f func()) { j.committed = f }

// Write runs fn in a write transaction of the wrapped store and, before it
// commits, appends the events of what fn did.
func (j *Journal) Write(ctx context.Context, fn func(store.Tx) error) error {
	var recorded []recorded
	err := j.Store.Write(ctx, func(tx store.Tx) error {
		w := &watch{Tx: tx, versions: map[int64]*change{}, seen: map[int64]store.Version{}, pkgs: map[int64]*pkgState{}}
		if err := fn(w); err != nil {
			return err
		}
		var err error
		recorded, err = w.flush(j.region, j.now())
		return err
	})
	if err != nil || len(recorded) == 0 {
		return err
	}
	j.metrics.count(recorded)
	if j.committed != nil {
		j.committed()
	}
	return nil
}

// change is what one transaction did to one version.
type change struct {
	order   int
	before  *store.Version // nil when created in the transaction
	after   store.Version  // the last state written (or read, for a delete)
	created bool
	deleted bool
	Changes
}

// pkgState is a package as the transaction found it first, and whether its
// metadata changed.
type pkgState struct {
	pkg             store.Package
	deleted         bool
	metadataChanged bool
}

// watch is a transaction that notes version, asset and package changes.
type watch struct {
	store.Tx
	versions map[int64]*change
	seen     map[int64]store.Version // versions read, by id, as first read
	pkgs     map[int64]*pkgState
}

func (w *watch) changeOf(v *store.Version) *change {
	c, ok := w.versions[v.ID]
	if !ok {
		c = &change{order: len(w.versions)}
		if prev, ok := w.seen[v.ID]; ok {
			c.before = &prev
		}
		w.versions[v.ID] = c
	}
	return c
}

func (w *watch) see(v *store.Version) {
	if _, ok := w.seen[v.ID]; !ok {
		w.seen[v.ID] = *v
	}
}

func (w *watch) GetVersion(packageID int64, version string) (*store.Version, error) {
	v, err := w.Tx.GetVersion(packageID, version)
	if err == nil {
		w.see(v)
	}
	return v, err
}

func (w *watch) ListVersions(f store.VersionFilter, p store.Page) ([]store.Version, error) {
	vs, err := w.Tx.ListVersions(f, p)
	for i := range vs {
		w.see(&vs[i])
	}
	return vs, err
}

func (w *watch) CreateVersion(v *store.Version) error {
	if err := w.Tx.CreateVersion(v); err != nil {
		return err
	}
	c := w.changeOf(v)
	c.created, c.after = true, *v
	c.StatusChanged, c.MetadataUpdated = true, true
	return nil
}

func (w *watch) UpdateVersion(v *store.Version) error {
	if _, ok := w.seen[v.ID]; !ok {
		// Not read through this transaction: read the state it replaces.
		if _, err := w.GetVersion(v.PackageID, v.Version); err != nil {
			return err
		}
	}
	if err := w.Tx.UpdateVersion(v); err != nil {
		return err
	}
	c := w.changeOf(v)
	prev := w.seen[v.ID]
	if c.after.ID != 0 {
		prev = c.after
	}
	if v.Status != prev.Status {
		c.StatusChanged = true
	}
	if versionMetadataChanged(&prev, v) {
		c.MetadataUpdated = true
	}
	c.after = *v
	return nil
}

func (w *watch) DeleteVersion(id int64) error {
	c, changed := w.versions[id]
	v, seen := w.seen[id]
	n, err := w.countAssets(id) // before the delete takes the assets with it
	if err != nil {
		return err
	}
	if err := w.Tx.DeleteVersion(id); err != nil {
		return err
	}
	switch {
	case changed:
	case seen:
		c = w.changeOf(&v)
		c.after = v
	default:
		// Every engine path reads a version before deleting it; one that
		// does not would lose its event, which the tests must catch.
		return fault.Internal(fmt.Errorf("version %d deleted unread", id), "could not record the deletion's event")
	}
	if !c.created {
		c.AssetsRemoved += n
	}
	c.deleted = true
	return nil
}

// countAssets counts a version's assets (before they are deleted).
func (w *watch) countAssets(versionID int64) (int, error) {
	as, err := w.Tx.ListAssets(versionID, store.Page{})
	return len(as), err
}

func (w *watch) DeleteAssets(versionID int64) error {
	n, err := w.countAssets(versionID)
	if err != nil {
		return err
	}
	if err := w.Tx.DeleteAssets(versionID); err != nil {
		return err
	}
	if c, ok := w.versions[versionID]; ok {
		c.AssetsRemoved += n
	} else if v, ok := w.seen[versionID]; ok {
		w.changeOf(&v).AssetsRemoved += n
	}
	return nil
}

func (w *watch) PutAsset(domainID int64, a *store.Asset) error {
	prev, err := w.Tx.GetAsset(a.VersionID, a.Name)
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	if err := w.Tx.PutAsset(domainID, a); err != nil {
		return err
	}
	c, ok := w.versions[a.VersionID]
	if !ok {
		v, seen := w.seen[a.VersionID]
		if !seen {
			return fault.Internal(fmt.Errorf("asset of version %d put unread", a.VersionID), "could not record the asset's event")
		}
		c = w.changeOf(&v)
		c.after = v
	}
	switch {
	case prev == nil:
		c.AssetsAdded++
	case prev.Blob.SHA256 != a.Blob.SHA256:
		c.AssetsUpdated++
	}
	return nil
}

func (w *watch) pkgState(id int64) (*pkgState, error) {
	if s, ok := w.pkgs[id]; ok {
		return s, nil
	}
	p, err := w.Tx.GetPackageByID(id)
	if err != nil {
		return nil, err
	}
	s := &pkgState{pkg: *p}
	w.pkgs[id] = s
	return s, nil
}

func (w *watch) UpdatePackage(p *store.Package) error {
	s, err := w.pkgState(p.ID)
	if err != nil {
		return err
	}
	if err := w.Tx.UpdatePackage(p); err != nil {
		return err
	}
	if p.Metadata != s.pkg.Metadata {
		s.metadataChanged = true
	}
	return nil
}

// DeletePackage records a Deleted event for each of the package's
// versions, as CodeArtifact publishes one per version of a deleted
// package.
func (w *watch) DeletePackage(id int64) error {
	s, err := w.pkgState(id)
	if err != nil {
		return err
	}
	vs, err := w.ListVersions(store.VersionFilter{PackageID: id, OmitReadme: true, OmitMetadata: true}, store.Page{})
	if err != nil {
		return err
	}
	counts := make([]int, len(vs))
	for i := range vs {
		if counts[i], err = w.countAssets(vs[i].ID); err != nil {
			return err
		}
	}
	if err := w.Tx.DeletePackage(id); err != nil {
		return err
	}
	s.deleted = true
	for i := range vs {
		c := w.changeOf(&vs[i])
		if c.after.ID == 0 {
			c.after = vs[i]
		}
		if !c.created {
			c.AssetsRemoved += counts[i]
		}
		c.deleted = true
	}
	return nil
}

// versionMetadataChanged compares what a client sees of a version besides
// its status and assets.
func versionMetadataChanged(a, b *store.Version) bool {
	return a.Summary != b.Summary || a.DisplayName != b.DisplayName || a.HomePage != b.HomePage ||
		a.SourceCodeRepository != b.SourceCodeRepository || a.Readme != b.Readme || a.Metadata != b.Metadata ||
		!reflect.DeepEqual(a.Licenses, b.Licenses) || !reflect.DeepEqual(a.Dependencies, b.Dependencies)
}

// recorded is what the metrics count of an event.
type recorded struct {
	format, operation, origin string
	assets                    bool // assets added or replaced
	publishedHere             bool // published to this repository, not retained or ingested
}

// flush appends the transaction's events, in the order the versions were
// first changed, and returns them.
func (w *watch) flush(region string, now time.Time) ([]recorded, error) {
	if len(w.versions) == 0 {
		return nil, nil
	}
	var out []recorded
	ordered := make([]*change, len(w.versions))
	for _, c := range w.versions {
		ordered[c.order] = c
	}
	repos := map[int64]*store.Repository{}
	domains := map[int64]*store.Domain{}
	for _, c := range ordered {
		op := Updated
		switch {
		case c.created && c.deleted:
			continue
		case c.created:
			op = Created
		case c.deleted:
			op = Deleted
		}
		v := &c.after
		ps, err := w.pkgState(v.PackageID)
		if err != nil {
			return out, err
		}
		changes := c.Changes
		if ps.metadataChanged && !c.deleted {
			changes.MetadataUpdated = true
		}
		if op == Updated && changes == (Changes{}) && (c.before == nil || c.before.Revision == v.Revision) {
			continue // written back unchanged
		}
		p := &ps.pkg
		r, ok := repos[p.RepositoryID]
		if !ok {
			if r, err = w.Tx.GetRepositoryByID(p.RepositoryID); err != nil {
				return out, err
			}
			repos[p.RepositoryID] = r
		}
		d, ok := domains[r.DomainID]
		if !ok {
			if d, err = w.Tx.GetDomainByID(r.DomainID); err != nil {
				return out, err
			}
			domains[r.DomainID] = d
		}
		var ns *string
		if p.Namespace != "" {
			ns = &p.Namespace
		}
		e := Event{Version: "0", ID: newID(), DetailType: DetailType, Source: Source, Account: d.Owner, Time: eventTime(now),
			Region: region, Resources: []string{packageARN(region, d.Owner, d.Name, r.Name, p.Format, p.Namespace, p.Name)},
			Detail: Detail{DomainName: d.Name, DomainOwner: d.Owner, RepositoryName: r.Name, RepositoryAdministrator: r.AdministratorAccount,
				PackageFormat: p.Format, PackageNamespace: ns, PackageName: p.Name, PackageVersion: v.Version,
				PackageVersionState: v.Status, PackageVersionRevision: v.Revision, Changes: changes, OperationType: op,
				EventDeduplicationID: newDeduplicationID()}}
		body, err := json.Marshal(&e)
		if err != nil {
			return out, err
		}
		if err := w.Tx.AppendEvent(&store.Event{DomainID: d.ID, Time: now, Format: p.Format, Namespace: p.Namespace, Name: p.Name,
			Version: v.Version, Body: string(body)}); err != nil {
			return out, err
		}
		out = append(out, recorded{format: p.Format, operation: op, origin: v.OriginType, assets: changes.AssetsAdded+changes.AssetsUpdated > 0,
			publishedHere: v.OriginType == "INTERNAL" && v.OriginRepository == r.Name})
	}
	return out, nil
}

// packageARN is artifact.Service.PackageARN's form, which this package
// cannot import (the engine writes through a Journal).
func packageARN(region, owner, domain, repository, format, namespace, name string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:package/%s/%s/%s/%s/%s", region, owner, domain, repository, format, namespace, name)
}
