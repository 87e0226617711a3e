package swift

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

func packageNotFound(scope, name string) error {
	return fault.NotFound("package", scope+"."+name, "package %s.%s not found", printable(scope), printable(name))
}

func releaseNotFound(scope, name, version string) error {
	return fault.NotFound("package-version", version, "release %s of %s.%s not found", printable(version), printable(scope), printable(name))
}

// visible is what a repository shows of a package: its versions in
// precedence order, highest first.
type visible struct {
	versions []artifact.VisibleVersion
}

// view reads the package's visible versions (with Unlisted ones when
// unlisted), sorted by precedence, highest first; versions that are no
// SemVer version (none a swift client made) are left out.
func (h *Handler) view(ctx context.Context, t *format.Target, scope, name string, unlisted bool) (*visible, error) {
	if !ValidScope(scope) || !ValidName(name) {
		return nil, packageNotFound(scope, name)
	}
	pv, err := h.svc.ViewPackageIndex(ctx, packageRef(t, scope, name), unlisted)
	if fault.KindOf(err) == fault.KindNotFound {
		return nil, packageNotFound(scope, name)
	}
	if err != nil {
		return nil, err
	}
	vs := slices.DeleteFunc(pv.Versions, func(v artifact.VisibleVersion) bool { return !ValidVersion(v.Version.Version) })
	slices.SortFunc(vs, func(a, b artifact.VisibleVersion) int { return compareStrings(b.Version.Version, a.Version.Version) })
	return &visible{versions: vs}, nil
}

// find returns the visible version, nil when there is none.
func (v *visible) find(version string) *artifact.VisibleVersion {
	for i := range v.versions {
		if v.versions[i].Version.Version == version {
			return &v.versions[i]
		}
	}
	return nil
}

// record reads a version's stored record.
func (h *Handler) record(ctx context.Context, v *artifact.VisibleVersion) (*record, error) {
	m, err := h.svc.VersionsMetadata(ctx, []int64{v.ID})
	if err != nil {
		return nil, err
	}
	return decodeRecord(m[v.ID]), nil
}

// pkgURL is the package's URL under the endpoint, as the client spelled it.
func pkgURL(r *http.Request, c *format.Call, scope, name string) string {
	return c.Target.EndpointBase(r) + url.PathEscape(scope) + "/" + url.PathEscape(name)
}

// releases serves GET {scope}/{name}[.json] (Registry.md §4.1): the
// Published releases, highest precedence first, with Link headers to the
// latest version and to the source repositories recorded with it
// (canonical, alternate). A page is served only when asked for
// (?page=N[&per_page=M], with first/prev/next/last links): SwiftPM reads
// one answer and follows no pagination.
func (h *Handler) releases(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	scope, name := c.Param("scope"), strings.TrimSuffix(c.Param("name"), ".json")
	vis, err := h.view(r.Context(), c.Target, scope, name, false)
	if err != nil {
		return err
	}
	if len(vis.versions) == 0 {
		return packageNotFound(scope, name)
	}
	base := pkgURL(r, c, scope, name)
	var links []string
	latest := &vis.versions[0]
	links = append(links, Link(base+"/"+latest.Version.Version, "latest-version"))
	if rec, err := h.record(r.Context(), latest); err == nil {
		rel := "canonical"
		for _, u := range rec.repositoryURLs() {
			if linkable(u) {
				links = append(links, Link(u, rel))
				rel = "alternate"
			}
		}
	}
	versions := make([]string, len(vis.versions))
	for i := range vis.versions {
		versions[i] = vis.versions[i].Version.Version
	}
	if q := r.URL.Query(); q.Has("page") {
		page, err1 := strconv.Atoi(q.Get("page"))
		per, err2 := strconv.Atoi(q.Get("per_page"))
		if err2 != nil || per <= 0 {
			per, err2 = 100, nil
		}
		per = min(per, 1000)
		last := max(1, (len(versions)+per-1)/per)
		if err1 != nil || page < 1 || page > last {
			return fault.Validation("page must be a number from 1 to %d", last)
		}
		pageURL := func(n int) string { return base + "?page=" + strconv.Itoa(n) + "&per_page=" + strconv.Itoa(per) }
		links = append(links, Link(pageURL(1), "first"), Link(pageURL(last), "last"))
		if page > 1 {
			links = append(links, Link(pageURL(page-1), "prev"))
		}
		if page < last {
			links = append(links, Link(pageURL(page+1), "next"))
		}
		versions = versions[(page-1)*per : min(len(versions), page*per)]
	}
	w.Header().Set("Link", strings.Join(links, ", "))
	serveDoc(w, r, "application/json", ReleaseList(base, versions))
	return nil
}

