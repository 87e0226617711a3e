package swift

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on what a source archive may make the server read while it is
// checked: the manifests are kept in the version's record and served from
// there, so they are bounded.
const (
	maxManifestSize   = 1 << 20
	maxManifests      = 64
	maxManifestsTotal = 4 << 20 // what one version's record holds of them
	maxArchiveEntries = 200_000
)

// Manifest is a package manifest found at the top of a source archive.
type Manifest struct {
	// Filename is "Package.swift" or a version-specific
	// "Package@swift-X[.Y[.Z]].swift".
	Filename string
	// SwiftVersion is the X[.Y[.Z]] of a version-specific manifest, "" for
	// Package.swift.
	SwiftVersion string
	// ToolsVersion is the manifest's "// swift-tools-version:" value.
	ToolsVersion string
	Content      []byte
}

// Archive is what a verified source archive holds of interest.
type Archive struct {
	// Root is the one top-level directory every entry lies under.
	Root string
	// Manifests has Package.swift first, then the version-specific ones in
	// archive order.
	Manifests []Manifest
}

// invalidArchive is the refusal of a source archive (422).
func invalidArchive(format string, args ...any) error {
	return unprocessable("invalid source archive: " + fmt.Sprintf(format, args...))
}

// VerifyArchive checks a source archive as `swift package archive-source`
// makes it and as SwiftPM unpacks it (it strips the first path level): a
// zip whose entries all lie under one top-level directory, with no
// absolute or ".." paths, that has a Package.swift there with a
// swift-tools-version line. The version-specific manifests beside it
// (Package@swift-X.Y.swift) are read too, for the manifest endpoint.
func VerifyArchive(r io.ReaderAt, size int64) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, invalidArchive("not a zip archive (%v)", err)
	}
	if len(zr.File) > maxArchiveEntries {
		return nil, invalidArchive("more than %d entries", maxArchiveEntries)
	}
	a := &Archive{}
	var main *zip.File
	var alternates []*zip.File
	for _, f := range zr.File {
		name := f.Name
		if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.ContainsRune(name, 0) {
			return nil, invalidArchive("entry %q has an invalid path", printable(name))
		}
		segs := strings.Split(strings.TrimSuffix(name, "/"), "/")
		for _, s := range segs {
			if s == ".." || s == "." || s == "" {
				return nil, invalidArchive("entry %q has an invalid path", printable(name))
			}
		}
		if a.Root == "" {
			a.Root = segs[0]
		} else if segs[0] != a.Root {
			return nil, invalidArchive("entries lie under more than one top-level directory (%q and %q)", printable(a.Root), printable(segs[0]))
		}
		if len(segs) == 1 {
			if !f.FileInfo().IsDir() {
				return nil, invalidArchive("file %q is not inside a top-level directory", printable(name))
			}
			continue
		}
		if len(segs) != 2 || f.FileInfo().IsDir() {
			continue
		}
		switch {
		case segs[1] == "Package.swift":
			main = f
		case swiftVersionOf(segs[1]) != "":
			alternates = append(alternates, f)
		}
	}
	if main == nil {
		return nil, unprocessable("package doesn't contain a valid manifest (Package.swift) file in its top-level directory")
	}
	if len(alternates) > maxManifests {
		return nil, invalidArchive("more than %d version-specific manifests", maxManifests)
	}
	total := 0
	for _, f := range append([]*zip.File{main}, alternates...) {
		m, err := readManifest(f)
		if err != nil {
			return nil, err
		}
		if total += len(m.Content); total > maxManifestsTotal {
			return nil, invalidArchive("its manifests are larger than %d bytes together", maxManifestsTotal)
		}
		a.Manifests = append(a.Manifests, m)
	}
	return a, nil
}

func readManifest(f *zip.File) (Manifest, error) {
	filename := f.Name[strings.LastIndexByte(f.Name, '/')+1:]
	m := Manifest{Filename: filename, SwiftVersion: swiftVersionOf(filename)}
	if f.UncompressedSize64 > maxManifestSize {
		return m, invalidArchive("%s is larger than %d bytes", filename, maxManifestSize)
	}
	rc, err := f.Open()
	if err != nil {
		return m, invalidArchive("%s cannot be read (%v)", filename, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxManifestSize+1))
	if err != nil {
		return m, invalidArchive("%s cannot be read (%v)", filename, err)
	}
	if len(b) > maxManifestSize {
		return m, invalidArchive("%s is larger than %d bytes", filename, maxManifestSize)
	}
	if !utf8.Valid(b) {
		return m, invalidArchive("%s is not UTF-8 text", filename)
	}
	tv, ok := ToolsVersion(b)
	if !ok {
		return m, unprocessable(fmt.Sprintf("%s does not begin with a valid // swift-tools-version: comment", filename))
	}
	m.ToolsVersion, m.Content = tv, b
	return m, nil
}

// swiftVersionOf returns the X[.Y[.Z]] of a version-specific manifest's
// file name, matching \APackage@swift-(\d+)(?:\.(\d+))?(?:\.(\d+))?.swift\z
// (Registry.md §4.3), or "".
func swiftVersionOf(filename string) string {
	v, ok := strings.CutPrefix(filename, "Package@swift-")
	if !ok {
		return ""
	}
	v, ok = strings.CutSuffix(v, ".swift")
	if !ok || !dottedNumbers(v, 3) {
		return ""
	}
	return v
}

// dottedNumbers: 1 to max dot-separated runs of digits.
func dottedNumbers(s string, max int) bool {
	parts := strings.Split(s, ".")
	if len(parts) > max {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 9 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// ToolsVersion reads the tools version a manifest declares on its first
// line, "// swift-tools-version:5.9" (spaces allowed around the colon and
// after "//", anything after the version following ";").
func ToolsVersion(manifest []byte) (string, bool) {
	manifest = bytes.TrimPrefix(manifest, []byte("\xef\xbb\xbf"))
	line, _, _ := bytes.Cut(manifest, []byte("\n"))
	s := strings.TrimSpace(string(line))
	s, ok := strings.CutPrefix(s, "//")
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	const key = "swift-tools-version"
	if len(s) < len(key) || !strings.EqualFold(s[:len(key)], key) {
		return "", false
	}
	s = strings.TrimSpace(s[len(key):])
	s, ok = strings.CutPrefix(s, ":")
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.') {
		end++
	}
	v := s[:end]
	if !dottedNumbers(v, 3) {
		return "", false
	}
	if rest := strings.TrimSpace(s[end:]); rest != "" && rest[0] != ';' {
		return "", false
	}
	return v, true
}

// sameSwiftVersion reports whether a requested swift-version names the
// same version as a manifest's ("5.9" and "5.9.0" are one: SwiftPM asks
// with its tools version's description).
func sameSwiftVersion(a, b string) bool {
	if !dottedNumbers(a, 3) || !dottedNumbers(b, 3) {
		return false
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = strings.TrimLeft(pa[i], "0")
		}
		if i < len(pb) {
			y = strings.TrimLeft(pb[i], "0")
		}
		if strings.TrimLeft(x, "0") != strings.TrimLeft(y, "0") {
			return false
		}
	}
	return true
}

// printable bounds a client's string for a message.
func printable(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
