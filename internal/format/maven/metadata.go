package maven

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metadata is a maven-metadata.xml document: artifact level (versions),
// SNAPSHOT version level (snapshot builds) or group level (plugins).
type Metadata struct {
	XMLName      xml.Name    `xml:"metadata"`
	ModelVersion string      `xml:"modelVersion,attr,omitempty"`
	GroupID      string      `xml:"groupId,omitempty"`
	ArtifactID   string      `xml:"artifactId,omitempty"`
	Version      string      `xml:"version,omitempty"`
	Versioning   *Versioning `xml:"versioning,omitempty"`
	Plugins      []Plugin    `xml:"plugins>plugin,omitempty"`
}

// Versioning is the <versioning> element.
type Versioning struct {
	Latest           string            `xml:"latest,omitempty"`
	Release          string            `xml:"release,omitempty"`
	Snapshot         *Snapshot         `xml:"snapshot,omitempty"`
	Versions         []string          `xml:"versions>version,omitempty"`
	LastUpdated      string            `xml:"lastUpdated,omitempty"`
	SnapshotVersions []SnapshotVersion `xml:"snapshotVersions>snapshotVersion,omitempty"`
}

// Snapshot is the <snapshot> element of SNAPSHOT version-level metadata.
type Snapshot struct {
	Timestamp   string `xml:"timestamp,omitempty"`
	BuildNumber int    `xml:"buildNumber,omitempty"`
	LocalCopy   bool   `xml:"localCopy,omitempty"`
}

// SnapshotVersion is one file of a SNAPSHOT build.
type SnapshotVersion struct {
	Classifier string `xml:"classifier,omitempty"`
	Extension  string `xml:"extension,omitempty"`
	Value      string `xml:"value,omitempty"`
	Updated    string `xml:"updated,omitempty"`
}

// Plugin is a plugin prefix entry of group-level metadata.
type Plugin struct {
	Name       string `xml:"name,omitempty"`
	Prefix     string `xml:"prefix,omitempty"`
	ArtifactID string `xml:"artifactId,omitempty"`
}

// MaxMetadataSize bounds a maven-metadata.xml document read from a client.
const MaxMetadataSize = 16 << 20

// ParseMetadata parses a maven-metadata.xml document.
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > MaxMetadataSize {
		return nil, fmt.Errorf("maven-metadata.xml is larger than %d bytes", MaxMetadataSize)
	}
	var m Metadata
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = charsetReader
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("maven-metadata.xml: %w", err)
	}
	m.GroupID, m.ArtifactID, m.Version = strings.TrimSpace(m.GroupID), strings.TrimSpace(m.ArtifactID), strings.TrimSpace(m.Version)
	if v := m.Versioning; v != nil {
		v.Latest, v.Release, v.LastUpdated = strings.TrimSpace(v.Latest), strings.TrimSpace(v.Release), strings.TrimSpace(v.LastUpdated)
		out := v.Versions[:0]
		for _, s := range v.Versions {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		v.Versions = out
		if s := v.Snapshot; s != nil {
			s.Timestamp = strings.TrimSpace(s.Timestamp)
		}
		for i := range v.SnapshotVersions {
			sv := &v.SnapshotVersions[i]
			sv.Classifier, sv.Extension, sv.Value = strings.TrimSpace(sv.Classifier), strings.TrimSpace(sv.Extension), strings.TrimSpace(sv.Value)
		}
	}
	return &m, nil
}

// charsetReader accepts the encodings Maven writes (UTF-8) and their
// ASCII-compatible relatives; anything else is refused.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1":
		return input, nil
	}
	return nil, errors.New("unsupported XML encoding " + charset)
}

// SnapshotBuild returns the build that SNAPSHOT version-level metadata
// describes: from <snapshot> (timestamp and build number), or else the
// newest <snapshotVersion> value.
func (m *Metadata) SnapshotBuild() (Build, bool) {
	if m.Versioning == nil || !IsSnapshot(m.Version) {
		return Build{}, false
	}
	base := strings.TrimSuffix(m.Version, "-SNAPSHOT")
	if s := m.Versioning.Snapshot; s != nil && s.Timestamp != "" && s.BuildNumber > 0 {
		b, ok := ParseBuild(base + "-" + s.Timestamp + "-" + strconv.Itoa(s.BuildNumber))
		return b, ok && b.Base == base
	}
	var best Build
	found := false
	for _, sv := range m.Versioning.SnapshotVersions {
		if b, ok := ParseBuild(sv.Value); ok && b.Base == base && (!found || b.Newer(best)) {
			best, found = b, true
		}
	}
	return best, found
}

// lastUpdatedLayout is Maven's timestamp format for <lastUpdated>.
const lastUpdatedLayout = "20060102150405"

// FormatLastUpdated renders t as Maven's <lastUpdated>.
func FormatLastUpdated(t time.Time) string { return t.UTC().Format(lastUpdatedLayout) }

// ParseLastUpdated parses Maven's <lastUpdated>.
func ParseLastUpdated(s string) (time.Time, bool) {
	t, err := time.Parse(lastUpdatedLayout, s)
	return t, err == nil
}

