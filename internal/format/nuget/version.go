package nuget

import (
	"slices"

	"coffer/internal/format/nuget/nugetver"
)

// Version is a parsed NuGet version (nugetver).
type Version = nugetver.Version

// The version rules of NuGet.Versioning and NuGet's id rule.
var (
	ParseVersion     = nugetver.ParseVersion
	NormalizeVersion = nugetver.NormalizeVersion
	Compare          = nugetver.Compare
	ValidID          = nugetver.ValidID
)

// sortKnown orders versions by precedence.
func sortKnown(vs []known) {
	slices.SortStableFunc(vs, func(a, b known) int { return Compare(a.ver, b.ver) })
}
