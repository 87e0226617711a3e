package artifact

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"coffer/internal/fault"
)

// Patterns from the CodeArtifact model.
var (
	domainNamePattern     = regexp.MustCompile(`^[a-z][a-z0-9\-]{0,48}[a-z0-9]$`)
	repositoryNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-]{1,99}$`)
	accountIDPattern      = regexp.MustCompile(`^[0-9]{12}$`)
	coordinatePattern     = regexp.MustCompile(`^[^#/\s]{1,255}$`)
	sha256Pattern         = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func validateDomainName(name string) error {
	if !domainNamePattern.MatchString(name) {
		return fault.Validation("Value '%s' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z][a-z0-9\\-]{0,48}[a-z0-9]", name)
	}
	return nil
}

func validateOwner(owner string) error {
	if owner != "" && !accountIDPattern.MatchString(owner) {
		return fault.Validation("Value '%s' at 'domainOwner' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{12}", owner)
	}
	return nil
}

func validateRepositoryName(field, name string) error {
	if !repositoryNamePattern.MatchString(name) {
		return fault.Validation("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9._\\-]{1,99}", name, field)
	}
	return nil
}

func validateFormat(format string) error {
	if !slices.Contains(Formats, format) {
		return fault.Validation("Value '%s' at 'format' failed to satisfy constraint: Member must satisfy enum value set: [%s]", format, strings.Join(Formats, ", "))
	}
	return nil
}

// validateCoordinate applies the rules for a namespace, package name or
// version, in every format: CodeArtifact's pattern, then NameProblem.
func validateCoordinate(field, value string) error {
	if !coordinatePattern.MatchString(value) {
		return fault.Validation("Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 255 and satisfy regular expression pattern: [^#/\\s]+", ShowName(value), field)
	}
	if p := NameProblem(value); p != "" {
		return fault.Validation("Value '%s' at '%s' failed to satisfy constraint: %s", ShowName(value), field, p)
	}
	return nil
}

// NameProblem is coffer's rule, stricter than CodeArtifact's published
// pattern, for every namespace, package name and version of every format:
// it returns the constraint value breaks, or "" when there is none. A name
// must be valid UTF-8 without any character that is invisible or changes
// how its neighbours display (see invisibleRune), and must be in Unicode
// Normalization Form C, so that two names that display alike are the same
// bytes. Names are never normalised on the way in: a name in another form is
// refused, because storing it as given would let it stand beside its twin.
// (PyPI's PEP 503 normalisation, in Normalize, comes after this rule.)
func NameProblem(value string) string {
	if !utf8.ValidString(value) {
		return "Member must be valid UTF-8"
	}
	n := 0
	for _, r := range value {
		n++
		if invisibleRune(r) {
			return fmt.Sprintf("Member must not contain control, format, bidirectional, zero-width or other invisible characters; character %d is %U", n, r)
		}
	}
	if !norm.NFC.IsNormalString(value) {
		return "Member must be in Unicode Normalization Form C (NFC); a decomposed name displays like its composed twin"
	}
	return ""
}

// invisibleRune reports a character that a name may not contain: controls
// (C0, DEL, C1), format characters (zero-width spaces and joiners, bidi
// embeddings, overrides, isolates and marks, the byte order mark, soft
// hyphen, tags), private-use and surrogate code points, every space and
// line or paragraph separator (ASCII whitespace breaks the pattern anyway;
// no-break and other Unicode spaces look like it), the other
// default-ignorable code points (combining grapheme joiner, Hangul fillers,
// ...), variation selectors, noncharacters and U+FFFD, which stands for
// bytes that were not UTF-8.
func invisibleRune(r rune) bool {
	if r < utf8.RuneSelf { // the common case, on every request's coordinates
		return r <= ' ' || r == 0x7F
	}
	return r == utf8.RuneError ||
		unicode.In(r, unicode.C, unicode.Z, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector, unicode.Noncharacter_Code_Point)
}

// ShowName returns value fit to quote in a message: the characters a name
// may not contain, but the ASCII space, are written as \uXXXX (\UXXXXXXXX
// above the BMP) and bytes that are not UTF-8 as \xXX, so that a message
// neither hides nor reorders anything.
func ShowName(value string) string {
	var b strings.Builder
	for i := 0; i < len(value); {
		r, size := utf8.DecodeRuneInString(value[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02X", value[i])
		case r == ' ' || !invisibleRune(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(&b, "\\U%08X", r)
		default:
			fmt.Fprintf(&b, "\\u%04X", r)
		}
		i += size
	}
	return b.String()
}

// validatePackage applies the format's row: its namespace rule, then its
// rule for namespaces and names.
func validatePackage(format, namespace, pkg string) error {
	if err := validateFormat(format); err != nil {
		return err
	}
	f := formatOf(format)
	switch {
	case namespace == "" && f.Namespace == NamespaceRequired:
		return fault.Validation("namespace is required for %s packages", format)
	case namespace != "" && f.Namespace == NamespaceForbidden:
		return fault.Validation("%s packages have no namespace; remove the namespace '%s'", format, namespace)
	case namespace != "":
		if err := f.validateName("namespace", namespace); err != nil {
			return err
		}
	}
	return f.validateName("package", pkg)
}

func validateStatusValue(field, status string, allowed ...string) error {
	if !slices.Contains(allowed, status) {
		return fault.Validation("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", status, field, strings.Join(allowed, ", "))
	}
	return nil
}

func validateOrigin(field, v string) error { return validateStatusValue(field, v, Allow, Block) }

// validateGenericAssetName applies the generic format's asset-name rules:
// letters and digits, the listed specials, and single inner spaces; never
// "." or "..".
func validateGenericAssetName(name string) error {
	bad := func(why string) error {
		return fault.Validation("Value '%s' at 'asset' is not a valid generic asset name: %s", name, why)
	}
	if name == "" || len(name) > 255 {
		return bad("it must have 1 to 255 characters")
	}
	if name == "." || name == ".." {
		return bad("it must not be '.' or '..'")
	}
	if strings.HasPrefix(name, " ") || strings.HasSuffix(name, " ") || strings.Contains(name, "  ") {
		return bad("spaces may not lead, trail or repeat")
	}
	for _, r := range name {
		switch {
		case unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.Lt, unicode.Lu, unicode.Nl, unicode.Nd):
		case strings.ContainsRune("~!@^&()-_+[]{};,. `", r):
		default:
			return bad("character '" + string(r) + "' is not allowed")
		}
	}
	return nil
}

func validateAssetName(name string) error {
	if name == "" || len(name) > 255 {
		return fault.Validation("Value '%s' at 'asset' failed to satisfy constraint: Member must have length between 1 and 255", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return fault.Validation("Value at 'asset' failed to satisfy constraint: Member must satisfy regular expression pattern: \\P{C}+")
		}
	}
	return nil
}

// pypiSeparators are the runs PEP 503 folds into one "-".
var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// normalizePypi is PEP 503 normalisation: runs of -, _ and . become one "-",
// lower case. The namespace (always empty) is kept.
func normalizePypi(namespace, name string) (string, string) {
	return namespace, strings.ToLower(pypiSeparators.ReplaceAllString(name, "-"))
}
