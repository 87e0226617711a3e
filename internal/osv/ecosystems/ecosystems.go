// Package ecosystems supplies osv's version orders and name rules from the
// format packages, and maps coffer's package coordinates to OSV's.
//
// It lives apart from osv because the format packages sit above the
// artifact engine (they hold protocol code), while osv must stay
// importable from the engine's level; only the wiring (cmd, app) imports
// this package and hands the table to osv.NewIndex.
package ecosystems

import (
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/format/maven"
	"coffer/internal/format/nuget/nugetver"
	"coffer/internal/format/pypi"
	"coffer/internal/format/rubygems"
	"coffer/internal/osv"
)

// OSV ecosystem names coffer's formats correspond to.
const (
	Npm      = "npm"
	PyPI     = "PyPI"
	Maven    = "Maven"
	CratesIO = "crates.io"
	RubyGems = "RubyGems"
	NuGet    = "NuGet"
	SwiftURL = "SwiftURL"
)

// Table returns the rules of the ecosystems coffer serves.
func Table() osv.Ecosystems {
	return osv.Ecosystems{
		// npm's ECOSYSTEM order is SemVer; names are case-sensitive.
		Npm: {Compare: osv.CompareSemVer, Valid: osv.ValidSemVer},
		PyPI: {Compare: comparePyPI, Valid: validPyPI,
			Name: func(n string) string { return pypi.NormalizeName(n) }},
		// Every string is a Maven version (ComparableVersion).
		Maven: {Compare: maven.CompareVersions},
		// One crate whatever the case and "-"/"_", as the registry says.
		CratesIO: {Compare: osv.CompareSemVer, Valid: osv.ValidSemVer,
			Name: func(n string) string { return norm(artifact.FormatCargo, n) }},
		RubyGems: {Compare: rubygems.CompareVersions, Valid: validGem},
		NuGet: {Compare: compareNuGet, Valid: validNuGet,
			Name: func(n string) string { return norm(artifact.FormatNuget, n) }},
		// Swift packages are named by repository URL in OSV and by
		// scope.name in coffer: no mapping, but the order is SemVer.
		SwiftURL: {Compare: osv.CompareSemVer, Valid: osv.ValidSemVer},
	}
}

func norm(format, name string) string {
	_, n := artifact.Normalize(format, "", name)
	return n
}

func comparePyPI(a, b string) int {
	va, oka := pypi.ParseVersion(a)
	vb, okb := pypi.ParseVersion(b)
	switch {
	case oka && okb:
		return va.Compare(vb)
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(a, b)
}

func validPyPI(v string) bool { _, ok := pypi.ParseVersion(v); return ok }

// validGem is what Gem::Version.new accepts ("1.0-rc1" too).
func validGem(v string) bool { _, err := rubygems.CanonicalVersion(v); return err == nil }

func compareNuGet(a, b string) int {
	va, oka := nugetver.ParseVersion(a)
	vb, okb := nugetver.ParseVersion(b)
	switch {
	case oka && okb:
		return nugetver.Compare(va, vb)
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(a, b)
}

func validNuGet(v string) bool { _, ok := nugetver.ParseVersion(v); return ok }

// Package maps a coffer package (format, namespace, name) to its OSV
// ecosystem and name: npm "@scope/name", Maven "group:artifact". ok is
// false for formats OSV has no ecosystem for (generic, swift).
func Package(format, namespace, name string) (ecosystem, osvName string, ok bool) {
	switch format {
	case artifact.FormatNpm:
		if namespace != "" {
			return Npm, "@" + namespace + "/" + name, true
		}
		return Npm, name, true
	case artifact.FormatPypi:
		return PyPI, name, true
	case artifact.FormatMaven:
		return Maven, namespace + ":" + name, true
	case artifact.FormatCargo:
		return CratesIO, name, true
	case artifact.FormatRuby:
		return RubyGems, name, true
	case artifact.FormatNuget:
		return NuGet, name, true
	}
	return "", "", false
}
