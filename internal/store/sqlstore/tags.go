package sqlstore

import (
	"encoding/json"

	"coffer/internal/store"
)

// ListTags implements store.Tags.
func (t *Tx) ListTags(resourceARN string) ([]store.Tag, error) {
	tags, err := list(t, func(r Row) (tag store.Tag, err error) { return tag, r.Scan(&tag.Key, &tag.Value) },
		"SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key", resourceARN)
	return tags, t.wrap(err, "list tags")
}

// PutTags implements store.Tags, in one statement whatever the number of
// tags: they travel as one JSON object, in which a key given twice keeps
// its last value, as it would one at a time.
func (t *Tx) PutTags(resourceARN string, tags []store.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, tag := range tags {
		m[tag.Key] = tag.Value
	}
	pairs, err := json.Marshal(m)
	if err != nil {
		return t.wrap(err, "put tags")
	}
	_, err = t.exec(`INSERT INTO tags (resource_arn, key, value) SELECT ?, key, value FROM `+t.d.JSONPairs+` WHERE true
		ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, resourceARN, string(pairs))
	return t.wrap(err, "put tags")
}

// DeleteTags implements store.Tags.
func (t *Tx) DeleteTags(resourceARN string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	in, arg := t.d.In("key", keys)
	_, err := t.exec("DELETE FROM tags WHERE resource_arn = ? AND "+in, resourceARN, arg)
	return t.wrap(err, "delete tags")
}

// DeleteAllTags implements store.Tags: a range of the primary key.
func (t *Tx) DeleteAllTags(resourceARNPrefix string) error {
	w := where{d: t.d}
	w.prefix("resource_arn", resourceARNPrefix)
	_, err := t.exec("DELETE FROM tags"+w.String(), w.args...)
	return t.wrap(err, "delete all tags")
}

// CountTags implements store.Tags.
func (t *Tx) CountTags(resourceARN string) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM tags WHERE resource_arn = ?", resourceARN).Scan(&n)
	return n, t.wrap(err, "count tags")
}
