-- The event outbox (store.Events): package version changes, written in the
-- transaction that made them, read by the webhook deliveries in seq order.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after a delete
    domain_id  INTEGER NOT NULL,
    time       INTEGER NOT NULL,                  -- Unix nanoseconds
    format     TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX events_time ON events (time);
