-- A per-package change counter, bumped in the same transaction as any change
-- to the package, its versions or their assets, so that documents rendered
-- from a package (maven-metadata.xml, simple pages, packuments) can be cached
-- and revalidated at a cost independent of the number of versions.
ALTER TABLE packages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER packages_stamp AFTER UPDATE OF publish, upstream, metadata ON packages BEGIN
    UPDATE packages SET change_seq = change_seq + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER versions_stamp_insert AFTER INSERT ON versions BEGIN
    UPDATE packages SET change_seq = change_seq + 1 WHERE id = NEW.package_id;
END;

CREATE TRIGGER versions_stamp_update AFTER UPDATE ON versions BEGIN
    UPDATE packages SET change_seq = change_seq + 1 WHERE id = NEW.package_id;
END;

CREATE TRIGGER versions_stamp_delete AFTER DELETE ON versions BEGIN
    UPDATE packages SET change_seq = change_seq + 1 WHERE id = OLD.package_id;
END;

CREATE TRIGGER assets_stamp_insert AFTER INSERT ON assets BEGIN
    UPDATE packages SET change_seq = change_seq + 1
    WHERE id = (SELECT package_id FROM versions WHERE id = NEW.version_id);
END;

CREATE TRIGGER assets_stamp_update AFTER UPDATE ON assets BEGIN
    UPDATE packages SET change_seq = change_seq + 1
    WHERE id = (SELECT package_id FROM versions WHERE id = NEW.version_id);
END;

CREATE TRIGGER assets_stamp_delete AFTER DELETE ON assets BEGIN
    UPDATE packages SET change_seq = change_seq + 1
    WHERE id = (SELECT package_id FROM versions WHERE id = OLD.version_id);
END;
