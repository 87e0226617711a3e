-- When each package version was last downloaded (store.Downloads), written
-- in batches by the engine's download log, read by retention rules ("not
-- downloaded for D days"). A table of its own, so that recording a download
-- never touches the versions table and its change stamps.
CREATE TABLE version_downloads (
    version_id    INTEGER PRIMARY KEY REFERENCES versions (id) ON DELETE CASCADE,
    last_download INTEGER NOT NULL -- Unix nanoseconds
);
