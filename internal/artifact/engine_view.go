package artifact

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"coffer/internal/fault"
	"coffer/internal/store"
)

func (s *Service) viewPackage(ctx context.Context, ref PackageRef, includeUnlisted, withMetadata bool) (*PackageView, error) {
	ref, err := normalizedRef(ref)
	if err != nil {
		return nil, err
	}
	view := &PackageView{}
	err = s.meta.Read(ctx, func(tx store.Tx) error {
		rc, err := s.reachOf(tx, ref)
		if err == nil {
			err = rc.expand(tx)
		}
		if err != nil {
			return err
		}
		if rc.pkg != nil {
			p := *rc.pkg
			view.Package = &p
		}
		// The first occurrence of a version string in search order claims
		// it, as ReadAsset's first hit does: any record in the requested
		// repository (one it cannot serve hides the upstream copies too),
		// a readable one upstream. Only Published (and Unlisted) claimers
		// are listed.
		claimed := map[string]bool{}
		unreadable := map[int64][]string{} // per repository: versions it keeps but cannot serve
		found := false
		for i, repo := range rc.visible() {
			p, err := rc.packageIn(tx, repo)
			if p == nil || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			found = true
			view.Metadata = append(view.Metadata, RepositoryMetadata{Repository: repo.Name, Metadata: p.Metadata})
			err = eachVersion(tx, p.ID, !withMetadata, func(v *store.Version) {
				if !readable(v.Status) {
					unreadable[repo.ID] = append(unreadable[repo.ID], v.Version)
				}
				if claimed[v.Version] || (i > 0 && !readable(v.Status)) {
					return
				}
				claimed[v.Version] = true
				if v.Status == StatusPublished || includeUnlisted && v.Status == StatusUnlisted {
					view.Versions = append(view.Versions, VisibleVersion{Version: *v, Repository: repo.Name})
				}
			})
			if err != nil {
				return err
			}
		}
		holders, err := rc.externals(tx)
		if err != nil {
			return err
		}
		withheld := map[string]bool{}
		for _, v := range unreadable[rc.r.ID] {
			withheld[v] = true
		}
		for _, h := range holders {
			view.External = append(view.External, ExternalSource{Repository: h.repo.Name, Connection: h.connection, BaseURL: s.ExternalURL(h.connection)})
			for _, v := range unreadable[h.repo.ID] {
				withheld[v] = true
			}
		}
		if len(view.External) > 0 {
			view.Withheld = slices.Sorted(maps.Keys(withheld))
		}
		if view.gate, err = s.verdicts(ctx, ref, rc.d.Owner); err != nil {
			return err
		}
		if view.gate != nil {
			view.ref = ref
			view.gate.gateView(view)
			slices.Sort(view.Withheld)
			view.Withheld = slices.Compact(view.Withheld)
			conns := make([]string, len(view.External))
			for i, e := range view.External {
				conns[i] = e.Connection
			}
			if err := s.sightings.load(tx, ref, conns); err != nil {
				return err
			}
		}
		if !found && len(view.External) == 0 {
			return fault.NotFound("package", ref.Package, "Package not found in repository %s or its upstreams. Package = PackageCoordinate{packageType=%s, packageNamespace=%s, packageName=%s}",
				rc.r.Name, ref.Format, ref.Namespace, ref.Package)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// ViewStamp returns a fingerprint of what ViewPackage shows of a package
// (and the external sources it lists) without reading any version: it is
// made of the repositories the view covers, in order, with each one's
// package id and change counter, and the allowed external connections. Any
// change to a version, an asset, a status, origin controls, package-level
// metadata, the upstream graph or a package group decision changes it, so a
// format can serve a cached document while the stamp is unchanged at a cost
// independent of the number of versions.
func (s *Service) ViewStamp(ctx context.Context, ref PackageRef) (string, []ExternalSource, error) {
	ref, err := normalizedRef(ref)
	if err != nil {
		return "", nil, err
	}
	gen := s.meta.Generation()
	if e, ok := s.stamps.Get(ref, gen); ok {
		suffix, err := s.gateStamp(ctx, ref, e.owner, len(e.external) > 0)
		return e.stamp + suffix, slices.Clone(e.external), err
	}
	var b strings.Builder
	var external []ExternalSource
	var owner string
	err = s.meta.Read(ctx, func(tx store.Tx) error {
		rc, err := s.reachOf(tx, ref)
		if err == nil {
			err = rc.expand(tx)
		}
		if err != nil {
			return err
		}
		owner = rc.d.Owner
		for _, repo := range rc.visible() {
			p, err := rc.packageIn(tx, repo)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "r%d", repo.ID)
			if p != nil {
				fmt.Fprintf(&b, ":p%d:%d", p.ID, p.ChangeSeq)
			}
			b.WriteByte(';')
		}
		holders, err := rc.externals(tx)
		if err != nil {
			return err
		}
		for _, h := range holders {
			src := ExternalSource{Repository: h.repo.Name, Connection: h.connection, BaseURL: s.ExternalURL(h.connection)}
			external = append(external, src)
			fmt.Fprintf(&b, "x%d:%s:%s;", h.repo.ID, src.Connection, src.BaseURL)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	s.stamps.Put(ref, gen, viewStamp{stamp: b.String(), external: slices.Clone(external), owner: owner})
	suffix, err := s.gateStamp(ctx, ref, owner, len(external) > 0)
	return b.String() + suffix, external, err
}

// gateStamp is the supply-chain gate's part of a ViewStamp: its state, and
// the time period under a cooldown.
func (s *Service) gateStamp(ctx context.Context, ref PackageRef, owner string, external bool) (string, error) {
	g, err := s.verdicts(ctx, ref, owner)
	if err != nil {
		return "", err
	}
	return g.stampSuffix(external), nil
}

// viewStamp is a remembered ViewStamp result.
type viewStamp struct {
	stamp    string
	external []ExternalSource
	owner    string
}

func (s *Service) externalURL(connection string) string {
	u := s.cfg.ExternalConnectionURLs[connection]
	if u == "" {
		u = DefaultExternalURLs[connection]
	}
	if u != "" && !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}
