package cargo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"coffer/internal/fault"
)

// Metadata is the JSON part of a publish request (cargo's NewCrate). null
// members read as "" or nil.
type Metadata struct {
	Name          string              `json:"name"`
	Vers          string              `json:"vers"`
	Deps          []PublishDep        `json:"deps"`
	Features      map[string][]string `json:"features"`
	Authors       []string            `json:"authors"`
	Description   string              `json:"description"`
	Documentation string              `json:"documentation"`
	Homepage      string              `json:"homepage"`
	Readme        string              `json:"readme"`      // the README's content
	ReadmeFile    string              `json:"readme_file"` // its path in the package
	Keywords      []string            `json:"keywords"`
	Categories    []string            `json:"categories"`
	License       string              `json:"license"`
	LicenseFile   string              `json:"license_file"`
	Repository    string              `json:"repository"`
	Badges        json.RawMessage     `json:"badges"` // deprecated; kept as sent
	Links         string              `json:"links"`
	RustVersion   string              `json:"rust_version"`
}

// PublishDep is a dependency as cargo publishes it.
type PublishDep struct {
	Name            string   `json:"name"` // the crate depended on
	VersionReq      string   `json:"version_req"`
	Features        []string `json:"features"`
	Optional        bool     `json:"optional"`
	DefaultFeatures bool     `json:"default_features"`
	Target          string   `json:"target"`
	Kind            string   `json:"kind"` // "normal", "build" or "dev"
	// Registry is the index URL of the dependency's registry when it is
	// not the one published to (cargo leaves it out then); the public
	// registry's is https://github.com/rust-lang/crates.io-index.
	Registry string `json:"registry"`
	// ExplicitNameInToml is the name the dependency is renamed to in
	// Cargo.toml (dep = { package = "crate" }).
	ExplicitNameInToml string `json:"explicit_name_in_toml"`
}

// Upload is what ReadPublish read: the metadata, and the size and
// checksum of the .crate it streamed to the caller's writer.
type Upload struct {
	Metadata  Metadata
	CrateSize int64
	Cksum     string // SHA-256 of the .crate, lower-case hex: the index's cksum
}

// maxSmallString bounds the free-text members of the metadata that end up
// in the index or in names (not the README, bounded by the JSON limit).
const maxSmallString = 1024

// ReadPublish reads the body of PUT /api/v1/crates/new: a little-endian
// u32 length, that many bytes of JSON metadata (at most maxJSON), a
// little-endian u32 length and that many bytes of .crate (at most
// maxCrate), and nothing after. It is ReadMetadata then ReadCrate; a
// handler that authorizes the publish by the crate's name calls the two
// itself, so that nothing of the crate is read for a refused publish.
func ReadPublish(r io.Reader, maxJSON, maxCrate int64, crate io.Writer) (*Upload, error) {
	m, err := ReadMetadata(r, maxJSON)
	if err != nil {
		return nil, err
	}
	size, cksum, err := ReadCrate(r, maxCrate, crate)
	if err != nil {
		return nil, err
	}
	return &Upload{Metadata: *m, CrateSize: size, Cksum: cksum}, nil
}

// ReadMetadata reads the first part of a publish body: the u32 length
// and the JSON metadata (at most maxJSON bytes, refused before it is read
// when longer), decoded and checked (ParseMetadata).
//
// A body that ends early or whose metadata is not valid is a validation
// fault, metadata over the limit a quota fault; an error of r (a limited
// request body's own error, a client gone) is returned wrapped, unchanged
// in kind.
func ReadMetadata(r io.Reader, maxJSON int64) (*Metadata, error) {
	var hdr [4]byte
	if err := readFull(r, hdr[:], "the metadata length"); err != nil {
		return nil, err
	}
	jsonLen := int64(binary.LittleEndian.Uint32(hdr[:]))
	if jsonLen > maxJSON {
		return nil, fault.Quota("asset", "", "The publish metadata is %d bytes, more than the limit of %d bytes", jsonLen, maxJSON)
	}
	raw := make([]byte, jsonLen)
	if err := readFull(r, raw, "the metadata"); err != nil {
		return nil, err
	}
	return ParseMetadata(raw)
}

