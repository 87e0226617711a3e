package postgres

import (
	"strconv"
	"strings"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// versionFields are the columns after id and package_id, in versionArgs order.
const versionFields = `version, revision, status, origin_type, origin_repository,
	origin_external_connection, created_time, published_time, display_name, summary, home_page,
	source_code_repository, licenses, readme, dependencies, metadata`

const versionColumns = "id, package_id, " + versionFields

// The same columns with an empty readme, metadata (and dependencies), or
// both: those are the large ones.
var (
	versionColumnsNoReadme   = strings.Replace(versionColumns, "licenses, readme,", "licenses, '' AS readme,", 1)
	versionColumnsNoMetadata = strings.Replace(versionColumns, "dependencies, metadata", "'' AS dependencies, '' AS metadata", 1)
	versionColumnsBrief      = strings.Replace(versionColumnsNoReadme, "dependencies, metadata", "'' AS dependencies, '' AS metadata", 1)
)

func scanVersion(r scanner) (store.Version, error) {
	var v store.Version
	var created, published int64
	var licenses, deps string
	err := r.Scan(&v.ID, &v.PackageID, &v.Version, &v.Revision, &v.Status, &v.OriginType, &v.OriginRepository,
		&v.OriginExternalConnection, &created, &published, &v.DisplayName, &v.Summary, &v.HomePage,
		&v.SourceCodeRepository, &licenses, &v.Readme, &deps, &v.Metadata)
	if err != nil {
		return v, err
	}
	v.CreatedTime = fromNanos(created)
	v.PublishedTime = fromNanos(published)
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
		v.SourceCodeRepository, licenses, v.Readme, deps, v.Metadata}, nil
}

// CreateVersion implements store.Versions.
func (t *tx) CreateVersion(v *store.Version) error {
	args, err := versionArgs(v)
	if err != nil {
		return wrap(err, "create version")
	}
	err = t.queryRow("INSERT INTO versions (package_id, "+versionFields+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT DO NOTHING RETURNING id`, append([]any{v.PackageID}, args...)...).Scan(&v.ID)
	return getErr(err, "create version", func() error {
		return fault.Conflict("package-version", v.Version, "package version %s already exists", v.Version)
	})
}

// GetVersion implements store.Versions.
func (t *tx) GetVersion(packageID int64, version string) (*store.Version, error) {
	v, err := scanVersion(t.queryRow("SELECT "+versionColumns+" FROM versions WHERE package_id = $1 AND version = $2",
		packageID, version))
	if err != nil {
		return nil, getErr(err, "get version", versionNotFound(version))
	}
	return &v, nil
}

// ListVersions implements store.Versions, walking the (package, version) key
// or the (package, published time, version) index from the page start.
func (t *tx) ListVersions(f store.VersionFilter, p store.Page) ([]store.Version, error) {
	sql, args, err := versionsQuery(f, p)
	if err != nil {
		return nil, err
	}
	vs, err := listRows(t, scanVersion, sql, args...)
	return vs, wrap(err, "list versions")
}

// versionsQuery builds the ListVersions statement.
func versionsQuery(f store.VersionFilter, p store.Page) (string, []any, error) {
	var q query
	q.where("package_id = " + q.arg(f.PackageID))
	if f.Status != "" {
		q.where("status = " + q.arg(f.Status))
	}
	if f.OriginType != "" {
		q.where("origin_type = " + q.arg(f.OriginType))
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
			q.where("(published_time, version)" + cmp + "(" + q.arg(ts) + ", " + q.arg(part(k, 1)) + ")")
		}
	} else if p.After != "" {
		q.where("version" + cmp + q.arg(p.After))
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
	return "SELECT " + cols + " FROM versions" + q.conditions() + " ORDER BY " + order + q.limit(p), q.args, nil
}

// VersionsMetadata implements store.Versions; the ids travel as one array, so
// every batch size shares one statement.
func (t *tx) VersionsMetadata(ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	type meta struct {
		id int64
		m  string
	}
	ms, err := listRows(t, func(r scanner) (m meta, err error) { return m, r.Scan(&m.id, &m.m) },
		"SELECT id, metadata FROM versions WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, wrap(err, "read versions metadata")
	}
	for _, m := range ms {
		out[m.id] = m.m
	}
	return out, nil
}

// UpdateVersion implements store.Versions.
func (t *tx) UpdateVersion(v *store.Version) error {
	args, err := versionArgs(v)
	if err != nil {
		return wrap(err, "update version")
	}
	err = t.execOne(versionNotFound(strconv.FormatInt(v.ID, 10)), `UPDATE versions SET revision = $1, status = $2,
		origin_type = $3, origin_repository = $4, origin_external_connection = $5, created_time = $6, published_time = $7,
		display_name = $8, summary = $9, home_page = $10, source_code_repository = $11, licenses = $12, readme = $13,
		dependencies = $14, metadata = $15 WHERE id = $16`, append(args[1:], v.ID)...)
	return wrap(err, "update version")
}

// DeleteVersion implements store.Versions; the schema cascades to the
// version's assets.
func (t *tx) DeleteVersion(id int64) error {
	err := t.execOne(versionNotFound(strconv.FormatInt(id, 10)), "DELETE FROM versions WHERE id = $1", id)
	return wrap(err, "delete version")
}

// CountVersions implements store.Versions.
func (t *tx) CountVersions(packageID int64) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM versions WHERE package_id = $1", packageID).Scan(&n)
	return n, wrap(err, "count versions")
}
