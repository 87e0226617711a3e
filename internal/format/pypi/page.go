package pypi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/upstream"
)

// renderedPage is a project page in both representations, with their
// ETags.
type renderedPage struct {
	html, json         []byte
	htmlETag, jsonETag string
	modTime            time.Time
	// page is set, and html and json are not, for a page of more than
	// maxRenderedFiles: it is rendered as it is served, and not cached.
	page *ProjectPage
}

// maxRenderedFiles is the most files a page kept rendered (in both
// representations, about 700 bytes a file) may have: bigger pages (a huge
// upstream page) are rendered as they are served, and their parse is
// dropped after the request.
const maxRenderedFiles = 20000

func etag(b []byte) string {
	s := sha256.Sum256(b)
	return `"` + hex.EncodeToString(s[:16]) + `"`
}

// serveProject serves simple/<project>/ in the negotiated representation.
func (h *Handler) serveProject(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t, project := c.Target, c.Param("project")
	if !ValidName(project) {
		return fault.NotFound("project", project, "not found")
	}
	if norm := NormalizeName(project); norm != project || !strings.HasSuffix(c.Target.Path, "/") {
		redirect(w, r, t, "simple/"+norm+"/")
		return nil
	}
	media, ok := negotiateRequest(r)
	if !ok {
		http.Error(w, "acceptable representations: "+MediaJSON+", "+MediaHTML+", "+MediaTextHTML, http.StatusNotAcceptable)
		return nil
	}
	p, err := h.projectPage(r.Context(), t, project)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", ContentType(media))
	hd.Set("Vary", "Accept")
	hd.Set("Cache-Control", "max-age=0, must-revalidate")
	if p.page != nil {
		h.streamPage(w, r, p, media)
		return nil
	}
	body, tag := p.html, p.htmlETag
	if media == MediaJSON {
		body, tag = p.json, p.jsonETag
	}
	hd.Set("ETag", tag)
	http.ServeContent(w, r, "", p.modTime, bytes.NewReader(body))
	return nil
}

// streamPage serves a page too big to be kept rendered: it is rendered
// twice, a chunk at a time, first for its ETag, then to the client.
func (h *Handler) streamPage(w http.ResponseWriter, r *http.Request, p *renderedPage, media string) {
	sum := sha256.New()
	p.page.render(media, sum)
	tag := `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`
	hd := w.Header()
	hd.Set("ETag", tag)
	if !p.modTime.IsZero() {
		hd.Set("Last-Modified", p.modTime.UTC().Format(http.TimeFormat))
	}
	if etagMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	if _, err := p.page.render(media, w); err != nil {
		h.log.Debug("serving a simple page failed", "project", p.page.Name, "err", err)
	}
}

// etagMatch reports whether an If-None-Match header matches tag (weakly).
func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// negotiateRequest reads the representation from ?format= (as PyPI
// allows) or else the Accept header.
func negotiateRequest(r *http.Request) (string, bool) {
	if f := r.URL.Query().Get("format"); f != "" {
		return Negotiate(f)
	}
	return Negotiate(r.Header.Get("Accept"))
}

