package artifact

import "encoding/json"

// NpmPackageMetadata is npm's package-level Metadata as coffer stores it
// (JSON {"dist-tags": {"latest": "1.0.0"}}): format/npm writes it, and the
// control plane reads it for CodeArtifact's npm rules (defaultDisplayVersion
// is the version "latest" names; CopyPackageVersions copies the tags that
// name copied versions).
type NpmPackageMetadata struct {
	DistTags map[string]string `json:"dist-tags,omitempty"`
}

// ParseNpmPackageMetadata reads a package's Metadata; anything unreadable
// has no tags. DistTags is never nil.
func ParseNpmPackageMetadata(s string) NpmPackageMetadata {
	var m NpmPackageMetadata
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	if m.DistTags == nil {
		m.DistTags = map[string]string{}
	}
	return m
}

// Encode returns the Metadata to store ("" when there are no tags).
func (m NpmPackageMetadata) Encode() string {
	if len(m.DistTags) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// npmDisplayVersion is npm's DisplayVersion hook: the version the "latest"
// dist-tag names.
func npmDisplayVersion(metadata string) string {
	return ParseNpmPackageMetadata(metadata).DistTags["latest"]
}

// npmCopyDistTags is npm's CopyMetadata hook: the destination gets the
// dist-tags that name copied versions, as CodeArtifact does, replacing tags
// of the same name; a tag is taken from the first source that sets it.
func npmCopyDistTags(dst string, sources []string, copied func(version string) bool) (string, bool) {
	tags := map[string]string{}
	for _, s := range sources {
		for tag, v := range ParseNpmPackageMetadata(s).DistTags {
			if _, seen := tags[tag]; !seen {
				tags[tag] = v
			}
		}
	}
	m := ParseNpmPackageMetadata(dst)
	changed := false
	for tag, v := range tags {
		if copied(v) && m.DistTags[tag] != v {
			m.DistTags[tag] = v
			changed = true
		}
	}
	if !changed {
		return dst, false
	}
	return m.Encode(), true
}
