package osv

import (
	"strings"
	"unicode/utf8"
)

// Index answers "which records affect this version" for many records at
// once (osv.dev's npm and PyPI exports are a few hundred thousand). It
// keeps of each record only what matching, a rule's message and an audit
// answer need: the id, the class, the summary (at most MaxSummary bytes),
// the first CVE alias, one reference URL and, per package, the evaluable
// ranges with their events sorted once at Add and the explicit versions.
// Versions and URL prefixes are interned, and a record's own text is one
// allocation (see recInfo).
//
// An Index is built by one goroutine; once built, Lookup, Has and
// Advisories may be called from any number of goroutines. A refresh builds a new Index and swaps it.
type Index struct {
	eco  Ecosystems
	recs []recInfo
	ids  map[string]uint32
	pkgs map[pkgKey][]entry
	strs map[string]string // interned ecosystem names and versions
	// urlPre are the interned URL prefixes (up to the last "/"), urlIdx
	// their positions; see recInfo.url.
	urlPre []string
	urlIdx map[string]uint32
}

// Match is a record that affects a looked-up version.
type Match struct {
	ID        string
	Malicious bool
	Severity  Severity
}

// recInfo is what the index keeps of a record: 32 bytes and one string.
type recInfo struct {
	// text is, in one allocation, the id, the first CVE alias, the
	// summary and the reference URL's tail when its prefix and a field
	// of the record do not give it (see url).
	text   string
	url    uint32 // urlPre index << 2 | urlTail* (where the tail is)
	idLen  uint32
	cveLen uint16
	sumLen uint16
	sev    Severity
	mal    bool
}

// Where a record's URL continues after its prefix.
const (
	urlTailText = iota // the end of text
	urlTailID          // the record's id (…/advisories/GHSA-…)
	urlTailCVE         // its CVE alias (…/vuln/detail/CVE-…)
)

// Fixed entries of Index.urlPre.
const (
	urlPreNone = iota // "": the whole URL is the tail
	urlPreOSV         // the osv.dev page, when the record has no reference
)

const (
	// MaxSummary bounds the summary an index keeps of a record, in bytes
	// (cut at a character boundary).
	MaxSummary = 256
	// maxKeptURL and maxCVE bound the reference URL and the CVE alias an
	// index keeps; longer ones are passed over.
	maxKeptURL = 2048
	maxCVE     = 64
	// maxURLPrefixes bounds the interned URL prefixes; past it, URLs are
	// kept whole.
	maxURLPrefixes = 1 << 16
)

func (r *recInfo) id() string  { return r.text[:r.idLen] }
func (r *recInfo) cve() string { return r.text[r.idLen : r.idLen+uint32(r.cveLen)] }
func (r *recInfo) summary() string {
	at := r.idLen + uint32(r.cveLen)
	return r.text[at : at+uint32(r.sumLen)]
}

type pkgKey struct{ eco, name string }

// entry is one affected[] item of one record.
type entry struct {
	rec      uint32
	ranges   []crange
	versions []string
}

type crange struct {
	events []Event // sorted, limits last
	semver bool    // RangeSemVer, else RangeEcosystem
}

func (r *crange) typ() string {
	if r.semver {
		return RangeSemVer
	}
	return RangeEcosystem
}

// NewIndex returns an empty index that orders versions with eco.
func NewIndex(eco Ecosystems) *Index {
	return &Index{eco: eco, ids: map[string]uint32{}, pkgs: map[pkgKey][]entry{}, strs: map[string]string{},
		urlPre: []string{urlPreNone: "", urlPreOSV: "https://osv.dev/vulnerability/"}, urlIdx: map[string]uint32{}}
}

// Len is the number of records added.
func (x *Index) Len() int { return len(x.recs) }

// Add indexes rec and reports whether it was kept. Withdrawn records are
// not, nor a second record with an id already added: the first is kept
// (the same MAL- entry comes both in osv.dev's export and in the
// malicious-packages feed).
// Ranges the index cannot evaluate (GIT, or ECOSYSTEM in an ecosystem
// without a comparator) are dropped; the explicit versions still match.
func (x *Index) Add(rec *Record) bool {
	if rec.IsWithdrawn() {
		return false
	}
	if _, dup := x.ids[rec.ID]; dup {
		return false
	}
	n := uint32(len(x.recs))
	for i := range rec.Affected {
		a := &rec.Affected[i]
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			continue
		}
		eco := x.intern(a.Package.Ecosystem)
		e := entry{rec: n}
		if len(a.Versions) > 0 {
			e.versions = make([]string, len(a.Versions))
			for i, v := range a.Versions {
				e.versions[i] = x.intern(v)
			}
		}
		for _, r := range a.Ranges {
			cmp, _ := x.eco.rangeOrder(r.Type, eco, r.Events)
			if cmp == nil {
				continue
			}
			events := sortEvents(cmp, r.Events)
			for i := range events {
				events[i].Version = x.intern(events[i].Version)
			}
			e.ranges = append(e.ranges, crange{events: events, semver: r.Type == RangeSemVer})
		}
		if len(e.ranges) == 0 && len(e.versions) == 0 {
			continue
		}
		k := pkgKey{eco, x.eco.normName(eco, a.Package.Name)}
		x.pkgs[k] = append(x.pkgs[k], e)
	}
	info := x.info(rec)
	x.recs = append(x.recs, info)
	x.ids[info.id()] = n
	return true
}

