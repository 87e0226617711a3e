package artifact

import (
	"context"

	"coffer/internal/rules"
	"coffer/internal/store"
)

// sweepPage is how many records one short read transaction of SweepStored
// lists.
const sweepPage = 500

// SweepStored walks every stored version of every package the
// supply-chain gate may refuse (Verdicts.Active) and gives fn each one's
// subject and decision, so that what new rules or advisories refuse is
// known before anyone asks for it (a malicious version already cached is
// quarantined at once). It reads page by page, one short transaction each,
// and never holds the store long; a version written meanwhile may be
// missed, and is decided when it is read.
func (s *Service) SweepStored(ctx context.Context, fn func(sub rules.Subject, d rules.Decision)) error {
	if s.gate == nil {
		return nil
	}
	v, err := s.gate.Snapshot(ctx)
	if v == nil || err != nil {
		return err
	}
	now := timeNow()
	return pages(ctx, s.meta, func(tx store.Tx, p store.Page) ([]store.Domain, error) { return tx.ListDomains(p) },
		func(d *store.Domain) string { return store.DomainKey(d) },
		func(d *store.Domain) error {
			return pages(ctx, s.meta, func(tx store.Tx, p store.Page) ([]store.Repository, error) {
				return tx.ListRepositories(store.RepositoryFilter{DomainID: d.ID}, p)
			}, func(r *store.Repository) string { return store.RepositoryKey(r) },
				func(r *store.Repository) error {
					return pages(ctx, s.meta, func(tx store.Tx, p store.Page) ([]store.Package, error) {
						return tx.ListPackages(store.PackageFilter{RepositoryID: r.ID}, p)
					}, func(p *store.Package) string { return store.PackageKey(p) },
						func(p *store.Package) error {
							if !v.Active(d.Owner, d.Name, p.Format, p.Namespace, p.Name) {
								return nil
							}
							g := &gateOf{s: s, v: v, now: now, base: rules.Subject{DomainOwner: d.Owner, Domain: d.Name,
								Repository: r.Name, Format: p.Format, Namespace: p.Namespace, Name: p.Name}}
							return pages(ctx, s.meta, func(tx store.Tx, pg store.Page) ([]store.Version, error) {
								return tx.ListVersions(store.VersionFilter{PackageID: p.ID, OmitReadme: true}, pg)
							}, func(x *store.Version) string { return store.VersionKey(x, false) },
								func(x *store.Version) error {
									sub := g.storedSubject(x)
									fn(sub, g.v.Decide(sub, now))
									return nil
								})
						})
				})
		})
}

// pages lists records page by page, each page in its own read
// transaction, and calls each for every record outside it.
func pages[T any](ctx context.Context, meta store.Store, list func(store.Tx, store.Page) ([]T, error), key func(*T) string, each func(*T) error) error {
	after := ""
	for {
		var page []T
		err := meta.Read(ctx, func(tx store.Tx) (err error) {
			page, err = list(tx, store.Page{After: after, Limit: sweepPage})
			return err
		})
		if err != nil {
			return err
		}
		for i := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := each(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < sweepPage {
			return nil
		}
		after = key(&page[len(page)-1])
	}
}
