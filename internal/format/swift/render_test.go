package swift_test

import (
	"encoding/json"
	"testing"
	"time"

	"coffer/internal/format/formattest"
	"coffer/internal/format/swift"
)

func TestGoldenReleaseList(t *testing.T) {
	b := swift.ReleaseList("https://r.example/swift/d/dx-123456789012/repo/mona/LinkedList", []string{"1.1.1", "1.1.0", "1.0.0-beta.1"})
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %s", b)
	}
	formattest.Golden(t, "release-list", b)
}

func TestGoldenReleaseMetadata(t *testing.T) {
	b := swift.ReleaseMetadata(swift.ReleaseInfo{ID: "mona.LinkedList", Version: "1.1.1",
		Checksum:    "a2ac54cf25fbc1ad0028f03f0aa4b96833b83bb05a14e510892bb27dea4dc812",
		Signing:     &swift.Signing{SignatureBase64Encoded: "l1TdTeIuGdNsO1FQ0ptD64F5nSSOsQ5WzhM6/7KsHRuLHfTsggnyIWr0DxMcBj5F40zfplwntXAgS0ynlqvlFw==", SignatureFormat: "cms-1.0.0"},
		Metadata:    []byte(`{"description":"One thing links to another.","repositoryURLs":["https://github.com/mona/LinkedList"]}`),
		PublishedAt: time.Date(2023, 2, 16, 4, 0, 0, 123e6, time.UTC)})
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %s", b)
	}
	formattest.Golden(t, "release-metadata", b)
	unsigned := swift.ReleaseMetadata(swift.ReleaseInfo{ID: "mona.LinkedList", Version: "1.0.0", Checksum: "00"})
	formattest.Golden(t, "release-metadata-bare", unsigned)
}

func TestGoldenIdentifiers(t *testing.T) {
	formattest.Golden(t, "identifiers", swift.Identifiers([]string{"mona.LinkedList", "octo.List\"quoted"}))
}

func TestLink(t *testing.T) {
	got := swift.Link("https://r/x/Package.swift?swift-version=4", "alternate", "filename", "Package@swift-4.swift", "swift-tools-version", "4.0")
	want := `<https://r/x/Package.swift?swift-version=4>; rel="alternate"; filename="Package@swift-4.swift"; swift-tools-version="4.0"`
	if got != want {
		t.Errorf("Link = %s", got)
	}
}

func TestCanonicalRepoURL(t *testing.T) {
	want := "github.com/mona/linkedlist"
	for _, u := range []string{"https://github.com/mona/LinkedList", "https://github.com/mona/LinkedList.git",
		"git@github.com:mona/LinkedList.git", "ssh://git@github.com/mona/LinkedList", "http://github.com/mona/linkedlist/",
		" https://GitHub.com/mona/LinkedList.git/ "} {
		if got := swift.CanonicalRepoURL(u); got != want {
			t.Errorf("canonicalRepoURL(%q) = %q", u, got)
		}
	}
	if swift.CanonicalRepoURL("https://github.com/mona/Other") == want {
		t.Error("another repository compares equal")
	}
}
