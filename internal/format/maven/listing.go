package maven

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/upstream"
)

// artifactMetadata is artifact-level maven-metadata.xml: the versions the
// repository shows (its own and its upstreams', Published only, a SNAPSHOT
// listed once for its published build) merged with the versions the
// allowed external connections list (releases only: SNAPSHOTs are never
// ingested). The rendered document is cached per repository and package
// under a fingerprint of its inputs, so a cache hit costs the view and one
// hash pass over it, not a sort and a render.
func (h *Handler) artifactMetadata(ctx context.Context, t *format.Target, p Path) (*document, error) {
	ref := packageRef(t, p)
	key := format.CacheKey(t, p.GroupID+"\x00"+p.ArtifactID)
	// The stamp changes with anything the view would show; on a cache hit
	// no version is read, so the cost does not grow with the versions.
	stamp, external, err := h.svc.ViewStamp(ctx, ref)
	if err != nil {
		return nil, err
	}
	metaPath := p.GroupPath() + "/" + p.ArtifactID + "/" + MetadataFile
	docs, upstreamErr := format.Gather(ctx, h.log, "upstream "+metaPath, external,
		func(ctx context.Context, src artifact.ExternalSource) (sourced, error) {
			res, err := h.up.Get(ctx, src.BaseURL+metaPath)
			if err == nil && res.Freshness == upstream.Stale {
				h.log.Warn("serving a stale upstream maven-metadata.xml", "url", src.BaseURL+metaPath, "err", res.Err)
			}
			return sourced{res, src}, err
		})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	fp := format.StampFingerprint(stamp, docs, func(r sourced) *upstream.Document { return r.Document })
	if d, ok := h.docs.Get(key, fp); ok {
		return d, nil
	}
	vc, err := h.views.do(ctx, key, func(ctx context.Context) (*artifact.PackageView, error) {
		return h.svc.ViewPackage(ctx, ref, false)
	})
	if err != nil {
		return nil, err
	}
	view := vc.view

	l := &ArtifactListing{GroupID: p.GroupID, ArtifactID: p.ArtifactID}
	for _, v := range view.Versions {
		if v.Status != artifact.StatusPublished {
			continue
		}
		name := v.Version.Version
		if b, ok := ParseBuild(name); ok {
			name = b.Snapshot()
		}
		l.Versions = append(l.Versions, name)
		when := v.PublishedTime
		if when.IsZero() {
			when = v.CreatedTime
		}
		if when.After(l.LastUpdated) {
			l.LastUpdated = when
		}
	}
	for _, rm := range view.Metadata {
		if doc := storedMetadata(rm.Metadata); doc != "" {
			if m, err := ParseMetadata([]byte(doc)); err == nil {
				l.Plugins = MergePlugins(l.Plugins, m.Plugins)
			}
		}
	}
	// Versions a stored record keeps from being fetched are not offered
	// from the upstream documents either.
	withheld := map[string]bool{}
	for _, v := range view.Withheld {
		withheld[v] = true
	}
	for _, res := range docs {
		m, err := ParseMetadata(res.Body)
		if err != nil {
			h.log.Warn("unreadable upstream maven-metadata.xml", "url", res.URL, "err", err)
			continue
		}
		if v := m.Versioning; v != nil {
			var admitted map[string]bool
			if view.Gated() {
				admitted = h.admitListed(ctx, view, res.src, p, v.Versions, withheld)
			}
			for _, s := range v.Versions {
				if !IsSnapshot(s) && !withheld[s] && (admitted == nil || admitted[s]) {
					l.Versions = append(l.Versions, s)
				}
			}
			if t, ok := ParseLastUpdated(v.LastUpdated); ok && t.After(l.LastUpdated) {
				l.LastUpdated = t
			}
		}
		l.Plugins = MergePlugins(l.Plugins, m.Plugins)
	}
	if len(l.Versions) == 0 && len(l.Plugins) == 0 {
		if upstreamErr != nil {
			return nil, upstreamErr
		}
		return nil, fault.NotFound("package", p.GroupID+":"+p.ArtifactID, "No versions of %s:%s in this repository", p.GroupID, p.ArtifactID)
	}
	mod := l.LastUpdated
	if mod.IsZero() {
		mod = time.Now()
	}
	d := newDocument(l.Render(), mod.Truncate(time.Second))
	h.docs.Put(key, fp, d, int64(len(d.body)))
	return d, nil
}

