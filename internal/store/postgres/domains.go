package postgres

import (
	"strconv"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Setting values are bytea: some are sealed secrets, which are bytes, not
// text in any encoding (SQLite keeps any bytes in a TEXT column).

// GetSetting implements store.Settings.
func (t *tx) GetSetting(key string) (string, error) {
	var v []byte
	err := t.queryRow("SELECT value FROM settings WHERE key = $1", key).Scan(&v)
	if err != nil {
		return "", getErr(err, "get setting", func() error {
			return fault.NotFound("setting", key, "setting %s not found", key)
		})
	}
	return string(v), nil
}

// PutSetting implements store.Settings.
func (t *tx) PutSetting(key, value string) error {
	_, err := t.exec(`INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, []byte(value))
	return wrap(err, "put setting")
}

// ListSettings implements store.Settings.
func (t *tx) ListSettings() ([]store.Setting, error) {
	out, err := listRows(t, func(r scanner) (st store.Setting, err error) {
		var v []byte
		err = r.Scan(&st.Key, &v)
		st.Value = string(v)
		return st, err
	},
		"SELECT key, value FROM settings ORDER BY key")
	return out, wrap(err, "list settings")
}

const domainColumns = "id, owner, name, status, encryption_key, created_time, policy_document, policy_revision"

func scanDomain(r scanner) (store.Domain, error) {
	var d store.Domain
	var created int64
	err := r.Scan(&d.ID, &d.Owner, &d.Name, &d.Status, &d.EncryptionKey, &created, &d.PolicyDocument, &d.PolicyRevision)
	d.CreatedTime = fromNanos(created)
	return d, err
}

func domainNotFound(id string) func() error {
	return func() error { return fault.NotFound("domain", id, "domain %s not found", id) }
}

// CreateDomain implements store.Domains.
func (t *tx) CreateDomain(d *store.Domain) error {
	err := t.queryRow(`INSERT INTO domains (owner, name, status, encryption_key, created_time, policy_document, policy_revision)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
		d.Owner, d.Name, d.Status, d.EncryptionKey, nanos(d.CreatedTime), d.PolicyDocument, d.PolicyRevision).Scan(&d.ID)
	return getErr(err, "create domain", func() error {
		return fault.Conflict("domain", d.Name, "domain %s already exists", d.Name)
	})
}

// GetDomain implements store.Domains.
func (t *tx) GetDomain(owner, name string) (*store.Domain, error) {
	d, err := scanDomain(t.queryRow("SELECT "+domainColumns+" FROM domains WHERE name = $1 AND owner = $2", name, owner))
	if err != nil {
		return nil, getErr(err, "get domain", domainNotFound(name))
	}
	return &d, nil
}

// GetDomainByID implements store.Domains.
func (t *tx) GetDomainByID(id int64) (*store.Domain, error) {
	d, err := scanDomain(t.queryRow("SELECT "+domainColumns+" FROM domains WHERE id = $1", id))
	if err != nil {
		return nil, getErr(err, "get domain", domainNotFound(strconv.FormatInt(id, 10)))
	}
	return &d, nil
}

// ListDomains implements store.Domains.
func (t *tx) ListDomains(p store.Page) ([]store.Domain, error) {
	var q query
	if p.After != "" {
		k := store.SplitKey(p.After)
		q.where("(name, owner) > (" + q.arg(k[0]) + ", " + q.arg(part(k, 1)) + ")")
	}
	ds, err := listRows(t, scanDomain, "SELECT "+domainColumns+" FROM domains"+q.conditions()+
		" ORDER BY name, owner"+q.limit(p), q.args...)
	return ds, wrap(err, "list domains")
}

// UpdateDomain implements store.Domains.
func (t *tx) UpdateDomain(d *store.Domain) error {
	err := t.execOne(domainNotFound(strconv.FormatInt(d.ID, 10)),
		"UPDATE domains SET status = $1, encryption_key = $2, policy_document = $3, policy_revision = $4 WHERE id = $5",
		d.Status, d.EncryptionKey, d.PolicyDocument, d.PolicyRevision, d.ID)
	return wrap(err, "update domain")
}

// DeleteDomain implements store.Domains; the schema cascades to everything
// the domain owns.
func (t *tx) DeleteDomain(id int64) error {
	err := t.execOne(domainNotFound(strconv.FormatInt(id, 10)), "DELETE FROM domains WHERE id = $1", id)
	return wrap(err, "delete domain")
}

// DomainUsage implements store.Domains from the counters the blob triggers
// maintain.
func (t *tx) DomainUsage(id int64) (repositories int, assetBytes int64, assets int64, err error) {
	err = t.queryRow(`SELECT (SELECT count(*) FROM repositories WHERE domain_id = u.domain_id), u.bytes, u.blobs
		FROM domain_usage u WHERE u.domain_id = $1`, id).Scan(&repositories, &assetBytes, &assets)
	if err != nil {
		return 0, 0, 0, getErr(err, "domain usage", domainNotFound(strconv.FormatInt(id, 10)))
	}
	return repositories, assetBytes, assets, nil
}
