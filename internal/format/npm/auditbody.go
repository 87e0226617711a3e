package npm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"coffer/internal/fault"
)

const (
	// maxAuditBody bounds an audit request body as it arrives. npm sends
	// {name: [versions]} (bulk) or its dependency tree (quick), gzipped:
	// a few hundred KiB for thousands of dependencies.
	maxAuditBody = 4 << 20
	// maxAuditDecoded bounds its decompressed form.
	maxAuditDecoded = 16 << 20
)

// errAuditTooBig is what a capped reader returns past its bound.
var errAuditTooBig = errors.New("over the bound")

// cappedReader reads at most max bytes of r; past them it fails with
// errAuditTooBig (and over is set).
type cappedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errAuditTooBig
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		c.over = true
		return 0, errAuditTooBig
	}
	return n, err
}

// readAudit reads an audit request body to its end as it streams — the
// body on the wire bounded by maxAuditBody, its decompressed form (gzip,
// as npm sends it: by Content-Encoding or by its magic number) by
// maxAuditDecoded — and counts the dependencies of a quick audit on the
// way. Nothing of the body is held. A body that is not JSON, or not
// gzip, counts no dependencies; only a body over a bound (fault.Quota)
// or one that could not be read (fault.Validation) is an error.
func readAudit(body io.Reader, encoding string) (int, error) {
	req, err := scanAudit(body, encoding, auditQuick, nil)
	if err != nil {
		return 0, err
	}
	return req.deps, nil
}

// auditRequest is what an audit answer needs of a request body.
type auditRequest struct {
	// deps counts the members of a quick audit's "dependencies".
	deps int
	// pkgs are the packages the body names that want accepted, with
	// their versions; the names in the order met.
	pkgs  map[string]*auditPackage
	names []string
}

// auditPackage is one package of a request: its versions, each once.
type auditPackage struct{ versions []*auditVersion }

// auditVersion is one version of a package in a request and, for a quick
// audit, where it is in the tree: the dependency paths ("a>b>c", at most
// maxFindingPaths) and how many there are.
type auditVersion struct {
	version string
	paths   []string
	n       int
}

const (
	// maxAuditVersions bounds the versions kept of one package.
	maxAuditVersions = 1000
	// maxFindingPaths bounds the paths kept of one version.
	maxFindingPaths = 100
	// maxAuditDepth bounds how deep a quick audit's tree is walked;
	// deeper dependencies are skipped.
	maxAuditDepth = 256
	// maxVersionLen bounds a version read from a body; longer ones are
	// skipped (npm's are far shorter).
	maxVersionLen = 256
)

// add records a version of name (and, for a quick audit, one of its paths).
func (a *auditRequest) add(name, version, path string) {
	p := a.pkgs[name]
	if p == nil {
		p = &auditPackage{}
		a.pkgs[name] = p
		a.names = append(a.names, name)
	}
	var v *auditVersion
	for _, w := range p.versions {
		if w.version == version {
			v = w
			break
		}
	}
	if v == nil {
		if len(p.versions) >= maxAuditVersions {
			return
		}
		v = &auditVersion{version: version}
		p.versions = append(p.versions, v)
	}
	if path != "" {
		v.n++
		if len(v.paths) < maxFindingPaths {
			v.paths = append(v.paths, path)
		}
	}
}

