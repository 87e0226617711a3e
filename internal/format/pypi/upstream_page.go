package pypi

import (
	"bufio"
	"bytes"
	"coffer/internal/jsonstream"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"html"
	"io"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// UpstreamFile is one file an upstream simple page lists.
type UpstreamFile struct {
	Filename       string
	URL            string // absolute, without fragment
	Hashes         Hashes
	RequiresPython string
	Yanked         *string
	// CoreMetadata: nil when the upstream offers no PEP 658 file, else its
	// hashes (none when given without hashes).
	CoreMetadata *Hashes
	Size         int64 // -1 when unknown
	UploadTime   time.Time
}

// UpstreamPage is an upstream project page, parsed. Its files are kept
// compactly (about a hundred bytes a file beside their names): every
// string of the page in one buffer, a sha256 in binary, strings that
// repeat (Requires-Python, yank reasons, the URLs' directories) once, and
// an open-addressing index of the names. File and At return a file
// entry in full.
type UpstreamPage struct {
	data   string // the strings, once parsed
	buf    []byte // the strings, while parsing
	chunks [][]upEntry
	n      int
	slots  []int32 // index of the first file of each name, plus one; 0 free
	intern map[string]span
	err    error
}

// span is a string of an UpstreamPage's data.
type span struct{ off, n uint32 }

// upEntry is a file of an UpstreamPage.
type upEntry struct {
	name   span
	url    span // the URL, or its part before the file name (urlName)
	rp     span
	yanked span
	hashes span // the hashes other than a binary sha256 (encodePairs)
	cm     span // the core metadata's hashes (encodePairs)
	sha256 [32]byte
	size   int64
	sec    int64 // upload time
	nsec   int32
	flags  uint8
}

const (
	entrySHA256  = 1 << iota // sha256 is set
	entryYanked              // yanked is the reason
	entryCM                  // a PEP 658 file is offered
	entryURLName             // the URL is url + name
	entryTime                // the upload time is known
)

const chunkShift = 12

var (
	errPageTooBig = errors.New("upstream simple page too big")
	pageSeed      = maphash.MakeSeed()
)

// Len is the number of files.
func (p *UpstreamPage) Len() int { return p.n }

func (p *UpstreamPage) entry(i int) *upEntry {
	return &p.chunks[i>>chunkShift][i&(1<<chunkShift-1)]
}

func (p *UpstreamPage) str(s span) string { return p.data[s.off : s.off+s.n] }

// name is the file name of the i-th file.
func (p *UpstreamPage) name(i int) string { return p.str(p.entry(i).name) }

// uploaded is the upload time of the i-th file, zero when the page does
// not give it.
func (p *UpstreamPage) uploaded(i int) time.Time {
	if e := p.entry(i); e.flags&entryTime != 0 {
		return time.Unix(e.sec, int64(e.nsec)).UTC()
	}
	return time.Time{}
}

// At returns the i-th file.
func (p *UpstreamPage) At(i int) UpstreamFile {
	e := p.entry(i)
	f := UpstreamFile{Filename: p.str(e.name), URL: p.str(e.url), RequiresPython: p.str(e.rp), Size: e.size}
	if e.flags&entryURLName != 0 {
		f.URL += f.Filename
	}
	f.Hashes = p.hashes(e)
	if e.flags&entryYanked != 0 {
		y := p.str(e.yanked)
		f.Yanked = &y
	}
	if e.flags&entryCM != 0 {
		f.CoreMetadata = &Hashes{}
		decodePairs(p.str(e.cm), f.CoreMetadata)
	}
	if e.flags&entryTime != 0 {
		f.UploadTime = time.Unix(e.sec, int64(e.nsec)).UTC()
	}
	return f
}

func (p *UpstreamPage) hashes(e *upEntry) Hashes {
	var h Hashes
	decodePairs(p.str(e.hashes), &h)
	if e.flags&entrySHA256 != 0 {
		h.SHA256 = hex.EncodeToString(e.sha256[:])
	}
	return h
}

// File returns the entry for a file name (the first of that name).
func (p *UpstreamPage) File(name string) (*UpstreamFile, bool) {
	i := p.lookup(name)
	if i < 0 {
		return nil, false
	}
	f := p.At(i)
	return &f, true
}

// lookup returns the index of the first file named name, or -1.
func (p *UpstreamPage) lookup(name string) int {
	if len(p.slots) == 0 {
		return -1
	}
	mask := uint64(len(p.slots) - 1)
	for h := maphash.String(pageSeed, name) & mask; ; h = (h + 1) & mask {
		s := p.slots[h]
		if s == 0 {
			return -1
		}
		if p.name(int(s-1)) == name {
			return int(s - 1)
		}
	}
}

// add appends a file (its strings copied).
func (p *UpstreamPage) add(f *UpstreamFile) error {
	if p.err != nil {
		return p.err
	}
	if p.n>>chunkShift == len(p.chunks) {
		p.chunks = append(p.chunks, make([]upEntry, 0, 1<<chunkShift))
	}
	var e upEntry
	e.name = p.put(f.Filename, false)
	if prefix, ok := strings.CutSuffix(f.URL, f.Filename); ok && strings.HasSuffix(prefix, "/") {
		e.url = p.put(prefix, true)
		e.flags |= entryURLName
	} else {
		e.url = p.put(f.URL, false)
	}
	e.rp = p.put(f.RequiresPython, true)
	if f.Yanked != nil {
		e.flags |= entryYanked
		e.yanked = p.put(*f.Yanked, true)
	}
	h := f.Hashes
	if len(h.SHA256) == 64 {
		if _, err := hex.Decode(e.sha256[:], []byte(h.SHA256)); err == nil {
			e.flags |= entrySHA256
			h.SHA256 = ""
		}
	}
	if h.Len() > 0 {
		e.hashes = p.put(string(encodePairs(nil, h)), false)
	}
	if f.CoreMetadata != nil {
		e.flags |= entryCM
		if f.CoreMetadata.Len() > 0 {
			e.cm = p.put(string(encodePairs(nil, *f.CoreMetadata)), true)
		}
	}
	e.size = f.Size
	if !f.UploadTime.IsZero() {
		e.flags |= entryTime
		e.sec, e.nsec = f.UploadTime.Unix(), int32(f.UploadTime.Nanosecond())
	}
	if p.err != nil {
		return p.err
	}
	c := &p.chunks[len(p.chunks)-1]
	*c = append(*c, e)
	p.n++
	return nil
}

// maxInterned bounds the strings a page parse remembers to share.
const maxInterned = 4096

// put copies s into the page's strings; with share, an equal string put
// before with share is reused.
func (p *UpstreamPage) put(s string, share bool) span {
	if s == "" {
		return span{}
	}
	if share {
		if sp, ok := p.intern[s]; ok {
			return sp
		}
	}
	if uint64(len(p.buf))+uint64(len(s)) > math.MaxUint32 {
		p.err = errPageTooBig
		return span{}
	}
	sp := span{off: uint32(len(p.buf)), n: uint32(len(s))}
	p.buf = append(p.buf, s...)
	if share && len(p.intern) < maxInterned {
		if p.intern == nil {
			p.intern = map[string]span{}
		}
		p.intern[strings.Clone(s)] = sp
	}
	return sp
}

// encodePairs appends the hashes of h as (name, value) pairs, each string
// behind its length (uvarint).
func encodePairs(b []byte, h Hashes) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if h.SHA256 != "" {
		str("sha256")
		str(h.SHA256)
	}
	for _, x := range h.Other {
		str(x.Name)
		str(x.Value)
	}
	return b
}

