package cargo

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/jsonstr"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// download serves GET/HEAD api/v1/crates/{crate}/{version}/download (the
// dl template of config.json) through the engine: the repository, its
// upstreams, then public:crates-io, whose .crate is fetched from the URL
// its config.json's dl gives, verified against the index file's cksum,
// streamed to this client while it is stored, and retained with the
// index line as the version's record. A yanked (Unlisted) version is
// served, as cargo needs it where Cargo.lock pins it.
func (h *Handler) download(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	name, version := c.Param("crate"), c.Param("version")
	if !nameSyntax(name, false) || !ValidVersion(version) {
		return fault.NotFound("asset", name, "no crate %s version %s", printable(name), printable(version))
	}
	format.ServeAsset(w, r, h.svc, format.AssetResponse{ContentType: "application/gzip", WriteError: h.writeError},
		func(d *format.Download) artifact.ReadRequest {
			fetch, newVersion := h.crateFetch(name, version, d)
			return artifact.ReadRequest{VersionRef: versionRef(c.Target, name, version), Asset: assetName(name, version),
				Fetch: fetch, NewVersion: newVersion, Published: h.published(name, version)}
		})
	return nil
}

// crateFetch is one read's FetchFunc and the NewVersion of the version it
// creates.
func (h *Handler) crateFetch(name, version string, d *format.Download) (artifact.FetchFunc, func(*store.Version)) {
	var entry *IndexEntry
	fetch := func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
		_, idx, err := h.upstreamIndex(ctx, src, name)
		if err != nil {
			return blob.Digests{}, false, err
		}
		var found *upEntry
		for i := range idx.entries {
			if e := &idx.entries[i]; e.vers == version && strings.EqualFold(e.name, name) {
				found = e
			}
		}
		if found == nil {
			return blob.Digests{}, false, fault.NotFound("package-version", version, "%s %s is not listed by %s", name, version, src.Connection)
		}
		u, err := h.downloadURL(ctx, src, found.name, found.vers, found.cksum)
		if err != nil {
			return blob.Digests{}, false, err
		}
		res, err := d.Fetch(ctx, h.up, src.Connection+"\x00"+u, u, upstream.Expectation{SHA256: found.cksum})
		if err != nil {
			return blob.Digests{}, false, err
		}
		if e, err := ParseIndexLine(found.line); err == nil {
			entry = &e
		}
		return res.Digests, res.Created, nil
	}
	newVersion := func(v *store.Version) {
		if entry != nil {
			fillVersion(v, entry)
		}
	}
	return fetch, newVersion
}

// published is a read's question to the registry: when did it publish
// the version (its index entry's pubtime, from the index file the fetch
// reads anyway), zero when the entry does not say or the index does not
// list it.
func (h *Handler) published(name, version string) func(context.Context, artifact.ExternalSource) (time.Time, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (time.Time, error) {
		_, idx, err := h.upstreamIndex(ctx, src, name)
		if err != nil {
			return time.Time{}, err
		}
		var t time.Time
		for i := range idx.entries {
			if e := &idx.entries[i]; e.vers == version && strings.EqualFold(e.name, name) {
				t = e.pubtime // the last entry wins, as in the fetch
			}
		}
		return t, nil
	}
}

// yank serves DELETE api/v1/crates/{crate}/{version}/yank (cargo yank):
// the version becomes Unlisted. It stays downloadable and is listed in the
// index with "yanked": true, so cargo uses it only where a Cargo.lock
// pins it.
func (h *Handler) yank(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return h.setStatus(w, r, c, artifact.StatusUnlisted)
}

// unyank serves PUT api/v1/crates/{crate}/{version}/unyank (cargo yank
// --undo): an Unlisted version becomes Published again.
func (h *Handler) unyank(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	return h.setStatus(w, r, c, artifact.StatusPublished)
}

