package rubygems

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// Ruby Marshal, format 4.8: what the dependencies API, the full index
// (specs.4.8 and friends) and the quick specs are written in.
//
// Go values stand for Ruby ones:
//
//	nil, bool              nil, true, false
//	int, int64, *big.Int   Integer (Fixnum forms up to ±2^30, Bignum beyond)
//	float64                Float
//	string                 a UTF-8 String (written with the E=true ivar)
//	String                 a String in another encoding (binary, US-ASCII, …)
//	Symbol                 Symbol
//	[]any                  Array
//	*Hash                  Hash (ordered, optionally with a default)
//	*Object                an object dumped field by field ('o'), or a Struct
//	*UserMarshal           an object with marshal_dump ('U'): Gem::Version, Gem::Requirement
//	*UserDef               an object with _dump ('u'): Gem::Specification, Time
//	ClassRef, Regexp       read only
//
// The encoder writes what Ruby's Marshal.dump writes for the same data:
// symbols are written once and then linked, and a pointer value (*Hash,
// *Object, *UserMarshal, *UserDef) met a second time is written as an
// object link, the way Ruby links an object it has already dumped (a
// Gem::Dependency's @version_requirements is its @requirement).

// Symbol is a Ruby Symbol.
type Symbol string

// String is a Ruby String whose encoding is not UTF-8. Encoding is ""
// (ASCII-8BIT, binary: no ivar), "US-ASCII" (E=false) or another encoding
// name (the encoding ivar).
type String struct {
	S        string
	Encoding string
}

// Pair is one entry of a Hash.
type Pair struct {
	Key, Value any
}

// Hash is a Ruby Hash; Default is set when HasDefault (a '}' hash).
type Hash struct {
	Pairs      []Pair
	Default    any
	HasDefault bool
}

// Get returns the value under key (a Symbol or a string) and whether
// there is one. Array keys, which Go cannot compare, never match.
func (h *Hash) Get(key any) (any, bool) {
	if _, ok := key.([]any); ok {
		return nil, false
	}
	for _, p := range h.Pairs {
		if _, ok := p.Key.([]any); !ok && p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// Ivar is an instance variable: Name is its symbol ("@name" for objects,
// "zone" for a Time's internal ones).
type Ivar struct {
	Name  string
	Value any
}

// Object is an object dumped field by field (type 'o'), or a Struct
// (type 'S', member names without "@").
type Object struct {
	Class  string
	Ivars  []Ivar
	Struct bool
}

// Ivar returns the value of the instance variable name.
func (o *Object) Ivar(name string) (any, bool) {
	for _, iv := range o.Ivars {
		if iv.Name == name {
			return iv.Value, true
		}
	}
	return nil, false
}

// UserMarshal is an object of a class with marshal_dump (type 'U'): Data
// is what marshal_dump returned.
type UserMarshal struct {
	Class string
	Data  any
}

// UserDef is an object of a class with _dump (type 'u'): Data is the
// string _dump returned, Ivars the ivars of that string (a Time's zone).
type UserDef struct {
	Class string
	Data  []byte
	Ivars []Ivar
}

// ClassRef is a Class or Module reference (read only).
type ClassRef struct {
	Name   string
	Module bool
}

// Regexp is a Regexp (read only).
type Regexp struct {
	Source  string
	Options byte
}

const (
	marshalMajor = 4
	marshalMinor = 8
	// maxMarshalDepth bounds nesting, for both directions: rubygems data
	// nests a few levels, and a hostile stream must not exhaust the stack.
	maxMarshalDepth = 128
)

// ErrMarshal is wrapped by every decoding error.
var ErrMarshal = errors.New("invalid Marshal data")

func marshalErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMarshal, fmt.Sprintf(format, args...))
}

// ---- encoding ----

type encoder struct {
	buf   bytes.Buffer
	syms  map[string]int
	objs  map[any]int
	nobj  int
	depth int
	err   error // sticky: a length that cannot be written
}

// Marshal encodes v as Ruby's Marshal.dump would (see the type mapping
// above). It fails on a Go type it does not know and on data nested
// deeper than Ruby data for gems ever is.
func Marshal(v any) ([]byte, error) {
	e := &encoder{syms: map[string]int{}, objs: map[any]int{}}
	e.buf.WriteByte(marshalMajor)
	e.buf.WriteByte(marshalMinor)
	if err := e.value(v); err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.buf.Bytes(), nil
}

