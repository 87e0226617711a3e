package server

import (
	"net/http/httptest"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		path                              string
		ok                                bool
		format, domain, owner, repo, rest string
	}{
		{"/maven/d/my-domain-111122223333/my-repo/com/x/a.jar", true, "maven", "my-domain", "111122223333", "my-repo", "com/x/a.jar"},
		{"/npm/d/a-b-c-111122223333/r/", true, "npm", "a-b-c", "111122223333", "r", ""},
		{"/generic/d/dom-111122223333/repo", true, "generic", "dom", "111122223333", "repo", ""},
		{"/docker/d/dom-111122223333/repo/", false, "", "", "", "", ""},
		{"/npm/x/dom-111122223333/repo/", false, "", "", "", "", ""},
		{"/npm/d/dom/repo/", false, "", "", "", "", ""},
		{"/npm/d/-111122223333/repo/", false, "", "", "", "", ""},
		{"/npm/d/dom-/repo/", false, "", "", "", "", ""},
		{"/npm/d/dom-1/", false, "", "", "", "", ""},
	} {
		got, ok := parseTarget(tc.path)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v", tc.path, ok)
			continue
		}
		if ok && (got.Format != tc.format || got.Domain != tc.domain || got.DomainOwner != tc.owner || got.Repository != tc.repo || got.Path != tc.rest) {
			t.Errorf("%s: %+v", tc.path, got)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"Bearer tok.en-1", "tok.en-1"},
		{"bearer tok", "tok"},
		{"Basic YXdzOnNlY3JldA==", "secret"}, // aws:secret
		{"Basic dG9rZW46c2VjcmV0", "secret"}, // token:secret
		{"rawtoken", "rawtoken"},
		{"", ""},
		{"Digest a b", ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		if got := BearerToken(r); got != tc.want {
			t.Errorf("BearerToken(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