// sourced is an upstream document with the source it came from.
type sourced struct {
	*upstream.Response
	src artifact.ExternalSource
}

// admitListed asks the supply-chain gate about the releases an external
// repository's maven-metadata.xml lists, with each one's publish time
// (published: a request per release not asked before, at most eight at
// once, answered from the upstream client's cache afterwards). A release
// whose time cannot be read counts from coffer's first sight of it.
func (h *Handler) admitListed(ctx context.Context, view *artifact.PackageView, src artifact.ExternalSource, p Path, versions []string, withheld map[string]bool) map[string]bool {
	times := make([]time.Time, len(versions))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, v := range versions {
		if IsSnapshot(v) || withheld[v] {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t, err := h.published(ctx, src, p, v)
			if err != nil {
				h.log.Warn("could not read when an upstream release was published", "connection", src.Connection, "version", v, "err", err)
			}
			times[i] = t
		})
	}
	wg.Wait()
	admitted := make(map[string]bool, len(versions))
	for i, v := range versions {
		if !IsSnapshot(v) && !withheld[v] && view.Admit(src, v, times[i]) {
			admitted[v] = true
		}
	}
	return admitted
}

var fingerprintSeed = maphash.MakeSeed()

// viewFingerprint identifies what a view contributes to an artifact-level
// document (PackageView.Fingerprint).
func viewFingerprint(view *artifact.PackageView) uint64 {
	var h maphash.Hash
	h.SetSeed(fingerprintSeed)
	view.Fingerprint(&h)
	return h.Sum64()
}

// viewGroup coalesces the ViewPackage calls of concurrent metadata reads of
// one package. A read joins the next call that starts after it arrived,
// never one already running (which might not see a write that completed
// just before the read), so every answer reflects a view taken after its
// request arrived, while any number of concurrent reads cost at most two
// calls in flight per package. The view and its fingerprint are shared,
// read-only.
type viewGroup struct {
	mu sync.Mutex
	m  map[string]*viewSlot
}

type viewSlot struct {
	running, next *viewCall
}

type viewCall struct {
	done chan struct{}
	view *artifact.PackageView
	fp   uint64
	err  error
}

func (g *viewGroup) do(ctx context.Context, key string, fn func(context.Context) (*artifact.PackageView, error)) (*viewCall, error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*viewSlot{}
	}
	s := g.m[key]
	if s == nil {
		s = &viewSlot{}
		g.m[key] = s
	}
	var c *viewCall
	switch {
	case s.running == nil:
		c = &viewCall{done: make(chan struct{})}
		s.running = c
		go g.run(context.WithoutCancel(ctx), key, s, c, fn)
	case s.next == nil:
		c = &viewCall{done: make(chan struct{})}
		s.next = c
	default:
		c = s.next
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run performs c, then each call queued behind it, until none is.
func (g *viewGroup) run(ctx context.Context, key string, s *viewSlot, c *viewCall, fn func(context.Context) (*artifact.PackageView, error)) {
	for c != nil {
		func() {
			defer func() {
				if v := recover(); v != nil {
					c.err = fault.Internal(fmt.Errorf("%v", v), "reading the package failed")
				}
				close(c.done)
			}()
			c.view, c.err = fn(ctx)
			if c.err == nil {
				c.fp = viewFingerprint(c.view)
			}
		}()
		g.mu.Lock()
		c = s.next
		s.running, s.next = c, nil
		if c == nil {
			delete(g.m, key)
		}
		g.mu.Unlock()
	}
}

// storedPackageMetadata is the package-level Metadata the Maven format
// keeps: the artifact-level maven-metadata.xml the client uploaded last.
type storedPackageMetadata struct {
	MavenMetadata string `json:"mavenMetadata,omitempty"`
}

func encodeStoredMetadata(doc []byte) string {
	b, _ := json.Marshal(storedPackageMetadata{MavenMetadata: string(doc)})
	return string(b)
}

func storedMetadata(s string) string {
	if s == "" {
		return ""
	}
	var m storedPackageMetadata
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return ""
	}
	return m.MavenMetadata
}
