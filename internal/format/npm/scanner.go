package npm

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"coffer/internal/fault"
)

// bodyScanner reads the JSON body of an npm PUT (a publish, or a metadata
// update) as a stream, so that a tarball of up to 2 GB is never held in
// memory: every member is kept as raw JSON except the "data" strings of
// "_attachments", which are handed out as readers of the decoded string
// (the base64 text; the caller decodes it). The body has a fixed shape:
//
//	{ <member>..., "_attachments": { "<file>": { "data": "<base64>", <member>... }, ... }, <member>... }
//
// Everything but the base64 characters of data counts against a budget
// (Config.MaxDocumentSize): JSON escapes inside data do too, so that the
// body's bytes are bounded by the budget and what the data decodes to.
// Duplicate keys are refused, as is anything after the top-level object
// but white space. Errors are fault.Validation (fault.Quota for the
// budget) and sticky.
type bodyScanner struct {
	r      *bufio.Reader
	limit  int64
	budget int64
	// level: 0 before the top-level object, 1 in it, 2 in "_attachments",
	// 3 in one attachment.
	level   int
	first   bool // no member read yet at this level
	members map[string]json.RawMessage
	atts    []*attachment
	sawAtts bool
	err     error
}

// attachment is one entry of "_attachments".
type attachment struct {
	name    string
	members map[string]json.RawMessage // content_type, length, ...
	hasData bool
}

func newBodyScanner(r io.Reader, budget int64) *bodyScanner {
	return &bodyScanner{r: bufio.NewReaderSize(r, 64<<10), limit: budget, budget: budget, members: map[string]json.RawMessage{}}
}

// fail records the body's first error.
func (s *bodyScanner) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

func (s *bodyScanner) malformed(format string, args ...any) error {
	return s.fail(fault.Validation("Malformed publish body: "+format, args...))
}

// readByte reads one byte of JSON, charged to the budget.
func (s *bodyScanner) readByte() (byte, error) {
	if s.err != nil {
		return 0, s.err
	}
	c, err := s.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, s.malformed("the body ends early")
		}
		return 0, s.fail(fault.Validation("The publish body could not be read: %v", err))
	}
	if err := s.charge(1); err != nil {
		return 0, err
	}
	return c, nil
}

// charge counts n bytes against the budget.
func (s *bodyScanner) charge(n int64) error {
	if s.budget -= n; s.budget < 0 {
		return s.fail(fault.Quota("package", "", "The JSON of the request exceeds the limit of %d bytes", s.limit))
	}
	return nil
}

// nonSpace returns the next byte that is not JSON white space.
func (s *bodyScanner) nonSpace() (byte, error) {
	for {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

func (s *bodyScanner) expect(want byte) error {
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	if c != want {
		return s.malformed("expected %q, found %q", want, c)
	}
	return nil
}

// next advances to the next attachment "data" string and returns true,
// positioned inside it (read it with dataReader before calling next
// again), or reads to the end of the body and returns false.
func (s *bodyScanner) next() (bool, error) {
	if s.err != nil {
		return false, s.err
	}
	if s.level == 0 {
		if err := s.expect('{'); err != nil {
			return false, err
		}
		s.level, s.first = 1, true
	}
	for s.level > 0 {
		c, err := s.nonSpace()
		if err != nil {
			return false, err
		}
		if c == '}' {
			s.level--
			s.first = false
			continue
		}
		if !s.first {
			if c != ',' {
				return false, s.malformed("expected ',' or '}', found %q", c)
			}
			if c, err = s.nonSpace(); err != nil {
				return false, err
			}
		}
		s.first = false
		if c != '"' {
			return false, s.malformed("expected a member name, found %q", c)
		}
		key, err := s.readKey()
		if err != nil {
			return false, err
		}
		if err := s.expect(':'); err != nil {
			return false, err
		}
		switch s.level {
		case 1:
			if key == "_attachments" {
				if s.sawAtts {
					return false, s.malformed("duplicate member %q", key)
				}
				s.sawAtts = true
				c, err := s.nonSpace()
				if err != nil {
					return false, err
				}
				if c == 'n' { // null
					if err := s.literal("ull"); err != nil {
						return false, err
					}
					continue
				}
				if c != '{' {
					return false, s.malformed("_attachments must be an object")
				}
				s.level, s.first = 2, true
				continue
			}
			if _, dup := s.members[key]; dup {
				return false, s.malformed("duplicate member %q", key)
			}
			raw, err := s.readValue()
			if err != nil {
				return false, err
			}
			s.members[key] = raw
		case 2:
			for _, a := range s.atts {
				if a.name == key {
					return false, s.malformed("duplicate attachment %q", key)
				}
			}
			if err := s.expect('{'); err != nil {
				return false, err
			}
			s.atts = append(s.atts, &attachment{name: key, members: map[string]json.RawMessage{}})
			s.level, s.first = 3, true
		case 3:
			a := s.atts[len(s.atts)-1]
			if key == "data" {
				if a.hasData {
					return false, s.malformed("duplicate member \"data\" in attachment %q", a.name)
				}
				if err := s.expect('"'); err != nil {
					return false, s.malformed("the data of attachment %q must be a string", a.name)
				}
				a.hasData = true
				return true, nil
			}
			if _, dup := a.members[key]; dup {
				return false, s.malformed("duplicate member %q in attachment %q", key, a.name)
			}
			raw, err := s.readValue()
			if err != nil {
				return false, err
			}
			a.members[key] = raw
		}
	}
	// Only white space may follow.
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, s.fail(fault.Validation("The publish body could not be read: %v", err))
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false, s.malformed("unexpected %q after the document", c)
		}
	}
}

