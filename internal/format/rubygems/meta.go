package rubygems

import (
	"encoding/json"
	"slices"

	"coffer/internal/store"
)

// versionMeta is the RubyGems part of a version's Metadata (JSON): one
// entry per build (asset) of the version, in the order they arrived, with
// the build's compact-index info line, from which every index is written.
type versionMeta struct {
	Builds []buildMeta `json:"builds,omitempty"`
}

type buildMeta struct {
	// File is the asset: the .gem file name.
	File string `json:"file"`
	// Info is the build's info line (InfoVersion.Line).
	Info string `json:"info"`
}

func parseVersionMeta(s string) versionMeta {
	var m versionMeta
	if s != "" {
		json.Unmarshal([]byte(s), &m)
	}
	return m
}

func (m versionMeta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// with returns m with the build b added or replaced.
func (m versionMeta) with(b buildMeta) versionMeta {
	out := versionMeta{Builds: slices.Clone(m.Builds)}
	for i := range out.Builds {
		if out.Builds[i].File == b.File {
			out.Builds[i] = b
			return out
		}
	}
	out.Builds = append(out.Builds, b)
	return out
}

// builds are the info lines a version's Metadata records.
func builds(v *store.Version) []InfoVersion {
	var out []InfoVersion
	for _, b := range parseVersionMeta(v.Metadata).Builds {
		if iv, ok := ParseInfoLine(b.Info); ok {
			out = append(out, iv)
		}
	}
	return out
}

// recordBuild adds a build's info line to a version; with spec (nil for an
// ingested gem whose .gem could not be read), it also fills the version's
// description on its first build: summary, homepage, source code
// repository, licenses and the runtime and development dependencies.
func recordBuild(v *store.Version, spec *Spec, file string, line InfoVersion, first bool) {
	v.Metadata = parseVersionMeta(v.Metadata).with(buildMeta{File: file, Info: line.Line()}).encode()
	if spec == nil || (!first && v.Summary != "") {
		return
	}
	v.Summary = spec.Summary
	v.HomePage = spec.Homepage
	if src := spec.Metadata["source_code_uri"]; src != "" {
		v.SourceCodeRepository = src
	}
	v.Licenses = nil
	for _, l := range spec.Licenses {
		v.Licenses = append(v.Licenses, store.License{Name: l})
	}
	v.Dependencies = nil
	for _, d := range spec.Dependencies {
		typ := d.Type
		if typ == "" {
			typ = Runtime
		}
		v.Dependencies = append(v.Dependencies, store.Dependency{Package: d.Name, DependencyType: typ, VersionRequirement: d.Requirement.String()})
	}
	if spec.Description != "" && v.Readme == "" {
		v.Readme = spec.Description
	}
}
