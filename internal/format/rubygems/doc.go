// Package rubygems serves a RubyGems repository to gem and Bundler. Its
// protocol handler (Protocol, handler.go, push.go, index_serve.go,
// upstream.go, relay.go, offers.go, meta.go) sits on a codec of pure functions and
// types, no HTTP, that reads what gem push sends and writes every index
// gem and Bundler read:
//
//	ReadGem                          a pushed .gem, verified, streamed (gem.go)
//	ParseSpecYAML, Spec              the gemspec inside it (spec.go)
//	Marshal, Unmarshal               Ruby Marshal 4.8 (marshal.go)
//	MarshalDependencies              api/v1/dependencies?gems=…         (index.go)
//	MarshalSpecs, SpecIndexes        specs.4.8, latest_specs.4.8, prerelease_specs.4.8
//	QuickSpec, ReadQuickSpec         quick/Marshal.4.8/<full name>.gemspec.rz
//	Names, Versions, Info            the compact index: names, versions, info/<gem> (compact.go)
//	ETag, ReprDigest, MD5Hex         the validators Bundler checks
//	ParseInfo, ParseVersions         an upstream's compact index, bounded
//	ValidateName, NameKey, …         names, platforms, file names (name.go)
//	CanonicalVersion, Requirement    Gem::Version and Gem::Requirement (version.go)
//
// # Names
//
// Gem names follow rubygems.org: A-Z a-z 0-9 . - _, a letter somewhere,
// not starting with . - or _, at most 255 characters. They are case-
// sensitive, as every client uses them (info/<name>, the .gem file name),
// and stored as first pushed; NameKey (lower case) is the identity under
// which two names collide, because rubygems.org refuses a gem that differs
// from an existing one only in case. CodeArtifact normalises nothing for
// Ruby, and neither does this package.
//
// Versions are Gem::Version strings in canonical form ("1.0-rc1" is
// "1.0.pre.rc1"); the exact string is the version's identity ("1.0" and
// "1.0.0" are two versions, as two rubygems.org versions), while ordering
// is Gem::Version's (CompareVersions).
//
// # Platforms are assets of one version
//
// A CodeArtifact package version is a name and a number. The builds of one
// number for different platforms (coffer_tiny-1.0.gem,
// coffer_tiny-1.0-x86_64-linux.gem, coffer_tiny-1.0-java.gem) are assets of
// that one version, each named by its file name (Spec.FileName), and each
// is its own entry in every index: a "1.0-x86_64-linux" token in versions,
// its own info line, [name, version, platform] tuple, dependencies entry
// and quick spec. A version's status covers all its builds.
//
// # Yanking
//
// The indexes list only what clients may resolve. A version that is not
// Published (Unlisted, Archived, Disposed, Deleted) is, in RubyGems terms,
// yanked: its builds leave info/<gem>, the full index and the dependencies
// API, and a versions file kept append-only gets a "-version" token
// (VersionEntry.Yanked) with the new info checksum; one written afresh
// simply leaves them out. Whether the .gem stays downloadable follows the
// status (Unlisted keeps it fetchable, as CodeArtifact does), which lets
// lockfiles that name it install.
package rubygems
