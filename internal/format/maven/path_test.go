package maven

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want Path
	}{
		{"com/example/hello/1.0.0/hello-1.0.0.jar",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.0.0", File: "hello-1.0.0.jar", Extension: "jar"}},
		{"com/example/hello/1.0.0/hello-1.0.0.pom.sha1",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.0.0", File: "hello-1.0.0.pom", Checksum: SHA1, Extension: "pom"}},
		{"com/example/hello/1.0.0/hello-1.0.0-sources.jar.sha512",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.0.0", File: "hello-1.0.0-sources.jar", Checksum: SHA512,
				Classifier: "sources", Extension: "jar"}},
		{"org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar.md5",
			Path{Kind: KindFile, GroupID: "org.apache.commons", ArtifactID: "commons-lang3", Version: "3.12.0", File: "commons-lang3-3.12.0.jar", Checksum: MD5, Extension: "jar"}},
		{"junit/junit/4.13.2/junit-4.13.2.pom",
			Path{Kind: KindFile, GroupID: "junit", ArtifactID: "junit", Version: "4.13.2", File: "junit-4.13.2.pom", Extension: "pom"}},
		{"org/apache/maven/plugins/maven-plugins/debian/maven-plugins-debian.pom",
			Path{Kind: KindFile, GroupID: "org.apache.maven.plugins", ArtifactID: "maven-plugins", Version: "debian", File: "maven-plugins-debian.pom", Extension: "pom"}},
		{"jakarta/annotation/jakarta.annotation-api/2.1.1/jakarta.annotation-api-2.1.1.jar",
			Path{Kind: KindFile, GroupID: "jakarta.annotation", ArtifactID: "jakarta.annotation-api", Version: "2.1.1", File: "jakarta.annotation-api-2.1.1.jar", Extension: "jar"}},
		{"com/example/dist/1.0/dist-1.0-bin.tar.gz",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "dist", Version: "1.0", File: "dist-1.0-bin.tar.gz", Classifier: "bin", Extension: "tar.gz"}},
		{"com/example/hello/1.0.0/hello-1.0.0.jar.asc",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.0.0", File: "hello-1.0.0.jar.asc", Extension: "jar.asc"}},
		{"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261125.181235-1.jar",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.1.0-SNAPSHOT", File: "hello-1.1.0-20261125.181235-1.jar",
				Build: "1.1.0-20261125.181235-1", Extension: "jar"}},
		{"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261125.181235-12-tests.jar.sha1",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.1.0-SNAPSHOT", File: "hello-1.1.0-20261125.181235-12-tests.jar",
				Checksum: SHA1, Build: "1.1.0-20261125.181235-12", Classifier: "tests", Extension: "jar"}},
		{"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT.jar",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.1.0-SNAPSHOT", File: "hello-1.1.0-SNAPSHOT.jar", Extension: "jar"}},
		{"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT-sources.jar",
			Path{Kind: KindFile, GroupID: "com.example", ArtifactID: "hello", Version: "1.1.0-SNAPSHOT", File: "hello-1.1.0-SNAPSHOT-sources.jar",
				Classifier: "sources", Extension: "jar"}},
		{"com/example/hello/maven-metadata.xml",
			Path{Kind: KindArtifactMetadata, GroupID: "com.example", ArtifactID: "hello", File: MetadataFile}},
		{"com/example/hello/maven-metadata.xml.sha256",
			Path{Kind: KindArtifactMetadata, GroupID: "com.example", ArtifactID: "hello", File: MetadataFile, Checksum: SHA256}},
		{"org/apache/maven/plugins/maven-metadata.xml", // group-level plugin metadata: addressed as org.apache.maven:plugins
			Path{Kind: KindArtifactMetadata, GroupID: "org.apache.maven", ArtifactID: "plugins", File: MetadataFile}},
		{"com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml",
			Path{Kind: KindVersionMetadata, GroupID: "com.example", ArtifactID: "hello", Version: "1.1.0-SNAPSHOT", File: MetadataFile}},
		{"com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml.md5",
			Path{Kind: KindVersionMetadata, GroupID: "com.example", ArtifactID: "hello", Version: "1.1.0-SNAPSHOT", File: MetadataFile, Checksum: MD5}},
		{"g/a/1-SNAPSHOT/maven-metadata.xml",
			Path{Kind: KindVersionMetadata, GroupID: "g", ArtifactID: "a", Version: "1-SNAPSHOT", File: MetadataFile}},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParsePath(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParsePath(%q).String() = %q", tt.in, s)
		}
	}
}

func TestParsePathRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"hello-1.0.0.jar",
		"hello/1.0.0/hello-1.0.0.jar",             // no group
		"com//hello/1.0.0/hello-1.0.0.jar",        // empty segment
		"com/example/hello/1.0.0/",                // directory
		"com/../hello/1.0.0/hello-1.0.0.jar",      // traversal
		"com/./hello/1.0.0/hello-1.0.0.jar",       // dot segment
		"com.example/hello/1.0.0/hello-1.0.0.jar", // dot in a group directory
		"com/example/hello/1.0.0/other-1.0.0.jar", // another artifact's file
		"com/example/hello/1.0.0/hello-2.0.0.jar", // another version's file
		"com/example/hello/1.0.0/hello-1.0.0",     // no extension
		"com/example/hello/1.0.0/hello-1.0.0.",    // empty extension
		"com/example/hello/1.0.0/hello-1.0.0-.jar",
		"com/example/hello/1.0.0/hello-1.0.0-sources",
		"com/example/hello/1.0.0/hello-1.0.0.jar.sha1.md5",
		"com/example/hello/1.0.0/hello 1.0.0.jar",
		"com/example/hello/1.0.0/hello-1.0.0.jar\x00",
		"com/example/hello/1.0.0/hello-1.0.0#.jar",
		`com/example/hello/1.0.0/hello-1.0.0\.jar`,
		"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-2026.jar",              // neither SNAPSHOT nor a build
		"com/example/hello/1.1.0-SNAPSHOT/hello-1.2.0-20261125.181235-1.jar", // a build of another SNAPSHOT
		"com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261125.181235-0.jar", // build numbers start at 1
		"hello/maven-metadata.xml",
		"maven-metadata.xml",
		"com/example/hello/1.0.0/hello-1.0.0.jar\xff",
		strings.Repeat("a/", 1100) + "x",
	} {
		if p, err := ParsePath(in); err == nil {
			t.Errorf("ParsePath(%q) = %+v, want an error", in, p)
		} else if !errors.Is(err, ErrBadPath) {
			t.Errorf("ParsePath(%q): error %v does not wrap ErrBadPath", in, err)
		}
	}
}

func TestPathHelpers(t *testing.T) {
	p, err := ParsePath("com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT-tests.jar")
	if err != nil {
		t.Fatal(err)
	}
	if !p.NonUniqueSnapshot() || p.AssetVersion() != "1.1.0-SNAPSHOT" {
		t.Errorf("non-unique SNAPSHOT file: %+v", p)
	}
	if got := FileName("hello", "1.1.0-20261125.181235-1", p.Classifier, p.Extension); got != "hello-1.1.0-20261125.181235-1-tests.jar" {
		t.Errorf("FileName = %q", got)
	}
	p, _ = ParsePath("com/example/hello/1.1.0-SNAPSHOT/hello-1.1.0-20261125.181235-1.pom")
	if p.NonUniqueSnapshot() || p.AssetVersion() != "1.1.0-20261125.181235-1" {
		t.Errorf("build file: %+v", p)
	}
	p, _ = ParsePath("com/example/hello/1.0.0/hello-1.0.0.pom")
	if p.NonUniqueSnapshot() || p.AssetVersion() != "1.0.0" || p.GroupPath() != "com/example" {
		t.Errorf("release file: %+v", p)
	}
}
