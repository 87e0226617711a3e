package jsonstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// readers wraps a document in each reader shape the stream must not depend
// on: whole, one byte a read (every token split across fills), half reads,
// and the last data coming with io.EOF.
var readers = []struct {
	name string
	wrap func([]byte) io.Reader
}{
	{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"onebyte", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"dataerr", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
}

// validValues are JSON values of every kind, with the inner white space
// and escapes a Value must give back byte for byte.
var validValues = []string{
	`""`,
	`"plain"`,
	`"esc \" \\ \/ \b \f \n \r \t"`,
	`"\u00e9\ud83d\ude00 \u0000 \uFFFF"`, // \u escapes, a surrogate pair
	`"\\"`,                               // a string ending in an escaped backslash
	`"\\\""`,
	`"brackets ] } [ { , : in a string"`,
	"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", // raw UTF-8
	`0`,
	`-0`,
	`-12.5e+10`,
	`1E-7`,
	`123456789012345678901234567890`,
	`true`,
	`false`,
	`null`,
	`[]`,
	`{}`,
	`[ ]`,
	`{ }`,
	`[1, "two" ,[ 3 ],{"four":4}]`,
	`{"a" : {"b":["}","{","]","[","\"",":"]}, "c":null}`,
	`[[[[[[[[[[]]]]]]]]]]`,
	`[{"":[{"":[]}]}]`,
	`{"k\"ey":"v\\","":[true,false,null]}`,
	// Over the 64 KiB buffer, so that runs and escapes straddle fills.
	`"` + strings.Repeat(`a\"`, 40000) + `"`,
	`[` + strings.Repeat(`"x\\",`, 20000) + `0]`,
}

// decode decodes a valid JSON document as encoding/json does, numbers
// kept as written.
func decode(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %.80q: %v", b, err)
	}
	return v
}

func isSyntax(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "invalid JSON: ")
}

// skipped stands in a walked value for a value skipped or dropped as too
// big: it matches anything.
type skipped struct{}

// errBadValue: a value taken is not valid JSON; the stream does not check
// the values taken (the caller's decoder does), the walker does.
var errBadValue = errors.New("walker: the value taken is not valid JSON")

var errNoProgress = errors.New("walker: no progress")

// A walker walks a whole document generically and rebuilds it (objects as
// maps, arrays as slices, values decoded as encoding/json decodes them).
// With a zero seed it descends into every object and array and takes
// every other value with Value; otherwise each value is, at random,
// descended into, taken whole with Value under a random limit, or skipped.
type walker struct {
	t        testing.TB
	s        *Stream
	strict   bool
	rnd      uint64
	steps    int
	maxSteps int
	limit    int
	taken    []string // the values taken, in order
}

func newWalker(t testing.TB, r io.Reader, size int, seed uint64) *walker {
	return &walker{t: t, s: New(r), strict: seed == 0, rnd: seed, maxSteps: 3*size + 16, limit: size + 1}
}

