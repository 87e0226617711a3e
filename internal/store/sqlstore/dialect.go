package sqlstore

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Numbered rewrites the "?" placeholders of query as $1, $2, ... in their
// order (PostgreSQL's form). A "?" in a quoted string or identifier, or in a
// "--" comment, is left as it is.
func Numbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the quote of the string or identifier we are in
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: fine
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
			continue
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// BytePrefixEnd is Dialect.PrefixEnd for a database that compares text as
// bytes and takes any bytes (SQLite): the prefix with its last byte below
// 0xff incremented and what follows it dropped; ok is false when there is
// none (prefix is empty or all 0xff bytes).
func BytePrefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// UTF8PrefixEnd is Dialect.PrefixEnd for a database that compares text in
// byte order but refuses invalid UTF-8 (PostgreSQL with COLLATE "C"): it
// increments the last code point, not the last byte, UTF-8 byte order being
// code point order. ok is false when there is no end, or the prefix is not
// UTF-8 (the database will refuse the prefix itself).
func UTF8PrefixEnd(prefix string) (end string, ok bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch {
		case r == utf8.RuneError && size == 1:
			return "", false
		case r == 0xd7ff:
			return prefix + "\ue000", true // past the surrogates
		case r < utf8.MaxRune:
			return prefix + string(r+1), true
		}
	}
	return "", false
}
