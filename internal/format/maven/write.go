package maven

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// put serves PUT: files, checksum verifications and metadata. A body whose
// Content-Length is over the upload limit is refused before it is read;
// each kind of PUT authorizes before it reads the body; a streamed body
// fails as soon as it crosses the limit. Both are 413.
func (h *Handler) put(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	p, err := parse(c)
	if err != nil {
		return err
	}
	t := c.Target
	if err := format.CheckLength(r, "file", h.maxUpload); err != nil {
		return err
	}
	format.LimitBody(r, h.maxUpload, format.TooLarge("file", h.maxUpload))
	switch {
	case p.Checksum != "":
		err = h.putChecksum(r, t, p)
	case p.Kind == KindArtifactMetadata:
		err = h.putArtifactMetadata(r, t, p)
	case p.Kind == KindVersionMetadata:
		err = h.putSnapshotMetadata(r, t, p)
	default:
		err = h.putFile(r, t, p)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (h *Handler) authorize(ctx context.Context, t *format.Target, p Path, actions ...string) error {
	for _, a := range actions {
		if err := h.authz.Authorize(ctx, a, h.packageARN(t, p)); err != nil {
			return err
		}
	}
	return nil
}

// putFile stores a file of a version. A version a file creates is
// Unfinished until its maven-metadata.xml arrives; a POM fills the
// version's metadata and dependencies.
func (h *Handler) putFile(r *http.Request, t *format.Target, p Path) error {
	if p.NonUniqueSnapshot() {
		return fault.Validation("Non-unique SNAPSHOT file names such as %s are not supported; deploy timestamped builds (Maven 3 does)", p.File)
	}
	ctx := r.Context()
	if err := h.authorize(ctx, t, p, auth.ActionPublishPackageVersion); err != nil {
		return err
	}
	req := artifact.PutAssetRequest{VersionRef: versionRef(t, p, p.AssetVersion()), Asset: p.File, NewStatus: artifact.StatusUnfinished,
		Offered: h.offers(p)}
	var body io.Reader = r.Body
	if p.Extension == "pom" && p.Classifier == "" {
		data, err := io.ReadAll(io.LimitReader(r.Body, MaxPOMSize+1))
		if err != nil {
			return bodyError(err, "could not read the POM")
		}
		if len(data) > MaxPOMSize {
			body = io.MultiReader(bytes.NewReader(data), r.Body)
		} else {
			body = bytes.NewReader(data)
			pom, err := ParsePOM(data)
			if err != nil {
				return fault.Validation("%s is not a valid POM: %v", p.File, err)
			}
			if differs(pom.GroupID, p.GroupID) || differs(pom.ArtifactID, p.ArtifactID) {
				return fault.Validation("%s declares %s:%s, not %s:%s", p.File, pom.GroupID, pom.ArtifactID, p.GroupID, p.ArtifactID)
			}
			req.NewVersion, req.UpdateVersion = pom.Apply, pom.Apply
		}
	}
	_, err := h.svc.PutAsset(ctx, req, body)
	return err
}

// bodyError is the error of a failed read of a request body: the limit's
// error (format.LimitBody) as it is, else the client's broken body.
func bodyError(err error, what string) error {
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		return fe
	}
	return fault.Validation("%s: %v", what, err)
}

// readSmall reads a small request body, at most max bytes.
func readSmall(r *http.Request, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, bodyError(err, "could not read the "+what)
	}
	if int64(len(data)) > max {
		return nil, fault.Validation("the %s is larger than %d bytes", what, max)
	}
	return data, nil
}

