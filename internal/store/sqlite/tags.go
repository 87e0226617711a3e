package sqlite

import "coffer/internal/store"

// ListTags implements store.Tags.
func (t *tx) ListTags(resourceARN string) ([]store.Tag, error) {
	tags, err := listRows(t, func(r scanner) (store.Tag, error) {
		var tag store.Tag
		return tag, r.Scan(&tag.Key, &tag.Value)
	}, "SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key", resourceARN)
	return tags, wrap(err, "list tags")
}

// PutTags implements store.Tags.
func (t *tx) PutTags(resourceARN string, tags []store.Tag) error {
	for _, tag := range tags {
		_, err := t.exec(`INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?)
			ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, resourceARN, tag.Key, tag.Value)
		if err != nil {
			return wrap(err, "put tags")
		}
	}
	return nil
}

// DeleteTags implements store.Tags.
func (t *tx) DeleteTags(resourceARN string, keys []string) error {
	for _, k := range keys {
		if _, err := t.exec("DELETE FROM tags WHERE resource_arn = ? AND key = ?", resourceARN, k); err != nil {
			return wrap(err, "delete tags")
		}
	}
	return nil
}

// DeleteAllTags implements store.Tags. The prefix is a range on the primary
// key, not a LIKE pattern, so '%' and '_' in ARNs are plain characters.
func (t *tx) DeleteAllTags(resourceARNPrefix string) error {
	var w where
	w.prefix("resource_arn", resourceARNPrefix)
	_, err := t.exec("DELETE FROM tags"+w.String(), w.args...)
	return wrap(err, "delete all tags")
}

// CountTags implements store.Tags.
func (t *tx) CountTags(resourceARN string) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM tags WHERE resource_arn = ?", resourceARN).Scan(&n)
	return n, wrap(err, "count tags")
}
