package npm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/npm/npmtest"
)

var timestamp = regexp.MustCompile(`"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"`)

// TestPackumentGolden renders the packument of a scoped package with two
// versions, one of them Unlisted, in both variants npm asks for: the full
// document (npm view, npm publish) and the abbreviated one (npm install).
// The publish times and the server's address are normalised; the JSON is
// indented so that a change reads as a diff (key order is kept).
func TestPackumentGolden(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		if status, err := confPublish(c, v); err != nil || status != http.StatusCreated {
			t.Fatalf("publishing %s: %d %v", v, status, err)
		}
	}
	ref := c.PackageRef(artifact.FormatNpm, confScope, confBase)
	if res, err := c.App.Service.UpdatePackageVersionsStatus(context.Background(), ref, artifact.StatusUpdate{Versions: []string{"1.2.0"},
		TargetStatus: artifact.StatusUnlisted}); err != nil || len(res.Failed) > 0 {
		t.Fatalf("unlisting 1.2.0: %v %+v", err, res)
	}
	for _, variant := range []struct{ name, accept string }{
		{"packument", "application/json"},
		{"packument-abbreviated", confAccept},
	} {
		t.Run(variant.name, func(t *testing.T) {
			doc := formattest.GetDocument(t, c, confEscaped, variant.accept)
			var p struct {
				Name     string            `json:"name"`
				DistTags map[string]string `json:"dist-tags"`
				Versions map[string]struct {
					Name, Version string
					Dist          struct{ Tarball, Integrity, Shasum string }
				} `json:"versions"`
				Time map[string]string `json:"time"`
			}
			if err := json.Unmarshal(doc, &p); err != nil {
				t.Fatalf("%v in %s", err, doc)
			}
			if p.Name != confName || p.DistTags["latest"] != "1.1.0" || len(p.Versions) != 2 {
				t.Errorf("name %q, dist-tags %v, %d versions; want %s, latest 1.1.0, 1.0.0 and 1.1.0", p.Name, p.DistTags, len(p.Versions), confName)
			}
			for _, v := range []string{"1.0.0", "1.1.0"} {
				pv, ok := p.Versions[v]
				tgz := npmtest.Tarball(confPackage(v))
				switch {
				case !ok:
					t.Errorf("version %s is not listed", v)
				case pv.Name != confName || pv.Version != v:
					t.Errorf("version %s names itself %s@%s", v, pv.Name, pv.Version)
				case pv.Dist.Tarball != c.Endpoint+confName+"/-/"+npmtest.TarballName(confName, v):
					t.Errorf("version %s: tarball %s, not at the endpoint the client used", v, pv.Dist.Tarball)
				case pv.Dist.Integrity != npmtest.Integrity(tgz) || pv.Dist.Shasum != npmtest.Shasum(tgz):
					t.Errorf("version %s: integrity %s, shasum %s do not match its tarball", v, pv.Dist.Integrity, pv.Dist.Shasum)
				}
				if variant.accept == "application/json" && p.Time[v] == "" {
					t.Errorf("version %s has no publish time", v)
				}
			}
			doc = timestamp.ReplaceAll(doc, []byte(`"2006-01-02T15:04:05.000Z"`))
			doc = []byte(strings.ReplaceAll(string(doc), c.URL, "http://coffer.test"))
			var indented bytes.Buffer
			if err := json.Indent(&indented, doc, "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			formattest.Golden(t, variant.name, indented.Bytes())
		})
	}
}
