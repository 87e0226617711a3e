// Package nuget serves the NuGet V3 protocol on a repository endpoint:
// the service index, the flat container (PackageBaseAddress), the
// registrations, search and autocomplete, push and unlist
// (PackagePublish/2.0.0), with public:nuget-org read through the engine.
package nuget

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// Engine is what the NuGet protocol needs of the artifact service;
// *artifact.Service implements it.
type Engine interface {
	format.Engine
	ViewPackage(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error)
	ListPackages(ctx context.Context, ref artifact.RepoRef, f artifact.PackageFilter, page artifact.PageRequest) ([]artifact.Package, string, error)
	UpdatePackageVersionsStatus(ctx context.Context, ref artifact.PackageRef, u artifact.StatusUpdate) (*artifact.BatchResult, error)
}

var _ Engine = (*artifact.Service)(nil)

// Protocol is the NuGet plug-in.
var Protocol = format.Plugin{Format: artifact.FormatNuget, Guides: Guides,
	New: func(d format.Deps) http.Handler {
		return New(d.Engine, d.Authorizer, Options{Fetcher: d.Fetcher, MaxPackageSize: d.Limits.MaxAssetSize, SpoolDir: d.Limits.SpoolDir, Log: d.Log})
	}}

// Options configure a Handler.
type Options struct {
	// Fetcher reaches public:nuget-org (default: one that fetches nothing).
	Fetcher *format.Fetcher
	// MaxPackageSize bounds one pushed .nupkg (default 2 GiB).
	MaxPackageSize int64
	// SpoolDir holds pushed packages while they are checked.
	SpoolDir string
	Log      *slog.Logger
}

// Handler serves a repository endpoint's NuGet V3 feed.
type Handler struct {
	svc      Engine
	authz    auth.Authorizer
	up       *format.Fetcher
	router   *format.Router
	log      *slog.Logger
	maxPkg   int64
	spoolDir string
}

// New returns the NuGet handler.
func New(svc Engine, authz auth.Authorizer, o Options) *Handler {
	log := cmp.Or(o.Log, format.Discard)
	h := &Handler{svc: svc, authz: authz, up: format.FetcherOr(o.Fetcher, log), log: log,
		maxPkg: cmp.Or(o.MaxPackageSize, 2<<30), spoolDir: cmp.Or(o.SpoolDir, os.TempDir())}
	read := auth.ActionReadFromRepository
	pkg := func(c *format.Call) (string, string, error) {
		id := c.Param("id")
		if !ValidID(id) {
			return "", "", fault.NotFound("package", id, "no package %s", printable(id))
		}
		return "", strings.ToLower(id), nil
	}
	routes := []format.Route{
		{Method: http.MethodGet, Path: "v3/index.json", Action: read, Handle: h.serviceIndex},
		{Method: http.MethodGet, Path: "v3-flatcontainer/{id}/index.json", Action: read, Handle: h.flatIndex},
		{Method: http.MethodGet, Path: "v3-flatcontainer/{id}/{version}/{file}", Action: read, Handle: h.flatFile},
		{Method: http.MethodGet, Path: searchPath, Action: read, Handle: h.search},
		{Method: http.MethodGet, Path: autoPath, Action: read, Handle: h.autocomplete},
		// The client reads the service index before it pushes: a push
		// needs ReadFromRepository too, as on CodeArtifact.
		{Method: http.MethodPut, Path: publishPath, Action: read, Handle: h.push,
			InHandler: "the package is named in the .nupkg's manifest: PublishPackageVersion is checked on it once the archive is read"},
		{Method: http.MethodPut, Path: publishPath + "/", Action: read, Handle: h.push,
			InHandler: "the package is named in the .nupkg's manifest: PublishPackageVersion is checked on it once the archive is read"},
		{Method: http.MethodDelete, Path: publishPath + "/{id}/{version}", Action: auth.ActionUpdatePackageVersionsStatus, Package: pkg, Handle: h.unlist},
	}
	for _, base := range []string{regPath, regSV2Path} {
		sv2 := base == regSV2Path
		routes = append(routes,
			format.Route{Method: http.MethodGet, Path: base + "{id}/index.json", Action: read, Handle: h.registration(sv2)},
			format.Route{Method: http.MethodGet, Path: base + "{id}/page/{lower}/{upper}", Action: read, Handle: h.registration(sv2)},
			format.Route{Method: http.MethodGet, Path: base + "{id}/{leaf}", Action: read, Handle: h.registration(sv2)})
	}
	h.router = format.NewRouter(format.Router{Format: artifact.FormatNuget, Authorizer: authz, ARNs: svc, Render: h.writeError, Routes: routes})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// writeError answers in plain text with the fault's status (a 401 with
// the Basic challenge the NuGet client's credential providers wait for).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	format.WriteError(w, r, h.log, "nuget", err)
}

