// Package plugins lists the native package-format protocols coffer serves:
// the one place a new format is added (see internal/format/README.md).
package plugins

import (
	"coffer/internal/format"
	"coffer/internal/format/cargo"
	"coffer/internal/format/generic"
	"coffer/internal/format/guide"
	"coffer/internal/format/maven"
	"coffer/internal/format/npm"
	"coffer/internal/format/nuget"
	"coffer/internal/format/pypi"
	"coffer/internal/format/rubygems"
	"coffer/internal/format/swift"
)

// All are the plug-ins, in the console's tab order.
var All = []format.Plugin{
	maven.Protocol,
	npm.Protocol,
	pypi.Protocol,
	generic.Protocol,
	cargo.Protocol,
	rubygems.Protocol,
	nuget.Protocol,
	swift.Protocol,
}

// Guides are the console's connection instructions: the plug-ins' and
// those of the formats still pending.
func Guides() []guide.Guide {
	var gs []guide.Guide
	for _, p := range All {
		gs = append(gs, p.Guides...)
	}
	return append(gs, guide.Pending...)
}
