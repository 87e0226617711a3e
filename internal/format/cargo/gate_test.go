package cargo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/cargo"
	"coffer/internal/format/formattest"
)

// pubtimes are when the fixture registry of TestGate published the
// versions it offers (the index entries' pubtime, as crates.io writes it).
var pubtimes = map[string]time.Time{
	"3.1.1": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	"3.2.1": time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
	"3.3.1": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
}

// TestGate: a version only the registry lists that the supply-chain gate
// refuses is not in the index file, and its download is a 403 in cargo's
// error shape, fetching nothing; the others are listed and served, and
// the gate is told the entries' pubtime. A stored version the gate comes
// to refuse leaves the index file too, and is no longer served.
func TestGate(t *testing.T) {
	var crateGets atomic.Int64
	a := confAdapter
	a.Registry = func(u *formattest.Upstream) http.Handler {
		h := confRegistry(u)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/"+cargo.IndexPath(confCrate):
				for _, v := range u.Versions {
					e := cargo.IndexEntry{Name: confCrate, Vers: v, Cksum: sum(crateFile(confCrate, v)), Features: map[string][]string{}, Pubtime: pubtimes[v]}
					w.Write(append(e.AppendJSON(nil), '\n'))
				}
			case strings.HasPrefix(r.URL.Path, "/crates/"):
				crateGets.Add(1)
				h.ServeHTTP(w, r)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
	c := formattest.Serve(formattest.Testing(t), a)
	ctx := context.Background()
	repo := c.PackageRef(artifact.FormatCargo, "", confCrate).RepoRef
	if _, err := c.App.Service.AssociateExternalConnection(ctx, repo, a.Connection); err != nil {
		t.Fatal(err)
	}
	const reason = "known malicious (test)"
	gate := formattest.NewGate(map[string]string{formattest.GateKey("", confCrate, "3.2.1"): reason})
	c.App.Service.SetGate(gate)

	path := cargo.IndexPath(confCrate)
	index := func() []byte {
		t.Helper()
		code, _, body := call(t, c, http.MethodGet, path, nil)
		if code != http.StatusOK {
			t.Fatalf("index: %d %s", code, body)
		}
		return []byte(body)
	}
	body := index()
	for v, want := range map[string]bool{"3.1.1": true, "3.2.1": false, "3.3.1": true} {
		if confListed(body, v) != want {
			t.Errorf("index lists %s: %v, want %v\n%s", v, !want, want, body)
		}
	}
	if sub, ok := gate.Decided(formattest.GateKey("", confCrate, "3.3.1")); !ok || !sub.PublishedAt.Equal(pubtimes["3.3.1"]) || sub.ViaConnection != a.Connection {
		t.Errorf("the gate decided 3.3.1 with %+v (%v), want its pubtime %v via %s", sub, ok, pubtimes["3.3.1"], a.Connection)
	}

	code, h, msg := call(t, c, http.MethodGet, a.AssetPath("3.2.1"), nil)
	var e struct {
		Errors []struct{ Detail string } `json:"errors"`
	}
	if code != http.StatusForbidden || !strings.HasPrefix(h.Get("Content-Type"), "application/json") ||
		json.Unmarshal([]byte(msg), &e) != nil || len(e.Errors) != 1 || !strings.Contains(e.Errors[0].Detail, reason) {
		t.Errorf("download of the refused 3.2.1: %d %s %s", code, h.Get("Content-Type"), msg)
	}
	if n := crateGets.Load(); n != 0 {
		t.Errorf("the refused download fetched %d crates", n)
	}
	if code, _, body := call(t, c, http.MethodGet, a.AssetPath("3.1.1"), nil); code != http.StatusOK || body != string(crateFile(confCrate, "3.1.1")) {
		t.Fatalf("download of 3.1.1: %d", code)
	}
	ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatCargo, "", confCrate), Version: "3.1.1"}
	if v, err := c.App.Service.DescribePackageVersion(ctx, ref); err != nil || !v.UpstreamPublishedTime.Equal(pubtimes["3.1.1"]) {
		t.Errorf("the fetched 3.1.1 keeps the upstream's publish time %v: %+v %v", pubtimes["3.1.1"], v, err)
	}

	// 3.1.1 is stored now; refused, it is listed by neither.
	gate.Refuse(formattest.GateKey("", confCrate, "3.1.1"), reason)
	body = index()
	if confListed(body, "3.1.1") || confListed(body, "3.2.1") || !confListed(body, "3.3.1") {
		t.Errorf("index with the stored 3.1.1 refused:\n%s", body)
	}
	if code, _, msg := call(t, c, http.MethodGet, a.AssetPath("3.1.1"), nil); code != http.StatusForbidden || !strings.Contains(msg, reason) {
		t.Errorf("download of the refused stored 3.1.1: %d %s", code, msg)
	}
	// Allowed again, 3.2.1 comes back.
	gate.Refuse(formattest.GateKey("", confCrate, "3.2.1"), "")
	if body := index(); !confListed(body, "3.2.1") {
		t.Errorf("index with 3.2.1 allowed again:\n%s", body)
	}
	if code, _, _ := call(t, c, http.MethodGet, a.AssetPath("3.2.1"), nil); code != http.StatusOK {
		t.Errorf("download of 3.2.1 allowed again: %d", code)
	}
}
