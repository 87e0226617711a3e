package swift

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// publish serves PUT {scope}/{name}/{version} (Registry.md §4.6, swift
// package-registry publish). PublishPackageVersion was checked on the
// package by the route; a version the repository already has is refused
// (409) before the body is read, so that Expect: 100-continue gets its
// answer first. The multipart body is read with the source archive
// spooled, the metadata checked (422), the archive verified (422:
// VerifyArchive), and the release recorded with PutAsset, which applies
// the origin rules (a version an upstream holds while the package takes
// upstream versions is a 409 too). Nothing is stored on any refusal.
// The answer is synchronous: 201 with the release's Location.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	ctx := r.Context()
	scope, name, version := c.Param("scope"), c.Param("name"), c.Param("version")
	limit := h.maxArchive + maxMetadata + 2*maxSignature + 64<<10
	if err := format.CheckLength(r, "publish request", limit); err != nil {
		return err
	}
	_, err := h.svc.DescribePackageVersion(ctx, versionRef(t, scope, name, version))
	if err == nil {
		return fault.Conflict("package-version", version, "a release with version %s already exists", version)
	}
	if fault.KindOf(err) != fault.KindNotFound {
		return err
	}
	body := format.LimitBody(r, limit, format.TooLarge("publish request", limit))
	f, err := os.CreateTemp(h.spoolDir, "coffer-swift-publish-")
	if err != nil {
		return fault.Storage(err, "could not receive the source archive")
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	fw := &format.FailedWriter{W: f}
	form, err := ReadPublish(body, r.Header.Get("Content-Type"), fw, h.maxArchive)
	if fw.Err != nil {
		return fault.Storage(fw.Err, "could not receive the source archive")
	}
	if err != nil {
		return err
	}
	rec := &record{Scope: scope, Name: name, Checksum: form.ArchiveSHA256}
	if err := signing(r, form, rec); err != nil {
		return err
	}
	meta, compact, err := ParseMetadata(form.Metadata)
	if err != nil {
		return err
	}
	rec.Metadata = compact
	arch, err := VerifyArchive(f, form.ArchiveSize)
	if err != nil {
		return err
	}
	for _, m := range arch.Manifests {
		rec.Manifests = append(rec.Manifests, storedFile{Filename: m.Filename, SwiftVersion: m.SwiftVersion,
			ToolsVersion: m.ToolsVersion, Content: string(m.Content)})
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the source archive back")
	}
	req := artifact.PutAssetRequest{VersionRef: versionRef(t, scope, name, version), Asset: AssetName(name, version),
		NewStatus: artifact.StatusPublished, Verify: sameSHA256(form.ArchiveSHA256),
		NewVersion: func(v *store.Version) { fillVersion(v, rec, meta) }}
	if _, err := h.svc.PutAsset(ctx, req, io.LimitReader(f, form.ArchiveSize)); err != nil {
		return err
	}
	w.Header().Set("Location", pkgURL(r, c, scope, name)+"/"+version)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// signing records the archive's signature, which needs the format header
// SwiftPM sends with it; a metadata signature comes only with an archive
// signature (SwiftPM signs both or neither). Signatures are kept and
// served as given: the registry does not validate them, clients do
// (§4.4.3).
func signing(r *http.Request, form *PublishForm, rec *record) error {
	sigFormat := strings.TrimSpace(r.Header.Get("X-Swift-Package-Signature-Format"))
	switch {
	case len(form.MetadataSignature) > 0 && len(form.Signature) == 0:
		return badForm("a metadata-signature comes only with a source-archive-signature")
	case len(form.Signature) == 0:
		return nil
	case sigFormat == "":
		return badForm("a signed source archive needs the X-Swift-Package-Signature-Format header")
	case len(sigFormat) > 64 || strings.ContainsAny(sigFormat, "\"\\\r\n"):
		return badForm("invalid X-Swift-Package-Signature-Format")
	}
	rec.Signing = &Signing{SignatureBase64Encoded: base64.StdEncoding.EncodeToString(form.Signature), SignatureFormat: sigFormat}
	return nil
}

// fillVersion records a release in its version: the record as Metadata,
// the published spelling of the name, and from the metadata the summary,
// the first repository URL and the license URL.
func fillVersion(v *store.Version, rec *record, m *PublishMetadata) {
	v.Metadata = rec.encode()
	v.DisplayName = rec.Name
	if m == nil {
		return
	}
	v.Summary = strings.TrimSpace(str(m.Description))
	if len(m.RepositoryURLs) > 0 {
		v.SourceCodeRepository = m.RepositoryURLs[0]
	}
	if u := strings.TrimSpace(str(m.LicenseURL)); u != "" {
		v.Licenses = []store.License{{URL: u}}
	}
}

func sameSHA256(want string) func(blob.Digests) error {
	return func(d blob.Digests) error {
		if d.SHA256 != want {
			return fmt.Errorf("its SHA-256 is %s, expected %s", d.SHA256, want)
		}
		return nil
	}
}
