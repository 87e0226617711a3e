package swift

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// maxMetadata bounds the metadata JSON of a publish, and each signature.
const (
	maxMetadata  = 1 << 20
	maxSignature = 64 << 10
)

// PublishMetadata is the package release metadata a publish may carry
// (Registry.md §4.6.2, Appendix B). Other members are kept as given.
type PublishMetadata struct {
	Author                  *Author  `json:"author,omitempty"`
	Description             *string  `json:"description,omitempty"`
	LicenseURL              *string  `json:"licenseURL,omitempty"`
	ReadmeURL               *string  `json:"readmeURL,omitempty"`
	RepositoryURLs          []string `json:"repositoryURLs,omitempty"`
	OriginalPublicationTime *string  `json:"originalPublicationTime,omitempty"`
}

// Author is the metadata's author.
type Author struct {
	Name         *string       `json:"name"`
	Email        *string       `json:"email,omitempty"`
	Description  *string       `json:"description,omitempty"`
	URL          *string       `json:"url,omitempty"`
	Organization *Organization `json:"organization,omitempty"`
}

// Organization is an author's organization.
type Organization struct {
	Name        *string `json:"name"`
	Email       *string `json:"email,omitempty"`
	Description *string `json:"description,omitempty"`
	URL         *string `json:"url,omitempty"`
}

func invalidMetadata(why string) error {
	return unprocessable("invalid JSON provided for release metadata: " + why)
}

// ParseMetadata checks the metadata section of a publish against the
// schema of Appendix B: a JSON object whose known members have their
// types (author and organization with a name, originalPublicationTime an
// RFC 3339 date-time). It returns the parsed members and the document
// compacted, which the release metadata serves back; an empty section is
// no metadata (nil, nil).
func ParseMetadata(b []byte) (*PublishMetadata, []byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil, nil
	}
	if len(b) > maxMetadata {
		return nil, nil, invalidMetadata("larger than 1 MiB")
	}
	if !utf8.Valid(b) || !json.Valid(b) {
		return nil, nil, invalidMetadata("not a JSON document")
	}
	if b[0] != '{' {
		return nil, nil, invalidMetadata("not a JSON object")
	}
	var m PublishMetadata
	if err := json.Unmarshal(b, &m); err != nil {
		msg := "a member has the wrong type"
		if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
			msg = "member " + te.Field + " must be a " + jsonType(te.Type.Kind().String())
		}
		return nil, nil, invalidMetadata(msg)
	}
	if m.Author != nil {
		if m.Author.Name == nil {
			return nil, nil, invalidMetadata("author has no name")
		}
		if o := m.Author.Organization; o != nil && o.Name == nil {
			return nil, nil, invalidMetadata("author.organization has no name")
		}
	}
	if t := m.OriginalPublicationTime; t != nil {
		if _, err := time.Parse(time.RFC3339Nano, *t); err != nil {
			return nil, nil, invalidMetadata("originalPublicationTime is not an ISO 8601 date-time")
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, nil, invalidMetadata("not a JSON document")
	}
	return &m, buf.Bytes(), nil
}

func jsonType(kind string) string {
	switch {
	case kind == "ptr" || kind == "string":
		return "string"
	case kind == "slice":
		return "array"
	case strings.HasPrefix(kind, "struct"):
		return "object"
	}
	return kind
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Signing is a resource's signature as release metadata shows it
// (Registry.md §4.2.1).
type Signing struct {
	SignatureBase64Encoded string `json:"signatureBase64Encoded"`
	SignatureFormat        string `json:"signatureFormat"`
}

// record is what a release keeps in its version's Metadata: the spelling
// of its identifier as published, the source archive's checksum and
// signature, the metadata sent with it, and its manifests, which the
// manifest endpoint serves without opening the archive.
type record struct {
	Scope     string          `json:"scope"`
	Name      string          `json:"name"`
	Checksum  string          `json:"checksum"`
	Signing   *Signing        `json:"signing,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Manifests []storedFile    `json:"manifests"`
}

type storedFile struct {
	Filename     string `json:"filename"`
	SwiftVersion string `json:"swiftVersion,omitempty"`
	ToolsVersion string `json:"toolsVersion"`
	Content      string `json:"content"`
}

func (r *record) encode() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// decodeRecord reads a version's Metadata; a version without one (made
// through the API) has an empty record.
func decodeRecord(s string) *record {
	r := &record{}
	if s != "" {
		json.Unmarshal([]byte(s), r)
	}
	return r
}

// repositoryURLs are the metadata's repository URLs, nil when none.
func (r *record) repositoryURLs() []string {
	if len(r.Metadata) == 0 {
		return nil
	}
	var m PublishMetadata
	if json.Unmarshal(r.Metadata, &m) != nil {
		return nil
	}
	return m.RepositoryURLs
}

// manifest returns the stored manifest whose swift version is v ("" for
// Package.swift).
func (r *record) manifest(v string) *storedFile {
	for i := range r.Manifests {
		f := &r.Manifests[i]
		if v == "" && f.SwiftVersion == "" || v != "" && f.SwiftVersion != "" && (f.SwiftVersion == v || sameSwiftVersion(f.SwiftVersion, v)) {
			return f
		}
	}
	return nil
}
