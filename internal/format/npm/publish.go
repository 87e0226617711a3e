package npm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/jsonstr"
	"coffer/internal/store"
)

// put serves PUT <name> and PUT <name>/-rev/<rev>. A body with a tarball
// in "_attachments" is a publish; one without is a metadata update (npm
// deprecate sends the ?write=true document back with "deprecated" set;
// npm unpublish of one version sends it to -rev/<rev> without that
// version).
//
// Which of these a PUT is shows only in its body, so nothing of the body is
// read before the caller is known to be allowed something the PUT can do
// (see authorizePut), and nothing of a tarball before the caller is known
// to be allowed to publish. A declared Content-Length over what any such
// body may weigh is refused before anything is read.
func (h *Handler) put(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	rev := c.Param("rev")
	g, err := h.authorizePut(r, rq, n, rev)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// The document, escapes in the data included, is charged to maxDoc;
	// the data's base64 characters stop once they decode to more than
	// maxPublish.
	limit := h.maxDoc
	if rev == "" && g.publish == nil {
		limit += (h.maxPublish + 2) / 3 * 4 // its base64
	}
	if r.ContentLength > limit {
		if rev == "" && g.publish != nil {
			h.writeError(w, r, g.publish) // only a publish weighs that much
			return
		}
		h.writeError(w, r, fault.Quota("package", n.String(), "The request body of %d bytes exceeds the limit of %d bytes (a tarball of at most %d bytes in base64, and %d bytes of JSON)",
			r.ContentLength, limit, h.maxPublish, h.maxDoc))
		return
	}
	sc := newBodyScanner(r.Body, h.maxDoc)
	found, err := sc.next()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if found {
		if rev != "" {
			h.writeError(w, r, fault.Validation("A -rev update carries no tarball; publish with PUT on the package"))
			return
		}
		if err := g.mayPublish(); err != nil {
			h.writeError(w, r, err)
			return
		}
		h.publish(w, r, rq, n, sc)
		return
	}
	for _, a := range sc.atts {
		if !a.hasData {
			h.writeError(w, r, fault.Validation("Attachment %q has no data", a.name))
			return
		}
	}
	h.updateMetadata(w, r, rq, n, sc.members, rev)
}

// putGrant is what authorizePut found out about publishing.
type putGrant struct {
	// publish is the refusal of PublishPackageVersion (nil: allowed, or
	// not asked yet).
	publish error
	asked   bool
	// check asks for PublishPackageVersion.
	check func() error
}

// mayPublish asks for PublishPackageVersion unless that was answered
// before the body was read.
func (g *putGrant) mayPublish() error {
	if !g.asked {
		g.publish, g.asked = g.check(), true
	}
	return g.publish
}

// authorizePut decides, before the body of a PUT is read, whether the
// caller may send it: the caller must be allowed one of the actions such
// a PUT can need — PublishPackageVersion or PutPackageMetadata (npm
// publish, npm deprecate) on PUT <name>, DeletePackageVersions or
// PutPackageMetadata (npm unpublish of a version) on -rev. The actions are
// asked in turn until one is allowed, the one the npm command in the
// npm-command header needs first (npm deprecate is not asked for
// publish); when none is, the first refusal is the answer. What the body
// then asks for is authorized again once it is read (updateMetadata asks
// for exactly the actions its changes need).
func (h *Handler) authorizePut(r *http.Request, rq *request, n Name, rev string) (*putGrant, error) {
	ctx := r.Context()
	arn := h.packageARN(rq.t, n)
	g := &putGrant{check: func() error { return h.authz.Authorize(ctx, actionPublish, arn) }}
	actions := []string{actionPublish, actionMetadata}
	switch {
	case rev != "":
		actions = []string{actionDelete, actionMetadata}
	case r.Header.Get("npm-command") == "deprecate":
		actions = []string{actionMetadata, actionPublish}
	}
	var refused error
	for _, action := range actions {
		err := h.authz.Authorize(ctx, action, arn)
		if action == actionPublish {
			g.publish, g.asked = err, true
		}
		if err == nil {
			return g, nil
		}
		if fault.KindOf(err) != fault.KindAccessDenied {
			return nil, err
		}
		if refused == nil {
			refused = err
		}
	}
	return nil, refused
}

