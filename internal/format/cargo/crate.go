package cargo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"coffer/internal/fault"
)

// CrateLimits bound the reading of a .crate. Zero fields take the
// defaults.
type CrateLimits struct {
	// MaxUnpacked bounds the decompressed archive (the tar stream) and
	// the sum of the sizes its entries declare; default 512 MiB, the
	// public registry's.
	MaxUnpacked int64
	// MaxEntries bounds the number of archive entries; default 100,000.
	MaxEntries int
	// MaxManifest bounds Cargo.toml; default 2 MiB.
	MaxManifest int64
	// MaxReadme bounds the README kept; a longer one is truncated
	// (CrateInfo.ReadmeTruncated). Default 1 MiB.
	MaxReadme int64
}

// Default crate limits.
const (
	DefaultMaxUnpacked = 512 << 20
	DefaultMaxEntries  = 100_000
	DefaultMaxManifest = 2 << 20
	DefaultMaxReadme   = 1 << 20
)

// CrateInfo is what VerifyCrate found in a .crate.
type CrateInfo struct {
	Files    int   // regular files
	Unpacked int64 // bytes of the tar stream
	// Readme is the README's content (at most CrateLimits.MaxReadme
	// bytes), ReadmePath its path in the package; nil and "" when the
	// package has none.
	Readme          []byte
	ReadmePath      string
	ReadmeTruncated bool
}

// VerifyCrate reads a .crate (a gzipped tar) in one pass and checks that
// cargo may unpack it and that it is the crate published as name and vers:
// every entry is a regular file or a directory under "<name>-<vers>/"
// (no absolute path, no "." or ".." component, no backslash, no link);
// the package root holds exactly one manifest, Cargo.toml (or the legacy
// cargo.toml), whose [package] name and version are name and vers (cargo
// package writes them literally, never inherited from a workspace); the
// archive stays within the limits (against gzip bombs) and its gzip
// checksum is right. It also keeps the README: readmeFile (the metadata's
// readme_file) when given, else the manifest's readme (a path, or false
// for none) when the manifest comes before it in the archive, as cargo
// writes it, else README.md.
//
// A crate that fails is a validation fault (a quota fault when over a
// limit); an error reading r is returned wrapped.
func VerifyCrate(r io.Reader, name, vers, readmeFile string, lim CrateLimits) (*CrateInfo, error) {
	if lim.MaxUnpacked <= 0 {
		lim.MaxUnpacked = DefaultMaxUnpacked
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = DefaultMaxEntries
	}
	if lim.MaxManifest <= 0 {
		lim.MaxManifest = DefaultMaxManifest
	}
	if lim.MaxReadme <= 0 {
		lim.MaxReadme = DefaultMaxReadme
	}
	src := &sourceReader{r: r}
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, crateError(src, err, "the crate is not a gzip file")
	}
	unpacked := &limitedReader{r: zr, limit: lim.MaxUnpacked, left: lim.MaxUnpacked}
	tr := tar.NewReader(unpacked)

	root := name + "-" + vers
	info := &CrateInfo{}
	readmePath, explicit := cleanReadme(readmeFile), true
	if readmePath == "" {
		readmePath, explicit = "README.md", false
	}
	var declared int64
	entries, manifests := 0, 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, crateError(src, overLimit(unpacked, err), "the crate is not a valid tar archive")
		}
		entries++
		if entries > lim.MaxEntries {
			return nil, fault.Quota("asset", "", "The crate has more than %d files", lim.MaxEntries)
		}
		rel, ok := entryPath(hdr.Name, root)
		if !ok {
			return nil, fault.Validation("the crate holds %q, which is not a path under %s/", printable(hdr.Name), root)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
			if rel == "" {
				return nil, fault.Validation("the crate holds %q, which is not a path under %s/", printable(hdr.Name), root)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return nil, fault.Validation("the crate holds a link, %q; crates may hold only files and directories", printable(hdr.Name))
		default:
			return nil, fault.Validation("the crate holds %q of an unsupported type", printable(hdr.Name))
		}
		info.Files++
		if declared += hdr.Size; hdr.Size < 0 || declared > lim.MaxUnpacked {
			return nil, fault.Quota("asset", "", "The crate is larger than %d bytes when unpacked", lim.MaxUnpacked)
		}
		switch {
		case strings.EqualFold(rel, "Cargo.toml"):
			manifests++
			if manifests > 1 {
				return nil, fault.Validation("the crate holds more than one Cargo.toml")
			}
			if rel != "Cargo.toml" && rel != "cargo.toml" {
				return nil, fault.Validation("the crate's manifest is named %s, not Cargo.toml", rel)
			}
			if hdr.Size > lim.MaxManifest {
				return nil, fault.Quota("asset", "", "The crate's Cargo.toml is larger than %d bytes", lim.MaxManifest)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, crateError(src, overLimit(unpacked, err), "the crate's Cargo.toml cannot be read")
			}
			readme, err := checkManifest(data, name, vers)
			if err != nil {
				return nil, err
			}
			if !explicit {
				switch v := readme.(type) {
				case bool:
					if !v {
						readmePath, info.Readme, info.ReadmePath = "", nil, ""
					}
				case string:
					if p := cleanReadme(v); p != "" && p != readmePath {
						readmePath, info.Readme, info.ReadmePath = p, nil, ""
					}
				}
			}
		case rel == readmePath && info.ReadmePath == "":
			data, err := io.ReadAll(io.LimitReader(tr, lim.MaxReadme))
			if err != nil {
				return nil, crateError(src, overLimit(unpacked, err), "the crate's README cannot be read")
			}
			info.Readme, info.ReadmePath = data, rel
			info.ReadmeTruncated = hdr.Size > lim.MaxReadme
		}
	}
	if manifests == 0 {
		return nil, fault.Validation("the crate has no %s/Cargo.toml", root)
	}
	// Read to the end of the gzip stream: its checksum covers the bytes
	// after the tar's end-of-archive marker too.
	if _, err := io.Copy(io.Discard, unpacked); err != nil {
		return nil, crateError(src, overLimit(unpacked, err), "the crate's gzip stream is corrupt")
	}
	info.Unpacked = lim.MaxUnpacked - unpacked.left
	return info, nil
}