// release serves GET {scope}/{name}/{version}[.json] (§4.2), and
// {version}.zip (§4.4).
func (h *Handler) release(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	scope, name, version := c.Param("scope"), c.Param("name"), c.Param("version")
	// "1.0.0-rc.zip" and "1.0.0-rc.json" are SemVer versions too: a
	// ".zip" path whose stem is a version is that version's archive (a
	// client MUST append .zip to download one), and ".json" is dropped
	// only when no release has the whole string as its version.
	if v, ok := strings.CutSuffix(version, ".zip"); ok && ValidVersion(v) {
		return h.archive(w, r, c, scope, name, v)
	}
	vis, err := h.view(r.Context(), c.Target, scope, name, true)
	if err != nil {
		return err
	}
	v := vis.find(version)
	if stem, ok := strings.CutSuffix(version, ".json"); v == nil && ok {
		version, v = stem, vis.find(stem)
	}
	if v == nil {
		return releaseNotFound(scope, name, version)
	}
	rec, err := h.record(r.Context(), v)
	if err != nil {
		return err
	}
	base := pkgURL(r, c, scope, name)
	w.Header().Set("Link", strings.Join(neighbours(vis, version, base), ", "))
	ri := ReleaseInfo{ID: identifier(rec, scope, name), Version: version, Checksum: rec.Checksum, Signing: rec.Signing,
		Metadata: rec.Metadata, PublishedAt: v.PublishedTime}
	serveDoc(w, r, "application/json", ReleaseMetadata(ri))
	return nil
}

// identifier is scope.name as published, else as requested.
func identifier(rec *record, scope, name string) string {
	if rec.Scope != "" && rec.Name != "" {
		return rec.Scope + "." + rec.Name
	}
	return scope + "." + name
}

// neighbours are the latest-version, successor-version and
// predecessor-version links of a release among the Published ones.
func neighbours(vis *visible, version, base string) []string {
	var latest, succ, pred string
	for i := range vis.versions {
		v := &vis.versions[i]
		if v.Status != artifact.StatusPublished {
			continue
		}
		s := v.Version.Version
		if latest == "" {
			latest = s
		}
		switch c := compareStrings(s, version); {
		case c > 0:
			succ = s // the last higher one seen is the lowest
		case c < 0 && pred == "":
			pred = s
		}
	}
	var links []string
	if latest != "" {
		links = append(links, Link(base+"/"+latest, "latest-version"))
	}
	if succ != "" {
		links = append(links, Link(base+"/"+succ, "successor-version"))
	}
	if pred != "" {
		links = append(links, Link(base+"/"+pred, "predecessor-version"))
	}
	return links
}

// archive serves GET {scope}/{name}/{version}.zip (§4.4) through the
// engine (the repository, then its upstreams, whose hit is retained
// here), with Digest (RFC 3230 sha-256, base64), the attachment's file
// name {name}-{version}.zip and, for a signed release, its signature
// headers.
func (h *Handler) archive(w http.ResponseWriter, r *http.Request, c *format.Call, scope, name, version string) error {
	if !ValidScope(scope) || !ValidName(name) || !ValidVersion(version) {
		return releaseNotFound(scope, name, version)
	}
	disposition := `attachment; filename="` + name + "-" + version + `.zip"`
	var signing *Signing
	if vis, err := h.view(r.Context(), c.Target, scope, name, true); err == nil {
		if v := vis.find(version); v != nil {
			if rec, err := h.record(r.Context(), v); err == nil {
				signing = rec.Signing
			}
		}
	}
	format.ServeAsset(w, r, h.svc, format.AssetResponse{ContentType: "application/zip", WriteError: h.writeError,
		Headers: func(hd http.Header, b store.Blob) {
			if raw, err := hex.DecodeString(b.SHA256); err == nil {
				hd.Set("Digest", "sha-256="+base64.StdEncoding.EncodeToString(raw))
			}
			hd.Set("Content-Disposition", disposition)
			if signing != nil {
				hd.Set("X-Swift-Package-Signature-Format", signing.SignatureFormat)
				hd.Set("X-Swift-Package-Signature", signing.SignatureBase64Encoded)
			}
		}},
		func(d *format.Download) artifact.ReadRequest {
			return artifact.ReadRequest{VersionRef: versionRef(c.Target, scope, name, version), Asset: AssetName(name, version)}
		})
	return nil
}