// long writes Ruby's w_long: small numbers in one byte, others as a
// signed byte count and up to four little-endian bytes. Numbers beyond 32
// bits have no such form; lengths that large are refused.
func (e *encoder) long(n int64) {
	switch {
	case n == 0:
		e.buf.WriteByte(0)
	case 0 < n && n < 123:
		e.buf.WriteByte(byte(n + 5))
	case -124 < n && n < 0:
		e.buf.WriteByte(byte((n - 5) & 0xff))
	case n > math.MaxInt32 || n < math.MinInt32:
		if e.err == nil {
			e.err = fmt.Errorf("marshal: %d does not fit a length", n)
		}
		e.buf.WriteByte(0)
	default:
		var b [5]byte
		i := 1
		for ; ; i++ {
			b[i] = byte(n)
			n >>= 8
			if n == 0 {
				b[0] = byte(i)
				break
			}
			if n == -1 {
				b[0] = byte(-i)
				break
			}
		}
		e.buf.Write(b[:i+1])
	}
}

func (e *encoder) bytes(b string) {
	e.long(int64(len(b)))
	e.buf.WriteString(b)
}

func (e *encoder) symbol(s string) {
	if i, ok := e.syms[s]; ok {
		e.buf.WriteByte(';')
		e.long(int64(i))
		return
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		e.buf.WriteByte('I')
	}
	e.buf.WriteByte(':')
	e.bytes(s)
	e.syms[s] = len(e.syms)
	if !ascii {
		e.long(1)
		e.symbol("E")
		e.buf.WriteByte('T')
	}
}

// remember gives the next object index to v (Ruby's w_remember).
func (e *encoder) remember(v any) {
	if v != nil {
		e.objs[v] = e.nobj
	}
	e.nobj++
}

// link writes an object link when the pointer v was written before.
func (e *encoder) link(v any) bool {
	if i, ok := e.objs[v]; ok {
		e.buf.WriteByte('@')
		e.long(int64(i))
		return true
	}
	return false
}

func (e *encoder) ivars(ivs []Ivar) error {
	for _, iv := range ivs {
		e.symbol(iv.Name)
		if err := e.value(iv.Value); err != nil {
			return err
		}
	}
	return nil
}

// encodingIvar is the ivar a String of encoding enc carries: E=true for
// UTF-8, E=false for US-ASCII, encoding="name" otherwise; none for binary.
func encodingIvar(enc string) (name string, val any, ok bool) {
	switch enc {
	case "", "ASCII-8BIT", "BINARY":
		return "", nil, false
	case "UTF-8":
		return "E", true, true
	case "US-ASCII":
		return "E", false, true
	}
	return "encoding", String{S: enc}, true
}

func (e *encoder) str(s, enc string) error {
	name, val, hasIvar := encodingIvar(enc)
	if hasIvar {
		e.buf.WriteByte('I')
	}
	e.remember(nil)
	e.buf.WriteByte('"')
	e.bytes(s)
	if hasIvar {
		e.long(1)
		e.symbol(name)
		return e.value(val)
	}
	return nil
}

func (e *encoder) integer(n int64) {
	if n >= -(1<<30) && n < 1<<30 {
		e.buf.WriteByte('i')
		e.long(n)
		return
	}
	e.bignum(big.NewInt(n))
}

func (e *encoder) bignum(n *big.Int) {
	if n.IsInt64() && n.Int64() >= -(1<<30) && n.Int64() < 1<<30 {
		e.integer(n.Int64())
		return
	}
	e.remember(nil)
	e.buf.WriteByte('l')
	if n.Sign() < 0 {
		e.buf.WriteByte('-')
	} else {
		e.buf.WriteByte('+')
	}
	abs := new(big.Int).Abs(n).Bytes() // big-endian
	if len(abs)%2 == 1 {
		abs = append([]byte{0}, abs...)
	}
	e.long(int64(len(abs) / 2))
	for i := len(abs) - 1; i >= 0; i-- {
		e.buf.WriteByte(abs[i])
	}
}

