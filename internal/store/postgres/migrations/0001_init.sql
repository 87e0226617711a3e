-- Initial schema: the state of the SQLite driver's schema 0004, in
-- PostgreSQL's terms.
--
-- Times are Unix nanoseconds in bigint (0 = unset), as the SQLite driver
-- keeps them (store.TimeNanos), so ordering and round trips match. Every text
-- column compares in byte order (COLLATE "C") whatever the database's
-- collation: listing keys and page keys rely on Go's string order, and a
-- prefix is a range of that order. Ids come from identity columns, whose
-- sequences never give a value twice: the service may hold an id across
-- transactions, and it must not come to name a different record.

-- The generation of the store: every write transaction increments the one
-- row first, which serialises the writes of every process sharing the
-- database and publishes the change with the commit (see postgres.go).
CREATE TABLE coffer_generation (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    gen bigint NOT NULL
);
INSERT INTO coffer_generation (gen) VALUES (0);

CREATE TABLE settings (
    key   text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL -- sealed secrets are bytes, not text
);

CREATE TABLE domains (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner           text COLLATE "C" NOT NULL,
    name            text COLLATE "C" NOT NULL,
    status          text COLLATE "C" NOT NULL,
    encryption_key  text COLLATE "C" NOT NULL,
    created_time    bigint NOT NULL,
    policy_document text COLLATE "C" NOT NULL,
    policy_revision text COLLATE "C" NOT NULL,
    -- Serves both the (owner, name) lookup and the name, owner listing order.
    UNIQUE (name, owner)
);

CREATE TABLE repositories (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id             bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    name                  text COLLATE "C" NOT NULL,
    description           text COLLATE "C" NOT NULL,
    administrator_account text COLLATE "C" NOT NULL,
    created_time          bigint NOT NULL,
    external_connections  text COLLATE "C" NOT NULL, -- JSON array
    policy_document       text COLLATE "C" NOT NULL,
    policy_revision       text COLLATE "C" NOT NULL,
    UNIQUE (domain_id, name)
);

-- Listing across domains orders by (name, id).
CREATE INDEX repositories_name ON repositories (name, id);

-- Upstreams are a child table so that Downstreams is an index lookup.
CREATE TABLE repository_upstreams (
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    name          text COLLATE "C" NOT NULL,
    PRIMARY KEY (repository_id, position)
);

CREATE INDEX repository_upstreams_name ON repository_upstreams (name, repository_id);

CREATE TABLE packages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    format        text COLLATE "C" NOT NULL,
    namespace     text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    publish       text COLLATE "C" NOT NULL,
    upstream      text COLLATE "C" NOT NULL,
    metadata      text COLLATE "C" NOT NULL,
    -- Grows with every change to the package, its versions or their assets
    -- (the triggers below), so that documents rendered from a package can be
    -- cached and revalidated at a cost independent of its versions.
    change_seq    bigint NOT NULL DEFAULT 0,
    -- The key and the listing order: a page is a range of this index.
    CONSTRAINT packages_key UNIQUE (repository_id, format, namespace, name)
);

-- Listing with a name prefix: a range over the names that match, with the
-- other filtered columns in the index so that rows are fetched only for
-- matches.
CREATE INDEX packages_name ON packages (repository_id, name, format, namespace, publish, upstream);

-- Listing by origin control, in key order: finding the few blocked packages
-- must not mean walking all the others.
CREATE INDEX packages_publish ON packages (repository_id, publish, format, namespace, name);
CREATE INDEX packages_upstream ON packages (repository_id, upstream, format, namespace, name);

CREATE TABLE versions (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    package_id                 bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    version                    text COLLATE "C" NOT NULL,
    revision                   text COLLATE "C" NOT NULL,
    status                     text COLLATE "C" NOT NULL,
    origin_type                text COLLATE "C" NOT NULL,
    origin_repository          text COLLATE "C" NOT NULL,
    origin_external_connection text COLLATE "C" NOT NULL,
    created_time               bigint NOT NULL,
    published_time             bigint NOT NULL,
    display_name               text COLLATE "C" NOT NULL,
    summary                    text COLLATE "C" NOT NULL,
    home_page                  text COLLATE "C" NOT NULL,
    source_code_repository     text COLLATE "C" NOT NULL,
    licenses                   text COLLATE "C" NOT NULL, -- JSON array
    readme                     text COLLATE "C" NOT NULL,
    dependencies               text COLLATE "C" NOT NULL, -- JSON array
    metadata                   text COLLATE "C" NOT NULL,
    CONSTRAINT versions_key UNIQUE (package_id, version)
);

CREATE INDEX versions_published ON versions (package_id, published_time, version);

-- Blob digests per domain, with the number of assets of the domain that
-- reference the blob. The triggers below keep refs exact through every kind
-- of delete, cascades included, and drop a row when its last reference goes.
CREATE TABLE blobs (
    domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    sha256    text COLLATE "C" NOT NULL,
    size      bigint NOT NULL,
    md5       text COLLATE "C" NOT NULL,
    sha1      text COLLATE "C" NOT NULL,
    sha512    text COLLATE "C" NOT NULL,
    refs      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, sha256)
);