// projectPage returns the rendered page of a project: what the repository
// shows (its versions and its upstreams', Published and Unlisted, see
// ViewPackage) merged with what the allowed public:pypi connection lists.
// The rendered page is cached per repository and project under a
// fingerprint of its inputs, so that a hit costs the view and one hash
// pass over its versions, whatever the number of files.
func (h *Handler) projectPage(ctx context.Context, t *format.Target, project string) (*renderedPage, error) {
	ref := packageRef(t, project)
	var view *artifact.PackageView
	var external []artifact.ExternalSource
	var stamp string
	var err error
	st, stamped := h.svc.(viewStamper)
	if stamped {
		stamp, external, err = st.ViewStamp(ctx, ref)
	} else {
		view, err = h.svc.ViewPackage(ctx, ref, true)
		if err == nil {
			external = view.External
		}
	}
	if err != nil {
		return nil, err
	}
	ups, upErr := h.upstreamPages(ctx, external, project)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var fp uint64
	if stamped {
		fp = format.StampFingerprint(stamp, ups, func(u *parsedUpstream) *upstream.Document { return u.doc })
	} else {
		fp = pageFingerprint(view, ups)
	}
	key := format.CacheKey(t, project)
	if p, ok := h.pages.Get(key, fp); ok {
		return p, nil
	}
	if view == nil {
		// Read after the stamp: the page is at least as new as the stamp
		// it is cached under.
		if view, err = h.svc.ViewPackage(ctx, ref, true); err != nil {
			return nil, err
		}
	}
	page, err := h.buildPage(ctx, t, project, view, ups)
	if err != nil {
		return nil, err
	}
	if page.Len() == 0 && upErr != nil {
		return nil, upErr
	}
	if page.Len() == 0 && len(view.Versions) == 0 {
		return nil, fault.NotFound("package", project, "No distributions of %s in this repository", project)
	}
	rp := &renderedPage{}
	for i := range page.Len() {
		if t := page.uploadTime(i); t.After(rp.modTime) {
			rp.modTime = t
		}
	}
	rp.modTime = rp.modTime.Truncate(time.Second)
	if page.Len() > maxRenderedFiles {
		rp.page = page
		return rp, nil
	}
	rp.html, rp.json = page.RenderHTML(), page.RenderJSON()
	rp.htmlETag, rp.jsonETag = etag(rp.html), etag(rp.json)
	h.pages.Put(key, fp, rp, int64(len(rp.html)+len(rp.json)))
	return rp, nil
}

var fingerprintSeed = maphash.MakeSeed()

// viewStamper is implemented by an engine that fingerprints what
// ViewPackage would show without reading the versions (the stamp changes
// with any change of a version, an asset, a status, origin controls, the
// upstream graph or a package group decision). With it, a cache hit costs
// no version reads at all; without it, the view is read and hashed.
type viewStamper interface {
	ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error)
}

// The service has it: a change of its signature must not silently turn
// the fast path off.
var _ viewStamper = (*artifact.Service)(nil)

// pageFingerprint identifies the inputs of a page: the view
// (PackageView.Fingerprint) and the upstream documents.
func pageFingerprint(view *artifact.PackageView, ups []*parsedUpstream) uint64 {
	var h maphash.Hash
	h.SetSeed(fingerprintSeed)
	view.Fingerprint(&h)
	for _, u := range ups {
		u.doc.Fingerprint(&h)
	}
	return h.Sum64()
}

// versionMeta is the PyPI part of a version's Metadata (JSON).
type versionMeta struct {
	// RequiresPython is the release's Requires-Python (its first file's).
	RequiresPython  string `json:"requiresPython,omitempty"`
	DescriptionType string `json:"descriptionContentType,omitempty"`
	// Files holds what differs for single files: another Requires-Python,
	// or a yank that the upstream index reported.
	Files map[string]fileMeta `json:"files,omitempty"`
}

type fileMeta struct {
	RequiresPython *string `json:"requiresPython,omitempty"`
	Yanked         *string `json:"yanked,omitempty"`
}

