package policy

import (
	"strings"
	"unicode/utf8"
)

// MatchWildcard reports whether value matches an IAM wildcard pattern: '*'
// matches any run of characters (including none, and including ':' and
// '/'), '?' exactly one character, everything else itself, case-sensitively.
// There is no escape character, as in IAM; literal '*' and '?' come only
// from the ${*} and ${?} policy variables.
func MatchWildcard(pattern, value string) bool {
	return globMatch(pattern, value, false)
}

// globMatch is MatchWildcard with an optional escape: when esc is set, a
// backslash makes the next character literal. Patterns built by substituting
// policy variables use it so that substituted text never acts as a wildcard.
//
// It is the classic linear backtracking matcher: on a mismatch it resumes
// after the most recent '*', consuming one more character, which is enough
// because a later '*' subsumes every earlier backtrack point. Worst case
// O(len(pattern)·len(value)), never exponential.
func globMatch(p, s string, esc bool) bool {
	if p == "*" {
		return true
	}
	// Compare the literal prefix in one go; most patterns are literal or
	// end in a single '*'.
	px, sx := 0, 0
	if !esc {
		i := strings.IndexAny(p, "*?")
		if i < 0 {
			return p == s
		}
		if !strings.HasPrefix(s, p[:i]) {
			return false
		}
		px, sx = i, i
	}
	starPx, starSx := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			c := p[px]
			switch {
			case c == '*':
				if px+1 == len(p) {
					return true // a trailing '*' takes whatever is left
				}
				starPx, starSx = px, sx
				px++
				continue
			case c == '?':
				if sx < len(s) {
					px++
					sx += runeLen(s[sx:])
					continue
				}
			case c == '\\' && esc && px+1 < len(p):
				if sx < len(s) && s[sx] == p[px+1] {
					px += 2
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			// Let the last '*' swallow one more whole character; resuming
			// mid-rune would let '?' match a UTF-8 continuation byte.
			starSx += runeLen(s[starSx:])
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// runeLen is the length of the first character of s (invalid bytes count
// as one character, like the regexp package does).
func runeLen(s string) int {
	if s[0] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// matchARN implements ArnEquals/ArnLike: each of the six colon-separated
// ARN components is matched separately (the sixth, the resource, keeps any
// further colons), so a wildcard never spans a ':' between components.
// A pattern with fewer than six components (typically "*") is matched
// against the whole value instead.
func matchARN(pattern, value string, esc bool) bool {
	if strings.Count(pattern, ":") < 5 {
		return globMatch(pattern, value, esc)
	}
	for i := 0; i < 5; i++ {
		pi := strings.IndexByte(pattern, ':')
		vi := strings.IndexByte(value, ':')
		if vi < 0 || !globMatch(pattern[:pi], value[:vi], esc) {
			return false
		}
		pattern, value = pattern[pi+1:], value[vi+1:]
	}
	return globMatch(pattern, value, esc)
}

// escapeGlob makes s match only itself under globMatch(…, true).
func escapeGlob(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}
