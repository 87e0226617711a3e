// Package pypitest builds Python distributions with the standard library,
// for tests: pure-Python wheels as mkwheel.py builds them (real-clients.md
// appendix B; METADATA 2.1, WHEEL, RECORD with sha256) and minimal sdists
// (PKG-INFO and a setup.py). PyPI is unreachable where the tests run.
package pypitest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Dist describes a distribution to build.
type Dist struct {
	Name           string // as written in metadata ("Foo_Bar")
	Version        string
	Summary        string   // default "tiny test package"
	RequiresPython string   // default ">=3.8"; "-" for none
	Requires       []string // Requires-Dist lines
	Description    string   // the body of the metadata
	// Module is the importable module's source (default a greet function).
	Module string
	// Padding adds a file of that many pseudo-random bytes (to make big
	// wheels).
	Padding int
}

var separators = regexp.MustCompile(`[-_.]+`)

// Escaped is the distribution name as wheel and sdist file names spell it.
func Escaped(name string) string { return strings.ToLower(separators.ReplaceAllString(name, "_")) }

// Metadata is the core metadata file of d.
func (d Dist) Metadata() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", d.Name, d.Version)
	summary := d.Summary
	if summary == "" {
		summary = "tiny test package"
	}
	fmt.Fprintf(&b, "Summary: %s\n", summary)
	rp := d.RequiresPython
	if rp == "" {
		rp = ">=3.8"
	}
	if rp != "-" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", rp)
	}
	for _, r := range d.Requires {
		fmt.Fprintf(&b, "Requires-Dist: %s\n", r)
	}
	if d.Description != "" {
		b.WriteString("Description-Content-Type: text/markdown\n")
	}
	b.WriteString("\n")
	b.WriteString(d.Description)
	return []byte(b.String())
}

func (d Dist) module() string {
	if d.Module != "" {
		return d.Module
	}
	return fmt.Sprintf("__version__ = %q\n\ndef greet(w):\n    return \"hello \" + w\n", d.Version)
}

// WheelName is d's wheel file name.
func (d Dist) WheelName() string {
	return fmt.Sprintf("%s-%s-py3-none-any.whl", Escaped(d.Name), d.Version)
}

// Wheel builds d's wheel and returns its file name and bytes.
func (d Dist) Wheel() (string, []byte) {
	norm := Escaped(d.Name)
	di := fmt.Sprintf("%s-%s.dist-info", norm, d.Version)
	files := map[string][]byte{
		norm + "/__init__.py": []byte(d.module()),
		di + "/METADATA":      d.Metadata(),
		di + "/WHEEL":         []byte("Wheel-Version: 1.0\nGenerator: pypitest\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
	}
	if d.Padding > 0 {
		pad := make([]byte, d.Padding)
		x := uint32(2463534242)
		for i := range pad {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			pad[i] = byte(x)
		}
		files[norm+"/padding.bin"] = pad
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var record strings.Builder
	for _, n := range names {
		s := sha256.Sum256(files[n])
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(s[:]), len(files[n]))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", di)
	files[di+"/RECORD"] = []byte(record.String())
	names = append(names, di+"/RECORD")
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := z.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			panic(err)
		}
		w.Write(files[n])
	}
	if err := z.Close(); err != nil {
		panic(err)
	}
	return d.WheelName(), buf.Bytes()
}

// Sdist builds a minimal source distribution of d (PKG-INFO, setup.py,
// the module) and returns its file name and bytes.
func (d Dist) Sdist() (string, []byte) {
	norm := Escaped(d.Name)
	top := fmt.Sprintf("%s-%s", norm, d.Version)
	var reqs []string
	for _, r := range d.Requires {
		reqs = append(reqs, fmt.Sprintf("%q", r))
	}
	files := []struct {
		name string
		data []byte
	}{
		{top + "/PKG-INFO", d.Metadata()},
		{top + "/setup.py", []byte(fmt.Sprintf("from setuptools import setup\nsetup(name=%q, version=%q, py_modules=[%q], install_requires=[%s])\n",
			d.Name, d.Version, norm, strings.Join(reqs, ", ")))},
		{top + "/" + norm + ".py", []byte(d.module())},
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		tw.Write(f.data)
	}
	tw.Close()
	gz.Close()
	return top + ".tar.gz", buf.Bytes()
}

// SHA256 is the lower-case hex SHA-256 of b.
func SHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
