package artifact

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

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

// ExternalConnections maps each supported external connection name to the
// package format it serves.
var ExternalConnections = map[string]string{
	"public:npmjs":               FormatNpm,
	"public:pypi":                FormatPypi,
	"public:maven-central":       FormatMaven,
	"public:maven-googleandroid": FormatMaven,
	"public:maven-gradleplugins": FormatMaven,
	"public:maven-commonsware":   FormatMaven,
	"public:maven-clojars":       FormatMaven,
	"public:nuget-org":           FormatNuget,
	"public:ruby-gems-org":       FormatRuby,
	"public:crates-io":           FormatCargo,
}

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

// namespaceRule says whether a format requires, allows or forbids namespaces.
func namespaceRule(format string) (required, allowed bool) {
	switch format {
	case FormatMaven, FormatSwift, FormatGeneric:
		return true, true
	case FormatNpm:
		return false, true
	}
	return false, false
}

func validateCoordinate(field, value string) error {
	if !coordinatePattern.MatchString(value) {
		return fault.Validation("Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 255 and satisfy regular expression pattern: [^#/\\s]+", value, field)
	}
	return nil
}

func validatePackage(format, namespace, pkg string) error {
	if err := validateFormat(format); err != nil {
		return err
	}
	required, allowed := namespaceRule(format)
	switch {
	case namespace == "" && required:
		return fault.Validation("namespace is required for %s packages", format)
	case namespace != "" && !allowed:
		return fault.Validation("%s packages have no namespace; remove the namespace '%s'", format, namespace)
	case namespace != "":
		if err := validateCoordinate("namespace", namespace); err != nil {
			return err
		}
	}
	return validateCoordinate("package", pkg)
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

// normalizePypi is PEP 503 normalisation: runs of -, _ and . become one "-",
// lower case.
var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// Normalize returns the stored form of a package's namespace and name: PEP 503
// for PyPI, lower case for NuGet and Swift, unchanged otherwise. API lookups,
// ARNs and package groups use the normalised form.
func Normalize(format, namespace, name string) (string, string) {
	switch format {
	case FormatPypi:
		return namespace, strings.ToLower(pypiSeparators.ReplaceAllString(name, "-"))
	case FormatNuget:
		return namespace, strings.ToLower(name)
	case FormatSwift:
		return strings.ToLower(namespace), strings.ToLower(name)
	}
	return namespace, name
}
