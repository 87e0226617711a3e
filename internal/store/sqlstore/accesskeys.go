package sqlstore

import (
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const accessKeyColumns = `access_key_id, secret_encrypted, principal_arn, status, created_time,
	session_token, expiration, last_used, principal`

func scanAccessKey(r Row) (store.AccessKey, error) {
	var k store.AccessKey
	var created, expiration, lastUsed int64
	err := r.Scan(&k.AccessKeyID, &k.SecretEncrypted, &k.PrincipalARN, &k.Status, &created,
		&k.SessionToken, &expiration, &lastUsed, &k.Principal)
	k.CreatedTime = fromNanos(created)
	k.Expiration = fromNanos(expiration)
	k.LastUsed = fromNanos(lastUsed)
	return k, err
}

func accessKeyNotFound(id string) func() error {
	return func() error { return fault.NotFound("access-key", id, "access key %s not found", id) }
}

// CreateAccessKey implements store.AccessKeys.
func (t *Tx) CreateAccessKey(k *store.AccessKey) error {
	n, err := t.exec("INSERT INTO access_keys ("+accessKeyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		k.AccessKeyID, notNull(k.SecretEncrypted), k.PrincipalARN, k.Status, nanos(k.CreatedTime),
		notNull(k.SessionToken), nanos(k.Expiration), nanos(k.LastUsed), k.Principal)
	if err == nil && n == 0 {
		return fault.Conflict("access-key", k.AccessKeyID, "access key %s already exists", k.AccessKeyID)
	}
	return t.wrap(err, "create access key")
}

// GetAccessKey implements store.AccessKeys.
func (t *Tx) GetAccessKey(id string) (*store.AccessKey, error) {
	k, err := scanAccessKey(t.queryRow("SELECT "+accessKeyColumns+" FROM access_keys WHERE access_key_id = ?", id))
	if err != nil {
		return nil, t.getErr(err, "get access key", accessKeyNotFound(id))
	}
	return &k, nil
}

// ListAccessKeys implements store.AccessKeys.
func (t *Tx) ListAccessKeys(principalARN string) ([]store.AccessKey, error) {
	ks, err := list(t, scanAccessKey, "SELECT "+accessKeyColumns+
		" FROM access_keys WHERE principal_arn = ? ORDER BY access_key_id", principalARN)
	return ks, t.wrap(err, "list access keys")
}

// UpdateAccessKey implements store.AccessKeys.
func (t *Tx) UpdateAccessKey(k *store.AccessKey) error {
	err := t.execOne(accessKeyNotFound(k.AccessKeyID), "UPDATE access_keys SET status = ?, last_used = ? WHERE access_key_id = ?",
		k.Status, nanos(k.LastUsed), k.AccessKeyID)
	return t.wrap(err, "update access key")
}

// DeleteAccessKey implements store.AccessKeys.
func (t *Tx) DeleteAccessKey(id string) error {
	err := t.execOne(accessKeyNotFound(id), "DELETE FROM access_keys WHERE access_key_id = ?", id)
	return t.wrap(err, "delete access key")
}

// DeleteExpiredAccessKeys implements store.AccessKeys.
func (t *Tx) DeleteExpiredAccessKeys(now time.Time) (int, error) {
	n, err := t.exec("DELETE FROM access_keys WHERE expiration <> 0 AND expiration < ?", nanos(now))
	if err != nil {
		return 0, t.wrap(err, "delete expired access keys")
	}
	return int(n), nil
}