func parseVersionMeta(s string) versionMeta {
	var m versionMeta
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

func (m versionMeta) encode() string {
	if m.RequiresPython == "" && m.DescriptionType == "" && len(m.Files) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// unlistedReason is the PEP 592 yank reason of an Unlisted version's files.
const unlistedReason = "Unlisted"

// buildPage merges the stored versions' files and the upstream's. The
// upstream files are not copied: the page refers to the parsed upstream
// pages' entries (pageRef), and keeps one version string per release.
func (h *Handler) buildPage(ctx context.Context, t *format.Target, project string, view *artifact.PackageView, ups []*parsedUpstream) (*ProjectPage, error) {
	page := &ProjectPage{Name: project, sized: true}
	listed := map[string]bool{} // the stored files
	type rel struct {
		order   string // Version.order
		version string // on the page
		stored  bool
	}
	var rels []rel
	release := map[string]int32{} // Version.order -> index in rels
	relOf := func(pv Version, version string, stored bool) int32 {
		o := pv.order()
		if i, ok := release[o]; ok {
			r := &rels[i]
			if !stored && !r.stored && len(version) < len(r.version) {
				r.version = version
			}
			return i
		}
		release[o] = int32(len(rels))
		rels = append(rels, rel{order: o, version: version, stored: stored})
		return int32(len(rels) - 1)
	}
	upstreamEntry := func(name string) *UpstreamFile {
		for _, u := range ups {
			if e, ok := u.page.File(name); ok {
				return e
			}
		}
		return nil
	}
	for i := range view.Versions {
		v := &view.Versions[i]
		files, err := h.storedFiles(ctx, t, project, v)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			continue
		}
		pv, _ := ParseVersion(v.Version.Version)
		ri := relOf(pv, v.Version.Version, true)
		vm := parseVersionMeta(v.Metadata)
		for _, sf := range files {
			if listed[sf.name] {
				continue
			}
			listed[sf.name] = true
			pf := PageFile{Filename: sf.name, URL: fileURL(project, v.Version.Version, sf.name),
				Hashes: Hashes{SHA256: sf.sha256}, RequiresPython: vm.RequiresPython,
				Size: sf.size, UploadTime: sf.created}
			fm := vm.Files[sf.name]
			if fm.RequiresPython != nil {
				pf.RequiresPython = *fm.RequiresPython
			}
			e := upstreamEntry(sf.name)
			if pf.RequiresPython == "" && e != nil {
				pf.RequiresPython = e.RequiresPython
			}
			switch {
			case v.Status == artifact.StatusUnlisted:
				reason := unlistedReason
				pf.Yanked = &reason
			case e != nil: // the upstream's current word
				pf.Yanked = e.Yanked
			case fm.Yanked != nil: // what it said when the file was ingested
				pf.Yanked = fm.Yanked
			}
			if sf.metaSHA256 != "" {
				pf.CoreMetadata = &Hashes{SHA256: sf.metaSHA256}
			} else if e != nil && e.CoreMetadata != nil {
				pf.CoreMetadata = e.CoreMetadata
			}
			if pf.Size < 0 {
				page.sized = false
			}
			page.refs = append(page.refs, pageRef{up: -1, idx: int32(len(page.stored)), rel: ri})
			page.stored = append(page.stored, pf)
		}
	}
	// Files only the upstream has yet. Their version on the page is the
	// stored release they belong to, or the shortest spelling among them.
	// A release a stored record keeps from being fetched (view.Withheld)
	// is not offered.
	withheld := map[string]bool{}
	for _, v := range view.Withheld {
		if pv, ok := ParseVersion(v); ok {
			withheld[pv.order()] = true
		}
	}
	if view.Gated() {
		gateReleases(view, project, ups, listed, withheld)
	}
	for ui, u := range ups {
		page.ups = append(page.ups, u.page)
		for i := range u.page.Len() {
			name := u.page.name(i)
			if listed[name] || u.page.lookup(name) != i {
				continue // stored, or listed before on this page
			}
			seen := false
			for _, o := range ups[:ui] {
				if o.page.lookup(name) >= 0 {
					seen = true // listed (or refused) for an earlier upstream
					break
				}
			}
			if seen {
				continue
			}
			f, ok := ParseFileName(name, project)
			if !ok {
				continue
			}
			pv, ok := ParseVersion(f.Version)
			if !ok {
				continue
			}
			if len(withheld) > 0 && withheld[pv.order()] {
				continue
			}
			ri := relOf(pv, pv.String(), false)
			if u.page.entry(i).size < 0 {
				page.sized = false
			}
			page.refs = append(page.refs, pageRef{up: int32(ui), idx: int32(i), rel: ri})
		}
	}
	// Releases in version order; files by release, then name.
	order := make([]int32, len(rels))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(rels[a].order, rels[b].order) })
	rank := make([]int32, len(rels))
	page.releases = make([]string, len(rels))
	for r, i := range order {
		rank[i] = int32(r)
		page.releases[r] = rels[i].version
	}
	rels, release, order = nil, nil, nil
	for i := range page.refs {
		page.refs[i].rel = rank[page.refs[i].rel]
	}
	name := func(r pageRef) string {
		if r.up < 0 {
			return page.stored[r.idx].Filename
		}
		return page.ups[r.up].name(int(r.idx))
	}
	slices.SortFunc(page.refs, func(a, b pageRef) int {
		if a.rel != b.rel {
			return int(a.rel) - int(b.rel)
		}
		return strings.Compare(name(a), name(b))
	})
	for i, r := range page.refs {
		if i == 0 || r.rel != page.refs[i-1].rel {
			page.Versions = append(page.Versions, page.releases[r.rel])
		}
	}
	if page.refs == nil {
		page.refs = []pageRef{}
	}
	return page, nil
}

