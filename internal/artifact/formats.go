package artifact

import (
	"strings"

	"coffer/internal/format/nuget/nugetver"
)

// The format table: one row per package format, holding every rule that
// depends on the format's name. The engine, the control plane (its format
// enum) and the console (display names, connection tabs) read the rows;
// nothing outside a row and its format's own package (internal/format/<fmt>)
// compares a format name. A new format (Go modules, OCI images, Helm charts)
// is a new row: its hooks may give package names that span several path
// segments (Coordinate) and its own asset rule (Asset); a nil hook is the
// CodeArtifact default.

// Formats, as the CodeArtifact API spells them.
const (
	FormatNpm     = "npm"
	FormatPypi    = "pypi"
	FormatMaven   = "maven"
	FormatNuget   = "nuget"
	FormatGeneric = "generic"
	FormatRuby    = "ruby"
	FormatSwift   = "swift"
	FormatCargo   = "cargo"
)

// NamespaceRule says whether a format's packages have a namespace.
type NamespaceRule int

// The namespace rules. The zero value forbids a namespace.
const (
	NamespaceForbidden NamespaceRule = iota // the namespace must be empty
	NamespaceAllowed                        // the namespace may be empty (npm's scope)
	NamespaceRequired                       // every package has one (Maven's groupId)
)

// String is the rule's name in messages and tests.
func (r NamespaceRule) String() string {
	switch r {
	case NamespaceAllowed:
		return "allowed"
	case NamespaceRequired:
		return "required"
	}
	return "forbidden"
}

// Connection is an external connection: a public registry that repositories
// of its format may associate with and ingest from.
type Connection struct {
	Name string // as the API spells it, e.g. "public:npmjs"
	// DefaultURL is the base URL a format appends its paths to (ending in
	// "/"), unless the operator overrides it (Config.ExternalConnectionURLs).
	DefaultURL string
}

// FormatSpec is one row of the format table. Hooks left nil take the
// CodeArtifact default documented on each.
type FormatSpec struct {
	// Name is the format as the API spells it.
	Name      string
	Namespace NamespaceRule
	// Coordinate validates a namespace or a package name (field is
	// "namespace" or "package"); nil is CodeArtifact's rule for every
	// format: one path segment, 1–255 characters without '#', '/' or
	// whitespace, then NameProblem.
	Coordinate func(field, value string) error
	// Normalize returns the stored form of a namespace and name, the one API
	// lookups, ARNs and package groups use; nil keeps them as given.
	Normalize func(namespace, name string) (string, string)
	// ClientName is how the format's clients write a package with a
	// namespace (npm "@scope/name"); nil is "namespace/name". A package
	// without a namespace is always its name.
	ClientName func(namespace, name string) string
	// Asset validates an asset name; nil is CodeArtifact's AssetName shape.
	Asset func(name string) error
	// APIPublish says PublishPackageVersion accepts the format.
	APIPublish bool
	// NoUpstreams says reads never go through upstream repositories: a
	// repository serves only what it holds (generic, spec §3.2).
	NoUpstreams bool
	// Connections are the format's external connections, in the order
	// listed. A format without any never ingests from outside: only
	// repository upstreams apply to it.
	Connections []Connection
	// Version returns the stored form of a version the API is given
	// (NuGet: 1.01.0.0 is 1.1.0, build metadata dropped); nil keeps it.
	Version func(v string) string
	// DisplayVersion returns the version a package's Metadata names as its
	// defaultDisplayVersion (npm: the "latest" dist-tag), "" for none; when
	// nil or "" (or that version is not Published) it is the most recently
	// published version.
	DisplayVersion func(metadata string) string
	// CopyMetadata merges package-level Metadata into a copy's destination
	// on CopyPackageVersions: dst is the destination's, sources the
	// searched repositories' (in search order), copied reports a copied
	// version. It returns the new Metadata and whether it changed (npm
	// copies the dist-tags that name copied versions). Nil copies none.
	CopyMetadata func(dst string, sources []string, copied func(version string) bool) (string, bool)
}

