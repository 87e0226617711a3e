package migrate

import (
	"fmt"

	"coffer/internal/store"
)

// packages copies the packages of a repository with their versions and
// assets. Only ChangeSeq is not copied: the driver maintains it.
func (c *copier) packages(srcRepo, dstRepo, domainID int64) error {
	list := func(p store.Page) ([]store.Package, error) {
		return c.src.ListPackages(store.PackageFilter{RepositoryID: srcRepo}, p)
	}
	return page(c, list, store.PackageKey, func(p *store.Package) error {
		np := *p
		np.ID, np.RepositoryID, np.ChangeSeq = 0, dstRepo, 0
		if err := c.dst.CreatePackage(&np); err != nil {
			return fmt.Errorf("package %s: %w", coordinate(p), err)
		}
		c.counts.Packages++
		if err := c.versions(p.ID, np.ID, domainID); err != nil {
			return fmt.Errorf("package %s: %w", coordinate(p), err)
		}
		return nil
	})
}

// versions copies every version of a package, whatever its status, with
// every field (readme and metadata included).
func (c *copier) versions(srcPkg, dstPkg, domainID int64) error {
	list := func(p store.Page) ([]store.Version, error) {
		return c.src.ListVersions(store.VersionFilter{PackageID: srcPkg}, p)
	}
	return page(c, list, versionKey, func(v *store.Version) error {
		nv := *v
		nv.ID, nv.PackageID = 0, dstPkg
		if err := c.dst.CreateVersion(&nv); err != nil {
			return fmt.Errorf("version %s: %w", v.Version, err)
		}
		c.counts.Versions++
		c.byStatus[v.Status]++
		c.progress()
		if err := c.assets(v.ID, nv.ID, domainID); err != nil {
			return fmt.Errorf("version %s: %w", v.Version, err)
		}
		return nil
	})
}

// assets copies the assets of a version; their blobs are in the target
// already (copyBlobs ran first).
func (c *copier) assets(srcVersion, dstVersion, domainID int64) error {
	list := func(p store.Page) ([]store.Asset, error) { return c.src.ListAssets(srcVersion, p) }
	return page(c, list, assetKey, func(a *store.Asset) error {
		na := *a
		na.VersionID = dstVersion
		if err := c.dst.PutAsset(domainID, &na); err != nil {
			return fmt.Errorf("asset %s: %w", a.Name, err)
		}
		c.counts.Assets++
		return nil
	})
}

// coordinate names a package in messages.
func coordinate(p *store.Package) string {
	if p.Namespace == "" {
		return p.Format + ":" + p.Name
	}
	return p.Format + ":" + p.Namespace + "/" + p.Name
}
