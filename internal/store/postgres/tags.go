package postgres

import "coffer/internal/store"

// ListTags implements store.Tags.
func (t *tx) ListTags(resourceARN string) ([]store.Tag, error) {
	tags, err := listRows(t, func(r scanner) (tag store.Tag, err error) { return tag, r.Scan(&tag.Key, &tag.Value) },
		"SELECT key, value FROM tags WHERE resource_arn = $1 ORDER BY key", resourceARN)
	return tags, wrap(err, "list tags")
}

// PutTags implements store.Tags, in one statement whatever the number of
// tags.
func (t *tx) PutTags(resourceARN string, tags []store.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	keys, values := make([]string, len(tags)), make([]string, len(tags))
	for i, tag := range tags {
		keys[i], values[i] = tag.Key, tag.Value
	}
	// A key given twice would make ON CONFLICT touch its row twice, which
	// PostgreSQL refuses: the last value wins, as it would one at a time.
	_, err := t.exec(`INSERT INTO tags (resource_arn, key, value)
		SELECT DISTINCT ON (k) $1::text, k, v FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (k, v, i) ORDER BY k, i DESC
		ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, resourceARN, keys, values)
	return wrap(err, "put tags")
}

// DeleteTags implements store.Tags.
func (t *tx) DeleteTags(resourceARN string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := t.exec("DELETE FROM tags WHERE resource_arn = $1 AND key = ANY($2)", resourceARN, keys)
	return wrap(err, "delete tags")
}

// DeleteAllTags implements store.Tags. The prefix is a range of the primary
// key, not a LIKE pattern, so '%' and '_' in ARNs are plain characters.
func (t *tx) DeleteAllTags(resourceARNPrefix string) error {
	var q query
	q.prefix("resource_arn", resourceARNPrefix)
	_, err := t.exec("DELETE FROM tags"+q.conditions(), q.args...)
	return wrap(err, "delete all tags")
}

// CountTags implements store.Tags.
func (t *tx) CountTags(resourceARN string) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM tags WHERE resource_arn = $1", resourceARN).Scan(&n)
	return n, wrap(err, "count tags")
}
