package artifact

// Repository-level views of the search order, for the protocols that act on
// a whole repository rather than one package (PyPI's project list,
// RubyGems' gem set, npm's audit relay): they read the engine's order instead of walking the
// upstream graph themselves.

import (
	"context"
	"slices"

	"coffer/internal/store"
)

// SearchOrder returns the names of the repositories a request to ref
// searches, in CodeArtifact's order: ref's repository, then its upstreams
// depth-first, pre-order, left to right, each once, at most
// MaxSearchedRepositories (dangling upstream names skipped), as ReadAsset
// and ViewPackage search them. fault.NotFound when ref's repository does
// not exist.
func (s *Service) SearchOrder(ctx context.Context, ref RepoRef) ([]string, error) {
	var names []string
	err := s.readOrder(ctx, ref, func(order []*store.Repository) {
		names = make([]string, len(order))
		for i, r := range order {
			names[i] = r.Name
		}
	})
	return names, err
}

// PackageNames returns the names of the packages of format stored in ref's
// repository and the repositories of its search order (see SearchOrder),
// each once, sorted: the package list of an index-style protocol (PyPI's
// simple index, RubyGems' gem set).
func (s *Service) PackageNames(ctx context.Context, ref RepoRef, format string) ([]string, error) {
	order, err := s.SearchOrder(ctx, ref)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, repo := range order {
		page := PageRequest{Max: 1000}
		for {
			ps, next, err := s.ListPackages(ctx, RepoRef{DomainRef: ref.DomainRef, Repository: repo}, PackageFilter{Format: format}, page)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if !seen[p.Name] {
					seen[p.Name] = true
					names = append(names, p.Name)
				}
			}
			if next == "" {
				break
			}
			page.After = next
		}
	}
	slices.Sort(names)
	return names, nil
}

// ExternalConnectionsReached returns the external connections of format
// that ref's repository reaches, itself or through its upstreams, in search
// order (see SearchOrder), with the repository holding each and its base
// URL. They are what the repository could reach before any package's
// origin controls or package groups, which ViewPackage's External applies.
func (s *Service) ExternalConnectionsReached(ctx context.Context, ref RepoRef, format string) ([]ExternalSource, error) {
	var out []ExternalSource
	err := s.readOrder(ctx, ref, func(order []*store.Repository) {
		out = nil
		for _, r := range order {
			for _, c := range r.ExternalConnections {
				if c.Format == format {
					out = append(out, ExternalSource{Repository: r.Name, Connection: c.Name, BaseURL: s.ExternalURL(c.Name)})
				}
			}
		}
	})
	return out, err
}

// readOrder calls use with the search order of ref's repository, as one
// transaction sees the store.
func (s *Service) readOrder(ctx context.Context, ref RepoRef, use func([]*store.Repository)) error {
	return s.meta.Read(ctx, func(tx store.Tx) error {
		_, r, err := s.findRepository(tx, ref)
		if err != nil {
			return err
		}
		order, err := searchOrder(tx, r)
		if err != nil {
			return err
		}
		use(order)
		return nil
	})
}
