package postgres

import (
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

const accessKeyColumns = `access_key_id, secret_encrypted, principal_arn, status, created_time,
	session_token, expiration, last_used, principal`

func scanAccessKey(r scanner) (store.AccessKey, error) {
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
func (t *tx) CreateAccessKey(k *store.AccessKey) error {
	tag, err := t.exec("INSERT INTO access_keys ("+accessKeyColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"+
		" ON CONFLICT DO NOTHING",
		k.AccessKeyID, notNull(k.SecretEncrypted), k.PrincipalARN, k.Status, nanos(k.CreatedTime),
		notNull(k.SessionToken), nanos(k.Expiration), nanos(k.LastUsed), k.Principal)
	if err == nil && tag.RowsAffected() == 0 {
		return fault.Conflict("access-key", k.AccessKeyID, "access key %s already exists", k.AccessKeyID)
	}
	return wrap(err, "create access key")
}

// GetAccessKey implements store.AccessKeys.
func (t *tx) GetAccessKey(id string) (*store.AccessKey, error) {
	k, err := scanAccessKey(t.queryRow("SELECT "+accessKeyColumns+" FROM access_keys WHERE access_key_id = $1", id))
	if err != nil {
		return nil, getErr(err, "get access key", accessKeyNotFound(id))
	}
	return &k, nil
}

// ListAccessKeys implements store.AccessKeys.
func (t *tx) ListAccessKeys(principalARN string) ([]store.AccessKey, error) {
	ks, err := listRows(t, scanAccessKey, "SELECT "+accessKeyColumns+
		" FROM access_keys WHERE principal_arn = $1 ORDER BY access_key_id", principalARN)
	return ks, wrap(err, "list access keys")
}

// UpdateAccessKey implements store.AccessKeys.
func (t *tx) UpdateAccessKey(k *store.AccessKey) error {
	err := t.execOne(accessKeyNotFound(k.AccessKeyID), "UPDATE access_keys SET status = $1, last_used = $2 WHERE access_key_id = $3",
		k.Status, nanos(k.LastUsed), k.AccessKeyID)
	return wrap(err, "update access key")
}

// DeleteAccessKey implements store.AccessKeys.
func (t *tx) DeleteAccessKey(id string) error {
	err := t.execOne(accessKeyNotFound(id), "DELETE FROM access_keys WHERE access_key_id = $1", id)
	return wrap(err, "delete access key")
}

// DeleteExpiredAccessKeys implements store.AccessKeys.
func (t *tx) DeleteExpiredAccessKeys(now time.Time) (int, error) {
	tag, err := t.exec("DELETE FROM access_keys WHERE expiration <> 0 AND expiration < $1", nanos(now))
	if err != nil {
		return 0, wrap(err, "delete expired access keys")
	}
	return int(tag.RowsAffected()), nil
}
