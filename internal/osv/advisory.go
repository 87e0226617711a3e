package osv

import (
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Advisory is what an audit answer shows of one record that names a
// package: npm audit's advisories, pnpm's, ...
type Advisory struct {
	ID string
	// Summary is the record's summary, at most MaxSummary bytes; often
	// empty for malicious-packages entries.
	Summary string
	// CVE is the record's first CVE alias, "" when it has none.
	CVE string
	// URL is the record's first ADVISORY or WEB reference, else its page
	// on osv.dev.
	URL       string
	Severity  Severity
	Malicious bool
	// Ranges are the package's affected versions as an npm semver range:
	// alternatives joined by " || ", one per interval of a range
	// (">=1.0.0 <1.2.3", ">=0.0.0" for introduced "0", "<=x" for
	// last_affected) and one "=v" per explicit version. Versions npm's
	// semver cannot read are left out with their interval, and a range's
	// limit it cannot read is dropped: Affects, not Ranges, is the
	// record's answer. Meaningful for ecosystems ordered by SemVer (npm);
	// "" when nothing could be written.
	Ranges string

	x     *Index
	eco   string
	first uint32 // the record's first entry for the package
	n     int    // and the number of them, adjacent in the package's list
}

// each calls f with the advisory's entries.
func (a *Advisory) each(f func(*entry) bool) bool {
	for i, k := a.first, 0; k < a.n; i, k = a.x.entries[i].next, k+1 {
		if f(&a.x.entries[i]) {
			return true
		}
	}
	return false
}

// Affects reports whether version of the advisory's package is affected,
// as Lookup decides it.
func (a *Advisory) Affects(version string) bool {
	return a.each(func(e *entry) bool { return a.x.entryAffects(a.eco, e, version) })
}

// Advisories returns an Advisory for each record that names the package,
// in the order they were added; nil when none does. Ranges are rendered on
// each call (the index keeps only the events). The strings are copies, so
// an answer may outlive the index.
func (x *Index) Advisories(ecosystem, name string) []Advisory {
	var out []Advisory
	for i := x.first(ecosystem, name); i != noEntry; {
		// A record's entries for the package are adjacent (Add appends
		// them together).
		rec := x.entries[i].rec
		a := Advisory{x: x, eco: ecosystem, first: i}
		for ; i != noEntry && x.entries[i].rec == rec; i = x.entries[i].next {
			a.n++
		}
		r := &x.recs[rec]
		a.ID, a.Summary, a.CVE = strings.Clone(r.id(x)), strings.Clone(r.summary(x)), strings.Clone(r.cve(x))
		a.URL, a.Severity, a.Malicious = x.url(r), r.sev, r.mal
		a.Ranges = a.npmRanges()
		out = append(out, a)
	}
	return out
}

// npmRanges renders the advisory's ranges and versions as an npm semver
// range.
func (a *Advisory) npmRanges() string {
	x := a.x
	var alts []string
	add := func(s string) {
		for _, a := range alts {
			if a == s {
				return
			}
		}
		alts = append(alts, s)
	}
	var buf [8]Event
	a.each(func(e *entry) bool {
		for i := range e.rangeN {
			r := &x.ranges[e.rangeOff+i]
			events := x.rangeEvents(r, buf[:0])
			cmp, _ := x.eco.rangeOrder(r.typ(), a.eco, events)
			if cmp == nil {
				cmp = CompareSemVer
			}
			for _, s := range rangeIntervals(cmp, events) {
				add(strings.Clone(s))
			}
		}
		for _, v := range x.versions[e.versOff : e.versOff+e.versN] {
			if s, ok := npmVersion(x.str(v)); ok {
				add("=" + s)
			}
		}
		return false
	})
	return strings.Join(alts, " || ")
}

// rangeIntervals renders one range whose events are sorted (limits last)
// as npm comparator sets, one per interval of its timeline.
func rangeIntervals(cmp Comparator, events []Event) []string {
	// The range ends below its greatest limit; "*" is no limit.
	var upper string
	limit, unlimited := "", false
	for _, e := range events {
		if e.Kind != Limit {
			continue
		}
		if e.Version == "*" {
			unlimited = true
		} else if limit == "" || cmp(e.Version, limit) > 0 {
			limit = e.Version
		}
	}
	if limit != "" && !unlimited {
		if s, ok := npmVersion(limit); ok {
			upper = " <" + s
		}
	}
	// The timeline is read version by version: at each version its
	// events give the state at the version itself and just above it
	// (last_affected still holds at its version, fixed no longer), and
	// an interval opens or closes where the state changes.
	var out []string
	open, from := false, "" // from: ">=v" or ">v", rendered
	bound := func(op, v string) (string, bool) {
		if v == "0" {
			return op + "0.0.0", true
		}
		s, ok := npmVersion(v)
		return op + s, ok
	}
	change := func(on bool, op, v string) {
		b, ok := bound(op, v)
		switch {
		case on:
			open, from = true, b
			if !ok {
				from = "" // npm could not read the interval: left out
			}
		case from != "" && ok:
			open = false
			out = append(out, from+" "+b+upper)
		default:
			open = false
		}
	}
	for i := 0; i < len(events) && events[i].Kind != Limit; {
		v := events[i].Version
		at, above := open, open
		for ; i < len(events) && events[i].Kind != Limit && sameVersion(cmp, events[i].Version, v); i++ {
			switch events[i].Kind {
			case Introduced:
				at, above = true, true
			case Fixed:
				at, above = false, false
			case LastAffected:
				above = false
			}
		}
		if at != open {
			if at {
				change(true, ">=", v)
			} else {
				change(false, "<", v)
			}
		}
		if above != open {
			if above {
				change(true, ">", v)
			} else {
				change(false, "<=", v)
			}
		}
	}
	if open && from != "" {
		out = append(out, from+upper)
	}
	return out
}

// sameVersion reports whether two event versions are one point of the
// timeline ("0" of introduced is before every version).
func sameVersion(cmp Comparator, a, b string) bool {
	if a == "0" || b == "0" {
		return a == b
	}
	return cmp(a, b) == 0
}

// npmVersion writes v as npm's semver reads it in a range: "1.2.3",
// "1.2.3-beta.1"; a leading "v" and missing parts are completed
// ("v1.2" is "1.2.0", not the partial range npm would read). False for
// what is no SemVer version.
func npmVersion(v string) (string, bool) {
	if p, ok := plainSemVer(v); ok {
		if v[0] != 'v' && strings.Count(v, ".") == 2 {
			return v, true
		}
		return strconv.FormatUint(p[0], 10) + "." + strconv.FormatUint(p[1], 10) + "." + strconv.FormatUint(p[2], 10), true
	}
	sv, err := semver.NewVersion(v)
	if err != nil {
		return "", false
	}
	return sv.String(), true
}
