package pypi

import (
	"regexp"
	"strings"

	"coffer/internal/artifact"
)

// NormalizeName is PEP 503 normalisation: runs of "-", "_" and "." become
// one "-", lower case ("Foo_Bar", "foo.bar" -> "foo-bar"). It is the
// artifact service's rule, so that API calls, ARNs and package groups agree.
func NormalizeName(name string) string {
	_, n := artifact.Normalize(artifact.FormatPypi, "", name)
	return n
}

// namePattern is PEP 508's project name rule.
var namePattern = regexp.MustCompile(`(?i)^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`)

// ValidName reports whether name is a valid project name.
func ValidName(name string) bool { return len(name) <= 200 && namePattern.MatchString(name) }

// Distribution file kinds.
const (
	KindWheel = "bdist_wheel"
	KindSdist = "sdist"
)

// sdistExtensions are the archive suffixes of source distributions, longest
// first.
var sdistExtensions = []string{".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tbz", ".tar", ".zip"}

// File is a distribution file name taken apart.
type File struct {
	Name    string // the filename
	Kind    string // KindWheel or KindSdist
	Project string // the distribution part, as written
	Version string // as written
}

// fileNameOK rejects names that cannot be one path segment.
func fileNameOK(name string) bool {
	if name == "" || len(name) > 255 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._-+!", r):
		default:
			return false
		}
	}
	return true
}

// ParseFileName takes a wheel or sdist file name apart. project, when not
// "", is the (any-form) project the file belongs to: it tells where the name
// ends in legacy sdist names whose project part contains "-"
// ("foo-bar-1.0.tar.gz"). ok is false for other files (eggs, installers) and
// for names that do not fit.
func ParseFileName(name, project string) (File, bool) {
	if !fileNameOK(name) {
		return File{}, false
	}
	if stem, ok := strings.CutSuffix(name, ".whl"); ok {
		// {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
		parts := strings.Split(stem, "-")
		if len(parts) != 5 && len(parts) != 6 {
			return File{}, false
		}
		for _, p := range parts {
			if p == "" {
				return File{}, false
			}
		}
		if project != "" && NormalizeName(parts[0]) != NormalizeName(project) {
			return File{}, false
		}
		return File{Name: name, Kind: KindWheel, Project: parts[0], Version: parts[1]}, true
	}
	lower := strings.ToLower(name)
	for _, ext := range sdistExtensions {
		if !strings.HasSuffix(lower, ext) {
			continue
		}
		stem := name[:len(name)-len(ext)]
		if project == "" {
			i := strings.LastIndexByte(stem, '-')
			if i <= 0 || i == len(stem)-1 {
				return File{}, false
			}
			return File{Name: name, Kind: KindSdist, Project: stem[:i], Version: stem[i+1:]}, true
		}
		want := NormalizeName(project)
		for i := 0; i < len(stem); i++ {
			if stem[i] == '-' && i > 0 && i < len(stem)-1 && NormalizeName(stem[:i]) == want {
				return File{Name: name, Kind: KindSdist, Project: stem[:i], Version: stem[i+1:]}, true
			}
		}
		return File{}, false
	}
	return File{}, false
}

// metadataSuffix names a distribution's PEP 658 core-metadata file.
const metadataSuffix = ".metadata"