// next is splitmix64.
func (w *walker) next() uint64 {
	w.rnd += 0x9e3779b97f4a7c15
	z := w.rnd
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// step counts the calls: each call but Elem(true) reads at least a byte,
// so a walk that does not end within a few calls a byte is stuck.
func (w *walker) step() error {
	w.steps++
	if w.steps > w.maxSteps {
		return errNoProgress
	}
	return nil
}

// doc walks the whole document and what follows it.
func (w *walker) doc() (any, error) {
	v, err := w.value()
	if err != nil {
		return nil, err
	}
	if err := w.step(); err != nil {
		return nil, err
	}
	return v, w.s.End()
}

func (w *walker) value() (any, error) {
	if err := w.step(); err != nil {
		return nil, err
	}
	c, err := w.s.peek()
	if err != nil {
		return nil, err
	}
	mode, limit := 0, w.limit
	if !w.strict {
		r := w.next()
		mode = int(r % 3)
		if r>>8%2 == 0 {
			limit = int(r >> 16 % uint64(w.limit+1))
		}
	}
	switch {
	case mode == 1:
		return skipped{}, w.s.Skip()
	case mode == 2 || c != '{' && c != '[':
		v, err := w.s.Value(nil, limit)
		if errors.Is(err, ErrTooBig) {
			if w.strict {
				w.t.Fatalf("ErrTooBig under a limit over the document's size")
			}
			if w.s.err != nil {
				w.t.Fatalf("ErrTooBig left a sticky error: %v", w.s.err)
			}
			return skipped{}, nil
		}
		if err != nil {
			return nil, err
		}
		if len(v) > limit {
			w.t.Fatalf("Value gave %d bytes over its limit %d", len(v), limit)
		}
		w.taken = append(w.taken, string(v))
		if !json.Valid(v) {
			return nil, errBadValue
		}
		return decode(w.t, v), nil
	case c == '{':
		ok, err := w.s.Object()
		if err != nil || !ok {
			w.t.Fatalf("Object at '{': %v, %v", ok, err)
		}
		m := map[string]any{}
		for first := true; ; first = false {
			if err := w.step(); err != nil {
				return nil, err
			}
			key, ok, err := w.s.Member(first)
			if err != nil {
				return nil, err
			}
			if !ok {
				return m, nil
			}
			v, err := w.value()
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
	default:
		ok, err := w.s.Array()
		if err != nil || !ok {
			w.t.Fatalf("Array at '[': %v, %v", ok, err)
		}
		a := []any{}
		for first := true; ; first = false {
			if err := w.step(); err != nil {
				return nil, err
			}
			ok, err := w.s.Elem(first)
			if err != nil {
				return nil, err
			}
			if !ok {
				return a, nil
			}
			v, err := w.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	}
}

// match reports whether a walked value is the decoded one, skipped values
// matching anything.
func match(got, want any) bool {
	switch g := got.(type) {
	case skipped:
		return true
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, gv := range g {
			wv, ok := w[k]
			if !ok || !match(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		w, ok := want.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range g {
			if !match(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// TestWalk walks nested documents down to their scalars, under every
// reader shape, and rebuilds what encoding/json decodes.
func TestWalk(t *testing.T) {
	docs := []string{
		`{"name":"left-pad","versions":{"1.0.0":{"dist":{"tarball":"https://x/y.tgz","shasum":"ab"}},"1.1.0":null},"dist-tags":{"latest":"1.1.0"}}`,
		" \t\r\n{ \"a\" : [ 1 , 2 , { \"b\" : [ ] } ] , \"c\" : { } }\n\n",
		`{"meta":{"api-version":"1.1"},"files":[{"filename":"a.whl","hashes":{"sha256":"00"},"yanked":false},{"filename":"b.tar.gz","hashes":{},"yanked":"bad"}]}`,
		`{"dup":1,"dup":[2],"Dup":3}`,
		`{"a\u00e9\ud83d\ude00\"\\\/\n":1,"":2,"\u0000":3}`,
		`[[[[[]]],[[[{}]]]],[null,true,false,-1.5e-300,"x"]]`,
		`"top-level string"`,
		`-123.456e78`,
		`null`,
		`[]`,
		`{}`,
	}
	docs = append(docs, validValues...)
	for _, doc := range docs {
		want := decode(t, []byte(doc))
		for _, rd := range readers {
			w := newWalker(t, rd.wrap([]byte(doc)), len(doc), 0)
			got, err := w.doc()
			if err != nil {
				t.Errorf("%s %.60q: %v", rd.name, doc, err)
				continue
			}
			if !match(got, want) {
				t.Errorf("%s %.60q: walked %v, want %v", rd.name, doc, got, want)
			}
		}
	}
}

// TestMember checks member names are decoded, with their escapes.
func TestMember(t *testing.T) {
	s := New(strings.NewReader(`{"a\u00e9\ud83d\ude00\"\\\/\t" : 1 , "" :2,"x":{"y":3}}`))
	if ok, err := s.Object(); !ok || err != nil {
		t.Fatalf("Object: %v, %v", ok, err)
	}
	var keys []string
	for first := true; ; first = false {
		key, ok, err := s.Member(first)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		keys = append(keys, key)
		if err := s.Skip(); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"aé😀\"\\/\t", "", "x"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	if err := s.End(); err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestMemberNameLimit: a member name (with its quotes) of up to 64 KiB
// is read, a longer one refused.
func TestMemberNameLimit(t *testing.T) {
	for _, n := range []int{maxMemberName - 2, maxMemberName - 1, 3 * maxMemberName} {
		name := strings.Repeat("k", n)
		s := New(strings.NewReader(`{"` + name + `":1}`))
		s.Object()
		key, ok, err := s.Member(true)
		if n <= maxMemberName-2 {
			if err != nil || !ok || key != name {
				t.Errorf("name of %d bytes: %v, %v, %d bytes", n, ok, err, len(key))
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "member name over") {
			t.Errorf("name of %d bytes: %v, %v, want a refusal", n, ok, err)
		}
	}
}

// TestNull: Object and Array take null as no object or array, and check
// the literal.
func TestNull(t *testing.T) {
	for _, tc := range []struct {
		doc, err string
	}{
		{"null", ""},
		{" null ", ""},
		{"nul", "unexpected end"},
		{"nulL", "invalid literal"},
		{"nil", "invalid literal"},
		{"true", "expected an"},
		{`"x"`, "expected an"},
		{"1", "expected an"},
	} {
		for _, call := range []struct {
			name  string
			open  byte
			other string
			f     func(*Stream) (bool, error)
		}{
			{"Object", '{', "[]", (*Stream).Object},
			{"Array", '[', "{}", (*Stream).Array},
		} {
			s := New(strings.NewReader(tc.doc))
			ok, err := call.f(s)
			if err == nil {
				err = s.End()
			}
			if ok || !errorIs(err, tc.err) {
				t.Errorf("%s(%q): %v, %v, want error %q", call.name, tc.doc, ok, err, tc.err)
			}
			s = New(strings.NewReader(call.other))
			if ok, err := call.f(s); ok || !errorIs(err, "expected an") {
				t.Errorf("%s(%q): %v, %v, want a refusal", call.name, call.other, ok, err)
			}
		}
	}
}

// errorIs: err is nil for "", else holds want.
func errorIs(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

// TestValue takes values at the top level, as a member and as an element,
// amid white space: each is its exact source bytes, and decodes as the
// document's part does.
func TestValue(t *testing.T) {
	for _, v := range validValues {
		for _, rd := range readers {
			// top level
			s := New(rd.wrap([]byte(" \n" + v + "\t ")))
			got, err := s.Value(nil, len(v))
			if err != nil || string(got) != v {
				t.Errorf("%s top level %.60q: %.60q, %v", rd.name, v, got, err)
			}
			if err := s.End(); err != nil {
				t.Errorf("%s top level %.60q: End: %v", rd.name, v, err)
			}

			// a member, then an element
			doc := " {\"x\" :\r\n " + v + " \n,\"y\": [ " + v + " ,0]}"
			s = New(rd.wrap([]byte(doc)))
			s.Object()
			s.Member(true)
			x, err := s.Value(make([]byte, 0, 8), len(v))
			if err != nil || string(x) != v {
				t.Errorf("%s member %.60q: %.60q, %v", rd.name, v, x, err)
				continue
			}
			s.Member(false)
			s.Array()
			s.Elem(true)
			y, err := s.Value(x, len(v)) // x's buffer reused
			if err != nil || string(y) != v {
				t.Errorf("%s element %.60q: %.60q, %v", rd.name, v, y, err)
				continue
			}
			if len(v) > 8 && &x[0] != &y[0] {
				t.Errorf("%s element %.60q: the buffer given was not reused", rd.name, v)
			}
			want := decode(t, []byte(doc)).(map[string]any)
			if got := decode(t, y); !reflect.DeepEqual(got, want["x"]) {
				t.Errorf("%s %.60q: decodes as %v, want %v", rd.name, v, got, want["x"])
			}
			s.Elem(false)
			if last, err := s.Value(nil, 10); err != nil || string(last) != "0" {
				t.Errorf("%s %.60q: the next element: %q, %v", rd.name, v, last, err)
			}
			if ok, err := s.Elem(false); ok || err != nil {
				t.Errorf("%s %.60q: the array's end: %v, %v", rd.name, v, ok, err)
			}
			if _, ok, err := s.Member(false); ok || err != nil {
				t.Errorf("%s %.60q: the object's end: %v, %v", rd.name, v, ok, err)
			}
			if err := s.End(); err != nil {
				t.Errorf("%s %.60q: End: %v", rd.name, v, err)
			}
		}
	}
}

// TestValueLimit: a value of n bytes is taken under any limit from n up,
// and under a lower one is ErrTooBig, not sticky, with the stream just
// after the value, as the doc comment promises.
func TestValueLimit(t *testing.T) {
	for _, v := range validValues {
		limits := []int{0, 1, len(v) - 2, len(v) - 1, len(v), len(v) + 1}
		if len(v) < 300 {
			limits = limits[:0]
			for l := 0; l <= len(v)+1; l++ {
				limits = append(limits, l)
			}
		}
		for _, limit := range limits {
			if limit < 0 {
				continue
			}
			for _, rd := range readers {
				name := fmt.Sprintf("%s %.40q limit %d", rd.name, v, limit)
				s := New(rd.wrap([]byte(`[` + v + ` , "after"]`)))
				s.Array()
				s.Elem(true)
				got, err := s.Value(nil, limit)
				switch {
				case limit >= len(v):
					if err != nil || string(got) != v {
						t.Errorf("%s: %.40q, %v", name, got, err)
						continue
					}
				case !errors.Is(err, ErrTooBig) || got != nil:
					t.Errorf("%s: %.40q, %v, want ErrTooBig", name, got, err)
					continue
				case s.err != nil:
					t.Errorf("%s: ErrTooBig is sticky: %v", name, s.err)
				}
				if ok, err := s.Elem(false); !ok || err != nil {
					t.Errorf("%s: the next element: %v, %v", name, ok, err)
					continue
				}
				if after, err := s.Value(nil, 7); err != nil || string(after) != `"after"` {
					t.Errorf("%s: the next element: %q, %v", name, after, err)
				}
				if ok, err := s.Elem(false); ok || err != nil {
					t.Errorf("%s: the end: %v, %v", name, ok, err)
				}
				if err := s.End(); err != nil {
					t.Errorf("%s: End: %v", name, err)
				}
			}
		}
	}
}

// TestSkip skips a value of every kind, as an element, as a member and at
// the top level, and reads on.
func TestSkip(t *testing.T) {
	for _, v := range validValues {
		for _, rd := range readers {
			name := fmt.Sprintf("%s %.60q", rd.name, v)
			s := New(rd.wrap([]byte("[ " + v + "\n,\"after\"]")))
			s.Array()
			s.Elem(true)
			if err := s.Skip(); err != nil {
				t.Errorf("%s: Skip: %v", name, err)
				continue
			}
			if ok, err := s.Elem(false); !ok || err != nil {
				t.Errorf("%s: the next element: %v, %v", name, ok, err)
				continue
			}
			if after, err := s.Value(nil, 7); err != nil || string(after) != `"after"` {
				t.Errorf("%s: the next element: %q, %v", name, after, err)
			}
			if ok, err := s.Elem(false); ok || err != nil {
				t.Errorf("%s: the end: %v, %v", name, ok, err)
			}

			s = New(rd.wrap([]byte(`{"skip":` + v + `,"after":true}`)))
			s.Object()
			s.Member(true)
			if err := s.Skip(); err != nil {
				t.Errorf("%s: Skip a member: %v", name, err)
				continue
			}
			if key, ok, err := s.Member(false); key != "after" || !ok || err != nil {
				t.Errorf("%s: the next member: %q, %v, %v", name, key, ok, err)
			}

			s = New(rd.wrap([]byte(v + "\n")))
			if err := s.Skip(); err != nil {
				t.Errorf("%s: Skip the document: %v", name, err)
			} else if err := s.End(); err != nil {
				t.Errorf("%s: End: %v", name, err)
			}
		}
	}
}

// TestMalformed: a generic walk (Object, Member, Array, Elem, Value and
// End; the values taken left unchecked) and a Skip of the whole document
// refuse malformed documents, with the error given.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		walk string // the walk's error
		skip string // Skip's and End's error, "" when the walk's
	}{
		// unterminated strings, truncated documents
		{``, "unexpected end of the document", ""},
		{" \n\t", "unexpected end of the document", ""},
		{`"abc`, "unexpected end of the document in a string", ""},
		{`"abc\"`, "unexpected end of the document in a string", ""},
		{`"abc\`, "unexpected end of the document", ""},
		{`{"a":"abc`, "unexpected end of the document in a string", ""},
		{`{"a`, "unexpected end of the document in a string", ""},
		{`{`, "unexpected end of the document", ""},
		{`{"a"`, "unexpected end of the document", ""},
		{`{"a" `, "unexpected end of the document", ""},
		{`{"a":`, "unexpected end of the document", ""},
		{`{"a":1`, "unexpected end of the document", ""},
		{`{"a":1,`, "unexpected end of the document", ""},
		{`[`, "unexpected end of the document", ""},
		{`[1`, "unexpected end of the document", ""},
		{`[1,`, "unexpected end of the document", ""},
		{`[[1]`, "unexpected end of the document", ""},
		{`[{"a":[{}]}`, "unexpected end of the document", ""},
		// bad escapes (the walk decodes member names; Skip does not
		// check escapes, so no Skip case)
		{`{"a\q":1}`, "invalid member name", "-"},
		{`{"a\u12":1}`, "invalid member name", "-"},
		{`{"a\u12G4":1}`, "invalid member name", "-"},
		// control characters in strings
		{"\"a\x01b\"", "control character in a string", ""},
		{"\"a\nb\"", "control character in a string", ""},
		{"\"a\tb\"", "control character in a string", ""},
		{"\"a\\\x00\"", "", "-"}, // an escaped control character: a bad escape, left to the decoder
		{"{\"a\x1f\":1}", "control character in a string", ""},
		{"[\"\x00\"]", "control character in a string", ""},
		{"{\"a\":{\"b\":\"\x7f\x1f\"}}", "control character in a string", ""},
		// mismatched brackets
		{`[1}`, "expected ',' or ']' after an element, found '}'", "mismatched '}'"},
		{`{"a":1]`, "expected ',' or '}' after a member, found ']'", "mismatched ']'"},
		{`{"a":[}`, "unexpected '}'", "mismatched '}'"},
		{`[{]`, "expected a member name, found ']'", "mismatched ']'"},
		{`]`, "unexpected ']'", ""},
		{`}`, "unexpected '}'", ""},
		// separators and colons
		{`[1 2]`, "expected ',' or ']' after an element, found '2'", "-"},
		{`{"a":1 "b":2}`, "expected ',' or '}' after a member, found '\"'", "-"},
		{`{"a" 1}`, "expected ':' after a member name, found '1'", "-"},
		{`{"a"::1}`, "unexpected ':'", "-"},
		{`{1:2}`, "expected a member name, found '1'", "-"},
		{`{,"a":1}`, "expected a member name, found ','", "-"},
		{`{"a":1,}`, "expected a member name, found '}'", "-"},
		{`{"a":1,,"b":2}`, "expected a member name, found ','", "-"},
		{`[1,]`, "unexpected ']'", "-"},
		{`[,1]`, "unexpected ','", "-"},
		{`[1,,2]`, "unexpected ','", "-"},
		// trailing data
		{`{} x`, "unexpected 'x' after the document", ""},
		{`{}{}`, "unexpected '{' after the document", ""},
		{`[] ]`, "unexpected ']' after the document", ""},
		{`1 2`, "unexpected '2' after the document", ""},
		{`"a""b"`, "unexpected '\"' after the document", ""},
		// values: their first byte is checked, the rest by the decoder
		{`x`, "unexpected 'x'", ""},
		{`True`, "unexpected 'T'", ""},
		{`+1`, "unexpected '+'", ""},
		{`.5`, "unexpected '.'", ""},
		{`'a'`, "unexpected '\\''", ""},
		{"\xef\xbb\xbf{}", "unexpected '", ""}, // a byte order mark
		{`{"a":nul}`, "", "-"},                 // Value takes "nul" for the decoder to refuse
	} {
		for _, rd := range readers {
			w := newWalker(t, rd.wrap([]byte(tc.doc)), len(tc.doc), 0)
			_, err := w.doc()
			if errors.Is(err, errBadValue) {
				err = nil // a value the stream takes unchecked
			}
			if !errorIs(err, tc.walk) || err != nil && !isSyntax(err) {
				t.Errorf("%s walk %q: %v, want %q", rd.name, tc.doc, err, tc.walk)
			}
			if tc.skip == "-" {
				continue
			}
			want := tc.skip
			if want == "" {
				want = tc.walk
			}
			s := New(rd.wrap([]byte(tc.doc)))
			err = s.Skip()
			if err == nil {
				err = s.End()
			}
			if !errorIs(err, want) || err != nil && !isSyntax(err) {
				t.Errorf("%s Skip %q: %v, want %q", rd.name, tc.doc, err, want)
			}
		}
	}
}

// TestSticky: after an error, every call gives that error again, End
// included, and reads nothing more.
func TestSticky(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		r    io.Reader
		fail func(*Stream) error // the failing call
	}{
		{"separator", strings.NewReader(`[1 2]`), func(s *Stream) error {
			s.Array()
			s.Elem(true)
			s.Skip()
			_, err := s.Elem(false)
			return err
		}},
		{"literal", strings.NewReader(`nulx`), func(s *Stream) error {
			_, err := s.Object()
			return err
		}},
		{"truncated", strings.NewReader(`{`), func(s *Stream) error {
			s.Object()
			_, _, err := s.Member(true)
			return err
		}},
		{"member name", strings.NewReader(`{"\x":1} `), func(s *Stream) error {
			s.Object()
			_, _, err := s.Member(true)
			return err
		}},
		{"string", strings.NewReader("\"a\x01\" 1 "), (*Stream).Skip},
		{"reader", io.MultiReader(strings.NewReader(`{"a":`), iotest.ErrReader(boom), strings.NewReader(`1}`)), func(s *Stream) error {
			s.Object()
			s.Member(true)
			return s.Skip()
		}},
	} {
		s := New(tc.r)
		first := tc.fail(s)
		if first == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		calls := map[string]func() error{
			"Object":       func() error { _, err := s.Object(); return err },
			"Array":        func() error { _, err := s.Array(); return err },
			"Member(true)": func() error { _, _, err := s.Member(true); return err },
			"Member(false)": func() error {
				_, _, err := s.Member(false)
				return err
			},
			"Elem(true)":  func() error { _, err := s.Elem(true); return err },
			"Elem(false)": func() error { _, err := s.Elem(false); return err },
			"Skip":        s.Skip,
			"Value":       func() error { _, err := s.Value(nil, 100); return err },
			"End":         s.End,
		}
		for _, name := range []string{"End", "Value", "Skip", "Elem(false)", "Elem(true)", "Member(false)", "Member(true)", "Array", "Object", "End"} {
			if err := calls[name](); err != first {
				t.Errorf("%s: %s after %q: %v", tc.name, name, first, err)
			}
		}
	}
}

// errAfter gives data, then err on every read.
type errAfter struct {
	data []byte
	err  error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReaderError: a reader's error, anywhere in a document (in a string,
// a number, white space, between tokens, after the document), is the
// walk's error, as itself; io.EOF there is "unexpected end" or the
// document's end.
func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	docs := []string{
		`{"name" : "x\"y", "n": [1, -2.5e3, true, null, {"deep":[["z"]]}], "last":12345}`,
		`-12345`,
		`"top \\ level"`,
		` [ true , false ] `,
	}
	for _, doc := range docs {
		for i := 0; i <= len(doc); i++ {
			for _, half := range []bool{false, true} {
				var r io.Reader = &errAfter{data: []byte(doc[:i]), err: boom}
				if half {
					r = iotest.OneByteReader(r)
				}
				w := newWalker(t, r, i, 0)
				if _, err := w.doc(); err != boom {
					t.Errorf("%q then an error: %v, want boom", doc[:i], err)
				}
			}
		}
	}
	// The error at the call that meets it, even within a number that
	// could end there: the number may go on.
	for _, doc := range []string{`12`, `[12`, `{"a":12`, `tru`} {
		s := New(&errAfter{data: []byte(doc), err: boom})
		if doc[0] == '[' {
			s.Array()
			s.Elem(true)
		} else if doc[0] == '{' {
			s.Object()
			s.Member(true)
		}
		if v, err := s.Value(nil, 100); err != boom {
			t.Errorf("Value of %q then an error: %q, %v, want boom", doc, v, err)
		}
		s = New(&errAfter{data: []byte(doc), err: boom})
		if doc[0] == '[' {
			s.Array()
			s.Elem(true)
		} else if doc[0] == '{' {
			s.Object()
			s.Member(true)
		}
		if err := s.Skip(); err != boom {
			t.Errorf("Skip of %q then an error: %v, want boom", doc, err)
		}
	}
}

// repeatReader reads pattern n times.
type repeatReader struct {
	pattern string
	off     int // in pattern
	n       int // patterns left
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.n > 0 {
		c := copy(p, r.pattern[r.off:])
		p, total, r.off = p[c:], total+c, r.off+c
		if r.off == len(r.pattern) {
			r.off, r.n = 0, r.n-1
		}
	}
	if total == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return total, nil
}

// TestStreaming: skipping (or taking under a small limit) a 50 MB value,
// read from a reader, allocates well under a megabyte: the value is
// never kept.
// TestMaxDepth: a value nested deeper than MaxDepth is refused when
// skipped or taken, and one at exactly MaxDepth is read, so a document of
// brackets alone cannot grow the record of open brackets without bound.
func TestMaxDepth(t *testing.T) {
	at := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if err := New(strings.NewReader(at)).Skip(); err != nil {
		t.Fatalf("skip %d levels: %v", MaxDepth, err)
	}
	if v, err := New(strings.NewReader(at)).Value(nil, len(at)); err != nil || string(v) != at {
		t.Fatalf("value of %d levels: %d bytes, %v", MaxDepth, len(v), err)
	}
	over := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	for name, read := range map[string]func(*Stream) error{
		"skip":  func(s *Stream) error { return s.Skip() },
		"value": func(s *Stream) error { _, err := s.Value(nil, len(over)); return err },
	} {
		s := New(io.MultiReader(strings.NewReader(over), endless{}))
		if err := read(s); err == nil || !strings.Contains(err.Error(), "nested more than") {
			t.Fatalf("%s %d levels: %v, want a nesting error", name, MaxDepth+1, err)
		}
	}
}

// endless is an unbounded supply of open brackets: reading must stop at
// the limit, not at the end of the input.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '['
	}
	return len(p), nil
}

func TestStreaming(t *testing.T) {
	const size = 50 << 20
	const strPattern = `lorem ipsum \"dolor\" \\ sit \u00e9\ud83d\ude00 amet, ] } [ { : `
	const arrPattern = `"x\"y",[{"a":1}], `
	for _, tc := range []struct {
		name    string
		pattern string
		pre     string
		post    string
		walk    func(*Stream) error
	}{
		{"skip a string member", strPattern, `{"big":"`, `","after":[1,2]}`, func(s *Stream) error {
			s.Object()
			if key, ok, err := s.Member(true); key != "big" || !ok || err != nil {
				return fmt.Errorf("Member: %q, %v, %v", key, ok, err)
			}
			return s.Skip()
		}},
		{"skip an array", arrPattern, `{"big":[`, `0],"after":[1,2]}`, func(s *Stream) error {
			s.Object()
			s.Member(true)
			return s.Skip()
		}},
		{"skip a string element", strPattern, `{"big":["`, `"],"after":[1,2]}`, func(s *Stream) error {
			s.Object()
			s.Member(true)
			s.Array()
			s.Elem(true)
			if err := s.Skip(); err != nil {
				return err
			}
			if ok, err := s.Elem(false); ok || err != nil {
				return fmt.Errorf("Elem: %v, %v", ok, err)
			}
			return nil
		}},
		{"a string too big", strPattern, `{"big":"`, `","after":[1,2]}`, func(s *Stream) error {
			s.Object()
			s.Member(true)
			if v, err := s.Value(nil, 4<<10); !errors.Is(err, ErrTooBig) {
				return fmt.Errorf("Value: %d bytes, %v, want ErrTooBig", len(v), err)
			}
			return nil
		}},
		{"an object too big", arrPattern, `{"big":{"a":[`, `0]},"after":[1,2]}`, func(s *Stream) error {
			s.Object()
			s.Member(true)
			if v, err := s.Value(nil, 4<<10); !errors.Is(err, ErrTooBig) {
				return fmt.Errorf("Value: %d bytes, %v, want ErrTooBig", len(v), err)
			}
			return nil
		}},
		{"a member name too long", strPattern, `{"`, `":1}`, func(s *Stream) error {
			s.Object()
			if key, ok, err := s.Member(true); err == nil || !strings.Contains(err.Error(), "member name over") {
				return fmt.Errorf("Member: %d bytes, %v, %v, want a refusal", len(key), ok, err)
			}
			return errDone
		}},
	} {
		big := &repeatReader{pattern: tc.pattern, n: size / len(tc.pattern)}
		post := strings.NewReader(tc.post)
		r := io.MultiReader(strings.NewReader(tc.pre), big, post)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := New(r)
		err := tc.walk(s)
		if err == nil {
			if key, ok, err := s.Member(false); key != "after" || !ok || err != nil {
				t.Fatalf("%s: the next member: %q, %v, %v", tc.name, key, ok, err)
			}
			if v, err := s.Value(nil, 10); string(v) != "[1,2]" || err != nil {
				t.Fatalf("%s: the next value: %q, %v", tc.name, v, err)
			}
			if _, ok, err := s.Member(false); ok || err != nil {
				t.Fatalf("%s: the end: %v, %v", tc.name, ok, err)
			}
			err = s.End()
		} else if err == errDone {
			err = nil
		}
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if big.n != 0 || tc.name != "a member name too long" && post.Len() != 0 {
			t.Fatalf("%s: %d patterns and %d bytes left unread", tc.name, big.n, post.Len())
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: %d bytes allocated for a %d-byte value", tc.name, alloc, size)
		} else {
			t.Logf("%s: %d bytes allocated for a %d-byte value", tc.name, alloc, size)
		}
	}
}

var errDone = errors.New("done")

// FuzzStream walks arbitrary input generically. It never panics and ends
// within a few calls a byte. The strict walk (seed 0: descending into
// every object and array, taking every other value with Value and
// checking it with json.Valid, as the stream's callers decode what they
// take) succeeds exactly when json.Valid accepts the input, and rebuilds
// what encoding/json decodes. A mixed walk (skipping some values, taking
// some objects and arrays whole, some under too small a limit) succeeds
// on whatever json.Valid accepts, and its parts match.
//
// Where the stream deliberately differs from encoding/json:
//   - Skip, and Value, check strings (their end, no control characters)
//     and the nesting of brackets, not the escapes, numbers, literals and
//     separators within: a skipped value may be invalid JSON, a value
//     taken is checked by its decoder. So a walk that skips accepts some
//     invalid documents; only the strict walk is held to json.Valid both
//     ways.
//   - Skip and Value refuse more than MaxDepth levels inside one value,
//     as encoding/json does, but the caller's own walk (Object, Array) is
//     not counted: the property is not held on inputs with more brackets.
//   - It refuses member names over 64 KiB, which encoding/json reads:
//     nor on inputs that long.
//
// Neither checks UTF-8 (encoding/json takes invalid UTF-8 in strings).
func FuzzStream(f *testing.F) {
	for _, seed := range []string{
		`{"name":"x","versions":{"1.0.0":{"dist":{"tarball":"t","shasum":"s"}}},"dist-tags":{"latest":"1.0.0"}}`,
		`{"meta":{"api-version":"1.1"},"files":[{"filename":"a.whl","hashes":{"sha256":"00"}}]}`,
		`[1, -2.5e3, true, false, null, "a\"b\\c\u00e9\ud83d\ude00", [], {}, [[{"":[]}]]]`,
		`{"a" : 1 , "a": [ 2 ] }`,
		`"str"`,
		`12`,
		`[1 2]`,
		`{"a":1,}`,
		`{"a\q":1}`,
		"\"a\x01\"",
		`[1}`,
		`{"a":[1,2]} x`,
		`{"a":tru}`,
	} {
		f.Add([]byte(seed), uint64(0))
		f.Add([]byte(seed), uint64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		valid := json.Valid(data)
		held := bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) <= 10000 &&
			len(data) < maxMemberName
		var want any
		if valid {
			want = decode(t, data)
		}

		// The strict walk.
		w := newWalker(t, bytes.NewReader(data), len(data), 0)
		got, err := w.doc()
		checkWalkErr(t, w, err)
		if held && (err == nil) != valid {
			t.Fatalf("the walk: %v, json.Valid: %v", err, valid)
		}
		if err == nil && valid && !match(got, want) {
			t.Fatalf("walked %v, decoded %v", got, want)
		}

		// A mixed walk.
		if seed == 0 {
			seed = 1
		}
		w = newWalker(t, bytes.NewReader(data), len(data), seed)
		got, err = w.doc()
		checkWalkErr(t, w, err)
		if valid && held && err != nil {
			t.Fatalf("the mixed walk of a valid document: %v", err)
		}
		if err == nil && valid && !match(got, want) {
			t.Fatalf("walked %v, decoded %v", got, want)
		}

		// Skipping the whole document.
		s := New(bytes.NewReader(data))
		err = s.Skip()
		if err == nil {
			err = s.End()
		}
		if err != nil && !isSyntax(err) {
			t.Fatalf("Skip: %v", err)
		}
		if valid && held && err != nil {
			t.Fatalf("Skip of a valid document: %v", err)
		}
	})
}

// checkWalkErr: a walk ends, with no error or a syntax error (the
// input is all there is); the error is sticky.
func checkWalkErr(t *testing.T, w *walker, err error) {
	t.Helper()
	switch {
	case err == nil, errors.Is(err, errBadValue):
		return
	case errors.Is(err, errNoProgress):
		t.Fatalf("no progress after %d calls", w.steps)
	case !isSyntax(err):
		t.Fatalf("not a syntax error: %v", err)
	}
	if e := w.s.Skip(); e != err {
		t.Fatalf("Skip after %q: %v", err, e)
	}
	if e := w.s.End(); e != err {
		t.Fatalf("End after %q: %v", err, e)
	}
}
