package nuget

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strings"

	"coffer/internal/fault"
)

// Nuspec is what coffer reads of a package's manifest. Elements are
// matched by local name: nuspec files come in several XML namespaces
// (2010/07, 2011/08, 2012/06, 2013/01, 2013/05…).
type Nuspec struct {
	ID                       string
	Version                  string // as written
	Title, Authors, Owners   string
	Description, Summary     string
	ReleaseNotes, Copyright  string
	Tags                     string
	ProjectURL, IconURL      string
	LicenseURL               string
	License, LicenseType     string // <license type="expression|file">
	Readme                   string // path of the readme in the package
	RepositoryURL            string
	Language                 string
	MinClientVersion         string
	RequireLicenseAcceptance bool
	// Groups are the dependencies per target framework; dependencies
	// outside any <group> form one group without a framework.
	Groups []DependencyGroup
}

// DependencyGroup is the dependencies of one target framework ("" for
// any).
type DependencyGroup struct {
	TargetFramework string       `json:"targetFramework,omitempty"`
	Dependencies    []Dependency `json:"dependencies,omitempty"`
}

// Dependency is one package a version depends on, with its version range
// as written.
type Dependency struct {
	ID    string `json:"id"`
	Range string `json:"range,omitempty"`
}

type xmlNuspec struct {
	Metadata struct {
		MinClientVersion         string `xml:"minClientVersion,attr"`
		ID                       string `xml:"id"`
		Version                  string `xml:"version"`
		Title                    string `xml:"title"`
		Authors                  string `xml:"authors"`
		Owners                   string `xml:"owners"`
		Description              string `xml:"description"`
		Summary                  string `xml:"summary"`
		ReleaseNotes             string `xml:"releaseNotes"`
		Copyright                string `xml:"copyright"`
		Tags                     string `xml:"tags"`
		ProjectURL               string `xml:"projectUrl"`
		IconURL                  string `xml:"iconUrl"`
		LicenseURL               string `xml:"licenseUrl"`
		Language                 string `xml:"language"`
		Readme                   string `xml:"readme"`
		RequireLicenseAcceptance string `xml:"requireLicenseAcceptance"`
		License                  struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"license"`
		Repository struct {
			URL string `xml:"url,attr"`
		} `xml:"repository"`
		Dependencies struct {
			Groups []struct {
				TargetFramework string   `xml:"targetFramework,attr"`
				Deps            []xmlDep `xml:"dependency"`
			} `xml:"group"`
			Deps []xmlDep `xml:"dependency"`
		} `xml:"dependencies"`
	} `xml:"metadata"`
}

type xmlDep struct {
	ID      string `xml:"id,attr"`
	Version string `xml:"version,attr"`
}

// maxNuspec bounds a manifest: nuget.org's own limit on the whole nuspec
// is far lower.
const maxNuspec = 1 << 20

// ParseNuspec reads a manifest and checks its id and version.
func ParseNuspec(b []byte) (*Nuspec, error) {
	if len(b) > maxNuspec {
		return nil, fault.Validation("the .nuspec is larger than %d bytes", maxNuspec)
	}
	var x xmlNuspec
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(&x); err != nil {
		return nil, fault.Validation("the .nuspec is not valid XML: %v", err)
	}
	m := &x.Metadata
	n := &Nuspec{ID: strings.TrimSpace(m.ID), Version: strings.TrimSpace(m.Version), Title: strings.TrimSpace(m.Title),
		Authors: strings.TrimSpace(m.Authors), Owners: strings.TrimSpace(m.Owners), Description: strings.TrimSpace(m.Description),
		Summary: strings.TrimSpace(m.Summary), ReleaseNotes: strings.TrimSpace(m.ReleaseNotes), Copyright: strings.TrimSpace(m.Copyright),
		Tags: strings.TrimSpace(m.Tags), ProjectURL: strings.TrimSpace(m.ProjectURL), IconURL: strings.TrimSpace(m.IconURL),
		LicenseURL: strings.TrimSpace(m.LicenseURL), License: strings.TrimSpace(m.License.Value), LicenseType: strings.TrimSpace(m.License.Type),
		Readme: strings.TrimSpace(m.Readme), RepositoryURL: strings.TrimSpace(m.Repository.URL), Language: strings.TrimSpace(m.Language),
		MinClientVersion: strings.TrimSpace(m.MinClientVersion), RequireLicenseAcceptance: strings.TrimSpace(m.RequireLicenseAcceptance) == "true"}
	if !ValidID(n.ID) {
		return nil, fault.Validation("the .nuspec's package id %q is not a valid NuGet id", printable(n.ID))
	}
	if _, ok := ParseVersion(n.Version); !ok {
		return nil, fault.Validation("the .nuspec's version %q is not a valid NuGet version", printable(n.Version))
	}
	dep := func(x xmlDep) (Dependency, error) {
		id := strings.TrimSpace(x.ID)
		if !ValidID(id) {
			return Dependency{}, fault.Validation("the .nuspec has a dependency with an invalid id %q", printable(id))
		}
		return Dependency{ID: id, Range: strings.TrimSpace(x.Version)}, nil
	}
	if len(m.Dependencies.Deps) > 0 {
		g := DependencyGroup{}
		for _, x := range m.Dependencies.Deps {
			d, err := dep(x)
			if err != nil {
				return nil, err
			}
			g.Dependencies = append(g.Dependencies, d)
		}
		n.Groups = append(n.Groups, g)
	}
	for _, xg := range m.Dependencies.Groups {
		g := DependencyGroup{TargetFramework: strings.TrimSpace(xg.TargetFramework)}
		for _, x := range xg.Deps {
			d, err := dep(x)
			if err != nil {
				return nil, err
			}
			g.Dependencies = append(g.Dependencies, d)
		}
		n.Groups = append(n.Groups, g)
	}
	return n, nil
}

// Package is a verified .nupkg: its manifest, the manifest's bytes and the
// readme it names, if any.
type Package struct {
	Nuspec    *Nuspec
	NuspecRaw []byte
	Readme    []byte
}

// maxReadme bounds the readme kept with a version.
const maxReadme = 1 << 20

// ReadPackage checks a .nupkg as NuGet's PackageArchiveReader would accept
// it: a zip archive holding exactly one .nuspec at its root, named after
// the package id (any case), whose id and version are valid. The readme
// the manifest names is read too (bounded).
func ReadPackage(r io.ReaderAt, size int64) (*Package, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fault.Validation("the package is not a valid .nupkg (zip) archive: %v", err)
	}
	var spec *zip.File
	for _, f := range zr.File {
		if strings.Contains(f.Name, "/") || strings.Contains(f.Name, `\`) || !strings.EqualFold(path.Ext(f.Name), ".nuspec") {
			continue
		}
		if spec != nil {
			return nil, fault.Validation("the package has more than one .nuspec at its root")
		}
		spec = f
	}
	if spec == nil {
		return nil, fault.Validation("the package has no .nuspec at its root")
	}
	raw, err := readZipFile(spec, maxNuspec)
	if err != nil {
		return nil, err
	}
	n, err := ParseNuspec(raw)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(strings.TrimSuffix(spec.Name, path.Ext(spec.Name)), n.ID) {
		return nil, fault.Validation("the package's manifest %s does not match its id %s", printable(spec.Name), n.ID)
	}
	p := &Package{Nuspec: n, NuspecRaw: raw}
	if n.Readme != "" {
		want := strings.TrimPrefix(strings.ReplaceAll(n.Readme, `\`, "/"), "/")
		for _, f := range zr.File {
			if strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), want) {
				if p.Readme, err = readZipFile(f, maxReadme); err != nil {
					return nil, err
				}
				break
			}
		}
		if p.Readme == nil {
			return nil, fault.Validation("the readme %s the .nuspec names is not in the package", printable(n.Readme))
		}
	}
	return p, nil
}

// readZipFile reads an archive member of at most limit bytes, its CRC
// checked.
func readZipFile(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fault.Validation("%s in the package is larger than %d bytes", printable(f.Name), limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fault.Validation("cannot read %s in the package: %v", printable(f.Name), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fault.Validation("cannot read %s in the package: %v", printable(f.Name), err)
	}
	if int64(len(b)) > limit {
		return nil, fault.Validation("%s in the package is larger than %d bytes", printable(f.Name), limit)
	}
	return b, nil
}

// printable bounds and cleans a client-given string for a message.
func printable(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
