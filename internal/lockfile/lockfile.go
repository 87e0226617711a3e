// Package lockfile reads the pinned dependencies of a build out of its
// lockfile: package-lock.json (and npm-shrinkwrap.json), pip's
// requirements files, Cargo.lock, Gemfile.lock and the output of Maven's
// dependency:list. It only parses: which of the versions a repository
// would refuse is the caller's question.
//
// Each parser keeps what a repository could be asked about, a package
// version fetched from a registry, and names in a separate list what the
// file pins in a way no repository can check (a git or file dependency,
// a requirement without an exact version); see ParseAll. Names are kept
// as the file writes them: normalising them (PEP 503, a gem's or a
// crate's case) is the caller's, as is following a requirements file's
// -r includes.
//
// Every parser is bounded (MaxInput, MaxLine, MaxDependencies) and
// answers malformed input with a fault.Validation error; an error of the
// reader is returned wrapped, so that a caller's own size limit keeps its
// category.
package lockfile

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"coffer/internal/fault"
)

// Dependency is one pinned package version.
type Dependency struct {
	Format    string // "npm", "pypi", "cargo", "ruby", "maven" (coffer's format names)
	Namespace string // npm scope without '@', Maven groupId, else ""
	Name      string // as written (npm name without scope, pip project, crate, gem, artifactId)
	Version   string
	// Hashes are the digests the file gives for the version, "algo:hex"
	// for pip (as written), Cargo (its checksum, a SHA-256) and Bundler
	// (its CHECKSUMS, "sha256=hex" written "sha256:hex"), and npm's
	// Subresource Integrity strings ("sha512-base64") as written. May be
	// empty.
	Hashes []string
	// Source is where the version is in the file, for messages:
	// "node_modules/left-pad" for npm, "line 12" for the others (the
	// first occurrence when the file pins the same version twice; a
	// Cargo.lock not written by Cargo may give "[[package]] 3"). Cut to
	// 256 bytes.
	Source string
}

// The kinds of lockfile.
const (
	KindPackageLock  = "package-lock" // package-lock.json, npm-shrinkwrap.json: lockfileVersion 1, 2, 3
	KindRequirements = "requirements" // pip's requirements.txt
	KindCargoLock    = "cargo-lock"   // Cargo.lock, versions 1 to 4
	KindGemfileLock  = "gemfile-lock" // Gemfile.lock (gems.locked)
	KindMaven        = "maven"        // mvn dependency:list output, or g:a:v lines
)

// Kinds lists the kinds Parse accepts.
func Kinds() []string {
	return []string{KindPackageLock, KindRequirements, KindCargoLock, KindGemfileLock, KindMaven}
}

// The limits of a parse. Over any of them Parse fails with a
// fault.Validation error that names the limit.
const (
	// MaxInput bounds the bytes read (the caller may cap lower).
	MaxInput = 32 << 20
	// MaxLine bounds a line of the line-based formats (all but
	// package-lock.json, whose JSON may well be on one line and is
	// bounded by MaxInput and encoding/json's nesting limit). The line
	// ending is not counted.
	MaxLine = 64 << 10
	// MaxDependencies bounds the entries a parse returns: distinct pinned
	// versions and unpinned entries together.
	MaxDependencies = 100_000
)

// maxMessage bounds the text of the input echoed in an unpinned entry.
const maxMessage = 256

// Parse returns the pinned dependencies of a lockfile of the given kind,
// each (namespace, name, version) once, in the order of the file (npm:
// of its sorted paths). Entries that cannot be checked are left out; see
// ParseAll.
func Parse(kind string, r io.Reader) ([]Dependency, error) {
	deps, _, err := ParseAll(kind, r)
	return deps, err
}

// ParseAll is Parse that also names, in the order of the file, what the
// file holds but cannot be checked against a repository, one message
// each, its input cut to 256 bytes ("line 12: requests>=2",
// "node_modules/foo: git+ssh://git@github.com/acme/foo.git#1a2b3c"):
//
//   - requirements: a requirement without an exact == (or ===) version
//     (>=, ~=, no version, a wildcard ==1.*, a URL or path, "name @ url",
//     -e/--editable);
//   - package-lock: an entry resolved from git or a file tarball, or
//     without a version (a linked directory is the build's own);
//   - cargo-lock: a crate from git (or any source that is not a
//     registry);
//   - gemfile-lock: the gems of GIT and PLUGIN SOURCE sections.
//
// What is the build's own code is neither pinned nor unpinned: npm's
// root, workspace packages and links, Cargo's crates without a source
// (the workspace's members and path dependencies, which a Cargo.lock
// does not tell apart), Bundler's PATH gems.
func ParseAll(kind string, r io.Reader) (deps []Dependency, unpinned []string, err error) {
	parse, ok := parsers[kind]
	if !ok {
		return nil, nil, fault.Validation("Unknown lockfile kind %q: expected one of %s", clip(kind), strings.Join(Kinds(), ", "))
	}
	data, err := readAll(r)
	if err != nil {
		return nil, nil, err
	}
	c := &collector{format: formats[kind], index: map[depKey]int{}}
	if err := parse(c, data); err != nil {
		return nil, nil, err
	}
	return c.deps, c.unpinned, nil
}