// info builds a record's recInfo: its text in one new string (nothing of
// the record is kept), its URL as an interned prefix and where its tail is.
func (x *Index) info(rec *Record) recInfo {
	var cve string
	for _, a := range rec.Aliases {
		if len(a) > 4 && len(a) <= maxCVE && strings.EqualFold(a[:4], "CVE-") {
			cve = a
			break
		}
	}
	sum := clip(strings.TrimSpace(rec.Summary), MaxSummary)
	pre, tail, kind := uint32(urlPreOSV), "", uint32(urlTailID)
	for _, ref := range rec.References {
		if (ref.Type != "ADVISORY" && ref.Type != "WEB") || ref.URL == "" || len(ref.URL) > maxKeptURL {
			continue
		}
		pre, tail, kind = urlPreNone, ref.URL, urlTailText
		if i := strings.LastIndexByte(ref.URL, '/'); i >= 0 && i+1 < len(ref.URL) {
			if p, ok := x.urlPrefix(ref.URL[:i+1]); ok {
				pre, tail = p, ref.URL[i+1:]
			}
		}
		switch {
		case pre == urlPreNone:
		case tail == rec.ID:
			tail, kind = "", urlTailID
		case cve != "" && tail == cve:
			tail, kind = "", urlTailCVE
		}
		break
	}
	var b strings.Builder
	b.Grow(len(rec.ID) + len(cve) + len(sum) + len(tail))
	b.WriteString(rec.ID)
	b.WriteString(cve)
	b.WriteString(sum)
	b.WriteString(tail)
	return recInfo{text: b.String(), url: pre<<2 | kind, idLen: uint32(len(rec.ID)), cveLen: uint16(len(cve)), sumLen: uint16(len(sum)),
		sev: rec.Class(), mal: rec.IsMalicious()}
}

// urlPrefix interns a URL prefix; false once maxURLPrefixes are kept.
func (x *Index) urlPrefix(p string) (uint32, bool) {
	if i, ok := x.urlIdx[p]; ok {
		return i, true
	}
	if len(x.urlPre) >= maxURLPrefixes {
		return 0, false
	}
	p = strings.Clone(p) // not the record's URL, which the index does not keep
	i := uint32(len(x.urlPre))
	x.urlPre = append(x.urlPre, p)
	x.urlIdx[p] = i
	return i, true
}

// url is the record's reference URL.
func (x *Index) url(r *recInfo) string {
	pre := x.urlPre[r.url>>2]
	switch r.url & 3 {
	case urlTailID:
		return pre + r.id()
	case urlTailCVE:
		return pre + r.cve()
	}
	return pre + r.text[r.idLen+uint32(r.cveLen)+uint32(r.sumLen):]
}

// clip cuts s to at most n bytes, at a UTF-8 character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// intern returns the index's copy of s, so that the many records naming
// the same version ("1.0.0", "0.0.1-security") share one string. The copy
// is a clone: the index keeps nothing of the record it was given.
func (x *Index) intern(s string) string {
	if v, ok := x.strs[s]; ok {
		return v
	}
	s = strings.Clone(s)
	x.strs[s] = s
	return s
}

// Has reports whether any record names the package: the cheap test before
// a Lookup.
func (x *Index) Has(ecosystem, name string) bool {
	_, ok := x.pkgs[pkgKey{ecosystem, x.eco.normName(ecosystem, name)}]
	return ok
}

// Lookup returns the records that affect version of the package, each
// once, in the order they were added.
func (x *Index) Lookup(ecosystem, name, version string) []Match {
	entries := x.pkgs[pkgKey{ecosystem, x.eco.normName(ecosystem, name)}]
	var out []Match
	last := ^uint32(0)
	for i := range entries {
		e := &entries[i]
		if e.rec == last || !x.entryAffects(ecosystem, e, version) {
			continue
		}
		// Entries of one record are adjacent; a record named twice for
		// the same package is reported once.
		last = e.rec
		r := &x.recs[e.rec]
		out = append(out, Match{ID: r.id(), Malicious: r.mal, Severity: r.sev})
	}
	return out
}

func (x *Index) entryAffects(ecosystem string, e *entry, version string) bool {
	if x.eco.inVersions(ecosystem, version, e.versions) {
		return true
	}
	for i := range e.ranges {
		r := &e.ranges[i]
		if x.eco.rangeAffects(r.typ(), ecosystem, r.events, version, true) {
			return true
		}
	}
	return false
}
