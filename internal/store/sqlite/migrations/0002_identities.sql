-- IAM identities, and the session token of temporary access keys.

-- Access keys keep the session token of a temporary key sealed like the
-- secret (the SigV4 verifier needs the expected token), where 0001 kept a hash
-- of it. A hash cannot be turned back into the token, so the temporary keys
-- stored so far are dropped: they are short-lived and their holders ask for
-- new ones. Kept, they would come back with an empty token.
DELETE FROM access_keys WHERE session_token_hash <> '';
ALTER TABLE access_keys DROP COLUMN session_token_hash;
ALTER TABLE access_keys ADD COLUMN session_token BLOB NOT NULL DEFAULT x'';

-- IAM names are unique per kind case-insensitively and are returned as
-- created, so each name column is declared COLLATE NOCASE: its UNIQUE index
-- serves the uniqueness check, the lookup by name in any case, and the listing
-- order with its keyset comparison (name > ?), which are therefore
-- case-insensitive too. IAM names are ASCII, which NOCASE folds fully. Paths
-- and ARNs keep the BINARY collation; path prefixes are index ranges as in
-- 0001.
--
-- Each entity has an internal integer id that the child tables reference, and
-- its IAM unique id (AIDA..., AGPA..., AROA..., ANPA...) in unique_id.

CREATE TABLE iam_users (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL COLLATE NOCASE UNIQUE,
    unique_id    TEXT NOT NULL UNIQUE,
    path         TEXT NOT NULL,
    arn          TEXT NOT NULL,
    created_time INTEGER NOT NULL
);

CREATE TABLE iam_groups (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL COLLATE NOCASE UNIQUE,
    unique_id    TEXT NOT NULL UNIQUE,
    path         TEXT NOT NULL,
    arn          TEXT NOT NULL,
    created_time INTEGER NOT NULL
);

-- Deleting a user or group removes its memberships with it, so that none
-- dangles (the iam package refuses to delete a group with members or a user
-- in groups anyway).
CREATE TABLE iam_group_members (
    group_id INTEGER NOT NULL REFERENCES iam_groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;

CREATE INDEX iam_group_members_user ON iam_group_members (user_id, group_id);

CREATE TABLE iam_roles (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL COLLATE NOCASE UNIQUE,
    unique_id            TEXT NOT NULL UNIQUE,
    path                 TEXT NOT NULL,
    arn                  TEXT NOT NULL,
    description          TEXT NOT NULL,
    assume_role_policy   TEXT NOT NULL,
    max_session_duration INTEGER NOT NULL,
    created_time         INTEGER NOT NULL
);

-- Customer-managed policies are looked up by ARN (compared exactly).
CREATE TABLE iam_policies (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL COLLATE NOCASE UNIQUE,
    unique_id          TEXT NOT NULL UNIQUE,
    path               TEXT NOT NULL,
    arn                TEXT NOT NULL UNIQUE,
    description        TEXT NOT NULL,
    default_version_id TEXT NOT NULL,
    created_time       INTEGER NOT NULL,
    update_time        INTEGER NOT NULL
);

-- Versions go with their policy. The rowid is the creation order: a new row
-- gets a rowid above every existing one.
CREATE TABLE iam_policy_versions (
    id           INTEGER PRIMARY KEY,
    policy_id    INTEGER NOT NULL REFERENCES iam_policies (id) ON DELETE CASCADE,
    version_id   TEXT NOT NULL,
    document     TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    UNIQUE (policy_id, version_id)
);

-- Managed policy attachments, principal ARN (a user, group or role) to policy
-- ARN. The policy must exist, and its attachments go with it (the iam package
-- refuses to delete an attached policy anyway); the principal is not checked,
-- and its attachments are removed by DeleteAllInlinePolicies.
CREATE TABLE iam_attachments (
    principal_arn TEXT NOT NULL,
    policy_arn    TEXT NOT NULL REFERENCES iam_policies (arn) ON DELETE CASCADE,
    PRIMARY KEY (principal_arn, policy_arn)
) WITHOUT ROWID;

CREATE INDEX iam_attachments_policy ON iam_attachments (policy_arn);

-- Inline policies, by owner ARN (a user, group or role) and name.
CREATE TABLE iam_inline_policies (
    owner_arn TEXT NOT NULL,
    name      TEXT NOT NULL COLLATE NOCASE,
    document  TEXT NOT NULL,
    PRIMARY KEY (owner_arn, name)
) WITHOUT ROWID;
