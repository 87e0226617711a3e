package swift_test

import (
	"testing"

	"coffer/internal/format/swift"
)

func TestParseMetadata(t *testing.T) {
	m, compact, err := swift.ParseMetadata([]byte(`{
  "description": "One thing links to another.",
  "repositoryURLs": ["https://github.com/mona/LinkedList"],
  "licenseURL": "https://www.apache.org/licenses/LICENSE-2.0",
  "author": {"name": "Mona Lisa Octocat", "organization": {"name": "GitHub"}},
  "originalPublicationTime": "2023-02-16T04:00:00.000Z",
  "x-extra": [1, 2]
}`))
	if err != nil {
		t.Fatal(err)
	}
	if *m.Description != "One thing links to another." || m.RepositoryURLs[0] != "https://github.com/mona/LinkedList" || *m.Author.Name != "Mona Lisa Octocat" {
		t.Errorf("parsed %+v", m)
	}
	want := `{"description":"One thing links to another.","repositoryURLs":["https://github.com/mona/LinkedList"],"licenseURL":"https://www.apache.org/licenses/LICENSE-2.0","author":{"name":"Mona Lisa Octocat","organization":{"name":"GitHub"}},"originalPublicationTime":"2023-02-16T04:00:00.000Z","x-extra":[1,2]}`
	if string(compact) != want {
		t.Errorf("compact:\n%s\nwant\n%s", compact, want)
	}
	if m, c, err := swift.ParseMetadata([]byte(" \r\n")); m != nil || c != nil || err != nil {
		t.Errorf("empty metadata: %v %q %v", m, c, err)
	}
}

func TestParseMetadataRefuses(t *testing.T) {
	for _, in := range []string{
		`{`, `[]`, `"x"`, `{"description": 1}`, `{"repositoryURLs": "https://x"}`, `{"repositoryURLs": [1]}`,
		`{"author": {}}`, `{"author": {"name": "a", "organization": {}}}`, `{"author": "mona"}`,
		`{"originalPublicationTime": "yesterday"}`, "{\"description\": \"\xff\"}", `{} {}`,
	} {
		if _, _, err := swift.ParseMetadata([]byte(in)); err == nil || swift.StatusOf(err) != 422 {
			t.Errorf("ParseMetadata(%s): %v, want a 422 refusal", in, err)
		}
	}
}