// putChecksum verifies an uploaded checksum against what is stored: the
// comparison is case-sensitive against lower-case hex. A mismatch is 400
// and is remembered, so that the version's maven-metadata.xml will not
// publish it; a file not uploaded yet is 404.
func (h *Handler) putChecksum(r *http.Request, t *format.Target, p Path) error {
	ctx := r.Context()
	action := auth.ActionPublishPackageVersion
	if p.Kind == KindArtifactMetadata {
		action = auth.ActionPutPackageMetadata
	}
	if err := h.authorize(ctx, t, p, action); err != nil {
		return err
	}
	data, err := readSmall(r, 1024, "checksum")
	if err != nil {
		return err
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return fault.Validation("empty %s checksum", p.Checksum)
	}
	given := fields[0]

	var actual string
	var ref artifact.VersionRef
	switch p.Kind {
	case KindArtifactMetadata:
		pkg, err := h.svc.DescribePackage(ctx, packageRef(t, p))
		if err != nil {
			return err
		}
		doc := storedMetadata(pkg.Metadata)
		if doc == "" {
			return fault.NotFound("asset", MetadataFile, "No maven-metadata.xml was uploaded for %s:%s", p.GroupID, p.ArtifactID)
		}
		actual = hashHex(p.Checksum, []byte(doc))
	case KindVersionMetadata:
		b, err := h.ownNewestBuild(ctx, packageRef(t, p), p.Version)
		if err != nil {
			return err
		}
		ref = versionRef(t, p, b.Version())
		if actual, err = h.storedDigest(ctx, ref, MetadataFile, p.Checksum); err != nil {
			return err
		}
	default:
		if p.NonUniqueSnapshot() {
			return fault.Validation("Non-unique SNAPSHOT file names such as %s are not supported", p.File)
		}
		ref = versionRef(t, p, p.AssetVersion())
		if actual, err = h.storedDigest(ctx, ref, p.File, p.Checksum); err != nil {
			return err
		}
	}
	if ref.Version != "" {
		if err := h.noteChecksum(ctx, ref, p.File+"."+p.Checksum, given == actual); err != nil {
			return err
		}
	}
	if given != actual {
		return fault.Validation("Checksum mismatch for %s: uploaded %s %s, computed %s", p.File, p.Checksum, given, actual)
	}
	return nil
}

// versionMetadata is what a Maven version keeps in its Metadata.
type versionMetadata struct {
	// ChecksumFailures lists the checksum files ("app-1.0.jar.sha1") whose
	// upload did not match; the version is not published while any is left.
	ChecksumFailures []string `json:"checksumFailures,omitempty"`
}

func parseVersionMetadata(s string) versionMetadata {
	var m versionMetadata
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m) // other data: no failures recorded
	}
	return m
}

// noteChecksum records (ok false) or clears (ok true) a failed checksum
// upload of a version stored in the requested repository. Only Unfinished
// versions record failures: they are what a failure keeps unpublished.
func (h *Handler) noteChecksum(ctx context.Context, ref artifact.VersionRef, file string, ok bool) error {
	_, err := h.svc.UpdateVersionMetadata(ctx, ref.PackageRef, []string{ref.Version}, func(v *store.Version) error {
		m := parseVersionMetadata(v.Metadata)
		has := slices.Contains(m.ChecksumFailures, file)
		switch {
		case !ok && !has && v.Status == artifact.StatusUnfinished:
			m.ChecksumFailures = append(m.ChecksumFailures, file)
		case ok && has:
			m.ChecksumFailures = slices.DeleteFunc(m.ChecksumFailures, func(f string) bool { return f == file })
		default:
			return nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		v.Metadata = string(b)
		if len(m.ChecksumFailures) == 0 {
			v.Metadata = ""
		}
		return nil
	})
	return err
}

// checksumFailures lists the failed checksum uploads recorded on ver.
func checksumFailures(ver *artifact.Version) []string {
	f := slices.Clone(parseVersionMetadata(ver.Metadata).ChecksumFailures)
	slices.Sort(f)
	return f
}

// storedDigest returns a digest of an asset stored in the requested
// repository itself (any status).
func (h *Handler) storedDigest(ctx context.Context, ref artifact.VersionRef, asset, alg string) (string, error) {
	_, a, obj, err := h.svc.GetPackageVersionAsset(ctx, ref, asset, "")
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return "", fault.NotFound("asset", asset, "%s has not been uploaded to version %s", asset, ref.Version)
		}
		return "", err
	}
	obj.Close()
	return digestOf(a.Blob, alg), nil
}

