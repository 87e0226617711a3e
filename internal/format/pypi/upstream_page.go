package pypi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"strings"
	"time"
)

// UpstreamFile is one file an upstream simple page lists.
type UpstreamFile struct {
	Filename       string
	URL            string // absolute, without fragment
	Hashes         map[string]string
	RequiresPython string
	Yanked         *string
	// CoreMetadata: nil when the upstream offers no PEP 658 file, else its
	// hashes (empty when given without hashes).
	CoreMetadata map[string]string
	Size         int64 // -1 when unknown
	UploadTime   time.Time
}

// UpstreamPage is an upstream project page, parsed.
type UpstreamPage struct {
	Files  []UpstreamFile
	byName map[string]int
}

// File returns the entry for a file name.
func (p *UpstreamPage) File(name string) (*UpstreamFile, bool) {
	i, ok := p.byName[name]
	if !ok {
		return nil, false
	}
	return &p.Files[i], true
}

func (p *UpstreamPage) index() *UpstreamPage {
	p.byName = make(map[string]int, len(p.Files))
	for i, f := range p.Files {
		if _, dup := p.byName[f.Filename]; !dup {
			p.byName[f.Filename] = i
		}
	}
	return p
}

// ParseUpstreamPage parses a project page in the representation its
// Content-Type names: PEP 691 JSON, else PEP 503 HTML. Relative links are
// resolved against pageURL.
func ParseUpstreamPage(body []byte, contentType, pageURL string) (*UpstreamPage, error) {
	return readUpstreamPage(bytes.NewReader(body), contentType, pageURL)
}

// readUpstreamPage is ParseUpstreamPage reading the page from r: a JSON
// page is decoded from the stream; an HTML page is read once into a string
// (no copy of it is made) and dropped after the parse. The page keeps
// copies of what it uses, never a part of the body.
func readUpstreamPage(r io.Reader, contentType, pageURL string) (*UpstreamPage, error) {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, err
	}
	ct := strings.ToLower(contentType)
	if strings.Contains(ct, "json") {
		return parseUpstreamJSON(r, base)
	}
	var b strings.Builder
	if _, err := io.Copy(&b, r); err != nil {
		return nil, err
	}
	return parseUpstreamHTML(b.String(), base), nil
}

// cost estimates the memory the page takes.
func (p *UpstreamPage) cost() int64 {
	n := int64(256)
	for _, f := range p.Files {
		n += 200 + int64(len(f.Filename)+len(f.URL)+len(f.RequiresPython))
		for k, v := range f.Hashes {
			n += int64(len(k)+len(v)) + 48
		}
		for k, v := range f.CoreMetadata {
			n += int64(len(k)+len(v)) + 48
		}
		if f.Yanked != nil {
			n += int64(len(*f.Yanked)) + 16
		}
	}
	return n
}

// detach copies the strings of f, so that it holds no part of the page it
// was parsed from.
func (f *UpstreamFile) detach() {
	f.Filename, f.URL, f.RequiresPython = strings.Clone(f.Filename), strings.Clone(f.URL), strings.Clone(f.RequiresPython)
	if f.Yanked != nil {
		y := strings.Clone(*f.Yanked)
		f.Yanked = &y
	}
	clone := func(m map[string]string) map[string]string {
		if m == nil {
			return nil
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[strings.Clone(k)] = strings.Clone(v)
		}
		return out
	}
	f.Hashes, f.CoreMetadata = clone(f.Hashes), clone(f.CoreMetadata)
}

