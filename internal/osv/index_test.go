package osv

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

func TestIndex(t *testing.T) {
	tab := Ecosystems{
		"npm":  {Compare: CompareSemVer, Valid: ValidSemVer},
		"PyPI": {Compare: CompareSemVer, Name: strings.ToLower},
	}
	x := NewIndex(tab)
	ghsa, _ := Parse([]byte(ghsaRecord))
	mal, _ := Parse([]byte(malRecord))
	gone, _ := Parse([]byte(withdrawnRecord))
	twice := &Record{ID: "GHSA-twice", Affected: []Affected{
		{Package: Package{"npm", "left-pad", ""}, Versions: []string{"1.0.0"}},
		{Package: Package{"npm", "left-pad", ""}, Ranges: []Range{{Type: RangeSemVer, Events: []Event{ev(Introduced, "1.0.0"), ev(Fixed, "1.0.1")}}}},
		{Package: Package{"PyPI", "Left-Pad", ""}, Versions: []string{"1.0.0"}},
	}}
	for _, r := range []*Record{ghsa, mal, twice} {
		if !x.Add(r) {
			t.Fatalf("%s not added", r.ID)
		}
	}
	if x.Add(gone) || x.Add(mal) {
		t.Fatal("withdrawn or duplicate record added")
	}
	if x.Len() != 3 { // before the Go record below
		t.Fatalf("len %d", x.Len())
	}
	got := x.Lookup("npm", "left-pad", "1.0.0")
	if fmt.Sprint(got) != "[{GHSA-xxxx-yyyy-zzzz false MODERATE} {GHSA-twice false UNKNOWN}]" {
		t.Fatalf("lookup %v", got)
	}
	if got := x.Lookup("npm", "left-pad", "1.3.0"); len(got) != 0 {
		t.Fatalf("fixed version matched: %v", got)
	}
	if got := x.Lookup("npm", "evil-pkg", "0.0.1-x"); len(got) != 1 || !got[0].Malicious || got[0].ID != "MAL-2024-1234" {
		t.Fatalf("malicious: %v", got)
	}
	if got := x.Lookup("PyPI", "LEFT-PAD", "1.0.0"); len(got) != 1 || got[0].ID != "GHSA-twice" {
		t.Fatalf("normalised name: %v", got)
	}
	// A malicious package in an ecosystem without an order is still found.
	x.Add(&Record{ID: "MAL-2024-9", Affected: []Affected{{Package: Package{"Go", "example.com/m", ""},
		Ranges: []Range{{Type: RangeEcosystem, Events: []Event{ev(Introduced, "0")}}}}}})
	if got := x.Lookup("Go", "example.com/m", "v1.2.3"); len(got) != 1 || !got[0].Malicious {
		t.Fatalf("unordered ecosystem: %v", got)
	}
	if !x.Has("npm", "evil-pkg") || x.Has("npm", "x") || x.Has("npm", "nothing") {
		t.Fatal("Has")
	}
}

// synthetic makes record i of a feed of GitHub advisories: ~20,000
// packages, one range each, a versions list on some, one in ten MAL-.
func synthetic(i int) *Record {
	r := &Record{
		ID:       fmt.Sprintf("GHSA-%04x-%04x-%04x", i>>16, i&0xffff, i*7&0xffff),
		Modified: "2024-01-01T00:00:00Z",
		Summary:  "Synthetic advisory number " + fmt.Sprint(i),
		Affected: []Affected{{
			Package: Package{Ecosystem: "npm", Name: fmt.Sprintf("package-%d", i%20000)},
			Ranges: []Range{{Type: RangeSemVer, Events: []Event{
				{Introduced, fmt.Sprintf("%d.0.0", i%7)},
				{Fixed, fmt.Sprintf("%d.%d.%d", i%7, i%13+1, i%5)},
			}}},
		}},
		DatabaseSpecific: []byte(`{"severity":"HIGH"}`),
	}
	if i%10 == 0 {
		r.ID = fmt.Sprintf("MAL-2024-%d", i)
		r.Affected[0].Ranges[0].Events = []Event{{Introduced, "0"}}
	}
	if i%4 == 0 {
		r.Affected[0].Versions = []string{fmt.Sprintf("%d.0.0", i%7), fmt.Sprintf("%d.0.1", i%7)}
	}
	// What an audit answer shows: a CVE alias on most, a reference.
	if i%10 != 0 {
		if i%3 != 0 {
			cve := fmt.Sprintf("CVE-20%02d-%d", 15+i%10, 10000+i)
			r.Aliases = []string{cve}
			r.References = append(r.References, Reference{"ADVISORY", "https://nvd.nist.gov/vuln/detail/" + cve})
		}
		r.References = append(r.References, Reference{"WEB", fmt.Sprintf("https://github.com/owner-%d/package-%d/security/advisories/%s", i%20000, i%20000, r.ID)},
			Reference{"ADVISORY", "https://github.com/advisories/" + r.ID}, Reference{"PACKAGE", "https://github.com/owner/package"})
	}
	return r
}

