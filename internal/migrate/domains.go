package migrate

import (
	"fmt"
	"maps"
	"slices"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// domains copies each domain with its repositories (and their contents),
// its package groups and the tags of all of these. The walk is depth-first:
// a record is written under its parent's new id as soon as the parent is,
// so no id map outlives the parent being copied.
func (c *copier) domains() error {
	return page(c, c.src.ListDomains, store.DomainKey, c.domain)
}

func (c *copier) domain(d *store.Domain) error {
	nd := *d
	nd.ID = 0
	if err := c.dst.CreateDomain(&nd); err != nil {
		return fmt.Errorf("domain %s (owner %s): %w", d.Name, d.Owner, err)
	}
	c.counts.Domains++
	if err := c.tags(c.arns.DomainARN(d.Owner, d.Name)); err != nil {
		return err
	}
	repos := func(p store.Page) ([]store.Repository, error) {
		return c.src.ListRepositories(store.RepositoryFilter{DomainID: d.ID}, p)
	}
	err := page(c, repos, store.RepositoryKey, func(r *store.Repository) error { return c.repository(d, nd.ID, r) })
	if err != nil {
		return fmt.Errorf("domain %s: %w", d.Name, err)
	}
	// Groups after the repositories: their allowed-repository lists name them.
	groups := func(p store.Page) ([]store.PackageGroup, error) { return c.src.ListPackageGroups(d.ID, "", p) }
	if err := page(c, groups, groupKey, func(g *store.PackageGroup) error { return c.packageGroup(d, nd.ID, g) }); err != nil {
		return fmt.Errorf("domain %s: %w", d.Name, err)
	}
	return nil
}

func (c *copier) repository(d *store.Domain, domainID int64, r *store.Repository) error {
	nr := *r
	nr.ID, nr.DomainID = 0, domainID
	// Upstreams are names within the domain: they need no translation, nor
	// the upstream repository to exist yet.
	if err := c.dst.CreateRepository(&nr); err != nil {
		return fmt.Errorf("repository %s: %w", r.Name, err)
	}
	c.counts.Repositories++
	if err := c.tags(c.arns.RepositoryARN(d.Owner, d.Name, r.Name)); err != nil {
		return err
	}
	if err := c.packages(r.ID, nr.ID, domainID); err != nil {
		return fmt.Errorf("repository %s: %w", r.Name, err)
	}
	return nil
}

// packageGroup copies a group with its allowed-repository lists, which the
// store gives by repository name: the names are looked up in the target.
func (c *copier) packageGroup(d *store.Domain, domainID int64, g *store.PackageGroup) error {
	ng := *g
	ng.ID, ng.DomainID = 0, domainID
	if err := c.dst.CreatePackageGroup(&ng); err != nil {
		return fmt.Errorf("package group %s: %w", g.Pattern, err)
	}
	c.counts.PackageGroups++
	lists, err := c.src.CountAllowedRepositories(g.ID)
	if err != nil {
		return fmt.Errorf("package group %s: %w", g.Pattern, err)
	}
	for _, restriction := range slices.Sorted(maps.Keys(lists)) {
		names := func(p store.Page) ([]string, error) { return c.src.ListAllowedRepositories(g.ID, restriction, p) }
		err := page(c, names, nameOf, func(name *string) error {
			r, err := c.dst.GetRepository(domainID, *name)
			if err == nil {
				err = c.dst.AddAllowedRepository(ng.ID, restriction, r.ID)
			}
			if err != nil {
				return fmt.Errorf("package group %s: %s repository %s: %w", g.Pattern, restriction, *name, err)
			}
			c.counts.AllowedRepositories++
			return nil
		})
		if err != nil {
			return err
		}
	}
	return c.tags(c.arns.PackageGroupARN(d.Owner, d.Name, g.Pattern))
}

// tags copies the tags of one resource. The ARN is the same in the target
// (it names the resource, not its id). PutTags merges, so tags a forced
// target already holds for the ARN are a collision.
func (c *copier) tags(arn string) error {
	tags, err := c.src.ListTags(arn)
	if err != nil || len(tags) == 0 {
		return wrapf(err, "tags of %s", arn)
	}
	n, err := c.dst.CountTags(arn)
	if err != nil {
		return fmt.Errorf("tags of %s: %w", arn, err)
	}
	if n > 0 {
		return fault.Conflict("tags", arn, "tags of %s: the target already holds some", arn)
	}
	if err := c.dst.PutTags(arn, tags); err != nil {
		return fmt.Errorf("tags of %s: %w", arn, err)
	}
	c.counts.Tags += int64(len(tags))
	return nil
}

// wrapf prefixes err, or returns nil.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
