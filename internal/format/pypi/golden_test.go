package pypi_test

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
	"coffer/internal/format/pypi/pypitest"
)

var timestamp = regexp.MustCompile(`"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"`)

// TestSimplePageGolden renders the simple page of a project with three
// wheels, one of them in an Unlisted (yanked) release, as PEP 691 JSON and
// as PEP 503 HTML. Upload times are normalised; the JSON is indented so
// that a change reads as a diff (key order is kept).
func TestSimplePageGolden(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	versions := []string{"1.0.0", "1.1.0", "1.2.0"}
	for _, v := range versions {
		if status, err := confUpload(c, v); err != nil || status != http.StatusOK {
			t.Fatalf("uploading %s: %d %v", v, status, err)
		}
	}
	if res, err := c.App.Service.UpdatePackageVersionsStatus(context.Background(), c.PackageRef(artifact.FormatPypi, "", confProject),
		artifact.StatusUpdate{Versions: []string{"1.1.0"}, TargetStatus: artifact.StatusUnlisted}); err != nil || len(res.Failed) > 0 {
		t.Fatalf("unlisting 1.1.0: %v %+v", err, res)
	}
	page := "simple/" + confProject + "/"

	t.Run("json", func(t *testing.T) {
		doc := formattest.GetDocument(t, c, page, "application/vnd.pypi.simple.v1+json")
		var p struct {
			Meta     map[string]string `json:"meta"`
			Name     string            `json:"name"`
			Versions []string          `json:"versions"`
			Files    []struct {
				Filename       string            `json:"filename"`
				URL            string            `json:"url"`
				Hashes         map[string]string `json:"hashes"`
				RequiresPython string            `json:"requires-python"`
				Yanked         any               `json:"yanked"`
				CoreMetadata   map[string]string `json:"core-metadata"`
			} `json:"files"`
		}
		if err := json.Unmarshal(doc, &p); err != nil {
			t.Fatalf("%v in %s", err, doc)
		}
		if p.Meta["api-version"] == "" || p.Name != confProject || strings.Join(p.Versions, " ") != strings.Join(versions, " ") || len(p.Files) != 3 {
			t.Errorf("meta %v, name %q, versions %v, %d files", p.Meta, p.Name, p.Versions, len(p.Files))
		}
		for i, f := range p.Files {
			if i >= len(versions) {
				break
			}
			d := confDist(versions[i])
			name, wheel := d.Wheel()
			yanked := f.Yanked != false && f.Yanked != nil
			switch {
			case f.Filename != name || f.URL != "../../files/"+confProject+"/"+versions[i]+"/"+name:
				t.Errorf("file %d: %s at %s, want %s", i, f.Filename, f.URL, name)
			case f.Hashes["sha256"] != pypitest.SHA256(wheel):
				t.Errorf("%s: sha256 %s does not match the wheel", name, f.Hashes["sha256"])
			case f.RequiresPython != ">=3.8":
				t.Errorf("%s: requires-python %q", name, f.RequiresPython)
			case f.CoreMetadata["sha256"] != pypitest.SHA256(d.Metadata()):
				t.Errorf("%s: core-metadata %v does not match its METADATA", name, f.CoreMetadata)
			case yanked != (versions[i] == "1.1.0"):
				t.Errorf("%s: yanked %v", name, f.Yanked)
			}
		}
		doc = timestamp.ReplaceAll(doc, []byte(`"2006-01-02T15:04:05.000000Z"`))
		var indented bytes.Buffer
		if err := json.Indent(&indented, doc, "", "  "); err != nil {
			t.Fatal(err)
		}
		indented.WriteByte('\n')
		formattest.Golden(t, "simple-page.json", indented.Bytes())
	})

	t.Run("html", func(t *testing.T) {
		doc := formattest.GetDocument(t, c, page, "text/html")
		for _, v := range versions {
			name, wheel := confDist(v).Wheel()
			href := `href="../../files/` + confProject + "/" + v + "/" + name + "#sha256=" + pypitest.SHA256(wheel) + `"`
			if !bytes.Contains(doc, []byte(href)) {
				t.Errorf("no link %s", href)
			}
		}
		if n := bytes.Count(doc, []byte("data-yanked=")); n != 1 {
			t.Errorf("%d links carry data-yanked, want 1 (release 1.1.0)", n)
		}
		formattest.Golden(t, "simple-page.html", doc)
	})
}
