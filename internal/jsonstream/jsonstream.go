// Package jsonstream reads large JSON documents from upstreams (npm
// packuments, PyPI PEP 691 pages) as a stream, one member or element at a
// time, keeping only the values a caller takes.
package jsonstream

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Stream reads a JSON document from a stream one member at a time, so
// that a document of a hundred megabytes is never whole in memory: the
// caller walks the objects it cares about (Object, Member, Array, Elem) and takes each
// value it needs as raw bytes (Value, bounded), skipping the rest (Skip)
// without keeping it. It checks the structure it reads (strings, nesting,
// separators); the values taken are checked by whoever decodes them.
// Errors are sticky.
type Stream struct {
	r     *bufio.Reader
	err   error
	stack []byte // brackets open in the value being read
}

// MaxDepth bounds the nesting of a value read or skipped, as encoding/json
// does, so that a document of brackets alone cannot grow the record of the
// open ones without bound.
const MaxDepth = 10000

// ErrTooBig: a value exceeds the limit given to value (it was read to
// its end and dropped).
var ErrTooBig = errors.New("JSON value too big")

// New reads the document r holds.
func New(r io.Reader) *Stream {
	return &Stream{r: bufio.NewReaderSize(r, 64<<10)}
}

func (s *Stream) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

func (s *Stream) syntax(format string, args ...any) error {
	return s.fail(fmt.Errorf("invalid JSON: "+format, args...))
}

func (s *Stream) readByte() (byte, error) {
	if s.err != nil {
		return 0, s.err
	}
	c, err := s.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, s.syntax("unexpected end of the document")
		}
		return 0, s.fail(err)
	}
	return c, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peek returns the next byte that is not white space, without reading it.
func (s *Stream) peek() (byte, error) {
	for {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(c) {
			s.r.UnreadByte()
			return c, nil
		}
	}
}

// next reads the next byte that is not white space.
func (s *Stream) next() (byte, error) {
	if _, err := s.peek(); err != nil {
		return 0, err
	}
	return s.readByte()
}

// object starts reading an object: false (and the literal read) for null,
// an error for any other value.
func (s *Stream) Object() (bool, error) {
	c, err := s.next()
	if err != nil {
		return false, err
	}
	switch c {
	case '{':
		return true, nil
	case 'n':
		return false, s.literal("ull")
	}
	return false, s.syntax("expected an object, found %q", c)
}

// member reads the next member name of the object being read (after
// object, or after the previous member's value), with its colon; ok is
// false at the object's end. first is true for the first call.
func (s *Stream) Member(first bool) (key string, ok bool, err error) {
	c, err := s.next()
	if err != nil {
		return "", false, err
	}
	if c == '}' {
		return "", false, nil
	}
	if !first {
		if c != ',' {
			return "", false, s.syntax("expected ',' or '}' after a member, found %q", c)
		}
		if c, err = s.next(); err != nil {
			return "", false, err
		}
	}
	if c != '"' {
		return "", false, s.syntax("expected a member name, found %q", c)
	}
	keep, tooBig := true, false
	raw, err := s.appendStringEmit([]byte{'"'}, &keep, &tooBig, maxMemberName)
	if err != nil {
		return "", false, err
	}
	if tooBig {
		return "", false, s.syntax("member name over %d bytes", maxMemberName)
	}
	if err := json.Unmarshal(raw, &key); err != nil {
		return "", false, s.syntax("invalid member name")
	}
	if c, err = s.next(); err != nil {
		return "", false, err
	}
	if c != ':' {
		return "", false, s.syntax("expected ':' after a member name, found %q", c)
	}
	return key, true, nil
}

// maxMemberName bounds the member names member reads.
const maxMemberName = 64 << 10

// array starts reading an array: false (and the literal read) for null,
// an error for any other value.
func (s *Stream) Array() (bool, error) {
	c, err := s.next()
	if err != nil {
		return false, err
	}
	switch c {
	case '[':
		return true, nil
	case 'n':
		return false, s.literal("ull")
	}
	return false, s.syntax("expected an array, found %q", c)
}

// elem reads up to the next element of the array being read (after array,
// or after the previous element): false at the array's end. first is true
// for the first call.
func (s *Stream) Elem(first bool) (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == ']' {
		s.r.ReadByte()
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, s.syntax("expected ',' or ']' after an element, found %q", c)
		}
		s.r.ReadByte()
	}
	return true, nil
}

