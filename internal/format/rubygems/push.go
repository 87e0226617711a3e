package rubygems

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// push serves POST api/v1/gems (gem push): the body is the .gem. It is
// spooled under the spool directory while ReadGemChecked verifies it in the
// same pass (the archive, every checksum, the spec); as soon as the
// metadata names the gem, before the content is received,
// PublishPackageVersion is checked on the package; then the spooled
// file is recorded with PutAsset: a new version Published, or one more
// build (platform) of an existing version. Nothing is stored when any
// check fails. The spooled file is removed before the answer is written.
func (h *Handler) push(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	tooLarge := fault.Quota("asset", "", "The gem is larger than the limit of %d bytes", h.maxUpload)
	if r.ContentLength > h.maxUpload {
		return tooLarge
	}
	body := format.LimitBody(r, h.maxUpload, tooLarge)
	f, err := os.CreateTemp(h.tempDir, "coffer-gem-push-")
	if err != nil {
		return fault.Storage(err, "could not receive the gem")
	}
	cleanup := func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
			f = nil
		}
	}
	defer cleanup()
	dst := &format.FailedWriter{W: f}
	g, err := ReadGemChecked(io.TeeReader(body, dst), Limits{}, func(spec *Spec) error {
		return h.authz.Authorize(r.Context(), actionPublish, h.packageARN(t, spec.Name))
	})
	if dst.Err != nil {
		return fault.Storage(dst.Err, "could not receive the gem")
	}
	if err != nil {
		if fe, ok := errors.AsType[*fault.Error](err); ok {
			return fe // a malformed gem (400), a body over the limit (413)
		}
		return fault.Validation("The push was interrupted: %v", err)
	}
	if g.Size == 0 {
		return fault.Validation("Empty push: the body must be the .gem file")
	}
	spec := g.Spec
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the gem back")
	}
	file := spec.FileName()
	line := InfoFromSpec(spec, g.SHA256)
	req := artifact.PutAssetRequest{VersionRef: versionRef(t, spec.Name, spec.Version), Asset: file, NewStatus: artifact.StatusPublished,
		Verify: func(d blob.Digests) error {
			if d.SHA256 != g.SHA256 {
				return fmt.Errorf("its SHA-256 is %s, the gem read was %s", d.SHA256, g.SHA256)
			}
			return nil
		},
		Offered:       h.offers(spec.Name, spec.Version),
		NewVersion:    func(v *store.Version) { recordBuild(v, spec, file, line, true) },
		UpdateVersion: func(v *store.Version) { recordBuild(v, spec, file, line, false) },
	}
	_, err = h.svc.PutAsset(r.Context(), req, f)
	cleanup()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Successfully registered gem: %s (%s)\n", spec.Name, versionToken(spec.Version, spec.Platform))
	return nil
}

// maxYankForm bounds the form of a yank.
const maxYankForm = 64 << 10

// yank serves DELETE api/v1/gems/yank (gem yank): gem_name, version and
// platform in the form (gem sends them as a form body; the query string
// is read too). Yanking makes the version Unlisted, in every build: it
// leaves every index (info, versions, the full index, the dependencies
// API), and its .gem stays downloadable by its exact name, as CodeArtifact
// serves Unlisted versions (lockfiles that name it still install).
// UpdatePackageVersionsStatus is checked on the package. The platform is
// not a version of its own here: yanking one build yanks the version.
// Unyanking is UpdatePackageVersionsStatus back to Published.
func (h *Handler) yank(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	b, err := io.ReadAll(io.LimitReader(r.Body, maxYankForm+1))
	if err != nil {
		return fault.Validation("Could not read the yank form: %v", err)
	}
	if len(b) > maxYankForm {
		return fault.Validation("The yank form is too long")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return fault.Validation("Malformed yank form: %v", err)
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	name, version := strings.TrimSpace(form.Get("gem_name")), strings.TrimSpace(form.Get("version"))
	if !ValidName(name) || version == "" {
		return fault.Validation("Give gem_name and version of the gem to yank")
	}
	if err := h.authz.Authorize(r.Context(), actionStatus, h.packageARN(t, name)); err != nil {
		return err
	}
	ref := versionRef(t, name, version)
	v, err := h.svc.DescribePackageVersion(r.Context(), ref)
	if err != nil {
		if fault.KindOf(err) == fault.KindNotFound {
			return fault.NotFound("package-version", version, "This version (%s) of %s does not exist in this repository", version, name)
		}
		return err
	}
	if v.Status != artifact.StatusPublished {
		return &fault.Error{Kind: fault.KindValidation, Message: fmt.Sprintf("The version %s of %s is %s, not Published: it cannot be yanked", version, name, v.Status)}
	}
	if _, err := h.svc.SetVersionStatus(r.Context(), ref, artifact.StatusUnlisted); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Successfully deleted gem: %s (%s)\n", name, version)
	return nil
}
