package pypi

import (
	"bytes"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/jsonstr"
)

// Media types of the simple repository API (PEP 503, PEP 691).
const (
	MediaJSON     = "application/vnd.pypi.simple.v1+json"
	MediaHTML     = "application/vnd.pypi.simple.v1+html"
	MediaTextHTML = "text/html"
)

// Negotiate picks the representation of a simple page for an Accept header
// (PEP 691): the acceptable type with the highest quality; among equals the
// most specific match, and among explicit matches JSON first (pip asks for
// JSON, then v1+html, then text/html), among wildcard matches text/html (so
// that a browser or a legacy client gets HTML). "latest" aliases are read
// as v1. An empty header means text/html. ok is false when nothing offered
// is acceptable (406).
func Negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return MediaTextHTML, true
	}
	type score struct {
		q    float64
		spec int // 3 exact, 2 exact via alias, 1 type/*, 0 */*
	}
	offers := []string{MediaJSON, MediaHTML, MediaTextHTML}
	best := map[string]score{}
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		if mt == "" {
			continue
		}
		q := 1.0
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
		switch mt {
		case "application/vnd.pypi.simple.latest+json":
			mt = MediaJSON
		case "application/vnd.pypi.simple.latest+html":
			mt = MediaHTML
		}
		for _, o := range offers {
			spec := -1
			switch {
			case mt == o:
				spec = 3
			case mt == "*/*":
				spec = 0
			case strings.HasSuffix(mt, "/*") && strings.HasPrefix(o, strings.TrimSuffix(mt, "*")):
				spec = 1
			}
			if spec < 0 {
				continue
			}
			// The most specific range decides an offer's quality (RFC 9110).
			if cur, ok := best[o]; !ok || spec > cur.spec {
				best[o] = score{q: q, spec: spec}
			}
		}
	}
	pick, pickScore := "", score{q: 0}
	rank := func(o string, s score) int {
		explicit := map[string]int{MediaJSON: 3, MediaHTML: 2, MediaTextHTML: 1}
		wild := map[string]int{MediaTextHTML: 3, MediaHTML: 2, MediaJSON: 1}
		if s.spec >= 2 {
			return explicit[o]
		}
		return wild[o]
	}
	for _, o := range offers {
		s, ok := best[o]
		if !ok || s.q <= 0 {
			continue
		}
		switch {
		case pick == "", s.q > pickScore.q,
			s.q == pickScore.q && s.spec > pickScore.spec,
			s.q == pickScore.q && s.spec == pickScore.spec && rank(o, s) > rank(pick, pickScore):
			pick, pickScore = o, s
		}
	}
	return pick, pick != ""
}

// ContentType is the Content-Type header of a representation.
func ContentType(media string) string {
	if media == MediaTextHTML {
		return "text/html; charset=utf-8"
	}
	return media
}

// PageFile is one distribution file on a project page.
type PageFile struct {
	Filename string
	// URL is relative to the project page.
	URL string
	// Hashes by hashlib name; sha256 is the one coffer guarantees.
	Hashes         map[string]string
	RequiresPython string
	// Yanked is nil when the file is not yanked; else the reason ("" for
	// none).
	Yanked *string
	// CoreMetadata is nil without a PEP 658 file; else its hashes (empty
	// when the hashes are unknown).
	CoreMetadata map[string]string
	Size         int64 // -1 when unknown
	UploadTime   time.Time

	version Version // parsed, for sorting
}

// ProjectPage is a project's simple page.
type ProjectPage struct {
	Name     string // normalised
	Versions []string
	Files    []PageFile
}

// apiVersion is 1.1 (PEP 700) when every file's size is known.
func (p *ProjectPage) apiVersion() string {
	for i := range p.Files {
		if p.Files[i].Size < 0 {
			return "1.0"
		}
	}
	return "1.1"
}

// sort orders files by version, then file name, and fills Versions in
// version order.
func (p *ProjectPage) sort() {
	slices.SortFunc(p.Files, func(a, b PageFile) int {
		if c := a.version.Compare(b.version); c != 0 {
			return c
		}
		return strings.Compare(a.Filename, b.Filename)
	})
}

// fileURL is the page-relative URL of a file served by coffer.
func fileURL(project, version, filename string) string {
	return "../../files/" + url.PathEscape(project) + "/" + url.PathEscape(version) + "/" + url.PathEscape(filename)
}

// preferredHash returns the hash to put in an HTML link's fragment.
func preferredHash(h map[string]string) (string, string) {
	if v := h["sha256"]; v != "" {
		return "sha256", v
	}
	for _, name := range []string{"sha512", "sha384", "sha224", "sha1", "md5"} {
		if v := h[name]; v != "" {
			return name, v
		}
	}
	return "", ""
}

