package migrate

import "coffer/internal/store"

// DefaultPageSize is how many records one listing call returns: memory is
// bounded by a page per level of the walk, not by the deployment.
const DefaultPageSize = 1000

// eachPage calls fn for every record list returns, asking for size records at
// a time and continuing after the key of the last one (size <= 0: all at
// once).
func eachPage[T any](size int, list func(store.Page) ([]T, error), key func(*T) string, fn func(*T) error) error {
	p := store.Page{Limit: size}
	for {
		recs, err := list(p)
		if err != nil {
			return err
		}
		for i := range recs {
			if err := fn(&recs[i]); err != nil {
				return err
			}
		}
		if size <= 0 || len(recs) < size {
			return nil
		}
		p.After = key(&recs[len(recs)-1])
	}
}

// Listing keys of the records whose key is a plain field.
func nameOf(s *string) string                 { return *s }
func assetKey(a *store.Asset) string          { return a.Name }
func versionKey(v *store.Version) string      { return store.VersionKey(v, false) }
func groupKey(g *store.PackageGroup) string   { return store.PackageGroupKey(g) }
func userKey(u *store.IAMUser) string         { return u.Name }
func iamGroupKey(g *store.IAMGroup) string    { return g.Name }
func roleKey(r *store.IAMRole) string         { return r.Name }
func policyKey(p *store.ManagedPolicy) string { return p.Name }
