package pypi

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
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

// Hashes are a file's hashes by hashlib name (lower case, hex values):
// sha256, the one coffer guarantees, as a field, the others in Other,
// sorted by name.
type Hashes struct {
	SHA256 string
	Other  []Hash // never sha256
}

// Hash is a hash other than sha256.
type Hash struct{ Name, Value string }

// hashesOf turns a map of hashes into Hashes.
func hashesOf(m map[string]string) Hashes {
	var h Hashes
	for k, v := range m {
		if k == "sha256" {
			h.SHA256 = v
		} else {
			h.Other = append(h.Other, Hash{Name: k, Value: v})
		}
	}
	slices.SortFunc(h.Other, func(a, b Hash) int { return strings.Compare(a.Name, b.Name) })
	return h
}

// Get returns the hash named name, "" when there is none.
func (h Hashes) Get(name string) string {
	if name == "sha256" {
		return h.SHA256
	}
	for _, x := range h.Other {
		if x.Name == name {
			return x.Value
		}
	}
	return ""
}

// Len is the number of hashes.
func (h Hashes) Len() int {
	n := len(h.Other)
	if h.SHA256 != "" {
		n++
	}
	return n
}

// PageFile is one distribution file on a project page.
type PageFile struct {
	Filename string
	// URL is relative to the project page.
	URL string
	// Hashes; sha256 is the one coffer guarantees.
	Hashes         Hashes
	RequiresPython string
	// Yanked is nil when the file is not yanked; else the reason ("" for
	// none).
	Yanked *string
	// CoreMetadata is nil without a PEP 658 file; else its hashes (none
	// when the hashes are unknown).
	CoreMetadata *Hashes
	Size         int64 // -1 when unknown
	UploadTime   time.Time

	version Version // parsed, for sorting
}

// ProjectPage is a project's simple page. Its files are Files, or, for a
// page buildPage merged, refs: the stored files and the upstream pages'
// entries it lists, in page order, each made a PageFile as it is
// rendered, so that a page of half a million upstream files costs a few
// bytes a file beside the parsed upstream pages.
type ProjectPage struct {
	Name     string // normalised
	Versions []string
	Files    []PageFile

	refs     []pageRef
	stored   []PageFile      // the files of stored versions
	ups      []*UpstreamPage // the upstream pages refs point into
	releases []string        // the version on the page of each release, by rank
	sized    bool            // every file's size is known
}

// pageRef is a file of a merged ProjectPage: stored[idx] when up < 0,
// else ups[up]'s idx-th entry, which belongs to releases[rel].
type pageRef struct {
	up  int32
	idx int32
	rel int32
}

// Len is the number of files on the page.
func (p *ProjectPage) Len() int {
	if p.refs != nil {
		return len(p.refs)
	}
	return len(p.Files)
}

// file returns the i-th file of the page, made in *tmp when need be.
func (p *ProjectPage) file(i int, tmp *PageFile) *PageFile {
	if p.refs == nil {
		return &p.Files[i]
	}
	r := p.refs[i]
	if r.up < 0 {
		return &p.stored[r.idx]
	}
	u := p.ups[r.up]
	e := u.entry(int(r.idx))
	name := u.str(e.name)
	*tmp = PageFile{Filename: name, URL: fileURL(p.Name, p.releases[r.rel], name), Hashes: u.hashes(e),
		RequiresPython: u.str(e.rp), Size: e.size}
	if e.flags&entryYanked != 0 {
		y := u.str(e.yanked)
		tmp.Yanked = &y
	}
	if e.flags&entryCM != 0 {
		tmp.CoreMetadata = &Hashes{}
		decodePairs(u.str(e.cm), tmp.CoreMetadata)
	}
	if e.flags&entryTime != 0 {
		tmp.UploadTime = time.Unix(e.sec, int64(e.nsec)).UTC()
	}
	return tmp
}