// syntheticExport makes record i of a feed shaped like osv.dev's npm
// export, which the malicious-packages entries dominate (nine in ten):
// each its own package, its summary naming it, introduced "0" or a few
// versions that recur across packages ("1.0.0", "99.99.99"), a socket.dev
// or similar reference; the rest are synthetic(i)'s advisories.
func syntheticExport(i int) *Record {
	if i%10 == 9 {
		return synthetic(i)
	}
	name := fmt.Sprintf("typo-squat-%d", i)
	r := &Record{
		ID:         fmt.Sprintf("MAL-20%02d-%d", 22+i%4, i),
		Modified:   "2024-01-01T00:00:00Z",
		Summary:    fmt.Sprintf("Malicious code in %s (npm)", name),
		Details:    "\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ossf-package-analysis (…)\nThe package executes a shell command on install.",
		References: []Reference{{"WEB", "https://socket.dev/npm/package/" + name}},
		Affected:   []Affected{{Package: Package{Ecosystem: "npm", Name: name}}},
	}
	switch i % 3 {
	case 0:
		r.Affected[0].Ranges = []Range{{Type: RangeSemVer, Events: []Event{{Introduced, "0"}}}}
	case 1:
		r.Affected[0].Versions = []string{"1.0.0", fmt.Sprintf("%d.0.0", 90+i%10), "99.99.99"}
	default:
		r.Affected[0].Versions = []string{fmt.Sprintf("0.0.%d", i%20), fmt.Sprintf("1.0.%d", i%50)}
	}
	return r
}

const benchRecords = 200_000

// BenchmarkIndexBuild builds an index of 200,000 records per iteration
// and reports the heap the index keeps per record: of GitHub advisories
// (advisories) and of a mix shaped like osv.dev's npm export (export).
func BenchmarkIndexBuild(b *testing.B) {
	b.Run("advisories", func(b *testing.B) { benchmarkIndexBuild(b, synthetic) })
	b.Run("export", func(b *testing.B) { benchmarkIndexBuild(b, syntheticExport) })
}

func benchmarkIndexBuild(b *testing.B, synthetic func(int) *Record) {
	recs := make([]*Record, benchRecords)
	for i := range recs {
		recs[i] = synthetic(i)
	}
	tab := Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}}
	var before, after runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	var x *Index
	for range b.N {
		x = NewIndex(tab)
		for _, r := range recs {
			x.Add(r)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRecords), "ns/record")
	runtime.KeepAlive(x)
	// Heap kept: what an import holds, records made and dropped one at a
	// time so that the index alone keeps their strings.
	recs, x = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	scanBefore := scannable()
	x = NewIndex(tab)
	for i := range benchRecords {
		x.Add(synthetic(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchRecords, "heapB/record")
	// What a collection must trace of it: the cost every request pays
	// while the index is loaded.
	b.ReportMetric(float64(scannable()-scanBefore)/benchRecords, "scanB/record")
	runtime.KeepAlive(x)
}

// BenchmarkLookup looks up one version of one package in an index of
// 200,000 records (10 records per package).
func BenchmarkLookup(b *testing.B) {
	x := NewIndex(Ecosystems{"npm": {Compare: CompareSemVer, Valid: ValidSemVer}})
	for i := range benchRecords {
		x.Add(synthetic(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for range b.N {
		n += len(x.Lookup("npm", "package-12345", "3.5.0"))
	}
	if n == 0 {
		b.Fatal("no match")
	}
}

// scannable is the heap a collection scans (runtime/metrics), after one.
func scannable() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
