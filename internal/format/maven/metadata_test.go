package maven

import (
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/internal/store"
)

// What mvn 3.8.7 uploads (real-clients.md 1.4).
const (
	releaseMetadata = `<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>com.example</groupId>
  <artifactId>hello</artifactId>
  <versioning>
    <release>1.0.0</release>
    <versions>
      <version>1.0.0</version>
    </versions>
    <lastUpdated>20261125181057</lastUpdated>
  </versioning>
</metadata>`
	snapshotMetadata = `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>com.example</groupId>
  <artifactId>hello</artifactId>
  <version>1.1.0-SNAPSHOT</version>
  <versioning>
    <snapshot>
      <timestamp>20261125.181235</timestamp>
      <buildNumber>1</buildNumber>
    </snapshot>
    <lastUpdated>20261125181235</lastUpdated>
    <snapshotVersions>
      <snapshotVersion>
        <extension>jar</extension>
        <value>1.1.0-20261125.181235-1</value>
        <updated>20261125181235</updated>
      </snapshotVersion>
      <snapshotVersion>
        <extension>pom</extension>
        <value>1.1.0-20261125.181235-1</value>
        <updated>20261125181235</updated>
      </snapshotVersion>
    </snapshotVersions>
  </versioning>
</metadata>`
	pluginMetadata = `<metadata xmlns="http://maven.apache.org/METADATA/1.1.0">
  <plugins>
    <plugin><name>Apache Maven Clean Plugin</name><prefix>clean</prefix><artifactId>maven-clean-plugin</artifactId></plugin>
  </plugins>
</metadata>`
)

func TestParseMetadata(t *testing.T) {
	m, err := ParseMetadata([]byte(releaseMetadata))
	if err != nil {
		t.Fatal(err)
	}
	if m.GroupID != "com.example" || m.ArtifactID != "hello" || m.Versioning == nil || m.Versioning.Release != "1.0.0" ||
		!slices.Equal(m.Versioning.Versions, []string{"1.0.0"}) || m.Versioning.LastUpdated != "20261125181057" {
		t.Errorf("release metadata = %+v %+v", m, m.Versioning)
	}
	if _, ok := m.SnapshotBuild(); ok {
		t.Error("release metadata has a snapshot build")
	}

	m, err = ParseMetadata([]byte(snapshotMetadata))
	if err != nil {
		t.Fatal(err)
	}
	b, ok := m.SnapshotBuild()
	if !ok || b.Version() != "1.1.0-20261125.181235-1" || len(m.Versioning.SnapshotVersions) != 2 {
		t.Errorf("snapshot metadata: build %+v %v, %+v", b, ok, m.Versioning)
	}
	// Without <snapshot>, the newest <snapshotVersion> names the build.
	noSnap := strings.Replace(snapshotMetadata, "<snapshot>\n      <timestamp>20261125.181235</timestamp>\n      <buildNumber>1</buildNumber>\n    </snapshot>", "", 1)
	noSnap = strings.Replace(noSnap, "<value>1.1.0-20261125.181235-1</value>", "<value>1.1.0-20261126.010101-2</value>", 1)
	m, _ = ParseMetadata([]byte(noSnap))
	if b, ok := m.SnapshotBuild(); !ok || b.Version() != "1.1.0-20261126.010101-2" {
		t.Errorf("build from snapshotVersions = %+v %v", b, ok)
	}

	m, err = ParseMetadata([]byte(pluginMetadata))
	if err != nil || len(m.Plugins) != 1 || m.Plugins[0].Prefix != "clean" {
		t.Errorf("plugin metadata = %+v, %v", m, err)
	}

	for _, bad := range []string{"", "<metadata>", "<project/>", "not xml", `<?xml version="1.0" encoding="EBCDIC"?><metadata/>`,
		`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><metadata><groupId>&e;</groupId></metadata>`} {
		if m, err := ParseMetadata([]byte(bad)); err == nil {
			t.Errorf("ParseMetadata(%q) = %+v, want an error", bad, m)
		}
	}
}

