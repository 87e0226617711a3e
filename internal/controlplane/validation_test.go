package controlplane

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestValidation runs requests whose input breaks the model against a
// handler without a service: validation must fail before anything else runs
// (a nil service would panic and answer 500).
func TestValidation(t *testing.T) {
	h := withRoot(New(Config{PublicURL: "http://x"}, nil, AllowAll{}, nil, nil))
	const (
		field = "FIELD_VALIDATION_FAILED"
		parse = "CANNOT_PARSE"
	)
	pkg := "/v1/package?domain=d1&repository=repo&format=npm&package=p"
	ver := "/v1/package/version?domain=d1&repository=repo&format=npm&package=p&version=1.0.0"
	batch := func(op string) string {
		return "/v1/package/versions/" + op + "?domain=d1&repository=repo&format=generic&namespace=ns&package=p"
	}
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	cases := []struct {
		name, method, target, body string
		header                     []string
		reason                     string
		want                       []string // substrings of the message
	}{
		{"missing domain", "GET", "/v1/domain", "", nil, field,
			[]string{"1 validation error detected: Value null at 'domain' failed to satisfy constraint: Member must not be null"}},
		{"upper-case domain", "GET", "/v1/domain?domain=MyDomain", "", nil, field,
			[]string{`Value 'MyDomain' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z][a-z0-9\-]{0,48}[a-z0-9]`}},
		{"short domain", "DELETE", "/v1/domain?domain=a", "", nil, field,
			[]string{"2 validation errors detected", "Member must have length greater than or equal to 2"}},
		{"long domain", "GET", "/v1/domain?domain=" + strings.Repeat("a", 51), "", nil, field,
			[]string{"Member must have length less than or equal to 50"}},
		{"domain ends with hyphen", "POST", "/v1/domain?domain=ab-", "", nil, field,
			[]string{"at 'domain'"}},
		{"bad domain owner", "GET", "/v1/domain?domain=d1&domain-owner=12345", "", nil, field,
			[]string{"at 'domainOwner'", "Member must have length greater than or equal to 12"}},
		{"bad query string", "GET", "/v1/domain?domain=%zz", "", nil, parse,
			[]string{"query string"}},
		{"max-results 0", "POST", "/v1/repositories?max-results=0", "", nil, field,
			[]string{"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"}},
		{"max-results 1001", "POST", "/v1/domain/repositories?domain=d1&max-results=1001", "", nil, field,
			[]string{"Member must have value less than or equal to 1000"}},
		{"max-results not a number", "POST", "/v1/packages?domain=d1&repository=repo&max-results=ten", "", nil, parse,
			[]string{"at 'maxResults'"}},
		{"bad next-token", "POST", "/v1/packages?domain=d1&repository=repo&next-token=not-ours!", "", nil, field,
			[]string{"Value 'not-ours!' at 'nextToken'", "pagination token"}},
		{"next-token with whitespace", "POST", "/v1/repositories?next-token=a%20b", "", nil, field,
			[]string{"at 'nextToken'", `\S+`}},
		{"ListPackages token on ListPackageVersions", "POST", "/v1/package/versions?domain=d1&repository=repo&format=npm&package=p&next-token=" +
			tokenFor("ListPackages", "domain=d1&repository=repo&format=npm&package=p", "npm\x00\x00p"), "", nil, field,
			[]string{"at 'nextToken'", "previous call of ListPackageVersions with the same parameters"}},
		{"token of another domain", "POST", "/v1/packages?domain=d2&repository=repo&next-token=" +
			tokenFor("ListPackages", "domain=d1&repository=repo", "npm\x00\x00p"), "", nil, field,
			[]string{"at 'nextToken'", "same parameters"}},
		{"token with another filter", "POST", "/v1/packages?domain=d1&repository=repo&format=npm&next-token=" +
			tokenFor("ListPackages", "domain=d1&repository=repo", "npm\x00\x00p"), "", nil, field,
			[]string{"at 'nextToken'", "same parameters"}},
		{"ListRepositories token on ListRepositoriesInDomain", "POST", "/v1/domain/repositories?domain=d1&next-token=" +
			tokenFor("ListRepositories", "", "r1"), "", nil, field,
			[]string{"at 'nextToken'"}},
		{"ListPackageGroups token on ListDomains", "POST", "/v1/domains", `{"nextToken":"` + tokenFor("ListPackageGroups", "domain=d1", "x") + `"}`, nil, field,
			[]string{"at 'nextToken'", "ListDomains"}},
		{"ListAssociatedPackages token with other preview", "GET", "/v1/list-associated-packages?domain=d1&package-group=/npm/*&preview=true&next-token=" +
			tokenFor("ListAssociatedPackages", "domain=d1&package-group=/npm/*", "x"), "", nil, field,
			[]string{"at 'nextToken'"}},
		{"ListDomains maxResults 0 in body", "POST", "/v1/domains", `{"maxResults":0}`, nil, field,
			[]string{"at 'maxResults'"}},
		{"ListDomains bad token in body", "POST", "/v1/domains", `{"nextToken":"zzzz"}`, nil, field,
			[]string{"at 'nextToken'"}},
		{"ListDomains bad JSON", "POST", "/v1/domains", `{"maxResults":`, nil, parse,
			[]string{"Cannot parse the request body"}},
		{"ListDomains wrong JSON type", "POST", "/v1/domains", `{"maxResults":"ten"}`, nil, parse,
			[]string{"maxResults"}},
		{"ListDomains trailing garbage", "POST", "/v1/domains", `{} {}`, nil, parse,
			[]string{"Cannot parse the request body"}},
		{"duration 100", "POST", "/v1/authorization-token?domain=d1&duration=100", "", nil, field,
			[]string{"Value '100' at 'durationSeconds' failed to satisfy constraint: Member must be 0 or have value between 900 and 43200"}},
		{"duration 899", "POST", "/v1/authorization-token?domain=d1&duration=899", "", nil, field,
			[]string{"at 'durationSeconds'"}},
		{"duration too long", "POST", "/v1/authorization-token?domain=d1&duration=43201", "", nil, field,
			[]string{"Member must have value less than or equal to 43200"}},
		{"duration negative", "POST", "/v1/authorization-token?domain=d1&duration=-1", "", nil, field,
			[]string{"Member must have value greater than or equal to 0"}},
		{"duration not a number", "POST", "/v1/authorization-token?domain=d1&duration=1h", "", nil, parse,
			[]string{"at 'durationSeconds'"}},
		{"bad format", "GET", "/v1/package?domain=d1&repository=repo&format=zip&package=p", "", nil, field,
			[]string{"Value 'zip' at 'format' failed to satisfy constraint: Member must satisfy enum value set: [npm, pypi, maven, nuget, generic, ruby, swift, cargo]"}},
		{"missing package", "DELETE", "/v1/package?domain=d1&repository=repo&format=npm", "", nil, field,
			[]string{"Value null at 'package'"}},
		{"package with slash", "GET", "/v1/package?domain=d1&repository=repo&format=npm&package=a%2Fb", "", nil, field,
			[]string{"at 'package'", `[^#/\s]+`}},
		{"npm scope with @ is fine but space is not", "GET", "/v1/package?domain=d1&repository=repo&format=npm&namespace=a%20b&package=p", "", nil, field,
			[]string{"at 'namespace'"}},
		{"empty namespace", "GET", pkg + "&namespace=", "", nil, field,
			[]string{"at 'namespace'", "greater than or equal to 1"}},
		{"bad repository", "GET", "/v1/repository?domain=d1&repository=-repo", "", nil, field,
			[]string{"at 'repository'"}},
		{"missing version", "GET", "/v1/package/version?domain=d1&repository=repo&format=npm&package=p", "", nil, field,
			[]string{"Value null at 'packageVersion'"}},
		{"asset name with control character", "GET", strings.Replace(ver, "/version?", "/version/asset?", 1) + "&asset=a%07b", "", nil, field,
			[]string{"at 'asset'"}},
		{"missing asset", "GET", strings.Replace(ver, "/version?", "/version/asset?", 1), "", nil, field,
			[]string{"Value null at 'asset'"}},
		{"bad revision", "GET", strings.Replace(ver, "/version?", "/version/asset?", 1) + "&asset=a&revision=" + strings.Repeat("r", 51), "", nil, field,
			[]string{"at 'packageVersionRevision'"}},
		{"restrictions missing", "POST", pkg, "", nil, field,
			[]string{"Value null at 'restrictions'"}},
		{"restrictions bad", "POST", pkg, `{"restrictions":{"publish":"MAYBE"}}`, nil, field,
			[]string{"2 validation errors", "Value 'MAYBE' at 'restrictions.publish'", "Value null at 'restrictions.upstream'"}},
		{"policy members missing", "PUT", "/v1/domain/permissions/policy", "", nil, field,
			[]string{"2 validation errors", "Value null at 'domain'", "Value null at 'policyDocument'"}},
		{"policy ignores query domain", "PUT", "/v1/domain/permissions/policy?domain=d1", `{"policyDocument":"{}"}`, nil, field,
			[]string{"Value null at 'domain'"}},
		{"policy too long", "PUT", "/v1/repository/permissions/policy?domain=d1&repository=repo", `{"policyDocument":"` + strings.Repeat("x", 7169) + `"}`, nil, field,
			[]string{"at 'policyDocument'", "less than or equal to 7168"}},
		{"empty policy", "PUT", "/v1/repository/permissions/policy?domain=d1&repository=repo", `{"policyDocument":""}`, nil, field,
			[]string{"at 'policyDocument'"}},
		{"bad policy revision", "DELETE", "/v1/repository/permissions/policies?domain=d1&repository=repo&policy-revision=a%20b", "", nil, field,
			[]string{"at 'policyRevision'"}},
		{"upstream without name", "POST", "/v1/repository?domain=d1&repository=repo", `{"upstreams":[{}]}`, nil, field,
			[]string{"Value null at 'upstreams.1.member.repositoryName'"}},
		{"description with control character", "PUT", "/v1/repository?domain=d1&repository=repo", `{"description":"a\u0000b"}`, nil, field,
			[]string{"at 'description'"}},
		{"bad external connection", "POST", "/v1/repository/external-connection?domain=d1&repository=repo&external-connection=x", "", nil, field,
			[]string{"at 'externalConnection'"}},
		{"bad endpoint type", "GET", "/v1/repository/endpoint?domain=d1&repository=repo&format=npm&endpointType=ipv6", "", nil, field,
			[]string{"Value 'ipv6' at 'endpointType'", "[dualstack, ipv4]"}},
		{"endpoint without format", "GET", "/v1/repository/endpoint?domain=d1&repository=repo", "", nil, field,
			[]string{"Value null at 'format'"}},
		{"bad status filter", "POST", "/v1/package/versions?domain=d1&repository=repo&format=npm&package=p&status=Gone", "", nil, field,
			[]string{"at 'status'"}},
		{"bad sortBy", "POST", "/v1/package/versions?domain=d1&repository=repo&format=npm&package=p&sortBy=NAME", "", nil, field,
			[]string{"Value 'NAME' at 'sortBy'"}},
		{"bad originType", "POST", "/v1/package/versions?domain=d1&repository=repo&format=npm&package=p&originType=x", "", nil, field,
			[]string{"at 'originType'"}},
		{"bad publish filter", "POST", "/v1/packages?domain=d1&repository=repo&publish=yes", "", nil, field,
			[]string{"at 'publish'"}},
		{"too many versions", "POST", batch("update_status"), `{"targetStatus":"Archived","versions":[` + many(101, func(i int) string { return fmt.Sprintf(`"1.%d"`, i) }) + `]}`, nil, field,
			[]string{"at 'versions'", "less than or equal to 100"}},
		{"status update without target", "POST", batch("update_status"), `{"versions":["1.0"]}`, nil, field,
			[]string{"Value null at 'targetStatus'"}},
		{"delete without versions", "POST", batch("delete"), ``, nil, field,
			[]string{"Value null at 'versions'"}},
		{"dispose with empty revision", "POST", batch("dispose"), `{"versions":["1.0"],"versionRevisions":{"1.0":""}}`, nil, field,
			[]string{"at 'versionRevisions.1.0.value'"}},
		{"copy without destination", "POST", "/v1/package/versions/copy?domain=d1&source-repository=a1&format=npm&package=p", `{"versions":["1.0"]}`, nil, field,
			[]string{"Value null at 'destinationRepository'"}},
		{"bad expected status", "POST", batch("delete"), `{"versions":["1.0"],"expectedStatus":"published"}`, nil, field,
			[]string{"at 'expectedStatus'"}},
		{"publish without sha256", "POST", strings.Replace(ver, "/version?", "/version/publish?", 1) + "&asset=a.tgz", "data", nil, field,
			[]string{"Value null at 'assetSHA256'"}},
		{"publish with upper-case sha256", "POST", strings.Replace(ver, "/version?", "/version/publish?", 1) + "&asset=a.tgz", "data",
			[]string{"x-amz-content-sha256", strings.Repeat("AB", 32)}, field,
			[]string{"at 'assetSHA256'", "[0-9a-f]+"}},
		{"publish with unsigned payload", "POST", strings.Replace(ver, "/version?", "/version/publish?", 1) + "&asset=a.tgz", "data",
			[]string{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}, field,
			[]string{"at 'assetSHA256'"}},
		{"publish with bad unfinished", "POST", strings.Replace(ver, "/version?", "/version/publish?", 1) + "&asset=a.tgz&unfinished=maybe", "data",
			[]string{"x-amz-content-sha256", strings.Repeat("ab", 32)}, parse,
			[]string{"at 'unfinished'"}},
		{"tag without tags", "POST", "/v1/tag?resourceArn=arn:aws:codeartifact:us-east-1:111122223333:domain/d1", `{}`, nil, field,
			[]string{"Value null at 'tags'"}},
		{"tag with empty key", "POST", "/v1/tag?resourceArn=arn:x", `{"tags":[{"key":"","value":"v"}]}`, nil, field,
			[]string{"at 'tags.1.member.key'"}},
		{"tag without value", "POST", "/v1/tag?resourceArn=arn:x", `{"tags":[{"key":"k"}]}`, nil, field,
			[]string{"Value null at 'tags.1.member.value'"}},
		{"too many tags", "POST", "/v1/domain?domain=d1", `{"tags":[` + many(201, func(i int) string { return fmt.Sprintf(`{"key":"k%d","value":""}`, i) }) + `]}`, nil, field,
			[]string{"at 'tags'", "less than or equal to 200"}},
		{"tag value too long", "POST", "/v1/domain?domain=d1", `{"tags":[{"key":"k","value":"` + strings.Repeat("v", 257) + `"}]}`, nil, field,
			[]string{"at 'tags.1.member.value'"}},
		{"untag without keys", "POST", "/v1/untag?resourceArn=arn:x", `{}`, nil, field,
			[]string{"Value null at 'tagKeys'"}},
		{"tags without ARN", "POST", "/v1/tags", "", nil, field,
			[]string{"Value null at 'resourceArn'"}},
		{"package group pattern with a space", "POST", "/v1/package-group?domain=d1", `{"packageGroup":"/npm/a b"}`, nil, field,
			[]string{"at 'packageGroup'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := call(t, h, tc.method, tc.target, tc.body, tc.header...)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			body := decodeError(t, rec)
			if body["__type"] != "ValidationException" {
				t.Errorf("__type = %v", body["__type"])
			}
			if body["reason"] != tc.reason {
				t.Errorf("reason = %v, want %s", body["reason"], tc.reason)
			}
			msg, _ := body["message"].(string)
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}

// TestValidInputReachesAuthorization checks that inputs the model allows
// (empty optional bodies, boundary values, our own tokens) pass validation.
func TestValidInputReachesAuthorization(t *testing.T) {
	key := "name\x00111122223333"
	cases := []struct{ name, method, target, body string }{
		{"ListDomains empty body", "POST", "/v1/domains", ""},
		{"ListDomains empty object", "POST", "/v1/domains", "{}"},
		{"ListDomains unknown members ignored", "POST", "/v1/domains", `{"maxResults":1000,"nextToken":"` + tokenFor("ListDomains", "", key) + `","foo":[1]}`},
		{"CreateDomain empty body", "POST", "/v1/domain?domain=my-domain-1", ""},
		{"CreateDomain null members", "POST", "/v1/domain?domain=ab", `{"tags":null,"encryptionKey":null}`},
		{"CreateRepository empty body", "POST", "/v1/repository?domain=d1&repository=My.Repo_1", ""},
		{"UpdateRepository empty upstreams", "PUT", "/v1/repository?domain=d1&repository=repo", `{"upstreams":[]}`},
		{"ListRepositories all params", "POST", "/v1/repositories?repository-prefix=ab&max-results=1&next-token=" + tokenFor("ListRepositories", "repository-prefix=ab", key), ""},
		{"duration 0", "POST", "/v1/authorization-token?domain=d1&duration=0", ""},
		{"duration 900", "POST", "/v1/authorization-token?domain=d1&duration=900", ""},
		{"duration 43200", "POST", "/v1/authorization-token?domain=d1&duration=43200&domain-owner=444455556666", ""},
		{"endpoint dualstack", "GET", "/v1/repository/endpoint?domain=d1&repository=repo&format=pypi&endpointType=dualstack", ""},
		{"ListPackages filters", "POST", "/v1/packages?domain=d1&repository=repo&format=maven&namespace=org&package-prefix=x&publish=ALLOW&upstream=BLOCK", ""},
		{"ListPackageVersions filters", "POST", "/v1/package/versions?domain=d1&repository=repo&format=npm&namespace=types&package=node&status=Deleted&sortBy=PUBLISHED_TIME&originType=UNKNOWN", ""},
		{"dependencies with token", "POST", "/v1/package/version/dependencies?domain=d1&repository=repo&format=npm&package=p&version=1.0.0&next-token=" +
			tokenFor("ListPackageVersionDependencies", "domain=d1&repository=repo&format=npm&package=p&version=1.0.0", key), ""},
		{"copy with revisions", "POST", "/v1/package/versions/copy?domain=d1&source-repository=a1&destination-repository=b1&format=npm&package=p", `{"versionRevisions":{"1.0":"rev"},"allowOverwrite":true}`},
		{"untag empty list", "POST", "/v1/untag?resourceArn=arn:aws:codeartifact:us-east-1:111122223333:domain/d1", `{"tagKeys":[]}`},
		{"tag empty value", "POST", "/v1/tag?resourceArn=arn:aws:codeartifact:us-east-1:111122223333:domain/d1", `{"tags":[{"key":"k","value":""}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			az := &recordingAuthz{denyAt: 1}
			h := withRoot(New(Config{PublicURL: "http://x"}, testService(), az, nil, nil))
			rec := call(t, h, tc.method, tc.target, tc.body)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status = %d, want 403 from the authorizer; body %s", rec.Code, rec.Body)
			}
			if body := decodeError(t, rec); body["__type"] != "AccessDeniedException" {
				t.Errorf("__type = %v", body["__type"])
			}
		})
	}
}

// TestInvisibleCharactersInNames sends a namespace, package name or version
// holding each class of invisible character, or in a decomposed Unicode
// form, through the real handler: every one is a ValidationException that
// names the field, before authorization or the service is reached (the
// service is nil), and the message shows the character escaped.
func TestInvisibleCharactersInNames(t *testing.T) {
	h := withRoot(New(Config{PublicURL: "http://x"}, nil, AllowAll{}, nil, nil))
	classes := []struct{ class, char, shown string }{
		{"NUL", "\x00", `\u0000`},
		{"C0 control", "\x01", `\u0001`},
		{"vertical tab", "\x0b", ""}, // AWS's pattern already refuses it
		{"DEL", "\x7f", `\u007F`},
		{"C1 control", "\u0085", `\u0085`},
		{"zero width space", "\u200b", `\u200B`},
		{"zero width non-joiner", "\u200c", `\u200C`},
		{"zero width joiner", "\u200d", `\u200D`},
		{"word joiner", "\u2060", `\u2060`},
		{"left-to-right mark", "\u200e", `\u200E`},
		{"right-to-left mark", "\u200f", `\u200F`},
		{"right-to-left embedding", "\u202b", `\u202B`},
		{"right-to-left override", "\u202e", `\u202E`},
		{"left-to-right isolate", "\u2066", `\u2066`},
		{"pop directional isolate", "\u2069", `\u2069`},
		{"byte order mark", "\ufeff", `\uFEFF`},
		{"no-break space", "\u00a0", `\u00A0`},
		{"hangul filler", "\u3164", `\u3164`},
		{"tag character", "\U000e0041", `\U000E0041`},
		{"decomposed (NFD)", "e\u0301", ""},
	}
	base := url.Values{"domain": {"d1"}, "repository": {"repo"}, "format": {"generic"}, "namespace": {"ns"}, "package": {"p"}, "version": {"1.0"}}
	fields := []struct{ wire, field string }{{"namespace", "namespace"}, {"package", "package"}, {"version", "packageVersion"}}
	for _, c := range classes {
		for _, f := range fields {
			t.Run(c.class+" in "+f.field, func(t *testing.T) {
				q := url.Values{}
				for k, v := range base {
					q[k] = v
				}
				q.Set(f.wire, "li"+c.char+"b")
				rec := call(t, h, "GET", "/v1/package/version?"+q.Encode(), "")
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
				}
				body := decodeError(t, rec)
				msg, _ := body["message"].(string)
				if body["__type"] != "ValidationException" || body["reason"] != "FIELD_VALIDATION_FAILED" {
					t.Errorf("__type %v, reason %v", body["__type"], body["reason"])
				}
				if !strings.Contains(msg, "at '"+f.field+"'") || !strings.HasPrefix(msg, "1 validation error detected") {
					t.Errorf("message %q does not name the field %s once", msg, f.field)
				}
				if c.shown != "" && (!strings.Contains(msg, "'li"+c.shown+"b'") || strings.Contains(msg, c.char)) {
					t.Errorf("message %q must show the character as %s and not raw", msg, c.shown)
				}
			})
		}
		t.Run(c.class+" in versions", func(t *testing.T) {
			v, _ := json.Marshal("1.1" + c.char)
			body := `{"targetStatus":"Archived","versions":["1.0",` + string(v) + `]}`
			rec := call(t, h, "POST", "/v1/package/versions/update_status?domain=d1&repository=repo&format=generic&namespace=ns&package=p", body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			if msg, _ := decodeError(t, rec)["message"].(string); !strings.Contains(msg, "at 'versions.2.member'") {
				t.Errorf("message %q does not name versions.2.member", msg)
			}
		})
	}
	// A composed non-ASCII name is fine: it reaches authorization.
	az := &recordingAuthz{denyAt: 1}
	ok := withRoot(New(Config{PublicURL: "http://x"}, testService(), az, nil, nil))
	if rec := call(t, ok, "GET", "/v1/package?domain=d1&repository=repo&format=generic&namespace=caf%C3%A9&package=%E6%97%A5%E6%9C%AC", ""); rec.Code != http.StatusForbidden {
		t.Errorf("composed name: %d %s, want 403 from the authorizer", rec.Code, rec.Body)
	}
}
