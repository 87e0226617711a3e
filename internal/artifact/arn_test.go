package artifact

import "testing"

func TestParseResourceARN(t *testing.T) {
	const pre = "arn:aws:codeartifact:us-east-1:111122223333:"
	for _, tc := range []struct {
		arn                              string
		ok                               bool
		typ, domain, repository, pattern string
	}{
		{pre + "domain/acme", true, "domain", "acme", "", ""},
		{pre + "repository/acme/libs", true, "repository", "acme", "libs", ""},
		{pre + "package/acme/libs/npm//react", true, "package", "acme", "libs", ""},
		{pre + "package/acme/libs/maven/org.x/core", true, "package", "acme", "libs", ""},
		{pre + "package-group/acme/npm/%2a", true, "package-group", "acme", "", "/npm/*"},
		{pre + "domain/acme/extra", false, "", "", "", ""},
		{pre + "repository/acme", false, "", "", "", ""},
		{pre + "package/acme/libs/npm", false, "", "", "", ""},
		{pre + "package/acme/libs/npm/ns/", false, "", "", "", ""},
		{pre + "package-group/acme", false, "", "", "", ""},
		{"arn:aws:s3:::bucket", false, "", "", "", ""},
	} {
		p, ok := ParseResourceARN(tc.arn)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v", tc.arn, ok)
			continue
		}
		if ok && (p.Type != tc.typ || p.Domain != tc.domain || p.Repository != tc.repository || p.Pattern != tc.pattern ||
			p.Account != "111122223333" || p.Region != "us-east-1") {
			t.Errorf("%s: %+v", tc.arn, p)
		}
	}
}