// uploadTime is the upload time of the i-th file of a merged page.
func (p *ProjectPage) uploadTime(i int) time.Time {
	r := p.refs[i]
	if r.up < 0 {
		return p.stored[r.idx].UploadTime
	}
	e := p.ups[r.up].entry(int(r.idx))
	if e.flags&entryTime == 0 {
		return time.Time{}
	}
	return time.Unix(e.sec, int64(e.nsec))
}

// storedFile is a distribution file of a stored version.
type storedFile struct {
	name       string
	sha256     string
	size       int64
	created    time.Time
	metaSHA256 string // its .metadata asset's, "" when none
}

// storedFiles lists the distribution files of a stored version from its
// assets, cached per version revision: a new asset changes the revision.
func (h *Handler) storedFiles(ctx context.Context, t *format.Target, project string, v *artifact.VisibleVersion) ([]storedFile, error) {
	key := t.DomainOwner + "/" + t.Domain + "/" + v.Repository + "\x00" + project + "\x00" + v.Version.Version
	var fp maphash.Hash
	fp.SetSeed(fingerprintSeed)
	fp.WriteString(v.Revision)
	sum := fp.Sum64()
	if files, ok := h.fragments.Get(key, sum); ok {
		return files, nil
	}
	ref := artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: t.RepoIn(v.Repository), Format: artifact.FormatPypi, Package: project}, Version: v.Version.Version}
	var files []storedFile
	metas := map[string]string{}
	after := ""
	for {
		l, err := h.svc.ListPackageVersionAssets(ctx, ref, artifact.PageRequest{After: after, Max: 1000})
		if err != nil {
			if fault.KindOf(err) == fault.KindNotFound {
				return nil, nil // deleted since the view was taken
			}
			return nil, err
		}
		for _, a := range l.Assets {
			if base, ok := strings.CutSuffix(a.Name, metadataSuffix); ok {
				metas[base] = a.Blob.SHA256
				continue
			}
			if _, ok := ParseFileName(a.Name, project); ok {
				files = append(files, storedFile{name: a.Name, sha256: a.Blob.SHA256, size: a.Blob.Size, created: a.CreatedTime})
			}
		}
		if l.Next == "" {
			break
		}
		after = l.Next
	}
	cost := int64(0)
	for i := range files {
		files[i].metaSHA256 = metas[files[i].name]
		cost += int64(len(files[i].name)) + 200
	}
	h.fragments.Put(key, sum, files, cost)
	return files, nil
}

// parsedUpstream is an upstream page document and its parse.
type parsedUpstream struct {
	doc  *upstream.Document
	page *UpstreamPage
	src  artifact.ExternalSource
}