// ReadCrate reads the rest of a publish body, after ReadMetadata: the
// u32 length and the .crate (at most maxCrate bytes, refused before it is
// read when longer), streamed to crate as it is read, never held whole,
// with its SHA-256 computed on the way (the index's cksum, lower-case
// hex); then it checks that the body ends there.
//
// A body that ends early, carries bytes after the crate or an empty
// crate is a validation fault, a crate over the limit a quota fault; an
// error of r or of crate (a full disk) is returned wrapped, unchanged in
// kind.
func ReadCrate(r io.Reader, maxCrate int64, crate io.Writer) (size int64, cksum string, err error) {
	var hdr [4]byte
	if err := readFull(r, hdr[:], "the crate length"); err != nil {
		return 0, "", err
	}
	size = int64(binary.LittleEndian.Uint32(hdr[:]))
	if size > maxCrate {
		return 0, "", fault.Quota("asset", "", "The crate is %d bytes, more than the limit of %d bytes", size, maxCrate)
	}
	if size == 0 {
		return 0, "", fault.Validation("the publish request carries an empty crate")
	}
	h := sha256.New()
	if err := copyExactly(io.MultiWriter(h, crate), r, size); err != nil {
		return 0, "", err
	}
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	if n > 0 {
		return 0, "", fault.Validation("the publish request has bytes after the %d-byte crate", size)
	}
	if err != nil && err != io.EOF {
		return 0, "", fmt.Errorf("reading the publish request: %w", err)
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// readFull fills p from r; a body that ends first is a validation fault.
func readFull(r io.Reader, p []byte, what string) error {
	_, err := io.ReadFull(r, p)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fault.Validation("the publish request ends inside %s", what)
	}
	if err != nil {
		return fmt.Errorf("reading the publish request: %w", err)
	}
	return nil
}

// copyExactly copies n bytes of r to w. A short r is a validation fault;
// an error of r or w is returned wrapped.
func copyExactly(w io.Writer, r io.Reader, n int64) error {
	buf := make([]byte, 32<<10)
	for n > 0 {
		p := buf
		if int64(len(p)) > n {
			p = p[:n]
		}
		k, rerr := r.Read(p)
		if k > 0 {
			if _, werr := w.Write(p[:k]); werr != nil {
				return fmt.Errorf("storing the crate: %w", werr)
			}
			n -= int64(k)
		}
		if rerr == io.EOF {
			if n > 0 {
				return fault.Validation("the publish request ends %d bytes before the end of the crate", n)
			}
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("reading the publish request: %w", rerr)
		}
	}
	return nil
}

// ParseMetadata decodes and checks the JSON metadata of a publish.
func ParseMetadata(raw []byte) (*Metadata, error) {
	if !utf8.Valid(raw) {
		return nil, fault.Validation("the publish metadata is not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	var m Metadata
	if err := d.Decode(&m); err != nil {
		return nil, fault.Validation("invalid publish metadata: %s", jsonProblem(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fault.Validation("invalid publish metadata: data after the JSON object")
	}
	for i := range m.Deps {
		if m.Deps[i].Kind == "" {
			m.Deps[i].Kind = "normal"
		}
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be %s, not %s", te.Field, goTypeName(te.Type.Kind().String()), te.Value)
	case err == io.EOF:
		return "empty"
	}
	return "malformed JSON"
}

func goTypeName(k string) string {
	switch k {
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	}
	return k
}

// Check validates the metadata as the public registry does where it
// matters to a registry: the name (CheckName) and version (CheckVersion);
// each dependency's names, requirement, kind and target; feature names
// and values; links and rust_version bounded.
func (m *Metadata) Check() error {
	if err := CheckName(m.Name); err != nil {
		return err
	}
	if err := CheckVersion(m.Vers); err != nil {
		return err
	}
	for i := range m.Deps {
		if err := m.Deps[i].check(); err != nil {
			return err
		}
	}
	for name, vals := range m.Features {
		if !validFeatureName(name) {
			return fault.Validation("invalid feature name `%s`", printable(name))
		}
		for _, v := range vals {
			if !validFeatureValue(v) {
				return fault.Validation("invalid value `%s` of feature `%s`", printable(v), name)
			}
		}
	}
	if !smallText(m.Links) || !smallText(m.RustVersion) {
		return fault.Validation("invalid links or rust_version")
	}
	return nil
}

func (d *PublishDep) check() error {
	if !validDepName(d.Name) {
		return fault.Validation("invalid dependency name `%s`", printable(d.Name))
	}
	if d.ExplicitNameInToml != "" && !validDepName(d.ExplicitNameInToml) {
		return fault.Validation("invalid dependency name `%s`", printable(d.ExplicitNameInToml))
	}
	if d.VersionReq == "" || !smallText(d.VersionReq) {
		return fault.Validation("dependency `%s` has no valid version requirement", d.Name)
	}
	switch d.Kind {
	case "normal", "build", "dev":
	default:
		return fault.Validation("dependency `%s` has an unknown kind `%s`", d.Name, printable(d.Kind))
	}
	if !smallText(d.Target) || !smallText(d.Registry) {
		return fault.Validation("dependency `%s` has an invalid target or registry", d.Name)
	}
	for _, f := range d.Features {
		if !validFeatureValue(f) {
			return fault.Validation("dependency `%s` enables an invalid feature `%s`", d.Name, printable(f))
		}
	}
	return nil
}

// smallText reports whether s is at most maxSmallString bytes without
// control characters.
func smallText(s string) bool {
	if len(s) > maxSmallString {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validFeatureName is the rule for a feature's own name: ASCII letters,
// digits, "_", "-", "+" and ".", starting with a letter, digit or "_"
// (cargo's rule, restricted to ASCII as the public registry does).
func validFeatureName(s string) bool {
	if s == "" || len(s) > maxSmallString {
		return false
	}
	if c := s[0]; !isAlnum(c) && c != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("_-+.", rune(c)) {
			return false
		}
	}
	return true
}

// validFeatureValue is the rule for what a feature enables: a feature,
// "dep:<dependency>", "<dependency>/<feature>" or "<dependency>?/<feature>".
func validFeatureValue(s string) bool {
	if dep, feat, ok := strings.Cut(s, "/"); ok {
		return validDepName(strings.TrimSuffix(dep, "?")) && validFeatureName(feat)
	}
	if dep, ok := strings.CutPrefix(s, "dep:"); ok {
		return validDepName(dep)
	}
	return validFeatureName(s)
}

// IndexDeps converts published dependencies to index ones, sorted as the
// public registry sorts them: version_req becomes req; a renamed
// dependency is listed under its name in Cargo.toml with package the
// crate's own name; a registry is kept as cargo gave it (none: this
// registry), except that one naming this registry's own index (self,
// with or without cargo's "sparse+" prefix) becomes none.
func IndexDeps(deps []PublishDep, self string) []IndexDep {
	out := make([]IndexDep, 0, len(deps))
	for _, d := range deps {
		x := IndexDep{
			Name: d.Name, Req: d.VersionReq, Features: d.Features, Optional: d.Optional,
			DefaultFeatures: d.DefaultFeatures, Target: d.Target, Kind: d.Kind, Registry: d.Registry,
		}
		if x.Features == nil {
			x.Features = []string{}
		}
		if d.ExplicitNameInToml != "" {
			x.Name, x.Package = d.ExplicitNameInToml, d.Name
		}
		if self != "" && sameIndex(x.Registry, self) {
			x.Registry = ""
		}
		out = append(out, x)
	}
	SortDeps(out)
	return out
}

// sameIndex compares index URLs, ignoring the "sparse+" prefix and a
// trailing "/".
func sameIndex(a, b string) bool {
	norm := func(s string) string {
		return strings.TrimSuffix(strings.TrimPrefix(s, "sparse+"), "/")
	}
	return a != "" && norm(a) == norm(b)
}

// NewIndexEntry is the index entry of a published version: its
// dependencies as IndexDeps gives them, its features split as the public
// registry splits them (SplitFeatures, with schema version 2 when
// features2 is not empty), not yanked. Pubtime is left to the caller.
func NewIndexEntry(m *Metadata, cksum, self string) IndexEntry {
	features, features2 := SplitFeatures(m.Features)
	e := IndexEntry{
		Name: m.Name, Vers: m.Vers, Deps: IndexDeps(m.Deps, self), Cksum: cksum,
		Features: features, Features2: features2,
		Links: m.Links, RustVersion: m.RustVersion,
	}
	if len(features2) > 0 {
		e.V = 2
	}
	return e
}

// PublishResponse is the body of a successful publish: cargo prints the
// warnings (other: free-text ones).
func PublishResponse(other ...string) []byte {
	b := []byte(`{"warnings":{"invalid_categories":[],"invalid_badges":[],"other":`)
	if other == nil {
		other = []string{}
	}
	b = appendStrings(b, other)
	return append(b, "}}"...)
}
