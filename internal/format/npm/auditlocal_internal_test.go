package npm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"coffer/internal/fault"
)

func TestPatchedVersions(t *testing.T) {
	for _, c := range [][2]string{
		{">=1.0.0 <1.2.3", ">=1.2.3"},
		{">=0.0.0 <=1.4.0", ">1.4.0"},
		{"=2.0.0", ">2.0.0"},
		{">=1.0.0 <1.2.3 || >=2.0.0 <2.0.5 || =1.9.0", ">=2.0.5"},
		{"=2.0.5 || >=2.0.0 <2.0.5", ">2.0.5"},
		{">=1.0.0 <1.2.3 || >=3.0.0", noPatch},
		{">=0.0.0", noPatch},
		{"", noPatch},
	} {
		if got := patchedVersions(c[0]); got != c[1] {
			t.Errorf("patchedVersions(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestAdvisoryIDCollision(t *testing.T) {
	used := map[int]string{}
	a := advisoryID(used, "GHSA-a")
	if advisoryID(used, "GHSA-a") != a {
		t.Fatal("not stable")
	}
	used[a+1] = "other"
	used[a] = "taken"
	if got := advisoryID(used, "GHSA-a"); got != a+2 {
		t.Fatalf("collision: %d, want %d", got, a+2)
	}
}

func scan(t *testing.T, kind auditKind, body string) *auditRequest {
	t.Helper()
	req, err := scanAudit(strings.NewReader(body), "", kind, func(name string) bool { return strings.HasPrefix(name, "v") })
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (a *auditRequest) String() string {
	var b strings.Builder
	for _, n := range a.names {
		for _, v := range a.pkgs[n].versions {
			fmt.Fprintf(&b, "%s@%s%v/%d ", n, v.version, v.paths, v.n)
		}
	}
	return strings.TrimSpace(b.String())
}

func TestScanAudit(t *testing.T) {
	// Bulk: only wanted names, each version once, strings only.
	req := scan(t, auditBulk, `{"va":["1.0.0","1.0.0",2,"2.0.0"],"x":["1.0.0"],"vb":"1.0.0","vc":[],"v\u0064":["3.0.0"]}`)
	if got := req.String(); got != "va@1.0.0[]/0 va@2.0.0[]/0 vd@3.0.0[]/0" {
		t.Errorf("bulk: %s", got)
	}
	// Quick: the tree, its paths; "version" after "dependencies" counts.
	req = scan(t, auditQuick, `{"dependencies":{"va":{"version":"1.0.0"},"x":{"dependencies":{"va":{"dependencies":{"vb":{"version":"2.0.0"}},"version":"1.0.0"},"vb":{"version":7}}}},"requires":{"va":"1"}}`)
	if got := req.String(); got != "va@1.0.0[va x>va]/2 vb@2.0.0[x>va>vb]/1" || req.deps != 2 {
		t.Errorf("quick: %s, %d dependencies", got, req.deps)
	}
	// Too deep: skipped below maxAuditDepth, the rest read.
	var deep strings.Builder
	deep.WriteString(`{"dependencies":{"vtop":{"version":"1.0.0","dependencies":`)
	for range maxAuditDepth + 10 {
		deep.WriteString(`{"x":{"dependencies":`)
	}
	deep.WriteString(`{"vdeep":{"version":"1.0.0"}}`)
	for range maxAuditDepth + 10 {
		deep.WriteString(`}}`)
	}
	deep.WriteString(`}}}`)
	if req = scan(t, auditQuick, deep.String()); req.String() != "vtop@1.0.0[vtop]/1" || req.deps != 1 {
		t.Errorf("deep: %s, %d", req, req.deps)
	}
	// Many paths: counted, at most maxFindingPaths kept.
	var many strings.Builder
	many.WriteString(`{"dependencies":{`)
	for i := range maxFindingPaths + 5 {
		fmt.Fprintf(&many, `"p%d":{"version":"1.0.0","dependencies":{"va":{"version":"1.0.0"}}},`, i)
	}
	many.WriteString(`"z":{}}}`)
	req = scan(t, auditQuick, many.String())
	if v := req.pkgs["va"].versions[0]; len(v.paths) != maxFindingPaths || v.n != maxFindingPaths+5 || req.deps != maxFindingPaths+6 {
		t.Errorf("many: %d paths, %d found, %d dependencies", len(v.paths), v.n, req.deps)
	}
}

// FuzzScanAudit: any body is scanned to its end for either endpoint
// without panicking, refused only with a fault of the client's, and
// counted as readAudit counts it when it is JSON.
func FuzzScanAudit(f *testing.F) {
	f.Add([]byte(`{"dependencies":{"va":{"version":"1.0.0","dependencies":{"vb":{"version":"2"}}}}}`))
	f.Add([]byte(`{"va":["1.0.0"],"vb":[1,"x"]}`))
	f.Add([]byte(`{"dependencies":{"va":{"version":"1.0.0"},"va":{"version":"1.0.0"}},"dependencies":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, kind := range []auditKind{auditBulk, auditQuick} {
			req, err := scanAudit(bytes.NewReader(body), "", kind, func(string) bool { return true })
			if err != nil {
				if k := fault.KindOf(err); k != fault.KindValidation && k != fault.KindQuotaExceeded {
					t.Fatalf("%q: error of kind %v: %v", body, k, err)
				}
				continue
			}
			if kind == auditQuick && json.Valid(body) {
				if n, err := readAudit(bytes.NewReader(body), ""); err != nil || n != req.deps {
					t.Fatalf("%q: %d dependencies, readAudit counts %d (%v)", body, req.deps, n, err)
				}
			}
		}
	})
}