func TestRenderArtifactListing(t *testing.T) {
	l := &ArtifactListing{GroupID: "com.example", ArtifactID: "hello",
		Versions:    []string{"1.10", "1.1.0-SNAPSHOT", "1.9", "1.0-rc1", "1.9", "1.0", "2.0-SNAPSHOT"},
		LastUpdated: time.Date(2026, 11, 25, 18, 10, 57, 0, time.UTC)}
	got := string(l.Render())
	want := `<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>com.example</groupId>
  <artifactId>hello</artifactId>
  <versioning>
    <latest>1.10</latest>
    <release>1.10</release>
    <versions>
      <version>1.0-rc1</version>
      <version>1.0</version>
      <version>1.1.0-SNAPSHOT</version>
      <version>1.9</version>
      <version>1.10</version>
      <version>2.0-SNAPSHOT</version>
    </versions>
    <lastUpdated>20261125181057</lastUpdated>
  </versioning>
</metadata>
`
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	m, err := ParseMetadata([]byte(got))
	if err != nil || m.Versioning.Latest != "1.10" || len(m.Versioning.Versions) != 6 {
		t.Errorf("rendered document does not parse back: %+v %v", m, err)
	}

	// SNAPSHOTs only: <latest> is the newest SNAPSHOT, there is no <release>.
	l = &ArtifactListing{GroupID: "g", ArtifactID: "a&b", Versions: []string{"1.0-SNAPSHOT", "0.9-SNAPSHOT"}}
	got = string(l.Render())
	if !strings.Contains(got, "<latest>1.0-SNAPSHOT</latest>") || strings.Contains(got, "<release>") || !strings.Contains(got, "a&amp;b") ||
		strings.Contains(got, "lastUpdated") {
		t.Errorf("SNAPSHOT-only listing:\n%s", got)
	}

	// Plugins only (group level): no coordinates.
	l = &ArtifactListing{GroupID: "org.apache.maven", ArtifactID: "plugins", Plugins: []Plugin{{Name: "Clean", Prefix: "clean", ArtifactID: "maven-clean-plugin"}}}
	got = string(l.Render())
	if strings.Contains(got, "groupId") || !strings.Contains(got, "<prefix>clean</prefix>") {
		t.Errorf("plugin listing:\n%s", got)
	}
	if ps := MergePlugins(l.Plugins, []Plugin{{Prefix: "clean"}, {Prefix: "jar", ArtifactID: "maven-jar-plugin"}}); len(ps) != 2 || ps[1].Prefix != "jar" {
		t.Errorf("MergePlugins = %+v", ps)
	}
}

