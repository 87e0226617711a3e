package rubygems

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/upstream"
)

// document is a rendered index document with its validators.
type document struct {
	name string // the gem of an info file
	body []byte
	etag string
	// repr and digest are the body's Repr-Digest and Digest, computed once
	// with the document: every answer, 304s included, carries them.
	repr, digest string
	// builds are the lines of an info file.
	builds []InfoVersion
}

func compactDocument(name string, body []byte, builds []InfoVersion) *document {
	return &document{name: name, body: body, etag: ETag(body), repr: ReprDigest(body), digest: LegacyDigest(body), builds: builds}
}

func (d *document) cost() int64 { return int64(len(d.body))*2 + 256 }

var fingerprintSeed = maphash.MakeSeed()

// validators are a compact index file's ETag (the quoted MD5 Bundler
// compares with its copy), Repr-Digest and Digest (SHA-256, Bundler ≥ 2.5).
type validators struct{ etag, repr, digest string }

func (d *document) validators() validators {
	return validators{etag: d.etag, repr: d.repr, digest: d.digest}
}

// serveCompact answers a compact index file: its validators, Range
// (Bundler asks for what it lacks), If-None-Match (304).
func serveCompact(w http.ResponseWriter, r *http.Request, d *document) {
	prefix := func(n int64) string { return MD5Hex(d.body[:n]) }
	serveRanged(w, r, d.validators(), int64(len(d.body)), prefix, bytes.NewReader(d.body))
}

// serveRanged answers a compact index file of size bytes. prefix returns
// the hex MD5 of its first n bytes.
//
// Bundler appends: it sends its copy's ETag in If-None-Match with
// "Range: bytes=<its size - 1>-", appends the answer but its first byte
// to its copy when it is a 206, and checks the result against the ETag.
// A document that changed other than at its end (an info file whose
// merged lines moved, a relayed versions file whose upstream part grew)
// would make that a corrupt append, which Bundler 2.3 detects and fetches
// again, and Bundler ≥ 2.5 may reject. So a Range request that names in
// If-None-Match a copy other than the current one is answered with 206
// only if that copy is the document's prefix of the length the Range
// implies (its MD5 is the ETag named), and with the whole document (200)
// otherwise. A Range request without If-None-Match is answered as HTTP
// says.
func serveRanged(w http.ResponseWriter, r *http.Request, v validators, size int64, prefix func(n int64) string, content io.ReadSeeker) {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("ETag", v.etag)
	hd.Set("Repr-Digest", v.repr)
	hd.Set("Digest", v.digest)
	hd.Set("Cache-Control", "max-age=0, must-revalidate")
	hd.Set("Accept-Ranges", "bytes")
	if !appendable(r, v.etag, size, prefix) {
		r.Header.Del("Range")
	}
	// No Last-Modified: what an upstream lists changes the document
	// without a time of its own, so only the ETag validates it.
	http.ServeContent(w, r, "", time.Time{}, content)
}

// appendable reports whether the request's Range may be served (see
// serveRanged).
func appendable(r *http.Request, etag string, size int64, prefix func(n int64) string) bool {
	rg, inm := r.Header.Get("Range"), r.Header.Get("If-None-Match")
	if rg == "" || inm == "" {
		return true
	}
	var tags []string
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true // a 304
		}
		tags = append(tags, t)
	}
	spec, ok := strings.CutPrefix(rg, "bytes=")
	first, last, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 || last != "" {
		return false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 || start >= size {
		return false
	}
	// The client's copy is start+1 bytes long.
	want := `"` + prefix(start+1) + `"`
	return slices.Contains(tags, want)
}

// serveBinary answers a Marshal document (dependencies, full index, quick
// spec) with an ETag of its SHA-256.
func serveBinary(w http.ResponseWriter, r *http.Request, body []byte, mod time.Time) {
	s := sha256.Sum256(body)
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("ETag", `"`+hex.EncodeToString(s[:16])+`"`)
	hd.Set("Cache-Control", "max-age=0, must-revalidate")
	http.ServeContent(w, r, "", mod, bytes.NewReader(body))
}

// ---- info/<gem> ----

func (h *Handler) serveInfo(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	name := c.Param("gem")
	if !ValidName(name) {
		return fault.NotFound("package", name, "no gem %s", name)
	}
	d, err := h.info(r.Context(), c.Target, name)
	if fault.KindOf(err) == fault.KindNotFound && h.blockedFromRelay(r.Context(), c.Target, name) {
		d, err = emptyInfo, nil
	}
	if err != nil {
		return err
	}
	serveCompact(w, r, d)
	return nil
}

