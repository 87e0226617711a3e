// Package npmtest is a fixture npm registry for tests, standard library
// only: it builds real npm tarballs (.tgz of package/package.json,
// package/index.js and any extra files, with deterministic bytes) and serves
// them with their packuments as registry.npmjs.org does, so that coffer's
// public:npmjs external connection and the real npm, pnpm and yarn can be
// tested on loopback (the public registry is not a test dependency).
package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Package describes one version of a package to build.
type Package struct {
	Name        string // "fx-a" or "@fx/util"
	Version     string // semver, "1.0.0"
	Description string // default "fixture package <name>"
	// Dependencies is package.json's dependencies: name → range.
	Dependencies map[string]string
	// Files are extra files by path inside the package ("lib/x.js",
	// "README.md"). A "package.json" or "index.js" here replaces the
	// generated one.
	Files map[string]string
	// Padding adds package/padding.bin of that many pseudo-random bytes
	// (incompressible, to make big tarballs).
	Padding int
	// Deprecated, when set, is the version's deprecation message in the
	// packuments the Registry serves (it is not part of the tarball).
	Deprecated string
}

// PackageTime is the modification time of every entry of the tarballs,
// the fixed date npm itself writes (1985-10-26T08:15:00Z).
var PackageTime = time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)

// Basename is the part of a name after its scope: "util" for "@fx/util".
func Basename(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// TarballName is the file name of a version's tarball: "util-1.0.0.tgz"
// for @fx/util 1.0.0.
func TarballName(name, version string) string { return Basename(name) + "-" + version + ".tgz" }

// TarballPath is the registry path of a version's tarball:
// "/@fx/util/-/util-1.0.0.tgz".
func TarballPath(name, version string) string { return "/" + name + "/-/" + TarballName(name, version) }

func (p Package) description() string {
	if p.Description != "" {
		return p.Description
	}
	return "fixture package " + p.Name
}

// Manifest is p's package.json as a map, as the tarball holds it (unless
// Files replaces it).
func (p Package) Manifest() map[string]any {
	m := map[string]any{
		"name":        p.Name,
		"version":     p.Version,
		"description": p.description(),
		"main":        "index.js",
		"license":     "MIT",
	}
	if len(p.Dependencies) > 0 {
		deps := map[string]any{}
		for k, v := range p.Dependencies {
			deps[k] = v
		}
		m["dependencies"] = deps
	}
	return m
}

// PackageJSON is p's package.json file.
func (p Package) PackageJSON() []byte {
	if s, ok := p.Files["package.json"]; ok {
		return []byte(s)
	}
	b, err := json.MarshalIndent(p.Manifest(), "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// IndexJS is p's generated index.js: it requires every dependency and
// exports name, version and describe(), which returns
// "name@version(dep1@v(...) dep2@v(...))", so that a test can check what
// an install resolved by running node.
func (p Package) IndexJS() string {
	if s, ok := p.Files["index.js"]; ok {
		return s
	}
	var b strings.Builder
	b.WriteString("'use strict';\n")
	fmt.Fprintf(&b, "exports.name = %q;\nexports.version = %q;\n", p.Name, p.Version)
	deps := make([]string, 0, len(p.Dependencies))
	for d := range p.Dependencies {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	b.WriteString("const deps = [")
	for i, d := range deps {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "require(%q)", d)
	}
	b.WriteString("];\n")
	b.WriteString("exports.describe = function () {\n  return exports.name + '@' + exports.version + '(' + deps.map(function (d) { return d.describe(); }).join(' ') + ')';\n};\n")
	return b.String()
}

// Tarball builds p's npm tarball: a gzipped tar of package/package.json,
// package/index.js, p.Files and the padding, in a fixed order with fixed
// times and modes, so the same Package always gives the same bytes.
func Tarball(p Package) []byte {
	files := map[string][]byte{
		"package.json": p.PackageJSON(),
		"index.js":     []byte(p.IndexJS()),
	}
	for name, content := range p.Files {
		files[name] = []byte(content)
	}
	if p.Padding > 0 {
		files["padding.bin"] = padding(p.Padding)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	// package.json first, as npm pack writes it; then by name.
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "package.json") != (names[j] == "package.json") {
			return names[i] == "package.json"
		}
		return names[i] < names[j]
	})
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		data := files[n]
		hdr := &tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: PackageTime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(err)
		}
		if _, err := tw.Write(data); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// padding is n xorshift bytes: incompressible and always the same.
func padding(n int) []byte {
	pad := make([]byte, n)
	x := uint32(2463534242)
	for i := range pad {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		pad[i] = byte(x)
	}
	return pad
}

// Integrity is the Subresource Integrity string npm writes in
// dist.integrity: "sha512-" and the standard base64 of the SHA-512.
func Integrity(b []byte) string {
	s := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(s[:])
}

// Shasum is the lower-case hex SHA-1 npm writes in dist.shasum.
func Shasum(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
