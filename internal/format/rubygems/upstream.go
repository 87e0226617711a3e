package rubygems

import (
	"context"
	"io"
	"net/url"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
	"coffer/internal/upstream"
)

// upstreamInfo is an external source's info/<gem>, parsed as it was read
// (only its parse is kept, in the upstream client's cache).
type upstreamInfo struct {
	doc      *upstream.Document
	versions []InfoVersion
	src      artifact.ExternalSource
}

// infoLimits bound an upstream info file: rubygems.org's largest are a few
// MiB (thousands of builds).
var infoLimits = ParseLimits{MaxBytes: 32 << 20, MaxLines: 200000}

func decodeInfo(body io.Reader, d *upstream.Document) (any, int64, error) {
	vs, _, err := ParseInfo(body, infoLimits)
	if err != nil {
		return nil, 0, err
	}
	var cost int64 = 64
	for _, v := range vs {
		cost += 96 + int64(len(v.Version)+len(v.Platform)+len(v.Checksum))
		for _, d := range v.Dependencies {
			cost += 48 + int64(len(d.Name))
		}
		for _, f := range v.Extra {
			cost += 32 + int64(len(f.Key)+len(f.Value))
		}
	}
	return vs, cost, nil
}

// fetchInfo reads info/<gem> from an external source, through the upstream
// client's revalidating cache.
func (h *Handler) fetchInfo(ctx context.Context, src artifact.ExternalSource, name string) (*upstreamInfo, error) {
	u := src.BaseURL + "info/" + url.PathEscape(name)
	res, err := h.up.Get(ctx, u, upstream.WithDecode("rubygems-info", decodeInfo), upstream.WithMaxSize(infoLimits.MaxBytes))
	if err != nil {
		return nil, err
	}
	if res.Freshness == upstream.Stale {
		h.log.Warn("serving a stale upstream info file", "url", u, "err", res.Err)
	}
	vs, ok := res.Value.([]InfoVersion)
	if !ok {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "the upstream info file " + u + " is unreadable"}
	}
	return &upstreamInfo{doc: res.Document, versions: vs, src: src}, nil
}

// upstreamInfos reads info/<gem> of every external source (once per URL);
// a failing upstream's error comes beside what could be read.
func (h *Handler) upstreamInfos(ctx context.Context, srcs []artifact.ExternalSource, name string) ([]*upstreamInfo, error) {
	return format.Gather(ctx, h.log, "upstream info file of "+name, srcs,
		func(ctx context.Context, src artifact.ExternalSource) (*upstreamInfo, error) {
			return h.fetchInfo(ctx, src, name)
		})
}

// gemRequest is the read of a .gem. Its FetchFunc finds the build in the
// external source's info file and downloads gems/<file> through d,
// verified against the line's checksum (the .gem's SHA-256); the version it
// creates or adds to records the line, and what the gem's spec says.
func (h *Handler) gemRequest(ref artifact.VersionRef, g GemFile, d *format.Download) artifact.ReadRequest {
	var (
		called bool
		line   InfoVersion
		spec   *Spec
	)
	file := g.FileName()
	fetch := func(ctx context.Context, src artifact.ExternalSource) (blob.Digests, bool, error) {
		called = true
		up, err := h.fetchInfo(ctx, src, g.Name)
		if err != nil {
			return blob.Digests{}, false, err
		}
		found := false
		for _, v := range up.versions {
			if v.Version == g.Version && NormalizePlatform(v.Platform) == NormalizePlatform(g.Platform) {
				line, found = v, true
			}
		}
		if !found {
			return blob.Digests{}, false, fault.NotFound("asset", file, "%s is not listed by %s", file, src.Connection)
		}
		if line.Checksum == "" {
			h.log.Warn("upstream lists a gem without a checksum; storing it unverified", "connection", src.Connection, "gem", file)
		}
		u := src.BaseURL + "gems/" + url.PathEscape(file)
		res, err := d.Fetch(ctx, h.up, src.Connection+"\x00"+u, u, upstream.Expectation{SHA256: line.Checksum})
		if err != nil {
			return blob.Digests{}, false, err
		}
		if line.Checksum == "" {
			line.Checksum = res.Digests.SHA256
		}
		if s, err := h.blobSpec(ctx, res.Digests.SHA256); err == nil {
			spec = s
		} else {
			h.log.Warn("could not read the spec of an upstream gem", "gem", file, "err", err)
		}
		return res.Digests, res.Created, nil
	}
	return artifact.ReadRequest{VersionRef: ref, Asset: file, Fetch: fetch,
		Published: func(ctx context.Context, src artifact.ExternalSource) (time.Time, error) {
			up, err := h.fetchInfo(ctx, src, g.Name)
			if err != nil {
				return time.Time{}, err
			}
			return versionCreated(up.versions, g.Version), nil
		},
		NewVersion: func(v *store.Version) {
			if called {
				recordBuild(v, spec, file, line, true)
			}
		},
		UpdateVersion: func(v *store.Version) {
			if called {
				recordBuild(v, spec, file, line, false)
			}
		}}
}

// versionCreated is when the registry published a version, as its info
// lines say (rubygems.org's newer lines carry created_at): its first
// build's time, zero when a build of it has none (fail closed: that build
// may be new) or the lines do not list it.
func versionCreated(lines []InfoVersion, version string) time.Time {
	var first time.Time
	for i := range lines {
		if lines[i].Version != version {
			continue
		}
		t := lines[i].createdAt()
		if t.IsZero() {
			return time.Time{}
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

// createdAt is the line's created_at, zero when it has none.
func (v *InfoVersion) createdAt() time.Time {
	for _, f := range v.Extra {
		if f.Key == "created_at" {
			t, err := time.Parse(time.RFC3339, f.Value)
			if err != nil {
				return time.Time{}
			}
			return t
		}
	}
	return time.Time{}
}

// blobSpec reads the spec of a stored .gem (streamed, never whole in
// memory).
func (h *Handler) blobSpec(ctx context.Context, sha string) (*Spec, error) {
	obj, err := h.up.Open(ctx, sha)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	g, err := ReadGem(obj.Reader(), Limits{})
	if err != nil {
		return nil, err
	}
	return g.Spec, nil
}
