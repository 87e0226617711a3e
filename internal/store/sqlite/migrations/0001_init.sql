-- Initial schema. Times are Unix nanoseconds (0 = unset). Text columns use
-- the BINARY collation so that ordering matches Go string comparison, which
-- the listing keys rely on. Ids are never reused (AUTOINCREMENT, and a
-- sequence for packages): the service may hold an id across transactions, and
-- it must not come to name a different record.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE domains (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner           TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    encryption_key  TEXT NOT NULL,
    created_time    INTEGER NOT NULL,
    policy_document TEXT NOT NULL,
    policy_revision TEXT NOT NULL,
    -- Serves both the (owner, name) lookup and the name, owner listing order.
    UNIQUE (name, owner)
);

CREATE TABLE repositories (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id             INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    administrator_account TEXT NOT NULL,
    created_time          INTEGER NOT NULL,
    external_connections  TEXT NOT NULL, -- JSON array
    policy_document       TEXT NOT NULL,
    policy_revision       TEXT NOT NULL,
    UNIQUE (domain_id, name)
);

-- Listing across domains orders by (name, id); id is the rowid, so this index
-- serves that order.
CREATE INDEX repositories_name ON repositories (name);

-- Upstreams are a child table rather than JSON so that Downstreams is an
-- index lookup.
CREATE TABLE repository_upstreams (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    PRIMARY KEY (repository_id, position)
) WITHOUT ROWID;

CREATE INDEX repository_upstreams_name ON repository_upstreams (name, repository_id);

-- Packages are clustered by their listing key (WITHOUT ROWID), so that a page
-- of ListPackages is a few consecutive leaf pages rather than one random table
-- lookup per row. Such a table has no AUTOINCREMENT: package_ids holds the
-- last id given out, and CreatePackage takes the next.
CREATE TABLE package_ids (last INTEGER NOT NULL);
INSERT INTO package_ids VALUES (0);

CREATE TABLE packages (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    format        TEXT NOT NULL,
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    id            INTEGER NOT NULL UNIQUE,
    publish       TEXT NOT NULL,
    upstream      TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    PRIMARY KEY (repository_id, format, namespace, name)
) WITHOUT ROWID;

CREATE TRIGGER packages_id AFTER INSERT ON packages BEGIN
    UPDATE package_ids SET last = new.id WHERE new.id > last;
END;

-- Listing with a name prefix: a range over the names that match. It holds
-- every column filtered or ordered on (the key columns come with it), so the
-- page is chosen from the index alone before the rows are read.
CREATE INDEX packages_name ON packages (repository_id, name, format, namespace, publish, upstream);

-- Listing by origin control, in key order: finding the few blocked packages
-- must not mean walking all the others.
CREATE INDEX packages_publish ON packages (repository_id, publish, format, namespace, name);
CREATE INDEX packages_upstream ON packages (repository_id, upstream, format, namespace, name);

CREATE TABLE versions (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id                 INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version                    TEXT NOT NULL,
    revision                   TEXT NOT NULL,
    status                     TEXT NOT NULL,
    origin_type                TEXT NOT NULL,
    origin_repository          TEXT NOT NULL,
    origin_external_connection TEXT NOT NULL,
    created_time               INTEGER NOT NULL,
    published_time             INTEGER NOT NULL,
    display_name               TEXT NOT NULL,
    summary                    TEXT NOT NULL,
    home_page                  TEXT NOT NULL,
    source_code_repository     TEXT NOT NULL,
    licenses                   TEXT NOT NULL, -- JSON array
    readme                     TEXT NOT NULL,
    dependencies               TEXT NOT NULL, -- JSON array
    metadata                   TEXT NOT NULL,
    UNIQUE (package_id, version)
);

CREATE INDEX versions_published ON versions (package_id, published_time, version);

-- Blob digests per domain, with the number of assets of the domain that
-- reference the blob. The triggers below keep refs exact through every kind of
-- delete, cascades included, and drop a row when its last reference goes.
CREATE TABLE blobs (
    domain_id INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    sha256    TEXT NOT NULL,
    size      INTEGER NOT NULL,
    md5       TEXT NOT NULL,
    sha1      TEXT NOT NULL,
    sha512    TEXT NOT NULL,
    refs      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, sha256)
) WITHOUT ROWID;

CREATE INDEX blobs_sha256 ON blobs (sha256) WHERE refs > 0;

-- Deduplicated usage per domain, maintained from blobs.refs transitions so
-- that DomainUsage is a single row read.
CREATE TABLE domain_usage (
    domain_id INTEGER PRIMARY KEY REFERENCES domains (id) ON DELETE CASCADE,
    blobs     INTEGER NOT NULL DEFAULT 0,
    bytes     INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER domains_usage AFTER INSERT ON domains BEGIN
    INSERT INTO domain_usage (domain_id) VALUES (new.id);
END;

CREATE TABLE assets (
    version_id   INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    domain_id    INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    PRIMARY KEY (version_id, name)
) WITHOUT ROWID;

CREATE TRIGGER assets_insert AFTER INSERT ON assets BEGIN
    UPDATE blobs SET refs = refs + 1 WHERE domain_id = new.domain_id AND sha256 = new.sha256;
END;

-- Reference the new blob before releasing the old one, so replacing an asset
-- by the same blob never drops it.
CREATE TRIGGER assets_update AFTER UPDATE OF domain_id, sha256 ON assets
WHEN old.domain_id <> new.domain_id OR old.sha256 <> new.sha256 BEGIN
    UPDATE blobs SET refs = refs + 1 WHERE domain_id = new.domain_id AND sha256 = new.sha256;
    UPDATE blobs SET refs = refs - 1 WHERE domain_id = old.domain_id AND sha256 = old.sha256;
    DELETE FROM blobs WHERE domain_id = old.domain_id AND sha256 = old.sha256 AND refs = 0;
END;

CREATE TRIGGER assets_delete AFTER DELETE ON assets BEGIN
    UPDATE blobs SET refs = refs - 1 WHERE domain_id = old.domain_id AND sha256 = old.sha256;
    DELETE FROM blobs WHERE domain_id = old.domain_id AND sha256 = old.sha256 AND refs = 0;
END;

CREATE TRIGGER blobs_referenced AFTER UPDATE OF refs ON blobs
WHEN old.refs = 0 AND new.refs > 0 BEGIN
    UPDATE domain_usage SET blobs = blobs + 1, bytes = bytes + new.size WHERE domain_id = new.domain_id;
END;

CREATE TRIGGER blobs_released AFTER UPDATE OF refs ON blobs
WHEN old.refs > 0 AND new.refs = 0 BEGIN
    UPDATE domain_usage SET blobs = blobs - 1, bytes = bytes - old.size WHERE domain_id = old.domain_id;
END;

CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
) WITHOUT ROWID;

CREATE TABLE access_keys (
    access_key_id      TEXT PRIMARY KEY,
    secret_encrypted   BLOB NOT NULL,
    principal_arn      TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_time       INTEGER NOT NULL,
    session_token_hash TEXT NOT NULL,
    expiration         INTEGER NOT NULL,
    last_used          INTEGER NOT NULL,
    principal          TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX access_keys_principal ON access_keys (principal_arn, access_key_id);
CREATE INDEX access_keys_expiration ON access_keys (expiration) WHERE expiration <> 0;