func hashHex(alg string, b []byte) string {
	var hh hash.Hash
	switch alg {
	case MD5:
		hh = md5.New()
	case SHA1:
		hh = sha1.New()
	case SHA256:
		hh = sha256.New()
	default:
		hh = sha512.New()
	}
	hh.Write(b)
	return hex.EncodeToString(hh.Sum(nil))
}

// putArtifactMetadata is Maven's publish trigger: every release version the
// document lists that is Unfinished in this repository becomes Published
// (none does if a checksum upload of any of them failed), then the
// document is kept as the package's metadata.
func (h *Handler) putArtifactMetadata(r *http.Request, t *format.Target, p Path) error {
	ctx := r.Context()
	if err := h.authorize(ctx, t, p, auth.ActionPutPackageMetadata); err != nil {
		return err
	}
	data, err := readSmall(r, MaxMetadataSize, "maven-metadata.xml")
	if err != nil {
		return err
	}
	m, err := ParseMetadata(data)
	if err != nil {
		return fault.Validation("%v", err)
	}
	if (m.GroupID != "" && m.GroupID != p.GroupID) || (m.ArtifactID != "" && m.ArtifactID != p.ArtifactID) {
		return fault.Validation("maven-metadata.xml describes %s:%s, not %s:%s", m.GroupID, m.ArtifactID, p.GroupID, p.ArtifactID)
	}
	var publish []artifact.VersionRef
	var bad []string
	if m.Versioning != nil {
		for _, v := range m.Versioning.Versions {
			if IsSnapshot(v) || slices.ContainsFunc(publish, func(r artifact.VersionRef) bool { return r.Version == v }) {
				continue // SNAPSHOT builds are published by their version-level metadata
			}
			ref := versionRef(t, p, v)
			ver, err := h.svc.DescribePackageVersion(ctx, ref)
			if errors.Is(err, fault.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if ver.Status != artifact.StatusUnfinished {
				continue
			}
			if f := checksumFailures(ver); len(f) > 0 {
				bad = append(bad, v+" ("+strings.Join(f, ", ")+")")
				continue
			}
			publish = append(publish, ref)
		}
	}
	if len(bad) > 0 {
		return fault.Validation("Checksum verification failed for version %s; it stays Unfinished", strings.Join(bad, "; "))
	}
	for _, ref := range publish {
		if _, err := h.svc.SetVersionStatus(ctx, ref, artifact.StatusPublished); err != nil {
			return err
		}
	}
	_, err = h.svc.PutPackageMetadata(ctx, packageRef(t, p), encodeStoredMetadata(data))
	return err
}

// putSnapshotMetadata stores SNAPSHOT version-level metadata with the
// build it describes and publishes that build; the other published builds
// of the SNAPSHOT in this repository become Unlisted.
func (h *Handler) putSnapshotMetadata(r *http.Request, t *format.Target, p Path) error {
	ctx := r.Context()
	if err := h.authorize(ctx, t, p, auth.ActionPublishPackageVersion, auth.ActionPutPackageMetadata); err != nil {
		return err
	}
	data, err := readSmall(r, MaxMetadataSize, "maven-metadata.xml")
	if err != nil {
		return err
	}
	m, err := ParseMetadata(data)
	if err != nil {
		return fault.Validation("%v", err)
	}
	if m.Version == "" {
		m.Version = p.Version
	}
	if m.Version != p.Version || (m.GroupID != "" && m.GroupID != p.GroupID) || (m.ArtifactID != "" && m.ArtifactID != p.ArtifactID) {
		return fault.Validation("maven-metadata.xml describes %s:%s:%s, not %s:%s:%s", m.GroupID, m.ArtifactID, m.Version, p.GroupID, p.ArtifactID, p.Version)
	}
	b, ok := m.SnapshotBuild()
	if !ok {
		return fault.Validation("maven-metadata.xml of %s names no timestamped build (<snapshot> with <timestamp> and <buildNumber>)", p.Version)
	}
	ref := versionRef(t, p, b.Version())
	ver, err := h.svc.DescribePackageVersion(ctx, ref)
	if errors.Is(err, fault.ErrNotFound) {
		return fault.NotFound("package-version", b.Version(), "Build %s of %s has no uploaded files", b.Version(), p.Version)
	} else if err != nil {
		return err
	}
	if ver.Status == artifact.StatusUnfinished {
		if f := checksumFailures(ver); len(f) > 0 {
			return fault.Validation("Checksum verification failed for build %s (%s); it stays Unfinished", b.Version(), strings.Join(f, ", "))
		}
	}
	if _, err := h.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: ref, Asset: MetadataFile,
		NewStatus: artifact.StatusUnfinished, Replace: true}, bytes.NewReader(data)); err != nil {
		return err
	}
	if ver.Status == artifact.StatusUnfinished {
		if _, err := h.svc.SetVersionStatus(ctx, ref, artifact.StatusPublished); err != nil {
			return err
		}
	}
	return h.unlistOlderBuilds(ctx, packageRef(t, p), p.Version)
}