// scanAudit is readAudit that, when want is set, also collects the
// packages and versions of the body that want accepts: from {name:
// [versions]} for the bulk endpoint, from the dependency tree, with each
// version's paths, for the quick one. Members of other types are passed
// over; a body that is not JSON names nothing.
func scanAudit(body io.Reader, encoding string, kind auditKind, want func(name string) bool) (*auditRequest, error) {
	req := &auditRequest{pkgs: map[string]*auditPackage{}}
	wire := &cappedReader{r: body, left: maxAuditBody}
	br := bufio.NewReaderSize(wire, 32<<10)
	var decoded io.Reader = br
	magic, _ := br.Peek(2)
	if strings.EqualFold(strings.TrimSpace(encoding), "gzip") || bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			decoded = nil
		} else {
			decoded = zr
		}
	}
	var plain *cappedReader
	if decoded != nil {
		plain = &cappedReader{r: decoded, left: maxAuditDecoded}
		var err error
		switch {
		case want == nil:
			req.deps, err = countDependencies(plain)
		case kind == auditBulk:
			err = walkBulk(plain, req, want)
		default:
			req.deps, err = walkQuick(plain, req, want)
		}
		if err != nil {
			// Not the JSON the kind expects: nothing counted, nothing
			// named, whatever came before the error.
			req.deps, req.pkgs, req.names = 0, map[string]*auditPackage{}, nil
		}
		_, _ = io.Copy(io.Discard, plain) // to the end: the bounds hold for all of it
	}
	_, err := io.Copy(io.Discard, br)
	switch {
	case wire.over:
		return nil, fault.Quota("audit", "", "The audit request exceeds the limit of %d bytes", maxAuditBody)
	case plain != nil && plain.over:
		return nil, fault.Quota("audit", "", "The audit request exceeds the limit of %d bytes decompressed", maxAuditDecoded)
	case err != nil:
		return nil, fault.Validation("The audit request could not be read: %v", err)
	}
	return req, nil
}

// walkBulk reads a bulk body, {"name": ["version", ...], ...}.
func walkBulk(r io.Reader, req *auditRequest, want func(string) bool) error {
	s := skimmer{r: bufio.NewReaderSize(r, 16<<10)}
	if err := s.expect('{'); err != nil {
		return err
	}
	return s.members(func(name string) error {
		c, err := s.nonSpace()
		if err != nil {
			return err
		}
		if c != '[' || name == "" || !want(name) {
			return s.skipValue(c)
		}
		return s.elements(func(c byte) error {
			if c != '"' {
				return s.skipValue(c)
			}
			v, err := s.str(maxVersionLen)
			if err == nil && v != "" {
				req.add(name, v, "")
			}
			return err
		})
	})
}

