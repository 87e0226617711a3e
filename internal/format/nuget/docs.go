package nuget

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// Resource is one entry of the service index.
type Resource struct {
	ID      string `json:"@id"`
	Type    string `json:"@type"`
	Comment string `json:"comment,omitempty"`
}

// Paths of the resources under the repository endpoint.
const (
	flatPath    = "v3-flatcontainer/"
	regPath     = "v3/registration/"         // SemVer 1.0.0 versions only
	regSV2Path  = "v3/registration-semver2/" // every version
	searchPath  = "v3/search"
	autoPath    = "v3/autocomplete"
	publishPath = "v3/package"
)

// ServiceIndex renders v3/index.json for a repository endpoint (base ends
// in "/"); console is the console's URL of the repository (ending in "/").
// Every resource a current NuGet client looks up is advertised under the
// versioned @types it asks for (NuGet.Protocol's ServiceTypes).
func ServiceIndex(base, console string) []byte {
	var rs []Resource
	add := func(path, comment string, types ...string) {
		for _, t := range types {
			rs = append(rs, Resource{ID: base + path, Type: t, Comment: comment})
		}
	}
	add(flatPath, "Base URL of where NuGet packages are stored, in the format {@id}{LOWER_ID}/{LOWER_VERSION}/{LOWER_ID}.{LOWER_VERSION}.nupkg",
		"PackageBaseAddress/3.0.0")
	add(regPath, "Base URL of where package registrations are stored (SemVer 1.0.0 versions only)",
		"RegistrationsBaseUrl", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.4.0")
	add(regSV2Path, "Base URL of where package registrations are stored, SemVer 2.0.0 versions included",
		"RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/Versioned")
	add(searchPath, "Query endpoint of the search service", "SearchQueryService", "SearchQueryService/3.0.0-beta",
		"SearchQueryService/3.0.0-rc", "SearchQueryService/3.5.0")
	add(autoPath, "Autocomplete endpoint of the search service", "SearchAutocompleteService",
		"SearchAutocompleteService/3.0.0-beta", "SearchAutocompleteService/3.0.0-rc", "SearchAutocompleteService/3.5.0")
	add(publishPath, "Push and unlist packages (Basic authentication; X-NuGet-ApiKey is ignored)", "PackagePublish/2.0.0")
	add(flatPath+"{lower_id}/{lower_version}/readme", "URI template of a package version's readme", "ReadmeUriTemplate/6.13.0")
	rs = append(rs, Resource{ID: console + "version?format=nuget&package={id}&version={version}", Type: "PackageDetailsUriTemplate/5.1.0",
		Comment: "URI template of a package version's page in the console"})
	doc := struct {
		Version   string     `json:"version"`
		Resources []Resource `json:"resources"`
	}{"3.0.0", rs}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n')
}

// FlatIndex renders {id}/index.json of the flat container: the version
// keys, ordered by precedence.
func FlatIndex(keys []string) []byte {
	if keys == nil {
		keys = []string{}
	}
	b, _ := json.Marshal(struct {
		Versions []string `json:"versions"`
	}{keys})
	return b
}

// regVersion is one version as a registration shows it.
type regVersion struct {
	entry     *Entry
	key       string
	listed    bool
	published string
}

// Leaf and document shapes of the registration resource.
type regIndex struct {
	ID    string    `json:"@id"`
	Type  []string  `json:"@type"`
	Count int       `json:"count"`
	Items []regPage `json:"items"`
}

type regPage struct {
	ID     string    `json:"@id"`
	Type   string    `json:"@type,omitempty"`
	Count  int       `json:"count"`
	Items  []regLeaf `json:"items,omitempty"`
	Parent string    `json:"parent,omitempty"`
	Lower  string    `json:"lower"`
	Upper  string    `json:"upper"`
}

type regLeaf struct {
	ID             string        `json:"@id"`
	Type           string        `json:"@type"`
	CatalogEntry   *catalogEntry `json:"catalogEntry"`
	PackageContent string        `json:"packageContent"`
	Registration   string        `json:"registration"`
}

type catalogEntry struct {
	ID                       string          `json:"@id"`
	Type                     string          `json:"@type"`
	Authors                  string          `json:"authors"`
	DependencyGroups         []renderedGroup `json:"dependencyGroups,omitempty"`
	Deprecation              json.RawMessage `json:"deprecation,omitempty"`
	Description              string          `json:"description"`
	IconURL                  string          `json:"iconUrl,omitempty"`
	PackageID                string          `json:"id"`
	Language                 string          `json:"language,omitempty"`
	LicenseExpression        string          `json:"licenseExpression,omitempty"`
	LicenseURL               string          `json:"licenseUrl,omitempty"`
	Listed                   bool            `json:"listed"`
	MinClientVersion         string          `json:"minClientVersion,omitempty"`
	PackageContent           string          `json:"packageContent"`
	ProjectURL               string          `json:"projectUrl,omitempty"`
	Published                string          `json:"published"`
	ReadmeURL                string          `json:"readmeUrl,omitempty"`
	RequireLicenseAcceptance bool            `json:"requireLicenseAcceptance"`
	Summary                  string          `json:"summary,omitempty"`
	Tags                     []string        `json:"tags,omitempty"`
	Title                    string          `json:"title,omitempty"`
	Version                  string          `json:"version"`
	Vulnerabilities          json.RawMessage `json:"vulnerabilities,omitempty"`
}

type renderedGroup struct {
	ID              string            `json:"@id"`
	Type            string            `json:"@type"`
	TargetFramework string            `json:"targetFramework,omitempty"`
	Dependencies    []renderedDepency `json:"dependencies,omitempty"`
}

type renderedDepency struct {
	ID           string `json:"@id"`
	Type         string `json:"@type"`
	PackageID    string `json:"id"`
	Range        string `json:"range"`
	Registration string `json:"registration"`
}

// Registration pages: up to inlineMax versions are inlined in the index,
// as nuget.org does; more are split in pages of pageSize, each its own
// document.
const (
	inlineMax = 128
	pageSize  = 64
)

// regDocs renders the registration documents of one package under the
// registration base regBase and the flat container flatBase, versions
// ordered by precedence.
type regDocs struct {
	regBase, flatBase string
	lowerID           string
	versions          []regVersion
}

func (d *regDocs) indexURL() string { return d.regBase + escapeSeg(d.lowerID) + "/index.json" }

func (d *regDocs) leaf(v regVersion) regLeaf {
	e := v.entry
	leafURL := d.regBase + escapeSeg(d.lowerID) + "/" + escapeSeg(v.key) + ".json"
	content := d.flatBase + escapeSeg(d.lowerID) + "/" + escapeSeg(v.key) + "/" + escapeSeg(d.lowerID+"."+v.key) + ".nupkg"
	ce := &catalogEntry{ID: leafURL + "#catalogEntry", Type: "PackageDetails", Authors: e.Authors, Deprecation: e.Deprecation,
		Description: e.Description, IconURL: e.IconURL, PackageID: e.ID, Language: e.Language, LicenseExpression: e.LicenseExpression,
		LicenseURL: e.LicenseURL, Listed: v.listed, MinClientVersion: e.MinClientVersion, PackageContent: content,
		ProjectURL: e.ProjectURL, Published: v.published, RequireLicenseAcceptance: e.RequireLicenseAcceptance,
		Summary: e.Summary, Tags: e.Tags, Title: e.Title, Version: e.FullVersion(), Vulnerabilities: e.Vulnerabilities}
	if e.HasReadme {
		ce.ReadmeURL = d.flatBase + escapeSeg(d.lowerID) + "/" + escapeSeg(v.key) + "/readme"
	}
	for i, g := range e.DependencyGroups {
		gid := ce.ID + "/dependencygroup/" + strconv.Itoa(i)
		rg := renderedGroup{ID: gid, Type: "PackageDependencyGroup", TargetFramework: g.TargetFramework}
		for _, dep := range g.Dependencies {
			r := dep.Range
			if r == "" {
				r = "(, )"
			}
			lower := strings.ToLower(dep.ID)
			rg.Dependencies = append(rg.Dependencies, renderedDepency{ID: gid + "/" + lower, Type: "PackageDependency",
				PackageID: dep.ID, Range: r, Registration: d.regBase + escapeSeg(lower) + "/index.json"})
		}
		ce.DependencyGroups = append(ce.DependencyGroups, rg)
	}
	return regLeaf{ID: leafURL, Type: "Package", CatalogEntry: ce, PackageContent: content, Registration: d.indexURL()}
}

func (d *regDocs) pageURL(lower, upper string) string {
	return d.regBase + escapeSeg(d.lowerID) + "/page/" + escapeSeg(lower) + "/" + escapeSeg(upper) + ".json"
}

// pages splits the versions: one inlined page, or pages of pageSize.
func (d *regDocs) pages() [][]regVersion {
	if len(d.versions) <= inlineMax {
		return [][]regVersion{d.versions}
	}
	var out [][]regVersion
	for i := 0; i < len(d.versions); i += pageSize {
		out = append(out, d.versions[i:min(i+pageSize, len(d.versions))])
	}
	return out
}

func (d *regDocs) page(vs []regVersion, inline bool) regPage {
	lower, upper := vs[0].entry.Version, vs[len(vs)-1].entry.Version
	p := regPage{Count: len(vs), Lower: lower, Upper: upper}
	if inline {
		p.ID = d.indexURL() + "#page/" + lower + "/" + upper
		p.Type = "catalog:CatalogPage"
		p.Parent = d.indexURL()
		for _, v := range vs {
			p.Items = append(p.Items, d.leaf(v))
		}
	} else {
		p.ID = d.pageURL(strings.ToLower(lower), strings.ToLower(upper))
	}
	return p
}

// Index renders {id}/index.json.
func (d *regDocs) Index() []byte {
	doc := regIndex{ID: d.indexURL(), Type: []string{"catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink"}, Items: []regPage{}}
	pages := d.pages()
	for _, vs := range pages {
		if len(vs) > 0 {
			doc.Items = append(doc.Items, d.page(vs, len(pages) == 1))
		}
	}
	doc.Count = len(doc.Items)
	b, _ := json.Marshal(doc)
	return b
}

// Page renders page/{lower}/{upper}.json, or nil when no page has those
// bounds.
func (d *regDocs) Page(lower, upper string) []byte {
	for _, vs := range d.pages() {
		if len(vs) == 0 || !strings.EqualFold(vs[0].key, lower) || !strings.EqualFold(vs[len(vs)-1].key, upper) {
			continue
		}
		p := d.page(vs, true)
		p.ID = d.pageURL(strings.ToLower(vs[0].key), strings.ToLower(vs[len(vs)-1].key))
		b, _ := json.Marshal(p)
		return b
	}
	return nil
}

// Leaf renders {version}.json (the registration leaf), or nil.
func (d *regDocs) Leaf(key string) []byte {
	for _, v := range d.versions {
		if v.key != key {
			continue
		}
		l := d.leaf(v)
		doc := struct {
			ID             string   `json:"@id"`
			Type           []string `json:"@type"`
			CatalogEntry   string   `json:"catalogEntry"`
			Listed         bool     `json:"listed"`
			PackageContent string   `json:"packageContent"`
			Published      string   `json:"published"`
			Registration   string   `json:"registration"`
		}{l.ID, []string{"Package", "http://schema.nuget.org/catalog#Permalink"}, l.CatalogEntry.ID, v.listed, l.PackageContent, v.published, l.Registration}
		b, _ := json.Marshal(doc)
		return b
	}
	return nil
}

// escapeSeg escapes one path segment.
func escapeSeg(s string) string { return url.PathEscape(s) }
