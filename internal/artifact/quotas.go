package artifact

import (
	"coffer/internal/fault"
	"coffer/internal/store"
)

// The count quotas are checked in the transaction that creates, after the
// new record is in (so that a duplicate is still a Conflict): one over the
// quota fails the transaction. A store that serialises its writes (SQLite)
// keeps them exactly; on PostgreSQL two nodes creating at once may both
// pass and end one over.

// checkDomainQuota fails when the account has more than MaxDomains domains.
func (s *Service) checkDomainQuota(tx store.Tx) error {
	limit := s.cfg.MaxDomains
	if limit <= 0 {
		return nil
	}
	const pageSize = 1000
	n, after := 0, ""
	for {
		page, err := tx.ListDomains(store.Page{After: after, Limit: pageSize})
		if err != nil {
			return err
		}
		for i := range page {
			if page[i].Owner == s.cfg.AccountID {
				n++
			}
		}
		if n > limit {
			return fault.Quota("domain", "", "The account already has %d domains, its quota (the server's --max-domains)", limit)
		}
		if len(page) < pageSize {
			return nil
		}
		after = store.DomainKey(&page[len(page)-1])
	}
}

// checkRepositoryQuota fails when d has more than MaxRepositoriesPerDomain
// repositories.
func (s *Service) checkRepositoryQuota(tx store.Tx, d *store.Domain) error {
	limit := s.cfg.MaxRepositoriesPerDomain
	if limit <= 0 {
		return nil
	}
	rs, err := tx.ListRepositories(store.RepositoryFilter{DomainID: d.ID}, store.Page{Limit: limit + 1})
	if err != nil {
		return err
	}
	if len(rs) > limit {
		return fault.Quota("domain", d.Name, "Domain %s already has %d repositories, its quota (the server's --max-repositories-per-domain)", d.Name, limit)
	}
	return nil
}

// checkPackageGroupQuota fails when d has more than
// MaxPackageGroupsPerDomain package groups besides the root group /*.
func (s *Service) checkPackageGroupQuota(tx store.Tx, d *store.Domain) error {
	limit := s.cfg.MaxPackageGroupsPerDomain
	if limit <= 0 {
		return nil
	}
	gs, err := tx.ListPackageGroups(d.ID, "", store.Page{Limit: limit + 2})
	if err != nil {
		return err
	}
	n := 0
	for i := range gs {
		if gs[i].Pattern != RootPackageGroup {
			n++
		}
	}
	if n > limit {
		return fault.Quota("domain", d.Name, "Domain %s already has %d package groups, its quota (the server's --max-package-groups-per-domain)", d.Name, limit)
	}
	return nil
}
