package osv

import (
	"encoding/json"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// FuzzParse: Parse never panics; what it accepts survives a round trip
// through JSON and can be matched and indexed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{ghsaRecord, malRecord, withdrawnRecord, `{"id":"A"}`, `{`, `[]`,
		`{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"limit":"*"},{"last_affected":"1"}]}],"versions":["1"]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		r.Class()
		x := NewIndex(semverOnly)
		x.Add(r)
		for _, a := range r.Affected {
			advs := x.Advisories(a.Package.Ecosystem, a.Package.Name)
			for _, v := range []string{"0", "1.0.0", "v2", a.Package.Name} {
				got := semverOnly.Affects(r, a.Package.Ecosystem, a.Package.Name, v)
				if len(x.Lookup(a.Package.Ecosystem, a.Package.Name, v)) > 0 != got && !r.IsWithdrawn() {
					t.Fatalf("Index and Affects disagree on %s %s %s", a.Package.Ecosystem, a.Package.Name, v)
				}
				if len(advs) > 0 && advs[0].Affects(v) != got {
					t.Fatalf("Advisory.Affects and Affects disagree on %s %s %s", a.Package.Ecosystem, a.Package.Name, v)
				}
			}
		}
	})
}

// FuzzCompareSemVer: the allocation-free path orders as the parser does.
func FuzzCompareSemVer(f *testing.F) {
	for _, p := range [][2]string{{"1.2.3", "1.2.4"}, {"v1", "1.0.0"}, {"1.2", "1.2.0"}, {"01.2.3", "1.2.3"}, {"1.2.3.4", "1.2.3"}, {"0", "0.0.0"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if _, ok := plainSemVer(a); !ok {
			return
		}
		if _, ok := plainSemVer(b); !ok {
			return
		}
		va, ea := semver.NewVersion(a)
		vb, eb := semver.NewVersion(b)
		if ea != nil || eb != nil {
			t.Fatalf("plain but unparsed: %q %v, %q %v", a, ea, b, eb)
		}
		if got, want := CompareSemVer(a, b), va.Compare(vb); got != want {
			t.Fatalf("CompareSemVer(%q, %q) = %d, parser %d", a, b, got, want)
		}
	})
}
