package controlplane

import (
	"net/http"

	"coffer/internal/artifact"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// assetSummary is the model's AssetSummary.
type assetSummary struct {
	Name   string            `json:"name"`
	Size   int64             `json:"size"`
	Hashes map[string]string `json:"hashes,omitempty"`
}

func toAsset(a *store.Asset) assetSummary {
	hashes := map[string]string{}
	for alg, v := range map[string]string{"MD5": a.Blob.MD5, "SHA-1": a.Blob.SHA1, "SHA-256": a.Blob.SHA256, "SHA-512": a.Blob.SHA512} {
		if v != "" {
			hashes[alg] = v
		}
	}
	return assetSummary{Name: a.Name, Size: a.Blob.Size, Hashes: hashes}
}

// Response headers of GetPackageVersionAsset, as the model names them.
const (
	headerAssetName       = "X-AssetName"
	headerPackageVersion  = "X-PackageVersion"
	headerVersionRevision = "X-PackageVersionRevision"
	// The SDKs send the asset's SHA-256 in the header SigV4 uses for the
	// payload hash; the model binds assetSHA256 to it.
	headerContentSHA256 = "X-Amz-Content-Sha256"
)

func (h *handler) listPackageVersionAssets(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.version()
	page := in.page("ListPackageVersionAssets", true)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "ListPackageVersionAssets", h.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	list, err := h.svc.ListPackageVersionAssets(r.Context(), ref, page)
	if err != nil {
		return err
	}
	v := list.Version
	out := struct {
		Format          string         `json:"format,omitempty"`
		Namespace       string         `json:"namespace,omitempty"`
		Package         string         `json:"package,omitempty"`
		Version         string         `json:"version,omitempty"`
		VersionRevision string         `json:"versionRevision,omitempty"`
		NextToken       string         `json:"nextToken,omitempty"`
		Assets          []assetSummary `json:"assets"`
	}{
		Format: v.Format, Namespace: v.Namespace, Package: v.Package, Version: v.Version.Version, VersionRevision: v.Revision,
		NextToken: in.nextToken(list.Next), Assets: make([]assetSummary, 0, len(list.Assets)),
	}
	for i := range list.Assets {
		out.Assets = append(out.Assets, toAsset(&list.Assets[i]))
	}
	return writeJSON(w, out)
}

// getPackageVersionAsset streams the asset. http.ServeContent answers Range
// and conditional requests and, given the blob driver's *os.File, uses sendfile.
func (h *handler) getPackageVersionAsset(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	ref := in.version()
	name := in.str("asset", "asset", specAssetName, true)
	revision := in.str("revision", "packageVersionRevision", specRevision, false)
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "GetPackageVersionAsset", h.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	v, a, obj, err := h.svc.GetPackageVersionAsset(r.Context(), ref, name, revision)
	if err != nil {
		return err
	}
	defer obj.Close()
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream") // also stops ServeContent from sniffing
	hd.Set(headerAssetName, a.Name)
	hd.Set(headerPackageVersion, v.Version.Version)
	hd.Set(headerVersionRevision, v.Revision)
	if a.Blob.SHA256 != "" {
		hd.Set("ETag", `"`+a.Blob.SHA256+`"`) // content-addressed: a perfect validator
	}
	modified := a.CreatedTime
	if modified.IsZero() {
		modified = obj.ModTime()
	}
	http.ServeContent(w, r, "", modified, obj.Reader())
	return nil
}

// publishPackageVersion passes the body to the service as a stream; the
// service hashes it in one pass and checks the SHA-256 from the header.
func (h *handler) publishPackageVersion(w http.ResponseWriter, r *http.Request) error {
	in, err := newInput(r)
	if err != nil {
		return err
	}
	req := artifact.PublishRequest{VersionRef: in.version()}
	req.Asset = in.str("asset", "assetName", specAssetName, true)
	req.Unfinished = in.bool("unfinished", "unfinished")
	if vals := r.Header.Values(headerContentSHA256); len(vals) == 0 {
		in.v.missing("assetSHA256")
	} else {
		req.SHA256 = vals[0]
		in.v.str("assetSHA256", req.SHA256, specSHA256)
	}
	if err := in.done(); err != nil {
		return err
	}
	if err := h.authorize(r, "PublishPackageVersion", h.packageARN(req.PackageRef)); err != nil {
		return err
	}
	// A declared length over the limit is refused before a byte is read;
	// the blob store bounds what arrives without one.
	if limit := h.svc.MaxAssetSize(); r.ContentLength > limit {
		return fault.Validation("asset exceeds the size limit of %d bytes", limit)
	}
	// The header is the asset's SHA-256 and the service compares the body
	// with it (a ValidationException when they differ): the check the
	// signature verifier would make is that same check.
	body := sigv4.HandlerVerifiesPayload(r.Body)
	if body == nil {
		body = http.NoBody
	}
	res, err := h.svc.PublishPackageVersion(r.Context(), req, body)
	if err != nil {
		return err
	}
	v := res.Version
	return writeJSON(w, struct {
		Format          string       `json:"format,omitempty"`
		Namespace       string       `json:"namespace,omitempty"`
		Package         string       `json:"package,omitempty"`
		Version         string       `json:"version,omitempty"`
		VersionRevision string       `json:"versionRevision,omitempty"`
		Status          string       `json:"status,omitempty"`
		Asset           assetSummary `json:"asset"`
	}{v.Format, v.Namespace, v.Package, v.Version.Version, v.Revision, v.Status, toAsset(&res.Asset)})
}
