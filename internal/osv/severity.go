package osv

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Severity is a coarse class, GitHub's advisory scale: what a rule can
// compare against ("block HIGH and above").
type Severity uint8

// Severity classes, in increasing order; Unknown when a record gives no
// score coffer can read.
const (
	Unknown Severity = iota
	Low
	Moderate
	High
	Critical
)

var severityNames = [...]string{"UNKNOWN", "LOW", "MODERATE", "HIGH", "CRITICAL"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "UNKNOWN"
}

// ParseSeverity reads a class name as advisories write it ("MEDIUM" is
// CVSS's word for MODERATE); ok is false for anything else.
func ParseSeverity(s string) (Severity, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LOW":
		return Low, true
	case "MODERATE", "MEDIUM":
		return Moderate, true
	case "HIGH":
		return High, true
	case "CRITICAL":
		return Critical, true
	}
	return Unknown, false
}

// SeverityOfScore maps a CVSS base score to its class (CVSS v3.1
// qualitative rating scale; None is Unknown).
func SeverityOfScore(score float64) Severity {
	switch {
	case score >= 9.0:
		return Critical
	case score >= 7.0:
		return High
	case score >= 4.0:
		return Moderate
	case score > 0:
		return Low
	}
	return Unknown
}

// Class classifies the record: the database's own class when it gives
// one (GHSA's database_specific.severity, at the record or an affected
// entry), else the highest CVSS v3 base score among its vectors. CVSS v4
// vectors are not scored (their score needs the specification's lookup
// table of macro vectors).
func (r *Record) Class() Severity {
	if s, ok := dbSeverity(r.DatabaseSpecific); ok {
		return s
	}
	best := Unknown
	for _, a := range r.Affected {
		if s, ok := dbSeverity(a.DatabaseSpecific); ok && s > best {
			best = s
		}
	}
	if best != Unknown {
		return best
	}
	score := -1.0
	scan := func(list []SeverityScore) {
		for _, s := range list {
			if s.Type != "CVSS_V3" {
				continue
			}
			if v, err := CVSS3Score(s.Score); err == nil && v > score {
				score = v
			}
		}
	}
	scan(r.Severity)
	for _, a := range r.Affected {
		scan(a.Severity)
	}
	return SeverityOfScore(score)
}

func dbSeverity(raw json.RawMessage) (Severity, bool) {
	// Most objects carry no severity: skip decoding them.
	if !bytes.Contains(raw, []byte(`"severity"`)) {
		return Unknown, false
	}
	var d struct {
		Severity string `json:"severity"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return Unknown, false // not an object, or a severity that is no string
	}
	return ParseSeverity(d.Severity)
}