// emptyInfo is the info file of a gem without versions.
var emptyInfo = compactDocument("", Info(nil), nil)

// blockedFromRelay reports whether the repository reaches an external
// source, whose versions file it relays, but not for this gem (its
// upstream=BLOCK, or its package group's EXTERNAL_UPSTREAM BLOCK). Its
// info file is then empty rather than missing: the relayed versions file
// may list the gem, and Bundler takes a 404 of a listed gem's info file
// for a source without a compact index and falls back to the dependencies
// API, while an empty file resolves it to no versions.
func (h *Handler) blockedFromRelay(ctx context.Context, t *format.Target, name string) bool {
	srcs, err := h.relaySources(ctx, t)
	if err != nil || len(srcs) == 0 {
		return false
	}
	_, external, err := h.svc.ViewStamp(ctx, packageRef(t, name))
	return err == nil && len(external) == 0
}

// info returns the gem's info file as the repository shows it: its
// Published versions (own and upstream repositories') and, for versions it
// does not have, the external source's lines, unless withheld. It is
// cached under the engine's view stamp and the upstream documents.
func (h *Handler) info(ctx context.Context, t *format.Target, name string) (*document, error) {
	ref := packageRef(t, name)
	stamp, external, err := h.svc.ViewStamp(ctx, ref)
	if err != nil {
		return nil, err
	}
	ups, upErr := h.upstreamInfos(ctx, external, name)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	fp := format.StampFingerprint(stamp, ups, func(u *upstreamInfo) *upstream.Document { return u.doc })
	key := format.CacheKey(t, name)
	if d, ok := h.infos.Get(key, fp); ok {
		return d, nil
	}
	// Unlisted (yanked) versions are read too: they are the repository's
	// own, so an upstream's line of the same version must not bring them
	// back; only Published builds are listed.
	view, err := h.svc.ViewPackage(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	lines, gated := mergeInfo(view, ups)
	if len(lines) == 0 {
		switch {
		case upErr != nil:
			return nil, upErr
		case gated == 0 && len(view.Refused) == 0:
			return nil, fault.NotFound("package", name, "no versions of gem %s in this repository", name)
		}
		// Every version is withheld by the supply-chain gate: an empty
		// file, as for a blocked gem (a relayed versions file may list
		// the gem, and a 404 would make Bundler leave the compact index).
	}
	d := compactDocument(name, Info(lines), lines)
	h.infos.Put(key, fp, d, d.cost())
	return d, nil
}

// mergeInfo writes a gem's info lines from what the repository shows and
// what the upstreams list. The order keeps the file stable as gems are
// fetched and mostly append-only: first the repository's own versions that
// no upstream lists (in publish order), then the upstreams' lines in their
// order. A version the repository holds that it did not ingest (pushed, or
// not Published: yanked, withheld) wins over the upstream's lines of the
// same number, in the place of its first one; an ingested version's
// stored builds are the upstream's own lines (recorded as fetched), and
// its other builds stay offered. Builds stored but no longer listed
// upstream come last. A version only the upstreams list is left out when
// the supply-chain gate refuses it (gated counts them).
func mergeInfo(view *artifact.PackageView, ups []*upstreamInfo) (lines []InfoVersion, gated int) {
	vs := slices.Clone(view.Versions)
	slices.SortStableFunc(vs, func(a, b artifact.VisibleVersion) int {
		if c := a.PublishedTime.Compare(b.PublishedTime); c != 0 {
			return c
		}
		return CompareVersions(a.Version.Version, b.Version.Version)
	})
	ownBuilds := map[string][]InfoVersion{} // Published versions' builds
	ownToken := map[string]InfoVersion{}
	wins := map[string]bool{} // versions whose upstream lines are not shown
	for _, v := range view.Withheld {
		wins[v] = true
	}
	for i := range vs {
		v := &vs[i].Version
		if v.Status != artifact.StatusPublished || v.OriginType != artifact.OriginExternal {
			wins[v.Version] = true
		}
		if v.Status != artifact.StatusPublished {
			continue
		}
		bs := builds(v)
		ownBuilds[v.Version] = bs
		for _, b := range bs {
			ownToken[versionToken(b.Version, b.Platform)] = b
		}
	}
	upstream := map[string]bool{}
	for _, u := range ups {
		for _, iv := range u.versions {
			upstream[iv.Version] = true
		}
	}
	var refused map[string]bool
	if view.Gated() {
		refused = gateInfo(view, ups, wins, ownBuilds)
		gated = len(refused)
	}
	emitted := map[string]bool{} // tokens
	emit := func(b InfoVersion) {
		tok := versionToken(b.Version, b.Platform)
		if !emitted[tok] {
			emitted[tok] = true
			lines = append(lines, b)
		}
	}
	for i := range vs {
		if v := vs[i].Version.Version; !upstream[v] {
			for _, b := range ownBuilds[v] {
				emit(b)
			}
		}
	}
	for _, u := range ups {
		for _, iv := range u.versions {
			switch tok := versionToken(iv.Version, iv.Platform); {
			case wins[iv.Version]:
				for _, b := range ownBuilds[iv.Version] {
					emit(b)
				}
			case ownToken[tok].Version != "":
				emit(ownToken[tok])
			case refused[iv.Version]:
			default:
				emit(iv)
			}
		}
	}
	for i := range vs {
		for _, b := range ownBuilds[vs[i].Version.Version] {
			emit(b)
		}
	}
	return lines, gated
}

// gateInfo asks the supply-chain gate about the versions only the
// upstreams list (neither shown nor withheld by the repository), each
// for the first upstream that lists it, with the time its lines say it
// was published (versionCreated; zero: coffer's first sight counts). It
// returns the refused ones.
func gateInfo(view *artifact.PackageView, ups []*upstreamInfo, wins map[string]bool, own map[string][]InfoVersion) map[string]bool {
	type release struct {
		src   artifact.ExternalSource
		first time.Time
		timed bool // every build has a created_at
	}
	rels := map[string]*release{}
	var order []string
	for _, u := range ups {
		mine := map[string]bool{} // the versions decided for this upstream
		for i := range u.versions {
			v := u.versions[i].Version
			if _, stored := own[v]; stored || wins[v] {
				continue
			}
			r := rels[v]
			if r == nil {
				r = &release{src: u.src, timed: true}
				rels[v] = r
				order = append(order, v)
				mine[v] = true
			} else if !mine[v] {
				continue // decided for an earlier upstream
			}
			switch t := u.versions[i].createdAt(); {
			case t.IsZero():
				r.timed = false
			case r.first.IsZero() || t.Before(r.first):
				r.first = t
			}
		}
	}
	refused := map[string]bool{}
	for _, v := range order {
		r := rels[v]
		published := r.first
		if !r.timed {
			published = time.Time{} // fail closed, as versionCreated
		}
		if !view.Admit(r.src, v, published) {
			refused[v] = true
		}
	}
	return refused
}

// ---- the set of gems: versions, names, the full index ----

// maxExternalGems bounds the gems of the external connection the indexes
// list beside the repository's own: those the listed gems' runtime
// dependencies name, transitively.
const maxExternalGems = 2000

// infoParallelism is how many info files gemSet reads at once.
const infoParallelism = 8

// gemSet returns the info files of every gem the indexes list, sorted by
// name: the gems stored in the repository and its upstream repositories,
// and the gems their runtime dependencies name that an upstream offers.
func (h *Handler) gemSet(ctx context.Context, t *format.Target) ([]*document, error) {
	queue, err := h.svc.PackageNames(ctx, t.RepoIn(t.Repository), artifact.FormatRuby)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, name := range queue {
		seen[name] = true
	}
	// The info files are read a wave at a time, a few at once: the first
	// wave is the stored gems, each next one the gems the previous one's
	// runtime dependencies name for the first time (read through the
	// external connection, which may be slow).
	var docs []*document
	external := 0
	for wave := 0; len(queue) > 0; wave++ {
		results := make([]*document, len(queue))
		errs := make([]error, len(queue))
		sem := make(chan struct{}, infoParallelism)
		var wg sync.WaitGroup
		for i, name := range queue {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				results[i], errs[i] = h.info(ctx, t, name)
			})
		}
		wg.Wait()
		var next []string
		for i, d := range results {
			switch err := errs[i]; {
			case err == nil:
			case fault.KindOf(err) == fault.KindNotFound:
				continue
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case wave > 0:
				// An upstream that cannot say what a dependency is hides it only.
				h.log.Warn("rubygems index: upstream info unavailable", "gem", queue[i], "err", err)
				continue
			default:
				return nil, err
			}
			if len(d.builds) == 0 {
				continue // every version withheld by the supply-chain gate
			}
			docs = append(docs, d)
			for _, b := range d.builds {
				for _, dep := range b.Dependencies {
					if dep.Type == Development || seen[dep.Name] || !ValidName(dep.Name) {
						continue
					}
					seen[dep.Name] = true
					if external++; external > maxExternalGems {
						if external == maxExternalGems+1 {
							h.log.Warn("rubygems index: too many gems named by dependencies; the rest is not listed", "repository", t.Repository)
						}
						continue
					}
					next = append(next, dep.Name)
				}
			}
		}
		queue = next
	}
	slices.SortFunc(docs, func(a, b *document) int { return strings.Compare(a.name, b.name) })
	return docs, nil
}