func (e *encoder) value(v any) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxMarshalDepth {
		return fmt.Errorf("marshal: data nested deeper than %d", maxMarshalDepth)
	}
	switch x := v.(type) {
	case nil:
		e.buf.WriteByte('0')
	case bool:
		if x {
			e.buf.WriteByte('T')
		} else {
			e.buf.WriteByte('F')
		}
	case int:
		e.integer(int64(x))
	case int64:
		e.integer(x)
	case *big.Int:
		e.bignum(x)
	case float64:
		e.remember(nil)
		e.buf.WriteByte('f')
		switch {
		case math.IsInf(x, 1):
			e.bytes("inf")
		case math.IsInf(x, -1):
			e.bytes("-inf")
		case math.IsNaN(x):
			e.bytes("nan")
		default:
			e.bytes(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		return e.str(x, "UTF-8")
	case String:
		return e.str(x.S, x.Encoding)
	case Symbol:
		e.symbol(string(x))
	case []any:
		e.remember(nil)
		e.buf.WriteByte('[')
		e.long(int64(len(x)))
		for _, el := range x {
			if err := e.value(el); err != nil {
				return err
			}
		}
	case *Hash:
		if e.link(x) {
			return nil
		}
		e.remember(x)
		if x.HasDefault {
			e.buf.WriteByte('}')
		} else {
			e.buf.WriteByte('{')
		}
		e.long(int64(len(x.Pairs)))
		for _, p := range x.Pairs {
			if err := e.value(p.Key); err != nil {
				return err
			}
			if err := e.value(p.Value); err != nil {
				return err
			}
		}
		if x.HasDefault {
			return e.value(x.Default)
		}
	case *Object:
		if e.link(x) {
			return nil
		}
		e.remember(x)
		if x.Struct {
			e.buf.WriteByte('S')
		} else {
			e.buf.WriteByte('o')
		}
		e.symbol(x.Class)
		e.long(int64(len(x.Ivars)))
		return e.ivars(x.Ivars)
	case *UserMarshal:
		if e.link(x) {
			return nil
		}
		e.remember(x)
		e.buf.WriteByte('U')
		e.symbol(x.Class)
		return e.value(x.Data)
	case *UserDef:
		if e.link(x) {
			return nil
		}
		if len(x.Ivars) > 0 {
			e.buf.WriteByte('I')
		}
		e.buf.WriteByte('u')
		e.symbol(x.Class)
		e.bytes(string(x.Data))
		if len(x.Ivars) > 0 {
			e.long(int64(len(x.Ivars)))
			if err := e.ivars(x.Ivars); err != nil {
				return err
			}
		}
		// Ruby remembers a _dump object after its data and ivars.
		e.remember(x)
	default:
		return fmt.Errorf("marshal: cannot encode %T", v)
	}
	return nil
}

// ---- decoding ----

// objSlot is an object of the stream, for links to it: its value, and
// its weight, the size it has with every link within it followed.
type objSlot struct {
	v      any
	done   bool
	start  int64
	weight int64
}

type decoder struct {
	data  []byte
	pos   int
	syms  []string
	objs  []objSlot
	depth int
	// expanded is the size of what has been read with links followed, and
	// budget its bound: links may repeat objects, but not blow a small
	// stream up into a huge value (the Marshal form of an alias bomb).
	expanded, budget int64
}

// Unmarshal decodes a Marshal 4.8 stream (see the type mapping above; a
// String whose encoding is UTF-8 comes back as a Go string). It reads data
// only, never instantiating anything: class names are kept as strings. It
// refuses cyclic links and data ('d') objects, bounds nesting, refuses
// links that expand the data beyond a small multiple of its size, and
// never allocates more than a small multiple of len(data). Bytes after
// the first object are ignored, as Ruby does.
func Unmarshal(data []byte) (any, error) {
	if len(data) < 2 {
		return nil, marshalErr("too short")
	}
	if data[0] != marshalMajor || data[1] > marshalMinor {
		return nil, marshalErr("incompatible format version %d.%d", data[0], data[1])
	}
	d := &decoder{data: data, pos: 2, budget: 8*int64(len(data)) + 64<<10}
	return d.value()
}

func (d *decoder) byte() (byte, error) {
	if d.pos >= len(d.data) {
		return 0, marshalErr("truncated")
	}
	b := d.data[d.pos]
	d.pos++
	return b, nil
}

func (d *decoder) remaining() int { return len(d.data) - d.pos }

// long is Ruby's r_long.
func (d *decoder) long() (int64, error) {
	b, err := d.byte()
	if err != nil {
		return 0, err
	}
	c := int64(int8(b))
	switch {
	case c == 0:
		return 0, nil
	case c > 0:
		if c > 4 {
			return c - 5, nil
		}
		var x int64
		for i := int64(0); i < c; i++ {
			b, err := d.byte()
			if err != nil {
				return 0, err
			}
			x |= int64(b) << (8 * i)
		}
		return x, nil
	default:
		if c < -4 {
			return c + 5, nil
		}
		n := -c
		x := int64(-1)
		for i := int64(0); i < n; i++ {
			b, err := d.byte()
			if err != nil {
				return 0, err
			}
			x &= ^(int64(0xff) << (8 * i))
			x |= int64(b) << (8 * i)
		}
		return x, nil
	}
}

// count reads a length that must be a count of things still to come, each
// at least minSize bytes long.
func (d *decoder) count(minSize int) (int, error) {
	n, err := d.long()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(d.remaining()/minSize) {
		return 0, marshalErr("bad length %d at offset %d", n, d.pos)
	}
	return int(n), nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) register() int {
	d.objs = append(d.objs, objSlot{start: d.expanded})
	return len(d.objs) - 1
}

// fill completes object i; size is what it holds besides its elements
// (a string's bytes).
func (d *decoder) fill(i int, v any, size int) any {
	d.expanded += int64(size)
	o := &d.objs[i]
	o.v, o.done, o.weight = v, true, d.expanded-o.start
	return v
}

func (d *decoder) grow(n int64) error {
	d.expanded += n
	if d.expanded > d.budget {
		return marshalErr("object links expand the data beyond %d", d.budget)
	}
	return nil
}

// symbol reads a Symbol (':' or ';', or 'I:' for one with an encoding).
func (d *decoder) symbol() (string, error) {
	t, err := d.byte()
	if err != nil {
		return "", err
	}
	return d.symbolOf(t)
}

func (d *decoder) symbolOf(t byte) (string, error) {
	switch t {
	case ':':
		return d.symbolBody(false)
	case ';':
		i, err := d.long()
		if err != nil {
			return "", err
		}
		if i < 0 || i >= int64(len(d.syms)) {
			return "", marshalErr("bad symbol link %d", i)
		}
		return d.syms[i], nil
	case 'I':
		t, err := d.byte()
		if err != nil {
			return "", err
		}
		if t != ':' {
			return "", marshalErr("expected a symbol, got 'I%c'", t)
		}
		return d.symbolBody(true)
	}
	return "", marshalErr("expected a symbol, got %q at offset %d", t, d.pos-1)
}

func (d *decoder) symbolBody(ivars bool) (string, error) {
	b, err := d.bytes()
	if err != nil {
		return "", err
	}
	s := string(b)
	d.syms = append(d.syms, s)
	if ivars {
		if _, err := d.readIvars(); err != nil {
			return "", err
		}
	}
	return s, nil
}

func (d *decoder) readIvars() ([]Ivar, error) {
	n, err := d.count(2)
	if err != nil {
		return nil, err
	}
	ivs := make([]Ivar, 0, n)
	for i := 0; i < n; i++ {
		name, err := d.symbol()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		ivs = append(ivs, Ivar{Name: name, Value: v})
	}
	return ivs, nil
}

// stringWithEncoding applies a String's ivars: E or encoding.
func stringWithEncoding(b []byte, ivs []Ivar) any {
	enc := ""
	for _, iv := range ivs {
		switch iv.Name {
		case "E":
			if t, ok := iv.Value.(bool); ok {
				if t {
					enc = "UTF-8"
				} else {
					enc = "US-ASCII"
				}
			}
		case "encoding":
			if s, ok := textOf(iv.Value); ok {
				enc = s
			}
		}
	}
	if enc == "UTF-8" {
		return string(b)
	}
	return String{S: string(b), Encoding: enc}
}

func (d *decoder) value() (any, error) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxMarshalDepth {
		return nil, marshalErr("nested deeper than %d", maxMarshalDepth)
	}
	if err := d.grow(1); err != nil {
		return nil, err
	}
	t, err := d.byte()
	if err != nil {
		return nil, err
	}
	return d.typed(t, false)
}

