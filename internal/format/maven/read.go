package maven

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// get serves GET and HEAD: files, their checksums and metadata.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	p, err := parse(c)
	if err != nil {
		return err
	}
	ctx, t := r.Context(), c.Target
	switch p.Kind {
	case KindArtifactMetadata, KindVersionMetadata:
		var d *document
		if p.Kind == KindArtifactMetadata {
			d, err = h.artifactMetadata(ctx, t, p)
		} else {
			d, err = h.snapshotMetadata(ctx, t, p)
		}
		if err != nil {
			return err
		}
		if p.Checksum != "" {
			serveChecksum(w, r, digestOf(d.digests, p.Checksum), d.modTime)
			return nil
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("ETag", `"`+d.digests.SHA1+`"`)
		http.ServeContent(w, r, MetadataFile, d.modTime, bytes.NewReader(d.body))
	default:
		h.getFile(w, r, t, p)
	}
	return nil
}

// getFile serves a file of a version, or its checksum, resolving it through
// the repository's upstreams and external connection.
func (h *Handler) getFile(w http.ResponseWriter, r *http.Request, t *format.Target, p Path) {
	ctx := r.Context()
	ref := versionRef(t, p, p.AssetVersion())
	asset := p.File
	if p.NonUniqueSnapshot() {
		b, _, err := h.newestBuild(ctx, packageRef(t, p), p.Version)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		ref.Version = b.Version()
		asset = FileName(p.ArtifactID, b.Version(), p.Classifier, p.Extension)
	}
	o := format.AssetResponse{ContentType: contentType(asset), WriteError: h.writeError, Headers: checksumHeaders}
	if p.Checksum != "" {
		o.Respond = func(w http.ResponseWriter, r *http.Request, a store.Asset) {
			serveChecksum(w, r, digestOf(a.Blob, p.Checksum), a.CreatedTime)
		}
	}
	path := p.GroupPath() + "/" + p.ArtifactID + "/" + p.Version + "/" + asset
	format.ServeAsset(w, r, h.svc, o, func(d *format.Download) artifact.ReadRequest {
		req := artifact.ReadRequest{VersionRef: ref, Asset: asset}
		fetch, newVersion := h.fileFetch(path, p.Extension == "pom" && p.Classifier == "", d)
		req.NewVersion = newVersion
		if !IsSnapshot(p.Version) { // SNAPSHOTs are never ingested from external connections
			req.Fetch = fetch
			req.Published = func(ctx context.Context, src artifact.ExternalSource) (time.Time, error) {
				return h.published(ctx, src, p, p.Version)
			}
		}
		return req
	})
}

// checksumHeaders are a stored file's ETag (its SHA-1) and checksums.
func checksumHeaders(hd http.Header, b store.Blob) {
	hd.Set("ETag", `"`+b.SHA1+`"`)
	hd.Set("X-Checksum-Sha1", b.SHA1)
	hd.Set("X-Checksum-Md5", b.MD5)
	hd.Set("X-Checksum-Sha256", b.SHA256)
}