// formatTable holds the rows in the API's enum order.
var formatTable = []FormatSpec{
	{Name: FormatNpm, Namespace: NamespaceAllowed,
		ClientName:     func(ns, name string) string { return "@" + ns + "/" + name },
		Connections:    []Connection{{"public:npmjs", "https://registry.npmjs.org/"}},
		DisplayVersion: npmDisplayVersion, CopyMetadata: npmCopyDistTags},
	{Name: FormatPypi, Normalize: normalizePypi,
		Connections: []Connection{{"public:pypi", "https://pypi.org/"}}},
	{Name: FormatMaven, Namespace: NamespaceRequired,
		ClientName: func(ns, name string) string { return ns + ":" + name },
		Connections: []Connection{
			{"public:maven-central", "https://repo.maven.apache.org/maven2/"},
			{"public:maven-googleandroid", "https://maven.google.com/"},
			{"public:maven-gradleplugins", "https://plugins.gradle.org/m2/"},
			{"public:maven-commonsware", "https://s3.amazonaws.com/repo.commonsware.com/"},
			{"public:maven-clojars", "https://repo.clojars.org/"},
		}},
	// NuGet's service index is index.json under the base URL.
	// Its versions are stored normalised and in lower case (nugetver.Stored).
	{Name: FormatNuget, Normalize: func(ns, name string) (string, string) { return ns, strings.ToLower(name) },
		Version: nugetver.Stored, Connections: []Connection{{"public:nuget-org", "https://api.nuget.org/v3/"}}},
	{Name: FormatGeneric, Namespace: NamespaceRequired, Asset: validateGenericAssetName, APIPublish: true, NoUpstreams: true},
	{Name: FormatRuby, Connections: []Connection{{"public:ruby-gems-org", "https://rubygems.org/"}}},
	{Name: FormatSwift, Namespace: NamespaceRequired,
		Normalize: func(ns, name string) (string, string) { return strings.ToLower(ns), strings.ToLower(name) }},
	// Crate names are one crate when equal but for case and "-"/"_", as on
	// the public registry: stored in that canonical form (lower case, "_").
	{Name: FormatCargo, Normalize: func(ns, name string) (string, string) { return ns, strings.ReplaceAll(strings.ToLower(name), "-", "_") },
		Connections: []Connection{{"public:crates-io", "https://index.crates.io/"}}},
}

var formatRows = func() map[string]*FormatSpec {
	m := make(map[string]*FormatSpec, len(formatTable))
	for i := range formatTable {
		m[formatTable[i].Name] = &formatTable[i]
	}
	return m
}()

// noFormat is the row of a name that is no format: every hook its default,
// no namespace, no connections.
var noFormat = &FormatSpec{}

// LookupFormat returns the row of a format.
func LookupFormat(name string) (FormatSpec, bool) {
	f, ok := formatRows[name]
	if !ok {
		return FormatSpec{}, false
	}
	return *f, true
}

// formatOf returns the row of a format, noFormat for a name that is none.
func formatOf(name string) *FormatSpec {
	if f, ok := formatRows[name]; ok {
		return f
	}
	return noFormat
}

// Formats lists every package format in the API's order. Never modified.
var Formats = func() []string {
	out := make([]string, len(formatTable))
	for i, f := range formatTable {
		out[i] = f.Name
	}
	return out
}()

// ExternalConnections maps each supported external connection name to the
// package format it serves; DefaultExternalURLs maps it to where it points
// unless the operator overrides it (Config.ExternalConnectionURLs). Both come
// from the table's Connections and are never modified.
var ExternalConnections, DefaultExternalURLs = connectionMaps()

func connectionMaps() (formats, urls map[string]string) {
	formats, urls = map[string]string{}, map[string]string{}
	for _, f := range formatTable {
		for _, c := range f.Connections {
			formats[c.Name], urls[c.Name] = f.Name, c.DefaultURL
		}
	}
	return formats, urls
}

// Normalize returns the stored form of a package's namespace and name (the
// row's Normalize: PEP 503 for PyPI, lower case for NuGet and Swift,
// unchanged otherwise). API lookups, ARNs and package groups use the
// normalised form.
func Normalize(format, namespace, name string) (string, string) {
	if n := formatOf(format).Normalize; n != nil {
		return n(namespace, name)
	}
	return namespace, name
}

// NormalizeVersion returns the stored form of a version of the format (the
// row's Version: NuGet's normalisation; unchanged otherwise).
func NormalizeVersion(format, version string) string {
	if n := formatOf(format).Version; n != nil {
		return n(version)
	}
	return version
}

// normalizeVersions applies NormalizeVersion to a request's version names
// and to the keys of its revisions.
func normalizeVersions(format string, names []string, revisions map[string]string) ([]string, map[string]string) {
	n := formatOf(format).Version
	if n == nil {
		return names, revisions
	}
	out := make([]string, len(names))
	for i, v := range names {
		out[i] = n(v)
	}
	var revs map[string]string
	if revisions != nil {
		revs = make(map[string]string, len(revisions))
		for v, r := range revisions {
			revs[n(v)] = r
		}
	}
	return out, revs
}

// ClientName is how a package manager writes a package: npm "@scope/name",
// Maven "group:artifact", the others "namespace/name" (or just the name).
func ClientName(format, namespace, name string) string {
	if namespace == "" {
		return name
	}
	if c := formatOf(format).ClientName; c != nil {
		return c(namespace, name)
	}
	return namespace + "/" + name
}

// namespaceRule says whether a format requires, allows or forbids namespaces.
func namespaceRule(format string) (required, allowed bool) {
	r := formatOf(format).Namespace
	return r == NamespaceRequired, r != NamespaceForbidden
}

// validateName applies the row's Coordinate rule to a namespace or name.
func (f *FormatSpec) validateName(field, value string) error {
	if f.Coordinate != nil {
		return f.Coordinate(field, value)
	}
	return validateCoordinate(field, value)
}

// validateAsset applies the row's asset-name rule.
func (f *FormatSpec) validateAsset(name string) error {
	if f.Asset != nil {
		return f.Asset(name)
	}
	return validateAssetName(name)
}

// ingests says whether packages of the format may be fetched through an
// external connection (formats without connections never are).
func (f *FormatSpec) ingests() bool { return len(f.Connections) > 0 }
