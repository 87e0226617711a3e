package artifact_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

// formatRow is what a row of the format table must say, written out by hand
// from the CodeArtifact user guide and coffer's rules.
type formatRow struct {
	namespace artifact.NamespaceRule
	// normalize: {namespace, name, stored namespace, stored name}.
	normalize [][4]string
	// client: {namespace, name, how clients write it}.
	client      [3]string
	connections map[string]string // name -> default URL
	apiPublish  bool
}

var wantRows = map[string]formatRow{
	artifact.FormatNpm: {namespace: artifact.NamespaceAllowed,
		normalize:   [][4]string{{"", "Left_Pad", "", "Left_Pad"}, {"Types", "node", "Types", "node"}},
		client:      [3]string{"vue", "ui", "@vue/ui"},
		connections: map[string]string{"public:npmjs": "https://registry.npmjs.org/"}},
	artifact.FormatPypi: {namespace: artifact.NamespaceForbidden,
		normalize: [][4]string{{"", "Foo_Bar", "", "foo-bar"}, {"", "zope.interface", "", "zope-interface"},
			{"", "a-_.-b", "", "a-b"}, {"", "requests", "", "requests"}, {"", "Django", "", "django"}},
		client:      [3]string{"ns", "p", "ns/p"},
		connections: map[string]string{"public:pypi": "https://pypi.org/"}},
	artifact.FormatMaven: {namespace: artifact.NamespaceRequired,
		normalize: [][4]string{{"Org.Apache", "Commons_Lang", "Org.Apache", "Commons_Lang"}},
		client:    [3]string{"org.apache", "commons-lang3", "org.apache:commons-lang3"},
		connections: map[string]string{
			"public:maven-central":       "https://repo.maven.apache.org/maven2/",
			"public:maven-googleandroid": "https://maven.google.com/",
			"public:maven-gradleplugins": "https://plugins.gradle.org/m2/",
			"public:maven-commonsware":   "https://s3.amazonaws.com/repo.commonsware.com/",
			"public:maven-clojars":       "https://repo.clojars.org/",
		}},
	artifact.FormatNuget: {namespace: artifact.NamespaceForbidden,
		normalize:   [][4]string{{"", "Newtonsoft.Json", "", "newtonsoft.json"}, {"", "My_Pkg", "", "my_pkg"}},
		client:      [3]string{"ns", "p", "ns/p"},
		connections: map[string]string{"public:nuget-org": "https://api.nuget.org/v3/"}},
	artifact.FormatGeneric: {namespace: artifact.NamespaceRequired, apiPublish: true,
		normalize: [][4]string{{"My-NS", "My_Pkg", "My-NS", "My_Pkg"}},
		client:    [3]string{"ns", "p", "ns/p"}},
	artifact.FormatRuby: {namespace: artifact.NamespaceForbidden,
		normalize:   [][4]string{{"", "Rails_Admin", "", "Rails_Admin"}},
		client:      [3]string{"ns", "p", "ns/p"},
		connections: map[string]string{"public:ruby-gems-org": "https://rubygems.org/"}},
	artifact.FormatSwift: {namespace: artifact.NamespaceRequired,
		normalize: [][4]string{{"Apple", "Swift-NIO", "apple", "swift-nio"}, {"ÉCOLE", "Ünï", "école", "ünï"}},
		client:    [3]string{"apple", "swift-nio", "apple/swift-nio"}},
	artifact.FormatCargo: {namespace: artifact.NamespaceForbidden,
		normalize:   [][4]string{{"", "Serde_JSON", "", "serde_json"}, {"", "Foo-Bar", "", "foo_bar"}},
		client:      [3]string{"ns", "p", "ns/p"},
		connections: map[string]string{"public:crates-io": "https://index.crates.io/"}},
}

