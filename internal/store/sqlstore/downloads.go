package sqlstore

import "time"

// RecordDownloads implements store.Downloads: one upsert per version, which
// only ever moves a time forward.
func (t *Tx) RecordDownloads(times map[int64]time.Time) error {
	for id, at := range times {
		_, err := t.exec(`INSERT INTO version_downloads (version_id, last_download)
			SELECT ?, ? WHERE EXISTS (SELECT 1 FROM versions WHERE id = ?)
			ON CONFLICT (version_id) DO UPDATE SET last_download = excluded.last_download
			WHERE excluded.last_download > version_downloads.last_download`, id, nanos(at), id)
		if err != nil {
			return t.wrap(err, "record downloads")
		}
	}
	return nil
}

// LastDownloads implements store.Downloads.
func (t *Tx) LastDownloads(ids []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, arg := t.d.In("version_id", ids)
	rows, err := t.c.Query(t.d.sql("SELECT version_id, last_download FROM version_downloads WHERE "+in), arg)
	if err != nil {
		return nil, t.wrap(err, "last downloads")
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, t.wrap(err, "last downloads")
		}
		out[id] = fromNanos(at)
	}
	return out, t.wrap(rows.Err(), "last downloads")
}
