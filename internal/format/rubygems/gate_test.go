package rubygems_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/rubygems"
	"coffer/internal/format/rubygems/rubygemstest"
)

// created are when the fixture registry of TestGate published the
// versions it offers (the created_at of rubygems.org's newer info lines).
var created = map[string]time.Time{
	"3.1.1": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	"3.2.1": time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
	"3.3.1": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
}

// TestGate: a version only the registry lists that the supply-chain gate
// refuses is in no index (info file, dependencies API), and its .gem and
// quick spec are a 403 with the reason, fetching nothing; the others are
// listed and served, and the gate is told the lines' created_at. A gem
// whose every version is refused has an empty info file.
func TestGate(t *testing.T) {
	var gemGets atomic.Int64
	a := confAdapter
	a.Registry = func(u *formattest.Upstream) http.Handler {
		h := confRegistry(u)
		var info strings.Builder
		info.WriteString("---\n")
		for _, v := range u.Versions {
			fmt.Fprintf(&info, "%s |checksum:%s,created_at:%s\n", v, rubygemstest.SHA256(confBuild(v).Bytes()), created[v].Format(time.RFC3339))
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/info/"+confGem:
				io.WriteString(w, info.String())
			case strings.HasPrefix(r.URL.Path, "/gems/"):
				gemGets.Add(1)
				h.ServeHTTP(w, r)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
	c := formattest.Serve(formattest.Testing(t), a)
	ctx := context.Background()
	repo := c.PackageRef(artifact.FormatRuby, "", confGem).RepoRef
	if _, err := c.App.Service.AssociateExternalConnection(ctx, repo, a.Connection); err != nil {
		t.Fatal(err)
	}
	const reason = "known malicious (test)"
	key := func(v string) string { return formattest.GateKey("", confGem, v) }
	gate := formattest.NewGate(map[string]string{key("3.2.1"): reason})
	c.App.Service.SetGate(gate)

	info := mustGet(t, c, "info/"+confGem)
	for v, want := range map[string]bool{"3.1.1": true, "3.2.1": false, "3.3.1": true} {
		if confListed(info, v) != want {
			t.Errorf("info lists %s: %v, want %v\n%s", v, !want, want, info)
		}
	}
	if sub, ok := gate.Decided(key("3.3.1")); !ok || !sub.PublishedAt.Equal(created["3.3.1"]) || sub.ViaConnection != a.Connection {
		t.Errorf("the gate decided 3.3.1 with %+v (%v), want its created_at %v via %s", sub, ok, created["3.3.1"], a.Connection)
	}
	deps, err := rubygems.UnmarshalDependencies(mustGet(t, c, "api/v1/dependencies?gems="+confGem))
	if err != nil || len(deps) != 2 {
		t.Errorf("dependencies API: %+v %v", deps, err)
	}
	for _, d := range deps {
		if d.Number == "3.2.1" {
			t.Errorf("the dependencies API lists the refused 3.2.1")
		}
	}

	for _, path := range []string{"gems/" + confBuild("3.2.1").FileName(), "quick/Marshal.4.8/" + confGem + "-3.2.1.gemspec.rz"} {
		resp, body := do(t, c, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), reason) {
			t.Errorf("%s of the refused 3.2.1: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if n := gemGets.Load(); n != 0 {
		t.Errorf("the refused reads fetched %d gems", n)
	}
	if got := mustGet(t, c, "gems/"+confBuild("3.1.1").FileName()); string(got) != string(confBuild("3.1.1").Bytes()) {
		t.Fatal("gems/ of 3.1.1: other bytes")
	}
	ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatRuby, "", confGem), Version: "3.1.1"}
	if v, err := c.App.Service.DescribePackageVersion(ctx, ref); err != nil || !v.UpstreamPublishedTime.Equal(created["3.1.1"]) {
		t.Errorf("the fetched 3.1.1 keeps the registry's created_at %v: %+v %v", created["3.1.1"], v, err)
	}
	// The gem is stored now: the gem set's versions line leaves 3.2.1 out.
	if versions := string(mustGet(t, c, "versions")); !strings.Contains(versions, "\n"+confGem+" 3.1.1,3.3.1 ") {
		t.Errorf("versions:\n%s", versions)
	}

	// Every version refused, the stored one too: an empty info file, and
	// the gem leaves the gem set.
	gate.Refuse(key("3.1.1"), reason)
	gate.Refuse(key("3.3.1"), reason)
	if got := string(mustGet(t, c, "info/"+confGem)); got != "---\n" {
		t.Errorf("info with every version refused: %q", got)
	}
	if resp, body := do(t, c, http.MethodGet, "gems/"+confBuild("3.1.1").FileName(), nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("gems/ of the refused stored 3.1.1: %d %s", resp.StatusCode, body)
	}
	if versions := string(mustGet(t, c, "versions")); strings.Contains(versions, confGem) {
		t.Errorf("versions with every version refused:\n%s", versions)
	}
}