func parseUpstreamJSON(r io.Reader, base *url.URL) (*UpstreamPage, error) {
	var doc struct {
		Meta struct {
			APIVersion string `json:"api-version"`
		} `json:"meta"`
		Files []struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython *string           `json:"requires-python"`
			Yanked         json.RawMessage   `json:"yanked"`
			CoreMetadata   json.RawMessage   `json:"core-metadata"`
			DistInfo       json.RawMessage   `json:"dist-info-metadata"`
			Size           *int64            `json:"size"`
			UploadTime     string            `json:"upload-time"`
		} `json:"files"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("upstream JSON simple page: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("upstream JSON simple page: data after the document")
	}
	if major, _, _ := strings.Cut(doc.Meta.APIVersion, "."); major != "1" {
		return nil, fmt.Errorf("upstream JSON simple page has api-version %q; only 1.x is understood", doc.Meta.APIVersion)
	}
	p := &UpstreamPage{}
	for _, f := range doc.Files {
		u, err := base.Parse(f.URL)
		if err != nil || f.Filename == "" {
			continue
		}
		u.Fragment = ""
		uf := UpstreamFile{Filename: f.Filename, URL: u.String(), Hashes: lowerHashes(f.Hashes), Size: -1}
		if f.RequiresPython != nil {
			uf.RequiresPython = *f.RequiresPython
		}
		uf.Yanked = jsonYanked(f.Yanked)
		cm := f.CoreMetadata
		if len(cm) == 0 || string(cm) == "null" {
			cm = f.DistInfo
		}
		uf.CoreMetadata = jsonCoreMetadata(cm)
		if f.Size != nil && *f.Size >= 0 {
			uf.Size = *f.Size
		}
		if f.UploadTime != "" {
			if t, err := time.Parse(time.RFC3339Nano, f.UploadTime); err == nil {
				uf.UploadTime = t
			}
		}
		uf.detach()
		p.Files = append(p.Files, uf)
	}
	return p.index(), nil
}

func lowerHashes(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" && isHex(v) {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func jsonYanked(raw json.RawMessage) *string {
	if len(raw) == 0 {
		return nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			s := ""
			return &s
		}
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &s
	}
	return nil
}

func jsonCoreMetadata(raw json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return map[string]string{}
		}
		return nil
	}
	var h map[string]string
	if json.Unmarshal(raw, &h) == nil {
		return lowerHashes(h)
	}
	return nil
}

// parseUpstreamHTML reads the anchors of a PEP 503 page (and a <base href>),
// tolerant of the HTML real indexes write.
func parseUpstreamHTML(s string, base *url.URL) *UpstreamPage {
	p := &UpstreamPage{}
	pos := 0
	for {
		i := strings.IndexByte(s[pos:], '<')
		if i < 0 {
			break
		}
		start := pos + i + 1
		end := strings.IndexByte(s[start:], '>')
		if end < 0 {
			break
		}
		tag := s[start : start+end]
		pos = start + end + 1
		name, attrs := parseTag(tag)
		switch name {
		case "base":
			if h, ok := attrs["href"]; ok {
				if u, err := base.Parse(h); err == nil {
					base = u
				}
			}
		case "a":
			href, ok := attrs["href"]
			if !ok || href == "" {
				continue
			}
			closing := indexCloseAnchor(s[pos:])
			if closing < 0 {
				continue
			}
			text := strings.TrimSpace(html.UnescapeString(stripTags(s[pos : pos+closing])))
			pos += closing
			if f, ok := anchorFile(base, href, text, attrs); ok {
				f.detach()
				p.Files = append(p.Files, f)
			}
		}
	}
	return p.index()
}

// anchorFile turns one anchor of a simple page into a file entry.
func anchorFile(base *url.URL, href, text string, attrs map[string]string) (UpstreamFile, bool) {
	u, err := base.Parse(href)
	if err != nil {
		return UpstreamFile{}, false
	}
	f := UpstreamFile{Size: -1, Hashes: map[string]string{}}
	if u.Fragment != "" {
		if alg, v, ok := strings.Cut(u.Fragment, "="); ok {
			if v = strings.ToLower(v); isHex(v) {
				f.Hashes[strings.ToLower(alg)] = v
			}
		}
		u.Fragment = ""
	}
	f.URL = u.String()
	f.Filename = text
	if f.Filename == "" || strings.ContainsAny(f.Filename, "/ ") {
		seg := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		if un, err := url.PathUnescape(seg); err == nil {
			seg = un
		}
		f.Filename = seg
	}
	if f.Filename == "" {
		return UpstreamFile{}, false
	}
	if rp, ok := attrs["data-requires-python"]; ok {
		f.RequiresPython = rp
	}
	if y, ok := attrs["data-yanked"]; ok {
		f.Yanked = &y
	}
	cm, ok := attrs["data-core-metadata"]
	if !ok {
		cm, ok = attrs["data-dist-info-metadata"]
	}
	if ok && cm != "false" {
		f.CoreMetadata = map[string]string{}
		if alg, v, found := strings.Cut(cm, "="); found && isHex(strings.ToLower(v)) {
			f.CoreMetadata[strings.ToLower(alg)] = strings.ToLower(v)
		}
	}
	return f, true
}

// indexCloseAnchor returns the offset of the first "</a" in s, in any case
// ("</A" too), or -1.
func indexCloseAnchor(s string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return -1
		}
		k := i + j
		if k+2 < len(s) && (s[k+2] == 'a' || s[k+2] == 'A') {
			return k
		}
		i = k + 2
	}
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseTag splits "a href=x data-y='z' flag" into the lower-case tag name
// and its attributes (values unescaped).
func parseTag(tag string) (string, map[string]string) {
	tag = strings.TrimSuffix(strings.TrimSpace(tag), "/")
	i := strings.IndexAny(tag, " \t\r\n")
	if i < 0 {
		return strings.ToLower(tag), nil
	}
	name := strings.ToLower(tag[:i])
	if name != "a" && name != "base" {
		return name, nil
	}
	attrs := map[string]string{}
	s := tag[i:]
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		j := strings.IndexAny(s, "= \t\r\n")
		if j < 0 {
			attrs[strings.ToLower(s)] = ""
			break
		}
		key := strings.ToLower(s[:j])
		s = strings.TrimLeft(s[j:], " \t\r\n")
		if !strings.HasPrefix(s, "=") {
			attrs[key] = ""
			continue
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
		var val string
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			q := s[0]
			k := strings.IndexByte(s[1:], q)
			if k < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+k], s[2+k:]
			}
		} else {
			k := strings.IndexAny(s, " \t\r\n")
			if k < 0 {
				val, s = s, ""
			} else {
				val, s = s[:k], s[k:]
			}
		}
		if _, dup := attrs[key]; !dup {
			attrs[key] = html.UnescapeString(val)
		}
	}
	return name, attrs
}
