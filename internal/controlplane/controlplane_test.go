package controlplane

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// modelOperations is every operation of the botocore model
// codeartifact/2018-09-22 with its HTTP binding, generated once from
// service-2.json.gz (python3: operations[*].http.method/requestUri).
var modelOperations = []struct{ op, method, path string }{
	{"GetAuthorizationToken", "POST", "/v1/authorization-token"},
	{"DeleteDomain", "DELETE", "/v1/domain"},
	{"DescribeDomain", "GET", "/v1/domain"},
	{"CreateDomain", "POST", "/v1/domain"},
	{"DeleteDomainPermissionsPolicy", "DELETE", "/v1/domain/permissions/policy"},
	{"GetDomainPermissionsPolicy", "GET", "/v1/domain/permissions/policy"},
	{"PutDomainPermissionsPolicy", "PUT", "/v1/domain/permissions/policy"},
	{"ListRepositoriesInDomain", "POST", "/v1/domain/repositories"},
	{"ListDomains", "POST", "/v1/domains"},
	{"GetAssociatedPackageGroup", "GET", "/v1/get-associated-package-group"},
	{"ListAssociatedPackages", "GET", "/v1/list-associated-packages"},
	{"DeletePackage", "DELETE", "/v1/package"},
	{"DescribePackage", "GET", "/v1/package"},
	{"PutPackageOriginConfiguration", "POST", "/v1/package"},
	{"DeletePackageGroup", "DELETE", "/v1/package-group"},
	{"DescribePackageGroup", "GET", "/v1/package-group"},
	{"CreatePackageGroup", "POST", "/v1/package-group"},
	{"UpdatePackageGroup", "PUT", "/v1/package-group"},
	{"ListAllowedRepositoriesForGroup", "GET", "/v1/package-group-allowed-repositories"},
	{"UpdatePackageGroupOriginConfiguration", "PUT", "/v1/package-group-origin-configuration"},
	{"ListPackageGroups", "POST", "/v1/package-groups"},
	{"ListSubPackageGroups", "POST", "/v1/package-groups/sub-groups"},
	{"DescribePackageVersion", "GET", "/v1/package/version"},
	{"GetPackageVersionAsset", "GET", "/v1/package/version/asset"},
	{"ListPackageVersionAssets", "POST", "/v1/package/version/assets"},
	{"ListPackageVersionDependencies", "POST", "/v1/package/version/dependencies"},
	{"PublishPackageVersion", "POST", "/v1/package/version/publish"},
	{"GetPackageVersionReadme", "GET", "/v1/package/version/readme"},
	{"ListPackageVersions", "POST", "/v1/package/versions"},
	{"CopyPackageVersions", "POST", "/v1/package/versions/copy"},
	{"DeletePackageVersions", "POST", "/v1/package/versions/delete"},
	{"DisposePackageVersions", "POST", "/v1/package/versions/dispose"},
	{"UpdatePackageVersionsStatus", "POST", "/v1/package/versions/update_status"},
	{"ListPackages", "POST", "/v1/packages"},
	{"ListRepositories", "POST", "/v1/repositories"},
	{"DeleteRepository", "DELETE", "/v1/repository"},
	{"DescribeRepository", "GET", "/v1/repository"},
	{"CreateRepository", "POST", "/v1/repository"},
	{"UpdateRepository", "PUT", "/v1/repository"},
	{"GetRepositoryEndpoint", "GET", "/v1/repository/endpoint"},
	{"DisassociateExternalConnection", "DELETE", "/v1/repository/external-connection"},
	{"AssociateExternalConnection", "POST", "/v1/repository/external-connection"},
	{"DeleteRepositoryPermissionsPolicy", "DELETE", "/v1/repository/permissions/policies"},
	{"GetRepositoryPermissionsPolicy", "GET", "/v1/repository/permissions/policy"},
	{"PutRepositoryPermissionsPolicy", "PUT", "/v1/repository/permissions/policy"},
	{"TagResource", "POST", "/v1/tag"},
	{"ListTagsForResource", "POST", "/v1/tags"},
	{"UntagResource", "POST", "/v1/untag"},
}