// gateReleases adds to withheld the releases only the upstreams list that
// the supply-chain gate refuses. A release counts as published when its
// first file was uploaded (PEP 700's upload-time; a page without it
// leaves the time to coffer's first sight), and is decided for the first
// upstream that lists it, as its files are taken.
func gateReleases(view *artifact.PackageView, project string, ups []*parsedUpstream, listed, withheld map[string]bool) {
	type release struct {
		version string
		src     artifact.ExternalSource
		first   time.Time
		timed   bool // every file has an upload time
	}
	rels := map[string]*release{}
	var order []string
	for _, u := range ups {
		for i := range u.page.Len() {
			name := u.page.name(i)
			if listed[name] {
				continue
			}
			f, ok := ParseFileName(name, project)
			if !ok {
				continue
			}
			pv, ok := ParseVersion(f.Version)
			if !ok {
				continue
			}
			o := pv.order()
			if withheld[o] {
				continue
			}
			r := rels[o]
			if r == nil {
				r = &release{version: pv.String(), src: u.src, timed: true}
				rels[o] = r
				order = append(order, o)
			}
			t := u.page.uploaded(i)
			switch {
			case t.IsZero():
				r.timed = false
			case r.first.IsZero() || t.Before(r.first):
				r.first = t
			}
		}
	}
	for _, o := range order {
		r := rels[o]
		published := r.first
		if !r.timed {
			published = time.Time{} // fail closed: a file without a time may be new
		}
		if !view.Admit(r.src, r.version, published) {
			withheld[o] = true
		}
	}
}

// upstreamAccept asks an upstream index for PEP 691 JSON first and PEP 503
// HTML otherwise.
const upstreamAccept = MediaJSON + ", " + MediaHTML + ";q=0.2, " + MediaTextHTML + ";q=0.01"

// simpleBase is the URL of the simple index of an external connection's
// base URL: "<base>simple/", or the base itself when it already is a
// simple index (ends in "/simple/").
func simpleBase(base string) string {
	if strings.HasSuffix(base, "/simple/") {
		return base
	}
	return base + "simple/"
}

// upstreamPage reads a project's page from an external connection, through
// the upstream client's revalidating cache; its parse is cached per
// document.
func (h *Handler) upstreamPage(ctx context.Context, src artifact.ExternalSource, project string) (*parsedUpstream, error) {
	u := simpleBase(src.BaseURL) + url.PathEscape(project) + "/"
	res, err := h.up.Get(ctx, u, upstream.WithHeader("Accept", upstreamAccept), upstream.WithDecode("pypi-page", decodePage))
	if err != nil {
		return nil, err
	}
	if res.Freshness == upstream.Stale {
		h.log.Warn("serving a stale upstream simple page", "url", u, "err", res.Err)
	}
	page, ok := res.Value.(*UpstreamPage)
	if !ok {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "the upstream simple page " + u + " is unreadable"}
	}
	return &parsedUpstream{doc: res.Document, page: page, src: src}, nil
}

// decodePage is the upstream client's decoder of simple pages: the page
// is parsed as it is read and only its parse is kept (cached with the
// document by the upstream client).
func decodePage(body io.Reader, d *upstream.Document) (any, int64, error) {
	page, err := readUpstreamPage(body, d.ContentType, d.URL)
	if err != nil {
		return nil, 0, err
	}
	return page, page.cost(), nil
}

// upstreamPages reads the pages of every external source (once per URL). A
// failing upstream never hides what is stored: its error is returned
// beside the pages that could be read.
func (h *Handler) upstreamPages(ctx context.Context, srcs []artifact.ExternalSource, project string) ([]*parsedUpstream, error) {
	return format.Gather(ctx, h.log, "upstream simple page of "+project, srcs,
		func(ctx context.Context, src artifact.ExternalSource) (*parsedUpstream, error) {
			return h.upstreamPage(ctx, src, project)
		})
}

// serveIndex serves simple/: the projects stored in the repository and in
// its upstream repositories (not those of the external connection: the
// public index's list is not proxied).
func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	media, ok := negotiateRequest(r)
	if !ok {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return nil
	}
	names, err := h.projects(r.Context(), t)
	if err != nil {
		return err
	}
	var body []byte
	if media == MediaJSON {
		body = RenderIndexJSON(names)
	} else {
		body = RenderIndexHTML(names)
	}
	w.Header().Set("Content-Type", ContentType(media))
	w.Header().Set("Vary", "Accept")
	w.Header().Set("ETag", etag(body))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return nil
}

// projects lists the PyPI packages of the repository and its upstreams, in
// the engine's search order, sorted by name.
func (h *Handler) projects(ctx context.Context, t *format.Target) ([]string, error) {
	return h.svc.PackageNames(ctx, t.RepoIn(t.Repository), artifact.FormatPypi)
}
