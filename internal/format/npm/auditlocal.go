package npm

import (
	"hash/fnv"
	"strconv"
	"strings"

	"coffer/internal/osv"
)

// osvEcosystem is npm's ecosystem name in OSV records.
const osvEcosystem = "npm"

// noPatch is npm's range for "no version is patched".
const noPatch = "<0.0.0"

// auditHit is an advisory of the index that affects versions of a
// package a request names.
type auditHit struct {
	name     string
	adv      osv.Advisory
	id       int
	versions []*auditVersion // the request's affected versions
}

// localAudit answers an audit request from the advisory index, in the
// shape of the endpoint's npm answer: only the advisories that affect a
// version the request names (as osv.Index.Lookup decides it), each with
// its affected versions as an npm range, which npm evaluates again against
// the package's versions.
func localAudit(x *osv.Index, kind auditKind, req *auditRequest) any {
	var hits []auditHit
	used := map[int]string{}
	for _, name := range req.names {
		p := req.pkgs[name]
		for _, a := range x.Advisories(osvEcosystem, name) {
			var vs []*auditVersion
			for _, v := range p.versions {
				if a.Affects(v.version) {
					vs = append(vs, v)
				}
			}
			if len(vs) > 0 {
				hits = append(hits, auditHit{name: name, adv: a, id: advisoryID(used, a.ID), versions: vs})
			}
		}
	}
	if kind == auditBulk {
		return bulkReport(hits)
	}
	return quickReport(hits, req.deps)
}

// advisoryID is the number npm's answers need for an OSV id: a 31-bit
// FNV-1a of the id, stable across answers and coffers; in the rare
// collision within one answer, the next free number.
func advisoryID(used map[int]string, osvID string) int {
	h := fnv.New32a()
	h.Write([]byte(osvID))
	id := int(h.Sum32() & 0x7fffffff)
	for {
		if prev, ok := used[id]; !ok || prev == osvID {
			used[id] = osvID
			return id
		}
		id = (id + 1) & 0x7fffffff
	}
}

// npmSeverity is npm's word for an advisory's class. Malicious packages
// are critical whatever their record says. A record without a class coffer
// can read (no GitHub severity, no CVSS v3 vector) is "moderate": shown by
// a default `npm audit` and failing `--audit-level=moderate`, but not
// taken for high or critical by an `--audit-level=high` gate, as "info"
// would hide it and "high" (npm's own default for an advisory without a
// severity) would overstate it.
func npmSeverity(a *osv.Advisory) string {
	if a.Malicious {
		return "critical"
	}
	switch a.Severity {
	case osv.Critical:
		return "critical"
	case osv.High:
		return "high"
	case osv.Low:
		return "low"
	}
	return "moderate" // osv.Moderate, osv.Unknown
}

// title is the advisory's summary; for a malicious package without one,
// "Malware in <name>"; else its id.
func (h *auditHit) title() string {
	switch {
	case h.adv.Summary != "":
		return h.adv.Summary
	case h.adv.Malicious:
		return "Malware in " + h.name
	}
	return h.adv.ID
}

// vulnerable is the advisory's range; when none could be written, the
// request's affected versions (npm takes a missing range for every
// version).
func (h *auditHit) vulnerable() string {
	if h.adv.Ranges != "" {
		return h.adv.Ranges
	}
	alts := make([]string, len(h.versions))
	for i, v := range h.versions {
		alts[i] = "=" + v.version
	}
	return strings.Join(alts, " || ")
}

// bulkAdvisory is one advisory of npm's bulk answer, {"name": [...]}.
type bulkAdvisory struct {
	ID                 int      `json:"id"`
	URL                string   `json:"url"`
	Title              string   `json:"title"`
	Severity           string   `json:"severity"`
	VulnerableVersions string   `json:"vulnerable_versions"`
	CWE                []string `json:"cwe"`
	CVSS               bulkCVSS `json:"cvss"`
}

type bulkCVSS struct {
	Score        float64 `json:"score"`
	VectorString *string `json:"vectorString"`
}

func bulkReport(hits []auditHit) map[string][]bulkAdvisory {
	out := map[string][]bulkAdvisory{}
	for i := range hits {
		h := &hits[i]
		out[h.name] = append(out[h.name], bulkAdvisory{ID: h.id, URL: h.adv.URL, Title: h.title(), Severity: npmSeverity(&h.adv),
			VulnerableVersions: h.vulnerable(), CWE: []string{}})
	}
	return out
}

