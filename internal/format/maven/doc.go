// Package maven serves the Maven repository protocol on a repository
// endpoint, so that mvn and Gradle build and deploy through coffer:
//
//	GET|HEAD /maven/d/<domain>-<owner>/<repository>/<group path>/<artifactId>/<version>/<file>
//	GET|HEAD …/<file>.md5|.sha1|.sha256|.sha512          checksums, computed by coffer
//	GET|HEAD …/<group path>/<artifactId>/maven-metadata.xml   generated version list
//	GET|HEAD …/<artifactId>/<X-SNAPSHOT>/maven-metadata.xml    newest published build
//	PUT      the same paths: deploy a file, verify a checksum, publish with metadata
//
// Reads need codeartifact:ReadFromRepository on the repository; a file
// upload (and its checksum upload) codeartifact:PublishPackageVersion on the
// package; an artifact-level maven-metadata.xml upload
// codeartifact:PutPackageMetadata; a SNAPSHOT version-level one both. The
// data-plane middleware has already answered unauthenticated requests with
// a Basic challenge (Maven sends credentials only after one). Every PUT is
// authorized before its body is read; one whose Content-Length is over
// MaxUploadSize (--max-asset-size) is refused before that, a streamed one
// as soon as it crosses the limit (413). A full disk is 507.
//
// # Reads
//
// A file is resolved by the artifact engine (ReadAsset): the repository,
// its upstreams, then the allowed external connection. A fetch from an
// external connection first reads the upstream's .sha1 beside the file and
// makes the download commit nothing that disagrees with it (a file without
// a .sha1 upstream is accepted and the fact logged); the bytes stream to
// the first client while they are stored, holding back the last byte until
// the engine has recorded the asset, so that any later failure cuts the
// transfer short instead of handing the client something unrecorded or
// unverified. A fetched POM fills the new version's metadata (name,
// description, URL, licenses, SCM) and dependencies.
//
// Checksum files are virtual: a GET resolves the file like a read of the
// file itself (fetching it if need be) and answers with the stored digest
// in lower-case hex. A PUT compares the uploaded digest, case-sensitively,
// with the stored file's: match 201, mismatch 400, file not uploaded yet 404.
//
// # Artifact-level maven-metadata.xml
//
// Generated from what the repository shows (ViewPackage: its own versions
// and its upstreams', Published only) merged with the maven-metadata.xml of
// each allowed external connection (releases only; fetched through the
// upstream client's revalidating cache, and when the upstream fails the
// repository's own versions are served alone). Versions are sorted in Maven
// order; <latest> and <release> are the newest release (with SNAPSHOTs
// only, <latest> is the newest SNAPSHOT). A package nobody has is 404, never
// 401 or 403, which Maven's first deploy needs.
//
// The rendered document is cached per repository and package, keyed by a
// fingerprint of its inputs: each visible version's repository, name,
// revision, status and publish time, the stored package metadata, and the
// identity (URL, validators, fetch time) of the upstream documents used. A
// revision changes with every change of a version's assets or metadata and
// a status change moves a version in or out of the view, so a hit is never
// stale; a hit costs the view and one hash pass, not a sort and a render.
// The digests of the document are kept with it, so maven-metadata.xml.sha1
// always matches the document just served. Concurrent reads of one package
// share the ViewPackage call: each joins the next call that starts after it
// arrived (never one already running, which could miss a write completed
// just before the read), so at most two run per package and no answer is
// older than its request. The view itself still reads every version
// (ViewPackage has no cheaper revision to offer), so one isolated read of a
// package with thousands of versions costs that read.
//
// # Deploying
//
// Files go up with PutAsset and make an Unfinished version. A POM's
// metadata and dependencies (the <parent> as dependencyType "parent", each
// dependency with its scope, "compile" when none) are recorded as it
// arrives. The artifact-level maven-metadata.xml publishes every listed
// release that is Unfinished in this repository, unless a checksum upload
// of one of them did not match (then 400, and the version stays
// Unfinished), and is stored as the package's metadata (JSON
// {"mavenMetadata": "<xml>"}). Re-deploying a release with other bytes is a
// 409 from the engine.
//
// # SNAPSHOTs
//
// Each timestamped build is its own package version, named as the build's
// files are: deploying 1.1.0-SNAPSHOT creates 1.1.0-20261125.181235-1 (the
// model CodeArtifact describes: "each snapshot publish creates a build
// version"). Its files are Unfinished until the SNAPSHOT version-level
// maven-metadata.xml arrives; that document is stored as a replaceable
// asset (maven-metadata.xml) of the build it names and publishes it, and
// the repository's other Published builds of the same SNAPSHOT become
// Unlisted (still downloadable by their timestamped names). A read of
// X-SNAPSHOT/maven-metadata.xml serves the newest Published build's stored
// document (or one generated from its version), a read of a non-unique
// name such as hello-1.1.0-SNAPSHOT.jar serves that build's file, and the
// artifact-level document lists X-SNAPSHOT once for its Published build.
// SNAPSHOTs are never fetched from external connections.
//
// # Checksums and limits
//
// A checksum upload that does not match is remembered in the version's
// metadata (JSON {"checksumFailures": ["app-1.0.jar.sha1"]}) until a
// matching upload of the same checksum, so it survives restarts. Group-level plugin metadata (<group>/maven-metadata.xml
// with <plugins>) is addressed like artifact-level metadata of the package
// named by the last group directory.
package maven
