package nuget_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/nuget/nugettest"
)

// published are when the fixture registry of TestGate published the
// versions it offers (its registration leaves' published, with
// nuget.org's fraction of a second).
var published = map[string]time.Time{
	"3.1.1": time.Date(2024, 1, 1, 10, 0, 0, 250e6, time.UTC),
	"3.2.1": time.Date(2024, 2, 1, 10, 0, 0, 250e6, time.UTC),
	"3.3.1": time.Date(2024, 3, 1, 10, 0, 0, 250e6, time.UTC),
}

// TestGate: a version only the registry offers that the supply-chain gate
// refuses is in neither the flat container's version list nor the
// registration, its manifest and .nupkg are a 403 with the reason (the
// .nupkg fetched from nowhere); the others are listed and served, and the
// gate is told the registration's published time (read for the flat
// container's list too, here through linked pages).
func TestGate(t *testing.T) {
	var nupkgGets atomic.Int64
	a := confAdapter
	a.Registry = func(u *formattest.Upstream) http.Handler {
		vs := map[string][]byte{}
		for _, v := range u.Versions {
			vs[v] = nugettest.Nupkg("Conf.Fixture", v, nil)
		}
		reg := &nugettest.Registry{Packages: map[string]map[string][]byte{confID: vs}, Paged: true,
			Published: func(id, v string) string { return published[v].Format("2006-01-02T15:04:05.000-07:00") }}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".nupkg") {
				nupkgGets.Add(1)
			}
			reg.ServeHTTP(w, r)
		})
	}
	f := &feed{t: t, c: formattest.Serve(formattest.Testing(t), a)}
	ctx := context.Background()
	repo := f.c.PackageRef(artifact.FormatNuget, "", confID).RepoRef
	if _, err := f.c.App.Service.AssociateExternalConnection(ctx, repo, a.Connection); err != nil {
		t.Fatal(err)
	}
	const reason = "known malicious (test)"
	key := func(v string) string { return formattest.GateKey("", confID, v) }
	gate := formattest.NewGate(map[string]string{key("3.2.1"): reason})
	f.c.App.Service.SetGate(gate)

	flat := func() []string {
		t.Helper()
		code, b := f.do(http.MethodGet, a.IndexPath, nil)
		var d struct {
			Versions []string `json:"versions"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &d) != nil {
			t.Fatalf("flat index: %d %s", code, b)
		}
		return d.Versions
	}
	if got := flat(); !slices.Equal(got, []string{"3.1.1", "3.3.1"}) {
		t.Errorf("flat index: %v", got)
	}
	if sub, ok := gate.Decided(key("3.3.1")); !ok || !sub.PublishedAt.Equal(published["3.3.1"]) || sub.ViaConnection != a.Connection {
		t.Errorf("the gate decided 3.3.1 with %+v (%v), want its published %v via %s", sub, ok, published["3.3.1"], a.Connection)
	}
	for _, base := range []string{"v3/registration/", "v3/registration-semver2/"} {
		code, b := f.do(http.MethodGet, base+confID+"/index.json", nil)
		if code != http.StatusOK || strings.Contains(string(b), `"3.2.1"`) || !strings.Contains(string(b), `"version":"3.3.1"`) {
			t.Errorf("%s index: %d %s", base, code, b)
		}
		if code, b := f.do(http.MethodGet, base+confID+"/3.2.1.json", nil); code != http.StatusNotFound {
			t.Errorf("%s leaf of the refused 3.2.1: %d %s", base, code, b)
		}
	}

	for _, path := range []string{a.AssetPath("3.2.1"), "v3-flatcontainer/" + confID + "/3.2.1/" + confID + ".nuspec"} {
		req, _ := http.NewRequest(http.MethodGet, f.c.Endpoint+path, nil)
		resp, err := f.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), reason) {
			t.Errorf("%s of the refused 3.2.1: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if n := nupkgGets.Load(); n != 0 {
		t.Errorf("the refused reads fetched %d packages", n)
	}
	if code, b := f.do(http.MethodGet, a.AssetPath("3.1.1"), nil); code != http.StatusOK || string(b) != string(nugettest.Nupkg("Conf.Fixture", "3.1.1", nil)) {
		t.Fatalf("download of 3.1.1: %d", code)
	}
	ref := artifact.VersionRef{PackageRef: f.c.PackageRef(artifact.FormatNuget, "", confID), Version: "3.1.1"}
	if v, err := f.c.App.Service.DescribePackageVersion(ctx, ref); err != nil || !v.UpstreamPublishedTime.Equal(published["3.1.1"]) {
		t.Errorf("the fetched 3.1.1 keeps the registry's published %v: %+v %v", published["3.1.1"], v, err)
	}
	// The stored 3.1.1 refused: listed by neither, no longer served.
	gate.Refuse(key("3.1.1"), reason)
	if got := flat(); !slices.Equal(got, []string{"3.3.1"}) {
		t.Errorf("flat index with the stored 3.1.1 refused: %v", got)
	}
	if code, b := f.do(http.MethodGet, a.AssetPath("3.1.1"), nil); code != http.StatusForbidden || !strings.Contains(string(b), reason) {
		t.Errorf("download of the refused stored 3.1.1: %d %s", code, b)
	}
}
