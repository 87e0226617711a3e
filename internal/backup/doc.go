// Package backup backs up, restores and checks the embedded deployment of
// coffer: SQLite metadata and content-addressed blob files under a data dir.
// coffer backup, coffer restore and coffer fsck are its commands. A
// deployment on PostgreSQL and an object store is backed up with those
// systems' own tools (pg_dump, bucket replication or versioning) instead.
//
// A backup directory:
//
//	<backup>/
//	├── manifest.json          written last, atomically: without it the backup is incomplete
//	├── metadata.db            the metadata snapshot (SQLite VACUUM INTO)
//	├── blobs.txt              "<sha256> <size>" of every blob the snapshot references, sorted by object
//	│                          name; "<sha256> <size> <key id> <object name>" for an encrypted domain's
//	├── files/                 master.key, root-credentials, audit.log of the data dir
//	├── blobs/sha256/ab/cd/…   the blobs, as blob/fs lays them out (shared by successive backups)
//	└── .lock                  held while a backup writes
//
// Backing up while coffer serves the data dir: the metadata snapshot is one
// read transaction, so it holds exactly the commits made before it, and
// every blob it references was committed (fsynced and in place) before the
// metadata that references it. The one race is a blob deleted after the
// snapshot: a deleted version's content is released at once, and an old
// unreferenced advisory source blob goes at the orphan collector's next pass.
// Backup then finds a blob the snapshot references missing, takes a new
// snapshot (which no longer references it) and copies what is missing, at
// most five times; a blob missing from two consecutive snapshots is lost
// from the data dir, and the backup fails naming it (coffer fsck says
// which versions it belonged to).
//
// Backups are incremental: a blob is named by its SHA-256, so one already
// in the backup directory is not copied again (every blob there was
// verified when it was copied). Each blob copied is streamed through the
// one-pass hasher and committed only when its SHA-256, size and the other
// digests the metadata records match. After the manifest is written, the
// blobs the new snapshot no longer references are removed from the backup
// directory. An encrypted domain's blob is its encrypted object, copied
// raw under its name (encrypted.ObjectName) and verified by decrypting it
// with the domain's key (opened with the master key): every segment and
// the trailer must authenticate, and the plaintext must have the recorded
// digests; restore and fsck verify it the same way. The manifest is removed first thing, so an interrupted backup
// never looks complete, also when it overwrites an earlier one.
package backup
