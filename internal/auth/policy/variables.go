package policy

import "strings"

// tmpl is a Resource pattern or condition value that may contain policy
// variables: ${key}, ${key, 'default'}, and the escapes ${*}, ${?}, ${$}.
type tmpl struct {
	raw   string  // the text as written
	parts []tpart // nil when raw has no variables (the common, fast case)
}

type tpart struct {
	text   string // literal text, or a variable's default value
	key    string // lower-cased context key; "" for a literal part
	quoted bool   // literal from an escape or a value: never a wildcard
	hasDef bool
}

// parseTemplate splits s into literal text and variables. With vars unset
// (Version 2008-10-17 or no Version) the text is taken literally, as AWS
// does. Malformed ${...} sequences are literal text too.
func parseTemplate(s string, vars bool) tmpl {
	t := tmpl{raw: s}
	if !vars || !strings.Contains(s, "${") {
		return t
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tpart{text: lit.String()})
			lit.Reset()
		}
	}
	for rest := s; rest != ""; {
		i := strings.Index(rest, "${")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i+2:], '}')
		if j < 0 {
			lit.WriteString(rest)
			break
		}
		lit.WriteString(rest[:i])
		inner := rest[i+2 : i+2+j]
		rest = rest[i+3+j:]
		part, ok := parseVariable(inner)
		if !ok {
			lit.WriteString("${" + inner + "}")
			continue
		}
		flush()
		t.parts = append(t.parts, part)
	}
	flush()
	if len(t.parts) == 1 && t.parts[0].key == "" && !t.parts[0].quoted {
		t.parts = nil // only malformed sequences: plain literal text
	}
	return t
}

// parseVariable parses the inside of ${...}.
func parseVariable(inner string) (tpart, bool) {
	switch inner {
	case "*", "?", "$":
		return tpart{text: inner, quoted: true}, true
	}
	key, def, hasDef := inner, "", false
	if c := strings.IndexByte(inner, ','); c >= 0 {
		key = inner[:c]
		d := strings.TrimSpace(inner[c+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return tpart{}, false
		}
		def, hasDef = d[1:len(d)-1], true
	}
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " \t'${") {
		return tpart{}, false
	}
	return tpart{key: strings.ToLower(key), text: def, hasDef: hasDef}, true
}

// hasVars reports whether t needs resolving per request.
func (t *tmpl) hasVars() bool { return t.parts != nil }

// resolve substitutes t's variables from the request. ok is false when a
// variable has no value (missing or multivalued key) and no default: AWS
// then treats the string as matching nothing. With glob set the result is
// a globMatch pattern in escape mode: substituted text is escaped so it
// matches only itself, while '*' and '?' written in the policy stay wildcards.
func (t *tmpl) resolve(r *Request, glob bool) (s string, ok bool) {
	var b strings.Builder
	for _, p := range t.parts {
		text, quoted := p.text, p.quoted
		if p.key != "" {
			quoted = true
			if vs := r.lookup(p.key); len(vs) == 1 {
				text = vs[0]
			} else if !p.hasDef {
				return "", false
			}
		}
		switch {
		case !glob:
			b.WriteString(text)
		case quoted:
			escapeGlob(&b, text)
		default:
			b.WriteString(strings.ReplaceAll(text, `\`, `\\`))
		}
	}
	return b.String(), true
}
