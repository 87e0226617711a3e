package sqlstore

import (
	"errors"
	"testing"

	"coffer/internal/fault"
)

func TestNumbered(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"(a, b) > (?, ?) LIMIT ?", "(a, b) > ($1, $2) LIMIT $3"},
		{`lower(? COLLATE "C") = '?'`, `lower($1 COLLATE "C") = '?'`},
		{`x = 'it''s ?' AND y = ?`, `x = 'it''s ?' AND y = $1`},
		{`"we?ird" = ?`, `"we?ird" = $1`},
		{"a = ? -- why?\nAND b = ?", "a = $1 -- why?\nAND b = $2"},
		{"a = ? -- the end?", "a = $1 -- the end?"},
		{"a - ? = ?", "a - $1 = $2"},
	} {
		if got := Numbered(c.in); got != c.want {
			t.Errorf("Numbered(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	type prefixCase struct {
		prefix, end string
		ok          bool
	}
	for _, fn := range []struct {
		name  string
		end   func(string) (string, bool)
		cases []prefixCase
	}{
		{"BytePrefixEnd", BytePrefixEnd, []prefixCase{
			{"", "", false},
			{"a", "b", true},
			{"ab", "ac", true},
			{"a\xff", "b", true},
			{"a\u00bf", "a\xc2\xc0", true}, // bytes: the last one incremented
			{"\xff\xff", "", false},
		}},
		{"UTF8PrefixEnd", UTF8PrefixEnd, []prefixCase{
			{"", "", false},
			{"a", "b", true},
			{"ab", "ac", true},
			{"a\u00bf", "a\u00c0", true}, // the last byte 0xbf must not become 0xc0
			{"é", "ê", true},
			{"a\ud7ff", "a\ue000", true},
			{"a\U0010ffff", "b", true},
			{"\U0010ffff", "", false},
			{"a\xff", "", false},
		}},
	} {
		for _, c := range fn.cases {
			end, ok := fn.end(c.prefix)
			if end != c.end || ok != c.ok {
				t.Errorf("%s(%q) = %q, %v; want %q, %v", fn.name, c.prefix, end, ok, c.end, c.ok)
			}
		}
	}
}

func TestWrap(t *testing.T) {
	down := errors.New("connection refused")
	d := &Dialect{Name: "db", Unavailable: func(err error) bool { return errors.Is(err, down) }}
	if err := d.Wrap(nil, "x"); err != nil {
		t.Errorf("Wrap(nil) = %v", err)
	}
	nf := fault.NotFound("domain", "d", "domain d not found")
	if err := d.Wrap(nf, "get domain"); err != nf {
		t.Errorf("Wrap of a fault error = %v, want it as it is", err)
	}
	refused := errors.New("refused")
	if err := d.Wrap(refused, "get domain"); !errors.Is(err, refused) || err.Error() != "db: get domain: refused" {
		t.Errorf("Wrap = %v", err)
	}
	if err := d.Wrap(down, "get domain"); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Wrap of an unavailable database = %v, want ErrUnavailable", err)
	}
}