// end reads what follows the top-level value: white space only.
func (s *Stream) End() error {
	if s.err != nil {
		return s.err
	}
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return s.fail(err)
		}
		if !isSpace(c) {
			return s.syntax("unexpected %q after the document", c)
		}
	}
}

func (s *Stream) literal(rest string) error {
	for i := 0; i < len(rest); i++ {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c != rest[i] {
			return s.syntax("invalid literal")
		}
	}
	return nil
}

// skip reads the next value and drops it.
func (s *Stream) Skip() error {
	_, err := s.read(nil, false, 0)
	return err
}

// value reads the next value into dst[:0]; a value over limit bytes is
// read to its end and dropped (ErrTooBig, not sticky).
func (s *Stream) Value(dst []byte, limit int) ([]byte, error) {
	return s.read(dst[:0], true, limit)
}

// read reads one value, appending it to out while keep holds.
func (s *Stream) read(out []byte, keep bool, limit int) ([]byte, error) {
	c, err := s.next()
	if err != nil {
		return nil, err
	}
	tooBig := false
	emit := func(b ...byte) {
		if !keep {
			return
		}
		if len(out)+len(b) > limit {
			keep, tooBig, out = false, true, nil
			return
		}
		out = append(out, b...)
	}
	emit(c)
	s.stack = s.stack[:0]
	switch c {
	case '"':
		var err error
		if out, err = s.appendStringEmit(out, &keep, &tooBig, limit); err != nil {
			return nil, err
		}
	case '{', '[':
		s.stack = append(s.stack, c)
		for len(s.stack) > 0 {
			c, err := s.readByte()
			if err != nil {
				return nil, err
			}
			emit(c)
			switch c {
			case '"':
				if out, err = s.appendStringEmit(out, &keep, &tooBig, limit); err != nil {
					return nil, err
				}
			case '{', '[':
				if len(s.stack) >= MaxDepth {
					return nil, s.syntax("nested more than %d levels deep", MaxDepth)
				}
				s.stack = append(s.stack, c)
			case '}', ']':
				open := s.stack[len(s.stack)-1]
				if open == '{' && c != '}' || open == '[' && c != ']' {
					return nil, s.syntax("mismatched %q", c)
				}
				s.stack = s.stack[:len(s.stack)-1]
			}
		}
	case 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// A number or a literal: up to the next delimiter.
		for {
			p, err := s.r.Peek(1)
			if err != nil && err != io.EOF {
				return nil, s.fail(err) // the value may go on
			}
			if err != nil || p[0] == ',' || p[0] == '}' || p[0] == ']' || isSpace(p[0]) {
				break
			}
			c, _ := s.r.ReadByte()
			emit(c)
		}
	default:
		return nil, s.syntax("unexpected %q", c)
	}
	if tooBig {
		return nil, ErrTooBig
	}
	return out, nil
}

// appendStringEmit appends the rest of a string (its opening quote
// read) to b, closing quote included, while keep holds; it stops keeping
// (and sets tooBig) when b would exceed limit.
func (s *Stream) appendStringEmit(b []byte, keep, tooBig *bool, limit int) ([]byte, error) {
	for {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				if err == io.EOF {
					return nil, s.syntax("unexpected end of the document in a string")
				}
				return nil, s.fail(err)
			}
		}
		buf, _ := s.r.Peek(s.r.Buffered())
		i := 0
		for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] >= 0x20 {
			i++
		}
		if *keep {
			if len(b)+i+1 > limit {
				*keep, *tooBig, b = false, true, nil
			} else {
				b = append(b, buf[:i]...)
			}
		}
		s.r.Discard(i)
		if i == len(buf) {
			continue
		}
		c, _ := s.r.ReadByte()
		switch {
		case c < 0x20:
			return nil, s.syntax("control character in a string")
		case c == '"':
			if *keep {
				b = append(b, c)
			}
			return b, nil
		}
		// A backslash: the escaped byte is taken as is (a \" does not
		// end the string).
		e, err := s.readByte()
		if err != nil {
			return nil, err
		}
		if *keep {
			b = append(b, c, e)
		}
	}
}
