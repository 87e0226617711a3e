package pypi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestNegotiate(t *testing.T) {
	pip := "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
	for accept, want := range map[string]string{
		"":          MediaTextHTML,
		pip:         MediaJSON,
		"*/*":       MediaTextHTML,
		"text/html": MediaTextHTML,
		"text/html, application/vnd.pypi.simple.v1+json":       MediaJSON,
		"application/vnd.pypi.simple.v1+json;q=0.5, text/html": MediaTextHTML,
		"application/vnd.pypi.simple.latest+html":              MediaHTML,
		"application/vnd.pypi.simple.latest+json, */*;q=0.1":   MediaJSON,
		"application/*": MediaHTML,
		"application/vnd.pypi.simple.v1+json;q=0, */*":                                    MediaTextHTML,
		"text/*;q=0.3, application/vnd.pypi.simple.v1+html;q=0.2":                         MediaTextHTML,
		"application/vnd.pypi.simple.v1+json; q=0.1, application/vnd.pypi.simple.v1+html": MediaHTML,
	} {
		got, ok := Negotiate(accept)
		if !ok || got != want {
			t.Errorf("Negotiate(%q) = %q, %v; want %q", accept, got, ok, want)
		}
	}
	for _, none := range []string{"application/json", "image/png", "application/vnd.pypi.simple.v1+json;q=0"} {
		if got, ok := Negotiate(none); ok {
			t.Errorf("Negotiate(%q) = %q, want 406", none, got)
		}
	}
}

func samplePage() *ProjectPage {
	reason := "broken"
	up := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	p := &ProjectPage{Name: "foo-bar", Files: []PageFile{
		{Filename: "foo_bar-1.0-py3-none-any.whl", URL: fileURL("foo-bar", "1.0", "foo_bar-1.0-py3-none-any.whl"), Hashes: Hashes{SHA256: "ab"},
			RequiresPython: ">=3.8", CoreMetadata: &Hashes{SHA256: "cd"}, Size: 10, UploadTime: up},
		{Filename: "foo_bar-0.9.tar.gz", URL: fileURL("foo-bar", "0.9", "foo_bar-0.9.tar.gz"), Hashes: Hashes{SHA256: "ef"},
			Yanked: &reason, Size: 20, UploadTime: up},
	}}
	for i := range p.Files {
		f, _ := ParseFileName(p.Files[i].Filename, p.Name)
		p.Files[i].version, _ = ParseVersion(f.Version)
	}
	p.sort()
	p.Versions = []string{"0.9", "1.0"}
	return p
}

