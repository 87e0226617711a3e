package maven

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a repository path addresses.
type Kind int

const (
	// KindFile is a file of a version: <group>/<artifact>/<version>/<file>.
	KindFile Kind = iota
	// KindArtifactMetadata is <group>/<artifact>/maven-metadata.xml, the
	// list of an artifact's versions (also what Maven asks for group-level
	// plugin metadata, <group>/maven-metadata.xml, which has the same shape).
	KindArtifactMetadata
	// KindVersionMetadata is <group>/<artifact>/<X-SNAPSHOT>/maven-metadata.xml,
	// the builds of a SNAPSHOT version.
	KindVersionMetadata
)

// MetadataFile is the name of Maven's repository metadata files.
const MetadataFile = "maven-metadata.xml"

// Checksum algorithms, as the suffixes of Maven's checksum files.
const (
	MD5    = "md5"
	SHA1   = "sha1"
	SHA256 = "sha256"
	SHA512 = "sha512"
)

var checksumAlgorithms = []string{MD5, SHA1, SHA256, SHA512}

// Path is a parsed Maven repository path.
type Path struct {
	Kind       Kind
	GroupID    string // dotted: "org.apache.commons"
	ArtifactID string
	// Version is the version directory: a release version, or a SNAPSHOT
	// version ("1.1.0-SNAPSHOT"); "" for artifact-level metadata.
	Version string
	// File is the file name without any checksum suffix
	// ("hello-1.0.0.jar", "maven-metadata.xml").
	File string
	// Checksum is the algorithm when the path names a checksum file of File
	// ("sha1" for "hello-1.0.0.jar.sha1"), "" otherwise.
	Checksum string
	// Build is the timestamped build a SNAPSHOT file names
	// ("1.1.0-20261125.181235-1" for "hello-1.1.0-20261125.181235-1.jar");
	// "" for a release file and for a non-unique SNAPSHOT file name
	// ("hello-1.1.0-SNAPSHOT.jar").
	Build string
	// Classifier and Extension of a KindFile ("sources", "jar").
	Classifier string
	Extension  string
}

// ErrBadPath is the cause of every ParsePath error.
var ErrBadPath = errors.New("not a Maven repository path")

func badPath(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPath, fmt.Sprintf(format, args...))
}

// ParsePath parses a path relative to a Maven repository endpoint (no
// leading slash), as the client sent it after percent-decoding.
func ParsePath(s string) (Path, error) {
	if s == "" || len(s) > 2048 {
		return Path{}, badPath("empty or too long")
	}
	if !utf8.ValidString(s) {
		return Path{}, badPath("not UTF-8")
	}
	segs := strings.Split(s, "/")
	for _, seg := range segs {
		if err := checkSegment(seg); err != nil {
			return Path{}, err
		}
	}
	var p Path
	file := segs[len(segs)-1]
	for _, alg := range checksumAlgorithms {
		if base, ok := strings.CutSuffix(file, "."+alg); ok && base != "" {
			p.Checksum, file = alg, base
			break
		}
	}
	if p.Checksum != "" {
		for _, alg := range checksumAlgorithms {
			if strings.HasSuffix(file, "."+alg) {
				return Path{}, badPath("a checksum of a checksum file")
			}
		}
	}
	p.File = file
	dirs := segs[:len(segs)-1]

	if file == MetadataFile {
		if len(dirs) >= 3 && IsSnapshot(dirs[len(dirs)-1]) {
			p.Kind = KindVersionMetadata
			p.Version = dirs[len(dirs)-1]
			dirs = dirs[:len(dirs)-1]
		} else {
			p.Kind = KindArtifactMetadata
		}
		if len(dirs) < 2 {
			return Path{}, badPath("metadata needs a group and an artifact directory")
		}
		return p, p.setCoordinates(dirs[:len(dirs)-1], dirs[len(dirs)-1])
	}

	if len(dirs) < 3 {
		return Path{}, badPath("expected <group path>/<artifactId>/<version>/<file>")
	}
	p.Kind = KindFile
	p.Version = dirs[len(dirs)-1]
	if err := p.setCoordinates(dirs[:len(dirs)-2], dirs[len(dirs)-2]); err != nil {
		return Path{}, err
	}
	if err := p.parseFileName(); err != nil {
		return Path{}, err
	}
	return p, nil
}