// decodePairs reads what encodePairs wrote into h.
func decodePairs(s string, h *Hashes) {
	next := func() string {
		n, k := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
		if k <= 0 || uint64(len(s)-k) < n {
			s = ""
			return ""
		}
		v := s[k : k+int(n)]
		s = s[k+int(n):]
		return v
	}
	for s != "" {
		name, value := next(), next()
		if name == "sha256" {
			h.SHA256 = value
		} else if name != "" {
			h.Other = append(h.Other, Hash{Name: name, Value: value})
		}
	}
}

// finish ends a parse: the strings are fixed and the names indexed.
func (p *UpstreamPage) finish() (*UpstreamPage, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.data, p.buf, p.intern = string(p.buf), nil, nil
	if n := len(p.chunks); n > 0 {
		p.chunks[n-1] = slices.Clip(p.chunks[n-1])
	}
	size := 8
	for size < 2*p.n {
		size <<= 1
	}
	p.slots = make([]int32, size)
	mask := uint64(size - 1)
	for i := 0; i < p.n; i++ {
		name := p.name(i)
		for h := maphash.String(pageSeed, name) & mask; ; h = (h + 1) & mask {
			s := p.slots[h]
			if s == 0 {
				p.slots[h] = int32(i + 1)
				break
			}
			if p.name(int(s-1)) == name {
				break // the first file of a name is the one listed
			}
		}
	}
	return p, nil
}