// TestFormatTable checks every row against wantRows: namespace rule,
// normalisation, client names, connections and their default URLs, and that
// the derived views (Formats, ExternalConnections, DefaultExternalURLs)
// agree with the rows.
func TestFormatTable(t *testing.T) {
	wantOrder := []string{"npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo"} // the API's enum order
	if !slices.Equal(artifact.Formats, wantOrder) {
		t.Fatalf("Formats = %v, want %v", artifact.Formats, wantOrder)
	}
	allConns := map[string]string{}
	for _, format := range artifact.Formats {
		want, ok := wantRows[format]
		if !ok {
			t.Errorf("%s: no expected row in this test", format)
			continue
		}
		row, ok := artifact.LookupFormat(format)
		if !ok || row.Name != format {
			t.Fatalf("LookupFormat(%s) = %+v, %v", format, row.Name, ok)
		}
		if row.Namespace != want.namespace {
			t.Errorf("%s: namespace %s, want %s", format, row.Namespace, want.namespace)
		}
		for _, c := range want.normalize {
			if ns, n := artifact.Normalize(format, c[0], c[1]); ns != c[2] || n != c[3] {
				t.Errorf("Normalize(%s, %q, %q) = %q, %q, want %q, %q", format, c[0], c[1], ns, n, c[2], c[3])
			}
		}
		if got := artifact.ClientName(format, want.client[0], want.client[1]); got != want.client[2] {
			t.Errorf("ClientName(%s, %q, %q) = %q, want %q", format, want.client[0], want.client[1], got, want.client[2])
		}
		if got := artifact.ClientName(format, "", "p"); got != "p" {
			t.Errorf("ClientName(%s, \"\", p) = %q, want p", format, got)
		}
		got := map[string]string{}
		for _, c := range row.Connections {
			got[c.Name] = c.DefaultURL
			allConns[c.Name] = format
			if artifact.ExternalConnections[c.Name] != format {
				t.Errorf("ExternalConnections[%s] = %q, want %s", c.Name, artifact.ExternalConnections[c.Name], format)
			}
			if artifact.DefaultExternalURLs[c.Name] != c.DefaultURL || !strings.HasSuffix(c.DefaultURL, "/") || !strings.HasPrefix(c.Name, "public:") {
				t.Errorf("%s: connection %+v, DefaultExternalURLs %q", format, c, artifact.DefaultExternalURLs[c.Name])
			}
		}
		if len(got) != len(row.Connections) || !maps.Equal(got, want.connections) {
			t.Errorf("%s: connections %v, want %v", format, got, want.connections)
		}
		if row.APIPublish != want.apiPublish {
			t.Errorf("%s: APIPublish %v, want %v", format, row.APIPublish, want.apiPublish)
		}
		if (row.Asset != nil) != (format == artifact.FormatGeneric) {
			t.Errorf("%s: an asset-name rule of its own: %v", format, row.Asset != nil)
		}
		if (row.DisplayVersion != nil || row.CopyMetadata != nil) != (format == artifact.FormatNpm) {
			t.Errorf("%s: display-version and copy-metadata hooks are npm's only", format)
		}
	}
	if !maps.Equal(allConns, artifact.ExternalConnections) || len(artifact.DefaultExternalURLs) != len(allConns) {
		t.Errorf("ExternalConnections %v, DefaultExternalURLs %v: not the rows' connections %v", artifact.ExternalConnections, artifact.DefaultExternalURLs, allConns)
	}
}

// TestFormatTableUnknown: a name that is no format has no row, and the
// helpers leave its coordinates alone.
func TestFormatTableUnknown(t *testing.T) {
	for _, name := range []string{"", "go", "NPM", "oci"} {
		if _, ok := artifact.LookupFormat(name); ok {
			t.Errorf("LookupFormat(%q): found", name)
		}
		if ns, n := artifact.Normalize(name, "A.B", "C_D"); ns != "A.B" || n != "C_D" {
			t.Errorf("Normalize(%q) = %q, %q", name, ns, n)
		}
		if got := artifact.ClientName(name, "a", "b"); got != "a/b" {
			t.Errorf("ClientName(%q) = %q", name, got)
		}
	}
}

// TestFormatNamespaceRules drives each row's namespace rule through the
// service: a required namespace may not be missing, a forbidden one may not
// be given; what passes reaches the lookup (NotFound).
func TestFormatNamespaceRules(t *testing.T) {
	f := newFixture(t)
	f.repo("rr")
	repo := artifact.RepoRef{DomainRef: dom, Repository: "rr"}
	for _, format := range artifact.Formats {
		row, _ := artifact.LookupFormat(format)
		for _, ns := range []string{"", "some-ns"} {
			_, err := f.svc.DescribePackage(ctx, artifact.PackageRef{RepoRef: repo, Format: format, Namespace: ns, Package: "p"})
			refused := ns == "" && row.Namespace == artifact.NamespaceRequired || ns != "" && row.Namespace == artifact.NamespaceForbidden
			want := fault.KindNotFound
			if refused {
				want = fault.KindValidation
			}
			if fault.KindOf(err) != want {
				t.Errorf("%s (%s) with namespace %q: %v, want kind %v", format, row.Namespace, ns, err, want)
			}
		}
	}
}

// TestFormatAssetRules: the generic row's asset-name rule is stricter than
// CodeArtifact's AssetName shape, which the other rows use.
func TestFormatAssetRules(t *testing.T) {
	generic, _ := artifact.LookupFormat(artifact.FormatGeneric)
	for _, bad := range []string{".", "..", " lead", "a/b", "a\\b", "a  b"} {
		if generic.Asset(bad) == nil {
			t.Errorf("generic asset %q accepted", bad)
		}
	}
	for _, ok := range []string{"file.tar.gz", "my file (1).zip", "日本.txt"} {
		if err := generic.Asset(ok); err != nil {
			t.Errorf("generic asset %q: %v", ok, err)
		}
	}
}

func TestNormalizeVersion(t *testing.T) {
	for _, c := range []struct{ format, in, want string }{
		{artifact.FormatNuget, "12.0.03.0", "12.0.3"}, {artifact.FormatNuget, "1.0.7+r3456", "1.0.7"}, {artifact.FormatNuget, "1.0.0-Beta", "1.0.0-beta"},
		{artifact.FormatNuget, "not-a-version", "not-a-version"}, {artifact.FormatNpm, "01.0.0", "01.0.0"}, {artifact.FormatMaven, "1.0.0.0", "1.0.0.0"},
	} {
		if got := artifact.NormalizeVersion(c.format, c.in); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.format, c.in, got, c.want)
		}
	}
}
