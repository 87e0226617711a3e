package pypi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// serveFile serves files/<project>/<version>/<file>: a distribution or its
// PEP 658 core-metadata file (<file>.metadata), resolved through the
// repository's upstreams and public:pypi.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t, project, version, name := c.Target, c.Param("project"), c.Param("version"), c.Param("file")
	ctx := r.Context()
	dist, isMeta := strings.CutSuffix(name, metadataSuffix)
	f, ok := ParseFileName(dist, project)
	if project != NormalizeName(project) || !ok || !sameVersion(f.Version, version) {
		http.Error(w, name+" is not a distribution file of "+project+" "+version, http.StatusNotFound)
		return nil
	}
	ref := versionRef(t, project, version)
	if isMeta {
		h.serveMetadata(w, r, t, ref, f)
		return nil
	}
	var ingested func() (*UpstreamFile, bool)
	o := format.AssetResponse{ContentType: "application/octet-stream", WriteError: h.writeError,
		Headers: func(hd http.Header, b store.Blob) { hd.Set("X-Checksum-Sha256", b.SHA256) },
		Served: func(res *artifact.ReadResult) {
			if e, ok := ingested(); ok {
				// Freshly ingested: give a wheel its PEP 658 file too, so that the
				// page offers it from now on, even when the upstream did not.
				h.deriveMetadata(ctx, ref, f, res.Asset.Blob.SHA256, e)
			}
		}}
	format.ServeAsset(w, r, h.svc, o, func(d *format.Download) artifact.ReadRequest {
		var req artifact.ReadRequest
		req, ingested = h.fileRequest(ref, project, f, d)
		return req
	})
	return nil
}

// serveMetadata serves <file>.metadata: stored with an upload, fetched from
// the upstream that offers it (verified against the hash its page gives),
// or extracted from the (fetched) wheel.
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, t *format.Target, ref artifact.VersionRef, f File) {
	mf := &metadataFetch{h: h, ref: ref, file: f}
	res, err := h.svc.ReadAsset(r.Context(), artifact.ReadRequest{VersionRef: ref, Asset: f.Name + metadataSuffix, Fetch: mf.fetch, NewVersion: mf.newVersion,
		Published: h.published(ref.Package, ref.Version)})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer res.Object.Close()
	a := res.Asset
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("ETag", `"`+a.Blob.SHA256+`"`)
	http.ServeContent(w, r, "", a.CreatedTime, res.Object.Reader())
}

// fileRequest is the read of a distribution file. Its FetchFunc finds the
// file on the upstream's page and downloads it verified against the page's
// hashes, through d, and reads its core metadata for the version it creates
// or adds to. ingested reports, after the read, whether it fetched the file
// and the upstream page's entry for it.
func (h *Handler) fileRequest(ref artifact.VersionRef, project string, f File, d *format.Download) (req artifact.ReadRequest, ingested func() (*UpstreamFile, bool)) {
	var (
		called bool
		entry  *UpstreamFile
		meta   *CoreMetadata
	)
	fetch := func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
		called = true
		up, err := h.upstreamPage(ctx, src, project)
		if err != nil {
			return blob.Digests{}, false, err
		}
		e, ok := up.page.File(f.Name)
		if !ok {
			return blob.Digests{}, false, fault.NotFound("asset", f.Name, "%s is not listed by %s", f.Name, src.Connection)
		}
		entry = e
		exp := upstream.Expectation{SHA256: e.Hashes.SHA256, SHA512: e.Hashes.Get("sha512"), SHA1: e.Hashes.Get("sha1"), MD5: e.Hashes.Get("md5")}
		if e.Size > 0 {
			exp.Size = e.Size
		}
		if exp.SHA256 == "" && exp.SHA512 == "" && exp.SHA1 == "" && exp.MD5 == "" {
			h.log.Warn("upstream lists a PyPI file without a hash; storing it unverified", "connection", src.Connection, "url", e.URL)
		}
		res, err := d.Fetch(ctx, h.up, src.Connection+"\x00"+e.URL, e.URL, exp)
		if err != nil {
			return blob.Digests{}, false, err
		}
		if data, err := h.blobMetadata(ctx, res.Digests.SHA256, f); err == nil {
			if m, err := ParseCoreMetadata(data); err == nil {
				meta = m
			}
		} else {
			h.log.Warn("could not read the core metadata of an upstream distribution", "url", e.URL, "err", err)
		}
		return res.Digests, res.Created, nil
	}
	req = artifact.ReadRequest{VersionRef: ref, Asset: f.Name, Fetch: fetch,
		Published: h.published(project, ref.Version),
		// A version created by this fetch (not one retained from an
		// upstream repository: that keeps its own metadata).
		NewVersion: func(v *store.Version) {
			if called {
				fillIngested(v, meta, entry, f.Name)
			}
		},
		// What the upstream said of this file in a release that existed
		// before it was fetched (another of its files came first).
		UpdateVersion: func(v *store.Version) {
			if called {
				addIngestedFile(v, meta, entry, f.Name)
			}
		}}
	return req, func() (*UpstreamFile, bool) { return entry, called }
}

