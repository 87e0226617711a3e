-- Package groups and their allowed-repository lists.
--
-- A group is keyed by its pattern within its domain; the UNIQUE index serves
-- the lookup and the listing in pattern order with a pattern prefix (a range
-- on the index, as in 0001). The root group "/*" that every domain has is not
-- stored until it is changed: the artifact service supplies it otherwise.
-- Modes is a JSON object from restriction type to mode.

CREATE TABLE package_groups (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id    INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    pattern      TEXT NOT NULL,
    contact_info TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    modes        TEXT NOT NULL,
    UNIQUE (domain_id, pattern)
);

-- One row per (group, restriction type, repository). Deleting the group or
-- the repository removes the row, so a list never names a repository that is
-- gone, nor a later repository that took its name.
CREATE TABLE package_group_repositories (
    group_id         INTEGER NOT NULL REFERENCES package_groups (id) ON DELETE CASCADE,
    restriction_type TEXT NOT NULL,
    repository_id    INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, restriction_type, repository_id)
) WITHOUT ROWID;

-- Serves the cascade when a repository is deleted.
CREATE INDEX package_group_repositories_repository ON package_group_repositories (repository_id);
