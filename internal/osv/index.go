package osv

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Index answers "which records affect this version" for many records at
// once (osv.dev's npm and PyPI exports are a few hundred thousand). It
// keeps of each record only what matching, a rule's message and an audit
// answer need: the id, the class, the summary (at most MaxSummary bytes),
// the first CVE alias, one reference URL and, per package, the evaluable
// ranges with their events sorted once at Add and the explicit versions.
//
// An index lives as long as the server and is consulted on every request
// that reaches an advised package, so it holds no pointers the garbage
// collector would have to trace: every string is a span of one byte
// arena (versions and URL prefixes interned), every list a run of a flat
// slice, and the maps are keyed by hashes (see find). Hundreds of
// thousands of records then cost a collection nothing.
//
// An Index is built by one goroutine; once built, Lookup, Has and
// Advisories may be called from any number of goroutines. A refresh builds a new Index and swaps it.
type Index struct {
	eco  Ecosystems
	seed maphash.Seed
	// arena holds every string the index keeps, back to back. It only
	// grows; the strings handed out while it is built (see str) keep
	// whatever array they point into.
	arena []byte
	recs  []recInfo
	// ids, pkgs and strs map a hash to a position; a collision takes the
	// next key (see find).
	ids      map[uint64]uint32 // record id → recs
	pkgs     map[uint64]uint32 // ecosystem and normalised name → pkgList
	strs     map[uint64]span   // interned strings
	pkgList  []pkgInfo
	entries  []entry
	ranges   []crange
	events   []cevent
	versions []span
	// urlPre are the interned URL prefixes (up to the last "/"), urlIdx
	// their positions by arena offset; see recInfo.url.
	urlPre []span
	urlIdx map[uint32]uint32
}

// Match is a record that affects a looked-up version.
type Match struct {
	ID        string
	Malicious bool
	Severity  Severity
}

// span is a string of the arena.
type span struct{ off, n uint32 }

// recInfo is what the index keeps of a record.
type recInfo struct {
	// text is the id, the first CVE alias, the summary and the reference
	// URL's tail when its prefix and a field of the record do not give it
	// (see url), back to back.
	text   span
	url    uint32 // urlPre index << 2 | urlTail* (where the tail is)
	idLen  uint32
	cveLen uint16
	sumLen uint16
	sev    Severity
	mal    bool
}

// pkgInfo is one package that records name, with its entries as a list
// through entry.next, in the order they were added.
type pkgInfo struct {
	eco, name  span
	head, tail uint32
}

// entry is one affected[] item of one record: ranges[rangeOff:+rangeN]
// and versions[versOff:+versN].
type entry struct {
	rec, next        uint32
	rangeOff, rangeN uint32
	versOff, versN   uint32
}

// crange is one evaluable range: events[off:+n], sorted, limits last.
type crange struct {
	off, n uint32
	semver bool // RangeSemVer, else RangeEcosystem
}

type cevent struct {
	ver  span
	kind EventKind
}

// noEntry ends a package's list of entries.
const noEntry = ^uint32(0)

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

// NewIndex returns an empty index that orders versions with eco.
func NewIndex(eco Ecosystems) *Index {
	x := &Index{eco: eco, seed: maphash.MakeSeed(), ids: map[uint64]uint32{}, pkgs: map[uint64]uint32{},
		strs: map[uint64]span{}, urlIdx: map[uint32]uint32{}}
	x.urlPre = []span{urlPreNone: {}, urlPreOSV: x.intern("https://osv.dev/vulnerability/")}
	return x
}

// Len is the number of records added.
func (x *Index) Len() int { return len(x.recs) }

// str is s as a string. The arena's bytes are never written again once
// appended, so the string needs no copy.
func (x *Index) str(s span) string {
	if s.n == 0 {
		return ""
	}
	return unsafe.String(&x.arena[s.off], int(s.n))
}

// put appends s to the arena.
func (x *Index) put(s ...string) span {
	sp := span{off: uint32(len(x.arena))}
	for _, p := range s {
		x.arena = append(x.arena, p...)
	}
	sp.n = uint32(len(x.arena)) - sp.off
	return sp
}

// find looks key up in m, a map keyed by hash: from h on, keys are tried
// in turn until one is free or its position is what same accepts. It
// returns the position and true, or the free key and false.
func find[V any](m map[uint64]V, h uint64, same func(V) bool) (V, uint64, bool) {
	for {
		v, ok := m[h]
		if !ok {
			return v, h, false
		}
		if same(v) {
			return v, h, true
		}
		h++
	}
}

// intern returns the arena's span of s, so that the many records naming
// the same version ("1.0.0", "0.0.1-security") share one.
func (x *Index) intern(s string) span {
	sp, key, ok := find(x.strs, maphash.String(x.seed, s), func(sp span) bool { return x.str(sp) == s })
	if !ok {
		sp = x.put(s)
		x.strs[key] = sp
	}
	return sp
}

func (x *Index) pkgHash(eco, name string) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.WriteString(eco)
	h.WriteByte(0)
	h.WriteString(name)
	return h.Sum64()
}

