// Package npm serves the npm registry protocol on a repository endpoint, so
// that npm (and yarn, pnpm) install from coffer and publish to it after
// `aws codeartifact login --tool npm`:
//
//	GET|HEAD <name>                               packument (abbreviated when Accept prefers
//	                                              application/vnd.npm.install-v1+json)
//	GET      <name>?write=true                    the repository's own document, with _rev
//	GET|HEAD <name>/<version|dist-tag>            one version's document
//	GET|HEAD <name>/-/<base>-<version>.tgz        tarball
//	PUT      <name>                               publish (a tarball in _attachments), or a
//	                                              metadata update without one (npm deprecate)
//	PUT      <name>/-rev/<rev>                    npm unpublish <name>@<version>, step 1
//	DELETE   <name>/-/<base>-<version>.tgz/-rev/<rev>  step 2
//	DELETE   <name>/-rev/<rev>                    npm unpublish <name> (the whole package)
//	GET      -/package/<name>/dist-tags           npm dist-tag ls
//	PUT      -/package/<name>/dist-tags/<tag>     npm dist-tag add (body: the version, a JSON string)
//	DELETE   -/package/<name>/dist-tags/<tag>     npm dist-tag rm
//	GET      -/ping, -/whoami, -/v1/search        npm ping, whoami, search
//	POST     -/npm/v1/security/advisories/bulk    npm audit (and install's audit)
//	POST     -/npm/v1/security/audits/quick
//
// <name> is "name", "@scope%2fname" (any case of %2f) or "@scope/name". In
// CodeArtifact terms the scope without "@" is the package's namespace
// (@types/node is namespace "types", package "node"), and its ARN is
// …/package/<domain>/<repo>/npm/<scope>/<name>. Names must follow npm's
// rules (1-214 characters, URL-safe, not starting with "." or "_"; lower
// case and none of ~'!()* for a publish) before they reach storage.
//
// # Authorization
//
// Every read (packuments, versions, tarballs, dist-tag listing, ping,
// whoami, search, audit) needs codeartifact:ReadFromRepository on the
// repository. A publish needs codeartifact:PublishPackageVersion on the
// package; a dist-tag change or deprecation codeartifact:PutPackageMetadata
// on the package; an unpublish codeartifact:DeletePackageVersions on the
// package (for a version and for the whole package). A metadata update that
// changes nothing needs no more than the read. Errors are JSON:
// {"error": "<reason>"}, and {"error":"not_found","reason": "<reason>"} for
// 404, with the status of the fault: 400 for a malformed or mismatched
// body, 403, 404, 409 (a version published before, other bytes, a stale
// _rev, origin controls), 413 for a tarball over Config.MaxPublishSize.
//
// # What a packument shows
//
// The versions ViewPackage shows (the repository's own and its upstreams',
// the first occurrence of a version string in search order winning;
// Unlisted versions left out but still claiming their string, Archived ones
// never readable), then the versions an allowed external connection
// (public:npmjs) lists that no stored record claims: its packument is read
// through the upstream client's cache and revalidated after its metadata
// TTL; a version the requested repository or the connection's holder keeps
// Archived, Disposed or Unfinished is not taken from it either, since the
// tarball could not be read. Origin controls apply through the view: with
// upstream=BLOCK, or a package group blocking it, the view lists no
// external source and no upstream versions. dist-tags are merged with the
// most upstream source winning (CodeArtifact's rule, spec §3.4: the
// external registry first, then the repositories from the far end of the
// search order back to the requested one), a tag counting only when it
// names a version shown; without any "latest", the highest release is
// latest. Tarball URLs are absolute and point at the endpoint the client
// used (scheme from the connection or X-Forwarded-Proto, Host, path).
// "time" has each version's publish time (the registry's for an ingested
// version). Readme, description and the like at the top come from the
// version latest names.
//
// # Storage
//
// A version has one asset, package.tgz (as CodeArtifact names it in
// ListPackageVersionAssets). Its Metadata is its version document in a
// canonical form (compact JSON, keys in order, "dist" last, no readme, no
// dist.tarball, dist.integrity and dist.shasum from the verified digests),
// so that a packument is assembled by concatenating the stored documents,
// each with its tarball URL spliced in before its last two bytes; a
// deprecation is stored in that document. Summary, HomePage,
// SourceCodeRepository, Licenses, Readme and Dependencies (regular, dev,
// peer, optional) are filled as well, for DescribePackageVersion,
// GetPackageVersionReadme and ListPackageVersionDependencies. A package's
// Metadata holds its dist-tags in that repository, {"dist-tags": {...}},
// changed read-modify-write in one transaction (UpdatePackageMetadata), and
// never on a package the repository does not store.
//
// # Publishing
//
// The body (up to 2 GB of tarball) is read as a stream by a small scanner:
// every member is kept as raw JSON except the attachment's "data", which is
// decoded from base64 straight into PutAsset when the version document came
// first (as npm sends it); the rest of the body is read and checked inside
// PutAsset's Verify, so that nothing becomes visible unless the whole body
// is well formed and the tarball matches dist.integrity (sha512, and sha256
// when given) and dist.shasum. A tarball that comes before its document is
// spooled to a temporary file first. A publish carries exactly one version
// and one tarball, and only a version the repository does not have: a
// second publish of a version is 409 even with the same bytes (npm's "cannot
// publish over the previously published versions"). The body's dist-tags
// (default latest) are then set on the package. A publish does no
// packument work: the next read rebuilds the document.
//
// # Caching
//
// Rendered packuments are cached in an LRU bounded in bytes, keyed by
// repository, package, variant (full or abbreviated) and endpoint URL,
// under a fingerprint of the engine's ViewStamp (which changes with any
// change to the versions, assets, statuses, origin controls, package
// metadata, upstream graph or package groups it covers) and of the
// upstream packuments' identity (URL, validators, fetch time). A hit costs
// the stamp and the upstream client's in-memory lookup, whatever the
// number of versions. Each entry keeps the identity bytes and, computed
// once on first demand, gzip and zstd encodings; a request gets the best
// coding its Accept-Encoding allows (zstd, gzip, identity), with a strong
// ETag per coding, 304 for a matching If-None-Match, Content-Length,
// Vary: Accept, Accept-Encoding, and Cache-Control: private, no-cache. A
// rebuild does not re-encode stored versions: full documents are the
// stored Metadata, and abbreviated ones are sliced out of them once per
// version revision and cached beside. Upstream packuments are parsed into
// the same canonical fragments once per document the upstream sends, as
// the document arrives (only one version's document is whole in memory at
// a time), and kept compressed with the document in the upstream client's
// cache: a packument of a hundred megabytes takes a fraction of that,
// never the document itself (the upstream client's Budget bounds the
// documents being read at once).
//
// Every request to an external connection (packuments, tarballs at the
// dist.tarball URL the packument names, redirects, the audit relay) goes
// through the upstream client's address policy: only public http(s)
// addresses, or the configured connection's own host:port
// (upstream.Policy); a refused one is 503.
//
// # Audit and search
//
// Audit requests are relayed as they are (gzip included) to public:npmjs
// when the repository or one of its upstreams holds that connection;
// otherwise, or when the registry fails, the answer comes from the OSV
// advisories imported into coffer (coffer osv import), in npm's shape
// (bulk: {name: [advisory]}; quick: npm 6's report), and is an empty
// report without them: never an error that would break npm install. Search covers
// the packages stored in the repository itself (every term must occur in
// the name).
//
// Decisions (spec §13): npm unpublish is supported (CodeArtifact refuses
// it) as DeletePackageVersions/DeletePackage on the requested repository
// only, and a deleted version may be published again, as CodeArtifact
// allows after DeletePackageVersions. "latest" cannot be removed with npm
// dist-tag rm. _rev is the package's change counter and id; the -rev routes
// refuse a stale one (409).
package npm
