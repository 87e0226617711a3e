// Package cargo serves cargo's sparse registry on a repository endpoint E
// (Protocol, Handler), with index = "sparse+E" in cargo's config, and holds
// the protocol's codec: pure functions and types beside the handler.
//
//	GET E config.json                                 Config(E): dl, api, auth-required
//	GET E <index path>                                one IndexEntry.AppendJSON line per version (ETag, 304)
//	GET E api/v1/crates/<name>/<version>/download     the .crate, read through the engine (format.ServeAsset)
//	PUT E api/v1/crates/new                           ReadMetadata, authorize, ReadCrate to a spool file, VerifyCrate, PutAsset
//	DELETE E api/v1/crates/<name>/<version>/yank      status Unlisted
//	PUT E api/v1/crates/<name>/<version>/unyank       status Published
//	GET E api/v1/crates?q=&per_page=                  search over the repository's own crates
//	GET|PUT|DELETE E api/v1/crates/<name>/owners      "not supported" (the repository's policy says who publishes)
//
// Every route declares its action: ReadFromRepository on the repository
// for reads, UpdatePackageVersionsStatus on the crate for yank and
// unyank, PublishPackageVersion on the crate for a publish, checked once
// the JSON metadata (which names the crate) is read and before a byte of
// the .crate is. Errors are cargo's JSON body (WriteError), which cargo
// prints whatever the status, with the status of format.ErrorStatus (a
// 401 carries WWW-Authenticate). config.json sets "auth-required", so
// cargo (1.74 and later) sends its token on index and download requests
// too, not only on publish (its first config.json request goes without
// one and is retried with it after the 401). cargo sends the token as
// configured, "Authorization: <token>"; the data plane takes it bare or
// after "Bearer ".
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
// ARNs is the canonical form (the format row's Normalize hook in
// internal/artifact), like PyPI's normalised names: `aws codeartifact
// describe-package-version --package Foo-Bar` and `--package foo_bar` name
// the same crate, a permissions policy names arn:…/cargo//foo_bar. Each
// version's DisplayName and index line keep the published spelling, and a
// publish that spells a crate of the repository differently is refused
// (409). The one asset of a version is <canonical>-<version>.crate.
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
// A version's record (store.Version) holds its index line as Metadata
// (the entry as published, yanked left to the status), the published
// spelling as DisplayName, the description as Summary, homepage,
// repository, the license expression, the README (the metadata's, else the
// crate's) and its dependencies for ListPackageVersionDependencies:
// package the crate depended on, versionRequirement its requirement,
// dependencyType its kind (normal, build, dev) and, for a dependency in
// another registry, that registry's index URL as its namespace (crates
// have none otherwise).
//
// # Index files and public:crates-io
//
// An index file merges the versions the repository shows (its own and its
// upstream repositories', Published and Unlisted) with the index file of
// each external source the package reaches (the connection's base URL is
// a sparse index, https://index.crates.io/ by default), read through the
// Fetcher's cache with ReadIndex as the decoder: a version stored here
// wins over the upstream's line (yanked, though, when the upstream has
// yanked it since it was fetched), versions the view withholds are left
// out, and origin controls (upstream=BLOCK, a package group's
// EXTERNAL_UPSTREAM block) leave the view without external sources. The
// rendered file is cached under the engine's ViewStamp and the upstream
// documents' identity, and its ETag is the body's hash: cargo revalidates
// each file on every resolve, and a hit costs one stamp read, a lookup in
// the Fetcher's document cache per external source and a hash, whatever
// the number of versions. A .crate not stored is fetched from the
// URL the source's config.json dl template gives (ExpandDownload),
// verified against the index line's cksum, streamed to the client while
// it is stored, and retained with the upstream's line as its record. A
// publish is refused (409) when an external source lists the version and
// the crate takes upstream versions (offers).
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