// pkg returns the package's position in pkgList; false when no record
// names it. name is normalised.
func (x *Index) pkg(eco, name string) (uint32, uint64, bool) {
	return find(x.pkgs, x.pkgHash(eco, name), func(i uint32) bool {
		p := &x.pkgList[i]
		return x.str(p.name) == name && x.str(p.eco) == eco
	})
}

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
	_, idKey, dup := find(x.ids, maphash.String(x.seed, rec.ID), func(i uint32) bool { return x.recs[i].id(x) == rec.ID })
	if dup {
		return false
	}
	n := uint32(len(x.recs))
	for i := range rec.Affected {
		a := &rec.Affected[i]
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			continue
		}
		ecoSpan := x.intern(a.Package.Ecosystem)
		eco := x.str(ecoSpan)
		e := entry{rec: n, next: noEntry, rangeOff: uint32(len(x.ranges)), versOff: uint32(len(x.versions))}
		for _, v := range a.Versions {
			x.versions = append(x.versions, x.intern(v))
		}
		for _, r := range a.Ranges {
			cmp, _ := x.eco.rangeOrder(r.Type, eco, r.Events)
			if cmp == nil {
				continue
			}
			cr := crange{off: uint32(len(x.events)), semver: r.Type == RangeSemVer}
			for _, ev := range sortEvents(cmp, r.Events) {
				x.events = append(x.events, cevent{ver: x.intern(ev.Version), kind: ev.Kind})
			}
			cr.n = uint32(len(x.events)) - cr.off
			x.ranges = append(x.ranges, cr)
		}
		e.rangeN = uint32(len(x.ranges)) - e.rangeOff
		e.versN = uint32(len(x.versions)) - e.versOff
		if e.rangeN == 0 && e.versN == 0 {
			continue
		}
		at := uint32(len(x.entries))
		x.entries = append(x.entries, e)
		name := x.eco.normName(eco, a.Package.Name)
		if p, key, ok := x.pkg(eco, name); ok {
			x.entries[x.pkgList[p].tail].next = at
			x.pkgList[p].tail = at
		} else {
			x.pkgs[key] = uint32(len(x.pkgList))
			x.pkgList = append(x.pkgList, pkgInfo{eco: ecoSpan, name: x.put(name), head: at, tail: at})
		}
	}
	x.recs = append(x.recs, x.info(rec))
	x.ids[idKey] = n
	return true
}

// info builds a record's recInfo: its text in the arena (nothing of the
// record is kept), its URL as an interned prefix and where its tail is.
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
	return recInfo{text: x.put(rec.ID, cve, sum, tail), url: pre<<2 | kind, idLen: uint32(len(rec.ID)), cveLen: uint16(len(cve)),
		sumLen: uint16(len(sum)), sev: rec.Class(), mal: rec.IsMalicious()}
}

// urlPrefix interns a URL prefix; false once maxURLPrefixes are kept.
func (x *Index) urlPrefix(p string) (uint32, bool) {
	sp := x.intern(p)
	if i, ok := x.urlIdx[sp.off]; ok {
		return i, true
	}
	if len(x.urlPre) >= maxURLPrefixes {
		return 0, false
	}
	i := uint32(len(x.urlPre))
	x.urlPre = append(x.urlPre, sp)
	x.urlIdx[sp.off] = i
	return i, true
}

func (r *recInfo) id(x *Index) string { return x.str(span{r.text.off, r.idLen}) }
func (r *recInfo) cve(x *Index) string {
	return x.str(span{r.text.off + r.idLen, uint32(r.cveLen)})
}
func (r *recInfo) summary(x *Index) string {
	return x.str(span{r.text.off + r.idLen + uint32(r.cveLen), uint32(r.sumLen)})
}

// url is the record's reference URL.
func (x *Index) url(r *recInfo) string {
	pre := x.str(x.urlPre[r.url>>2])
	switch r.url & 3 {
	case urlTailID:
		return pre + r.id(x)
	case urlTailCVE:
		return pre + r.cve(x)
	}
	at := r.idLen + uint32(r.cveLen) + uint32(r.sumLen)
	return pre + x.str(span{r.text.off + at, r.text.n - at})
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

// Has reports whether any record names the package: the cheap test before
// a Lookup.
func (x *Index) Has(ecosystem, name string) bool {
	_, _, ok := x.pkg(ecosystem, x.eco.normName(ecosystem, name))
	return ok
}

// first is the package's first entry, noEntry when no record names it.
func (x *Index) first(ecosystem, name string) uint32 {
	if p, _, ok := x.pkg(ecosystem, x.eco.normName(ecosystem, name)); ok {
		return x.pkgList[p].head
	}
	return noEntry
}

// Lookup returns the records that affect version of the package, each
// once, in the order they were added.
func (x *Index) Lookup(ecosystem, name, version string) []Match {
	var out []Match
	last := noEntry
	for i := x.first(ecosystem, name); i != noEntry; i = x.entries[i].next {
		e := &x.entries[i]
		if e.rec == last || !x.entryAffects(ecosystem, e, version) {
			continue
		}
		// Entries of one record are adjacent; a record named twice for
		// the same package is reported once.
		last = e.rec
		r := &x.recs[e.rec]
		// A copy: a match may outlive a swapped-out index's arena.
		out = append(out, Match{ID: strings.Clone(r.id(x)), Malicious: r.mal, Severity: r.sev})
	}
	return out
}

func (x *Index) entryAffects(ecosystem string, e *entry, version string) bool {
	eco := x.eco.get(ecosystem)
	for _, w := range x.versions[e.versOff : e.versOff+e.versN] {
		if eco.equalVersion(version, x.str(w)) {
			return true
		}
	}
	var buf [8]Event
	for i := range e.rangeN {
		r := &x.ranges[e.rangeOff+i]
		if x.eco.rangeAffects(r.typ(), ecosystem, x.rangeEvents(r, buf[:0]), version, true) {
			return true
		}
	}
	return false
}

func (r *crange) typ() string {
	if r.semver {
		return RangeSemVer
	}
	return RangeEcosystem
}

// rangeEvents appends the range's events to buf.
func (x *Index) rangeEvents(r *crange, buf []Event) []Event {
	for _, e := range x.events[r.off : r.off+r.n] {
		buf = append(buf, Event{Kind: e.kind, Version: x.str(e.ver)})
	}
	return buf
}