func TestRenderJSON(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(samplePage().RenderJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	files := doc["files"].([]any)
	first, second := files[0].(map[string]any), files[1].(map[string]any)
	if doc["meta"].(map[string]any)["api-version"] != "1.1" || doc["name"] != "foo-bar" || len(doc["versions"].([]any)) != 2 {
		t.Errorf("doc %v", doc)
	}
	if first["filename"] != "foo_bar-0.9.tar.gz" || first["yanked"] != "broken" || first["core-metadata"] != false || first["size"] != 20.0 {
		t.Errorf("first %v", first)
	}
	if second["url"] != "../../files/foo-bar/1.0/foo_bar-1.0-py3-none-any.whl" || second["requires-python"] != ">=3.8" ||
		second["core-metadata"].(map[string]any)["sha256"] != "cd" || second["dist-info-metadata"].(map[string]any)["sha256"] != "cd" ||
		second["yanked"] != false || second["upload-time"] != "2026-11-25T18:00:00.000000Z" {
		t.Errorf("second %v", second)
	}
}

func TestRenderHTMLRoundTrip(t *testing.T) {
	body := samplePage().RenderHTML()
	for _, want := range []string{
		`<meta name="pypi:repository-version" content="1.1">`,
		`<a href="../../files/foo-bar/1.0/foo_bar-1.0-py3-none-any.whl#sha256=ab" data-requires-python="&gt;=3.8" data-core-metadata="sha256=cd" data-dist-info-metadata="sha256=cd">`,
		`data-yanked="broken">foo_bar-0.9.tar.gz</a>`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("HTML lacks %s:\n%s", want, body)
		}
	}
	// What coffer renders, coffer reads back as an upstream page.
	up, err := ParseUpstreamPage(body, "text/html", "http://idx.example/simple/foo-bar/")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := up.File("foo_bar-1.0-py3-none-any.whl")
	if !ok || f.URL != "http://idx.example/files/foo-bar/1.0/foo_bar-1.0-py3-none-any.whl" || f.Hashes.SHA256 != "ab" ||
		f.RequiresPython != ">=3.8" || f.CoreMetadata == nil || f.CoreMetadata.SHA256 != "cd" || f.Yanked != nil {
		t.Errorf("parsed %+v", f)
	}
	g, ok := up.File("foo_bar-0.9.tar.gz")
	if !ok || g.Yanked == nil || *g.Yanked != "broken" || g.CoreMetadata != nil || g.Size != -1 {
		t.Errorf("parsed %+v", g)
	}
	upj, err := ParseUpstreamPage(samplePage().RenderJSON(), MediaJSON, "http://idx.example/simple/foo-bar/")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := upj.File("foo_bar-1.0-py3-none-any.whl"); !ok || f.Size != 10 || f.CoreMetadata == nil || f.CoreMetadata.SHA256 != "cd" || f.UploadTime.IsZero() {
		t.Errorf("parsed JSON %+v", f)
	}
}

func TestParseUpstreamHTMLVariants(t *testing.T) {
	page := `<html><head><BASE HREF="https://files.example/pkgs/"></head><body>
<A HREF='a-1.0.tar.gz#SHA256=ABCDEF' data-requires-python='&lt;4,&gt;=3.7' data-yanked>a-1.0.tar.gz</A>
<a href=a-2.0-py3-none-any.whl data-dist-info-metadata=true><b>a-2.0-py3-none-any.whl</b></a>
<a href="">empty</a><a name="x">no href</a>
`
	up, err := ParseUpstreamPage([]byte(page), "text/html; charset=utf-8", "https://idx.example/simple/a/")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := up.File("a-1.0.tar.gz")
	if !ok || a.URL != "https://files.example/pkgs/a-1.0.tar.gz" || a.Hashes.SHA256 != "abcdef" || a.RequiresPython != "<4,>=3.7" || a.Yanked == nil || *a.Yanked != "" {
		t.Errorf("a-1.0: %+v", a)
	}
	b, ok := up.File("a-2.0-py3-none-any.whl")
	if !ok || b.CoreMetadata == nil || b.CoreMetadata.Len() != 0 {
		t.Errorf("a-2.0: %+v", b)
	}
	if up.Len() != 2 {
		t.Errorf("%d files", up.Len())
	}
	if _, err := ParseUpstreamPage([]byte(`{"meta":{"api-version":"2.0"},"files":[]}`), MediaJSON, "https://idx.example/simple/a/"); err == nil {
		t.Error("api-version 2.0 accepted")
	}
}

func FuzzParseUpstreamPage(f *testing.F) {
	f.Add([]byte(samplePage().RenderHTML()), false)
	f.Add([]byte(samplePage().RenderJSON()), true)
	f.Add([]byte(`<a href="x#sha256=1"`), false)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		ct := "text/html"
		if isJSON {
			ct = MediaJSON
		}
		p, err := ParseUpstreamPage(body, ct, "https://idx.example/simple/p/")
		if err != nil {
			return
		}
		for i := range p.Len() {
			f := p.At(i)
			g, ok := p.File(f.Filename)
			if !ok || g.Filename != f.Filename {
				t.Fatalf("file %q not indexed", f.Filename)
			}
		}
	})
}