func checkSegment(seg string) error {
	if seg == "" || seg == "." || seg == ".." {
		return badPath("empty, '.' or '..' segment")
	}
	if len(seg) > 255 {
		return badPath("segment longer than 255 bytes")
	}
	for _, r := range seg {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError ||
			strings.ContainsRune(`#\:*?"<>|`, r) {
			return badPath("character %q is not allowed", r)
		}
	}
	return nil
}

func (p *Path) setCoordinates(group []string, artifact string) error {
	if len(group) == 0 {
		return badPath("no group directory")
	}
	for _, g := range group {
		if strings.Contains(g, ".") {
			return badPath("group directory %q contains '.'; a groupId's dots are path separators", g)
		}
	}
	p.GroupID = strings.Join(group, ".")
	if len(p.GroupID) > 255 {
		return badPath("groupId longer than 255 bytes")
	}
	p.ArtifactID = artifact
	return nil
}

// parseFileName splits File into build, classifier and extension:
// <artifactId>-<version>[-<classifier>].<extension>, where a SNAPSHOT
// version may appear as "X-SNAPSHOT" or as a build "X-<yyyyMMdd.HHmmss>-<n>".
func (p *Path) parseFileName() error {
	rest, ok := strings.CutPrefix(p.File, p.ArtifactID+"-")
	if !ok {
		return badPath("file %q does not start with %q", p.File, p.ArtifactID+"-")
	}
	var tail string
	switch {
	case strings.HasPrefix(rest, p.Version):
		tail = rest[len(p.Version):] // a release, or a non-unique SNAPSHOT name
	case IsSnapshot(p.Version):
		base := strings.TrimSuffix(p.Version, "SNAPSHOT") // keeps the '-'
		after, ok := strings.CutPrefix(rest, base)
		if !ok {
			return badPath("file %q is not a build of %s", p.File, p.Version)
		}
		m := buildSuffix.FindString(after)
		if m == "" {
			return badPath("file %q is not a timestamped build of %s", p.File, p.Version)
		}
		p.Build = base + m
		tail = after[len(m):]
	default:
		return badPath("file %q is not of version %s", p.File, p.Version)
	}
	switch {
	case strings.HasPrefix(tail, "."):
		p.Extension = tail[1:]
	case strings.HasPrefix(tail, "-"):
		cls, ext, ok := strings.Cut(tail[1:], ".")
		if !ok {
			return badPath("file %q has no extension", p.File)
		}
		p.Classifier, p.Extension = cls, ext
	default:
		return badPath("file %q is not of version %s", p.File, p.Version)
	}
	if p.Extension == "" || strings.HasSuffix(p.Extension, ".") || (strings.HasPrefix(tail, "-") && p.Classifier == "") {
		return badPath("file %q has an empty classifier or extension", p.File)
	}
	return nil
}

// buildSuffix matches the timestamp and build number of a build file name
// after the base version ("20261125.181235-1").
var buildSuffix = regexp.MustCompile(`^[0-9]{8}\.[0-9]{6}-[1-9][0-9]{0,8}`)

// AssetVersion is the package version that holds the file: the build for
// a timestamped SNAPSHOT file, the version directory otherwise.
func (p Path) AssetVersion() string {
	if p.Build != "" {
		return p.Build
	}
	return p.Version
}

// NonUniqueSnapshot reports whether the path names a SNAPSHOT file without
// a timestamp ("hello-1.1.0-SNAPSHOT.jar"), which a read resolves to the
// newest published build.
func (p Path) NonUniqueSnapshot() bool {
	return p.Kind == KindFile && IsSnapshot(p.Version) && p.Build == ""
}

// GroupPath is the groupId as directories ("org/apache/commons").
func (p Path) GroupPath() string { return strings.ReplaceAll(p.GroupID, ".", "/") }

// String rebuilds the repository path.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.GroupPath())
	b.WriteString("/")
	b.WriteString(p.ArtifactID)
	b.WriteString("/")
	if p.Version != "" {
		b.WriteString(p.Version)
		b.WriteString("/")
	}
	b.WriteString(p.File)
	if p.Checksum != "" {
		b.WriteString(".")
		b.WriteString(p.Checksum)
	}
	return b.String()
}

// FileName returns the file name of the artifact with the given version
// string (a build or a release), classifier and extension.
func FileName(artifactID, version, classifier, extension string) string {
	s := artifactID + "-" + version
	if classifier != "" {
		s += "-" + classifier
	}
	return s + "." + extension
}