func packageRef(t *format.Target, id string) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: t.Repo(), Format: artifact.FormatNuget, Package: strings.ToLower(id)}
}

// AssetName is the one asset of a version: {id}.{version}.nupkg, both
// lower case and the version normalised, as the flat container names it.
func AssetName(lowerID, key string) string { return lowerID + "." + key + ".nupkg" }

// serveDoc answers a rendered JSON document with an ETag of its bytes
// (If-None-Match, HEAD, Range by http.ServeContent).
func serveDoc(w http.ResponseWriter, r *http.Request, body []byte, contentType string) {
	sum := sha256.Sum256(body)
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (h *Handler) serviceIndex(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	console := format.Origin(r) + "/console/domains/" + url.PathEscape(t.Domain) + "/repositories/" + url.PathEscape(t.Repository) + "/"
	serveDoc(w, r, ServiceIndex(t.EndpointBase(r), console), "application/json")
	return nil
}

// known is one version a repository shows of a package: stored (in the
// repository or an upstream) or offered by an external source.
type known struct {
	key    string
	ver    Version
	entry  *Entry // nil for a version only a flat container listed
	listed bool
	pub    string
}

// versions merges what a repository shows of a package: its own and its
// upstreams' versions (Published, and Unlisted as unlisted) and those the
// external sources offer (their flat containers, or with leaves their
// registrations), less the withheld ones; ordered by precedence. A
// failing upstream is logged and hides nothing stored; not-found when
// nothing is known.
func (h *Handler) versions(ctx context.Context, t *format.Target, lowerID string, leaves bool) ([]known, error) {
	view, err := h.svc.ViewPackage(ctx, packageRef(t, lowerID), true)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []known
	for i := range view.Versions {
		v := &view.Versions[i]
		pv, ok := ParseVersion(v.Version.Version)
		if !ok || seen[pv.Key()] {
			continue
		}
		seen[pv.Key()] = true
		e := parseEntry(v.Metadata)
		if e == nil {
			e = &Entry{ID: cmp.Or(v.DisplayName, lowerID), Version: pv.Normalized(), Verbatim: v.Version.Version, Description: v.Summary}
		}
		listed := v.Status == artifact.StatusPublished
		out = append(out, known{key: pv.Key(), ver: pv, entry: e, listed: listed, pub: publishedTime(v.PublishedTime, listed)})
	}
	for _, w := range view.Withheld {
		seen[NormalizeVersion(w)] = true
		seen[w] = true
	}
	// A version only an external source offers passes the supply-chain
	// gate first, with the time its registration says it was published.
	gated := view.Gated()
	var upErr error
	if leaves {
		type sourced struct {
			leaves []UpLeaf
			src    artifact.ExternalSource
		}
		docs, err := format.Gather(ctx, h.log, "upstream nuget registration", view.External,
			func(ctx context.Context, src artifact.ExternalSource) (sourced, error) {
				_, l, err := h.upstreamLeaves(ctx, src, lowerID)
				return sourced{l, src}, err
			})
		upErr = err
		for _, d := range docs {
			for _, l := range d.leaves {
				if seen[l.Key] || strings.ToLower(l.Entry.ID) != lowerID {
					continue
				}
				seen[l.Key] = true
				if gated && !view.Admit(d.src, l.Key, leafPublished(l.Published)) {
					continue
				}
				pv, _ := ParseVersion(l.Entry.Verbatim)
				out = append(out, known{key: l.Key, ver: pv, entry: l.Entry, listed: l.Listed, pub: cmp.Or(l.Published, unlistedPublished)})
			}
		}
	} else {
		type sourced struct {
			keys  []string
			times map[string]time.Time // by key, read only when gated
			src   artifact.ExternalSource
		}
		docs, err := format.Gather(ctx, h.log, "upstream nuget version list", view.External,
			func(ctx context.Context, src artifact.ExternalSource) (sourced, error) {
				_, keys, err := h.upstreamVersions(ctx, src, lowerID)
				d := sourced{keys: keys, src: src}
				if err == nil && gated {
					d.times = h.leafTimes(ctx, src, lowerID)
				}
				return d, err
			})
		upErr = err
		for _, d := range docs {
			for _, k := range d.keys {
				if seen[k] {
					continue
				}
				seen[k] = true
				if gated && !view.Admit(d.src, k, d.times[k]) {
					continue
				}
				pv, _ := ParseVersion(k)
				out = append(out, known{key: k, ver: pv, listed: true})
			}
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(out) == 0 {
		if upErr != nil {
			return nil, upErr
		}
		return nil, fault.NotFound("package", lowerID, "no package %s in this repository", lowerID)
	}
	slices.SortStableFunc(out, func(a, b known) int { return Compare(a.ver, b.ver) })
	return out, nil
}

// leafTimes are the publish times an external source's registration
// gives the versions of a package (the flat container gives none), for
// the supply-chain gate: the documents a download reads anyway, through
// the upstream client's cache. A source without a registration gives
// none (coffer's first sight of each version counts then).
func (h *Handler) leafTimes(ctx context.Context, src artifact.ExternalSource, lowerID string) map[string]time.Time {
	_, ls, err := h.upstreamLeaves(ctx, src, lowerID)
	if err != nil {
		if fault.KindOf(err) != fault.KindNotFound && ctx.Err() == nil {
			h.log.Warn("could not read when upstream versions were published", "connection", src.Connection, "package", lowerID, "err", err)
		}
		return nil
	}
	times := make(map[string]time.Time, len(ls))
	for _, l := range ls {
		if t := leafPublished(l.Published); !t.IsZero() {
			times[l.Key] = t
		}
	}
	return times
}

// leafPublished reads a registration leaf's published time: zero when
// there is none, or it is nuget.org's 1900-01-01 of an unlisted version.
func leafPublished(s string) time.Time {
	if s == "" || strings.HasPrefix(s, "1900-") {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// published is a read's question to an external source: when did it
// publish the version (its registration leaf's published, from the
// documents the fetch reads anyway), zero when it does not say.
func (h *Handler) published(id, key string) func(context.Context, artifact.ExternalSource) (time.Time, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (time.Time, error) {
		l, err := h.upstreamLeaf(ctx, src, id, key)
		switch {
		case fault.KindOf(err) == fault.KindNotFound:
			return time.Time{}, nil
		case err != nil:
			return time.Time{}, err
		}
		return leafPublished(l.Published), nil
	}
}

// flatIndex serves v3-flatcontainer/{id}/index.json: every version key,
// unlisted ones too, as nuget.org's flat container lists them.
func (h *Handler) flatIndex(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	id := strings.ToLower(c.Param("id"))
	if !ValidID(id) {
		return fault.NotFound("package", id, "no package %s", printable(id))
	}
	vs, err := h.versions(r.Context(), c.Target, id, false)
	if err != nil {
		return err
	}
	keys := make([]string, len(vs))
	for i, v := range vs {
		keys[i] = v.key
	}
	serveDoc(w, r, FlatIndex(keys), "application/json")
	return nil
}

// flatFile serves v3-flatcontainer/{id}/{version}/ {id}.{version}.nupkg,
// {id}.nuspec or readme.
func (h *Handler) flatFile(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	id, file := strings.ToLower(c.Param("id")), strings.ToLower(c.Param("file"))
	pv, ok := ParseVersion(c.Param("version"))
	if !ValidID(id) || !ok {
		return fault.NotFound("asset", file, "no package %s version %s", printable(id), printable(c.Param("version")))
	}
	key := pv.Key()
	switch file {
	case AssetName(id, key):
		h.download(w, r, c.Target, id, key)
		return nil
	case id + ".nuspec":
		return h.nuspec(w, r, c.Target, id, key)
	case "readme":
		return h.readme(w, r, c.Target, id, key)
	}
	return fault.NotFound("asset", file, "no file %s in package %s %s", printable(file), id, key)
}

// download serves the .nupkg through the engine: the repository, its
// upstreams, then public:nuget-org, whose .nupkg is fetched from its flat
// container once, checked against the SHA-512 its catalog announces,
// streamed to this client while it is stored, and retained with the
// registration's entry as the version's record. Unlisted versions are
// served (a lock file may pin them).
func (h *Handler) download(w http.ResponseWriter, r *http.Request, t *format.Target, id, key string) {
	format.ServeAsset(w, r, h.svc, format.AssetResponse{ContentType: "application/octet-stream", WriteError: h.writeError},
		func(d *format.Download) artifact.ReadRequest {
			var entry *Entry
			fetch := func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
				s, err := h.service(ctx, src)
				if err != nil {
					return blob.Digests{}, false, err
				}
				_, keys, err := h.upstreamVersions(ctx, src, id)
				if err != nil {
					return blob.Digests{}, false, err
				}
				if !slices.Contains(keys, key) {
					return blob.Digests{}, false, fault.NotFound("package-version", key, "%s %s is not offered by %s", id, key, src.Connection)
				}
				// The registration leaf gives the version's entry, its catalog
				// leaf the SHA-512 the .nupkg must have; a source that has
				// neither still serves the package, unchecked, but one that
				// fails to answer serves nothing.
				var exp upstream.Expectation
				if l, err := h.upstreamLeaf(ctx, src, id, key); err == nil {
					entry = l.Entry
					sha, err := h.catalogHash(ctx, l.Catalog)
					if err != nil && fault.KindOf(err) != fault.KindNotFound {
						return blob.Digests{}, false, err
					}
					exp.SHA512 = sha
				} else if fault.KindOf(err) != fault.KindNotFound {
					return blob.Digests{}, false, err
				}
				u := s.flat + escapeSeg(id) + "/" + escapeSeg(key) + "/" + escapeSeg(AssetName(id, key))
				res, err := d.Fetch(ctx, h.up, src.Connection+"\x00"+u, u, exp)
				if err != nil {
					return blob.Digests{}, false, err
				}
				return res.Digests, res.Created, nil
			}
			return artifact.ReadRequest{VersionRef: artifact.VersionRef{PackageRef: packageRef(t, id), Version: key},
				Asset: AssetName(id, key), Fetch: fetch, Published: h.published(id, key),
				NewVersion: func(v *store.Version) {
					if entry != nil {
						entry.fill(v)
					}
				}}
		})
}

// stored finds a version the repository shows (its own or an upstream's),
// with the view it is in.
func (h *Handler) stored(ctx context.Context, t *format.Target, id, key string) (*artifact.VisibleVersion, *artifact.PackageView, error) {
	view, err := h.svc.ViewPackage(ctx, packageRef(t, id), true)
	if err != nil {
		return nil, nil, err
	}
	for i := range view.Versions {
		if v := &view.Versions[i]; v.Version.Version == key {
			return v, view, nil
		}
	}
	if slices.Contains(view.Withheld, key) {
		return nil, nil, fault.NotFound("package-version", key, "no version %s of %s", key, id)
	}
	return nil, view, nil
}

// nuspec serves {id}.nuspec: the manifest kept with a pushed version, or
// else the external source's, relayed.
func (h *Handler) nuspec(w http.ResponseWriter, r *http.Request, t *format.Target, id, key string) error {
	ctx := r.Context()
	v, view, err := h.stored(ctx, t, id, key)
	if err != nil {
		return err
	}
	if v != nil {
		if e := parseEntry(v.Metadata); e != nil && e.Nuspec != "" {
			serveDoc(w, r, []byte(e.Nuspec), "text/xml")
			return nil
		}
		// A version fetched from an external source: its manifest is in
		// the stored .nupkg.
		res, err := h.svc.ReadAsset(ctx, artifact.ReadRequest{VersionRef: artifact.VersionRef{PackageRef: packageRef(t, id), Version: key},
			Asset: AssetName(id, key)})
		if err != nil {
			return err
		}
		defer res.Object.Close()
		p, err := ReadPackage(&readerAt{rs: res.Object}, res.Object.Size())
		if err != nil {
			return fault.Internal(err, "the stored package %s %s is unreadable", id, key)
		}
		serveDoc(w, r, p.NuspecRaw, "text/xml")
		return nil
	}
	for _, src := range view.External {
		s, err := h.service(ctx, src)
		if err != nil {
			continue
		}
		res, err := h.up.Get(ctx, s.flat+escapeSeg(id)+"/"+escapeSeg(key)+"/"+escapeSeg(id)+".nuspec")
		if err != nil {
			continue
		}
		if _, err := ParseNuspec(res.Body); err != nil {
			continue
		}
		// The manifest is what restore resolves dependencies with: a
		// version the supply-chain gate withholds gives none, as its
		// package is not downloaded.
		if view.Gated() {
			published, err := h.published(id, key)(ctx, src)
			if err != nil {
				return err
			}
			if err := view.Refusal(src, key, published); err != nil {
				return err
			}
		}
		serveDoc(w, r, res.Body, "text/xml")
		return nil
	}
	return fault.NotFound("asset", id+".nuspec", "no manifest of %s %s", id, key)
}

// readme serves the readme a pushed version's manifest named, from the
// repository that holds the version (this one or an upstream).
func (h *Handler) readme(w http.ResponseWriter, r *http.Request, t *format.Target, id, key string) error {
	sv, _, err := h.stored(r.Context(), t, id, key)
	if err != nil {
		return err
	}
	if sv == nil {
		return fault.NotFound("asset", "readme", "%s %s has no readme here", id, key)
	}
	ref := artifact.VersionRef{PackageRef: packageRef(t, id), Version: key}
	ref.Repository = sv.Repository
	v, err := h.svc.DescribePackageVersion(r.Context(), ref)
	if err != nil {
		return err
	}
	if v.Readme == "" {
		return fault.NotFound("asset", "readme", "%s %s has no readme", id, key)
	}
	serveDoc(w, r, []byte(v.Readme), "text/markdown; charset=utf-8")
	return nil
}

// registration serves the registration index, its pages and leaves; the
// plain base shows SemVer 1.0.0 versions only, as nuget.org's does.
func (h *Handler) registration(semver2 bool) func(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return func(w http.ResponseWriter, r *http.Request, c *format.Call) error {
		id := strings.ToLower(c.Param("id"))
		if !ValidID(id) {
			return fault.NotFound("package", id, "no package %s", printable(id))
		}
		vs, err := h.versions(r.Context(), c.Target, id, true)
		if err != nil {
			return err
		}
		base := c.Target.EndpointBase(r)
		reg := regPath
		if semver2 {
			reg = regSV2Path
		}
		d := &regDocs{regBase: base + reg, flatBase: base + flatPath, lowerID: id}
		for _, v := range vs {
			if v.entry == nil || (!semver2 && v.entry.SemVer2()) {
				continue
			}
			d.versions = append(d.versions, regVersion{entry: v.entry, key: v.key, listed: v.listed, published: v.pub})
		}
		if len(d.versions) == 0 {
			return fault.NotFound("package", id, "no package %s in this repository", id)
		}
		var body []byte
		switch upper, leaf := c.Param("upper"), c.Param("leaf"); {
		case upper != "":
			body = d.Page(c.Param("lower"), strings.TrimSuffix(upper, ".json"))
		case leaf == "index.json" || leaf == "":
			body = d.Index()
		default:
			body = d.Leaf(NormalizeVersion(strings.TrimSuffix(leaf, ".json")))
		}
		if body == nil {
			return fault.NotFound("package", id, "no such registration document of %s", id)
		}
		serveDoc(w, r, body, "application/json")
		return nil
	}
}

// push serves PUT v3/package (PackagePublish/2.0.0): the multipart body's
// .nupkg is spooled to a file, checked (ReadPackage), PublishPackageVersion
// authorized on its id, refused with 409 when the repository has the
// version, and recorded with PutAsset (which refuses a version an
// upstream offers while the package takes upstream versions). Nothing is
// stored on refusal. X-NuGet-ApiKey is not read: the caller is the Basic
// credentials' token.
func (h *Handler) push(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	ctx := r.Context()
	limit := h.maxPkg + 64<<10
	if err := format.CheckLength(r, "package", limit); err != nil {
		return err
	}
	format.LimitBody(r, limit, format.TooLarge("package", limit))
	f, err := os.CreateTemp(h.spoolDir, "coffer-nuget-push-")
	if err != nil {
		return fault.Storage(err, "could not receive the package")
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	if err := spoolPackage(r, f); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fault.Internal(err, "could not read the package back")
	}
	p, err := ReadPackage(f, size)
	if err != nil {
		return err
	}
	n := p.Nuspec
	lowerID := strings.ToLower(n.ID)
	pv, _ := ParseVersion(n.Version)
	key := pv.Key()
	arn := h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatNuget, "", lowerID)
	if err := h.authz.Authorize(ctx, auth.ActionPublishPackageVersion, arn); err != nil {
		return err
	}
	ref := artifact.VersionRef{PackageRef: packageRef(t, lowerID), Version: key}
	if _, err := h.svc.DescribePackageVersion(ctx, ref); err == nil {
		return fault.Conflict("package-version", key, "%s %s already exists in this repository", n.ID, pv.Normalized())
	} else if fault.KindOf(err) != fault.KindNotFound {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the package back")
	}
	e := EntryOf(p)
	req := artifact.PutAssetRequest{VersionRef: ref, Asset: AssetName(lowerID, key), NewStatus: artifact.StatusPublished,
		Offered: h.offers(lowerID, key),
		NewVersion: func(v *store.Version) {
			e.fill(v)
			v.SourceCodeRepository = n.RepositoryURL
			v.Readme = string(p.Readme)
		}}
	if _, err := h.svc.PutAsset(ctx, req, f); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// spoolPackage writes the pushed .nupkg to f: the first file part of a
// multipart/form-data body (NuGet's PackageUpdateResource sends one part,
// "package", filename "package.nupkg"), or the whole body otherwise.
func spoolPackage(r *http.Request, f *os.File) error {
	fw := &format.FailedWriter{W: f}
	var src io.Reader = r.Body
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return fault.Validation("the push request carries no package")
			}
			if err != nil {
				if fault.KindOf(err) == fault.KindQuotaExceeded {
					return err
				}
				return fault.Validation("the push request is not a valid multipart body: %v", err)
			}
			if part.FileName() != "" || part.FormName() == "package" {
				src = part
				break
			}
		}
	}
	if _, err := io.Copy(fw, src); err != nil {
		if fw.Err != nil {
			return fault.Storage(fw.Err, "could not receive the package")
		}
		if k := fault.KindOf(err); k == fault.KindQuotaExceeded {
			return err
		}
		return fault.Validation("the push request ends early: %v", err)
	}
	return nil
}

// unlist serves DELETE v3/package/{id}/{version}: the version becomes
// Unlisted (still downloadable, listed false in the registration).
func (h *Handler) unlist(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	id := strings.ToLower(c.Param("id"))
	key := NormalizeVersion(c.Param("version"))
	if key == "" {
		return fault.NotFound("package-version", c.Param("version"), "no version %s of %s", printable(c.Param("version")), id)
	}
	ctx := r.Context()
	v, err := h.svc.DescribePackageVersion(ctx, artifact.VersionRef{PackageRef: packageRef(c.Target, id), Version: key})
	if err != nil {
		return err
	}
	switch v.Status {
	case artifact.StatusUnlisted:
	case artifact.StatusPublished:
		res, err := h.svc.UpdatePackageVersionsStatus(ctx, packageRef(c.Target, id),
			artifact.StatusUpdate{Versions: []string{key}, ExpectedStatus: v.Status, TargetStatus: artifact.StatusUnlisted})
		if err != nil {
			return err
		}
		if f, ok := res.Failed[key]; ok {
			return fault.Conflict("package-version", key, "%s", f.Message)
		}
	default:
		return fault.Conflict("package-version", key, "%s %s is %s: only a Published version can be unlisted", id, key, v.Status)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readerAt reads a stored object at offsets (zip needs io.ReaderAt); one
// reader at a time.
type readerAt struct{ rs io.ReadSeeker }

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := r.rs.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(r.rs, p)
}
