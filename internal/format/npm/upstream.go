package npm

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/jsonstream"
	"coffer/internal/upstream"
)

// upstreamPackument is a packument of an external registry, parsed into
// canonical fragments as the upstream sends it (a stream: the document is
// never whole in memory) and kept compressed, once per document the
// upstream sends (the upstream client caches it with the document, and
// revalidates it after its metadata TTL). It is immutable once parsed.
type upstreamPackument struct {
	versions map[string]*upstreamVersion
	tags     map[string]string
	readme   span // the top-level readme
	arena    packed
	cost     int64
}

// upstreamVersion is one version an external registry lists; its strings
// are in the packument's arena.
type upstreamVersion struct {
	full      span // canonical fragment (no tarball)
	dist      span // versionDist.encode
	readme    span
	published time.Time
}

// versionDist is where an upstream version's tarball is and what it must
// hash to.
type versionDist struct {
	tarball string // where the upstream serves it
	sha512  string // hex, from dist.integrity; "" when not given
	sha1    string // hex, from dist.shasum or a sha1 integrity
}

// reader returns a reader of the packument's strings, for one goroutine.
func (p *upstreamPackument) reader() *packedReader { return p.arena.reader() }

// dist returns where a version's tarball is and its digests.
func (p *upstreamPackument) dist(r *packedReader, uv *upstreamVersion) versionDist {
	var d versionDist
	b, err := r.get(uv.dist)
	if err != nil {
		return d
	}
	var fields [2]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return versionDist{}
		}
		fields[i], b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	d.tarball, d.sha512, d.sha1 = fields[0], fields[1], string(b)
	return d
}

// encode is the form dist reads back.
func (d versionDist) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(d.tarball)))
	b = append(b, d.tarball...)
	b = binary.AppendUvarint(b, uint64(len(d.sha512)))
	b = append(b, d.sha512...)
	return append(b, d.sha1...)
}

// upstreamCost is what one version takes beside its strings.
const upstreamCost = 160

// parseUpstreamPackument parses a full packument as a registry serves it,
// reading it as a stream: only one version's document (at most
// maxVersion bytes) is whole in memory at a time. Versions whose key is
// not a usable version string, or whose document lacks dist.tarball or a
// digest to verify it (dist.integrity or dist.shasum), or is larger than
// maxVersion, are left out: coffer could not serve them safely. Members
// are matched as encoding/json matches struct fields (case-insensitively,
// the last of duplicates winning).
func parseUpstreamPackument(body io.Reader, maxVersion int) (*upstreamPackument, error) {
	p := &upstreamPackument{versions: map[string]*upstreamVersion{}, tags: map[string]string{}}
	s := jsonstream.New(body)
	times := map[string]time.Time{}
	var buf []byte
	isObject, err := s.Object()
	if err != nil {
		return nil, fmt.Errorf("upstream packument: %w", err)
	}
	for first := true; isObject; first = false {
		key, ok, err := s.Member(first)
		if err != nil {
			return nil, fmt.Errorf("upstream packument: %w", err)
		}
		if !ok {
			break
		}
		switch {
		case strings.EqualFold(key, "versions"):
			err = p.readVersions(s, &buf, maxVersion)
		case strings.EqualFold(key, "dist-tags"):
			err = readMembers(s, &buf, maxVersion, func(tag string, v []byte) {
				var str string
				if json.Unmarshal(v, &str) == nil && validTag(tag) {
					p.tags[tag] = str
				} else {
					delete(p.tags, tag)
				}
			})
		case strings.EqualFold(key, "time"):
			err = readMembers(s, &buf, maxVersion, func(ver string, v []byte) {
				var str string
				delete(times, ver)
				if json.Unmarshal(v, &str) == nil {
					if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
						times[ver] = t
					}
				}
			})
		case strings.EqualFold(key, "readme"):
			var readme string
			switch buf, err = s.Value(buf, maxVersion); {
			case err == nil:
				if json.Unmarshal(buf, &readme) != nil {
					readme = ""
				}
			case errors.Is(err, jsonstream.ErrTooBig):
				err = nil
			}
			p.readme = p.arena.add([]byte(readme))
		default:
			err = s.Skip()
		}
		if err != nil {
			return nil, fmt.Errorf("upstream packument: %w", err)
		}
	}
	if err := s.End(); err != nil {
		return nil, fmt.Errorf("upstream packument: %w", err)
	}
	p.arena.finish()
	for ver, uv := range p.versions {
		uv.published = times[ver]
		p.cost += int64(len(ver)) + upstreamCost
	}
	for tag, v := range p.tags {
		p.cost += int64(len(tag) + len(v) + 64)
	}
	p.cost += p.arena.size + 512
	return p, nil
}

