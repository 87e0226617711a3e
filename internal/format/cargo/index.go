package cargo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/jsonstr"
)

// IndexEntry is one line of a crate's sparse index file: one version.
// Optional members are "" (null or absent) when not set.
type IndexEntry struct {
	Name  string
	Vers  string
	Deps  []IndexDep
	Cksum string // SHA-256 of the .crate, lower-case hex
	// Features are the [features] table; Features2 holds those that use
	// the namespaced ("dep:x") or weak ("x?/f") syntax, which cargo before
	// 1.60 cannot read (with V 2, so that cargo before 1.51 skips the
	// line instead of misreading it).
	Features    map[string][]string
	Features2   map[string][]string
	Yanked      bool
	Links       string
	RustVersion string
	// Pubtime is when the version was published (cargo reads it as
	// %Y-%m-%dT%H:%M:%SZ and drops a line it cannot read); zero: none.
	Pubtime time.Time
	V       int // the entry's schema version; 0: absent (1)
}

// IndexDep is a dependency in an index entry.
type IndexDep struct {
	Name            string // the name in Cargo.toml (the rename, if renamed)
	Req             string
	Features        []string
	Optional        bool
	DefaultFeatures bool
	Target          string // a cfg() expression or a target triple
	Kind            string // "normal", "build" or "dev"; "" renders null (normal)
	Registry        string // index URL of another registry; "" is this one
	Package         string // the crate's own name when renamed
}

// MaxIndexVersion is the highest entry schema version cargo reads (its
// INDEX_V_MAX): it skips lines with a higher "v".
const MaxIndexVersion = 2

const pubtimeLayout = "2006-01-02T15:04:05Z"

// AppendJSON appends the entry as one line of JSON, without the newline,
// with the members in the order the public registry writes them: name,
// vers, deps, cksum, features, features2 (when any), yanked, links,
// rust_version, pubtime (when set), v (when set). links and rust_version
// are left out when empty, like the public registry does; a dependency's
// registry and package likewise. Strings are not HTML-escaped.
func (e *IndexEntry) AppendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = jsonstr.Append(b, e.Name)
	b = append(b, `,"vers":`...)
	b = jsonstr.Append(b, e.Vers)
	b = append(b, `,"deps":[`...)
	for i := range e.Deps {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.Deps[i].appendJSON(b)
	}
	b = append(b, `],"cksum":`...)
	b = jsonstr.Append(b, e.Cksum)
	b = append(b, `,"features":`...)
	b = appendFeatures(b, e.Features)
	if len(e.Features2) > 0 {
		b = append(b, `,"features2":`...)
		b = appendFeatures(b, e.Features2)
	}
	b = append(b, `,"yanked":`...)
	b = strconv.AppendBool(b, e.Yanked)
	if e.Links != "" {
		b = append(b, `,"links":`...)
		b = jsonstr.Append(b, e.Links)
	}
	if e.RustVersion != "" {
		b = append(b, `,"rust_version":`...)
		b = jsonstr.Append(b, e.RustVersion)
	}
	if !e.Pubtime.IsZero() {
		b = append(b, `,"pubtime":"`...)
		b = e.Pubtime.UTC().AppendFormat(b, pubtimeLayout)
		b = append(b, '"')
	}
	if e.V != 0 {
		b = append(b, `,"v":`...)
		b = strconv.AppendInt(b, int64(e.V), 10)
	}
	return append(b, '}')
}

func (d *IndexDep) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = jsonstr.Append(b, d.Name)
	b = append(b, `,"req":`...)
	b = jsonstr.Append(b, d.Req)
	b = append(b, `,"features":`...)
	b = appendStrings(b, d.Features)
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, d.Optional)
	b = append(b, `,"default_features":`...)
	b = strconv.AppendBool(b, d.DefaultFeatures)
	b = append(b, `,"target":`...)
	b = appendNullable(b, d.Target)
	b = append(b, `,"kind":`...)
	b = appendNullable(b, d.Kind)
	if d.Registry != "" {
		b = append(b, `,"registry":`...)
		b = jsonstr.Append(b, d.Registry)
	}
	if d.Package != "" {
		b = append(b, `,"package":`...)
		b = jsonstr.Append(b, d.Package)
	}
	return append(b, '}')
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonstr.Append(b, s)
}

func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, s)
	}
	return append(b, ']')
}

// appendFeatures writes a features table with its keys in byte order, as
// the public registry's BTreeMap does.
func appendFeatures(b []byte, m map[string][]string) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, k)
		b = append(b, ':')
		b = appendStrings(b, m[k])
	}
	return append(b, '}')
}

