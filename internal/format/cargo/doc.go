// Package cargo is the codec of cargo's sparse registry protocol: pure
// functions and types, no HTTP handling beyond the error body. A
// repository endpoint E serves, with index = "sparse+E" in cargo's config:
//
//	GET E config.json                                 Config(E)
//	GET E <index path>                                ParseIndexPath; one IndexEntry.AppendJSON line per version
//	GET E api/v1/crates/<name>/<version>/download     ParseDownloadPath; the .crate
//	PUT E api/v1/crates/new                           ReadMetadata, (authorize), ReadCrate, VerifyCrate, NewIndexEntry; PublishResponse
//
// Errors are cargo's JSON body (WriteError), which cargo prints whatever
// the status. config.json sets "auth-required", so cargo (1.74 and later)
// sends its token on index and download requests too, not only on publish
// (its first config.json request goes without one and is retried with it
// after a 401).
//
// # Names
//
// A crate being published must have a name the public crates registry
// accepts (CheckName): 1–64 ASCII letters, digits, "-" and "_", starting
// with a letter, not a reserved name (the compiler's crates, Windows
// device names). Two names are the same crate when their Canonical forms
// (lower case, "-" as "_") are equal, as on the public registry: a
// registry keeps one crate per canonical name and refuses a publish that
// spells an existing crate differently. The crate keeps the spelling of
// its first publish, which is the name its index lines carry; its index
// file is at the lower-cased name's IndexPath, and a request for another
// spelling's path (foo_bar for foo-bar) is not that crate's (404), as on
// the public registry. The package name in the CodeArtifact API and in
// ARNs is meant to be the canonical form, like PyPI's normalised names,
// the display name keeping the published spelling.
//
// # Versions
//
// SemVer 2.0 exactly as cargo parses it (ValidVersion), at most 255 bytes
// (CodeArtifact's bound), stored as published. 1.0.0+a and 1.0.0+b are
// one release to cargo's requirements (VersionKey), so a registry refuses
// the second, as the public registry does.
//
// # Index entries
//
// An entry is written as the public registry writes it (member order,
// null and absent members, dependencies sorted normal before build before
// dev), so that a line read from the public index renders back to the
// same bytes. Features using "dep:" or "?/" go to features2 with v 2
// (SplitFeatures), so that cargo older than 1.60 skips the version
// instead of failing on the whole file. A published dependency becomes an
// index dependency by IndexDeps: version_req is req; a renamed one is
// listed under its name in Cargo.toml with package the crate's own name;
// one without registry is in the same registry, one with a registry (the
// public one's is https://github.com/rust-lang/crates.io-index) keeps it.
//
// Yanking is a version status: an Unlisted version is listed with
// "yanked": true (cargo then uses it only where Cargo.lock pins it, and
// it stays downloadable), a Published one with false; Archived and
// Disposed versions are left out of the index and are not downloadable.
// cargo yank / unyank (DELETE|PUT api/v1/crates/<name>/<version>/yank)
// map to UpdatePackageVersionsStatus to Unlisted and back to Published.
//
// Upstream index files (the public index) are read with ReadIndex: line
// by line, bounded, invalid lines skipped and counted as cargo skips them,
// each valid entry given with its raw line so that it can be passed
// through unchanged.
//
// # Publish
//
// The body is streamed: the JSON metadata is bounded and checked
// (ReadMetadata reads nothing past it, so the publish can be authorized by
// the crate's name before the .crate is read), the .crate is copied to the caller's writer with its
// SHA-256 (the index's cksum) computed on the way. VerifyCrate then reads
// the spooled crate once: paths under <name>-<vers>/ only, no links, a
// Cargo.toml whose name and version are the published ones, bounded
// unpacked size and entry count, and the README kept (bounded).
package cargo