// setFingerprint identifies a gem set by its info files.
func setFingerprint(kind string, docs []*document) uint64 {
	var mh maphash.Hash
	mh.SetSeed(fingerprintSeed)
	mh.WriteString(kind)
	for _, d := range docs {
		mh.WriteByte(0)
		mh.WriteString(d.name)
		mh.WriteByte(0)
		mh.WriteString(d.etag)
	}
	return mh.Sum64()
}

// versionsEpoch is the versions file's created_at: clients compare nothing
// with it.
var versionsEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (h *Handler) serveVersions(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return h.serveSet(w, r, c, "versions", func(docs []*document) ([]byte, error) {
		lines := make([]VersionsLine, 0, len(docs))
		for _, d := range docs {
			l := VersionsLine{Name: d.name, InfoChecksum: MD5Hex(d.body)}
			for _, b := range d.builds {
				l.Versions = append(l.Versions, VersionEntry{Version: b.Version, Platform: b.Platform})
			}
			lines = append(lines, l)
		}
		return Versions(versionsEpoch, lines), nil
	})
}

func (h *Handler) serveNames(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return h.serveSet(w, r, c, "names", func(docs []*document) ([]byte, error) {
		names := make([]string, len(docs))
		for i, d := range docs {
			names[i] = d.name
		}
		return Names(names), nil
	})
}