// SplitFeatures splits a [features] table the way the public registry
// does before writing an index entry: the features whose values use the
// "dep:" or "?/" syntax, and then (repeatedly) those that enable one of
// them, go to features2; the rest stay in features. The maps returned
// are new; features2 is nil when nothing moved.
func SplitFeatures(all map[string][]string) (features, features2 map[string][]string) {
	features = make(map[string][]string, len(all))
	for k, vals := range all {
		if slices.ContainsFunc(vals, func(v string) bool { return strings.HasPrefix(v, "dep:") || strings.Contains(v, "?/") }) {
			if features2 == nil {
				features2 = map[string][]string{}
			}
			features2[k] = vals
		} else {
			features[k] = vals
		}
	}
	for moved := features2 != nil; moved; {
		moved = false
		for k, vals := range features {
			if slices.ContainsFunc(vals, func(v string) bool { _, ok := features2[v]; return ok }) {
				features2[k] = vals
				delete(features, k)
				moved = true
			}
		}
	}
	return features, features2
}

// kindRank orders dependency kinds as the public registry sorts them.
func kindRank(k string) int {
	switch k {
	case "", "normal":
		return 0
	case "build":
		return 1
	}
	return 2
}

// compareDeps is the public registry's order of an entry's dependencies
// (name, kind, req, optional, default_features, target, package,
// features), which puts a normal dependency before a dev one of the same
// name: old cargo versions read the optional flag of the first.
func compareDeps(a, b IndexDep) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := kindRank(a.Kind) - kindRank(b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Req, b.Req); c != 0 {
		return c
	}
	if a.Optional != b.Optional {
		if !a.Optional {
			return -1
		}
		return 1
	}
	if a.DefaultFeatures != b.DefaultFeatures {
		if !a.DefaultFeatures {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Target, b.Target); c != 0 {
		return c
	}
	if c := strings.Compare(a.Package, b.Package); c != 0 {
		return c
	}
	return slices.Compare(a.Features, b.Features)
}

// SortDeps sorts dependencies in the public registry's order.
func SortDeps(deps []IndexDep) { slices.SortStableFunc(deps, compareDeps) }

// indexLine is the JSON shape read from an index line: pointers tell
// absent members from empty ones where the default is not the zero value.
type indexLine struct {
	Name        string              `json:"name"`
	Vers        string              `json:"vers"`
	Deps        []indexLineDep      `json:"deps"`
	Cksum       string              `json:"cksum"`
	Features    map[string][]string `json:"features"`
	Features2   map[string][]string `json:"features2"`
	Yanked      *bool               `json:"yanked"`
	Links       *string             `json:"links"`
	RustVersion *string             `json:"rust_version"`
	Pubtime     *string             `json:"pubtime"`
	V           *int                `json:"v"`
}

