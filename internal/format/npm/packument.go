package npm

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/Masterminds/semver/v3"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/jsonstr"
	"coffer/internal/store"
)

// entry is one version of a merged packument.
type entry struct {
	version   string
	published time.Time
	stored    *artifact.VisibleVersion // nil when only the upstream has it
	up        *upstreamVersion
	upPkg     *upstreamPackument
}

// merged is a packument before rendering.
type merged struct {
	name     Name
	entries  []*entry // version order
	tags     map[string]string
	created  time.Time
	modified time.Time
	times    map[string]time.Time
	readme   string
	latest   *entry
	// latestFull is the latest version's full fragment (its members lead
	// the full document).
	latestFull string
	// lazy: the stored versions' Metadata was not read with the view;
	// render reads it in batches (ViewPackageIndex).
	lazy bool
}

var fingerprintSeed = maphash.MakeSeed()

// docFingerprint identifies a document's inputs: the engine's view stamp
// (which changes with any change of a version, an asset, a status, origin
// controls, package metadata, the upstream graph or a package group
// decision) and the identity of each upstream packument.
func docFingerprint(stamp string, ups []upstreamDoc) uint64 {
	var h maphash.Hash
	h.SetSeed(fingerprintSeed)
	h.WriteString(stamp)
	for _, u := range ups {
		h.WriteByte(0)
		h.WriteString(u.doc.URL)
		h.WriteByte(0)
		h.WriteString(u.doc.ETag)
		h.WriteByte(0)
		h.WriteString(u.doc.LastModified)
		h.WriteString(strconv.FormatInt(u.doc.FetchedAt.UnixNano(), 36))
		h.WriteString(strconv.FormatInt(u.doc.Size, 10))
	}
	return h.Sum64()
}

