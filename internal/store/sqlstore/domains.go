package sqlstore

import (
	"coffer/internal/fault"
	"coffer/internal/store"
)

// GetSetting implements store.Settings. Values are read as bytes: some are
// sealed secrets, which PostgreSQL keeps in bytea (SQLite keeps any bytes in
// a TEXT column).
func (t *Tx) GetSetting(key string) (string, error) {
	var v []byte
	err := t.queryRow("SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if err != nil {
		return "", t.getErr(err, "get setting", func() error {
			return fault.NotFound("setting", key, "setting %s not found", key)
		})
	}
	return string(v), nil
}

// PutSetting implements store.Settings.
func (t *Tx) PutSetting(key, value string) error {
	var v any = value
	if t.d.SettingValue != nil {
		v = t.d.SettingValue(value)
	}
	_, err := t.exec(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	return t.wrap(err, "put setting")
}

// DeleteSetting implements store.Settings.
func (t *Tx) DeleteSetting(key string) error {
	err := t.execOne(func() error { return fault.NotFound("setting", key, "setting %s not found", key) },
		"DELETE FROM settings WHERE key = ?", key)
	return t.wrap(err, "delete setting")
}

// ListSettings implements store.Settings.
func (t *Tx) ListSettings() ([]store.Setting, error) {
	out, err := list(t, func(r Row) (st store.Setting, err error) {
		var v []byte
		err = r.Scan(&st.Key, &v)
		st.Value = string(v)
		return st, err
	}, "SELECT key, value FROM settings ORDER BY key")
	return out, t.wrap(err, "list settings")
}

// ListSettingsPrefix implements store.Settings.
func (t *Tx) ListSettingsPrefix(prefix string) ([]store.Setting, error) {
	w := &where{d: t.d}
	w.prefix("key", prefix)
	out, err := list(t, func(r Row) (st store.Setting, err error) {
		var v []byte
		err = r.Scan(&st.Key, &v)
		st.Value = string(v)
		return st, err
	}, "SELECT key, value FROM settings"+w.String()+" ORDER BY key", w.args...)
	return out, t.wrap(err, "list settings")
}

const domainColumns = "id, owner, name, status, encryption_key, created_time, policy_document, policy_revision"

func scanDomain(r Row) (store.Domain, error) {
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
func (t *Tx) CreateDomain(d *store.Domain) error {
	err := t.queryRow(`INSERT INTO domains (owner, name, status, encryption_key, created_time, policy_document, policy_revision)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		d.Owner, d.Name, d.Status, d.EncryptionKey, nanos(d.CreatedTime), d.PolicyDocument, d.PolicyRevision).Scan(&d.ID)
	return t.getErr(err, "create domain", func() error {
		return fault.Conflict("domain", d.Name, "domain %s already exists", d.Name)
	})
}

// GetDomain implements store.Domains.
func (t *Tx) GetDomain(owner, name string) (*store.Domain, error) {
	d, err := scanDomain(t.queryRow("SELECT "+domainColumns+" FROM domains WHERE name = ? AND owner = ?", name, owner))
	if err != nil {
		return nil, t.getErr(err, "get domain", domainNotFound(name))
	}
	return &d, nil
}

// GetDomainByID implements store.Domains.
func (t *Tx) GetDomainByID(id int64) (*store.Domain, error) {
	d, err := scanDomain(t.queryRow("SELECT "+domainColumns+" FROM domains WHERE id = ?", id))
	if err != nil {
		return nil, t.getErr(err, "get domain", domainNotFound(idString(id)))
	}
	return &d, nil
}

// ListDomains implements store.Domains.
func (t *Tx) ListDomains(p store.Page) ([]store.Domain, error) {
	w := where{d: t.d}
	if p.After != "" {
		k := store.SplitKey(p.After)
		w.add("(name, owner) > (?, ?)", k[0], part(k, 1))
	}
	query := "SELECT " + domainColumns + " FROM domains" + w.String() + " ORDER BY name, owner" + w.limit(p)
	ds, err := list(t, scanDomain, query, w.args...)
	return ds, t.wrap(err, "list domains")
}

// UpdateDomain implements store.Domains.
func (t *Tx) UpdateDomain(d *store.Domain) error {
	err := t.execOne(domainNotFound(idString(d.ID)),
		"UPDATE domains SET status = ?, encryption_key = ?, policy_document = ?, policy_revision = ? WHERE id = ?",
		d.Status, d.EncryptionKey, d.PolicyDocument, d.PolicyRevision, d.ID)
	return t.wrap(err, "update domain")
}

// DeleteDomain implements store.Domains; the schema cascades to everything
// the domain owns.
func (t *Tx) DeleteDomain(id int64) error {
	err := t.execOne(domainNotFound(idString(id)), "DELETE FROM domains WHERE id = ?", id)
	return t.wrap(err, "delete domain")
}

// DomainUsage implements store.Domains from the counters the blob triggers
// maintain.
func (t *Tx) DomainUsage(id int64) (repositories int, assetBytes int64, assets int64, err error) {
	err = t.queryRow(`SELECT (SELECT count(*) FROM repositories WHERE domain_id = u.domain_id), u.bytes, u.blobs
		FROM domain_usage u WHERE u.domain_id = ?`, id).Scan(&repositories, &assetBytes, &assets)
	if err != nil {
		return 0, 0, 0, t.getErr(err, "domain usage", domainNotFound(idString(id)))
	}
	return repositories, assetBytes, assets, nil
}