// serveSet answers the versions or names file: when the repository
// reaches an external source, the source's file followed by the
// repository's lines (relay.go), else the repository's own file.
func (h *Handler) serveSet(w http.ResponseWriter, r *http.Request, c *format.Call, kind string, render func([]*document) ([]byte, error)) error {
	ctx := r.Context()
	own := func() (*document, error) { return h.setDocument(ctx, c.Target, kind, render) }
	for attempt := 0; ; attempt++ {
		rd, err := h.relayDocument(ctx, c.Target, kind, func() ([]byte, error) {
			d, err := own()
			if err != nil {
				return nil, err
			}
			return ownLines(d.body), nil
		})
		if rd == nil && err == nil {
			break
		}
		if err == nil {
			err = h.serveRelay(w, r, rd)
		}
		if !errors.Is(err, errRelayGone) {
			return err
		}
		// A relayed file was collected: it is fetched again.
		h.relayGen.Add(1)
		if attempt > 0 {
			return &fault.Error{Kind: fault.KindUnavailable, Message: "the external source's " + kind + " file is being fetched again; retry"}
		}
	}
	d, err := own()
	if err != nil {
		return err
	}
	serveCompact(w, r, d)
	return nil
}

// serveSpecs serves specs.4.8.gz, latest_specs.4.8.gz and
// prerelease_specs.4.8.gz.
func (h *Handler) serveSpecs(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	kind := c.Route.Path
	d, err := h.setDocument(r.Context(), c.Target, kind, func(docs []*document) ([]byte, error) {
		var all []GemFile
		for _, d := range docs {
			for _, b := range d.builds {
				all = append(all, b.File(d.name))
			}
		}
		specs, latest, pre := SpecIndexes(all)
		list := specs
		switch kind {
		case "latest_specs.4.8.gz":
			list = latest
		case "prerelease_specs.4.8.gz":
			list = pre
		}
		m, err := MarshalSpecs(list)
		if err != nil {
			return nil, fault.Internal(err, "could not write %s", kind)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(m)
		zw.Close()
		return buf.Bytes(), nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", d.etag)
	w.Header().Set("Cache-Control", "max-age=0, must-revalidate")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(d.body)) // ETag only, as serveCompact
	return nil
}

// setDocument renders (or takes from the cache) a document of the gem set.
func (h *Handler) setDocument(ctx context.Context, t *format.Target, kind string, render func([]*document) ([]byte, error)) (*document, error) {
	docs, err := h.gemSet(ctx, t)
	if err != nil {
		return nil, err
	}
	fp := setFingerprint(kind, docs)
	key := t.DomainOwner + "/" + t.Domain + "/" + t.Repository + "\x00" + kind
	if d, ok := h.indexes.Get(key, fp); ok {
		return d, nil
	}
	body, err := render(docs)
	if err != nil {
		return nil, err
	}
	d := compactDocument("", body, nil)
	h.indexes.Put(key, fp, d, d.cost())
	return d, nil
}

// ---- api/v1/dependencies?gems=a,b ----

// maxDependencyGems bounds the gems one dependencies request asks about
// (Bundler asks in batches of 100; rubygems.org refuses more than 200).
const maxDependencyGems = 200

func (h *Handler) serveDependencies(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	var list []VersionDependencies
	names := r.URL.Query().Get("gems")
	var gems []string
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(gems, n) {
			gems = append(gems, n)
		}
	}
	if len(gems) > maxDependencyGems {
		return fault.Validation("Too many gems (%d); ask for at most %d at a time", len(gems), maxDependencyGems)
	}
	for _, name := range gems {
		if !ValidName(name) {
			continue
		}
		d, err := h.info(r.Context(), c.Target, name)
		if fault.KindOf(err) == fault.KindNotFound {
			continue
		}
		if err != nil {
			return err
		}
		for _, b := range d.builds {
			list = append(list, VersionDependencies{Name: name, Number: b.Version, Platform: b.Platform, Dependencies: b.Dependencies})
		}
	}
	body, err := MarshalDependencies(list)
	if err != nil {
		return fault.Internal(err, "could not write the dependencies")
	}
	serveBinary(w, r, body, time.Time{}) // ETag only, as serveCompact
	return nil
}

// ---- quick/Marshal.4.8/<full>.gemspec.rz and gems/<full>.gem ----

// pickBuild reads a build's full name ("name-version[-platform]"): of the
// readings SplitFullName gives, the first the repository has, else the
// first.
func (h *Handler) pickBuild(ctx context.Context, t *format.Target, full string) (GemFile, bool) {
	cands := SplitFullName(full)
	if len(cands) == 0 {
		return GemFile{}, false
	}
	if len(cands) == 1 {
		return cands[0], true
	}
	for _, g := range cands {
		if _, err := h.svc.DescribePackageVersion(ctx, versionRef(t, g.Name, g.Version)); err == nil {
			return g, true
		}
		if d, err := h.info(ctx, t, g.Name); err == nil {
			for _, b := range d.builds {
				if b.Version == g.Version && NormalizePlatform(b.Platform) == NormalizePlatform(g.Platform) {
					return g, true
				}
			}
		}
	}
	return cands[0], true
}

func (h *Handler) serveGem(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	file := c.Param("file")
	full, ok := strings.CutSuffix(file, ".gem")
	var g GemFile
	if ok {
		g, ok = h.pickBuild(r.Context(), c.Target, full)
	}
	if !ok {
		return fault.NotFound("asset", file, "%s is not a gem file name", file)
	}
	ref := versionRef(c.Target, g.Name, g.Version)
	o := format.AssetResponse{ContentType: "application/octet-stream", WriteError: h.writeError}
	format.ServeAsset(w, r, h.svc, o, func(d *format.Download) artifact.ReadRequest {
		return h.gemRequest(ref, g, d)
	})
	return nil
}

// maxQuickSpec bounds a quick spec (a deflated Marshal of the spec).
const maxQuickSpec = 8 << 20

// serveQuickSpec serves a build's quick spec, made from the spec inside its
// .gem (which is read through the engine like gems/<file>, so that a gem
// of the external connection is fetched and retained), cached by the
// .gem's SHA-256.
func (h *Handler) serveQuickSpec(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	file := c.Param("file")
	full, ok := strings.CutSuffix(file, ".gemspec.rz")
	var g GemFile
	if ok {
		g, ok = h.pickBuild(r.Context(), c.Target, full)
	}
	if !ok {
		return fault.NotFound("asset", file, "%s is not a quick spec file name", file)
	}
	ctx := r.Context()
	res, err := h.svc.ReadAsset(ctx, h.gemRequest(versionRef(c.Target, g.Name, g.Version), g, format.NewDownload(nil, "")))
	if err != nil {
		return err
	}
	defer res.Object.Close()
	sha := res.Asset.Blob.SHA256
	body, ok := h.quick.Get(sha, 0)
	if !ok {
		gem, err := ReadGem(res.Object, Limits{})
		if err != nil {
			return fault.Internal(err, "could not read the stored gem %s", g.FileName())
		}
		if body, err = QuickSpec(gem.Spec); err != nil {
			return fault.Internal(err, "could not write the quick spec of %s", g.FileName())
		}
		if int64(len(body)) <= maxQuickSpec {
			h.quick.Put(sha, 0, body, int64(len(body))+128)
		}
	}
	serveBinary(w, r, body, res.Asset.CreatedTime)
	return nil
}
