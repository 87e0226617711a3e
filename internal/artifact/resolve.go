package artifact

import (
	"errors"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// MaxSearchedRepositories bounds the repositories one request searches: the
// requested one and its transitive upstreams.
const MaxSearchedRepositories = 25

// searchOrder returns the repositories a request to repo searches, in
// CodeArtifact's order: depth-first, pre-order, left to right, each
// repository once, at most MaxSearchedRepositories. Dangling upstream names
// (left by deleted repositories) are skipped.
func searchOrder(tx store.Tx, repo *store.Repository) ([]*store.Repository, error) {
	out := []*store.Repository{}
	seen := map[string]bool{}
	var visit func(r *store.Repository) error
	visit = func(r *store.Repository) error {
		if seen[r.Name] || len(out) >= MaxSearchedRepositories {
			return nil
		}
		seen[r.Name] = true
		out = append(out, r)
		for _, name := range r.Upstreams {
			u, err := tx.GetRepository(r.DomainID, name)
			if errors.Is(err, fault.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if err := visit(u); err != nil {
				return err
			}
		}
		return nil
	}
	return out, visit(repo)
}
