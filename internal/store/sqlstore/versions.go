package sqlstore

import (
	"strconv"
	"strings"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// versionFields are the columns after id and package_id, in versionArgs order.
const versionFields = `version, revision, status, origin_type, origin_repository,
	origin_external_connection, created_time, published_time, display_name, summary, home_page,
	source_code_repository, licenses, readme, dependencies, metadata, upstream_published_time`

const versionColumns = "id, package_id, " + versionFields

// The same columns with an empty readme, metadata (and dependencies), or
// both: those are the large ones.
var (
	versionColumnsNoReadme   = strings.Replace(versionColumns, "licenses, readme,", "licenses, '' AS readme,", 1)
	versionColumnsNoMetadata = strings.Replace(versionColumns, "dependencies, metadata", "'' AS dependencies, '' AS metadata", 1)
	versionColumnsBrief      = strings.Replace(versionColumnsNoReadme, "dependencies, metadata", "'' AS dependencies, '' AS metadata", 1)
)

func scanVersion(r Row) (store.Version, error) {
	var v store.Version
	var created, published, upstream int64
	var licenses, deps string
	err := r.Scan(&v.ID, &v.PackageID, &v.Version, &v.Revision, &v.Status, &v.OriginType, &v.OriginRepository,
		&v.OriginExternalConnection, &created, &published, &v.DisplayName, &v.Summary, &v.HomePage,
		&v.SourceCodeRepository, &licenses, &v.Readme, &deps, &v.Metadata, &upstream)
	if err != nil {
		return v, err
	}
	v.CreatedTime = fromNanos(created)
	v.PublishedTime = fromNanos(published)
	v.UpstreamPublishedTime = fromNanos(upstream)
	if err := unmarshalList(licenses, &v.Licenses); err != nil {
		return v, err
	}
	return v, unmarshalList(deps, &v.Dependencies)
}

func versionNotFound(id string) func() error {
	return func() error { return fault.NotFound("package-version", id, "package version %s not found", id) }
}

// versionArgs returns the values of versionFields.
func versionArgs(v *store.Version) ([]any, error) {
	licenses, err := marshalList(v.Licenses)
	if err != nil {
		return nil, err
	}
	deps, err := marshalList(v.Dependencies)
	if err != nil {
		return nil, err
	}
	return []any{v.Version, v.Revision, v.Status, v.OriginType, v.OriginRepository,
		v.OriginExternalConnection, nanos(v.CreatedTime), nanos(v.PublishedTime), v.DisplayName, v.Summary, v.HomePage,
		v.SourceCodeRepository, licenses, v.Readme, deps, v.Metadata, nanos(v.UpstreamPublishedTime)}, nil
}

// CreateVersion implements store.Versions.
func (t *Tx) CreateVersion(v *store.Version) error {
	args, err := versionArgs(v)
	if err != nil {
		return t.wrap(err, "create version")
	}
	err = t.queryRow("INSERT INTO versions (package_id, "+versionFields+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`, append([]any{v.PackageID}, args...)...).Scan(&v.ID)
	return t.getErr(err, "create version", func() error {
		return fault.Conflict("package-version", v.Version, "package version %s already exists", v.Version)
	})
}

// GetVersion implements store.Versions.
func (t *Tx) GetVersion(packageID int64, version string) (*store.Version, error) {
	v, err := scanVersion(t.queryRow("SELECT "+versionColumns+" FROM versions WHERE package_id = ? AND version = ?",
		packageID, version))
	if err != nil {
		return nil, t.getErr(err, "get version", versionNotFound(version))
	}
	return &v, nil
}

// ListVersions implements store.Versions, walking the (package, version) key
// or the (package, published time, version) index from the page start.
func (t *Tx) ListVersions(f store.VersionFilter, p store.Page) ([]store.Version, error) {
	query, args, err := t.d.VersionsQuery(f, p)
	if err != nil {
		return nil, err
	}
	vs, err := listRows(t, scanVersion, query, args...)
	return vs, t.wrap(err, "list versions")
}

// VersionsQuery returns the ListVersions statement, as the database takes
// it, with its arguments.
func (d *Dialect) VersionsQuery(f store.VersionFilter, p store.Page) (string, []any, error) {
	w := where{d: d}
	w.add("package_id = ?", f.PackageID)
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.OriginType != "" {
		w.add("origin_type = ?", f.OriginType)
	}
	order, cmp := "version", " > "
	if f.Descending {
		order, cmp = "version DESC", " < "
	}
	if f.ByPublishedTime {
		order = "published_time, version"
		if f.Descending {
			order = "published_time DESC, version DESC"
		}
		if p.After != "" {
			k := store.SplitKey(p.After)
			ts, err := strconv.ParseInt(k[0], 10, 64)
			if err != nil {
				return "", nil, fault.Validation("invalid page key %q", p.After)
			}
			w.add("(published_time, version)"+cmp+"(?, ?)", ts, part(k, 1))
		}
	} else if p.After != "" {
		w.add("version"+cmp+"?", p.After)
	}
	cols := versionColumns
	switch {
	case f.OmitReadme && f.OmitMetadata:
		cols = versionColumnsBrief
	case f.OmitReadme:
		cols = versionColumnsNoReadme
	case f.OmitMetadata:
		cols = versionColumnsNoMetadata
	}
	return d.sql("SELECT " + cols + " FROM versions" + w.String() + " ORDER BY " + order + w.limit(p)), w.args, nil
}

// VersionsMetadata implements store.Versions. The ids travel as one
// argument (Dialect.In), so every batch size shares one statement.
func (t *Tx) VersionsMetadata(ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, arg := t.d.In("id", ids)
	rows, err := t.c.Query(t.d.sql("SELECT id, metadata FROM versions WHERE "+in), arg)
	if err != nil {
		return nil, t.wrap(err, "read versions metadata")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m string
		if err := rows.Scan(&id, &m); err != nil {
			return nil, t.wrap(err, "read versions metadata")
		}
		out[id] = m
	}
	return out, t.wrap(rows.Err(), "read versions metadata")
}

// UpdateVersion implements store.Versions.
func (t *Tx) UpdateVersion(v *store.Version) error {
	args, err := versionArgs(v)
	if err != nil {
		return t.wrap(err, "update version")
	}
	err = t.execOne(versionNotFound(idString(v.ID)), `UPDATE versions SET revision = ?, status = ?,
		origin_type = ?, origin_repository = ?, origin_external_connection = ?, created_time = ?, published_time = ?,
		display_name = ?, summary = ?, home_page = ?, source_code_repository = ?, licenses = ?, readme = ?,
		dependencies = ?, metadata = ?, upstream_published_time = ? WHERE id = ?`, append(args[1:], v.ID)...)
	return t.wrap(err, "update version")
}

// DeleteVersion implements store.Versions; the schema cascades to the
// version's assets.
func (t *Tx) DeleteVersion(id int64) error {
	err := t.execOne(versionNotFound(idString(id)), "DELETE FROM versions WHERE id = ?", id)
	return t.wrap(err, "delete version")
}

// CountVersions implements store.Versions.
func (t *Tx) CountVersions(packageID int64) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM versions WHERE package_id = ?", packageID).Scan(&n)
	return n, t.wrap(err, "count versions")
}