// quickAdvisory is one advisory of npm's v6 audit report, as the quick
// audit (npm 6's install, pnpm audit) reads it.
type quickAdvisory struct {
	Findings           []quickFinding `json:"findings"`
	ID                 int            `json:"id"`
	Created            *string        `json:"created"`
	Updated            *string        `json:"updated"`
	Deleted            *string        `json:"deleted"`
	Title              string         `json:"title"`
	FoundBy            *struct{}      `json:"found_by"`
	ReportedBy         *struct{}      `json:"reported_by"`
	ModuleName         string         `json:"module_name"`
	CVEs               []string       `json:"cves"`
	VulnerableVersions string         `json:"vulnerable_versions"`
	PatchedVersions    string         `json:"patched_versions"`
	Overview           string         `json:"overview"`
	Recommendation     string         `json:"recommendation"`
	References         string         `json:"references"`
	Access             string         `json:"access"`
	Severity           string         `json:"severity"`
	CWE                string         `json:"cwe"`
	GitHubAdvisoryID   string         `json:"github_advisory_id,omitempty"`
	Metadata           quickMetadata  `json:"metadata"`
	URL                string         `json:"url"`
}

type quickFinding struct {
	Version string   `json:"version"`
	Paths   []string `json:"paths"`
}

type quickMetadata struct {
	ModuleType         string `json:"module_type"`
	Exploitability     int    `json:"exploitability"`
	AffectedComponents string `json:"affected_components"`
}

// quickAction is a "review" action of the v6 report: what npm 6 lists
// under "Manual Review" (coffer knows no fix to install).
type quickAction struct {
	Action   string         `json:"action"`
	Module   string         `json:"module"`
	Resolves []quickResolve `json:"resolves"`
}

type quickResolve struct {
	ID       int    `json:"id"`
	Path     string `json:"path"`
	Dev      bool   `json:"dev"`
	Optional bool   `json:"optional"`
	Bundled  bool   `json:"bundled"`
}

func quickReport(hits []auditHit, deps int) map[string]any {
	advisories := map[string]quickAdvisory{}
	actions := []quickAction{}
	counts := map[string]int{"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0}
	for i := range hits {
		h := &hits[i]
		sev := npmSeverity(&h.adv)
		vulnerable := h.vulnerable()
		patched := patchedVersions(vulnerable)
		qa := quickAdvisory{ID: h.id, Title: h.title(), ModuleName: h.name, CVEs: []string{}, VulnerableVersions: vulnerable,
			PatchedVersions: patched, Overview: h.adv.Summary, References: h.adv.URL, Access: "public", Severity: sev, URL: h.adv.URL}
		if h.adv.CVE != "" {
			qa.CVEs = []string{h.adv.CVE}
		}
		if strings.HasPrefix(h.adv.ID, "GHSA-") {
			qa.GitHubAdvisoryID = h.adv.ID
		}
		switch {
		case h.adv.Malicious:
			qa.Recommendation = "Remove " + h.name + ": the affected versions are malicious (" + h.adv.ID + ")."
		case patched == noPatch:
			qa.Recommendation = "None known: review " + h.adv.ID + "."
		default:
			qa.Recommendation = "Upgrade to a version in " + patched + "."
		}
		action := quickAction{Action: "review", Module: h.name}
		for _, v := range h.versions {
			qa.Findings = append(qa.Findings, quickFinding{Version: v.version, Paths: v.paths})
			counts[sev] += v.n
			for _, p := range v.paths {
				action.Resolves = append(action.Resolves, quickResolve{ID: h.id, Path: p})
			}
		}
		advisories[strconv.Itoa(h.id)] = qa
		actions = append(actions, action)
	}
	return map[string]any{
		"actions":    actions,
		"advisories": advisories,
		"muted":      []any{},
		"metadata": map[string]any{
			"vulnerabilities":      counts,
			"dependencies":         deps,
			"devDependencies":      0,
			"optionalDependencies": 0,
			"totalDependencies":    deps,
		},
	}
}

// patchedVersions is the npm range of the versions above every
// alternative of vulnerable (">=1.2.3" after "<1.2.3", ">1.4.0" after
// "<=1.4.0" or "=1.4.0"), or noPatch when an alternative has no upper
// bound.
func patchedVersions(vulnerable string) string {
	best, op := "", ""
	for _, alt := range strings.Split(vulnerable, " || ") {
		f := strings.Fields(alt)
		if len(f) == 0 {
			return noPatch
		}
		last := f[len(f)-1]
		var v, o string
		switch {
		case strings.HasPrefix(last, "<="):
			v, o = last[2:], ">"
		case strings.HasPrefix(last, "<"):
			v, o = last[1:], ">="
		case strings.HasPrefix(last, "="):
			v, o = last[1:], ">"
		default:
			return noPatch
		}
		if c := osv.CompareSemVer(v, best); best == "" || c > 0 || (c == 0 && o == ">") {
			best, op = v, o
		}
	}
	return op + best
}