// typed reads a value whose type byte is t; ivars says it is wrapped in
// 'I' and its ivars follow it.
func (d *decoder) typed(t byte, ivars bool) (any, error) {
	switch t {
	case '0':
		return d.plain(nil, ivars)
	case 'T':
		return d.plain(true, ivars)
	case 'F':
		return d.plain(false, ivars)
	case 'i':
		n, err := d.long()
		if err != nil {
			return nil, err
		}
		return d.plain(n, ivars)
	case ':', ';':
		if ivars && t == ':' {
			s, err := d.symbolBody(true)
			return Symbol(s), err
		}
		s, err := d.symbolOf(t)
		if err != nil {
			return nil, err
		}
		return d.plain(Symbol(s), ivars)
	case '@':
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(d.objs)) {
			return nil, marshalErr("bad object link %d", i)
		}
		if !d.objs[i].done {
			return nil, marshalErr("cyclic object link %d", i)
		}
		if err := d.grow(d.objs[i].weight); err != nil {
			return nil, err
		}
		return d.plain(d.objs[i].v, ivars)
	case 'I':
		if ivars {
			return nil, marshalErr("nested ivar wrapper")
		}
		t2, err := d.byte()
		if err != nil {
			return nil, err
		}
		return d.typed(t2, true)
	case '"':
		i := d.register()
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		var ivs []Ivar
		if ivars {
			if ivs, err = d.readIvars(); err != nil {
				return nil, err
			}
		}
		return d.fill(i, stringWithEncoding(b, ivs), len(b)), nil
	case 'l':
		i := d.register()
		sign, err := d.byte()
		if err != nil {
			return nil, err
		}
		if sign != '+' && sign != '-' {
			return nil, marshalErr("bad bignum sign %q", sign)
		}
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		le := d.data[d.pos : d.pos+2*n]
		d.pos += 2 * n
		be := make([]byte, len(le))
		for j := range le {
			be[len(le)-1-j] = le[j]
		}
		x := new(big.Int).SetBytes(be)
		if sign == '-' {
			x.Neg(x)
		}
		var v any = x
		if x.IsInt64() {
			v = x.Int64()
		}
		d.fill(i, v, len(le))
		return d.plain(v, ivars)
	case 'f':
		i := d.register()
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		if k := bytes.IndexByte(b, 0); k >= 0 {
			b = b[:k]
		}
		var f float64
		switch string(b) {
		case "inf":
			f = math.Inf(1)
		case "-inf":
			f = math.Inf(-1)
		case "nan":
			f = math.NaN()
		default:
			if f, err = strconv.ParseFloat(string(b), 64); err != nil {
				return nil, marshalErr("bad float %q", b)
			}
		}
		d.fill(i, f, 0)
		return d.plain(f, ivars)
	case '[':
		i := d.register()
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		a := make([]any, 0, n)
		for j := 0; j < n; j++ {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		d.fill(i, a, 0)
		return d.plain(a, ivars)
	case '{', '}':
		i := d.register()
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		h := &Hash{Pairs: make([]Pair, 0, n)}
		for j := 0; j < n; j++ {
			k, err := d.value()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			h.Pairs = append(h.Pairs, Pair{Key: k, Value: v})
		}
		if t == '}' {
			if h.Default, err = d.value(); err != nil {
				return nil, err
			}
			h.HasDefault = true
		}
		d.fill(i, h, 0)
		return d.plain(h, ivars)
	case 'o', 'S':
		i := d.register()
		class, err := d.symbol()
		if err != nil {
			return nil, err
		}
		ivs, err := d.readIvars()
		if err != nil {
			return nil, err
		}
		o := &Object{Class: class, Ivars: ivs, Struct: t == 'S'}
		d.fill(i, o, 0)
		return d.plain(o, ivars)
	case 'U':
		i := d.register()
		class, err := d.symbol()
		if err != nil {
			return nil, err
		}
		data, err := d.value()
		if err != nil {
			return nil, err
		}
		u := &UserMarshal{Class: class, Data: data}
		d.fill(i, u, 0)
		return d.plain(u, ivars)
	case 'u':
		start := d.expanded
		class, err := d.symbol()
		if err != nil {
			return nil, err
		}
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		u := &UserDef{Class: class, Data: b}
		if ivars {
			if u.Ivars, err = d.readIvars(); err != nil {
				return nil, err
			}
		}
		// Ruby registers a _load object after its data and ivars.
		d.objs = append(d.objs, objSlot{start: start})
		d.fill(len(d.objs)-1, u, len(b))
		return u, nil
	case 'e', 'C':
		d.depth++
		defer func() { d.depth-- }()
		if d.depth > maxMarshalDepth {
			return nil, marshalErr("nested deeper than %d", maxMarshalDepth)
		}
		if _, err := d.symbol(); err != nil {
			return nil, err
		}
		t2, err := d.byte()
		if err != nil {
			return nil, err
		}
		return d.typed(t2, ivars)
	case 'c', 'm', 'M':
		i := d.register()
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		c := ClassRef{Name: string(b), Module: t != 'c'}
		d.fill(i, c, len(b))
		return d.plain(c, ivars)
	case '/':
		i := d.register()
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		opts, err := d.byte()
		if err != nil {
			return nil, err
		}
		r := Regexp{Source: string(b), Options: opts}
		d.fill(i, r, len(b))
		return d.plain(r, ivars)
	}
	return nil, marshalErr("unsupported type %q at offset %d", t, d.pos-1)
}

// plain finishes a value that takes no ivars of its own: those of an 'I'
// wrapper are read and dropped.
func (d *decoder) plain(v any, ivars bool) (any, error) {
	if ivars {
		if _, err := d.readIvars(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// textOf returns the text of a String of any encoding.
func textOf(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case String:
		return s.S, true
	}
	return "", false
}