// manifest serves GET {scope}/{name}/{version}/Package.swift (§4.3):
// Package.swift with a Link to each version-specific manifest, or with
// ?swift-version=X that manifest, or a 303 to Package.swift when the
// release has none for X (§4.3.1). The manifests were recorded at publish.
func (h *Handler) manifest(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	scope, name, version := c.Param("scope"), c.Param("name"), c.Param("version")
	vis, err := h.view(r.Context(), c.Target, scope, name, true)
	if err != nil {
		return err
	}
	v := vis.find(version)
	if v == nil {
		return releaseNotFound(scope, name, version)
	}
	rec, err := h.record(r.Context(), v)
	if err != nil {
		return err
	}
	self := pkgURL(r, c, scope, name) + "/" + version + "/Package.swift"
	sv := r.URL.Query().Get("swift-version")
	m := rec.manifest(sv)
	if m == nil && sv != "" {
		w.Header().Set("Location", self)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	if m == nil {
		return fault.NotFound("asset", "Package.swift", "release %s of %s.%s has no manifest", printable(version), scope, name)
	}
	if sv == "" {
		var links []string
		for _, f := range rec.Manifests {
			if f.SwiftVersion != "" {
				links = append(links, Link(self+"?swift-version="+f.SwiftVersion, "alternate",
					"filename", f.Filename, "swift-tools-version", f.ToolsVersion))
			}
		}
		if len(links) > 0 {
			w.Header().Set("Link", strings.Join(links, ", "))
		}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+m.Filename+`"`)
	serveDoc(w, r, "text/x-swift", []byte(m.Content))
	return nil
}

// identifiers serves GET identifiers?url= (§4.5): the identifiers of the
// packages visible through the repository whose releases recorded the
// URL among their repositoryURLs, compared without scheme, user, ".git"
// and case.
func (h *Handler) identifiers(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	raw := r.URL.Query().Get("url")
	if strings.TrimSpace(raw) == "" {
		return fault.Validation("the url query parameter is required")
	}
	want := canonicalRepoURL(raw)
	ctx := r.Context()
	order, err := h.svc.SearchOrder(ctx, c.Target.Repo())
	if err != nil {
		return err
	}
	type pkg struct{ ns, name string }
	seen := map[pkg]bool{}
	var pkgs []pkg
	for _, repo := range order {
		ref := c.Target.Repo()
		ref.Repository = repo
		page := artifact.PageRequest{Max: 1000}
		for {
			ps, next, err := h.svc.ListPackages(ctx, ref, artifact.PackageFilter{Format: artifact.FormatSwift}, page)
			if err != nil {
				return err
			}
			for _, p := range ps {
				k := pkg{p.Namespace, p.Name}
				if !seen[k] {
					seen[k] = true
					pkgs = append(pkgs, k)
				}
			}
			if next == "" {
				break
			}
			page.After = next
		}
	}
	var ids []string
	for _, p := range pkgs {
		pv, err := h.svc.ViewPackage(ctx, packageRef(c.Target, p.ns, p.name), false)
		if fault.KindOf(err) == fault.KindNotFound {
			continue
		}
		if err != nil {
			return err
		}
	versions:
		for _, v := range pv.Versions {
			rec := decodeRecord(v.Metadata)
			for _, u := range rec.repositoryURLs() {
				if canonicalRepoURL(u) == want {
					ids = append(ids, identifier(rec, p.ns, p.name))
					break versions
				}
			}
		}
	}
	if len(ids) == 0 {
		return fault.NotFound("package", raw, "no package identifiers are registered for %s", printable(raw))
	}
	slices.Sort(ids)
	serveDoc(w, r, "application/json", Identifiers(slices.Compact(ids)))
	return nil
}
