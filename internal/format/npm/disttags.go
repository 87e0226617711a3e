package npm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
)

// maxTagBody bounds the body of a dist-tag PUT (a JSON string).
const maxTagBody = 4 << 10

// listTags serves GET -/package/<name>/dist-tags: the dist-tags the
// packument shows (merged, the most upstream source winning).
func (h *Handler) listTags(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	d, err := h.packument(r.Context(), rq, n, false)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d.tags)
}

// setTag serves PUT -/package/<name>/dist-tags/<tag> (npm dist-tag add):
// the body is the version as a JSON string; it must be a version the
// repository shows. The tag is set on the package stored in the requested
// repository (a package only upstream cannot be tagged here). Note that a
// tag an upstream source also sets still shows the upstream's value.
func (h *Handler) setTag(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	ctx, tag := r.Context(), c.Param("tag")
	if !validTag(tag) {
		h.writeError(w, r, fault.Validation("Invalid dist-tag name %q: tags must not be versions or ranges", tag))
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxTagBody+1))
	if err != nil || len(b) > maxTagBody {
		h.writeError(w, r, fault.Validation("The body must be the version, as a JSON string"))
		return
	}
	var version string
	if err := json.Unmarshal(b, &version); err != nil {
		version = strings.TrimSpace(string(b))
	}
	if !cleanVersionKey(version) {
		h.writeError(w, r, fault.Validation("The body must be the version, as a JSON string"))
		return
	}
	d, err := h.packument(ctx, rq, n, false)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if _, ok := d.versions[version]; !ok {
		h.writeError(w, r, fault.NotFound("package-version", version, "version not found: %s@%s", n, version))
		return
	}
	p, err := h.svc.UpdatePackageMetadata(ctx, packageRef(rq.t, n), func(cur string) (string, error) {
		m := artifact.ParseNpmPackageMetadata(cur)
		m.DistTags[tag] = version
		return m.Encode(), nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, artifact.ParseNpmPackageMetadata(p.Metadata).DistTags)
}

// deleteTag serves DELETE -/package/<name>/dist-tags/<tag> (npm dist-tag
// rm) on the requested repository's package; "latest" cannot be removed.
func (h *Handler) deleteTag(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	ctx, tag := r.Context(), c.Param("tag")
	if tag == "latest" {
		h.writeError(w, r, fault.Validation("The latest tag cannot be removed; point it at another version instead"))
		return
	}
	p, err := h.svc.UpdatePackageMetadata(ctx, packageRef(rq.t, n), func(cur string) (string, error) {
		m := artifact.ParseNpmPackageMetadata(cur)
		if _, ok := m.DistTags[tag]; !ok {
			return "", fault.NotFound("dist-tag", tag, "%s has no dist-tag %s in this repository", n, tag)
		}
		delete(m.DistTags, tag)
		return m.Encode(), nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, artifact.ParseNpmPackageMetadata(p.Metadata).DistTags)
}