// packument returns the rendered packument of a package as the repository
// shows it (full or abbreviated), from the cache while its inputs are
// unchanged. A hit costs the view stamp and the upstream client's cache
// lookup, whatever the number of versions.
func (h *Handler) packument(ctx context.Context, rq *request, n Name, abbreviated bool) (*document, error) {
	ref := packageRef(rq.t, n)
	stamp, external, err := h.svc.ViewStamp(ctx, ref)
	if err != nil {
		return nil, err
	}
	docs, upErr := h.upstreamDocuments(ctx, external, n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	variant := "full"
	if abbreviated {
		variant = "abbreviated"
	}
	key := rq.t.DomainOwner + "/" + rq.t.Domain + "/" + rq.t.Repository + "\x00" + n.String() + "\x00" + variant + "\x00" + rq.base
	fp := docFingerprint(stamp, docs)
	if d, ok := h.docs.Get(key, fp); ok {
		return d, nil
	}
	// One build per document however many clients ask at once: a build of
	// a big packument holds all its versions in memory for a moment. It
	// runs to its end even if the client that started it leaves, as the
	// others wait for it.
	v, err, _ := h.builds.Do(key+"\x00"+strconv.FormatUint(fp, 16), func() (any, error) {
		if d, ok := h.docs.Get(key, fp); ok {
			return d, nil
		}
		d, err := h.buildPackument(context.WithoutCancel(ctx), rq, n, ref, docs, upErr, abbreviated)
		if err != nil {
			return nil, err
		}
		h.docs.Put(key, fp, d, d.cost())
		h.releaseMemoryAfter(d.size)
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*document), nil
}

// buildPackument renders a packument from what the repository shows now
// (read after the stamp it is cached under, so at least as new) and the
// upstream registries' documents.
func (h *Handler) buildPackument(ctx context.Context, rq *request, n Name, ref artifact.PackageRef, docs []upstreamDoc, upErr error, abbreviated bool) (*document, error) {
	view, err := h.svc.ViewPackageIndex(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	ups, parseErr := h.parseAll(docs)
	if upErr == nil {
		upErr = parseErr
	}
	m, err := h.merge(ctx, rq, n, view, ups, abbreviated)
	if err != nil {
		return nil, err
	}
	if len(m.entries) == 0 {
		if upErr != nil {
			return nil, upErr
		}
		return nil, fault.NotFound("package", n.String(), "No version of %s is available in this repository", n)
	}
	return h.render(ctx, rq, m, abbreviated, "")
}

// merge assembles the versions the repository shows: its own and its
// upstreams' (ViewPackage: first occurrence in search order wins; Unlisted
// ones are left out but still claim their version string), then what the
// external registries list that no stored record claims, and the
// dist-tags, where the most upstream source wins (spec §3.4: a tag set in
// an upstream repository, or by the public registry, shadows the same tag
// downstream) as long as it names a version shown.
//
// Versions the supply-chain gate withholds are not shown (the view leaves
// out the stored ones, Admit decides the registries' ones), so "latest"
// falls back to the newest version shown when the tagged one is withheld.
func (h *Handler) merge(ctx context.Context, rq *request, n Name, view *artifact.PackageView, ups []parsedPackument, abbreviated bool) (*merged, error) {
	m := &merged{name: n, times: map[string]time.Time{}, lazy: true}
	claimed := map[string]bool{}
	for i := range view.Versions {
		v := &view.Versions[i]
		claimed[v.Version.Version] = true
		if v.Status != artifact.StatusPublished {
			continue
		}
		m.entries = append(m.entries, &entry{version: v.Version.Version, published: v.PublishedTime, stored: v})
	}
	if len(ups) > 0 {
		// Versions a stored record keeps from being read through the
		// connection are not taken from the registry's document either.
		hidden := map[string]bool{}
		for _, v := range view.Withheld {
			hidden[v] = true
		}
		upstreamTime := map[string]time.Time{}
		for _, u := range ups {
			for _, ver := range slices.Sorted(mapKeys(u.versions)) {
				uv := u.versions[ver]
				if _, ok := upstreamTime[ver]; !ok && !uv.published.IsZero() {
					upstreamTime[ver] = uv.published
				}
				if claimed[ver] || hidden[ver] {
					continue
				}
				claimed[ver] = true
				if !view.Admit(u.src, ver, uv.published) {
					continue
				}
				m.entries = append(m.entries, &entry{version: ver, published: uv.published, up: uv, upPkg: u.upstreamPackument})
			}
		}
		// An ingested version keeps the time the registry published it.
		for _, e := range m.entries {
			if e.stored != nil && e.stored.OriginType == artifact.OriginExternal {
				if t, ok := upstreamTime[e.version]; ok {
					e.published = t
				}
			}
		}
	}
	sortEntries(m.entries)
	shown := map[string]*entry{}
	for _, e := range m.entries {
		shown[e.version] = e
		if e.published.IsZero() {
			continue
		}
		m.times[e.version] = e.published
		if m.created.IsZero() || e.published.Before(m.created) {
			m.created = e.published
		}
		if e.published.After(m.modified) {
			m.modified = e.published
		}
	}
	// Most upstream first: the external registries (the last one in
	// search order is the farthest), then the repositories from the end
	// of the search order back to the requested one.
	var sources []map[string]string
	for i := len(ups) - 1; i >= 0; i-- {
		sources = append(sources, ups[i].tags)
	}
	for i := len(view.Metadata) - 1; i >= 0; i-- {
		sources = append(sources, artifact.ParseNpmPackageMetadata(view.Metadata[i].Metadata).DistTags)
	}
	m.tags = mergeTags(sources, func(v string) bool { return shown[v] != nil })
	if len(m.entries) > 0 {
		if _, ok := m.tags["latest"]; !ok {
			m.tags["latest"] = fallbackLatest(m.entries)
		}
		m.latest = shown[m.tags["latest"]]
		switch e := m.latest; {
		case e.stored != nil:
			// Views carry no readmes; the latest version's is read alone.
			ref := packageRef(rq.t, n)
			ref.Repository = e.stored.Repository
			v, err := h.svc.DescribePackageVersion(ctx, artifact.VersionRef{PackageRef: ref, Version: e.version})
			if err != nil {
				return nil, err
			}
			m.readme = v.Readme
			if !abbreviated {
				vv := &artifact.VisibleVersion{Version: v.Version, Repository: e.stored.Repository}
				if m.latestFull, err = h.storedFragment(ctx, rq, n, vv, false, true); err != nil {
					return nil, err
				}
			}
		default:
			r := e.upPkg.reader()
			m.readme = r.text(e.up.readme)
			if m.readme == "" {
				m.readme = r.text(e.upPkg.readme)
			}
			m.latestFull = r.text(e.up.full)
		}
	}
	return m, nil
}

// sortEntries orders entries by version (compareVersions's order),
// parsing each version once.
func sortEntries(entries []*entry) {
	type keyed struct {
		e  *entry
		v  *semver.Version
		ok bool
	}
	ks := make([]keyed, len(entries))
	for i, e := range entries {
		v, ok := parseVersion(e.version)
		ks[i] = keyed{e, v, ok}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		switch {
		case a.ok && b.ok:
			if c := a.v.Compare(b.v); c != 0 {
				return c
			}
		case a.ok:
			return 1
		case b.ok:
			return -1
		}
		return strings.Compare(a.e.version, b.e.version)
	})
	for i := range ks {
		entries[i] = ks[i].e
	}
}

// mergeTags merges dist-tag sources given most upstream first: the first
// source that sets a tag to a version shown decides it.
func mergeTags(sources []map[string]string, shown func(string) bool) map[string]string {
	tags := map[string]string{}
	for _, src := range sources {
		for tag, v := range src {
			if _, ok := tags[tag]; !ok && shown(v) {
				tags[tag] = v
			}
		}
	}
	return tags
}

// fallbackLatest is the "latest" of a packument that no source tags: the
// highest release, or the highest version when all are prereleases.
// entries are in version order.
func fallbackLatest(entries []*entry) string {
	for i := len(entries) - 1; i >= 0; i-- {
		if v, ok := parseVersion(entries[i].version); ok && v.Prerelease() == "" {
			return entries[i].version
		}
	}
	return entries[len(entries)-1].version
}

// storedFragment returns a stored version's canonical fragment, full or
// abbreviated. A full fragment is the version's Metadata itself when it is
// in canonical form (what coffer writes); anything else, and abbreviated
// fragments, are derived once per version revision and cached if keep.
func (h *Handler) storedFragment(ctx context.Context, rq *request, n Name, v *artifact.VisibleVersion, abbreviated, keep bool) (string, error) {
	if !abbreviated && canonicalFragment(v.Metadata) {
		return v.Metadata, nil
	}
	key, fp := fragmentKey(rq, n, v, abbreviated)
	if f, ok := h.fragments.Get(key, fp); ok {
		return f, nil
	}
	full := v.Metadata
	if !canonicalFragment(full) {
		b, err := h.rebuildFragment(ctx, rq, n, v)
		if err != nil {
			return "", err
		}
		full = string(b)
	}
	f := full
	if abbreviated {
		out, err := abbreviate(full)
		if err != nil {
			return "", fault.Internal(err, "the stored document of %s@%s is unreadable", n, v.Version.Version)
		}
		// out is this call's own and never changes: it becomes the string
		// without a copy (a build of thousands of versions makes one each).
		f = unsafe.String(unsafe.SliceData(out), len(out))
	}
	if keep {
		h.fragments.Put(key, fp, f, int64(len(f)))
	}
	return f, nil
}

// fragmentKey is the cache key and fingerprint of a derived fragment.
func fragmentKey(rq *request, n Name, v *artifact.VisibleVersion, abbreviated bool) (string, uint64) {
	kind := "F"
	if abbreviated {
		kind = "A"
	}
	key := kind + "\x00" + rq.t.DomainOwner + "/" + rq.t.Domain + "/" + v.Repository + "\x00" + n.String() + "\x00" + v.Version.Version
	var fph maphash.Hash
	fph.SetSeed(fingerprintSeed)
	fph.WriteString(v.Revision)
	return key, fph.Sum64()
}

// cachedAbbreviation returns a stored version's abbreviated fragment when
// it is cached, so that a build need not read the version's Metadata.
func (h *Handler) cachedAbbreviation(rq *request, n Name, v *artifact.VisibleVersion) (string, bool) {
	return h.fragments.Get(fragmentKey(rq, n, v, true))
}

// rebuildFragment makes a canonical fragment for a stored version whose
// Metadata is not one (written by something else than this protocol): its
// document as far as it can be read, name and version set, and dist from
// the digests of its tarball.
func (h *Handler) rebuildFragment(ctx context.Context, rq *request, n Name, v *artifact.VisibleVersion) ([]byte, error) {
	d, err := decodeVersionDoc([]byte(v.Metadata))
	if err != nil {
		d = &versionDoc{members: map[string]json.RawMessage{}, dist: map[string]json.RawMessage{}}
	}
	d.takeReadme()
	setStr(d.members, "name", n.String())
	setStr(d.members, "version", v.Version.Version)
	if str(d.dist, "integrity") == "" && str(d.dist, "shasum") == "" {
		ref := artifact.VersionRef{PackageRef: packageRefIn(rq.t, v.Repository, n), Version: v.Version.Version}
		if a, err := h.assetOf(ctx, ref); err == nil {
			setStr(d.dist, "integrity", sriSHA512(a.Blob.SHA512))
			setStr(d.dist, "shasum", a.Blob.SHA1)
		} else if fault.KindOf(err) != fault.KindNotFound {
			return nil, err
		}
	}
	return d.encode()
}

// assetOf returns the tarball asset of a stored version.
func (h *Handler) assetOf(ctx context.Context, ref artifact.VersionRef) (*store.Asset, error) {
	l, err := h.svc.ListPackageVersionAssets(ctx, ref, artifact.PageRequest{})
	if err != nil {
		return nil, err
	}
	for i := range l.Assets {
		if l.Assets[i].Name == assetName {
			return &l.Assets[i], nil
		}
	}
	return nil, fault.NotFound("asset", assetName, "%s has no %s", ref.Version, assetName)
}

// topFields are copied to the top of a full packument from the version
// "latest" names, as the public registry does.
var topFields = []string{"description", "homepage", "keywords", "repository", "author", "bugs", "license", "maintainers"}

// renderBatch is how many stored versions' Metadata a render reads at
// once: enough to make the reads cheap, few enough to keep a packument of
// thousands of versions out of memory.
const renderBatch = 64

// render writes the packument. rev, when set, is the document's _rev (the
// ?write=true document). A lazy document's stored versions are read in
// batches as they are written.
func (h *Handler) render(ctx context.Context, rq *request, m *merged, abbreviated bool, rev string) (*document, error) {
	w := &docWriter{b: make([]byte, 0, 64<<10)}
	name := m.name.String()
	var versions map[string][2]int
	if abbreviated {
		w.b = append(w.b, `{"name":`...)
		w.b = jsonstr.Append(w.b, name)
		if !m.modified.IsZero() {
			w.b = append(w.b, `,"modified":`...)
			w.b = jsonstr.Append(w.b, npmTime(m.modified))
		}
	} else {
		versions = make(map[string][2]int, len(m.entries))
		w.b = append(w.b, `{"_id":`...)
		w.b = jsonstr.Append(w.b, name)
		if rev != "" {
			w.b = append(w.b, `,"_rev":`...)
			w.b = jsonstr.Append(w.b, rev)
		}
		w.b = append(w.b, `,"name":`...)
		w.b = jsonstr.Append(w.b, name)
		if m.latestFull != "" {
			if d, err := decodeVersionDoc([]byte(m.latestFull)); err == nil {
				for _, k := range topFields {
					if v, ok := d.members[k]; ok {
						w.b = append(w.b, ',')
						w.b = jsonstr.Append(w.b, k)
						w.b = append(w.b, ':')
						w.b = append(w.b, v...)
					}
				}
			}
		}
	}
	w.b = append(w.b, `,"dist-tags":{`...)
	for i, tag := range slices.Sorted(mapKeys(m.tags)) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = jsonstr.Append(w.b, tag)
		w.b = append(w.b, ':')
		w.b = jsonstr.Append(w.b, m.tags[tag])
	}
	w.b = append(w.b, `},"versions":{`...)
	written := map[string]bool{}
	for batch := range slices.Chunk(m.entries, renderBatch) {
		frags, err := h.batchFragments(ctx, rq, m, batch, abbreviated)
		if err != nil {
			return nil, err
		}
		for i, e := range batch {
			if frags[i] == "" {
				continue // deleted since the view was read
			}
			if len(written) > 0 {
				w.b = append(w.b, ',')
			}
			written[e.version] = true
			w.b = jsonstr.Append(w.b, e.version)
			w.b = append(w.b, ':')
			start := w.offset()
			w.b = appendFragment(w.b, frags[i], rq.tarballURL(m.name, e.version))
			if versions != nil {
				versions[e.version] = [2]int{start, w.offset()}
			}
			w.checkpoint()
		}
	}
	w.b = append(w.b, '}')
	if !abbreviated {
		w.b = append(w.b, `,"time":{`...)
		if !m.created.IsZero() {
			w.b = append(w.b, `"created":`...)
			w.b = jsonstr.Append(w.b, npmTime(m.created))
			w.b = append(w.b, `,"modified":`...)
			w.b = jsonstr.Append(w.b, npmTime(m.modified))
			for _, e := range m.entries {
				if t, ok := m.times[e.version]; ok && written[e.version] {
					w.b = append(w.b, ',')
					w.b = jsonstr.Append(w.b, e.version)
					w.b = append(w.b, ':')
					w.b = jsonstr.Append(w.b, npmTime(t))
				}
			}
		}
		w.b = append(w.b, '}')
		if m.readme != "" {
			w.b = append(w.b, `,"readme":`...)
			w.b = jsonstr.Append(w.b, m.readme)
		}
	}
	w.b = append(w.b, '}')
	ct := MediaJSON
	if abbreviated {
		ct = MediaAbbreviated
	}
	d := w.document(ct)
	d.tags, d.versions = m.tags, versions
	return d, nil
}

// batchFragments returns the fragments of a batch of entries, "" for a stored
// version deleted since the view was read. Only the batch's fragments are
// copied out of the upstream documents and read from the store at once. The Metadata of a lazy
// document's stored versions is read here, for this batch only, and not
// for versions whose abbreviated fragment is cached.
func (h *Handler) batchFragments(ctx context.Context, rq *request, m *merged, batch []*entry, abbreviated bool) ([]string, error) {
	out := make([]string, len(batch))
	var ids []int64
	// Upstream fragments are read from their packument's compressed
	// arena, one reader per packument (entries in version order are
	// mostly in the arena's order: a block is decoded once).
	readers := map[*upstreamPackument]*packedReader{}
	for i, e := range batch {
		switch {
		case e.stored == nil:
			r := readers[e.upPkg]
			if r == nil {
				r = e.upPkg.reader()
				readers[e.upPkg] = r
			}
			full, err := r.get(e.up.full)
			if err != nil {
				return nil, fault.Internal(err, "the upstream document of %s@%s is unreadable", m.name, e.version)
			}
			if !abbreviated {
				out[i] = string(full)
				continue
			}
			abbrev, err := abbreviate(string(full))
			if err != nil {
				return nil, fault.Internal(err, "the upstream document of %s@%s is unreadable", m.name, e.version)
			}
			out[i] = string(abbrev)
		case !m.lazy:
		case abbreviated && keepFragments(m):
			if f, ok := h.cachedAbbreviation(rq, m.name, e.stored); ok {
				out[i] = f
				continue
			}
			fallthrough
		default:
			ids = append(ids, e.stored.ID)
		}
	}
	var metadata map[int64]string
	if len(ids) > 0 {
		var err error
		if metadata, err = h.svc.VersionsMetadata(ctx, ids); err != nil {
			return nil, err
		}
	}
	for i, e := range batch {
		if e.stored == nil || out[i] != "" {
			continue
		}
		v := e.stored
		if m.lazy {
			md, ok := metadata[v.ID]
			if !ok {
				continue
			}
			withMetadata := *v // the view keeps no Metadata past this batch
			withMetadata.Metadata = md
			v = &withMetadata
		}
		f, err := h.storedFragment(ctx, rq, m.name, v, abbreviated, keepFragments(m))
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// keepFragmentsUpTo is the number of versions above which a packument's
// derived fragments are not cached: the rendered document is, in a fraction
// of their size (a 3,800-version package's abbreviated fragments take 10 MB,
// its gzip-encoded document 4 MB), and a rebuild, once per change, may read
// the versions again.
const keepFragmentsUpTo = 1000

func keepFragments(m *merged) bool { return len(m.entries) <= keepFragmentsUpTo }

// servePackument serves GET/HEAD <name>: the merged packument, abbreviated
// when the client prefers it; with ?write=true the repository's own
// document (what npm deprecate and unpublish edit and send back).
func (h *Handler) servePackument(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	if r.URL.Query().Get("write") == "true" {
		d, err := h.writeDocument(r.Context(), rq, n)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		serveDocument(w, r, d)
		return
	}
	d, err := h.packument(r.Context(), rq, n, wantsAbbreviated(r.Header.Get("Accept")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	serveDocument(w, r, d)
}

// serveVersion serves GET/HEAD <name>/<version|dist-tag>: one version's
// document, cut out of the full packument.
func (h *Handler) serveVersion(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	spec := c.Param("version")
	d, err := h.packument(r.Context(), rq, n, false)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	version := spec
	if v, ok := d.tags[spec]; ok {
		version = v
	}
	span, ok := d.versions[version]
	if !ok {
		h.writeError(w, r, fault.NotFound("package-version", spec, "version not found: %s@%s", n, spec))
		return
	}
	doc, err := d.span(span[0], span[1])
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	serveDocument(w, r, newDocument(doc, MediaJSON))
}

// writeDocument renders the repository's own packument, uncached: every
// version it stores whatever its status (npm unpublish deletes the whole
// package when this document lists one version only, so none may be
// hidden), its own dist-tags, and a _rev that the -rev routes check.
func (h *Handler) writeDocument(ctx context.Context, rq *request, n Name) (*document, error) {
	p, versions, err := h.ownVersions(ctx, rq, n)
	if err != nil {
		return nil, err
	}
	m := &merged{name: n, times: map[string]time.Time{}}
	shown := map[string]*entry{}
	for i := range versions {
		v := &artifact.VisibleVersion{Version: versions[i], Repository: rq.t.Repository}
		e := &entry{version: v.Version.Version, published: v.PublishedTime, stored: v}
		m.entries = append(m.entries, e)
		shown[e.version] = e
		if !e.published.IsZero() {
			m.times[e.version] = e.published
			if m.created.IsZero() || e.published.Before(m.created) {
				m.created = e.published
			}
			if e.published.After(m.modified) {
				m.modified = e.published
			}
		}
	}
	sortEntries(m.entries)
	m.tags = mergeTags([]map[string]string{artifact.ParseNpmPackageMetadata(p.Metadata).DistTags}, func(v string) bool { return shown[v] != nil })
	if e := shown[m.tags["latest"]]; e != nil {
		full, err := h.storedFragment(ctx, rq, n, e.stored, false, true)
		if err != nil {
			return nil, err
		}
		m.latest, m.latestFull, m.readme = e, full, e.stored.Readme
	}
	return h.render(ctx, rq, m, false, revision(p))
}

// ownVersions returns the repository's package and every version it
// stores.
func (h *Handler) ownVersions(ctx context.Context, rq *request, n Name) (*artifact.Package, []store.Version, error) {
	ref := packageRef(rq.t, n)
	p, err := h.svc.DescribePackage(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	var out []store.Version
	after := ""
	for {
		l, err := h.svc.ListPackageVersions(ctx, ref, artifact.VersionFilter{}, artifact.PageRequest{After: after, Max: 1000})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, l.Versions...)
		if l.Next == "" {
			return p, out, nil
		}
		after = l.Next
	}
}

// revision is a package's _rev (artifact.Package.Revision, which the -rev
// routes' UpdatePackage checks).
func revision(p *artifact.Package) string {
	return p.Revision()
}