CREATE INDEX blobs_sha256 ON blobs (sha256) WHERE refs > 0;

-- Deduplicated usage per domain, maintained from blobs.refs transitions so
-- that DomainUsage is a single row read.
CREATE TABLE domain_usage (
    domain_id bigint PRIMARY KEY REFERENCES domains (id) ON DELETE CASCADE,
    blobs     bigint NOT NULL DEFAULT 0,
    bytes     bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION coffer_domains_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO domain_usage (domain_id) VALUES (NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER domains_usage AFTER INSERT ON domains
    FOR EACH ROW EXECUTE FUNCTION coffer_domains_usage();

CREATE TABLE assets (
    version_id   bigint NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    name         text COLLATE "C" NOT NULL,
    domain_id    bigint NOT NULL,
    sha256       text COLLATE "C" NOT NULL,
    created_time bigint NOT NULL,
    PRIMARY KEY (version_id, name)
);

-- Reference the new blob before releasing the old one, so replacing an asset
-- by the same blob never drops it.
CREATE FUNCTION coffer_assets_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        UPDATE blobs SET refs = refs + 1 WHERE domain_id = NEW.domain_id AND sha256 = NEW.sha256;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE blobs SET refs = refs - 1 WHERE domain_id = OLD.domain_id AND sha256 = OLD.sha256;
        DELETE FROM blobs WHERE domain_id = OLD.domain_id AND sha256 = OLD.sha256 AND refs = 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER assets_refs_insert AFTER INSERT ON assets
    FOR EACH ROW EXECUTE FUNCTION coffer_assets_refs();
CREATE TRIGGER assets_refs_update AFTER UPDATE OF domain_id, sha256 ON assets
    FOR EACH ROW WHEN (OLD.domain_id <> NEW.domain_id OR OLD.sha256 <> NEW.sha256)
    EXECUTE FUNCTION coffer_assets_refs();
CREATE TRIGGER assets_refs_delete AFTER DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION coffer_assets_refs();

CREATE FUNCTION coffer_blobs_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.refs > 0 THEN
        UPDATE domain_usage SET blobs = blobs + 1, bytes = bytes + NEW.size WHERE domain_id = NEW.domain_id;
    ELSE
        UPDATE domain_usage SET blobs = blobs - 1, bytes = bytes - OLD.size WHERE domain_id = OLD.domain_id;
    END IF;
    RETURN NULL;
END $$;

-- Fires when a blob becomes referenced or unreferenced.
CREATE TRIGGER blobs_usage AFTER UPDATE OF refs ON blobs
    FOR EACH ROW WHEN ((OLD.refs > 0) <> (NEW.refs > 0))
    EXECUTE FUNCTION coffer_blobs_usage();

-- The change counter of packages.
CREATE FUNCTION coffer_packages_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := OLD.change_seq + 1;
    RETURN NEW;
END $$;

CREATE TRIGGER packages_stamp BEFORE UPDATE OF publish, upstream, metadata ON packages
    FOR EACH ROW EXECUTE FUNCTION coffer_packages_stamp();

CREATE FUNCTION coffer_versions_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE packages SET change_seq = change_seq + 1 WHERE id = OLD.package_id;
    ELSE
        UPDATE packages SET change_seq = change_seq + 1 WHERE id = NEW.package_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER versions_stamp AFTER INSERT OR UPDATE OR DELETE ON versions
    FOR EACH ROW EXECUTE FUNCTION coffer_versions_stamp();

CREATE FUNCTION coffer_assets_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE packages SET change_seq = change_seq + 1
        WHERE id = (SELECT package_id FROM versions WHERE id = OLD.version_id);
    ELSE
        UPDATE packages SET change_seq = change_seq + 1
        WHERE id = (SELECT package_id FROM versions WHERE id = NEW.version_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER assets_stamp AFTER INSERT OR UPDATE OR DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION coffer_assets_stamp();

CREATE TABLE tags (
    resource_arn text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    value        text COLLATE "C" NOT NULL,
    PRIMARY KEY (resource_arn, key)
);

-- Secrets and session tokens are sealed by a key kept outside the store.
CREATE TABLE access_keys (
    access_key_id    text COLLATE "C" PRIMARY KEY,
    secret_encrypted bytea NOT NULL,
    principal_arn    text COLLATE "C" NOT NULL,
    status           text COLLATE "C" NOT NULL,
    created_time     bigint NOT NULL,
    session_token    bytea NOT NULL,
    expiration       bigint NOT NULL,
    last_used        bigint NOT NULL,
    principal        text COLLATE "C" NOT NULL
);

CREATE INDEX access_keys_principal ON access_keys (principal_arn, access_key_id);
CREATE INDEX access_keys_expiration ON access_keys (expiration) WHERE expiration <> 0;

-- IAM names are unique per kind case-insensitively and are returned as
-- created: each name column has a unique index on lower(name), which serves
-- the uniqueness check, the lookup by name in any case, and the listing order
-- with its keyset comparison. lower() of a "C" column folds ASCII only, as
-- SQLite's NOCASE does (IAM names are ASCII). Each entity has an internal id
-- that the child tables reference, and its IAM unique id (AIDA..., AGPA...,
-- AROA..., ANPA...) in unique_id.

CREATE TABLE iam_users (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text COLLATE "C" NOT NULL,
    unique_id    text COLLATE "C" NOT NULL CONSTRAINT iam_users_unique_id UNIQUE,
    path         text COLLATE "C" NOT NULL,
    arn          text COLLATE "C" NOT NULL,
    created_time bigint NOT NULL
);
CREATE UNIQUE INDEX iam_users_name ON iam_users (lower(name));

CREATE TABLE iam_groups (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text COLLATE "C" NOT NULL,
    unique_id    text COLLATE "C" NOT NULL CONSTRAINT iam_groups_unique_id UNIQUE,
    path         text COLLATE "C" NOT NULL,
    arn          text COLLATE "C" NOT NULL,
    created_time bigint NOT NULL
);
CREATE UNIQUE INDEX iam_groups_name ON iam_groups (lower(name));

-- Deleting a user or group removes its memberships with it, so that none
-- dangles.
CREATE TABLE iam_group_members (
    group_id bigint NOT NULL REFERENCES iam_groups (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_user ON iam_group_members (user_id, group_id);

CREATE TABLE iam_roles (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text COLLATE "C" NOT NULL,
    unique_id            text COLLATE "C" NOT NULL CONSTRAINT iam_roles_unique_id UNIQUE,
    path                 text COLLATE "C" NOT NULL,
    arn                  text COLLATE "C" NOT NULL,
    description          text COLLATE "C" NOT NULL,
    assume_role_policy   text COLLATE "C" NOT NULL,
    max_session_duration integer NOT NULL,
    created_time         bigint NOT NULL
);
CREATE UNIQUE INDEX iam_roles_name ON iam_roles (lower(name));

-- Customer-managed policies are looked up by ARN (compared exactly).
CREATE TABLE iam_policies (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text COLLATE "C" NOT NULL,
    unique_id          text COLLATE "C" NOT NULL CONSTRAINT iam_policies_unique_id UNIQUE,
    path               text COLLATE "C" NOT NULL,
    arn                text COLLATE "C" NOT NULL UNIQUE,
    description        text COLLATE "C" NOT NULL,
    default_version_id text COLLATE "C" NOT NULL,
    created_time       bigint NOT NULL,
    update_time        bigint NOT NULL
);
CREATE UNIQUE INDEX iam_policies_name ON iam_policies (lower(name));

-- Versions go with their policy; the id is the creation order.
CREATE TABLE iam_policy_versions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    policy_id    bigint NOT NULL REFERENCES iam_policies (id) ON DELETE CASCADE,
    version_id   text COLLATE "C" NOT NULL,
    document     text COLLATE "C" NOT NULL,
    created_time bigint NOT NULL,
    UNIQUE (policy_id, version_id)
);

-- Managed policy attachments, principal ARN to policy ARN. The policy must
-- exist, and its attachments go with it; the principal is not checked.
CREATE TABLE iam_attachments (
    principal_arn text COLLATE "C" NOT NULL,
    policy_arn    text COLLATE "C" NOT NULL REFERENCES iam_policies (arn) ON DELETE CASCADE,
    PRIMARY KEY (principal_arn, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (policy_arn);

-- Inline policies, by owner ARN and name (case-insensitive, as created).
CREATE TABLE iam_inline_policies (
    owner_arn text COLLATE "C" NOT NULL,
    name      text COLLATE "C" NOT NULL,
    document  text COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX iam_inline_policies_key ON iam_inline_policies (owner_arn, lower(name));

-- Package groups, keyed by pattern within their domain. The root group "/*"
-- every domain has is not stored until it is changed. Modes is a JSON object
-- from restriction type to mode.
CREATE TABLE package_groups (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id    bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    pattern      text COLLATE "C" NOT NULL,
    contact_info text COLLATE "C" NOT NULL,
    description  text COLLATE "C" NOT NULL,
    created_time bigint NOT NULL,
    modes        text COLLATE "C" NOT NULL,
    UNIQUE (domain_id, pattern)
);

-- One row per (group, restriction type, repository). Deleting the group or
-- the repository removes the row, so a list never names a repository that is
-- gone, nor a later repository that took its name.
CREATE TABLE package_group_repositories (
    group_id         bigint NOT NULL REFERENCES package_groups (id) ON DELETE CASCADE,
    restriction_type text COLLATE "C" NOT NULL,
    repository_id    bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, restriction_type, repository_id)
);
CREATE INDEX package_group_repositories_repository ON package_group_repositories (repository_id);