// walkQuick reads a quick-audit body, npm's v6 dependency tree
// ({"dependencies": {"name": {"version": "1.0.0", "dependencies":
// {...}}}}), and counts its top-level dependencies as countDependencies
// does.
func walkQuick(r io.Reader, req *auditRequest, want func(string) bool) (int, error) {
	s := skimmer{r: bufio.NewReaderSize(r, 16<<10)}
	if err := s.expect('{'); err != nil {
		return 0, err
	}
	count := 0
	var path []string
	// tree walks a "dependencies" object whose "{" has been read.
	var tree func(depth int) (int, error)
	tree = func(depth int) (int, error) {
		n := 0
		err := s.members(func(name string) error {
			n++
			c, err := s.nonSpace()
			if err != nil {
				return err
			}
			if c != '{' {
				return s.skipValue(c)
			}
			path = append(path, name)
			defer func() { path = path[:len(path)-1] }()
			version := ""
			err = s.members(func(key string) error {
				c, err := s.nonSpace()
				if err != nil {
					return err
				}
				switch {
				case key == "version" && c == '"':
					version, err = s.str(maxVersionLen)
					return err
				case key == "dependencies" && c == '{' && depth < maxAuditDepth:
					_, err := tree(depth + 1)
					return err
				}
				return s.skipValue(c)
			})
			if err == nil && version != "" && name != "" && want(name) {
				req.add(name, version, strings.Join(path, ">"))
			}
			return err
		})
		return n, err
	}
	err := s.members(func(key string) error {
		c, err := s.nonSpace()
		if err != nil {
			return err
		}
		if key != "dependencies" || c != '{' {
			if key == "dependencies" {
				count = 0
			}
			return s.skipValue(c)
		}
		count, err = tree(0)
		return err
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// countDependencies counts the members of the "dependencies" object of a
// JSON object (npm's quick-audit body; the last "dependencies" member
// counts, as encoding/json reads it), skimming the document as it streams:
// no value is kept, whatever its size or depth. Its error says the
// document is not JSON (it is lenient inside the values it skips).
func countDependencies(r io.Reader) (int, error) {
	s := skimmer{r: bufio.NewReaderSize(r, 16<<10)}
	if err := s.expect('{'); err != nil {
		return 0, err
	}
	count := 0
	err := s.members(func(key string) error {
		c, err := s.nonSpace()
		if err != nil {
			return err
		}
		if key != "dependencies" || c != '{' {
			if key == "dependencies" {
				count = 0
			}
			return s.skipValue(c)
		}
		n := 0
		err = s.members(func(string) error {
			n++
			c, err := s.nonSpace()
			if err != nil {
				return err
			}
			return s.skipValue(c)
		})
		count = n
		return err
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// errNotJSON is the skimmer's error.
var errNotJSON = errors.New("not JSON")

// skimmer walks JSON without keeping it.
type skimmer struct{ r *bufio.Reader }

func (s *skimmer) byte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == io.EOF {
		return 0, errNotJSON
	}
	return c, err
}

func (s *skimmer) nonSpace() (byte, error) {
	for {
		c, err := s.byte()
		if err != nil || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return c, err
		}
	}
}

func (s *skimmer) expect(want byte) error {
	c, err := s.nonSpace()
	if err == nil && c != want {
		err = errNotJSON
	}
	return err
}

// members walks the members of an object whose "{" has been read: fn reads
// each member's value, given its name.
func (s *skimmer) members(fn func(key string) error) error {
	c, err := s.nonSpace()
	if err != nil || c == '}' {
		return err
	}
	for {
		if c != '"' {
			return errNotJSON
		}
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
		if c, err = s.nonSpace(); err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if c != ',' {
			return errNotJSON
		}
		if c, err = s.nonSpace(); err != nil {
			return err
		}
	}
}

// maxKey is the longest member name, as sent, that key decodes; longer
// ones come back empty (none of them is one the skimmer looks for, even
// written with \u escapes: npm's package names have at most 214
// characters).
const maxKey = 512

// key reads a member name whose opening quote has been read.
func (s *skimmer) key() (string, error) { return s.str(maxKey) }

// elements walks the elements of an array whose "[" has been read: fn
// reads each, given its first byte.
func (s *skimmer) elements(fn func(c byte) error) error {
	c, err := s.nonSpace()
	if err != nil || c == ']' {
		return err
	}
	for {
		if err := fn(c); err != nil {
			return err
		}
		if c, err = s.nonSpace(); err != nil {
			return err
		}
		if c == ']' {
			return nil
		}
		if c != ',' {
			return errNotJSON
		}
		if c, err = s.nonSpace(); err != nil {
			return err
		}
	}
}

// str reads a string whose opening quote has been read and decodes it
// when it is at most maxRaw bytes as sent; a longer one comes back empty.
func (s *skimmer) str(maxRaw int) (string, error) {
	raw := []byte{'"'}
	long := false
	for {
		c, err := s.byte()
		if err != nil {
			return "", err
		}
		if c < 0x20 {
			return "", errNotJSON
		}
		if !long {
			raw = append(raw, c)
			long = len(raw) > maxRaw
		}
		if c == '"' {
			break
		}
		if c == '\\' {
			e, err := s.byte()
			if err != nil {
				return "", err
			}
			if !long {
				raw = append(raw, e)
			}
		}
	}
	if long {
		return "", nil
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", errNotJSON
	}
	return k, nil
}

// skipString skips the rest of a string whose opening quote has been read.
func (s *skimmer) skipString() error {
	for {
		c, err := s.byte()
		switch {
		case err != nil:
			return err
		case c == '"':
			return nil
		case c == '\\':
			if _, err := s.byte(); err != nil {
				return err
			}
		case c < 0x20:
			return errNotJSON
		}
	}
}

// skipValue skips a value whose first byte, c, has been read.
func (s *skimmer) skipValue(c byte) error {
	switch {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		for depth := 1; depth > 0; {
			c, err := s.byte()
			if err != nil {
				return err
			}
			switch c {
			case '"':
				if err := s.skipString(); err != nil {
					return err
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		return nil
	case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n':
		// A number or a literal: up to the next delimiter.
		for {
			p, err := s.r.Peek(1)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			switch p[0] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return nil
			}
			s.r.ReadByte()
		}
	}
	return errNotJSON
}
