package cargo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/upstream"
)

// indexFile is a rendered index file, cached until what it was made of
// changes.
type indexFile struct {
	body []byte
	etag string
	mod  time.Time
}

// serveIndex serves GET/HEAD of an index file (1/{n}, 2/{n}, 3/{c}/{n},
// {ab}/{cd}/{name}, lower case). Its ETag is the body's hash: cargo
// revalidates every file it needs on every resolve with If-None-Match,
// answered 304 from the cache at a cost that does not grow with the
// crate's versions.
func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	p := c.Param("path")
	name, ok := ParseIndexPath(p)
	if !ok {
		return fault.NotFound("package", p, "this cargo registry has nothing at %s", p)
	}
	f, err := h.indexFile(r.Context(), c.Target, name)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("ETag", f.etag)
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", f.mod, bytes.NewReader(f.body))
	return nil
}

// indexFile returns the index file of crate name (lower case): the
// versions the repository shows (its own and its upstreams', Published
// and Unlisted, the latter yanked) merged with the upstream index files
// of the external sources the package reaches (a version stored here
// wins, yanked too when the upstream has yanked it since; withheld
// versions, and those only an upstream lists that the supply-chain gate
// refuses, are left out). It is cached under the engine's
// view stamp and the identity of the upstream documents: a hit reads no
// version.
func (h *Handler) indexFile(ctx context.Context, t *format.Target, name string) (*indexFile, error) {
	ref := packageRef(t, name)
	stamp, external, err := h.svc.ViewStamp(ctx, ref)
	if err != nil {
		return nil, err
	}
	type upDoc struct {
		res *upstream.Response
		idx *upIndex
		src artifact.ExternalSource
	}
	docs, upErr := format.Gather(ctx, h.log, "upstream cargo index file", external,
		func(ctx context.Context, src artifact.ExternalSource) (upDoc, error) {
			res, idx, err := h.upstreamIndex(ctx, src, name)
			return upDoc{res, idx, src}, err
		})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	fp := format.StampFingerprint(stamp, docs, func(d upDoc) *upstream.Document { return d.res.Document })
	key := format.CacheKey(t, name)
	if f, ok := h.index.Get(key, fp); ok {
		return f, nil
	}

	view, err := h.svc.ViewPackage(ctx, ref, true)
	if err != nil && fault.KindOf(err) != fault.KindNotFound {
		return nil, err
	}
	type own struct {
		entry IndexEntry
		when  time.Time
		done  bool
	}
	owns := map[string]*own{} // by VersionKey
	var order []*own
	withheld := map[string]bool{}
	gated := view != nil && view.Gated()
	if view != nil {
		for _, v := range view.Withheld {
			withheld[v] = true
		}
		for i := range view.Versions {
			v := &view.Versions[i]
			if v.Status != artifact.StatusPublished && v.Status != artifact.StatusUnlisted {
				continue
			}
			e, err := ParseIndexLine([]byte(v.Metadata))
			if err != nil || strings.ToLower(e.Name) != name {
				continue
			}
			e.Yanked = v.Status == artifact.StatusUnlisted
			k := VersionKey(e.Vers)
			if owns[k] != nil {
				continue // the first in search order wins
			}
			o := &own{entry: e, when: v.PublishedTime}
			owns[k] = o
			order = append(order, o)
		}
	}
	var body []byte
	for _, d := range docs {
		for _, e := range d.idx.entries {
			if withheld[e.vers] || strings.ToLower(e.name) != name {
				continue
			}
			k := VersionKey(e.vers)
			if o := owns[k]; o != nil {
				if !o.done {
					// A version fetched before the upstream yanked it is
					// yanked here too.
					o.entry.Yanked = o.entry.Yanked || e.yanked
					body = append(o.entry.AppendJSON(body), '\n')
					o.done = true
				}
				continue
			}
			owns[k] = &own{done: true}
			// A version only the registry lists passes the supply-chain
			// gate first (its pubtime, when the entry has one, is when it
			// was published; else coffer's first sight of it counts).
			if gated && !view.Admit(d.src, e.vers, e.pubtime) {
				continue
			}
			body = append(append(body, e.line...), '\n')
		}
	}
	slices.SortStableFunc(order, func(a, b *own) int { return a.when.Compare(b.when) })
	for _, o := range order {
		if !o.done {
			body = append(o.entry.AppendJSON(body), '\n')
			o.done = true
		}
	}
	if len(body) == 0 {
		if upErr != nil {
			return nil, upErr
		}
		return nil, fault.NotFound("package", name, "no crate named %s in this registry", name)
	}
	sum := sha256.Sum256(body)
	f := &indexFile{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, mod: time.Now().UTC().Truncate(time.Second)}
	h.index.Put(key, fp, f, int64(len(body))+int64(len(key))+64)
	return f, nil
}
