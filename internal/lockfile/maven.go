package lockfile

import (
	"strings"

	"coffer/internal/fault"
)

// Maven has no lockfile; what a build resolved is the output of
// "mvn dependency:list", as the console shows it or as -DoutputFile
// writes it:
//
//	[INFO] The following files have been resolved:
//	[INFO]    org.slf4j:slf4j-api:jar:2.0.9:compile -- module org.slf4j [auto]
//	[INFO]    io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.100.Final:compile
//	[INFO]    jakarta.servlet:jakarta.servlet-api:jar:6.0.0:provided (optional)
//
// A line is read when its first word is groupId:artifactId:type:version:scope
// or groupId:artifactId:type:classifier:version:scope (scope one of
// compile, provided, runtime, test, system, import; what
// -DoutputAbsoluteArtifactFilename appends after the scope is ignored,
// and so is anything after the word: " -- module …", " (optional)"), or
// when the whole line is groupId:artifactId:version (a plain list).
// dependency:tree's lines are read too ("+- ", "\- " and "|  " dropped);
// its first line, the project itself (g:a:type:version, no scope), is
// not. The log's prefix ("[INFO] ", colours included) is dropped; lines
// at another level ([WARNING], [ERROR], [DEBUG]) and every other line
// are ignored, so that a whole build log may be sent. A reactor build
// lists its own modules among the dependencies of the others: they are
// read like any other.
//
// Input that holds text but neither a coordinate nor dependency:list's
// "The following files have been resolved:" (with "none" under it) is
// refused rather than read as no dependencies.

func parseMaven(c *collector, data []byte) error {
	var nonBlank, header, found bool
	err := eachLine(data, func(n int, text string) error {
		text = stripANSI(text)
		if strings.TrimSpace(text) == "" {
			return nil
		}
		nonBlank = true
		if strings.HasPrefix(text, "[") {
			level, rest, ok := strings.Cut(text[1:], "]")
			if !ok || level != "INFO" {
				return nil
			}
			text = rest
		}
		text = strings.TrimSpace(text)
		if strings.HasPrefix(text, "The following files have been resolved") {
			header = true
			return nil
		}
		for {
			if t, ok := cutAny(text, "+- ", `\- `, "|  ", "   "); ok {
				text = strings.TrimLeft(t, " ")
				continue
			}
			break
		}
		word, rest, _ := strings.Cut(text, " ")
		g, a, v, ok := mavenCoordinate(word, strings.TrimSpace(rest) == "")
		if !ok {
			return nil
		}
		found = true
		return c.add(g, a, v, nil, lineSource(n))
	})
	if err != nil {
		return err
	}
	if nonBlank && !header && !found {
		return fault.Validation("The input holds no Maven coordinates: expected the output of mvn dependency:list, or groupId:artifactId:version lines")
	}
	return nil
}

func cutAny(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if t, ok := strings.CutPrefix(s, p); ok {
			return t, true
		}
	}
	return s, false
}

var mavenScopes = map[string]bool{"compile": true, "provided": true, "runtime": true, "test": true, "system": true, "import": true}

// mavenCoordinate reads one word of dependency:list; alone says whether
// it is the whole line (which a plain g:a:v must be).
func mavenCoordinate(word string, alone bool) (group, artifact, version string, ok bool) {
	parts := strings.Split(word, ":")
	switch {
	case len(parts) == 3 && alone:
		group, artifact, version = parts[0], parts[1], parts[2]
	case len(parts) >= 6 && mavenScopes[parts[5]] && mavenToken(parts[2]) && mavenToken(parts[3]):
		group, artifact, version = parts[0], parts[1], parts[4] // g:a:type:classifier:v:scope
	case len(parts) >= 5 && mavenScopes[parts[4]] && mavenToken(parts[2]):
		group, artifact, version = parts[0], parts[1], parts[3] // g:a:type:v:scope
	default:
		return "", "", "", false
	}
	return group, artifact, version, mavenToken(group) && mavenToken(artifact) && mavenVersion(version)
}

// mavenToken is what a groupId, artifactId, type or classifier is made
// of: letters, digits and . _ -.
func mavenToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// mavenVersion refuses what a resolved version cannot hold: a range's
// brackets and commas, a path's slashes, whitespace and controls.
func mavenVersion(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b == 0x7f || strings.IndexByte("[](),/\\:", b) >= 0 {
			return false
		}
	}
	return s != ""
}

// stripANSI drops the colour escapes of a terminal log ("\x1b[1;34m").
func stripANSI(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			if j < len(s) {
				i = j // the final letter
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
