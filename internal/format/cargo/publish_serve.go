package cargo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// publish serves PUT api/v1/crates/new, cargo publish: the JSON metadata
// is read (bounded) and PublishPackageVersion authorized on the crate
// before a byte of the .crate is read; a version the repository already
// has is refused then (409); the .crate is streamed to a spool file with
// its SHA-256, verified (VerifyCrate), and recorded with PutAsset, which
// applies the origin rules (a version an upstream offers while the
// package takes upstream versions is a 409 too). The version's record
// holds its index line (Metadata), dependencies, README, license,
// description, homepage and repository.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	ctx := r.Context()
	limit := h.maxCrate + maxMetadata + 8
	if err := format.CheckLength(r, "publish request", limit); err != nil {
		return err
	}
	body := format.LimitBody(r, limit, format.TooLarge("publish request", limit))
	m, err := ReadMetadata(body, maxMetadata)
	if err != nil {
		return err
	}
	arn := h.svc.PackageARN(t.DomainOwner, t.Domain, t.Repository, artifact.FormatCargo, "", Canonical(m.Name))
	if err := h.authz.Authorize(ctx, auth.ActionPublishPackageVersion, arn); err != nil {
		return err
	}
	if err := h.checkNew(ctx, t, m); err != nil {
		return err
	}
	f, err := os.CreateTemp(h.spoolDir, "coffer-cargo-publish-")
	if err != nil {
		return fault.Storage(err, "could not receive the crate")
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	fw := &format.FailedWriter{W: f}
	_, cksum, err := ReadCrate(body, h.maxCrate, fw)
	if fw.Err != nil {
		return fault.Storage(fw.Err, "could not receive the crate")
	}
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the crate back")
	}
	info, err := VerifyCrate(f, m.Name, m.Vers, m.ReadmeFile, CrateLimits{})
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the crate back")
	}
	entry := NewIndexEntry(m, cksum, "sparse+"+t.EndpointBase(r))
	readme := m.Readme
	if readme == "" && info != nil {
		readme = string(info.Readme)
	}
	req := artifact.PutAssetRequest{VersionRef: versionRef(t, m.Name, m.Vers), Asset: assetName(m.Name, m.Vers),
		NewStatus: artifact.StatusPublished, Verify: sameSHA256(cksum), Offered: h.offers(m.Name, m.Vers),
		NewVersion: func(v *store.Version) {
			fillVersion(v, &entry)
			v.Summary = strings.TrimSpace(m.Description)
			v.HomePage = m.Homepage
			v.SourceCodeRepository = m.Repository
			v.Licenses = licenses(m.License)
			v.Readme = readme
		}}
	if _, err := h.svc.PutAsset(ctx, req, f); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(PublishResponse())
	return nil
}

// checkNew refuses, with cargo's words, a version the repository already
// has (the same release: 1.0.0+a and 1.0.0+b are one) and a crate the
// repository holds under another spelling of its name.
func (h *Handler) checkNew(ctx context.Context, t *format.Target, m *Metadata) error {
	exists := fault.Conflict("package-version", m.Vers, "crate version `%s@%s` is already uploaded", m.Name, m.Vers)
	_, err := h.svc.DescribePackageVersion(ctx, versionRef(t, m.Name, m.Vers))
	if err == nil {
		return exists
	}
	if fault.KindOf(err) != fault.KindNotFound {
		return err
	}
	view, err := h.svc.ViewPackageIndex(ctx, packageRef(t, m.Name), true)
	if fault.KindOf(err) == fault.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	key := VersionKey(m.Vers)
	for i := range view.Versions {
		v := &view.Versions[i]
		if v.Repository != t.Repository {
			continue
		}
		if VersionKey(v.Version.Version) == key {
			return fault.Conflict("package-version", m.Vers, "crate version `%s@%s` is already uploaded as %s", m.Name, m.Vers, v.Version.Version)
		}
		if v.DisplayName != "" && v.DisplayName != m.Name {
			return fault.Conflict("package", m.Name, "crate `%s` is published here as `%s`: names that differ only in case or in `-`/`_` are one crate", m.Name, v.DisplayName)
		}
	}
	return nil
}

// fillVersion records an index entry in a version: the entry itself (the
// index line, yanked or not by the version's status) as Metadata, the
// published spelling as DisplayName, and its dependencies. A dependency's
// DependencyType is its kind (normal, build, dev); one in another
// registry carries that registry's index URL as its Namespace (crates
// have no namespace otherwise), one in this registry none.
func fillVersion(v *store.Version, e *IndexEntry) {
	line := *e
	line.Yanked = false
	v.Metadata = string(line.AppendJSON(nil))
	v.DisplayName = e.Name
	v.Dependencies = nil
	for _, d := range e.Deps {
		name := d.Name
		if d.Package != "" {
			name = d.Package
		}
		kind := d.Kind
		if kind == "" {
			kind = "normal"
		}
		v.Dependencies = append(v.Dependencies, store.Dependency{Namespace: d.Registry, Package: name,
			DependencyType: kind, VersionRequirement: d.Req})
	}
}

// licenses records the SPDX license expression as the one license.
func licenses(expr string) []store.License {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil
	}
	return []store.License{{Name: expr}}
}

func sameSHA256(want string) func(blob.Digests) error {
	return func(d blob.Digests) error {
		if d.SHA256 != want {
			return fmt.Errorf("its SHA-256 is %s, expected %s", d.SHA256, want)
		}
		return nil
	}
}
