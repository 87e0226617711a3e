package sqlstore

import (
	"fmt"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const assetColumns = "a.version_id, a.name, b.sha256, b.sha512, b.sha1, b.md5, b.size, a.created_time"

// assetFrom joins each asset to its blob's digests; the triggers keep a blob
// row for as long as an asset of its domain references it.
const assetFrom = " FROM assets a JOIN blobs b ON b.domain_id = a.domain_id AND b.sha256 = a.sha256"

func scanAsset(r Row) (store.Asset, error) {
	var a store.Asset
	var created int64
	err := r.Scan(&a.VersionID, &a.Name, &a.Blob.SHA256, &a.Blob.SHA512, &a.Blob.SHA1, &a.Blob.MD5, &a.Blob.Size, &created)
	a.CreatedTime = fromNanos(created)
	return a, err
}

// PutAsset implements store.Assets. The blob row is added first,
// unreferenced; the asset triggers then count the reference and the domain's
// usage. An asset of a version that does not exist is not found, and leaves
// the transaction usable.
func (t *Tx) PutAsset(domainID int64, a *store.Asset) error {
	b := a.Blob
	_, err := t.exec(`INSERT INTO blobs (domain_id, sha256, size, md5, sha1, sha512) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain_id, sha256) DO NOTHING`, domainID, b.SHA256, b.Size, b.MD5, b.SHA1, b.SHA512)
	if err != nil {
		return t.wrap(err, "put asset")
	}
	n, err := t.exec(`INSERT INTO assets (version_id, name, domain_id, sha256, created_time)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM versions WHERE id = ?)
		ON CONFLICT (version_id, name) DO UPDATE SET domain_id = excluded.domain_id, sha256 = excluded.sha256,
		created_time = excluded.created_time`, a.VersionID, a.Name, domainID, b.SHA256, nanos(a.CreatedTime), a.VersionID)
	if err == nil && n == 0 {
		err = versionNotFound(idString(a.VersionID))()
	}
	if err != nil {
		// Do not leave an unreferenced blob row behind should the caller
		// commit anyway.
		_, derr := t.exec("DELETE FROM blobs WHERE domain_id = ? AND sha256 = ? AND refs = 0", domainID, b.SHA256)
		if derr != nil {
			err = fmt.Errorf("%w (and cleaning up: %v)", err, derr)
		}
		return t.wrap(err, "put asset")
	}
	return nil
}

// GetAsset implements store.Assets.
func (t *Tx) GetAsset(versionID int64, name string) (*store.Asset, error) {
	a, err := scanAsset(t.queryRow("SELECT "+assetColumns+assetFrom+" WHERE a.version_id = ? AND a.name = ?", versionID, name))
	if err != nil {
		return nil, t.getErr(err, "get asset", func() error {
			return fault.NotFound("asset", name, "asset %s not found", name)
		})
	}
	return &a, nil
}

// ListAssets implements store.Assets.
func (t *Tx) ListAssets(versionID int64, p store.Page) ([]store.Asset, error) {
	w := where{d: t.d}
	w.add("a.version_id = ?", versionID)
	if p.After != "" {
		w.add("a.name > ?", p.After)
	}
	as, err := list(t, scanAsset, "SELECT "+assetColumns+assetFrom+w.String()+" ORDER BY a.name"+w.limit(p), w.args...)
	return as, t.wrap(err, "list assets")
}

// DeleteAssets implements store.Assets.
func (t *Tx) DeleteAssets(versionID int64) error {
	_, err := t.exec("DELETE FROM assets WHERE version_id = ?", versionID)
	return t.wrap(err, "delete assets")
}

// BlobReferenced implements store.Assets.
func (t *Tx) BlobReferenced(sha256 string) (bool, error) {
	var ok bool
	err := t.queryRow("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ? AND refs > 0)", sha256).Scan(&ok)
	return ok, t.wrap(err, "blob referenced")
}

// FindBlob implements store.Assets. A blob the domain no longer references
// is not found: the blob store may collect it at any time.
func (t *Tx) FindBlob(domainID int64, sha256 string) (*store.Blob, error) {
	var b store.Blob
	err := t.queryRow("SELECT sha256, sha512, sha1, md5, size FROM blobs WHERE domain_id = ? AND sha256 = ? AND refs > 0",
		domainID, sha256).Scan(&b.SHA256, &b.SHA512, &b.SHA1, &b.MD5, &b.Size)
	if err != nil {
		return nil, t.getErr(err, "find blob", func() error {
			return fault.NotFound("asset", sha256, "blob %s not found", sha256)
		})
	}
	return &b, nil
}
