// Package pypi serves the Python package index protocols on a repository
// endpoint, so that pip installs from coffer and twine uploads to it:
//
//	GET|HEAD /pypi/d/<domain>-<owner>/<repository>/simple/                      project list
//	GET|HEAD …/simple/<project>/                                                project page
//	GET|HEAD …/files/<project>/<version>/<file>                                 a distribution
//	GET|HEAD …/files/<project>/<version>/<file>.metadata                        its core metadata (PEP 658)
//	POST     …/                                                                 legacy upload (twine)
//
// `aws codeartifact login --tool pip` writes index-url <endpoint>simple/ and
// `--tool twine` a .pypirc whose repository is the endpoint itself, so both
// work unchanged. Reads need codeartifact:ReadFromRepository on the
// repository; an upload codeartifact:PublishPackageVersion on the package
// (its ARN uses the PEP 503 normalised name). Errors are plain text with
// the status of the fault: 400 for a malformed or mismatched upload, 403,
// 404, 409 for other bytes under an existing file name (an identical
// re-upload is 200), 413 for an upload over the limit, 507 when the
// server's disk is full.
//
// # Simple pages
//
// simple/<project>/ is negotiated by Accept (PEP 691): PEP 691 JSON
// (application/vnd.pypi.simple.v1+json, with PEP 700's versions, size and
// upload-time; api-version 1.1 when every size is known), PEP 503 HTML as
// application/vnd.pypi.simple.v1+html or text/html. Among explicitly listed
// types JSON wins a tie, among wildcards text/html; no Accept means
// text/html; ?format=<type> overrides Accept as on PyPI; nothing acceptable
// is 406. Every link carries #sha256=, data-requires-python and, where it
// applies, data-yanked (PEP 592) and data-core-metadata /
// data-dist-info-metadata (PEP 658 / 714, with the file's sha256). Links
// are relative (../../files/…), so they work behind any public URL and pip
// keeps the credentials of the index URL. A project name that is not in
// normalised form (Foo_Bar, foo.bar, or no trailing slash) is redirected
// (301) to simple/<normalised>/.
//
// The page shows what ViewPackage shows (the repository's versions and its
// upstreams', Published and Unlisted), each version's files listed from its
// assets, merged with what public:pypi lists for files not stored yet
// (their links point at coffer too). The upstream page is read through the
// upstream client's revalidating cache, asking for PEP 691 JSON first and
// reading PEP 503 HTML when that is what the upstream answers; its URL is
// <connection URL>simple/<project>/, or <connection URL><project>/ when the
// configured URL already ends in /simple/. A failing upstream never hides
// what is stored. The page is parsed as it is read and only its parse is
// kept (cached with the document by the upstream client); the files it
// links, like every redirect, are fetched only from public http(s)
// addresses or the configured connection's own host:port
// (upstream.Policy).
//
// The rendered page (both representations) is cached per repository and
// project under a fingerprint of its inputs, so a hit is never stale and
// its cost does not depend on the number of files. When the engine offers
// ViewStamp (a fingerprint of what ViewPackage would show, made of change
// counters, without reading any version), the fingerprint is that stamp
// and the identity of the upstream document, and a hit reads no version
// at all. Otherwise it is each visible version's repository, name,
// revision and status (a revision changes with every change of a version's
// assets or metadata) and the upstream document's identity, and a hit
// costs the view and one hash pass over its versions. On a miss only the
// versions whose revision changed are listed again: the per-version file
// lists are cached by revision.
//
// simple/ lists the projects stored in the repository and its upstream
// repositories (search order, at most 25); the public index's project list
// is not proxied.
//
// # Decisions
//
// Names: PEP 503 normalisation (artifact.Normalize) everywhere a project
// is stored or named; the display name keeps the metadata's spelling.
//
// File names: within a release, names that differ only by case are one
// file, as on PyPI: an upload of Foo-1.0.tar.gz when foo-1.0.tar.gz is
// stored is taken as that file (the same bytes: 200 and nothing changes;
// other bytes: 409), and the first spelling is kept.
//
// Versions: a version is stored in its PEP 440 normalised form
// ("1.0.0-Alpha1" is 1.0.0a1, "v1.01" is 1.1), and an upload whose version
// is not PEP 440 is refused (400). "1.0" and "1.0.0" are the same release,
// as on PyPI (releases are matched by their canonical version, trailing
// zeros of the release segment removed): a file uploaded as 1.0.0 when the
// repository stores (in any status) or shows from its upstreams a 1.0 is
// added to version 1.0, so the origin rules and immutability apply to the
// release, not to one spelling of it. The two spellings are still
// different file names, as on PyPI. Files that only the upstream lists are
// put on the page under the stored release they belong to, else the
// shortest spelling among them. Local versions (+local) are accepted.
//
// Yanking: a version's status decides. Unlisted is PEP 592 yanked: its
// files stay on the page with data-yanked="Unlisted" (JSON "yanked":
// "Unlisted") and stay downloadable, so pip never picks them for a range
// but installs them when pinned exactly (==/===, as lockfiles and
// requirements with hashes do), which is CodeArtifact's "not in version
// lists, assets still downloadable". Archived versions are left off the
// page and their files are not downloadable (404); Disposed likewise.
// Yank/unyank is UpdatePackageVersionsStatus (Unlisted / Published). A file
// the upstream reports yanked is shown yanked with the upstream's reason;
// that reason is kept in the version's metadata when the file is ingested.
//
// # Uploads
//
// The legacy upload API: multipart/form-data with :action=file_upload,
// protocol_version=1, name, version, filetype (bdist_wheel or sdist),
// content (the file) and at least one of sha256_digest, md5_digest,
// blake2_256_digest, each verified.
//
// The publish is authorized (PublishPackageVersion on the project's ARN)
// as soon as the name field has been read, before anything else of the
// form. So the name field must come before the content part and within
// the first 256 KiB of the body; a form that sends its file first is
// refused (400) without the file being read. twine (repository.py
// _upload: metadata_dictionary(), which begins with name and version, then
// :action and protocol_version, then the content part), poetry, uv, flit
// and hatch all send the metadata fields first. The file may be at most
// MaxUploadSize bytes (--max-asset-size) and the whole body that plus
// 1 MiB for the other fields: a Content-Length over that is refused before
// anything is read, a streamed body as soon as it crosses a limit (413).
//
// The file is received whole (spooled to a temporary file under TempDir,
// removed before the answer is written, whatever the outcome) and checked
// before anything is stored: digests, the file name against name, version
// and filetype, and the distribution's own core metadata (the wheel's <name>-<version>.dist-info/METADATA, the
// sdist's <name>-<version>/PKG-INFO) against them. Any failure is a 400
// with a message that says what is wrong, and nothing is stored. Then the
// file becomes an asset of the (Published) version, and for a wheel its
// METADATA becomes the asset <file>.metadata, so that serving PEP 658 is
// a plain asset read. The first file of a release fills the version from
// its metadata: summary, home page, source URL, licenses, Requires-Dist as
// dependencies (package = normalised name, versionRequirement = specifier
// with any marker after "; ", dependencyType "Requires-Dist"),
// the description as the readme (GetPackageVersionReadme), and
// Requires-Python and the description content type in the version's
// Metadata JSON ({"requiresPython", "descriptionContentType", "files":
// {name: {"requiresPython"|"yanked"}}} for what differs per file). Later
// files fill only what is still empty.
//
// # public:pypi
//
// A file that no repository of the search order holds is fetched from the
// upstream URL its page lists, verified against the page's hashes (a file
// the page lists without any hash is stored unverified, and logged),
// streamed to the first client while it is stored (the last byte is held
// back until the engine has recorded it), and ingested by the engine into
// the repository holding the connection and the requested one. The new
// version's metadata comes from the downloaded file's core metadata and
// the page's requires-python. An ingested wheel gets its <file>.metadata
// too (extracted from the wheel, checked against the upstream's
// core-metadata hash when it gives one), so the page offers PEP 658 for it
// from then on. A <file>.metadata asked for before its wheel is fetched
// from the upstream when the upstream offers one, else extracted from the
// wheel (fetching the wheel). Nothing about the upstream needs to survive
// a restart: cached files are assets; the upstream page is needed only
// for files not fetched yet.
//
// # Limits
//
// Eggs, Windows installers and other legacy file types are neither
// accepted nor listed. The page of a project whose repository holds an
// Archived record of a release may still list that release's files from
// the upstream (ViewPackage does not report Archived versions); they are
// refused when downloaded.
package pypi
