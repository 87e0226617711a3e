package nuget

import (
	"encoding/json"
	"strings"
	"time"

	"coffer/internal/store"
)

// Entry is what a registration's catalogEntry says of one version, as
// coffer keeps it: the version's Metadata for a stored version (with the
// manifest), or read from an upstream registration.
type Entry struct {
	ID                       string            `json:"id"`
	Version                  string            `json:"version"`  // normalised, in its case
	Verbatim                 string            `json:"verbatim"` // as the manifest wrote it (SemVer 2.0 metadata)
	Title                    string            `json:"title,omitempty"`
	Authors                  string            `json:"authors,omitempty"`
	Description              string            `json:"description,omitempty"`
	Summary                  string            `json:"summary,omitempty"`
	Tags                     []string          `json:"tags,omitempty"`
	ProjectURL               string            `json:"projectUrl,omitempty"`
	IconURL                  string            `json:"iconUrl,omitempty"`
	LicenseURL               string            `json:"licenseUrl,omitempty"`
	LicenseExpression        string            `json:"licenseExpression,omitempty"`
	Language                 string            `json:"language,omitempty"`
	MinClientVersion         string            `json:"minClientVersion,omitempty"`
	RequireLicenseAcceptance bool              `json:"requireLicenseAcceptance,omitempty"`
	DependencyGroups         []DependencyGroup `json:"dependencyGroups,omitempty"`
	// Deprecation and Vulnerabilities are an upstream's, kept as sent.
	Deprecation     json.RawMessage `json:"deprecation,omitempty"`
	Vulnerabilities json.RawMessage `json:"vulnerabilities,omitempty"`
	HasReadme       bool            `json:"hasReadme,omitempty"`
	// Nuspec is the manifest of a published version, served as
	// {id}.nuspec.
	Nuspec string `json:"nuspec,omitempty"`
}

// EntryOf is the entry of a verified package.
func EntryOf(p *Package) *Entry {
	n := p.Nuspec
	v, _ := ParseVersion(n.Version)
	e := &Entry{ID: n.ID, Version: v.Normalized(), Verbatim: n.Version, Title: n.Title, Authors: n.Authors,
		Description: n.Description, Summary: n.Summary, Tags: strings.Fields(strings.ReplaceAll(n.Tags, ",", " ")),
		ProjectURL: n.ProjectURL, IconURL: n.IconURL, LicenseURL: n.LicenseURL, Language: n.Language,
		MinClientVersion: n.MinClientVersion, RequireLicenseAcceptance: n.RequireLicenseAcceptance,
		DependencyGroups: n.Groups, HasReadme: len(p.Readme) > 0, Nuspec: string(p.NuspecRaw)}
	if n.LicenseType == "expression" {
		e.LicenseExpression = n.License
	}
	return e
}

// parseEntry reads a version's Metadata; nil when it holds none.
func parseEntry(metadata string) *Entry {
	if metadata == "" {
		return nil
	}
	var e Entry
	if json.Unmarshal([]byte(metadata), &e) != nil || e.ID == "" {
		return nil
	}
	return &e
}

// FullVersion is the version as a registration shows it: normalised,
// with the build metadata a SemVer 2.0.0 version was published with.
func (e *Entry) FullVersion() string {
	if v, ok := ParseVersion(e.Verbatim); ok && v.Metadata != "" && strings.EqualFold(v.Normalized(), e.Version) {
		return e.Version + "+" + v.Metadata
	}
	return e.Version
}

// SemVer2 reports whether only a SemVer 2.0.0 client may see the version.
func (e *Entry) SemVer2() bool {
	v, ok := ParseVersion(e.Verbatim)
	if !ok {
		v, ok = ParseVersion(e.Version)
	}
	return ok && v.IsSemVer2()
}

// fill records the entry in a version: its Metadata (without the
// manifest for an upstream's), the id's spelling as DisplayName, the
// description, home page, licenses and the dependencies of every target
// framework, each (id, range) once.
func (e *Entry) fill(v *store.Version) {
	b, _ := json.Marshal(e)
	v.Metadata = string(b)
	v.DisplayName = e.ID
	v.Summary = e.Description
	if v.Summary == "" {
		v.Summary = e.Summary
	}
	v.HomePage = e.ProjectURL
	v.Licenses = nil
	if e.LicenseExpression != "" || e.LicenseURL != "" {
		v.Licenses = []store.License{{Name: e.LicenseExpression, URL: e.LicenseURL}}
	}
	v.Dependencies = nil
	seen := map[[2]string]bool{}
	for _, g := range e.DependencyGroups {
		for _, d := range g.Dependencies {
			k := [2]string{strings.ToLower(d.ID), d.Range}
			if seen[k] {
				continue
			}
			seen[k] = true
			v.Dependencies = append(v.Dependencies, store.Dependency{Package: d.ID, VersionRequirement: d.Range})
		}
	}
}

// unlistedPublished is the published time nuget.org gives unlisted
// versions; older clients read it as "unlisted".
const unlistedPublished = "1900-01-01T00:00:00+00:00"

func publishedTime(t time.Time, listed bool) string {
	if !listed {
		return unlistedPublished
	}
	if t.IsZero() {
		return unlistedPublished
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
