-- When the external registry published a version that was ingested from it
-- (npm's time, PyPI's upload-time, Maven's Last-Modified...), in Unix
-- nanoseconds; 0 when unknown or not ingested. Supply-chain cooldowns count
-- from it.
ALTER TABLE versions ADD COLUMN upstream_published_time bigint NOT NULL DEFAULT 0;