func serveChecksum(w http.ResponseWriter, r *http.Request, digest string, mod time.Time) {
	if digest == "" {
		http.Error(w, "checksum not available", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	http.ServeContent(w, r, "", mod, bytes.NewReader([]byte(digest)))
}

// published is when an external repository published a release: the
// Last-Modified of its POM's .sha1 (Maven repositories serve files with
// their deploy time, and the checksum is the smallest file of the
// release), zero when the repository does not say. The response is the
// upstream client's cached document, which the download's verification
// reads anyway.
func (h *Handler) published(ctx context.Context, src artifact.ExternalSource, p Path, version string) (time.Time, error) {
	path := p.GroupPath() + "/" + p.ArtifactID + "/" + version + "/" + FileName(p.ArtifactID, version, "", "pom") + ".sha1"
	res, err := h.up.Get(ctx, src.BaseURL+(&url.URL{Path: path}).EscapedPath())
	switch {
	case fault.KindOf(err) == fault.KindNotFound:
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, err
	}
	t, err := http.ParseTime(res.Document.LastModified)
	if err != nil {
		return time.Time{}, nil
	}
	return t, nil
}

// fileFetch is one read's FetchFunc for the file at path: it fetches the
// file from an external connection, verified against the upstream's .sha1,
// through d, and reads a POM's metadata on the way for newVersion.
func (h *Handler) fileFetch(path string, isPOM bool, d *format.Download) (artifact.FetchFunc, func(*store.Version)) {
	var capture *pomBuffer
	if isPOM {
		capture = &pomBuffer{}
		d.CopyTo(capture)
	}
	var pom *POM
	fetch := func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
		u := src.BaseURL + (&url.URL{Path: path}).EscapedPath()
		var exp upstream.Expectation
		sum, err := h.up.Checksum(ctx, u+".sha1")
		switch {
		case err == nil:
			exp.SHA1 = sum
		case fault.KindOf(err) == fault.KindNotFound:
			h.log.Warn("upstream has no .sha1 for a Maven file; storing it unverified", "connection", src.Connection, "url", u)
		default:
			return blob.Digests{}, false, err
		}
		res, err := d.Fetch(ctx, h.up, u, u, exp)
		if err != nil {
			return blob.Digests{}, false, err
		}
		if capture != nil && !res.Shared && !capture.overflow {
			if p, err := ParsePOM(capture.buf.Bytes()); err == nil {
				pom = p
			} else {
				h.log.Warn("could not read the metadata of an upstream POM", "url", u, "err", err)
			}
		}
		return res.Digests, res.Created, nil
	}
	newVersion := func(v *store.Version) {
		if pom != nil {
			pom.Apply(v)
		}
	}
	return fetch, newVersion
}

// pomBuffer keeps the bytes of a POM as they are downloaded, none once
// they are over MaxPOMSize.
type pomBuffer struct {
	buf      bytes.Buffer
	overflow bool
}

func (b *pomBuffer) Write(p []byte) (int, error) {
	if !b.overflow {
		if b.buf.Len()+len(p) > MaxPOMSize {
			b.overflow = true
			b.buf = bytes.Buffer{}
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

// document is a rendered or stored metadata document with its digests.
type document struct {
	body    []byte
	digests store.Blob
	modTime time.Time
}

func newDocument(body []byte, mod time.Time) *document {
	m, s1, s256, s512 := md5.Sum(body), sha1.Sum(body), sha256.Sum256(body), sha512.Sum512(body)
	return &document{body: body, modTime: mod, digests: store.Blob{MD5: hex.EncodeToString(m[:]), SHA1: hex.EncodeToString(s1[:]),
		SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:]), Size: int64(len(body))}}
}

// newestBuild returns the newest Published build of a SNAPSHOT version
// that the repository shows.
func (h *Handler) newestBuild(ctx context.Context, ref artifact.PackageRef, snapshot string) (Build, *artifact.VisibleVersion, error) {
	view, err := h.svc.ViewPackage(ctx, ref, false)
	if err != nil {
		return Build{}, nil, err
	}
	var best Build
	var bestV *artifact.VisibleVersion
	for i := range view.Versions {
		v := &view.Versions[i]
		b, ok := ParseBuild(v.Version.Version)
		if !ok || v.Status != artifact.StatusPublished || b.Snapshot() != snapshot {
			continue
		}
		if bestV == nil || b.Newer(best) {
			best, bestV = b, v
		}
	}
	if bestV == nil {
		return Build{}, nil, fault.NotFound("package-version", snapshot, "No published build of %s:%s:%s", ref.Namespace, ref.Package, snapshot)
	}
	return best, bestV, nil
}

// snapshotMetadata is SNAPSHOT version-level metadata: the document the
// client uploaded with the newest published build, or one generated from
// the build's version.
func (h *Handler) snapshotMetadata(ctx context.Context, t *format.Target, p Path) (*document, error) {
	b, v, err := h.newestBuild(ctx, packageRef(t, p), p.Version)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.ReadAsset(ctx, artifact.ReadRequest{VersionRef: versionRef(t, p, b.Version()), Asset: MetadataFile})
	if errors.Is(err, fault.ErrNotFound) {
		return newDocument(RenderSnapshotMetadata(p.GroupID, p.ArtifactID, b, v.PublishedTime, nil), v.PublishedTime), nil
	} else if err != nil {
		return nil, err
	}
	defer res.Object.Close()
	body, err := io.ReadAll(io.LimitReader(res.Object, MaxMetadataSize))
	if err != nil {
		return nil, fault.Internal(err, "could not read the stored maven-metadata.xml")
	}
	return newDocument(body, res.Asset.CreatedTime), nil
}
