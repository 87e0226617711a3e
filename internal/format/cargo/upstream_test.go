package cargo_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/cargo"
	"coffer/internal/format/formattest"
)

// yankedRegistry serves conf_fixture 1.0.0 (yanked) and 2.0.0 with dl
// without markers, as static.crates.io's.
func yankedRegistry(u *formattest.Upstream) http.Handler {
	crates := map[string][]byte{"1.0.0": crateFile(confCrate, "1.0.0"), "2.0.0": crateFile(confCrate, "2.0.0")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/config.json":
			fmt.Fprintf(w, `{"dl":"http://%s/dl","api":"http://%s"}`, r.Host, r.Host)
		case r.URL.Path == "/"+cargo.IndexPath(confCrate):
			for _, v := range []string{"1.0.0", "2.0.0"} {
				e := cargo.IndexEntry{Name: confCrate, Vers: v, Cksum: sum(crates[v]), Features: map[string][]string{}, Yanked: v == "1.0.0"}
				w.Write(append(e.AppendJSON(nil), '\n'))
			}
		case strings.HasPrefix(r.URL.Path, "/dl/"+confCrate+"/"):
			v := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/dl/"+confCrate+"/"), "/download")
			if b, ok := crates[v]; ok {
				w.Write(b)
				return
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// TestIndexMergesUpstream: the index file passes the upstream's lines
// through; a version fetched from it is the repository's own afterwards,
// still yanked when the upstream yanked it; a version the repository
// withholds (Archived here) is listed by neither; the fetched crate's
// package takes no publish.
func TestIndexMergesUpstream(t *testing.T) {
	a := confAdapter
	a.Registry = yankedRegistry
	c := formattest.Serve(formattest.Testing(t), a)
	ctx := context.Background()
	repo := artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: c.DomainOwner, Name: c.Domain}, Repository: c.Repository}
	if _, err := c.App.Service.AssociateExternalConnection(ctx, repo, a.Connection); err != nil {
		t.Fatal(err)
	}
	path := cargo.IndexPath(confCrate)
	index := func() string {
		t.Helper()
		code, _, body := call(t, c, http.MethodGet, path, nil)
		if code != http.StatusOK {
			t.Fatalf("index: %d %s", code, body)
		}
		return body
	}
	lines := func(body string) (out []string) {
		for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
			e, err := cargo.ParseIndexLine([]byte(l))
			if err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			out = append(out, fmt.Sprintf("%s:%v", e.Vers, e.Yanked))
		}
		return out
	}
	if got := strings.Join(lines(index()), ","); got != "1.0.0:true,2.0.0:false" {
		t.Errorf("upstream only: %s", got)
	}
	for _, v := range []string{"2.0.0", "1.0.0"} {
		if code, _, body := call(t, c, http.MethodGet, a.AssetPath(v), nil); code != http.StatusOK || body != string(crateFile(confCrate, v)) {
			t.Fatalf("download %s: %d", v, code)
		}
	}
	ref := c.PackageRef(artifact.FormatCargo, "", confCrate)
	l, err := c.App.Service.ListPackageVersions(ctx, ref, artifact.VersionFilter{}, artifact.PageRequest{})
	if err != nil || len(l.Versions) != 2 {
		t.Fatalf("versions after the downloads: %+v %v", l, err)
	}
	for _, v := range l.Versions {
		if v.OriginType != "EXTERNAL" || v.DisplayName != confCrate || !strings.Contains(v.Metadata, `"cksum":"`) {
			t.Errorf("fetched version %s: %+v", v.Version, v)
		}
	}
	if got := strings.Join(lines(index()), ","); got != "1.0.0:true,2.0.0:false" {
		t.Errorf("after the downloads: %s", got)
	}
	if code, body := publishAs(t, c, confCrate, "3.0.0"); code != http.StatusConflict {
		t.Errorf("publish to a fetched crate's package: %d %s", code, body)
	}
	if _, err := c.App.Service.UpdatePackageVersionsStatus(ctx, ref, artifact.StatusUpdate{Versions: []string{"2.0.0"}, TargetStatus: artifact.StatusArchived}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(lines(index()), ","); got != "1.0.0:true" {
		t.Errorf("with 2.0.0 Archived: %s", got)
	}
}