// addIngestedFile keeps, in a release's metadata, what differs for one more
// ingested file: its Requires-Python, and a yank the upstream reported.
func addIngestedFile(v *store.Version, m *CoreMetadata, e *UpstreamFile, name string) {
	if m == nil && e == nil {
		return // nothing known of the file
	}
	vm := parseVersionMeta(v.Metadata)
	var fm fileMeta
	rp := ""
	switch {
	case m != nil && m.RequiresPython != "":
		rp = m.RequiresPython
	case e != nil:
		rp = e.RequiresPython
	}
	if rp != vm.RequiresPython {
		fm.RequiresPython = &rp
	}
	if e != nil {
		fm.Yanked = e.Yanked
	}
	if fm == (fileMeta{}) {
		return
	}
	if vm.Files == nil {
		vm.Files = map[string]fileMeta{}
	}
	vm.Files[name] = fm
	v.Metadata = vm.encode()
}

func fillIngested(v *store.Version, m *CoreMetadata, e *UpstreamFile, name string) {
	var vm versionMeta
	if m != nil {
		m.Apply(v, false)
		vm.RequiresPython, vm.DescriptionType = m.RequiresPython, m.DescriptionType
	}
	if e != nil {
		if vm.RequiresPython == "" {
			vm.RequiresPython = e.RequiresPython
		}
		if e.Yanked != nil {
			vm.Files = map[string]fileMeta{name: {Yanked: e.Yanked}}
		}
	}
	v.Metadata = vm.encode()
}

// metadataFetch is the FetchFunc of a <file>.metadata read.
type metadataFetch struct {
	h     *Handler
	ref   artifact.VersionRef
	file  File
	data  []byte
	entry *UpstreamFile
}

func (mf *metadataFetch) fetch(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
	up, err := mf.h.upstreamPage(ctx, src, mf.ref.Package)
	if err == nil {
		mf.entry, _ = up.page.File(mf.file.Name)
	} else if fault.KindOf(err) != fault.KindNotFound {
		mf.h.log.Warn("upstream simple page unavailable; trying the stored distribution", "project", mf.ref.Package, "err", err)
	}
	if e := mf.entry; e != nil && e.CoreMetadata != nil {
		u := e.URL + metadataSuffix
		res, err := mf.h.up.Fetch(ctx, src.Connection+"\x00"+u, u, upstream.Expectation{SHA256: e.CoreMetadata.SHA256},
			upstream.WithMaxSize(MaxMetadataSize))
		if err == nil {
			mf.data, _ = mf.h.blobBytes(ctx, res.Digests.SHA256)
			return res.Digests, res.Created, nil
		}
		if fault.KindOf(err) != fault.KindNotFound {
			return blob.Digests{}, false, err
		}
	}
	if mf.file.Kind != KindWheel {
		return blob.Digests{}, false, fault.NotFound("asset", mf.file.Name+metadataSuffix, "No core metadata file for %s", mf.file.Name)
	}
	// Extract it from the wheel, fetching the wheel first if need be.
	req, ingested := mf.h.fileRequest(mf.ref, mf.ref.Package, mf.file, format.NewDownload(nil, ""))
	res, err := mf.h.svc.ReadAsset(ctx, req)
	if err != nil {
		return blob.Digests{}, false, err
	}
	res.Object.Close()
	if mf.entry == nil {
		mf.entry, _ = ingested()
	}
	return mf.h.extractMetadata(ctx, res.Asset.Blob.SHA256, mf.file, mf.entry, &mf.data)
}