// entryPath returns the path of an archive entry relative to root, when
// it lies under root and is a clean relative path (a directory's name may
// end in "/").
func entryPath(name, root string) (string, bool) {
	rel, ok := strings.CutPrefix(name, root+"/")
	if !ok || strings.ContainsAny(name, "\\\x00") {
		return "", false
	}
	rel = strings.TrimSuffix(rel, "/")
	if rel == "" {
		return "", true // the root directory itself
	}
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." || c == ".." {
			return "", false
		}
	}
	return rel, true
}

// cleanReadme turns a readme path of the metadata or manifest into a path
// in the package: slashes, cleaned; a path outside the package becomes its
// base name, where cargo package puts such a file.
func cleanReadme(p string) string {
	if p == "" {
		return ""
	}
	p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
	if p == "." || p == "/" {
		return ""
	}
	if path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
		p = path.Base(p)
		if p == ".." || p == "/" {
			return ""
		}
	}
	return p
}

// manifestPackage holds what VerifyCrate reads of [package]; any, so that
// an unexpected type (a workspace-inherited table) is an error rather
// than a decoding failure.
type manifestPackage struct {
	Name    any `toml:"name"`
	Version any `toml:"version"`
	Readme  any `toml:"readme"`
}

type manifestDoc struct {
	Package *manifestPackage `toml:"package"`
	Project *manifestPackage `toml:"project"` // the pre-2018 name of [package]
}

// checkManifest parses Cargo.toml and compares its name and version with
// the published ones. It returns [package] readme (a string, a bool or
// nil).
func checkManifest(data []byte, name, vers string) (any, error) {
	var doc manifestDoc
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fault.Validation("the crate's Cargo.toml is not valid TOML: %s", printable(tomlProblem(err)))
	}
	p := doc.Package
	if p == nil {
		p = doc.Project
	}
	if p == nil {
		return nil, fault.Validation("the crate's Cargo.toml has no [package]")
	}
	n, _ := p.Name.(string)
	if n != name {
		return nil, fault.Validation("the crate's Cargo.toml names the package %s, but it is published as %s", describe(p.Name), name)
	}
	v, _ := p.Version.(string)
	if v != vers {
		return nil, fault.Validation("the crate's Cargo.toml gives version %s, but it is published as %s", describe(p.Version), vers)
	}
	return p.Readme, nil
}

// describe shows a manifest value in a message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "(none)"
	case string:
		return "`" + printable(v) + "`"
	}
	return "(not a string)"
}

func tomlProblem(err error) string {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("line %d, column %d: %s", row, col, de.Error())
	}
	return err.Error()
}

// sourceReader remembers the first error of the reader under the gzip
// stream, so that a failing source is not reported as a corrupt crate.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// errUnpackedLimit is limitedReader's error past its limit.
var errUnpackedLimit = errors.New("unpacked limit reached")

// limitedReader fails once more than left bytes are read from it.
type limitedReader struct {
	r           io.Reader
	limit, left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errUnpackedLimit
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errUnpackedLimit
	}
	return n, err
}

// overLimit turns an error caused by the unpacked limit into its quota
// fault (archive/tar may wrap or replace the reader's error).
func overLimit(l *limitedReader, err error) error {
	if l.left < 0 || errors.Is(err, errUnpackedLimit) {
		return fault.Quota("asset", "", "The crate is larger than %d bytes when unpacked", l.limit)
	}
	return err
}

// crateError classifies a failure while reading the crate: an error of
// the source is returned wrapped, a fault as it is, anything else (the
// data is not gzip, not tar, truncated) is the validation fault msg.
func crateError(src *sourceReader, err error, msg string) error {
	if src.err != nil {
		return fmt.Errorf("reading the crate: %w", src.err)
	}
	var f *fault.Error
	if errors.As(err, &f) {
		return err
	}
	return fault.Validation("%s", msg)
}
