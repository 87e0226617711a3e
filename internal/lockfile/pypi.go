package lockfile

import (
	"strings"
)

// pip's requirements files, read as pip reads them: a line ending in a
// backslash continues on the next (a comment line excepted); "#" at the
// start of a line or after whitespace begins a comment; what remains is
// a requirement followed by its options (from the first word that starts
// with "-"), or an options line.
//
// A requirement is pinned when it is a PEP 508 name, optional [extras],
// and a version specifier with exactly one == (or ===) clause whose
// version has no wildcard: "Django==4.2.7", "uvicorn[standard] == 0.24.0",
// "pywin32==306 ; sys_platform == 'win32'". Other clauses beside it
// ("==1.2,!=1.3") do not change the pin. Environment markers are not
// evaluated: the pin is reported whatever the platform. The --hash
// options ("--hash=sha256:…" or "--hash sha256:…") give Hashes.
//
// Everything else that installs something is unpinned: ranges, a bare
// name, a wildcard, a URL or path, "name @ url", -e/--editable, and a
// line that is not a requirement at all. The other options lines (-r,
// -c, -i/--index-url, --extra-index-url, -f, --only-binary, --pre,
// --require-hashes, …) are ignored: the files that -r and -c name are not
// read (a caller sends each file itself), and ${VAR} references are not
// expanded (a version that holds one is unpinned).

func parseRequirements(c *collector, data []byte) error {
	var (
		joined []string // the parts of a logical line continued so far
		first  int      // the number of its first physical line
	)
	err := eachLine(data, func(n int, text string) error {
		comment := isCommentLine(text)
		if strings.HasSuffix(text, `\`) && !comment {
			if joined == nil {
				first = n
			}
			joined = append(joined, strings.Trim(text, `\`))
			return nil
		}
		if comment {
			text = " " + text
		}
		if joined != nil {
			text = strings.Join(joined, "") + text
			n = first
			joined = nil
		}
		return requirementLine(c, n, text)
	})
	if err != nil {
		return err
	}
	if joined != nil {
		return requirementLine(c, first, strings.Join(joined, ""))
	}
	return nil
}

// isCommentLine is pip's COMMENT_RE.match: the line is a comment, "#"
// after nothing but whitespace. Such a line ends a continued line even
// if it ends in a backslash.
func isCommentLine(s string) bool { return strings.HasPrefix(strings.TrimLeft(s, " \t\f\v"), "#") }

// commentStart is the index of the "#" that begins a comment, or -1.
func commentStart(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || isSpace(s[i-1])) {
			return i
		}
	}
	return -1
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\f' || b == '\v' }

func requirementLine(c *collector, n int, text string) error {
	if i := commentStart(text); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if text[0] == '-' {
		opt := strings.Fields(text)[0]
		if strings.HasPrefix(opt, "-e") || opt == "--editable" || strings.HasPrefix(opt, "--editable=") {
			return c.skip(lineSource(n), text)
		}
		return nil // -r, -c, --index-url and the other options
	}
	// The requirement is the words before the first that starts with
	// "-"; the rest are its options.
	words := strings.Fields(text)
	k := 0
	for k < len(words) && !strings.HasPrefix(words[k], "-") {
		k++
	}
	req := strings.Join(words[:k], " ")
	var hashes []string
	for i := k; i < len(words); i++ {
		var h string
		if v, ok := strings.CutPrefix(words[i], "--hash="); ok {
			h = v
		} else if words[i] == "--hash" && i+1 < len(words) {
			i++
			h = words[i]
		}
		if h != "" {
			hashes = append(hashes, h)
		}
	}
	name, version, ok := pinnedRequirement(req)
	if !ok {
		return c.skip(lineSource(n), req)
	}
	return c.add("", name, version, hashes, lineSource(n))
}

// pinnedRequirement reads "name[extras] ==version ; markers".
func pinnedRequirement(req string) (name, version string, ok bool) {
	i := 0
	for i < len(req) && isNameChar(req[i]) {
		i++
	}
	name = req[:i]
	if !validPyPIName(name) {
		return "", "", false
	}
	rest := strings.TrimLeft(req[i:], " \t")
	if strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return "", "", false
		}
		rest = strings.TrimLeft(rest[j+1:], " \t")
	}
	spec, _, _ := strings.Cut(rest, ";") // the markers are not evaluated
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "(") && strings.HasSuffix(spec, ")") {
		spec = strings.TrimSpace(spec[1 : len(spec)-1])
	}
	if spec == "" {
		return "", "", false // no version, or "name @ url" cut short, or none at all
	}
	for _, clause := range strings.Split(spec, ",") {
		op, v := splitSpecifier(strings.TrimSpace(clause))
		switch {
		case op == "":
			return "", "", false
		case op == "==" && validPinnedVersion(v) || op == "===" && v != "" && !strings.ContainsAny(v, " \t"):
			if version != "" {
				return "", "", false // two pins
			}
			version = v
		}
	}
	return name, version, version != ""
}

// splitSpecifier splits a PEP 440 clause into its operator and version;
// op is "" if the clause has none.
func splitSpecifier(clause string) (op, version string) {
	for _, o := range []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">"} {
		if v, ok := strings.CutPrefix(clause, o); ok {
			return o, strings.TrimSpace(v)
		}
	}
	return "", ""
}

// validPinnedVersion accepts what PEP 440 may write after == without a
// wildcard: letters, digits and . _ - + ! (a local version, an epoch).
func validPinnedVersion(v string) bool {
	if v == "" || strings.HasSuffix(v, "*") {
		return false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !(isAlnum(b) || strings.IndexByte("._-+!", b) >= 0) {
			return false
		}
	}
	return isAlnum(v[0])
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func isNameChar(b byte) bool { return isAlnum(b) || b == '.' || b == '_' || b == '-' }

// validPyPIName is PEP 508's name: letters and digits, with . _ - inside.
func validPyPIName(s string) bool {
	return s != "" && isAlnum(s[0]) && isAlnum(s[len(s)-1])
}
