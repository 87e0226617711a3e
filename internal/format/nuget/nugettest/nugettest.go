// Package nugettest builds .nupkg files and serves a fixture NuGet V3
// registry, for the nuget package's tests and test/nuget.
package nugettest

import (
	"archive/zip"
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Nuspec is a manifest of id and version with one dependency group per
// framework in deps (framework → "id:range" list).
func Nuspec(id, version string, deps map[string][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>%s</id>
    <version>%s</version>
    <authors>Fixture Author</authors>
    <description>Fixture package %s</description>
    <license type="expression">MIT</license>
    <projectUrl>https://example.com/%s</projectUrl>
    <readme>README.md</readme>
    <repository type="git" url="https://example.com/%s.git" />
    <tags>fixture test</tags>
`, id, version, id, id, id)
	if len(deps) > 0 {
		b.WriteString("    <dependencies>\n")
		for _, fw := range sortedKeys(deps) {
			fmt.Fprintf(&b, "      <group targetFramework=%q>\n", fw)
			for _, d := range deps[fw] {
				did, rng, _ := strings.Cut(d, ":")
				fmt.Fprintf(&b, "        <dependency id=%q version=%q />\n", did, rng)
			}
			b.WriteString("      </group>\n")
		}
		b.WriteString("    </dependencies>\n")
	}
	b.WriteString("  </metadata>\n</package>\n")
	return b.String()
}

func sortedKeys(m map[string][]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// File is one member of a built archive.
type File struct{ Name, Body string }

// Zip builds an archive of files, with fixed times so that the same files
// are the same bytes.
func Zip(files ...File) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		w.Write([]byte(f.Body))
	}
	zw.Close()
	return buf.Bytes()
}

// Nupkg is the package dotnet pack would make of id and version: the
// manifest at the root named after the id, a readme, a library, and the
// OPC parts.
func Nupkg(id, version string, deps map[string][]string) []byte {
	return Zip(
		File{"_rels/.rels", `<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>`},
		File{id + ".nuspec", Nuspec(id, version, deps)},
		File{"README.md", "# " + id + "\n"},
		File{"lib/net8.0/" + id + ".dll", "not really a dll " + id + " " + version},
		File{"[Content_Types].xml", `<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
	)
}

// Multipart is the body dotnet nuget push sends (NuGet.Client's
// PackageUpdateResource.PushPackageToServer: MultipartFormDataContent,
// one part "package", filename "package.nupkg", application/octet-stream)
// and its Content-Type.
func Multipart(nupkg []byte) ([]byte, string) {
	const boundary = "a2e3c1f0-6b0d-4c2b-9e7a-000000000001"
	var b bytes.Buffer
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=package; filename=package.nupkg; filename*=utf-8''package.nupkg\r\n\r\n", boundary)
	b.Write(nupkg)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), "multipart/form-data; boundary=\"" + boundary + "\""
}

// Registry is a fixture of nuget.org's V3 API for the packages it holds:
// the service index at /index.json, the flat container under /flat/, the
// registrations (inlined leaves) under /reg/, and catalog leaves with the
// packages' SHA-512 under /catalog/.
type Registry struct {
	// Packages maps a lower-case id to its versions, each to its .nupkg.
	Packages map[string]map[string][]byte
	// Tamper, when it returns true, makes .nupkg bodies differ from their
	// announced hash.
	Tamper func() bool
	// Paged serves registrations as nuget.org does for packages of many
	// versions: the index links pages (one version each here) without
	// inlining them.
	Paged bool
	// Published, when set, gives a version's registration leaf its
	// published time (RFC 3339; "" keeps the default 2024-01-01).
	Published func(lowerID, version string) string
}