// apiVersion is 1.1 (PEP 700) when every file's size is known.
func (p *ProjectPage) apiVersion() string {
	if p.refs != nil {
		if p.sized {
			return "1.1"
		}
		return "1.0"
	}
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
func preferredHash(h *Hashes) (string, string) {
	if v := h.SHA256; v != "" {
		return "sha256", v
	}
	for _, name := range []string{"sha512", "sha384", "sha224", "sha1", "md5"} {
		if v := h.Get(name); v != "" {
			return name, v
		}
	}
	return "", ""
}

// RenderHTML renders the page as PEP 503 HTML with the PEP 592, 658/714 and
// 691 attributes.
func (p *ProjectPage) RenderHTML() []byte {
	b, _ := p.render(MediaHTML, nil)
	return b
}

// RenderJSON renders the page as PEP 691 JSON with the PEP 700 keys. It is
// written by hand: pages of tens of thousands of files are rendered on
// every change, and reflection would triple the cost.
func (p *ProjectPage) RenderJSON() []byte {
	b, _ := p.render(MediaJSON, nil)
	return b
}

// renderChunk is how much of a page render writes to its writer at once.
const renderChunk = 64 << 10

// render renders the page in the representation media (MediaJSON, else
// HTML). With a writer, the page is written to it renderChunk bytes at a
// time and never whole in memory; without, it is returned.
func (p *ProjectPage) render(media string, w io.Writer) ([]byte, error) {
	var b []byte
	if w == nil {
		per := 300
		if media == MediaJSON {
			per = 400
		}
		b = make([]byte, 0, 256+p.Len()*per)
	} else {
		b = make([]byte, 0, renderChunk+4<<10)
	}
	var err error
	flush := func(force bool) {
		if w == nil || (!force && len(b) < renderChunk) {
			return
		}
		if err == nil {
			_, err = w.Write(b)
		}
		b = b[:0]
	}
	if media == MediaJSON {
		b = p.appendJSONHead(b, flush)
		var tmp PageFile
		for i := range p.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONFile(b, p.file(i, &tmp))
			flush(false)
		}
		b = append(b, "]}"...)
	} else {
		b = p.appendHTMLHead(b)
		var tmp PageFile
		for i := range p.Len() {
			b = appendHTMLFile(b, p.file(i, &tmp))
			flush(false)
		}
		b = append(b, "  </body>\n</html>\n"...)
	}
	flush(true)
	return b, err
}

func (p *ProjectPage) appendHTMLHead(b []byte) []byte {
	name := html.EscapeString(p.Name)
	b = append(b, "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\""...)
	b = append(b, p.apiVersion()...)
	b = append(b, "\">\n    <title>Links for "...)
	b = append(b, name...)
	b = append(b, "</title>\n  </head>\n  <body>\n    <h1>Links for "...)
	b = append(b, name...)
	return append(b, "</h1>\n"...)
}

func appendHTMLFile(b []byte, f *PageFile) []byte {
	b = append(b, "    <a href=\""...)
	href := f.URL
	if alg, v := preferredHash(&f.Hashes); v != "" {
		href += "#" + alg + "=" + v
	}
	b = append(b, html.EscapeString(href)...)
	b = append(b, '"')
	if f.RequiresPython != "" {
		b = append(b, " data-requires-python=\""...)
		b = append(b, html.EscapeString(f.RequiresPython)...)
		b = append(b, '"')
	}
	if f.CoreMetadata != nil {
		val := "true"
		if alg, v := preferredHash(f.CoreMetadata); v != "" {
			val = alg + "=" + v
		}
		b = append(b, " data-core-metadata=\""...)
		b = append(b, val...)
		b = append(b, "\" data-dist-info-metadata=\""...)
		b = append(b, val...)
		b = append(b, '"')
	}
	if f.Yanked != nil {
		b = append(b, " data-yanked=\""...)
		b = append(b, html.EscapeString(*f.Yanked)...)
		b = append(b, '"')
	}
	b = append(b, '>')
	b = append(b, html.EscapeString(f.Filename)...)
	return append(b, "</a><br />\n"...)
}

type jsonMeta struct {
	APIVersion string `json:"api-version"`
}

// uploadTimeFormat is PEP 700's upload-time: ISO 8601, UTC, "Z".
const uploadTimeFormat = "2006-01-02T15:04:05.000000Z"

func (p *ProjectPage) appendJSONHead(b []byte, flush func(bool)) []byte {
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
		flush(false)
	}
	return append(b, `],"files":[`...)
}

func appendJSONFile(b []byte, f *PageFile) []byte {
	b = append(b, `{"filename":`...)
	b = jsonstr.Append(b, f.Filename)
	b = append(b, `,"url":`...)
	b = jsonstr.Append(b, f.URL)
	b = append(b, `,"hashes":`...)
	b = appendHashes(b, &f.Hashes)
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
	appendCM := func(b []byte) []byte {
		switch {
		case f.CoreMetadata == nil:
			return append(b, "false"...)
		case f.CoreMetadata.Len() == 0:
			return append(b, "true"...)
		}
		return appendHashes(b, f.CoreMetadata)
	}
	b = append(b, `,"core-metadata":`...)
	b = appendCM(b)
	b = append(b, `,"dist-info-metadata":`...)
	b = appendCM(b)
	return append(b, '}')
}

// appendHashes writes hashes as a JSON object, by name.
func appendHashes(b []byte, h *Hashes) []byte {
	b = append(b, '{')
	first := true
	pair := func(k, v string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonstr.Append(b, k)
		b = append(b, ':')
		b = jsonstr.Append(b, v)
	}
	sha := h.SHA256 != ""
	for _, x := range h.Other {
		if sha && x.Name > "sha256" {
			pair("sha256", h.SHA256)
			sha = false
		}
		pair(x.Name, x.Value)
	}
	if sha {
		pair("sha256", h.SHA256)
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
