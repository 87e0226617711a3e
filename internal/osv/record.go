package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Record is one OSV entry, with the fields coffer reads. Fields it does not
// read (credits, ...) are dropped; the *_specific objects are kept raw.
type Record struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published,omitempty"`
	Withdrawn        string          `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []SeverityScore `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Reference is a references[] item: a type (ADVISORY, WEB, FIX, ...) and a
// URL.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// SeverityScore is a severity[] item: a type (CVSS_V3, CVSS_V4, ...) and
// its score, a vector for the CVSS types.
type SeverityScore struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is an affected[] item.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []SeverityScore `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies a package within an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range types.
const (
	RangeSemVer    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// Range is a ranges[] item: a timeline of events in one version order.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// EventKind says what an event marks.
type EventKind uint8

// Event kinds, as the schema names them.
const (
	Introduced EventKind = iota + 1
	Fixed
	LastAffected
	Limit
)

var eventNames = [...]string{Introduced: "introduced", Fixed: "fixed", LastAffected: "last_affected", Limit: "limit"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && k > 0 {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one events[] item: exactly one of introduced, fixed,
// last_affected or limit.
type Event struct {
	Kind    EventKind
	Version string
}

// UnmarshalJSON enforces the schema's "only a single type in each event".
func (e *Event) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	*e = Event{}
	for k, v := range m {
		var kind EventKind
		for i, n := range eventNames {
			if n == k && i > 0 {
				kind = EventKind(i)
			}
		}
		if kind == 0 {
			continue // a database's own key: ignored, as unknown fields are
		}
		if e.Kind != 0 {
			return fmt.Errorf("event has both %s and %s", e.Kind, kind)
		}
		e.Kind, e.Version = kind, v
	}
	if e.Kind == 0 {
		return errors.New("event has none of introduced, fixed, last_affected, limit")
	}
	if e.Version == "" {
		return fmt.Errorf("event %s has an empty version", e.Kind)
	}
	return nil
}

// MarshalJSON writes the event back in the schema's form.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{e.Kind.String(): e.Version})
}

// MaxRecordSize bounds one record's JSON; the largest osv.dev records
// (kernel CVEs with thousands of commits) stay well below it.
const MaxRecordSize = 4 << 20

// Parse reads one OSV record and checks what matching relies on: an id,
// well-formed events, a package on every affected entry with versions to
// match. Unknown fields are ignored, as the schema asks of consumers.
func Parse(data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("record is %d bytes, more than %d", len(data), MaxRecordSize)
	}
	return parse(data)
}

// parse is Parse without the size bound, which the readers set.
func parse(data []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the record")
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Record) validate() error {
	if strings.TrimSpace(r.ID) == "" {
		return errors.New("record has no id")
	}
	for i, a := range r.Affected {
		// GIT-only entries may leave the package out (the schema allows
		// it for C/C++ projects); they cannot match a package version and
		// are kept only as data.
		if a.Package.Ecosystem == "" && a.Package.Name == "" {
			continue
		}
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			return fmt.Errorf("%s: affected[%d]: package needs ecosystem and name", r.ID, i)
		}
		for j, rg := range a.Ranges {
			if rg.Type == "" {
				return fmt.Errorf("%s: affected[%d].ranges[%d]: no type", r.ID, i, j)
			}
			intro := false
			for _, e := range rg.Events {
				intro = intro || e.Kind == Introduced
			}
			if !intro {
				return fmt.Errorf("%s: affected[%d].ranges[%d]: no introduced event", r.ID, i, j)
			}
		}
	}
	return nil
}

// IsWithdrawn reports whether the record has been withdrawn: it no longer
// claims anything and must not block a version.
func (r *Record) IsWithdrawn() bool { return r.Withdrawn != "" }

// IsMalicious reports whether the record reports malicious code rather
// than a vulnerability: the malicious-packages feed's MAL- ids, as the
// record's own id or as an alias (osv.dev re-publishes some under other
// ids).
func (r *Record) IsMalicious() bool {
	if isMAL(r.ID) {
		return true
	}
	for _, a := range r.Aliases {
		if isMAL(a) {
			return true
		}
	}
	return false
}

func isMAL(id string) bool { return len(id) > 4 && strings.EqualFold(id[:4], "MAL-") }