// RenderHTML renders the page as PEP 503 HTML with the PEP 592, 658/714 and
// 691 attributes.
func (p *ProjectPage) RenderHTML() []byte {
	var b bytes.Buffer
	b.Grow(256 + len(p.Files)*300)
	name := html.EscapeString(p.Name)
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"")
	b.WriteString(p.apiVersion())
	b.WriteString("\">\n    <title>Links for ")
	b.WriteString(name)
	b.WriteString("</title>\n  </head>\n  <body>\n    <h1>Links for ")
	b.WriteString(name)
	b.WriteString("</h1>\n")
	for i := range p.Files {
		f := &p.Files[i]
		b.WriteString("    <a href=\"")
		href := f.URL
		if alg, v := preferredHash(f.Hashes); v != "" {
			href += "#" + alg + "=" + v
		}
		b.WriteString(html.EscapeString(href))
		b.WriteByte('"')
		if f.RequiresPython != "" {
			b.WriteString(" data-requires-python=\"")
			b.WriteString(html.EscapeString(f.RequiresPython))
			b.WriteByte('"')
		}
		if f.CoreMetadata != nil {
			val := "true"
			if alg, v := preferredHash(f.CoreMetadata); v != "" {
				val = alg + "=" + v
			}
			b.WriteString(" data-core-metadata=\"")
			b.WriteString(val)
			b.WriteString("\" data-dist-info-metadata=\"")
			b.WriteString(val)
			b.WriteByte('"')
		}
		if f.Yanked != nil {
			b.WriteString(" data-yanked=\"")
			b.WriteString(html.EscapeString(*f.Yanked))
			b.WriteByte('"')
		}
		b.WriteByte('>')
		b.WriteString(html.EscapeString(f.Filename))
		b.WriteString("</a><br />\n")
	}
	b.WriteString("  </body>\n</html>\n")
	return b.Bytes()
}

type jsonMeta struct {
	APIVersion string `json:"api-version"`
}

// uploadTimeFormat is PEP 700's upload-time: ISO 8601, UTC, "Z".
const uploadTimeFormat = "2006-01-02T15:04:05.000000Z"

// RenderJSON renders the page as PEP 691 JSON with the PEP 700 keys. It is
// written by hand: pages of tens of thousands of files are rendered on
// every change, and reflection would triple the cost.
func (p *ProjectPage) RenderJSON() []byte {
	b := make([]byte, 0, 256+len(p.Files)*400)
	b = append(b, `{"meta":{"api-version":`...)
	b = jsonstr.Append(b, p.apiVersion())
	b = append(b, `},"name":`...)
	b = jsonstr.Append(b, p.Name)
	b = append(b, `,"versions":[`...)
	for i, v := range p.Versions {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, v)
	}
	b = append(b, `],"files":[`...)
	for i := range p.Files {
		f := &p.Files[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"filename":`...)
		b = jsonstr.Append(b, f.Filename)
		b = append(b, `,"url":`...)
		b = jsonstr.Append(b, f.URL)
		b = append(b, `,"hashes":`...)
		b = appendHashes(b, f.Hashes)
		if f.RequiresPython != "" {
			b = append(b, `,"requires-python":`...)
			b = jsonstr.Append(b, f.RequiresPython)
		}
		if f.Size >= 0 {
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, f.Size, 10)
		}
		if !f.UploadTime.IsZero() {
			b = append(b, `,"upload-time":"`...)
			b = f.UploadTime.UTC().AppendFormat(b, uploadTimeFormat)
			b = append(b, '"')
		}
		b = append(b, `,"yanked":`...)
		switch {
		case f.Yanked == nil:
			b = append(b, "false"...)
		case *f.Yanked == "":
			b = append(b, "true"...)
		default:
			b = jsonstr.Append(b, *f.Yanked)
		}
		var cm []byte
		switch {
		case f.CoreMetadata == nil:
			cm = []byte("false")
		case len(f.CoreMetadata) == 0:
			cm = []byte("true")
		default:
			cm = appendHashes(nil, f.CoreMetadata)
		}
		b = append(b, `,"core-metadata":`...)
		b = append(b, cm...)
		b = append(b, `,"dist-info-metadata":`...)
		b = append(b, cm...)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b
}

func appendHashes(b []byte, h map[string]string) []byte {
	b = append(b, '{')
	if len(h) == 1 {
		for k, v := range h {
			b = jsonstr.Append(b, k)
			b = append(b, ':')
			b = jsonstr.Append(b, v)
		}
	} else {
		keys := make([]string, 0, len(h))
		for k := range h {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstr.Append(b, k)
			b = append(b, ':')
			b = jsonstr.Append(b, h[k])
		}
	}
	return append(b, '}')
}

// RenderIndexHTML renders the root project list (PEP 503).
func RenderIndexHTML(projects []string) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Simple index</title>\n  </head>\n  <body>\n")
	for _, p := range projects {
		e := html.EscapeString(p)
		b.WriteString("    <a href=\"" + html.EscapeString(url.PathEscape(p)) + "/\">" + e + "</a><br />\n")
	}
	b.WriteString("  </body>\n</html>\n")
	return b.Bytes()
}

// RenderIndexJSON renders the root project list (PEP 691).
func RenderIndexJSON(projects []string) []byte {
	type proj struct {
		Name string `json:"name"`
	}
	doc := struct {
		Meta     jsonMeta `json:"meta"`
		Projects []proj   `json:"projects"`
	}{Meta: jsonMeta{APIVersion: "1.1"}, Projects: make([]proj, len(projects))}
	for i, p := range projects {
		doc.Projects[i] = proj{Name: p}
	}
	b, _ := json.Marshal(doc)
	return b
}