// ParseUpstreamPage parses a project page in the representation its
// Content-Type names: PEP 691 JSON, else PEP 503 HTML. Relative links are
// resolved against pageURL.
func ParseUpstreamPage(body []byte, contentType, pageURL string) (*UpstreamPage, error) {
	return readUpstreamPage(bytes.NewReader(body), contentType, pageURL)
}

// readUpstreamPage is ParseUpstreamPage reading the page from r as a
// stream: whatever the size of the page, only the file entries are kept
// (compactly, copies, never a part of the body), and what is buffered of
// the body at once is bounded (a tag, an anchor's text, a JSON file
// entry), so that a page of a hundred megabytes, or a gzip bomb, costs
// its entries alone.
func readUpstreamPage(r io.Reader, contentType, pageURL string) (*UpstreamPage, error) {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, err
	}
	ct := strings.ToLower(contentType)
	if strings.Contains(ct, "json") {
		return parseUpstreamJSON(r, base)
	}
	return readUpstreamHTML(r, base)
}

// cost estimates the memory the page takes.
func (p *UpstreamPage) cost() int64 {
	return 256 + int64(len(p.data)) + int64(len(p.slots))*4 + int64(len(p.chunks))*(1<<chunkShift)*int64(unsafe.Sizeof(upEntry{}))
}

// Bounds of what the streaming parsers hold of a page at once: a JSON file
// entry (a bigger one is skipped), an HTML tag (a longer one is skipped)
// and an anchor's text (a longer one is dropped: the file name is then
// taken from the URL).
const (
	maxJSONFileEntry = 1 << 20
	maxJSONMeta      = 64 << 10
	maxHTMLTag       = 64 << 10
	maxAnchorText    = 64 << 10
)

// upstreamJSONFile is a file entry of a PEP 691 page.
type upstreamJSONFile struct {
	Filename       string            `json:"filename"`
	URL            string            `json:"url"`
	Hashes         map[string]string `json:"hashes"`
	RequiresPython *string           `json:"requires-python"`
	Yanked         json.RawMessage   `json:"yanked"`
	CoreMetadata   json.RawMessage   `json:"core-metadata"`
	DistInfo       json.RawMessage   `json:"dist-info-metadata"`
	Size           *int64            `json:"size"`
	UploadTime     string            `json:"upload-time"`
}

// parseUpstreamJSON reads a PEP 691 page one member, and one file entry,
// at a time.
func parseUpstreamJSON(r io.Reader, base *url.URL) (*UpstreamPage, error) {
	fail := func(err error) (*UpstreamPage, error) {
		return nil, fmt.Errorf("upstream JSON simple page: %w", err)
	}
	s := jsonstream.New(r)
	isObject, err := s.Object()
	if err != nil {
		return fail(err)
	}
	if !isObject {
		return fail(errors.New("null"))
	}
	var meta struct {
		APIVersion string `json:"api-version"`
	}
	p := &UpstreamPage{}
	var buf []byte
	for first := true; ; first = false {
		key, ok, err := s.Member(first)
		if err != nil {
			return fail(err)
		}
		if !ok {
			break
		}
		switch {
		case strings.EqualFold(key, "meta"):
			v, err := s.Value(buf, maxJSONMeta)
			if err != nil {
				return fail(err)
			}
			buf = v
			if err := json.Unmarshal(v, &meta); err != nil {
				return fail(err)
			}
		case strings.EqualFold(key, "files"):
			p = &UpstreamPage{} // the last "files" counts
			isArray, err := s.Array()
			if err != nil {
				return fail(err)
			}
			for first := true; isArray; first = false {
				more, err := s.Elem(first)
				if err != nil {
					return fail(err)
				}
				if !more {
					break
				}
				v, err := s.Value(buf, maxJSONFileEntry)
				if errors.Is(err, jsonstream.ErrTooBig) {
					continue // no index writes such an entry
				}
				if err != nil {
					return fail(err)
				}
				buf = v
				var f upstreamJSONFile
				if err := json.Unmarshal(v, &f); err != nil {
					return fail(err)
				}
				if uf, ok := jsonFile(&f, base); ok {
					if err := p.add(&uf); err != nil {
						return fail(err)
					}
				}
			}
		default:
			if err := s.Skip(); err != nil {
				return fail(err)
			}
		}
	}
	if err := s.End(); err != nil {
		return nil, errors.New("upstream JSON simple page: data after the document")
	}
	if major, _, _ := strings.Cut(meta.APIVersion, "."); major != "1" {
		return nil, fmt.Errorf("upstream JSON simple page has api-version %q; only 1.x is understood", meta.APIVersion)
	}
	return p.finish()
}