// setStatus moves a version of the repository between Published and
// Unlisted (UpdatePackageVersionsStatus, checked on the package); other
// statuses are not cargo's to change.
func (h *Handler) setStatus(w http.ResponseWriter, r *http.Request, c *format.Call, target string) error {
	name, version := c.Param("crate"), c.Param("version")
	ctx := r.Context()
	v, err := h.svc.DescribePackageVersion(ctx, versionRef(c.Target, name, version))
	if err != nil {
		return err
	}
	switch v.Status {
	case target:
	case artifact.StatusPublished, artifact.StatusUnlisted:
		res, err := h.svc.UpdatePackageVersionsStatus(ctx, packageRef(c.Target, name),
			artifact.StatusUpdate{Versions: []string{v.Version.Version}, ExpectedStatus: v.Status, TargetStatus: target})
		if err != nil {
			return err
		}
		if f, ok := res.Failed[v.Version.Version]; ok {
			return fault.Conflict("package-version", version, "%s", f.Message)
		}
	default:
		return fault.Conflict("package-version", version, "crate version `%s@%s` is %s: only Published and Unlisted versions can be yanked or unyanked", name, version, v.Status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
	return nil
}

// search serves GET api/v1/crates?q=&per_page= (cargo search): the
// repository's own crates whose name contains the query (compared in
// canonical form), each with its highest Published version and that
// version's description.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	ctx := r.Context()
	q := Canonical(strings.TrimSpace(r.URL.Query().Get("q")))
	per := 10
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 {
		per = min(n, 100)
	}
	type hit struct{ name, vers, desc string }
	var hits []hit
	total := 0
	page := artifact.PageRequest{Max: 1000}
	for {
		pkgs, next, err := h.svc.ListPackages(ctx, c.Target.Repo(), artifact.PackageFilter{Format: artifact.FormatCargo}, page)
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			if !strings.Contains(p.Name, q) {
				continue
			}
			total++
			if len(hits) >= per {
				continue
			}
			view, err := h.svc.ViewPackage(ctx, packageRef(c.Target, p.Name), false)
			if err != nil {
				continue
			}
			var best *artifact.VisibleVersion
			for i := range view.Versions {
				v := &view.Versions[i]
				if v.Repository == c.Target.Repository && v.Status == artifact.StatusPublished &&
					(best == nil || compareVersions(v.Version.Version, best.Version.Version) > 0) {
					best = v
				}
			}
			if best == nil {
				total--
				continue
			}
			display := cmpOr(best.DisplayName, p.Name)
			hits = append(hits, hit{display, best.Version.Version, best.Summary})
		}
		if next == "" {
			break
		}
		page.After = next
	}
	b := []byte(`{"crates":[`)
	for i, x := range hits {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = jsonstr.Append(b, x.name)
		b = append(b, `,"max_version":`...)
		b = jsonstr.Append(b, x.vers)
		b = append(b, `,"description":`...)
		b = jsonstr.Append(b, x.desc)
		b = append(b, '}')
	}
	b = append(b, `],"meta":{"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, "}}"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// compareVersions orders SemVer versions by precedence: major, minor,
// patch numerically, a pre-release before its release, pre-release
// identifiers numerically or lexically; build metadata ignored.
func compareVersions(a, b string) int {
	split := func(v string) (nums []uint64, pre []string) {
		v, _, _ = strings.Cut(v, "+")
		core, p, hasPre := strings.Cut(v, "-")
		for _, s := range strings.Split(core, ".") {
			n, _ := strconv.ParseUint(s, 10, 64)
			nums = append(nums, n)
		}
		if hasPre {
			pre = strings.Split(p, ".")
		}
		return nums, pre
	}
	an, ap := split(a)
	bn, bp := split(b)
	if c := slices.Compare(an, bn); c != 0 {
		return c
	}
	switch {
	case len(ap) == 0 && len(bp) == 0:
		return 0
	case len(ap) == 0:
		return 1
	case len(bp) == 0:
		return -1
	}
	for i := 0; i < len(ap) && i < len(bp); i++ {
		x, ex := strconv.ParseUint(ap[i], 10, 64)
		y, ey := strconv.ParseUint(bp[i], 10, 64)
		switch {
		case ex == nil && ey == nil:
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		case ex == nil:
			return -1
		case ey == nil:
			return 1
		default:
			if c := strings.Compare(ap[i], bp[i]); c != 0 {
				return c
			}
		}
	}
	return len(ap) - len(bp)
}
