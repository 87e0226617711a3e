package maven_test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"coffer/internal/format/formattest"
	"coffer/internal/format/maven"
)

var lastUpdated = regexp.MustCompile(`<lastUpdated>[0-9]{14}</lastUpdated>`)

// TestMetadataGolden renders the artifact-level maven-metadata.xml of two
// releases and a SNAPSHOT, as mvn reads it to resolve a version range,
// LATEST or RELEASE. lastUpdated (the time of the newest publish) is
// normalised.
func TestMetadataGolden(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if status, err := confAdapter.Publish(c, v); err != nil || status != http.StatusCreated {
			t.Fatalf("deploying %s: %d %v", v, status, err)
		}
	}
	// A SNAPSHOT build: timestamped files, the version-level metadata, then
	// the artifact-level metadata, as mvn deploy sends them.
	build := "2.0.0-20260102.030405-1"
	snapDir := confBase + "2.0.0-SNAPSHOT/"
	snapMeta := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0"><groupId>` + confGroup + `</groupId><artifactId>` + confArtifact + `</artifactId><version>2.0.0-SNAPSHOT</version>
<versioning><snapshot><timestamp>20260102.030405</timestamp><buildNumber>1</buildNumber></snapshot><lastUpdated>20260102030405</lastUpdated>
<snapshotVersions><snapshotVersion><extension>jar</extension><value>` + build + `</value><updated>20260102030405</updated></snapshotVersion>
</snapshotVersions></versioning></metadata>
`)
	if status, err := confDeploy(c, [2]any{snapDir + confArtifact + "-" + build + ".pom", confPOM("2.0.0-SNAPSHOT")},
		[2]any{snapDir + confArtifact + "-" + build + ".jar", confJar(build)}, [2]any{snapDir + "maven-metadata.xml", snapMeta},
		[2]any{confBase + "maven-metadata.xml", confMetadata("1.0.0", "1.1.0", "2.0.0-SNAPSHOT")}); err != nil || status != http.StatusCreated {
		t.Fatalf("deploying the SNAPSHOT: %d %v", status, err)
	}

	doc := formattest.GetDocument(t, c, confBase+"maven-metadata.xml", "")
	m, err := maven.ParseMetadata(doc)
	if err != nil || m.Versioning == nil {
		t.Fatalf("%v in\n%s", err, doc)
	}
	if m.GroupID != confGroup || m.ArtifactID != confArtifact || !slices.Equal(m.Versioning.Versions, []string{"1.0.0", "1.1.0", "2.0.0-SNAPSHOT"}) ||
		m.Versioning.Release != "1.1.0" || m.Versioning.Latest != "1.1.0" || !lastUpdated.Match(doc) {
		t.Errorf("maven-metadata.xml lacks what mvn needs:\n%s", doc)
	}
	// mvn checks the document against its .sha1.
	sum := sha1.Sum(doc)
	if got := formattest.GetDocument(t, c, confBase+"maven-metadata.xml.sha1", ""); string(got) != hex.EncodeToString(sum[:]) {
		t.Errorf("maven-metadata.xml.sha1 = %s, want %x", got, sum)
	}
	formattest.Golden(t, "maven-metadata.xml", lastUpdated.ReplaceAll(doc, []byte(fmt.Sprintf("<lastUpdated>%s</lastUpdated>", "20060102150405"))))
}