type indexLineDep struct {
	Name            string   `json:"name"`
	Req             string   `json:"req"`
	Features        []string `json:"features"`
	Optional        bool     `json:"optional"`
	DefaultFeatures *bool    `json:"default_features"`
	Target          *string  `json:"target"`
	Kind            *string  `json:"kind"`
	Registry        *string  `json:"registry"`
	Package         *string  `json:"package"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ParseIndexLine reads one index line (without its newline) and checks
// what cargo needs of it: a valid name and SemVer version, a SHA-256
// checksum, dependencies with a name, a requirement and a known kind, a
// readable pubtime, and a schema version cargo reads (at most
// MaxIndexVersion). Members cargo defaults are defaulted as cargo does
// (default_features true, yanked false). Unknown members are ignored.
func ParseIndexLine(line []byte) (IndexEntry, error) {
	var l indexLine
	if err := json.Unmarshal(line, &l); err != nil {
		return IndexEntry{}, fmt.Errorf("not an index entry: %w", err)
	}
	if !nameSyntax(l.Name, false) {
		return IndexEntry{}, fmt.Errorf("invalid crate name %q", printable(l.Name))
	}
	if !ValidVersion(l.Vers) {
		return IndexEntry{}, fmt.Errorf("invalid version %q", printable(l.Vers))
	}
	if !validCksum(l.Cksum) {
		return IndexEntry{}, fmt.Errorf("invalid cksum %q", printable(l.Cksum))
	}
	e := IndexEntry{
		Name: l.Name, Vers: l.Vers, Cksum: l.Cksum,
		Features: l.Features, Features2: l.Features2,
		Links: deref(l.Links), RustVersion: deref(l.RustVersion),
	}
	if e.Features == nil {
		e.Features = map[string][]string{}
	}
	if l.Yanked != nil {
		e.Yanked = *l.Yanked
	}
	if l.V != nil {
		if *l.V < 1 || *l.V > MaxIndexVersion {
			return IndexEntry{}, fmt.Errorf("unsupported index schema version %d", *l.V)
		}
		e.V = *l.V
	}
	if l.Pubtime != nil {
		t, err := time.Parse(pubtimeLayout, *l.Pubtime)
		if err != nil || len(*l.Pubtime) != len(pubtimeLayout) {
			return IndexEntry{}, fmt.Errorf("invalid pubtime %q", printable(*l.Pubtime))
		}
		e.Pubtime = t
	}
	if len(l.Deps) > 0 {
		e.Deps = make([]IndexDep, len(l.Deps))
	}
	for i, d := range l.Deps {
		if !validDepName(d.Name) {
			return IndexEntry{}, fmt.Errorf("invalid dependency name %q", printable(d.Name))
		}
		if d.Req == "" {
			return IndexEntry{}, fmt.Errorf("dependency %s has no version requirement", d.Name)
		}
		kind := deref(d.Kind)
		if kind != "" && kind != "normal" && kind != "build" && kind != "dev" {
			return IndexEntry{}, fmt.Errorf("dependency %s has an unknown kind %q", d.Name, printable(kind))
		}
		if d.Package != nil && !validDepName(*d.Package) {
			return IndexEntry{}, fmt.Errorf("invalid dependency package %q", printable(*d.Package))
		}
		e.Deps[i] = IndexDep{
			Name: d.Name, Req: d.Req, Features: d.Features, Optional: d.Optional,
			DefaultFeatures: d.DefaultFeatures == nil || *d.DefaultFeatures,
			Target:          deref(d.Target), Kind: kind,
			Registry: deref(d.Registry), Package: deref(d.Package),
		}
		if e.Deps[i].Features == nil {
			e.Deps[i].Features = []string{}
		}
	}
	return e, nil
}

// validCksum reports whether s is 64 lower-case hex digits.
func validCksum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// IndexLimits bound the reading of an index file. Zero fields take the
// defaults.
type IndexLimits struct {
	// MaxLine is the longest line kept, in bytes (default 1 MiB: the
	// public index's longest lines are tens of KiB); longer lines are
	// skipped without being held.
	MaxLine int
	// MaxEntries is the most lines read (default 100,000); a file with
	// more is an error.
	MaxEntries int
}

// Default limits of ReadIndex.
const (
	DefaultMaxIndexLine    = 1 << 20
	DefaultMaxIndexEntries = 100_000
)

// IndexStats counts what ReadIndex read.
type IndexStats struct {
	Entries int   // valid entries handed to the callback
	Skipped int   // lines skipped: invalid, or too long
	Err     error // why the first skipped line was skipped
}

// ErrIndexTooLarge is ReadIndex's error for a file with more lines than
// IndexLimits.MaxEntries.
var ErrIndexTooLarge = errors.New("cargo index file has too many entries")

// ReadIndex reads an index file line by line (an upstream's, whose lines
// are not trusted), handing each valid entry to fn with the line's own
// bytes (valid until fn returns), so that a caller may pass the upstream
// line through unchanged. Invalid lines, as cargo does, are skipped and
// counted rather than failing the file; blank lines are ignored. Memory is
// bounded by the limits: one line at a time. An error of fn, of r, or
// ErrIndexTooLarge ends the read.
func ReadIndex(r io.Reader, lim IndexLimits, fn func(e *IndexEntry, line []byte) error) (IndexStats, error) {
	if lim.MaxLine <= 0 {
		lim.MaxLine = DefaultMaxIndexLine
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = DefaultMaxIndexEntries
	}
	var st IndexStats
	skip := func(err error) {
		if st.Err == nil {
			st.Err = err
		}
		st.Skipped++
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	tooLong := false
	lines := 0
	for {
		chunk, err := br.ReadSlice('\n')
		content := len(line) + len(chunk)
		if err == nil {
			content-- // the newline
		}
		switch {
		case tooLong: // the rest of a line already dropped
		case content > lim.MaxLine:
			tooLong, line = true, line[:0]
		default:
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return st, err
		}
		if text := bytes.TrimSpace(line); tooLong || len(text) > 0 {
			lines++
			if lines > lim.MaxEntries {
				return st, ErrIndexTooLarge
			}
			if tooLong {
				skip(fmt.Errorf("index line longer than %d bytes", lim.MaxLine))
			} else if e, perr := ParseIndexLine(text); perr != nil {
				skip(perr)
			} else {
				st.Entries++
				if ferr := fn(&e, text); ferr != nil {
					return st, ferr
				}
			}
		}
		line, tooLong = line[:0], false
		if err == io.EOF {
			return st, nil
		}
	}
}