// ownPublishedBuilds lists the Published builds of a SNAPSHOT stored in the
// requested repository.
func (h *Handler) ownPublishedBuilds(ctx context.Context, ref artifact.PackageRef, snapshot string) ([]Build, []store.Version, error) {
	var builds []Build
	var versions []store.Version
	page := artifact.PageRequest{Max: 1000}
	for {
		l, err := h.svc.ListPackageVersions(ctx, ref, artifact.VersionFilter{Status: artifact.StatusPublished}, page)
		if err != nil {
			return nil, nil, err
		}
		for _, v := range l.Versions {
			if b, ok := ParseBuild(v.Version); ok && b.Snapshot() == snapshot {
				builds, versions = append(builds, b), append(versions, v)
			}
		}
		if l.Next == "" {
			return builds, versions, nil
		}
		page.After = l.Next
	}
}

// ownNewestBuild is the newest Published build of a SNAPSHOT stored in the
// requested repository.
func (h *Handler) ownNewestBuild(ctx context.Context, ref artifact.PackageRef, snapshot string) (Build, error) {
	builds, _, err := h.ownPublishedBuilds(ctx, ref, snapshot)
	if err != nil {
		return Build{}, err
	}
	if len(builds) == 0 {
		return Build{}, fault.NotFound("package-version", snapshot, "No published build of %s", snapshot)
	}
	best := builds[0]
	for _, b := range builds[1:] {
		if b.Newer(best) {
			best = b
		}
	}
	return best, nil
}

// unlistOlderBuilds keeps only the newest build of a SNAPSHOT Published.
func (h *Handler) unlistOlderBuilds(ctx context.Context, ref artifact.PackageRef, snapshot string) error {
	builds, _, err := h.ownPublishedBuilds(ctx, ref, snapshot)
	if err != nil || len(builds) < 2 {
		return err
	}
	newest := builds[0]
	for _, b := range builds[1:] {
		if b.Newer(newest) {
			newest = b
		}
	}
	for _, b := range builds {
		if b == newest {
			continue
		}
		if _, err := h.svc.SetVersionStatus(ctx, artifact.VersionRef{PackageRef: ref, Version: b.Version()}, artifact.StatusUnlisted); err != nil {
			return err
		}
	}
	return nil
}

// differs reports whether a coordinate a POM declares contradicts the
// path; an empty one or one with an unexpanded property does not.
func differs(declared, path string) bool {
	return declared != "" && !strings.Contains(declared, "${") && declared != path
}
