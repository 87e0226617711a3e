package sqlite

import (
	"strconv"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// GetSetting implements store.Settings.
func (t *tx) GetSetting(key string) (string, error) {
	var v string
	err := t.queryRow("SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if err != nil {
		return "", getErr(err, "get setting", func() error {
			return fault.NotFound("setting", key, "setting %s not found", key)
		})
	}
	return v, nil
}

// PutSetting implements store.Settings.
func (t *tx) PutSetting(key, value string) error {
	_, err := t.exec(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return wrap(err, "put setting")
}

// ListSettings implements store.Settings.
func (t *tx) ListSettings() ([]store.Setting, error) {
	out, err := listRows(t, func(r scanner) (st store.Setting, err error) { return st, r.Scan(&st.Key, &st.Value) },
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
	res, err := t.exec(`INSERT INTO domains (owner, name, status, encryption_key, created_time, policy_document, policy_revision)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		d.Owner, d.Name, d.Status, d.EncryptionKey, nanos(d.CreatedTime), d.PolicyDocument, d.PolicyRevision)
	if isUnique(err) {
		return fault.Conflict("domain", d.Name, "domain %s already exists", d.Name)
	}
	if err != nil {
		return wrap(err, "create domain")
	}
	d.ID, err = res.LastInsertId()
	return wrap(err, "create domain")
}

// GetDomain implements store.Domains.
func (t *tx) GetDomain(owner, name string) (*store.Domain, error) {
	d, err := scanDomain(t.queryRow("SELECT "+domainColumns+" FROM domains WHERE name = ? AND owner = ?", name, owner))
	if err != nil {
		return nil, getErr(err, "get domain", domainNotFound(name))
	}
	return &d, nil
}

// GetDomainByID implements store.Domains.
func (t *tx) GetDomainByID(id int64) (*store.Domain, error) {
	d, err := scanDomain(t.queryRow("SELECT "+domainColumns+" FROM domains WHERE id = ?", id))
	if err != nil {
		return nil, getErr(err, "get domain", domainNotFound(strconv.FormatInt(id, 10)))
	}
	return &d, nil
}

// ListDomains implements store.Domains.
func (t *tx) ListDomains(p store.Page) ([]store.Domain, error) {
	var w where
	if p.After != "" {
		k := store.SplitKey(p.After)
		w.add("(name, owner) > (?, ?)", k[0], part(k, 1))
	}
	ds, err := listRows(t, scanDomain, "SELECT "+domainColumns+" FROM domains"+w.String()+
		" ORDER BY name, owner LIMIT ?", append(w.args, limit(p))...)
	return ds, wrap(err, "list domains")
}

// UpdateDomain implements store.Domains.
func (t *tx) UpdateDomain(d *store.Domain) error {
	err := t.execOne(domainNotFound(strconv.FormatInt(d.ID, 10)),
		"UPDATE domains SET status = ?, encryption_key = ?, policy_document = ?, policy_revision = ? WHERE id = ?",
		d.Status, d.EncryptionKey, d.PolicyDocument, d.PolicyRevision, d.ID)
	return wrap(err, "update domain")
}

// DeleteDomain implements store.Domains; the schema cascades to
// everything the domain owns.
func (t *tx) DeleteDomain(id int64) error {
	err := t.execOne(domainNotFound(strconv.FormatInt(id, 10)), "DELETE FROM domains WHERE id = ?", id)
	return wrap(err, "delete domain")
}

// DomainUsage implements store.Domains from the counters the blob
// triggers maintain.
func (t *tx) DomainUsage(id int64) (repositories int, assetBytes int64, assets int64, err error) {
	err = t.queryRow(`SELECT (SELECT count(*) FROM repositories WHERE domain_id = u.domain_id), u.bytes, u.blobs
		FROM domain_usage u WHERE u.domain_id = ?`, id).Scan(&repositories, &assetBytes, &assets)
	if err != nil {
		return 0, 0, 0, getErr(err, "domain usage", domainNotFound(strconv.FormatInt(id, 10)))
	}
	return repositories, assetBytes, assets, nil
}

// part returns k[i], or "" when the key has fewer parts (a malformed key
// then still sorts somewhere rather than failing).
func part(k []string, i int) string {
	if i < len(k) {
		return k[i]
	}
	return ""
}