// readMembers reads an object (or null), calling f with each member's
// name and raw value; a value over limit bytes is given as nil.
func readMembers(s *jsonstream.Stream, buf *[]byte, limit int, f func(key string, raw []byte)) error {
	isObject, err := s.Object()
	if err != nil || !isObject {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := s.Member(first)
		if err != nil || !ok {
			return err
		}
		v, err := s.Value(*buf, limit)
		switch {
		case err == nil:
			*buf = v
		case errors.Is(err, jsonstream.ErrTooBig):
			v = nil
		default:
			return err
		}
		f(key, v)
	}
}

// readVersions reads the versions object, one version at a time.
func (p *upstreamPackument) readVersions(s *jsonstream.Stream, buf *[]byte, maxVersion int) error {
	return readMembers(s, buf, maxVersion, func(key string, raw []byte) {
		uv := p.version(key, raw)
		if uv == nil {
			delete(p.versions, key)
			return
		}
		p.versions[key] = uv
	})
}

// version parses one version's document, nil if it is not usable.
func (p *upstreamPackument) version(key string, raw []byte) *upstreamVersion {
	if raw == nil || !cleanVersionKey(key) {
		return nil
	}
	d, err := decodeVersionDoc(raw)
	if err != nil {
		return nil
	}
	dist := versionDist{tarball: str(d.dist, "tarball"), sha1: strings.ToLower(str(d.dist, "shasum"))}
	if dist.tarball == "" {
		return nil
	}
	for _, sri := range strings.Fields(str(d.dist, "integrity")) {
		alg, hexsum, ok := parseSRI(sri)
		switch {
		case !ok:
		case alg == "sha512":
			dist.sha512 = hexsum
		case alg == "sha1" && dist.sha1 == "":
			dist.sha1 = hexsum
		}
	}
	if dist.sha512 == "" && len(dist.sha1) != 40 {
		return nil // nothing to verify its tarball against
	}
	readme := d.takeReadme()
	full, err := d.encode()
	if err != nil {
		return nil
	}
	if _, ok := topMembers(string(full)); !ok {
		return nil // abbreviate could not read it
	}
	return &upstreamVersion{
		full:   p.arena.add(full),
		dist:   p.arena.add(dist.encode()),
		readme: p.arena.add([]byte(readme)),
	}
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
// upstream client returned it (parsed as it was read).
type upstreamDoc struct {
	doc *upstream.Document
	src artifact.ExternalSource
}

// decodePackument is the upstream client's decoder of packuments: the
// document is parsed as it arrives, and only its parse is kept.
func (h *Handler) decodePackument(body io.Reader, d *upstream.Document) (any, int64, error) {
	p, err := parseUpstreamPackument(body, int(h.maxDoc))
	if err != nil {
		return nil, 0, err
	}
	return p, p.cost, nil
}

// upstreamDocument reads and parses a package's packument from an
// external source through the upstream client's revalidating cache.
func (h *Handler) upstreamDocument(ctx context.Context, src artifact.ExternalSource, n Name) (upstreamDoc, error) {
	u := src.BaseURL + n.Escaped()
	res, err := h.up.Get(ctx, u, upstream.WithHeader("Accept", MediaJSON), upstream.WithDecode("npm-packument", h.decodePackument))
	if err != nil {
		return upstreamDoc{}, err
	}
	if res.Freshness == upstream.Stale {
		h.log.Warn("serving a stale upstream packument", "url", u, "err", res.Err)
	}
	return upstreamDoc{doc: res.Document, src: src}, nil
}

// parse returns the document's packument.
func (h *Handler) parse(d upstreamDoc) (*upstreamPackument, error) {
	p, ok := d.doc.Value.(*upstreamPackument)
	if !ok {
		return nil, &fault.Error{Kind: fault.KindUnavailable, Message: "the upstream packument " + d.doc.URL + " is unreadable"}
	}
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

// upstreamDocuments reads the packuments of every external source (once
// per URL), without parsing them: a cached packument is served on their
// identity alone. A failing upstream never hides what is stored: its error
// is returned beside the documents that could be read; a 404 is no error.
func (h *Handler) upstreamDocuments(ctx context.Context, srcs []artifact.ExternalSource, n Name) ([]upstreamDoc, error) {
	return format.Gather(ctx, h.log, "upstream packument of "+n.String(), srcs,
		func(ctx context.Context, src artifact.ExternalSource) (upstreamDoc, error) {
			return h.upstreamDocument(ctx, src, n)
		})
}

// parseAll parses upstream documents; an unreadable one is left out, its
// error returned.
func (h *Handler) parseAll(docs []upstreamDoc) ([]parsedPackument, error) {
	var out []parsedPackument
	var lastErr error
	for _, d := range docs {
		p, err := h.parse(d)
		if err != nil {
			h.log.Warn("upstream packument unreadable", "url", d.doc.URL, "err", err)
			lastErr = err
			continue
		}
		out = append(out, parsedPackument{upstreamPackument: p, src: d.src})
	}
	return out, lastErr
}

// parsedPackument is an upstream packument with the source it came from.
type parsedPackument struct {
	*upstreamPackument
	src artifact.ExternalSource
}