func TestRoutingCoversModel(t *testing.T) {
	if len(modelOperations) != 48 {
		t.Fatalf("model table has %d operations", len(modelOperations))
	}
	hh := New(Config{}, nil, &recordingAuthz{denyAt: 1}, nil, nil).(*handler)
	ops := map[string]string{} // mux pattern -> operation
	for _, rt := range routes() {
		pattern := rt.method + " " + rt.path
		if prev, dup := ops[pattern]; dup {
			t.Errorf("%s and %s share %s", prev, rt.op, pattern)
		}
		ops[pattern] = rt.op
	}
	if len(ops) != len(modelOperations) {
		t.Errorf("%d routes for %d model operations", len(ops), len(modelOperations))
	}
	h := withRoot(hh)
	for _, m := range modelOperations {
		req := httptest.NewRequest(m.method, m.path, nil)
		if _, pattern := hh.mux.Handler(req); ops[pattern] != m.op {
			t.Errorf("%s %s routes to %q (pattern %q), want %s", m.method, m.path, ops[pattern], pattern, m.op)
		}
		// End to end: an empty request gets the operation's own answer
		// (a validation error or the authorizer's refusal), never the fallback.
		rec := call(t, h, m.method, m.path, "")
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d: %s", m.op, rec.Code, rec.Body)
		}
		if typ := decodeError(t, rec)["__type"]; typ != "ValidationException" && typ != "AccessDeniedException" {
			t.Errorf("%s: __type %v", m.op, typ)
		}
	}
}

func TestRoutingFallbacks(t *testing.T) {
	h := withRoot(New(Config{}, nil, AllowAll{}, nil, nil))

	rec := call(t, h, "GET", "/v1/nothing-here", "")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown path: status %d", rec.Code)
	}
	if typ := decodeError(t, rec)["__type"]; typ != "UnknownOperationException" {
		t.Errorf("unknown path: __type %v", typ)
	}
	// Paths match exactly: a trailing slash is another path.
	if rec := call(t, h, "GET", "/v1/domain/", ""); rec.Code != http.StatusNotFound {
		t.Errorf("trailing slash: status %d", rec.Code)
	}

	rec = call(t, h, "PATCH", "/v1/domain", "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("wrong method: status %d", rec.Code)
	}
	if typ := decodeError(t, rec)["__type"]; typ != "UnknownOperationException" {
		t.Errorf("wrong method: __type %v", typ)
	}
	if allow := rec.Header().Get("Allow"); allow != "DELETE, GET, HEAD, POST" {
		t.Errorf("Allow = %q", allow)
	}
	if allow := call(t, h, "GET", "/v1/tags", "").Header().Get("Allow"); allow != "POST" {
		t.Errorf("Allow on /v1/tags = %q", allow)
	}
}

func TestNoPrincipal(t *testing.T) {
	h := New(Config{}, nil, AllowAll{}, nil, nil) // no withRoot
	rec := call(t, h, "GET", "/v1/domain?domain=d1", "")
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d", rec.Code)
	}
	if typ := decodeError(t, rec)["__type"]; typ != "AccessDeniedException" {
		t.Errorf("__type %v", typ)
	}
}

