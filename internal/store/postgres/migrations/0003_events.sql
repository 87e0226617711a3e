-- The event outbox (store.Events): package version changes, written in the
-- transaction that made them, read by the webhook deliveries in seq order.
CREATE TABLE events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id  bigint NOT NULL,
    time       bigint NOT NULL,              -- Unix nanoseconds
    format     text COLLATE "C" NOT NULL,
    namespace  text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    version    text COLLATE "C" NOT NULL,
    body       text NOT NULL
);
CREATE INDEX events_time ON events (time);
