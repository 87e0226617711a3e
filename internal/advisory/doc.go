// Package advisory keeps imported OSV advisory data ("sources") in coffer's
// own stores, so that every node of a deployment serves the same records,
// and holds the in-memory osv.Index of all of them.
//
// # Storage (no schema change)
//
// A source is one OSV zip as osv.dev publishes per ecosystem
// (https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip) or as
// the OpenSSF malicious-packages feed is zipped: one <ID>.json per record
// anywhere in the archive. It is kept as
//
//   - ONE blob in the blob store, the zip byte for byte, named by its
//     SHA-256 like every asset (staged, hashed and committed by the blob
//     store, streamed from a spooled file);
//   - one settings row "osv/source/<name>" holding SourceInfo as JSON:
//     name, sha256, size, records (the records an index keeps: not
//     withdrawn, first of each id), ecosystems (kept records per OSV
//     ecosystem), importedAt, importedBy.
//
// Names are 1-64 characters of [A-Za-z0-9._-] ("." and ".." excepted).
// Import validates the whole zip with osv.ReadZip before anything is
// stored: a file that is no zip, holds no .json record, or holds one
// record osv refuses is a fault.Validation naming that entry, and leaves
// the stores as they were. Importing a name again replaces its row.
//
// # Blobs nobody else knows about
//
// The artifact service deletes blobs that no asset references: its orphan
// collector (older than an hour) and its release of a deleted version's
// content (content is shared by digest, so an asset may even be
// byte-identical to a source). Sources.Retain wraps the blob store the
// artifact service is given: its List leaves out, and its Delete keeps,
// every blob that an "osv/source/" row names (read from the metadata store,
// so it holds across nodes) or that an import on this node is committing.
//
// The blob of a replaced or deleted source is therefore not deleted here:
// once no row names it, it is an orphan like any other and the artifact
// service's collector removes it under the artifact's own blob locks, after
// checking that no asset references it, within about two hours. Deleting
// it here could race an upload of the same content, whose lock is the
// artifact service's own.
//
// `coffer migrate` copies every settings row but only the blobs assets
// reference: after a migration, import the sources again. A source whose
// blob is missing is skipped when the index is built, with an error in the
// log, until it is imported again.
//
// # The index
//
// Index returns the osv.Index of every source together, built with
// osv.NewIndex(Config.Ecosystems) and Add of each record, sources in name
// order (the first record of an id wins, as osv.Index.Add says); never
// nil, empty before the first load. A build reads one source at a time
// and records one by one; the new index is swapped in atomically, so while
// it is built the old one still answers (memory peaks at both). Stamp
// changes whenever the index is replaced.
//
// Run loads at once, then every 10 s reads the "osv/source/" rows and
// rebuilds when a name, sha256 or importedAt changed: an import or delete
// on any node reaches every node within that delay plus the build. Import
// and Delete rebuild on their own node before they return, so a caller can
// query Index at once. A failed build is logged and the old index kept; the
// same rows are tried again after 5 minutes (any change of the rows is
// tried at once). Records osv refuses at build time (after an upgrade that
// made the reader stricter) are skipped and counted in the log.
//
// # Periodic sync
//
// Each Config.SyncURLs entry (coffer serve --osv-sync URL, repeatable) is
// downloaded every Config.SyncInterval (--osv-sync-interval, 24h) and
// imported under SyncName(URL) ("sync-" and the URL's host and path, made a
// name), by "sync:<URL>". https only, or http to a loopback host (tests,
// a local mirror); redirects obey the same rule. The download is
// conditional (If-None-Match, If-Modified-Since) while the source is the
// one synced last, bounded (MaxSyncSize, 2 GiB), and spooled to
// Config.SpoolDir; identical content (same SHA-256) is not imported again.
// The state of each URL is the settings row "osv/sync/<name>" (ETag,
// Last-Modified, sha256, checkedAt, nextAt, error); a failure is retried
// after min(interval, 15 min). Only one node syncs a URL at once: with a
// shared metadata store (store.Locker: PostgreSQL) the node takes the lock
// "osv-sync:<name>" and re-reads the state under it, so the others find
// the work done; a store without Locker is used by one process, whose own
// mutex suffices.
package advisory