// publication is a publish whose version document has been checked.
type publication struct {
	name    Name
	version string
	doc     *versionDoc
	readme  string
	// tags are the body's dist-tags, all naming version (nil until seen).
	tags   map[string]string
	sha512 string // expected hex digests ("" when not given)
	sha256 string
	sha1   string
	length int64 // the attachment's announced length, -1 if none
}

// publish stores a new version: when the version document came before the
// tarball (as npm sends it), the tarball is decoded from the body straight
// into PutAsset and the rest of the body is read and checked inside its
// Verify, before anything becomes visible; otherwise the tarball is
// spooled to a temporary file first. Either way, nothing is stored unless
// the whole body is well formed and the tarball matches dist.integrity
// (and dist.shasum).
//
// The caller has been authorized to publish (put); the scanner is
// positioned at the start of the tarball's data.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, rq *request, n Name, sc *bodyScanner) {
	ctx := r.Context()
	if !ValidNewName(n) {
		h.writeError(w, r, fault.Validation("Invalid package name %q: new package names must be lower case and must not contain ~'!()*", n))
		return
	}
	if err := h.checkAnnouncedLength(sc); err != nil {
		h.writeError(w, r, err)
		return
	}
	var pub *publication
	var body io.Reader
	streaming := false
	if _, ok := sc.members["versions"]; ok {
		var err error
		if pub, err = h.preparePublish(ctx, rq, n, sc.members); err != nil {
			h.writeError(w, r, err)
			return
		}
		body, streaming = h.tarballReader(sc), true
	} else {
		f, err := os.CreateTemp(h.tempDir, "coffer-npm-publish-")
		if err != nil {
			h.writeError(w, r, fault.Internal(err, "could not receive the tarball"))
			return
		}
		// Removed however the request ends: refused, cut off, cancelled
		// or panicking.
		defer func() { f.Close(); os.Remove(f.Name()) }()
		err = h.spool(f, sc)
		if err == nil {
			err = h.finishBody(sc)
		}
		if err == nil {
			pub, err = h.preparePublish(ctx, rq, n, sc.members)
		}
		if err == nil {
			err = pub.checkRest(sc)
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		body = f
	}
	// dist.fileCount and dist.unpackedSize are counted while the tarball
	// is stored.
	inspect := newInspectingReader(body, maxInspectedTarball)
	defer inspect.Close()
	body = inspect
	var digests blob.Digests
	created := false
	req := artifact.PutAssetRequest{VersionRef: versionRef(rq.t, n, pub.version), Asset: assetName, NewStatus: artifact.StatusPublished,
		Offered: h.offers(n, pub.version),
		Verify: func(dg blob.Digests) error {
			if streaming {
				if err := h.finishBody(sc); err != nil {
					return err
				}
				if err := pub.checkRest(sc); err != nil {
					return err
				}
			}
			if err := pub.verify(dg); err != nil {
				return err
			}
			digests = dg
			return nil
		},
		NewVersion: func(v *store.Version) {
			created = true
			pub.fill(v, digests, inspect.Stats(), principalName(rq.t.Principal))
		}}
	_, err := h.svc.PutAsset(ctx, req, body)
	if sc.err != nil {
		err = sc.err // the body's own fault says more than the engine's wrapping
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if !created {
		// The same bytes were published before (or concurrently): npm
		// never lets a version be published twice.
		h.writeError(w, r, republished(pub.version))
		return
	}
	tags := pub.tags
	if len(tags) == 0 {
		tags = map[string]string{"latest": pub.version}
	}
	_, err = h.svc.UpdatePackageMetadata(ctx, packageRef(rq.t, n), func(cur string) (string, error) {
		m := artifact.ParseNpmPackageMetadata(cur)
		for tag, v := range tags {
			m.DistTags[tag] = v
		}
		return m.Encode(), nil
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ok": true, "id": n.String(), "version": pub.version})
}

func republished(version string) error {
	return fault.Conflict("package-version", version, "You cannot publish over the previously published versions: %s.", version)
}

// tarballReader decodes the data string the scanner is positioned in,
// bounded by Config.MaxPublishSize.
func (h *Handler) tarballReader(sc *bodyScanner) io.Reader {
	return &limitedReader{r: base64.NewDecoder(base64.StdEncoding, sc.dataReader()), max: h.maxPublish, left: h.maxPublish, sc: sc}
}

// checkAnnouncedLength refuses a tarball whose attachment announces,
// before its data, more bytes than the limit.
func (h *Handler) checkAnnouncedLength(sc *bodyScanner) error {
	raw, ok := sc.atts[len(sc.atts)-1].members["length"]
	if !ok {
		return nil
	}
	var length float64
	if err := json.Unmarshal(raw, &length); err != nil || length < 0 {
		return sc.fail(fault.Validation("The attachment's length must be a number of bytes"))
	}
	if length > float64(h.maxPublish) {
		return sc.fail(tooBig(h.maxPublish))
	}
	return nil
}

func tooBig(limit int64) error {
	return fault.Quota("package", "", "The tarball exceeds the publish limit of %d bytes", limit)
}

// limitedReader fails a tarball over the limit, and records a decoding
// error as the body's fault.
type limitedReader struct {
	r    io.Reader
	max  int64
	left int64
	sc   *bodyScanner
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, l.sc.fail(tooBig(l.max))
	}
	if err != nil && err != io.EOF {
		// The scanner's own fault (the body could not be read, is not
		// JSON, is over budget) comes first; whatever else the decoder
		// says is about the base64 text.
		if l.sc.err != nil {
			err = l.sc.err
		} else {
			err = l.sc.fail(fault.Validation("The attachment data is not valid base64: %s", base64Problem(err)))
		}
	}
	return n, err
}

// base64Problem says what is wrong with base64 text the decoder refused.
func base64Problem(err error) string {
	var corrupt base64.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends inside a group of 4 characters (unpadded or truncated)"
	case errors.As(err, &corrupt):
		return "it has a character outside the base64 alphabet, or data after its padding"
	}
	return err.Error()
}

// spool decodes the data string into f and rewinds it.
func (h *Handler) spool(f *os.File, sc *bodyScanner) error {
	if _, err := io.Copy(f, h.tarballReader(sc)); err != nil {
		if sc.err != nil {
			return sc.err
		}
		return fault.Internal(err, "could not receive the tarball")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the tarball back")
	}
	return nil
}

// finishBody reads the rest of the body: nothing but one tarball is allowed.
func (h *Handler) finishBody(sc *bodyScanner) error {
	more, err := sc.next()
	if err != nil {
		return err
	}
	if more {
		return sc.fail(fault.Validation("A publish carries exactly one tarball; this body has more than one attachment"))
	}
	if len(sc.atts) != 1 {
		return sc.fail(fault.Validation("A publish carries exactly one tarball; this body has %d attachments", len(sc.atts)))
	}
	return nil
}

// preparePublish checks the body's name, its one version and that
// version's document, and that the repository does not have the version
// yet.
func (h *Handler) preparePublish(ctx context.Context, rq *request, n Name, members map[string]json.RawMessage) (*publication, error) {
	for _, k := range []string{"name", "_id"} {
		if s := str(members, k); s != "" && s != n.String() {
			return nil, fault.Validation("The body's %s %q is not the package %q of the URL", k, s, n)
		}
	}
	var versions map[string]json.RawMessage
	if err := json.Unmarshal(members["versions"], &versions); err != nil || versions == nil {
		return nil, fault.Validation("versions must be an object")
	}
	if len(versions) != 1 {
		return nil, fault.Validation("A publish carries exactly one version; this body has %d", len(versions))
	}
	var version string
	var raw json.RawMessage
	for version, raw = range versions {
	}
	if _, ok := parseVersion(version); !ok || !cleanVersionKey(version) {
		return nil, fault.Validation("Invalid version %q: it must be a valid SemVer 2.0.0 version", version)
	}
	d, err := decodeVersionDoc(raw)
	if err != nil {
		return nil, fault.Validation("Invalid document of version %s: %v", version, err)
	}
	if s, ok := d.members["name"]; ok && str(d.members, "name") != n.String() {
		return nil, fault.Validation("Version %s names package %s, not %q", version, s, n)
	}
	if _, ok := d.members["version"]; ok && str(d.members, "version") != version {
		return nil, fault.Validation("The document of version %s says version %s", version, d.members["version"])
	}
	pub := &publication{name: n, version: version, doc: d, length: -1}
	for _, sri := range strings.Fields(str(d.dist, "integrity")) {
		alg, sum, ok := parseSRI(sri)
		if !ok {
			continue
		}
		switch alg {
		case "sha512":
			pub.sha512 = sum
		case "sha256":
			pub.sha256 = sum
		case "sha1":
			pub.sha1 = sum
		}
	}
	if s := strings.ToLower(str(d.dist, "shasum")); s != "" {
		if len(s) != 40 || strings.Trim(s, "0123456789abcdef") != "" {
			return nil, fault.Validation("dist.shasum %q is not a SHA-1 digest", s)
		}
		if pub.sha1 != "" && pub.sha1 != s {
			return nil, fault.Validation("dist.shasum and dist.integrity disagree")
		}
		pub.sha1 = s
	}
	if pub.sha512 == "" && pub.sha1 == "" {
		return nil, fault.Validation("Version %s has neither dist.integrity (sha512) nor dist.shasum to verify its tarball with", version)
	}
	pub.readme = d.takeReadme()
	if pub.readme == "" {
		if s := str(members, "readme"); s != noReadme {
			pub.readme = s
		}
	}
	if err := pub.readTags(members); err != nil {
		return nil, err
	}
	if _, err := h.svc.DescribePackageVersion(ctx, versionRef(rq.t, n, version)); err == nil {
		return nil, republished(version)
	} else if fault.KindOf(err) != fault.KindNotFound {
		return nil, err
	}
	return pub, nil
}

// readTags reads the body's dist-tags, if it has them: each must be a
// valid tag naming the published version.
func (pub *publication) readTags(members map[string]json.RawMessage) error {
	raw, ok := members["dist-tags"]
	if !ok || pub.tags != nil {
		return nil
	}
	var tags map[string]string
	if err := json.Unmarshal(raw, &tags); err != nil {
		return fault.Validation("dist-tags must map tag names to versions")
	}
	for tag, v := range tags {
		if !validTag(tag) {
			return fault.Validation("Invalid dist-tag name %q", tag)
		}
		if v != pub.version {
			return fault.Validation("dist-tag %s names version %s, which this publish does not carry", tag, v)
		}
	}
	if tags == nil {
		tags = map[string]string{}
	}
	pub.tags = tags
	return nil
}

// checkRest checks what the body held after the tarball: dist-tags, and
// the attachment's announced length.
func (pub *publication) checkRest(sc *bodyScanner) error {
	if err := pub.readTags(sc.members); err != nil {
		return err
	}
	if raw, ok := sc.atts[0].members["length"]; ok {
		if err := json.Unmarshal(raw, &pub.length); err != nil || pub.length < 0 {
			return fault.Validation("The attachment's length must be a number of bytes")
		}
	}
	return nil
}

// verify checks the tarball's digests against the version document.
func (pub *publication) verify(dg blob.Digests) error {
	for _, c := range []struct{ name, want, got string }{
		{"dist.integrity (sha512)", pub.sha512, dg.SHA512},
		{"dist.integrity (sha256)", pub.sha256, dg.SHA256},
		{"dist.shasum", pub.sha1, dg.SHA1},
	} {
		if c.want != "" && c.want != c.got {
			return fault.Validation("The tarball of %s@%s does not match its %s", pub.name, pub.version, c.name)
		}
	}
	if pub.length >= 0 && pub.length != dg.Size {
		return fault.Validation("The tarball of %s@%s has %d bytes; its attachment announced %d", pub.name, pub.version, dg.Size, pub.length)
	}
	return nil
}

// fill gives a new version its document (as Metadata, in canonical form,
// dist from the verified digests and the tarball's contents, _npmUser the
// publishing principal, as the npm registry records them) and its
// descriptive fields.
func (pub *publication) fill(v *store.Version, dg blob.Digests, st tarballStats, publisher string) {
	d := pub.doc
	setStr(d.members, "name", pub.name.String())
	setStr(d.members, "version", pub.version)
	setStr(d.members, "_id", pub.name.String()+"@"+pub.version)
	setStr(d.dist, "integrity", sriSHA512(dg.SHA512))
	setStr(d.dist, "shasum", dg.SHA1)
	if st.ok {
		d.dist["fileCount"] = json.RawMessage(strconv.Itoa(st.files))
		d.dist["unpackedSize"] = json.RawMessage(strconv.FormatInt(st.unpacked, 10))
	}
	if publisher != "" {
		d.members["_npmUser"] = json.RawMessage(`{"name":` + string(jsonstr.Append(nil, publisher)) + `}`)
	}
	if frag, err := d.encode(); err == nil {
		v.Metadata = string(frag)
	}
	fillVersion(v, pub.name, d, pub.readme)
}

// updateMetadata applies a PUT without a tarball to the versions the
// repository stores: each version's "deprecated" message as the body gives
// it (an empty message removes it). With rev (npm unpublish of a version),
// versions missing from the body are deleted and the body's dist-tags
// replace the repository's (restricted to versions that remain). All of it
// is one UpdatePackage: it happens wholly or not at all, and not when the
// package moved past rev (409).
func (h *Handler) updateMetadata(w http.ResponseWriter, r *http.Request, rq *request, n Name, members map[string]json.RawMessage, rev string) {
	ctx := r.Context()
	if s := str(members, "name"); s != "" && s != n.String() {
		h.writeError(w, r, fault.Validation("The body's name %q is not the package %q of the URL", s, n))
		return
	}
	var versions map[string]json.RawMessage
	if raw, ok := members["versions"]; ok {
		if err := json.Unmarshal(raw, &versions); err != nil {
			h.writeError(w, r, fault.Validation("versions must be an object"))
			return
		}
	}
	var bodyTags map[string]string
	if raw, ok := members["dist-tags"]; ok {
		if err := json.Unmarshal(raw, &bodyTags); err != nil {
			h.writeError(w, r, fault.Validation("dist-tags must map tag names to versions"))
			return
		}
		for tag := range bodyTags {
			if !validTag(tag) {
				h.writeError(w, r, fault.Validation("Invalid dist-tag name %q", tag))
				return
			}
		}
	}
	p, stored, err := h.ownVersions(ctx, rq, n)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if rev != "" && rev != revision(p) {
		h.writeError(w, r, staleRev(n, p, rev))
		return
	}
	deprecations := map[string]string{} // version -> message ("" removes it)
	var removed []string
	remaining := map[string]bool{}
	for _, v := range stored {
		raw, ok := versions[v.Version]
		if !ok {
			if rev != "" {
				removed = append(removed, v.Version)
			} else {
				remaining[v.Version] = true
			}
			continue
		}
		remaining[v.Version] = true
		var doc struct {
			Deprecated json.RawMessage `json:"deprecated"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			h.writeError(w, r, fault.Validation("The document of version %s is not an object", v.Version))
			return
		}
		want := ""
		if len(doc.Deprecated) > 0 && string(doc.Deprecated) != "null" {
			if err := json.Unmarshal(doc.Deprecated, &want); err != nil {
				h.writeError(w, r, fault.Validation("deprecated of version %s must be a string", v.Version))
				return
			}
		}
		if want != deprecatedOf(v.Metadata) {
			deprecations[v.Version] = want
		}
	}
	var newTags map[string]string
	if rev != "" && bodyTags != nil {
		cur := artifact.ParseNpmPackageMetadata(p.Metadata).DistTags
		newTags = map[string]string{}
		for tag, v := range bodyTags {
			if remaining[v] {
				newTags[tag] = v
			}
		}
		if equalTags(cur, newTags) {
			newTags = nil
		}
	}
	arn := h.packageARN(rq.t, n)
	if len(removed) > 0 {
		if err := h.authz.Authorize(ctx, actionDelete, arn); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	if len(deprecations) > 0 || newTags != nil {
		if err := h.authz.Authorize(ctx, actionMetadata, arn); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	change := artifact.PackageChange{Delete: removed}
	if len(deprecations) > 0 {
		change.Edit = slices.Sorted(mapKeys(deprecations))
		change.EditVersion = func(v *store.Version) error {
			return deprecate(v, n, deprecations[v.Version])
		}
	}
	if newTags != nil {
		change.Metadata = func(cur string) (string, error) {
			m := artifact.ParseNpmPackageMetadata(cur)
			m.DistTags = newTags
			return m.Encode(), nil
		}
	}
	// A change without rev that changes nothing needs no transaction; one
	// with rev still has its rev checked.
	if rev != "" || len(removed) > 0 || change.Edit != nil || change.Metadata != nil {
		if _, err := h.svc.UpdatePackage(ctx, packageRef(rq.t, n), rev, change); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": n.String()})
}

// deprecate sets (msg "" removes) the "deprecated" message of the stored
// document of v.
func deprecate(v *store.Version, n Name, msg string) error {
	d, err := decodeVersionDoc([]byte(v.Metadata))
	if err != nil {
		d = &versionDoc{members: map[string]json.RawMessage{}, dist: map[string]json.RawMessage{}}
		setStr(d.members, "name", n.String())
		setStr(d.members, "version", v.Version)
	}
	if msg == "" {
		delete(d.members, "deprecated")
	} else {
		setStr(d.members, "deprecated", msg)
	}
	frag, err := d.encode()
	if err != nil {
		return fault.Internal(err, "could not write the document of %s@%s", n, v.Version)
	}
	v.Metadata = string(frag)
	return nil
}

// staleRev is the answer to a -rev request whose rev is not the package's.
func staleRev(n Name, p *artifact.Package, rev string) error {
	return fault.Conflict("package", n.String(), "Document update conflict: the package's _rev is %s, not %s", revision(p), rev)
}

// deprecatedOf reads the deprecation message of a stored document.
func deprecatedOf(metadata string) string {
	var doc struct {
		Deprecated string `json:"deprecated"`
	}
	_ = json.Unmarshal([]byte(metadata), &doc)
	return doc.Deprecated
}

func equalTags(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// unpublishPackage serves DELETE <name>/-rev/<rev> (npm unpublish of a
// whole package): the package and every version it has in the requested
// repository only, unless the package moved past rev (409).
func (h *Handler) unpublishPackage(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	ctx, rev := r.Context(), c.Param("rev")
	if _, err := h.svc.UpdatePackage(ctx, packageRef(rq.t, n), rev, artifact.PackageChange{DeletePackage: true}); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": n.String()})
}

// unpublishTarball serves DELETE <name>/-/<file>/-rev/<rev>, the last step
// of npm unpublish of one version: the version (already gone after the
// -rev PUT, normally) is deleted from the requested repository, unless the
// package moved past rev (409).
func (h *Handler) unpublishTarball(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	ctx, file, rev := r.Context(), c.Param("file"), c.Param("rev")
	version, ok := tarballVersion(n, file)
	if !ok {
		h.writeError(w, r, fault.NotFound("asset", file, "%s is not a tarball of %s", file, n))
		return
	}
	if _, err := h.svc.UpdatePackage(ctx, packageRef(rq.t, n), rev, artifact.PackageChange{Delete: []string{version}}); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": n.String()})
}