var parsers = map[string]func(*collector, []byte) error{
	KindPackageLock:  parsePackageLock,
	KindRequirements: parseRequirements,
	KindCargoLock:    parseCargoLock,
	KindGemfileLock:  parseGemfileLock,
	KindMaven:        parseMaven,
}

// formats are coffer's format names (artifact.FormatNpm and so on,
// spelled out so that the artifact service may one day import this
// package; a test keeps them equal).
var formats = map[string]string{
	KindPackageLock:  "npm",
	KindRequirements: "pypi",
	KindCargoLock:    "cargo",
	KindGemfileLock:  "ruby",
	KindMaven:        "maven",
}

// Format is the format name of a kind's dependencies ("npm" for
// "package-lock"), "" for an unknown kind.
func Format(kind string) string { return formats[kind] }

// Detect names the kind of a lockfile from its file name (a path's
// directories are ignored, except that a .txt file in a directory named
// requirements is a requirements file, as in requirements/base.txt).
// The match ignores case. Maven's dependency:list output has no
// conventional name: a caller names it "maven" itself.
func Detect(filename string) (kind string, ok bool) {
	p := strings.ToLower(strings.ReplaceAll(filename, `\`, "/"))
	base := path.Base(p)
	switch {
	case base == "package-lock.json" || base == "npm-shrinkwrap.json":
		return KindPackageLock, true
	case base == "cargo.lock":
		return KindCargoLock, true
	case base == "gemfile.lock" || base == "gems.locked":
		return KindGemfileLock, true
	case strings.HasSuffix(base, ".txt") && (strings.HasPrefix(base, "requirements") || path.Base(path.Dir(p)) == "requirements"):
		return KindRequirements, true
	}
	return "", false
}

// readAll reads r up to MaxInput and drops a UTF-8 byte order mark.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading the lockfile: %w", err)
	}
	if len(data) > MaxInput {
		return nil, fault.Validation("The lockfile is larger than the limit of %d bytes", MaxInput)
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

type depKey struct{ namespace, name, version string }

// collector gathers a parse's results: it merges the repeats of a
// version and enforces MaxDependencies.
type collector struct {
	format   string
	deps     []Dependency
	index    map[depKey]int
	unpinned []string
}

func (c *collector) full() error {
	if len(c.deps)+len(c.unpinned) >= MaxDependencies {
		return fault.Validation("The lockfile has more than %d dependencies", MaxDependencies)
	}
	return nil
}

// add records a pinned version; a repeat adds only the hashes not seen.
func (c *collector) add(namespace, name, version string, hashes []string, source string) error {
	k := depKey{namespace, name, version}
	if i, ok := c.index[k]; ok {
		d := &c.deps[i]
		for _, h := range hashes {
			if !contains(d.Hashes, h) {
				d.Hashes = append(d.Hashes, h)
			}
		}
		return nil
	}
	if err := c.full(); err != nil {
		return err
	}
	var hs []string
	for _, h := range hashes {
		if !contains(hs, h) {
			hs = append(hs, h)
		}
	}
	c.index[k] = len(c.deps)
	c.deps = append(c.deps, Dependency{Format: c.format, Namespace: namespace, Name: name, Version: version, Hashes: hs, Source: clip(source)})
	return nil
}

// skip records what cannot be checked: "source: what".
func (c *collector) skip(source, what string) error {
	if err := c.full(); err != nil {
		return err
	}
	c.unpinned = append(c.unpinned, clip(source)+": "+clip(what))
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clip shortens s for a message, at a rune boundary.
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	i := maxMessage
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// eachLine calls f with each line of data (ending in \n or \r\n, the
// ending dropped) and its 1-based number, refusing a line over MaxLine;
// it stops at f's first error.
func eachLine(data []byte, f func(n int, text string) error) error {
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > MaxLine {
			return lineTooLong(n)
		}
		if err := f(n, string(l)); err != nil {
			return err
		}
	}
	return nil
}

func lineTooLong(n int) error {
	return fault.Validation("Line %d of the lockfile is longer than the limit of %d bytes", n, MaxLine)
}

func lineSource(n int) string { return fmt.Sprintf("line %d", n) }