// ArtifactListing is what artifact-level metadata says of an artifact.
type ArtifactListing struct {
	GroupID, ArtifactID string
	// Versions in any order and possibly repeated; rendered sorted in Maven
	// order without repeats.
	Versions    []string
	LastUpdated time.Time
	Plugins     []Plugin
}

// Render renders artifact-level maven-metadata.xml: versions in Maven
// order; <latest> and <release> the newest release (or, with SNAPSHOTs
// only, <latest> the newest SNAPSHOT and no <release>). A listing without
// versions renders only its plugins (group-level metadata).
func (l *ArtifactListing) Render() []byte {
	type pv struct {
		s string
		v Version
	}
	vs := make([]pv, 0, len(l.Versions))
	seen := make(map[string]bool, len(l.Versions))
	for _, s := range l.Versions {
		if s != "" && !seen[s] {
			seen[s] = true
			vs = append(vs, pv{s, ParseVersion(s)})
		}
	}
	slices.SortStableFunc(vs, func(a, b pv) int {
		if c := a.v.Compare(b.v); c != 0 {
			return c
		}
		return strings.Compare(a.s, b.s)
	})
	var latest, release string
	for i := len(vs) - 1; i >= 0; i-- {
		if !IsSnapshot(vs[i].s) {
			release = vs[i].s
			break
		}
	}
	latest = release
	if latest == "" && len(vs) > 0 {
		latest = vs[len(vs)-1].s
	}

	var b bytes.Buffer
	b.Grow(256 + 40*len(vs))
	b.WriteString(xml.Header)
	b.WriteString("<metadata>\n")
	if len(vs) > 0 {
		element(&b, "  ", "groupId", l.GroupID)
		element(&b, "  ", "artifactId", l.ArtifactID)
		b.WriteString("  <versioning>\n")
		element(&b, "    ", "latest", latest)
		if release != "" {
			element(&b, "    ", "release", release)
		}
		b.WriteString("    <versions>\n")
		for _, v := range vs {
			element(&b, "      ", "version", v.s)
		}
		b.WriteString("    </versions>\n")
		if !l.LastUpdated.IsZero() {
			element(&b, "    ", "lastUpdated", FormatLastUpdated(l.LastUpdated))
		}
		b.WriteString("  </versioning>\n")
	}
	if len(l.Plugins) > 0 {
		b.WriteString("  <plugins>\n")
		for _, p := range l.Plugins {
			b.WriteString("    <plugin>\n")
			element(&b, "      ", "name", p.Name)
			element(&b, "      ", "prefix", p.Prefix)
			element(&b, "      ", "artifactId", p.ArtifactID)
			b.WriteString("    </plugin>\n")
		}
		b.WriteString("  </plugins>\n")
	}
	b.WriteString("</metadata>\n")
	return b.Bytes()
}

func element(b *bytes.Buffer, indent, name, value string) {
	if value == "" {
		return
	}
	b.WriteString(indent)
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">\n")
}

// MergePlugins adds the plugins of more that are not in have (by prefix).
func MergePlugins(have, more []Plugin) []Plugin {
	for _, p := range more {
		if p.Prefix == "" || slices.ContainsFunc(have, func(q Plugin) bool { return q.Prefix == p.Prefix }) {
			continue
		}
		have = append(have, p)
	}
	return have
}

// RenderSnapshotMetadata generates SNAPSHOT version-level metadata for a
// build when the client's own document is not stored: the <snapshot>
// element, from which Maven derives every file name of the build, and the
// files given (extension, classifier) as <snapshotVersions>.
func RenderSnapshotMetadata(groupID, artifactID string, b Build, updated time.Time, files []SnapshotVersion) []byte {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<metadata modelVersion=\"1.1.0\">\n")
	element(&buf, "  ", "groupId", groupID)
	element(&buf, "  ", "artifactId", artifactID)
	element(&buf, "  ", "version", b.Snapshot())
	buf.WriteString("  <versioning>\n    <snapshot>\n")
	element(&buf, "      ", "timestamp", b.Timestamp)
	element(&buf, "      ", "buildNumber", strconv.Itoa(b.BuildNumber))
	buf.WriteString("    </snapshot>\n")
	if !updated.IsZero() {
		element(&buf, "    ", "lastUpdated", FormatLastUpdated(updated))
	}
	if len(files) > 0 {
		buf.WriteString("    <snapshotVersions>\n")
		for _, f := range files {
			buf.WriteString("      <snapshotVersion>\n")
			element(&buf, "        ", "classifier", f.Classifier)
			element(&buf, "        ", "extension", f.Extension)
			element(&buf, "        ", "value", f.Value)
			element(&buf, "        ", "updated", f.Updated)
			buf.WriteString("      </snapshotVersion>\n")
		}
		buf.WriteString("    </snapshotVersions>\n")
	}
	buf.WriteString("  </versioning>\n</metadata>\n")
	return buf.Bytes()
}
