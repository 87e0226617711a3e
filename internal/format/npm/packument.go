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

	"github.com/Masterminds/semver/v3"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/jsonstr"
	"coffer/internal/store"
)

// entry is one version of a merged packument.
type entry struct {
	version   string
	full      string // canonical fragment
	abbrev    string // filled for abbreviated documents
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
		h.WriteString(strconv.Itoa(len(u.doc.Body)))
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
		d.compact()
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
	view, err := h.svc.ViewPackage(ctx, ref, true)
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
	return m.render(rq, abbreviated, ""), nil
}

// merge assembles the versions the repository shows: its own and its
// upstreams' (ViewPackage: first occurrence in search order wins; Unlisted
// ones are left out but still claim their version string), then what the
// external registries list that no stored record claims, and the
// dist-tags, where the most upstream source wins (spec §3.4: a tag set in
// an upstream repository, or by the public registry, shadows the same tag
// downstream) as long as it names a version shown.
func (h *Handler) merge(ctx context.Context, rq *request, n Name, view *artifact.PackageView, ups []*upstreamPackument, abbreviated bool) (*merged, error) {
	m := &merged{name: n, times: map[string]time.Time{}}
	claimed := map[string]bool{}
	for i := range view.Versions {
		v := &view.Versions[i]
		claimed[v.Version.Version] = true
		if v.Status != artifact.StatusPublished {
			continue
		}
		full, err := h.storedFragment(ctx, rq, n, v, false)
		if err != nil {
			return nil, err
		}
		e := &entry{version: v.Version.Version, full: full, published: v.PublishedTime, stored: v}
		if abbreviated {
			if e.abbrev, err = h.storedFragment(ctx, rq, n, v, true); err != nil {
				return nil, err
			}
		}
		m.entries = append(m.entries, e)
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
				m.entries = append(m.entries, &entry{version: ver, full: string(uv.full), abbrev: string(uv.abbrev), published: uv.published, up: uv, upPkg: u})
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
		case e.up.readme != "":
			m.readme = e.up.readme
		default:
			m.readme = e.upPkg.readme
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
// fragments, are derived once per version revision and cached.
func (h *Handler) storedFragment(ctx context.Context, rq *request, n Name, v *artifact.VisibleVersion, abbreviated bool) (string, error) {
	if !abbreviated && canonicalFragment(v.Metadata) {
		return v.Metadata, nil
	}
	kind := "F"
	if abbreviated {
		kind = "A"
	}
	key := kind + "\x00" + rq.t.DomainOwner + "/" + rq.t.Domain + "/" + v.Repository + "\x00" + n.String() + "\x00" + v.Version.Version
	var fph maphash.Hash
	fph.SetSeed(fingerprintSeed)
	fph.WriteString(v.Revision)
	fp := fph.Sum64()
	if b, ok := h.fragments.Get(key, fp); ok {
		return string(b), nil
	}
	full := []byte(v.Metadata)
	if !canonicalFragment(v.Metadata) {
		var err error
		if full, err = h.rebuildFragment(ctx, rq, n, v); err != nil {
			return "", err
		}
	}
	out := full
	if abbreviated {
		var err error
		if out, err = abbreviate(full); err != nil {
			return "", fault.Internal(err, "the stored document of %s@%s is unreadable", n, v.Version.Version)
		}
	}
	h.fragments.Put(key, fp, out, int64(len(out)))
	return string(out), nil
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

// render writes the packument. rev, when set, is the document's _rev (the
// ?write=true document).
func (m *merged) render(rq *request, abbreviated bool, rev string) *document {
	size := 512 + len(m.readme)
	for _, e := range m.entries {
		if abbreviated {
			size += len(e.abbrev)
		} else {
			size += len(e.full) + 48
		}
		size += len(rq.base) + 2*len(m.name.String()) + 2*len(e.version) + 64
	}
	b := make([]byte, 0, size)
	name := m.name.String()
	var versions map[string][2]int
	if abbreviated {
		b = append(b, `{"name":`...)
		b = jsonstr.Append(b, name)
		if !m.modified.IsZero() {
			b = append(b, `,"modified":`...)
			b = jsonstr.Append(b, npmTime(m.modified))
		}
	} else {
		versions = make(map[string][2]int, len(m.entries))
		b = append(b, `{"_id":`...)
		b = jsonstr.Append(b, name)
		if rev != "" {
			b = append(b, `,"_rev":`...)
			b = jsonstr.Append(b, rev)
		}
		b = append(b, `,"name":`...)
		b = jsonstr.Append(b, name)
		if m.latest != nil {
			if d, err := decodeVersionDoc([]byte(m.latest.full)); err == nil {
				for _, k := range topFields {
					if v, ok := d.members[k]; ok {
						b = append(b, ',')
						b = jsonstr.Append(b, k)
						b = append(b, ':')
						b = append(b, v...)
					}
				}
			}
		}
	}
	b = append(b, `,"dist-tags":{`...)
	for i, tag := range slices.Sorted(mapKeys(m.tags)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, tag)
		b = append(b, ':')
		b = jsonstr.Append(b, m.tags[tag])
	}
	b = append(b, `},"versions":{`...)
	for i, e := range m.entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, e.version)
		b = append(b, ':')
		frag := e.full
		if abbreviated {
			frag = e.abbrev
		}
		start := len(b)
		b = appendFragment(b, frag, rq.tarballURL(m.name, e.version))
		if versions != nil {
			versions[e.version] = [2]int{start, len(b)}
		}
	}
	b = append(b, '}')
	if !abbreviated {
		b = append(b, `,"time":{`...)
		if !m.created.IsZero() {
			b = append(b, `"created":`...)
			b = jsonstr.Append(b, npmTime(m.created))
			b = append(b, `,"modified":`...)
			b = jsonstr.Append(b, npmTime(m.modified))
			for _, e := range m.entries {
				if t, ok := m.times[e.version]; ok {
					b = append(b, ',')
					b = jsonstr.Append(b, e.version)
					b = append(b, ':')
					b = jsonstr.Append(b, npmTime(t))
				}
			}
		}
		b = append(b, '}')
		if m.readme != "" {
			b = append(b, `,"readme":`...)
			b = jsonstr.Append(b, m.readme)
		}
	}
	b = append(b, '}')
	ct := MediaJSON
	if abbreviated {
		ct = MediaAbbreviated
	}
	d := newDocument(b, ct)
	d.tags, d.versions = m.tags, versions
	return d
}

// servePackument serves GET/HEAD <name>: the merged packument, abbreviated
// when the client prefers it; with ?write=true the repository's own
// document (what npm deprecate and unpublish edit and send back).
func (h *Handler) servePackument(w http.ResponseWriter, r *http.Request, rq *request, n Name) {
	if !h.authorizeRead(w, r, rq) {
		return
	}
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
func (h *Handler) serveVersion(w http.ResponseWriter, r *http.Request, rq *request, n Name, spec string) {
	if !h.authorizeRead(w, r, rq) {
		return
	}
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
	id, err := d.identityBytes()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	serveDocument(w, r, newDocument(id[span[0]:span[1]], MediaJSON))
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
		full, err := h.storedFragment(ctx, rq, n, v, false)
		if err != nil {
			return nil, err
		}
		e := &entry{version: v.Version.Version, full: full, published: v.PublishedTime, stored: v}
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
		m.latest, m.readme = e, e.stored.Readme
	}
	return m.render(rq, false, revision(p)), nil
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

// revision is a package's _rev: it changes with every change to the
// package, its versions or their assets.
func revision(p *artifact.Package) string {
	return strconv.FormatInt(p.ChangeSeq, 10) + "-" + strconv.FormatInt(p.ID, 16)
}