func (mf *metadataFetch) newVersion(v *store.Version) {
	var m *CoreMetadata
	if mf.data != nil {
		m, _ = ParseCoreMetadata(mf.data)
	}
	if m == nil && mf.entry == nil {
		return // retained from an upstream repository with its own metadata
	}
	fillIngested(v, m, mf.entry, mf.file.Name)
}

// extractMetadata stores a wheel's METADATA as a blob, refusing it when the
// upstream's page announced another hash for the file.
func (h *Handler) extractMetadata(ctx context.Context, wheelSHA string, f File, e *UpstreamFile, out *[]byte) (blob.Digests, bool, error) {
	data, err := h.blobMetadata(ctx, wheelSHA, f)
	if err != nil {
		return blob.Digests{}, false, fault.NotFound("asset", f.Name+metadataSuffix, "No core metadata in %s: %v", f.Name, err)
	}
	staged, err := h.up.Stage(ctx, bytes.NewReader(data), MaxMetadataSize)
	if err != nil {
		return blob.Digests{}, false, fault.Internal(err, "could not stage the core metadata of %s", f.Name)
	}
	defer staged.Discard()
	dg := staged.Digests()
	if e != nil && e.CoreMetadata != nil && e.CoreMetadata.SHA256 != "" && e.CoreMetadata.SHA256 != dg.SHA256 {
		return blob.Digests{}, false, &fault.Error{Kind: fault.KindUnavailable,
			Message: "the METADATA of " + f.Name + " does not match the core-metadata hash its upstream page gives"}
	}
	created, err := staged.Commit(ctx)
	if err != nil {
		return blob.Digests{}, false, fault.Internal(err, "could not store the core metadata of %s", f.Name)
	}
	*out = data
	return dg, created, nil
}

// deriveMetadata records a freshly ingested wheel's <file>.metadata (best
// effort: the file itself was served already).
func (h *Handler) deriveMetadata(ctx context.Context, ref artifact.VersionRef, f File, wheelSHA string, e *UpstreamFile) {
	if f.Kind != KindWheel {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var data []byte
	res, err := h.svc.ReadAsset(ctx, artifact.ReadRequest{VersionRef: ref, Asset: f.Name + metadataSuffix,
		Fetch: func(ctx context.Context, _ artifact.ExternalSource) (blob.Digests, bool, error) {
			return h.extractMetadata(ctx, wheelSHA, f, e, &data)
		}})
	if err != nil {
		h.log.Warn("could not record the core metadata of an ingested wheel", "file", f.Name, "err", err)
		return
	}
	res.Object.Close()
}

// blobMetadata reads the core metadata file out of a stored distribution.
func (h *Handler) blobMetadata(ctx context.Context, sha string, f File) ([]byte, error) {
	obj, err := h.up.Open(ctx, sha)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	ra, ok := obj.Reader().(io.ReaderAt)
	if !ok {
		ra = &seekReaderAt{r: obj}
	}
	return DistributionMetadata(ra, obj.Size(), f)
}

// blobBytes reads a small stored blob.
func (h *Handler) blobBytes(ctx context.Context, sha string) ([]byte, error) {
	obj, err := h.up.Open(ctx, sha)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return readLimited(obj)
}

// seekReaderAt adapts a ReadSeeker to io.ReaderAt.
type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// published is a read's question to the upstream: when did it publish the
// release (releaseUploaded of its page).
func (h *Handler) published(project, version string) func(context.Context, artifact.ExternalSource) (time.Time, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (time.Time, error) {
		up, err := h.upstreamPage(ctx, src, project)
		if err != nil {
			return time.Time{}, err
		}
		return releaseUploaded(up.page, project, version), nil
	}
}

// releaseUploaded is when a page's release was published: its first
// file's upload time, zero when a file of it has none.
func releaseUploaded(p *UpstreamPage, project, version string) time.Time {
	var first time.Time
	for i := range p.Len() {
		f, ok := ParseFileName(p.name(i), project)
		if !ok || !sameVersion(f.Version, version) {
			continue
		}
		t := p.uploaded(i)
		if t.IsZero() {
			return time.Time{}
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}