func TestNilAuthorizerRefuses(t *testing.T) {
	h := withRoot(New(Config{}, testService(), nil, nil, nil))
	if rec := call(t, h, "POST", "/v1/domains", ""); rec.Code != http.StatusForbidden {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	h := withRoot(New(Config{}, testService(), panicAuthz{}, nil, slog.New(slog.DiscardHandler)))
	rec := call(t, h, "POST", "/v1/domains", "")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	body := decodeError(t, rec)
	if body["__type"] != "InternalServerException" || strings.Contains(body["message"].(string), "boom") {
		t.Errorf("body %v", body)
	}
}

// TestAuthorization checks the action and resource each operation asks the
// authorizer about (spec section 9.2), including the extra checks.
func TestAuthorization(t *testing.T) {
	const (
		arn   = "arn:aws:codeartifact:us-east-1:"
		dom   = arn + testAccount + ":domain/d1"
		repo  = arn + testAccount + ":repository/d1/"
		pkgNs = arn + testAccount + ":package/d1/r1/npm/types/node"
		pkgNo = arn + testAccount + ":package/d1/r1/npm//lodash"
	)
	q := "?domain=d1&repository=r1&format=npm&namespace=types&package=node"
	cases := []struct {
		name, method, target, body string
		header                     []string
		want                       []authzCall
	}{
		{"ListDomains", "POST", "/v1/domains", "", nil, []authzCall{{"codeartifact:ListDomains", "*"}}},
		{"ListRepositories", "POST", "/v1/repositories", "", nil, []authzCall{{"codeartifact:ListRepositories", "*"}}},
		{"CreateDomain", "POST", "/v1/domain?domain=d1", "", nil, []authzCall{{"codeartifact:CreateDomain", dom}}},
		{"DescribeDomain", "GET", "/v1/domain?domain=d1", "", nil, []authzCall{{"codeartifact:DescribeDomain", dom}}},
		{"DescribeDomain other owner", "GET", "/v1/domain?domain=d1&domain-owner=444455556666", "", nil,
			[]authzCall{{"codeartifact:DescribeDomain", arn + "444455556666:domain/d1"}}},
		{"DeleteDomain", "DELETE", "/v1/domain?domain=d1", "", nil, []authzCall{{"codeartifact:DeleteDomain", dom}}},
		{"PutDomainPermissionsPolicy", "PUT", "/v1/domain/permissions/policy", `{"domain":"d1","domainOwner":"444455556666","policyDocument":"{}"}`, nil,
			[]authzCall{{"codeartifact:PutDomainPermissionsPolicy", arn + "444455556666:domain/d1"}}},
		{"GetDomainPermissionsPolicy", "GET", "/v1/domain/permissions/policy?domain=d1", "", nil, []authzCall{{"codeartifact:GetDomainPermissionsPolicy", dom}}},
		{"DeleteDomainPermissionsPolicy", "DELETE", "/v1/domain/permissions/policy?domain=d1", "", nil, []authzCall{{"codeartifact:DeleteDomainPermissionsPolicy", dom}}},
		{"GetAuthorizationToken", "POST", "/v1/authorization-token?domain=d1", "", nil,
			[]authzCall{{"codeartifact:GetAuthorizationToken", dom}, {"sts:GetServiceBearerToken", "*"}}},
		{"ListRepositoriesInDomain", "POST", "/v1/domain/repositories?domain=d1", "", nil, []authzCall{{"codeartifact:ListRepositoriesInDomain", dom}}},
		{"CreateRepository", "POST", "/v1/repository?domain=d1&repository=r1", `{"upstreams":[{"repositoryName":"u1"},{"repositoryName":"u2"}]}`, nil,
			[]authzCall{{"codeartifact:CreateRepository", dom}, {"codeartifact:AssociateWithDownstreamRepository", repo + "u1"}, {"codeartifact:AssociateWithDownstreamRepository", repo + "u2"}}},
		{"UpdateRepository", "PUT", "/v1/repository?domain=d1&repository=r1", `{"upstreams":[{"repositoryName":"u1"}]}`, nil,
			[]authzCall{{"codeartifact:UpdateRepository", repo + "r1"}, {"codeartifact:AssociateWithDownstreamRepository", repo + "u1"}}},
		{"UpdateRepository description only", "PUT", "/v1/repository?domain=d1&repository=r1", `{"description":"x"}`, nil,
			[]authzCall{{"codeartifact:UpdateRepository", repo + "r1"}}},
		{"DescribeRepository", "GET", "/v1/repository?domain=d1&repository=r1", "", nil, []authzCall{{"codeartifact:DescribeRepository", repo + "r1"}}},
		{"DeleteRepository", "DELETE", "/v1/repository?domain=d1&repository=r1", "", nil, []authzCall{{"codeartifact:DeleteRepository", repo + "r1"}}},
		{"AssociateExternalConnection", "POST", "/v1/repository/external-connection?domain=d1&repository=r1&external-connection=public:npmjs", "", nil,
			[]authzCall{{"codeartifact:AssociateExternalConnection", repo + "r1"}}},
		{"DisassociateExternalConnection", "DELETE", "/v1/repository/external-connection?domain=d1&repository=r1&external-connection=public:npmjs", "", nil,
			[]authzCall{{"codeartifact:DisassociateExternalConnection", repo + "r1"}}},
		{"GetRepositoryEndpoint", "GET", "/v1/repository/endpoint?domain=d1&repository=r1&format=npm", "", nil,
			[]authzCall{{"codeartifact:GetRepositoryEndpoint", repo + "r1"}}},
		{"PutRepositoryPermissionsPolicy", "PUT", "/v1/repository/permissions/policy?domain=d1&repository=r1", `{"policyDocument":"{}"}`, nil,
			[]authzCall{{"codeartifact:PutRepositoryPermissionsPolicy", repo + "r1"}}},
		{"GetRepositoryPermissionsPolicy", "GET", "/v1/repository/permissions/policy?domain=d1&repository=r1", "", nil,
			[]authzCall{{"codeartifact:GetRepositoryPermissionsPolicy", repo + "r1"}}},
		{"DeleteRepositoryPermissionsPolicy", "DELETE", "/v1/repository/permissions/policies?domain=d1&repository=r1", "", nil,
			[]authzCall{{"codeartifact:DeleteRepositoryPermissionsPolicy", repo + "r1"}}},
		{"ListPackages", "POST", "/v1/packages?domain=d1&repository=r1", "", nil, []authzCall{{"codeartifact:ListPackages", repo + "r1"}}},
		{"DescribePackage", "GET", "/v1/package" + q, "", nil, []authzCall{{"codeartifact:DescribePackage", pkgNs}}},
		{"DescribePackage without namespace", "GET", "/v1/package?domain=d1&repository=r1&format=npm&package=lodash", "", nil,
			[]authzCall{{"codeartifact:DescribePackage", pkgNo}}},
		{"DescribePackage pypi name normalised", "GET", "/v1/package?domain=d1&repository=r1&format=pypi&package=My_Cool.Pkg", "", nil,
			[]authzCall{{"codeartifact:DescribePackage", arn + testAccount + ":package/d1/r1/pypi//my-cool-pkg"}}},
		{"DeletePackage", "DELETE", "/v1/package" + q, "", nil, []authzCall{{"codeartifact:DeletePackage", pkgNs}}},
		{"PutPackageOriginConfiguration", "POST", "/v1/package" + q, `{"restrictions":{"publish":"BLOCK","upstream":"ALLOW"}}`, nil,
			[]authzCall{{"codeartifact:PutPackageOriginConfiguration", pkgNs}}},
		{"ListPackageVersions", "POST", "/v1/package/versions" + q, "", nil, []authzCall{{"codeartifact:ListPackageVersions", pkgNs}}},
		{"DescribePackageVersion", "GET", "/v1/package/version" + q + "&version=1", "", nil, []authzCall{{"codeartifact:DescribePackageVersion", pkgNs}}},
		{"GetPackageVersionReadme", "GET", "/v1/package/version/readme" + q + "&version=1", "", nil, []authzCall{{"codeartifact:GetPackageVersionReadme", pkgNs}}},
		{"ListPackageVersionDependencies", "POST", "/v1/package/version/dependencies" + q + "&version=1", "", nil,
			[]authzCall{{"codeartifact:ListPackageVersionDependencies", pkgNs}}},
		{"ListPackageVersionAssets", "POST", "/v1/package/version/assets" + q + "&version=1", "", nil, []authzCall{{"codeartifact:ListPackageVersionAssets", pkgNs}}},
		{"GetPackageVersionAsset", "GET", "/v1/package/version/asset" + q + "&version=1&asset=a", "", nil, []authzCall{{"codeartifact:GetPackageVersionAsset", pkgNs}}},
		{"PublishPackageVersion", "POST", "/v1/package/version/publish" + q + "&version=1&asset=a", "x",
			[]string{"x-amz-content-sha256", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"},
			[]authzCall{{"codeartifact:PublishPackageVersion", pkgNs}}},
		{"UpdatePackageVersionsStatus", "POST", "/v1/package/versions/update_status" + q, `{"versions":["1"],"targetStatus":"Archived"}`, nil,
			[]authzCall{{"codeartifact:UpdatePackageVersionsStatus", pkgNs}}},
		{"DeletePackageVersions", "POST", "/v1/package/versions/delete" + q, `{"versions":["1"]}`, nil, []authzCall{{"codeartifact:DeletePackageVersions", pkgNs}}},
		{"DisposePackageVersions", "POST", "/v1/package/versions/dispose" + q, `{"versions":["1"]}`, nil, []authzCall{{"codeartifact:DisposePackageVersions", pkgNs}}},
		{"CopyPackageVersions", "POST", "/v1/package/versions/copy?domain=d1&source-repository=src&destination-repository=dst&format=npm&package=p", `{"versions":["1"]}`, nil,
			[]authzCall{{"codeartifact:CopyPackageVersions", repo + "dst"}, {"codeartifact:ReadFromRepository", repo + "src"}}},
		{"TagResource", "POST", "/v1/tag?resourceArn=" + repo + "r1", `{"tags":[]}`, nil, []authzCall{{"codeartifact:TagResource", repo + "r1"}}},
		{"UntagResource", "POST", "/v1/untag?resourceArn=" + dom, `{"tagKeys":["k"]}`, nil, []authzCall{{"codeartifact:UntagResource", dom}}},
		{"ListTagsForResource", "POST", "/v1/tags?resourceArn=" + dom, "", nil, []authzCall{{"codeartifact:ListTagsForResource", dom}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			az := &recordingAuthz{denyAt: len(tc.want)}
			h := withRoot(New(Config{PublicURL: "http://x"}, testService(), az, nil, nil))
			rec := call(t, h, tc.method, tc.target, tc.body, tc.header...)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if !slices.Equal(az.calls, tc.want) {
				t.Errorf("checks = %v\nwant     %v", az.calls, tc.want)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		status  int
		typ     string
		members map[string]any
		header  map[string]string
	}{
		{"not found", fault.NotFound("repository", "r1", "Repository r1 not found"), 404, "ResourceNotFoundException",
			map[string]any{"message": "Repository r1 not found", "resourceId": "r1", "resourceType": "repository"}, nil},
		{"conflict", fault.Conflict("package-version", "1.0", "exists"), 409, "ConflictException",
			map[string]any{"message": "exists", "resourceId": "1.0", "resourceType": "package-version"}, nil},
		{"validation", fault.Validation("bad %s", "thing"), 400, "ValidationException",
			map[string]any{"message": "bad thing", "reason": "FIELD_VALIDATION_FAILED"}, nil},
		{"validation without reason", &fault.Error{Kind: fault.KindValidation, Message: "m"}, 400, "ValidationException",
			map[string]any{"reason": "FIELD_VALIDATION_FAILED"}, nil},
		{"cannot parse", cannotParse("nope"), 400, "ValidationException", map[string]any{"reason": "CANNOT_PARSE"}, nil},
		{"access denied", fault.AccessDenied("no"), 403, "AccessDeniedException", map[string]any{"message": "no"}, nil},
		{"quota", fault.Quota("repository", "r1", "too many upstreams"), 402, "ServiceQuotaExceededException",
			map[string]any{"message": "too many upstreams", "resourceId": "r1", "resourceType": "repository"}, nil},
		{"throttled", &fault.Error{Kind: fault.KindThrottled, Message: "slow down"}, 429, "ThrottlingException",
			map[string]any{"message": "slow down"}, map[string]string{"Retry-After": "1"}},
		{"unavailable", fault.ErrUnavailable, 503, "ServiceUnavailableException", nil, map[string]string{"Retry-After": "1"}},
		{"bad signature", fault.Unauthenticated("InvalidSignatureException", "sig"), 403, "InvalidSignatureException", map[string]any{"message": "sig"}, nil},
		{"missing token", fault.Unauthenticated("MissingAuthenticationTokenException", "none"), 403, "MissingAuthenticationTokenException", nil, nil},
		{"unauthenticated without code", fault.Unauthenticated("", "who"), 403, "UnrecognizedClientException", nil, nil},
		{"wrapped", errors.Join(errors.New("ctx"), fault.NotFound("domain", "d1", "gone")), 404, "ResourceNotFoundException",
			map[string]any{"resourceType": "domain"}, nil},
		{"internal", errors.New("disk on fire: /secret/path"), 500, "InternalServerException", nil, nil},
		{"internal fault", fault.Internal(errors.New("db"), "query failed"), 500, "InternalServerException", nil, nil},
		{"storage full", fault.Internal(fault.Storage(&fs.PathError{Op: "write", Path: "/secret/blobs/tmp/stage-1", Err: syscall.ENOSPC},
			"could not stage the asset"), "could not store the asset"), 500, "InternalServerException",
			map[string]any{"message": "could not stage the asset: insufficient storage on the server"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("GET", "/v1/domain", nil), tc.err)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			body := decodeError(t, rec)
			if body["__type"] != tc.typ {
				t.Errorf("__type %v, want %s", body["__type"], tc.typ)
			}
			if _, ok := body["message"].(string); !ok {
				t.Error("message missing")
			}
			for k, v := range tc.members {
				if body[k] != v {
					t.Errorf("%s = %v, want %v", k, body[k], v)
				}
			}
			for k, v := range tc.header {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.status == 500 {
				if msg := body["message"].(string); strings.Contains(msg, "secret") || strings.Contains(msg, "db") {
					t.Errorf("internal message leaks the cause: %q", msg)
				}
			}
			if tc.typ != "ResourceNotFoundException" && tc.typ != "ConflictException" && tc.typ != "ServiceQuotaExceededException" {
				if _, ok := body["resourceId"]; ok {
					t.Error("resourceId on an exception that has none")
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	h := withRoot(New(Config{}, nil, AllowAll{}, nil, nil))
	a := call(t, h, "GET", "/v1/domain", "").Header().Get("x-amzn-RequestId")
	b := call(t, h, "GET", "/v1/domain", "").Header().Get("x-amzn-RequestId")
	if len(a) != 36 || a == b {
		t.Errorf("generated ids %q, %q", a, b)
	}
	if got := call(t, h, "GET", "/v1/domain", "", "X-Request-Id", "abc-123").Header().Get("x-amzn-RequestId"); got != "abc-123" {
		t.Errorf("X-Request-Id not kept: %q", got)
	}
	if got := call(t, h, "GET", "/v1/domain", "", "X-Request-Id", "bad id\x01").Header().Get("x-amzn-RequestId"); len(got) != 36 {
		t.Errorf("invalid X-Request-Id used: %q", got)
	}
	// An id the server middleware already set wins.
	rec := httptest.NewRecorder()
	rec.Header().Set("x-amzn-RequestId", "from-middleware")
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/domain", nil))
	if got := rec.Header().Get("x-amzn-RequestId"); got != "from-middleware" {
		t.Errorf("middleware id replaced: %q", got)
	}
}

func TestPaginationToken(t *testing.T) {
	if (&input{op: "ListDomains"}).nextToken("") != "" {
		t.Error("end of list must have no token")
	}
	// read presents tok to op with query, as a handler would: the token,
	// then the other parameters, then done().
	read := func(op, query, tok string) (string, error) {
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		in := &input{q: q}
		in.op = op
		after := in.token("nextToken", tok)
		for k := range q {
			in.raw(k)
		}
		return after, in.done()
	}
	const query = "domain=d1&repository=r1&format=npm"
	for _, key := range []string{"a", "name\x00111122223333", "npm\x00\x00lodash", strings.Repeat("é", 300)} {
		tok := tokenFor("ListPackages", query, key)
		if got, err := read("ListPackages", query, tok); got != key || err != nil {
			t.Errorf("round trip %q: got %q, %v", key, got, err)
		}
		// The page size and the order of parameters are not bound.
		if got, err := read("ListPackages", "format=npm&max-results=5&repository=r1&domain=d1", tok); got != key || err != nil {
			t.Errorf("with max-results %q: got %q, %v", key, got, err)
		}
	}
	tok := tokenFor("ListPackages", query, "a")
	for _, c := range []struct{ op, query string }{
		{"ListPackageVersions", query},                         // another operation
		{"ListPackages", "domain=d2&repository=r1&format=npm"}, // another domain
		{"ListPackages", "domain=d1&repository=r1"},            // a filter dropped
		{"ListPackages", query + "&namespace=x"},               // a filter added
		{"ListPackages", query + "&domain-owner=111122223333"}, // the owner spelt out
	} {
		if _, err := read(c.op, c.query, tok); err == nil || !strings.Contains(err.Error(), "at 'nextToken'") {
			t.Errorf("%s?%s accepted a token of ListPackages?%s: %v", c.op, c.query, query, err)
		}
	}
	// A token of the first format (no binding) and foreign strings.
	v1 := base64.RawURLEncoding.EncodeToString([]byte("\x01name"))
	for _, tok := range []string{"", "!!", "YQ", "AQ", "Ag", "zzzz", " x", v1} {
		if _, err := read("ListPackages", query, tok); err == nil {
			t.Errorf("token %q accepted", tok)
		}
	}
}

func TestShapes(t *testing.T) {
	created := time.Unix(1737063820, 123_000_000)
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	d := &artifact.Domain{Domain: store.Domain{Name: "d1", Owner: testAccount, Status: "Active", CreatedTime: created}, ARN: "arn:d"}
	if got, want := enc(toDomain(d)), `{"name":"d1","owner":"111122223333","arn":"arn:d","status":"Active","createdTime":1737063820.123,"repositoryCount":0,"assetSizeBytes":0}`; got != want {
		t.Errorf("domain:\n got %s\nwant %s", got, want)
	}
	r := &artifact.Repository{Repository: store.Repository{Name: "r1"}, DomainName: "d1", DomainOwner: testAccount}
	if got, want := enc(toRepository(r)), `{"name":"r1","administratorAccount":"111122223333","domainName":"d1","domainOwner":"111122223333","upstreams":[],"externalConnections":[]}`; got != want {
		t.Errorf("repository:\n got %s\nwant %s", got, want)
	}
	a := &store.Asset{Name: "a.tgz", Blob: store.Blob{SHA256: strings.Repeat("a", 64), MD5: strings.Repeat("b", 32), Size: 3}}
	if got, want := enc(toAsset(a)), `{"name":"a.tgz","size":3,"hashes":{"MD5":"`+strings.Repeat("b", 32)+`","SHA-256":"`+strings.Repeat("a", 64)+`"}}`; got != want {
		t.Errorf("asset:\n got %s\nwant %s", got, want)
	}
	res := &artifact.BatchResult{Successful: map[string]artifact.VersionOutcome{"1.0": {Revision: "r", Status: "Archived"}}}
	if got, want := enc(toBatch(res)), `{"successfulVersions":{"1.0":{"revision":"r","status":"Archived"}},"failedVersions":{}}`; got != want {
		t.Errorf("batch:\n got %s\nwant %s", got, want)
	}
	v := &artifact.Version{Version: store.Version{Version: "1.0", Status: "Published", OriginType: "INTERNAL", OriginRepository: "r1"}, Format: "npm", Package: "p"}
	if got, want := enc(toVersionDescription(v)), `{"format":"npm","packageName":"p","version":"1.0","status":"Published","origin":{"domainEntryPoint":{"repositoryName":"r1"},"originType":"INTERNAL"}}`; got != want {
		t.Errorf("version:\n got %s\nwant %s", got, want)
	}
}

// TestPublishDeclaredTooLarge: a PublishPackageVersion whose Content-Length
// is over --max-asset-size is refused before its body is read.
func TestPublishDeclaredTooLarge(t *testing.T) {
	svc := artifact.New(artifact.Config{Region: testRegion, AccountID: testAccount, MaxAssetSize: 10}, nil, nil, nil)
	h := withRoot(New(Config{}, svc, &recordingAuthz{denyAt: 2}, nil, nil))
	body := &readCounter{r: strings.NewReader(strings.Repeat("x", 11))}
	req := httptest.NewRequest("POST", "/v1/package/version/publish?domain=dom&repository=repo&format=generic&namespace=ns&package=p&version=1.0&asset=a.bin", body)
	req.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
	req.ContentLength = 11
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if e := decodeError(t, rec); rec.Code != http.StatusBadRequest || e["__type"] != "ValidationException" || !strings.Contains(fmt.Sprint(e["message"]), "size limit of 10 bytes") {
		t.Fatalf("%d %v", rec.Code, e)
	}
	if body.n != 0 {
		t.Errorf("%d body bytes were read", body.n)
	}
}

type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) { n, err := c.r.Read(p); c.n += n; return n, err }
