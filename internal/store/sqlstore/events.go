package sqlstore

import (
	"time"

	"coffer/internal/store"
)

// AppendEvent implements store.Events.
func (t *Tx) AppendEvent(e *store.Event) error {
	err := t.queryRow(`INSERT INTO events (domain_id, time, format, namespace, name, version, body)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.DomainID, nanos(e.Time), e.Format, e.Namespace, e.Name, e.Version, e.Body).Scan(&e.Seq)
	return t.wrap(err, "append event")
}

// ListEvents implements store.Events.
func (t *Tx) ListEvents(after int64, limit int) ([]store.Event, error) {
	out, err := list(t, func(r Row) (e store.Event, err error) {
		var at int64
		err = r.Scan(&e.Seq, &e.DomainID, &at, &e.Format, &e.Namespace, &e.Name, &e.Version, &e.Body)
		e.Time = fromNanos(at)
		return e, err
	}, "SELECT seq, domain_id, time, format, namespace, name, version, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
		after, limit)
	return out, t.wrap(err, "list events")
}

// LastEventSeq implements store.Events.
func (t *Tx) LastEventSeq() (int64, error) {
	var seq int64
	err := t.queryRow("SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&seq)
	return seq, t.wrap(err, "last event")
}

// DeleteEvents implements store.Events.
func (t *Tx) DeleteEvents(upTo int64, before time.Time) (int64, error) {
	n, err := t.exec("DELETE FROM events WHERE seq <= ? OR time < ?", upTo, nanos(before))
	return n, t.wrap(err, "delete events")
}