func (s *bodyScanner) literal(rest string) error {
	for i := 0; i < len(rest); i++ {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c != rest[i] {
			return s.malformed("invalid literal")
		}
	}
	return nil
}

// readKey reads a member name (its opening quote consumed).
func (s *bodyScanner) readKey() (string, error) {
	raw := []byte{'"'}
	raw, err := s.appendString(raw)
	if err != nil {
		return "", err
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", s.malformed("invalid member name")
	}
	return k, nil
}

// appendString appends the rest of a string (opening quote consumed) to b,
// closing quote included.
func (s *bodyScanner) appendString(b []byte) ([]byte, error) {
	for {
		c, err := s.readByte()
		if err != nil {
			return nil, err
		}
		b = append(b, c)
		switch {
		case c == '"':
			return b, nil
		case c == '\\':
			if c, err = s.readByte(); err != nil {
				return nil, err
			}
			b = append(b, c)
		case c < 0x20:
			return nil, s.malformed("control character in a string")
		}
	}
}

// readValue reads one JSON value as raw bytes, checked with json.Valid.
func (s *bodyScanner) readValue() (json.RawMessage, error) {
	c, err := s.nonSpace()
	if err != nil {
		return nil, err
	}
	b := []byte{c}
	switch c {
	case '"':
		if b, err = s.appendString(b); err != nil {
			return nil, err
		}
	case '{', '[':
		depth := 1
		for depth > 0 {
			c, err := s.readByte()
			if err != nil {
				return nil, err
			}
			b = append(b, c)
			switch c {
			case '"':
				if b, err = s.appendString(b); err != nil {
					return nil, err
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
	default:
		// A number or a literal: up to the next delimiter.
		for {
			p, err := s.r.Peek(1)
			if err != nil || p[0] == ',' || p[0] == '}' || p[0] == ']' || p[0] == ' ' || p[0] == '\t' || p[0] == '\n' || p[0] == '\r' {
				break
			}
			c, err := s.readByte()
			if err != nil {
				return nil, err
			}
			b = append(b, c)
		}
	}
	if !json.Valid(b) {
		return nil, s.malformed("invalid JSON value")
	}
	return b, nil
}

// dataReader returns a reader of the data string the scanner is
// positioned in: its characters, JSON escapes decoded, up to the closing
// quote (then io.EOF). Only ASCII may appear (it is base64 text).
func (s *bodyScanner) dataReader() io.Reader { return &stringReader{s: s} }

type stringReader struct {
	s    *bodyScanner
	done bool
}

func (sr *stringReader) Read(p []byte) (int, error) {
	s := sr.s
	if s.err != nil {
		return 0, s.err
	}
	if sr.done {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) {
		if s.r.Buffered() == 0 {
			if n > 0 {
				return n, nil // hand out what there is before blocking
			}
			if _, err := s.r.Peek(1); err != nil {
				if err == io.EOF {
					return n, s.malformed("the body ends inside the attachment data")
				}
				return n, s.fail(fault.Validation("The publish body could not be read: %v", err))
			}
		}
		buf, _ := s.r.Peek(s.r.Buffered())
		i := 0
		for i < len(buf) && i < len(p)-n {
			c := buf[i]
			if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
			i++
		}
		copy(p[n:], buf[:i])
		s.r.Discard(i)
		n += i
		if n == len(p) || i == len(buf) {
			continue
		}
		c, _ := s.r.ReadByte()
		switch {
		case c == '"':
			sr.done = true
			return n, nil
		case c == '\\':
			if err := s.charge(2); err != nil {
				return n, err
			}
			e, err := s.r.ReadByte()
			if err != nil {
				return n, s.malformed("the body ends inside the attachment data")
			}
			switch e {
			case '/', '"', '\\':
				p[n] = e
			case 'n':
				p[n] = '\n'
			case 'r':
				p[n] = '\r'
			case 't':
				p[n] = '\t'
			case 'u':
				if err := s.charge(4); err != nil {
					return n, err
				}
				var hexs [4]byte
				if _, err := io.ReadFull(s.r, hexs[:]); err != nil {
					return n, s.malformed("the body ends inside the attachment data")
				}
				// Exactly four hex digits, as JSON has them (no sign, no 0x).
				r, err := strconv.ParseUint(string(hexs[:]), 16, 16)
				if err != nil || r >= utf8.RuneSelf {
					return n, s.malformed("unexpected character in the attachment data")
				}
				p[n] = byte(r)
			default:
				return n, s.malformed("invalid escape in the attachment data")
			}
			n++
		default:
			return n, s.malformed("unexpected character in the attachment data")
		}
	}
	return n, nil
}
