package npm

import (
	"context"
	"io"
	"net/http"
	"strings"

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
func (h *Handler) serveTarball(w http.ResponseWriter, r *http.Request, rq *request, n Name, file string) {
	if !h.authorizeRead(w, r, rq) {
		return
	}
	version, ok := tarballVersion(n, file)
	if !ok {
		h.writeError(w, r, fault.NotFound("asset", file, "%s is not a tarball of %s (expected %s)", file, n, n.TarballName("<version>")))
		return
	}
	var client http.ResponseWriter
	if r.Method == http.MethodGet {
		client = w // stream the first download to this client while it is stored
	}
	tf := &tarballFetch{h: h, name: n, version: version, tee: format.NewTee(client)}
	res, err := h.svc.ReadAsset(r.Context(), artifact.ReadRequest{VersionRef: versionRef(rq.t, n, version), Asset: assetName,
		Fetch: tf.fetch, NewVersion: tf.newVersion})
	if err != nil {
		if tf.tee.Started() {
			// Part of the body went out: only a cut connection tells the
			// client that it is not the tarball.
			panic(http.ErrAbortHandler)
		}
		h.writeError(w, r, err)
		return
	}
	defer res.Object.Close()
	if tf.tee.Started() {
		if !tf.tee.Complete(res.Asset.Blob.SHA256) {
			panic(http.ErrAbortHandler)
		}
		return
	}
	a := res.Asset
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("ETag", `"`+a.Blob.SHA256+`"`)
	http.ServeContent(w, r, "", a.CreatedTime, res.Object.Reader())
}

// tarballFetch is one read's FetchFunc: it finds the version in the
// upstream's packument, downloads its tarball verified against the
// packument's digests, streams it to the client while it is stored (a
// format.Tee), and gives the new version the upstream's document.
type tarballFetch struct {
	h       *Handler
	name    Name
	version string
	tee     *format.Tee

	// full and readme are the fetched version's upstream document and
	// readme, once fetched.
	full, readme string
}

func (tf *tarballFetch) fetch(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
	if tf.h.blobs == nil {
		return blob.Digests{}, false, &fault.Error{Kind: fault.KindUnavailable, Message: "this server has no blob store to fetch tarballs into"}
	}
	up, err := tf.h.upstreamPackument(ctx, src, tf.name)
	if err != nil {
		return blob.Digests{}, false, err
	}
	uv, ok := up.versions[tf.version]
	if !ok {
		return blob.Digests{}, false, fault.NotFound("package-version", tf.version, "%s@%s is not listed by %s", tf.name, tf.version, src.Connection)
	}
	r := up.reader()
	dist := up.dist(r, uv)
	if dist.tarball == "" {
		return blob.Digests{}, false, fault.Internal(nil, "the upstream document of %s@%s is unreadable", tf.name, tf.version)
	}
	exp := upstream.Expectation{SHA512: dist.sha512, SHA1: dist.sha1}
	var opts []upstream.Option
	if tf.tee.Enabled() {
		opts = append(opts, upstream.WithTee(func(m upstream.Meta) io.Writer { return tf.tee.Begin("application/octet-stream", m) }))
	}
	res, err := tf.h.up.Fetch(ctx, src.Connection+"\x00"+dist.tarball, dist.tarball, exp, tf.h.blobs, opts...)
	if err != nil {
		return blob.Digests{}, false, err
	}
	tf.full, tf.readme = r.text(uv.full), r.text(uv.readme)
	tf.tee.Fetched(res)
	return res.Digests, res.Created, nil
}

// newVersion fills a version created by this fetch from the upstream's
// document (a version retained from an upstream repository keeps its own).
func (tf *tarballFetch) newVersion(v *store.Version) {
	if tf.full == "" {
		return
	}
	d, err := decodeVersionDoc([]byte(tf.full))
	if err != nil {
		return
	}
	fillVersion(v, tf.name, d, tf.readme)
	v.Metadata = tf.full
}
