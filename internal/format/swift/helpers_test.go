package swift_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// zipOf builds a zip of the files (path → content; a path ending in "/" is
// a directory), in path order, with fixed times so that the same files
// are the same bytes.
func zipOf(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		hdr := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		if strings.HasSuffix(n, "/") {
			hdr.Method = zip.Store
			hdr.SetMode(0o755 | 1<<31)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			panic(err)
		}
		w.Write([]byte(files[n]))
	}
	zw.Close()
	return buf.Bytes()
}

// manifest59 and manifest58 are the manifests of the fixture package.
func manifest(tools, name string) string {
	return "// swift-tools-version:" + tools + "\nimport PackageDescription\n\nlet package = Package(\n    name: \"" + name +
		"\",\n    products: [.library(name: \"" + name + "\", targets: [\"" + name + "\"])],\n    targets: [.target(name: \"" + name + "\")]\n)\n"
}

// packageArchive is a source archive as `swift package archive-source`
// makes it: every file under one top-level directory named after the
// package, with Package.swift and a version-specific manifest.
func packageArchive(name, version string) []byte {
	root := name + "/"
	return zipOf(map[string]string{
		root:                                  "",
		root + "Package.swift":                manifest("5.9", name),
		root + "Package@swift-5.8.swift":      manifest("5.8", name),
		root + "Sources/":                     "",
		root + "Sources/" + name + "/":        "",
		root + "Sources/" + name + "/A.swift": fmt.Sprintf("public let version = %q\n", version),
	})
}

// publishBody is the body `swift package-registry publish` sends
// (RegistryClient.publish in Sources/PackageRegistry/RegistryClient.swift):
// source-archive (binary), source-archive-signature when signed, metadata
// labelled quoted-printable but sent as is, metadata-signature, and the
// Content-Type with a quoted boundary.
func publishBody(archive []byte, metadata string, sig, metaSig []byte) ([]byte, string) {
	const boundary = "7D4C1B6E-8D42-4C5B-9A3A-2C1F0E9D8B7A"
	var b bytes.Buffer
	b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"source-archive\"\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: binary\r\n\r\n")
	b.Write(archive)
	if sig != nil {
		b.WriteString("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"source-archive-signature\"\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n")
		b.Write(sig)
	}
	if metadata != "" {
		b.WriteString("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(metadata)
		if metaSig != nil {
			b.WriteString("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata-signature\"\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n")
			b.Write(metaSig)
		}
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), `multipart/form-data;boundary="` + boundary + `"`
}