func (g *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host
	p := strings.TrimPrefix(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	writeJSON := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case p == "index.json":
		writeJSON(map[string]any{"version": "3.0.0", "resources": []map[string]any{
			{"@id": base + "/flat/", "@type": "PackageBaseAddress/3.0.0"},
			{"@id": base + "/reg/", "@type": "RegistrationsBaseUrl/3.6.0"},
			{"@id": base + "/reg-old/", "@type": "RegistrationsBaseUrl"},
		}})
	case len(parts) == 3 && parts[0] == "flat" && parts[2] == "index.json":
		vs, ok := g.Packages[parts[1]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var keys []string
		for v := range vs {
			keys = append(keys, strings.ToLower(v))
		}
		writeJSON(map[string]any{"versions": sortVersions(keys)})
	case len(parts) == 4 && parts[0] == "flat" && parts[3] == parts[1]+".nuspec":
		b, ok := g.Packages[parts[1]][parts[2]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, ".nuspec") && !strings.Contains(f.Name, "/") {
				rc, _ := f.Open()
				w.Header().Set("Content-Type", "text/xml")
				io.Copy(w, rc)
				rc.Close()
				return
			}
		}
		http.NotFound(w, r)
	case len(parts) == 4 && parts[0] == "flat":
		b, ok := g.Packages[parts[1]][parts[2]]
		if !ok || parts[3] != parts[1]+"."+parts[2]+".nupkg" {
			http.NotFound(w, r)
			return
		}
		if g.Tamper != nil && g.Tamper() {
			b = append([]byte(nil), b...)
			b[len(b)/2] ^= 0xff
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	case len(parts) == 3 && parts[0] == "reg" && parts[2] == "index.json":
		vs, ok := g.Packages[parts[1]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var items []any
		var keys []string
		for v := range vs {
			keys = append(keys, v)
		}
		keys = sortVersions(keys)
		for _, v := range keys {
			items = append(items, g.leaf(base, parts[1], v))
		}
		if g.Paged {
			var pages []any
			for _, v := range keys {
				pages = append(pages, map[string]any{"@id": base + "/reg/" + parts[1] + "/page/" + v + ".json", "count": 1, "lower": v, "upper": v})
			}
			writeJSON(map[string]any{"count": len(pages), "items": pages})
			return
		}
		writeJSON(map[string]any{"count": 1, "items": []any{map[string]any{"@id": base + "/reg/" + parts[1] + "/index.json#page",
			"count": len(items), "lower": keys[0], "upper": keys[len(keys)-1], "items": items}}})
	case len(parts) == 4 && parts[0] == "reg" && parts[2] == "page":
		v := strings.TrimSuffix(parts[3], ".json")
		if _, ok := g.Packages[parts[1]][v]; !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(map[string]any{"@id": base + r.URL.Path, "count": 1, "lower": v, "upper": v, "items": []any{g.leaf(base, parts[1], v)}})
	case len(parts) == 2 && parts[0] == "catalog":
		name := strings.TrimSuffix(parts[1], ".json")
		for id, vs := range g.Packages {
			for v, b := range vs {
				if name == id+"."+v {
					s := sha512.Sum512(b)
					writeJSON(map[string]any{"packageHash": base64.StdEncoding.EncodeToString(s[:]), "packageHashAlgorithm": "SHA512"})
					return
				}
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

// leaf is the registration leaf of one version, its catalog entry
// inlined.
func (g *Registry) leaf(base, id, v string) map[string]any {
	published := "2024-01-01T00:00:00+00:00"
	if g.Published != nil {
		if p := g.Published(id, v); p != "" {
			published = p
		}
	}
	return map[string]any{
		"@id": base + "/reg/" + id + "/" + v + ".json",
		"catalogEntry": map[string]any{
			"@id": base + "/catalog/" + id + "." + v + ".json", "id": displayID(id), "version": v,
			"authors": "Upstream Author", "description": "upstream " + v, "listed": true, "published": published,
			"tags": []string{"upstream"},
			"dependencyGroups": []any{map[string]any{"targetFramework": "net8.0",
				"dependencies": []any{map[string]any{"id": "Upstream.Base", "range": "[1.0.0, )"}}}},
		},
		"packageContent": base + "/flat/" + id + "/" + v + "/" + id + "." + v + ".nupkg",
	}
}

// displayID is the id as the fixture spells it: each dot-separated part
// capitalised.
func displayID(lower string) string {
	parts := strings.Split(lower, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".")
}

// sortVersions orders plain x.y.z versions numerically.
func sortVersions(vs []string) []string {
	key := func(v string) string {
		var a, b, c int
		fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c)
		return fmt.Sprintf("%09d.%09d.%09d %s", a, b, c, v)
	}
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && key(vs[j]) < key(vs[j-1]); j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
	return vs
}