// jsonFile turns a PEP 691 file entry into a file entry.
func jsonFile(f *upstreamJSONFile, base *url.URL) (UpstreamFile, bool) {
	u, err := base.Parse(f.URL)
	if err != nil || f.Filename == "" {
		return UpstreamFile{}, false
	}
	u.Fragment = ""
	uf := UpstreamFile{Filename: f.Filename, URL: u.String(), Hashes: hashesOf(lowerHashes(f.Hashes)), Size: -1}
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
	return uf, true
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

func jsonCoreMetadata(raw json.RawMessage) *Hashes {
	if len(raw) == 0 {
		return nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return &Hashes{}
		}
		return nil
	}
	var h map[string]string
	if json.Unmarshal(raw, &h) == nil {
		hs := hashesOf(lowerHashes(h))
		return &hs
	}
	return nil
}

// readUpstreamHTML reads the anchors of a PEP 503 page (and a <base href>)
// from a stream, tolerant of the HTML real indexes write. It holds one tag
// (at most maxHTMLTag bytes: a longer one is skipped) and one anchor's
// text (at most maxAnchorText) at a time. An anchor without its closing
// tag ends the page.
func readUpstreamHTML(r io.Reader, base *url.URL) (*UpstreamPage, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	p := &UpstreamPage{}
	var tag, text []byte
	for {
		if err := skipPast(br, '<'); err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
		var complete bool
		var err error
		tag, complete, err = readUntil(br, '>', tag[:0], maxHTMLTag)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !complete {
			continue
		}
		name, attrs := parseTag(string(tag))
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
			var closed bool
			text, complete, closed, err = readAnchorText(br, text[:0], maxAnchorText)
			if err != nil && err != io.EOF {
				return nil, err
			}
			if !closed {
				return p.finish()
			}
			t := ""
			if complete {
				t = strings.TrimSpace(html.UnescapeString(stripTags(string(text))))
			}
			if f, ok := anchorFile(base, href, t, attrs); ok {
				if err := p.add(&f); err != nil {
					return nil, err
				}
			}
		}
	}
	return p.finish()
}

// skipPast reads up to and including the next c.
func skipPast(br *bufio.Reader, c byte) error {
	for {
		_, err := br.ReadSlice(c)
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// readUntil appends to b what comes before the next c, and reads c.
// complete is false when that was more than limit bytes (b then holds
// what fitted).
func readUntil(br *bufio.Reader, c byte, b []byte, limit int) (_ []byte, complete bool, err error) {
	complete = true
	for {
		chunk, err := br.ReadSlice(c)
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if complete && len(b)+len(chunk) <= limit {
			b = append(b, chunk...)
		} else {
			complete = false
		}
		if err != bufio.ErrBufferFull {
			return b, complete, err
		}
	}
}

// readAnchorText appends to b an anchor's content, up to the first "</a"
// (in any case), which it reads. closed is false when the page ends first;
// complete is false when the content was longer than limit.
func readAnchorText(br *bufio.Reader, b []byte, limit int) (_ []byte, complete, closed bool, err error) {
	complete = true
	add := func(p []byte) {
		if complete && len(b)+len(p) <= limit {
			b = append(b, p...)
		} else {
			complete = false
		}
	}
	for {
		chunk, err := br.ReadSlice('<')
		if err == bufio.ErrBufferFull {
			add(chunk)
			continue
		}
		if err != nil {
			return b, complete, false, err
		}
		add(chunk[:len(chunk)-1])
		next, _ := br.Peek(2)
		if len(next) == 2 && next[0] == '/' && (next[1] == 'a' || next[1] == 'A') {
			br.Discard(2)
			return b, complete, true, nil
		}
		add([]byte{'<'})
	}
}

// anchorFile turns one anchor of a simple page into a file entry.
func anchorFile(base *url.URL, href, text string, attrs map[string]string) (UpstreamFile, bool) {
	u, err := base.Parse(href)
	if err != nil {
		return UpstreamFile{}, false
	}
	f := UpstreamFile{Size: -1}
	if u.Fragment != "" {
		if alg, v, ok := strings.Cut(u.Fragment, "="); ok {
			if v = strings.ToLower(v); isHex(v) {
				f.Hashes = hashesOf(map[string]string{strings.ToLower(alg): v})
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
		f.CoreMetadata = &Hashes{}
		if alg, v, found := strings.Cut(cm, "="); found && isHex(strings.ToLower(v)) {
			*f.CoreMetadata = hashesOf(map[string]string{strings.ToLower(alg): strings.ToLower(v)})
		}
	}
	return f, true
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
