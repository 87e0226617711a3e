package npm

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/upstream"
)

// upstreamPackument is a packument of an external registry, parsed into
// canonical fragments once per document the upstream sends (the upstream
// client revalidates it after its metadata TTL).
type upstreamPackument struct {
	doc      *upstream.Document
	src      artifact.ExternalSource
	versions map[string]*upstreamVersion
	tags     map[string]string
	readme   string
	cost     int64
}

// upstreamVersion is one version an external registry lists.
type upstreamVersion struct {
	full, abbrev []byte // canonical fragments (no tarball)
	tarball      string // where the upstream serves it
	sha512       string // hex, from dist.integrity; "" when not given
	sha1         string // hex, from dist.shasum or a sha1 integrity
	published    time.Time
	readme       string
}

// ParseUpstreamPackument parses a full packument as a registry serves it.
// Versions whose key is not a usable version string, or whose document
// lacks dist.tarball or a digest to verify it (dist.integrity or
// dist.shasum), are left out: coffer could not serve them safely.
func ParseUpstreamPackument(body []byte) (*upstreamPackument, error) {
	var raw struct {
		DistTags map[string]json.RawMessage `json:"dist-tags"`
		Versions map[string]json.RawMessage `json:"versions"`
		Time     map[string]json.RawMessage `json:"time"`
		Readme   json.RawMessage            `json:"readme"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("upstream packument: %w", err)
	}
	p := &upstreamPackument{versions: map[string]*upstreamVersion{}, tags: map[string]string{}}
	_ = json.Unmarshal(raw.Readme, &p.readme)
	for tag, v := range raw.DistTags {
		var s string
		if json.Unmarshal(v, &s) == nil && validTag(tag) {
			p.tags[tag] = s
		}
	}
	for key, vraw := range raw.Versions {
		if !cleanVersionKey(key) {
			continue
		}
		d, err := decodeVersionDoc(vraw)
		if err != nil {
			continue
		}
		uv := &upstreamVersion{tarball: str(d.dist, "tarball"), sha1: strings.ToLower(str(d.dist, "shasum"))}
		if uv.tarball == "" {
			continue
		}
		for _, sri := range strings.Fields(str(d.dist, "integrity")) {
			alg, hexsum, ok := parseSRI(sri)
			switch {
			case !ok:
			case alg == "sha512":
				uv.sha512 = hexsum
			case alg == "sha1" && uv.sha1 == "":
				uv.sha1 = hexsum
			}
		}
		if uv.sha512 == "" && len(uv.sha1) != 40 {
			continue // nothing to verify its tarball against
		}
		uv.readme = d.takeReadme()
		if uv.full, err = d.encode(); err != nil {
			continue
		}
		if uv.abbrev, err = abbreviate(uv.full); err != nil {
			continue
		}
		if t, ok := raw.Time[key]; ok {
			var s string
			if json.Unmarshal(t, &s) == nil {
				uv.published, _ = time.Parse(time.RFC3339Nano, s)
			}
		}
		p.versions[key] = uv
		p.cost += int64(len(uv.full)+len(uv.abbrev)+len(uv.tarball)+len(uv.readme)) + 256
	}
	p.cost += int64(len(p.readme))
	return p, nil
}

// parseSRI splits a Subresource Integrity value "sha512-<base64>" into its
// algorithm and hex digest.
func parseSRI(s string) (alg, hexsum string, ok bool) {
	alg, b64, found := strings.Cut(s, "-")
	if !found {
		return "", "", false
	}
	if i := strings.IndexByte(b64, '?'); i >= 0 {
		b64 = b64[:i] // SRI options
	}
	sum, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", "", false
	}
	alg = strings.ToLower(alg)
	want := map[string]int{"sha512": 64, "sha384": 48, "sha256": 32, "sha1": 20}[alg]
	if want == 0 || len(sum) != want {
		return "", "", false
	}
	return alg, hex.EncodeToString(sum), true
}

// sriSHA512 is the SRI integrity of a SHA-512 hex digest.
func sriSHA512(hexsum string) string {
	b, err := hex.DecodeString(hexsum)
	if err != nil {
		return ""
	}
	return "sha512-" + base64.StdEncoding.EncodeToString(b)
}

// upstreamDoc is an external source's packument document, as the
// upstream client returned it (not parsed yet).
type upstreamDoc struct {
	doc *upstream.Document
	src artifact.ExternalSource
}

// upstreamDocument reads a package's packument from an external source
// through the upstream client's revalidating cache.
func (h *Handler) upstreamDocument(ctx context.Context, src artifact.ExternalSource, n Name) (upstreamDoc, error) {
	u := src.BaseURL + n.Escaped()
	res, err := h.up.Get(ctx, u, upstream.WithHeader("Accept", MediaJSON))
	if err != nil {
		return upstreamDoc{}, err
	}
	if res.Freshness == upstream.Stale {
		h.log.Warn("serving a stale upstream packument", "url", u, "err", res.Err)
	}
	return upstreamDoc{doc: res.Document, src: src}, nil
}

// parse returns the parsed packument, cached per document.
func (h *Handler) parse(d upstreamDoc) (*upstreamPackument, error) {
	fp := uint64(d.doc.FetchedAt.UnixNano()) ^ uint64(len(d.doc.Body))<<1
	if p, ok := h.parsed.Get(d.doc.URL, fp); ok && sameBody(p.doc, d.doc) {
		return p, nil
	}
	p, err := ParseUpstreamPackument(d.doc.Body)
	if err != nil {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "the upstream packument " + d.doc.URL + " is unreadable", Err: err}
	}
	p.doc, p.src = d.doc, d.src
	h.parsed.Put(d.doc.URL, fp, p, p.cost)
	return p, nil
}

// upstreamPackument reads and parses a package's packument from an
// external source.
func (h *Handler) upstreamPackument(ctx context.Context, src artifact.ExternalSource, n Name) (*upstreamPackument, error) {
	d, err := h.upstreamDocument(ctx, src, n)
	if err != nil {
		return nil, err
	}
	return h.parse(d)
}

// sameBody reports whether two documents carry the same body (a
// revalidated document is a copy sharing its body).
func sameBody(a, b *upstream.Document) bool {
	return a == b || a != nil && b != nil && len(a.Body) == len(b.Body) && a.FetchedAt.Equal(b.FetchedAt) && a.URL == b.URL
}

// upstreamDocuments reads the packuments of every external source (once
// per URL), without parsing them: a cached packument is served on their
// identity alone. A failing upstream never hides what is stored: its error
// is returned beside the documents that could be read; a 404 is no error.
func (h *Handler) upstreamDocuments(ctx context.Context, srcs []artifact.ExternalSource, n Name) ([]upstreamDoc, error) {
	var out []upstreamDoc
	var lastErr error
	seen := map[string]bool{}
	for _, src := range srcs {
		if seen[src.BaseURL] {
			continue
		}
		seen[src.BaseURL] = true
		d, err := h.upstreamDocument(ctx, src, n)
		switch {
		case err == nil:
			out = append(out, d)
		case fault.KindOf(err) == fault.KindNotFound:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			h.log.Warn("upstream packument unavailable", "connection", src.Connection, "package", n.String(), "err", err)
			lastErr = err
		}
	}
	return out, lastErr
}

// parseAll parses upstream documents; an unreadable one is left out, its
// error returned.
func (h *Handler) parseAll(docs []upstreamDoc) ([]*upstreamPackument, error) {
	var out []*upstreamPackument
	var lastErr error
	for _, d := range docs {
		p, err := h.parse(d)
		if err != nil {
			h.log.Warn("upstream packument unreadable", "url", d.doc.URL, "err", err)
			lastErr = err
			continue
		}
		out = append(out, p)
	}
	return out, lastErr
}
