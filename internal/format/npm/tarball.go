package npm

import (
	"context"
	"net/http"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// tarballVersion reads the version out of a tarball file name
// "<base>-<version>.tgz".
func tarballVersion(n Name, file string) (string, bool) {
	v, ok := strings.CutPrefix(file, n.Base+"-")
	if !ok {
		return "", false
	}
	v, ok = strings.CutSuffix(v, ".tgz")
	return v, ok && cleanVersionKey(v)
}

// serveTarball serves GET/HEAD <name>/-/<base>-<version>.tgz through
// ReadAsset: the repository, its upstreams, then public:npmjs (the tarball
// its packument names, verified against dist.integrity or dist.shasum,
// streamed to this client while it is stored). Unlisted versions are
// served; Archived and Disposed ones are not.
func (h *Handler) serveTarball(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	file := c.Param("file")
	version, ok := tarballVersion(n, file)
	if !ok {
		h.writeError(w, r, fault.NotFound("asset", file, "%s is not a tarball of %s (expected %s)", file, n, n.TarballName("<version>")))
		return
	}
	format.ServeAsset(w, r, h.svc, format.AssetResponse{ContentType: "application/octet-stream", WriteError: h.writeError},
		func(d *format.Download) artifact.ReadRequest {
			fetch, newVersion := h.tarballFetch(n, version, d)
			return artifact.ReadRequest{VersionRef: versionRef(rq.t, n, version), Asset: assetName, Fetch: fetch, NewVersion: newVersion,
				Published: h.published(n, version)}
		})
}

// tarballFetch is one read's FetchFunc: it finds the version in the
// upstream's packument and downloads its tarball verified against the
// packument's digests, through d; newVersion gives the version it creates
// the upstream's document (a version retained from an upstream repository
// keeps its own).
func (h *Handler) tarballFetch(name Name, version string, d *format.Download) (artifact.FetchFunc, func(*store.Version)) {
	// full and readme are the fetched version's upstream document and
	// readme, once fetched.
	var full, readme string
	fetch := func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
		up, err := h.upstreamPackument(ctx, src, name)
		if err != nil {
			return blob.Digests{}, false, err
		}
		uv, ok := up.versions[version]
		if !ok {
			return blob.Digests{}, false, fault.NotFound("package-version", version, "%s@%s is not listed by %s", name, version, src.Connection)
		}
		r := up.reader()
		dist := up.dist(r, uv)
		if dist.tarball == "" {
			return blob.Digests{}, false, fault.Internal(nil, "the upstream document of %s@%s is unreadable", name, version)
		}
		exp := upstream.Expectation{SHA512: dist.sha512, SHA1: dist.sha1}
		res, err := d.Fetch(ctx, h.up, src.Connection+"\x00"+dist.tarball, dist.tarball, exp)
		if err != nil {
			return blob.Digests{}, false, err
		}
		full, readme = r.text(uv.full), r.text(uv.readme)
		return res.Digests, res.Created, nil
	}
	newVersion := func(v *store.Version) {
		if full == "" {
			return
		}
		dv, err := decodeVersionDoc([]byte(full))
		if err != nil {
			return
		}
		fillVersion(v, name, dv, readme)
		v.Metadata = full
	}
	return fetch, newVersion
}

// published is a read's question to the registry: when did it publish the
// version (the packument's time), zero when it does not list it or say.
func (h *Handler) published(n Name, version string) func(context.Context, artifact.ExternalSource) (time.Time, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (time.Time, error) {
		up, err := h.upstreamPackument(ctx, src, n)
		if err != nil {
			return time.Time{}, err
		}
		if uv, ok := up.versions[version]; ok {
			return uv.published, nil
		}
		return time.Time{}, nil
	}
}
