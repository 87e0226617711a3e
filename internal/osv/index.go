package osv

// Index answers "which records affect this version" for many records at
// once (osv.dev's npm and PyPI exports are a few hundred thousand). It
// keeps of each record only what matching and a rule's message need: the
// id, the class and, per package, the evaluable ranges with their events
// sorted once at Add and the explicit versions.
//
// An Index is built by one goroutine; once built, Lookup may be called
// from any number of goroutines. A refresh builds a new Index and swaps it.
type Index struct {
	eco  Ecosystems
	recs []recInfo
	ids  map[string]uint32
	pkgs map[pkgKey][]entry
	ecos map[string]string // interned ecosystem names
}

// Match is a record that affects a looked-up version.
type Match struct {
	ID        string
	Malicious bool
	Severity  Severity
}

type recInfo struct {
	id  string
	sev Severity
	mal bool
}

type pkgKey struct{ eco, name string }

// entry is one affected[] item of one record.
type entry struct {
	rec      uint32
	ranges   []crange
	versions []string
}

type crange struct {
	typ    string  // RangeSemVer or RangeEcosystem (interned constants)
	events []Event // sorted, limits last
}

// NewIndex returns an empty index that orders versions with eco.
func NewIndex(eco Ecosystems) *Index {
	return &Index{eco: eco, ids: map[string]uint32{}, pkgs: map[pkgKey][]entry{}, ecos: map[string]string{}}
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
		e := entry{rec: n, versions: a.Versions}
		for _, r := range a.Ranges {
			cmp, _ := x.eco.rangeOrder(r.Type, eco, r.Events)
			if cmp == nil {
				continue
			}
			typ := RangeEcosystem
			if r.Type == RangeSemVer {
				typ = RangeSemVer
			}
			e.ranges = append(e.ranges, crange{typ: typ, events: sortEvents(cmp, r.Events)})
		}
		if len(e.ranges) == 0 && len(e.versions) == 0 {
			continue
		}
		k := pkgKey{eco, x.eco.normName(eco, a.Package.Name)}
		x.pkgs[k] = append(x.pkgs[k], e)
	}
	x.recs = append(x.recs, recInfo{id: rec.ID, sev: rec.Class(), mal: rec.IsMalicious()})
	x.ids[rec.ID] = n
	return true
}

func (x *Index) intern(s string) string {
	if v, ok := x.ecos[s]; ok {
		return v
	}
	x.ecos[s] = s
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
		r := x.recs[e.rec]
		out = append(out, Match{ID: r.id, Malicious: r.mal, Severity: r.sev})
	}
	return out
}

func (x *Index) entryAffects(ecosystem string, e *entry, version string) bool {
	if x.eco.inVersions(ecosystem, version, e.versions) {
		return true
	}
	for _, r := range e.ranges {
		if x.eco.rangeAffects(r.typ, ecosystem, r.events, version, true) {
			return true
		}
	}
	return false
}