func TestRenderSnapshotMetadata(t *testing.T) {
	b, _ := ParseBuild("1.1.0-20261125.181235-3")
	doc := RenderSnapshotMetadata("com.example", "hello", b, time.Date(2026, 11, 25, 18, 12, 35, 0, time.UTC),
		[]SnapshotVersion{{Extension: "jar", Value: b.Version(), Updated: "20261125181235"}})
	m, err := ParseMetadata(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := m.SnapshotBuild()
	if !ok || got != b || m.Version != "1.1.0-SNAPSHOT" || m.Versioning.LastUpdated != "20261125181235" || len(m.Versioning.SnapshotVersions) != 1 {
		t.Errorf("generated snapshot metadata:\n%s", doc)
	}
}

func TestParsePOM(t *testing.T) {
	pom := `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.example</groupId><artifactId>parent</artifactId><version>7</version>
  </parent>
  <artifactId>hello</artifactId>
  <version>1.0.0</version>
  <name>Hello</name>
  <description>
    Says hello &amp; goodbye&nbsp;politely.
  </description>
  <url>https://example.com/${project.artifactId}</url>
  <licenses><license><name>Apache-2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0</url></license></licenses>
  <scm><url>https://git.example.com/hello</url></scm>
  <properties>
    <lang3.version>3.12.0</lang3.version>
    <junit.version>${junit.major}.13.2</junit.version>
    <junit.major>4</junit.major>
  </properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.9</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>${lang3.version}</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>${junit.version}</version><scope>test</scope></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><optional>true</optional><scope>provided</scope></dependency>
    <dependency><groupId>${project.groupId}</groupId><artifactId>hello-core</artifactId><version>${project.version}</version><classifier>tests</classifier><type>test-jar</type></dependency>
    <dependency><groupId>x</groupId><artifactId>y</artifactId><version>${undefined}</version></dependency>
  </dependencies>
</project>`
	p, err := ParsePOM([]byte(pom))
	if err != nil {
		t.Fatal(err)
	}
	if p.GroupID != "com.example" || p.ArtifactID != "hello" || p.Version != "1.0.0" || p.Packaging != "jar" || p.Name != "Hello" ||
		p.Description != "Says hello & goodbye politely." || p.URL != "https://example.com/hello" || p.SCMURL != "https://git.example.com/hello" ||
		len(p.Licenses) != 1 || p.Licenses[0].Name != "Apache-2.0" || p.Parent == nil || p.Parent.Version != "7" {
		t.Errorf("POM = %+v", p)
	}
	wantDeps := []Dependency{
		{GroupID: "org.apache.commons", ArtifactID: "commons-lang3", Version: "3.12.0"},
		{GroupID: "junit", ArtifactID: "junit", Version: "4.13.2", Scope: "test"},
		{GroupID: "org.slf4j", ArtifactID: "slf4j-api", Version: "2.0.9", Scope: "provided", Optional: true},
		{GroupID: "com.example", ArtifactID: "hello-core", Version: "1.0.0", Type: "test-jar", Classifier: "tests"},
		{GroupID: "x", ArtifactID: "y", Version: "${undefined}"},
	}
	if !slices.Equal(p.Dependencies, wantDeps) {
		t.Errorf("dependencies =\n%+v\nwant\n%+v", p.Dependencies, wantDeps)
	}
	wantStore := []store.Dependency{
		{Namespace: "com.example", Package: "parent", DependencyType: "parent", VersionRequirement: "7"},
		{Namespace: "org.apache.commons", Package: "commons-lang3", DependencyType: "compile", VersionRequirement: "3.12.0"},
		{Namespace: "junit", Package: "junit", DependencyType: "test", VersionRequirement: "4.13.2"},
		{Namespace: "org.slf4j", Package: "slf4j-api", DependencyType: "provided", VersionRequirement: "2.0.9"},
		{Namespace: "com.example", Package: "hello-core", DependencyType: "compile", VersionRequirement: "1.0.0"},
		{Namespace: "x", Package: "y", DependencyType: "compile", VersionRequirement: "${undefined}"},
	}
	if got := p.StoreDependencies(); !slices.Equal(got, wantStore) {
		t.Errorf("store dependencies =\n%+v\nwant\n%+v", got, wantStore)
	}
	var v store.Version
	p.Apply(&v)
	if v.DisplayName != "hello" || v.Summary != p.Description || v.HomePage != p.URL || v.SourceCodeRepository != p.SCMURL ||
		len(v.Licenses) != 1 || len(v.Dependencies) != 6 {
		t.Errorf("applied version = %+v", v)
	}

	// A self-referencing property does not loop.
	p, err = ParsePOM([]byte(`<project><groupId>g</groupId><artifactId>a</artifactId><version>${v}</version><properties><v>${v}x</v></properties></project>`))
	if err != nil || len(p.Version) > 4096 {
		t.Errorf("recursive property: %q %v", p.Version, err)
	}
	if _, err := ParsePOM([]byte("<metadata/>")); err == nil {
		t.Error("a non-POM document parsed")
	}
}
