package policy

import (
	"fmt"
	"strings"
	"testing"
)

const (
	acct      = "111122223333"
	otherAcct = "444455556666"
	region    = "us-east-1"

	repoARN    = "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/repo"
	repo2ARN   = "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/repo2"
	domainARN  = "arn:aws:codeartifact:us-east-1:111122223333:domain/dom"
	pkgARN     = "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm//react"
	otherDomRe = "arn:aws:codeartifact:us-east-1:111122223333:repository/other/repo"

	rootARN     = "arn:aws:iam::111122223333:root"
	aliceARN    = "arn:aws:iam::111122223333:user/alice"
	bobARN      = "arn:aws:iam::111122223333:user/bob"
	roleARN     = "arn:aws:iam::111122223333:role/ci/Builder"
	sessionARN  = "arn:aws:sts::111122223333:assumed-role/Builder/run-42"
	carolARN    = "arn:aws:iam::444455556666:user/carol"
	extRoleARN  = "arn:aws:iam::444455556666:role/Reader"
	extSessARN  = "arn:aws:sts::444455556666:assumed-role/Reader/s1"
	codeartSvc  = "codeartifact.amazonaws.com"
	readAction  = "codeartifact:ReadFromRepository"
	pubAction   = "codeartifact:PublishPackageVersion"
	tokenAction = "codeartifact:GetAuthorizationToken"
	bearer      = "sts:GetServiceBearerToken"
)

// verbatimPolicy is the CodeArtifact read-only policy from the AWS user guide.
const verbatimPolicy = `{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["codeartifact:GetAuthorizationToken","codeartifact:GetRepositoryEndpoint","codeartifact:ReadFromRepository"],"Resource":"*"},
  {"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`

// Principals and policies of the AWS documentation examples.
const (
	docBobARN  = "arn:aws:iam::444455556666:user/Bob"
	docRoleARN = "arn:aws:iam::444455556666:role/cross-account-read-only-role"

	// IAM User Guide, "NotPrincipal": the IAM user example and the IAM role example.
	notPrincipalBob   = `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"codeartifact:*"}`
	notPrincipalAudit = `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app",` +
		`"arn:aws:iam::444455556666:role/cross-account-read-only-role","arn:aws:iam::444455556666:root"]},"Action":"codeartifact:*"}`

	// CodeArtifact User Guide, "Delete a repository", "Protect repositories
	// from being deleted": the domain policy, verbatim.
	protectRepos = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRepositoryDeletion","Action":["codeartifact:DeleteRepository"],` +
		`"Effect":"Deny","Resource":"*","Principal":"*"}]}`
	// The AWSCodeArtifactAdminAccess managed policy.
	codeartifactAdmin = `{"Version":"2012-10-17","Statement":[{"Action":["codeartifact:*"],"Effect":"Allow","Resource":"*"},` +
		`{"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`
	// "Using tags to control access to CodeArtifact resources", Examples 1 and 4, verbatim.
	tagExample1 = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"codeartifact:CreateRepository","Resource":"*",` +
		`"Condition":{"Null":{"aws:RequestTag/costcenter":"true"}}},{"Effect":"Deny","Action":"codeartifact:CreateRepository","Resource":"*",` +
		`"Condition":{"ForAnyValue:StringNotEquals":{"aws:RequestTag/costcenter":["1","2"]}}}]}`
	tagExample4 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["codeartifact:CreateRepository","codeartifact:TagResource"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:RequestTag/Key1":"Value1"},"ForAllValues:StringEquals":{"aws:TagKeys":["Key1"]}}}]}`
	// "Limit authorization token duration", the two example policies, verbatim.
	tokenExactly12h = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"},{"Sid":"sts","Effect":"Allow",` +
		`"Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"NumericEquals":{"sts:DurationSeconds":43200},"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`
	tokenUpTo1h = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"},{"Sid":"sts","Effect":"Allow",` +
		`"Action":"sts:GetServiceBearerToken","Resource":"*","Condition":{"NumericLessThanEquals":{"sts:DurationSeconds":3600},"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`
	// IAM User Guide, "Controlling access to and for IAM users and roles
	// using tags", "Controlling access for IAM principals": the resource's
	// costcenter tag must equal the principal's cost-center tag (EC2 actions
	// of the example put on a CodeArtifact action).
	principalTagPolicy = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"codeartifact:DescribeRepository","Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:ResourceTag/costcenter":"${aws:PrincipalTag/cost-center}"}}}}`
)

var (
	docBob   = PrincipalInfo{ARN: docBobARN, Account: otherAcct}
	docAudit = PrincipalInfo{ARN: "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app", Account: otherAcct, RoleARN: docRoleARN}
)

var (
	alice   = PrincipalInfo{ARN: aliceARN, Account: acct}
	bob     = PrincipalInfo{ARN: bobARN, Account: acct}
	root    = PrincipalInfo{ARN: rootARN, Account: acct}
	session = PrincipalInfo{ARN: sessionARN, Account: acct, RoleARN: roleARN}
	carol   = PrincipalInfo{ARN: carolARN, Account: otherAcct}
	extSess = PrincipalInfo{ARN: extSessARN, Account: otherAcct}
	service = PrincipalInfo{Service: codeartSvc}
)

// idp wraps statements into a 2012-10-17 identity policy.
func idp(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// allowAll is an identity policy allowing every action on every resource.
var allowAll = idp(`{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}`)

// rq builds a request; ctx alternates keys and comma-separated values.
func rq(p PrincipalInfo, action, resource string, ctx ...string) Request {
	r := Request{Action: action, Resource: resource, Principal: p}
	for i := 0; i+1 < len(ctx); i += 2 {
		if ctx[i+1] == "" {
			r.Set(ctx[i])
			continue
		}
		r.Set(ctx[i], strings.Split(ctx[i+1], ",")...)
	}
	return r
}

func mustParse(t testing.TB, doc string, kind Kind) *Policy {
	t.Helper()
	p, err := ParseWith(doc, ParseOptions{Kind: kind})
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return p
}

func labeled(t testing.TB, prefix string, kind Kind, docs []string) []Labeled {
	var out []Labeled
	for i, d := range docs {
		label := prefix
		if len(docs) > 1 {
			label = fmt.Sprintf("%s:%d", prefix, i)
		}
		out = append(out, Labeled{Label: label, Policy: mustParse(t, d, kind)})
	}
	return out
}

const (
	allow    = "allow"
	deny     = "deny"     // explicit
	implicit = "implicit" // no allow
)

func TestEvaluate(t *testing.T) {
	type tc struct {
		name     string
		identity []string
		resource []string
		req      Request
		cross    bool // caller outside the resource's account
		want     string
		stmt     string // expected Decision.Statement when non-empty
		source   string // expected Decision.Source when non-empty
	}
	repoPolicy := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}
	cases := []tc{
		// The AWS user-guide read-only policy, verbatim.
		{name: "verbatim allows ReadFromRepository", identity: []string{verbatimPolicy},
			req: rq(alice, readAction, repoARN), want: allow, stmt: "#0", source: "user"},
		{name: "verbatim allows GetAuthorizationToken", identity: []string{verbatimPolicy},
			req: rq(alice, tokenAction, domainARN), want: allow, stmt: "#0"},
		{name: "verbatim implicitly denies PublishPackageVersion", identity: []string{verbatimPolicy},
			req: rq(alice, pubAction, pkgARN), want: implicit},
		{name: "verbatim bearer token for codeartifact", identity: []string{verbatimPolicy},
			req: rq(alice, bearer, "*", "sts:AWSServiceName", codeartSvc), want: allow, stmt: "#1"},
		{name: "verbatim bearer token for another service", identity: []string{verbatimPolicy},
			req: rq(alice, bearer, "*", "sts:AWSServiceName", "s3.amazonaws.com"), want: implicit},
		{name: "verbatim bearer token without service name", identity: []string{verbatimPolicy},
			req: rq(alice, bearer, "*"), want: implicit},
		{name: "bearer token service name is case-sensitive", identity: []string{verbatimPolicy},
			req: rq(alice, bearer, "*", "sts:AWSServiceName", "CodeArtifact.amazonaws.com"), want: implicit},

		// Default deny and deny precedence.
		{name: "no policies is an implicit deny", req: rq(alice, readAction, repoARN), want: implicit},
		{name: "identity deny beats identity allow",
			identity: []string{allowAll, idp(`{"Sid":"NoPublish","Effect":"Deny","Action":"codeartifact:PublishPackageVersion","Resource":"*"}`)},
			req:      rq(alice, pubAction, pkgARN), want: deny, stmt: "NoPublish", source: "user:1"},
		{name: "deny in the same policy beats allow",
			identity: []string{idp(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"codeartifact:*","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: deny, stmt: "#1"},
		{name: "resource-policy deny beats identity allow", identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Sid":"Block","Effect":"Deny","Principal":"*","Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(alice, readAction, repoARN), want: deny, stmt: "Block", source: "resource"},
		{name: "identity deny beats resource-policy allow",
			identity: []string{idp(`{"Sid":"D","Effect":"Deny","Action":"codeartifact:*","Resource":"*"}`)},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: deny, stmt: "D", source: "user"},
		{name: "cross-account deny in resource policy", identity: []string{allowAll},
			resource: []string{repoPolicy(
				`{"Effect":"Allow","Principal":{"AWS":"`+otherAcct+`"},"Action":"codeartifact:*"}`,
				`{"Sid":"NoExtPublish","Effect":"Deny","Principal":{"AWS":"`+otherAcct+`"},"Action":"codeartifact:PublishPackageVersion"}`)},
			req: rq(carol, pubAction, pkgARN), cross: true, want: deny, stmt: "NoExtPublish"},
		{name: "deny that does not apply leaves the allow",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"codeartifact:Delete*","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow, stmt: "All", source: "user:0"},
		{name: "deny with a false condition does not apply",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)},
			req:      rq(alice, readAction, repoARN, "aws:SecureTransport", "true"), want: allow},
		{name: "deny with a true condition applies",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)},
			req:      rq(alice, readAction, repoARN, "aws:SecureTransport", "false"), want: deny},

		// NotAction / NotResource.
		{name: "NotAction allows what it does not list",
			identity: []string{idp(`{"Effect":"Allow","NotAction":"codeartifact:Delete*","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:DescribeRepository", repoARN), want: allow},
		{name: "NotAction does not allow what it lists",
			identity: []string{idp(`{"Effect":"Allow","NotAction":"codeartifact:Delete*","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:DeleteRepository", repoARN), want: implicit},
		{name: "NotAction allow covers other services",
			identity: []string{idp(`{"Effect":"Allow","NotAction":["codeartifact:*"],"Resource":"*"}`)},
			req:      rq(alice, "s3:GetObject", "arn:aws:s3:::b/k"), want: allow},
		{name: "Deny NotAction denies everything else",
			identity: []string{allowAll, idp(`{"Sid":"ReadOnly","Effect":"Deny","NotAction":["codeartifact:Read*","codeartifact:Get*"],"Resource":"*"}`)},
			req:      rq(alice, pubAction, pkgARN), want: deny, stmt: "ReadOnly"},
		{name: "Deny NotAction spares the listed actions",
			identity: []string{allowAll, idp(`{"Effect":"Deny","NotAction":["codeartifact:Read*","codeartifact:Get*"],"Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "NotResource allows other resources",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","NotResource":"` + repo2ARN + `"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "NotResource excludes the listed resource",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","NotResource":"` + repo2ARN + `"}`)},
			req:      rq(alice, readAction, repo2ARN), want: implicit},
		{name: "Deny NotResource protects all but one repo",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"codeartifact:*","NotResource":["` + repoARN + `"]}`)},
			req:      rq(alice, readAction, repo2ARN), want: deny},

		// Action wildcards and case.
		{name: "codeartifact:* allows any codeartifact action",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:DeletePackageVersions", pkgARN), want: allow},
		{name: "codeartifact:* does not allow another service",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"}`)},
			req:      rq(alice, bearer, "*"), want: implicit},
		{name: "Get* prefix matches",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:Get*","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:GetRepositoryEndpoint", repoARN), want: allow},
		{name: "Get* prefix does not match List",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:Get*","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:ListPackages", repoARN), want: implicit},
		{name: "* action matches every service",
			identity: []string{idp(`{"Effect":"Allow","Action":"*","Resource":"*"}`)},
			req:      rq(alice, "sts:GetCallerIdentity", "*"), want: allow},
		{name: "? matches one character",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:?etRepositoryEndpoint","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:GetRepositoryEndpoint", repoARN), want: allow},
		{name: "? does not match several characters",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:Get?","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:GetRepositoryEndpoint", repoARN), want: implicit},
		{name: "action in policy is case-insensitive",
			identity: []string{idp(`{"Effect":"Allow","Action":"CODEARTIFACT:readfromrepository","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "action in request is case-insensitive",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:ReadFromRepository","Resource":"*"}`)},
			req:      rq(alice, "CodeArtifact:READFROMREPOSITORY", repoARN), want: allow},
		{name: "wildcard action case-insensitive",
			identity: []string{idp(`{"Effect":"Allow","Action":"CodeArtifact:read*","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "other service prefix does not match",
			identity: []string{idp(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: implicit},
		{name: "action must match whole name",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:Read","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: implicit},

		// Resource wildcards.
		{name: "resource wildcard on region and repo",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:111122223333:repository/dom/*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "resource wildcard does not match other domain",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:111122223333:repository/dom/*"}`)},
			req:      rq(alice, readAction, otherDomRe), want: implicit},
		{name: "resource match is case-sensitive",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:us-east-1:111122223333:repository/DOM/repo"}`)},
			req:      rq(alice, readAction, repoARN), want: implicit},
		{name: "resource ? wildcard",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:us-east-1:111122223333:repository/dom/rep?"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "resource * spans colons",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "resource * spans slashes and empty namespace",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/*"}`)},
			req:      rq(alice, pubAction, pkgARN), want: allow},
		{name: "exact resource does not match a longer one",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"` + repoARN + `"}`)},
			req:      rq(alice, readAction, repo2ARN), want: implicit},
		{name: "one of several resources",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":["` + repo2ARN + `","` + repoARN + `"]}`)},
			req:      rq(alice, readAction, repoARN), want: allow},

		// Policy variables in Resource.
		{name: "resource variable aws:username",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}"}`)},
			req:      rq(alice, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/alice", "aws:username", "alice"), want: allow},
		{name: "resource variable for another user",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}"}`)},
			req:      rq(alice, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/bob", "aws:username", "alice"), want: implicit},
		{name: "resource variable without value matches nothing",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}"}`)},
			req:      rq(session, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/"), want: implicit},
		{name: "resource variable default",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username, 'shared'}"}`)},
			req:      rq(session, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/shared"), want: allow},
		{name: "resource variable default unused when value present",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username,'shared'}"}`)},
			req:      rq(alice, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/shared", "aws:username", "alice"), want: implicit},
		{name: "resource variable is literal in 2008-10-17",
			identity: []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}"}}`},
			req:      rq(alice, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/alice", "aws:username", "alice"), want: implicit},
		{name: "resource variable is literal without Version",
			identity: []string{`{"Statement":{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}"}}`},
			req:      rq(alice, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/${aws:username}", "aws:username", "alice"), want: allow},
		{name: "resource variable with trailing wildcard",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}-*"}`)},
			req:      rq(alice, readAction, "arn:aws:codeartifact:us-east-1:111122223333:repository/dom/alice-dev", "aws:username", "alice"), want: allow},
		{name: "substituted value is not a wildcard",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/dom/${aws:username}"}`)},
			req:      rq(alice, readAction, repoARN, "aws:username", "*"), want: implicit},
		{name: "resource variable aws:PrincipalAccount from the principal",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:us-east-1:${aws:PrincipalAccount}:repository/*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "resource variable aws:PrincipalAccount other account",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:us-east-1:${aws:PrincipalAccount}:repository/*"}`)},
			req:      rq(carol, readAction, repoARN), want: implicit},
		{name: "resource variable aws:userid",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:package/dom/repo/npm/${aws:userid}/*"}`)},
			req:      rq(alice, pubAction, "arn:aws:codeartifact:us-east-1:111122223333:package/dom/repo/npm/AIDAEXAMPLE/x", "aws:userid", "AIDAEXAMPLE"), want: allow},
		{name: "resource variable from a tag key",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/${aws:PrincipalTag/team}/*"}`)},
			req:      rq(alice, readAction, repoARN, "aws:PrincipalTag/team", "dom"), want: allow},
		{name: "variables not substituted in Action",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:${aws:username}","Resource":"*"}`)},
			req:      rq(alice, "codeartifact:alice", repoARN, "aws:username", "alice"), want: implicit},

		// Resource policies in the same account.
		{name: "resource policy naming a user allows without identity policy",
			resource: []string{repoPolicy(`{"Sid":"AliceRead","Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:ReadFromRepository","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow, stmt: "AliceRead", source: "resource"},
		{name: "resource policy naming another user",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(alice, readAction, repoARN), want: implicit},
		{name: "resource policy naming the account delegates: identity policy needed",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + rootARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: implicit},
		{name: "resource policy naming the account plus identity allow",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow, source: "user"},
		{name: "resource policy naming the account allows the root user",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"codeartifact:*"}`)},
			req:      rq(root, readAction, repoARN), want: allow},
		{name: "resource policy Principal * allows without identity policy",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(bob, readAction, repoARN), want: allow},
		{name: "resource policy AWS * allows",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(bob, readAction, repoARN), want: allow},
		{name: "resource policy without Resource matches the resource",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:PublishPackageVersion"}`)},
			req:      rq(alice, pubAction, pkgARN), want: allow},
		{name: "resource policy Resource restricts packages",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:PublishPackageVersion","Resource":"arn:aws:codeartifact:*:*:package/dom/repo/pypi/*"}`)},
			req:      rq(alice, pubAction, pkgARN), want: implicit},
		{name: "resource policy action mismatch",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(alice, pubAction, pkgARN), want: implicit},
		{name: "identity allow reported before resource allow",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow, stmt: "#0", source: "user"},

		// Role sessions.
		{name: "role ARN matches its session",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(session, readAction, repoARN), want: allow},
		{name: "role ARN without path matches session lacking RoleARN",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Builder"},"Action":"codeartifact:*"}`)},
			req:      rq(PrincipalInfo{ARN: sessionARN, Account: acct}, readAction, repoARN), want: allow},
		{name: "session ARN matches exactly",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + sessionARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(session, readAction, repoARN), want: allow},
		{name: "session ARN does not match another session",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/Builder/other"},"Action":"codeartifact:*"}`)},
			req:      rq(session, readAction, repoARN), want: implicit},
		{name: "role ARN does not match another role's session",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Deployer"},"Action":"codeartifact:*"}`)},
			req:      rq(session, readAction, repoARN), want: implicit},
		{name: "user ARN does not match a role session",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(session, readAction, repoARN), want: implicit},

		// NotPrincipal with Deny, IAM User Guide, "AWS JSON policy elements:
		// NotPrincipal" (NotPrincipal with Deny): the caller is spared only when its
		// account, its role (for a role session) and itself are all listed.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
		{name: "doc: Deny NotPrincipal [Bob, Bob's account] spares Bob",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docBobARN+`"},"Action":"codeartifact:*"}`, notPrincipalBob)},
			req:      rq(docBob, readAction, repoARN), cross: true, want: allow},
		{name: "doc: Deny NotPrincipal [Bob, Bob's account] denies another user of the account",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+otherAcct+`"},"Action":"codeartifact:*"}`, notPrincipalBob)},
			req:      rq(carol, readAction, repoARN), cross: true, want: deny, stmt: "#1"},
		{name: "doc: Deny NotPrincipal [Bob, Bob's account] spares that account's root",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+otherAcct+`"},"Action":"codeartifact:*"}`, notPrincipalBob)},
			req:      rq(PrincipalInfo{ARN: "arn:aws:iam::444455556666:root", Account: otherAcct}, readAction, repoARN), cross: true, want: allow},
		{name: "doc: Deny NotPrincipal [Bob, Bob's account] denies a third account",
			identity: []string{allowAll},
			resource: []string{repoPolicy(notPrincipalBob)},
			req:      rq(PrincipalInfo{ARN: "arn:aws:iam::999988887777:user/Bob", Account: "999988887777"}, readAction, repoARN), cross: true, want: deny},
		{name: "doc: Deny NotPrincipal [Bob] without the account denies Bob through his account",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docBobARN+`"},"Action":"codeartifact:*"}`,
				`{"Sid":"OnlyBob","Effect":"Deny","NotPrincipal":{"AWS":["`+docBobARN+`"]},"Action":"codeartifact:*"}`)},
			req: rq(docBob, readAction, repoARN), cross: true, want: deny, stmt: "OnlyBob"},
		{name: "doc: Deny NotPrincipal [account] alone does not spare the account's users",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"codeartifact:*"}`)},
			req:      rq(docBob, readAction, repoARN), cross: true, want: deny},
		{name: "same account: Deny NotPrincipal [alice, account] spares alice",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","` + acct + `"]},"Action":"codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "same account: Deny NotPrincipal [alice, account] denies bob",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Sid":"OnlyAlice","Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","` + rootARN + `"]},"Action":"codeartifact:*"}`)},
			req:      rq(bob, readAction, repoARN), want: deny, stmt: "OnlyAlice"},
		{name: "same account: Deny NotPrincipal [account] spares the root only",
			resource: []string{repoPolicy(`{"Effect":"Deny","NotPrincipal":{"AWS":"`+acct+`"},"Action":"codeartifact:*"}`,
				`{"Effect":"Allow","Principal":{"AWS":"`+acct+`"},"Action":"codeartifact:*"}`)},
			req: rq(root, readAction, repoARN), want: allow},
		{name: "doc: Deny NotPrincipal [session, role, account] spares the session",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docRoleARN+`"},"Action":"codeartifact:*"}`, notPrincipalAudit)},
			req:      rq(docAudit, readAction, repoARN), cross: true, want: allow},
		{name: "doc: Deny NotPrincipal [session, role, account] spares the session lacking RoleARN",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docRoleARN+`"},"Action":"codeartifact:*"}`, notPrincipalAudit)},
			req:      rq(PrincipalInfo{ARN: docAudit.ARN, Account: otherAcct}, readAction, repoARN), cross: true, want: allow},
		{name: "doc: Deny NotPrincipal [session, role, account] denies another session of the role",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docRoleARN+`"},"Action":"codeartifact:*"}`, notPrincipalAudit)},
			req:      rq(PrincipalInfo{ARN: "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/other-app", Account: otherAcct, RoleARN: docRoleARN}, readAction, repoARN), cross: true, want: deny},
		{name: "doc: Deny NotPrincipal missing the role denies the session",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docRoleARN+`"},"Action":"codeartifact:*"}`,
				`{"Effect":"Deny","NotPrincipal":{"AWS":["`+docAudit.ARN+`","arn:aws:iam::444455556666:root"]},"Action":"codeartifact:*"}`)},
			req: rq(docAudit, readAction, repoARN), cross: true, want: deny},
		{name: "doc: Deny NotPrincipal missing the account denies the session",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docRoleARN+`"},"Action":"codeartifact:*"}`,
				`{"Effect":"Deny","NotPrincipal":{"AWS":["`+docAudit.ARN+`","`+docRoleARN+`"]},"Action":"codeartifact:*"}`)},
			req: rq(docAudit, readAction, repoARN), cross: true, want: deny},
		{name: "doc: Deny NotPrincipal [role, account] without the session denies it",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"`+docRoleARN+`"},"Action":"codeartifact:*"}`,
				`{"Effect":"Deny","NotPrincipal":{"AWS":["`+docRoleARN+`","arn:aws:iam::444455556666:root"]},"Action":"codeartifact:*"}`)},
			req: rq(docAudit, readAction, repoARN), cross: true, want: deny},
		{name: "Deny NotPrincipal * spares everyone",
			identity: []string{allowAll},
			resource: []string{repoPolicy(`{"Effect":"Deny","NotPrincipal":"*","Action":"codeartifact:*"}`)},
			req:      rq(bob, readAction, repoARN), want: allow},
		{name: "Deny NotPrincipal listing a service spares that service",
			resource: []string{repoPolicy(`{"Effect":"Deny","NotPrincipal":{"Service":"codeartifact.amazonaws.com"},"Action":"codeartifact:*"}`,
				`{"Effect":"Allow","Principal":{"Service":"codeartifact.amazonaws.com"},"Action":"codeartifact:*"}`)},
			req: rq(service, readAction, repoARN), cross: true, want: allow},
		{name: "Deny NotPrincipal does not spare an anonymous caller",
			resource: []string{repoPolicy(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + acct + `"},"Action":"codeartifact:*"}`)},
			req:      rq(PrincipalInfo{}, readAction, repoARN), cross: true, want: deny},
		// NotPrincipal with Allow keeps matching as the Principal element does.
		{name: "Allow NotPrincipal grants those not listed",
			resource: []string{repoPolicy(`{"Effect":"Allow","NotPrincipal":{"AWS":"` + bobARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow},
		{name: "Allow NotPrincipal excludes the listed",
			resource: []string{repoPolicy(`{"Effect":"Allow","NotPrincipal":{"AWS":"` + bobARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(bob, readAction, repoARN), want: implicit},

		// Domain and repository policy together (authz passes both for a
		// repository or package), CodeArtifact User Guide, "Domain policies": "The
		// domain policy is evaluated for all operations against the domain and all
		// resources within the domain"; with both, "if either policy allows the
		// action, it is allowed". https://docs.aws.amazon.com/codeartifact/latest/ug/domain-policies.html
		{name: "doc: protect repositories from being deleted (domain policy Deny, Principal *)",
			identity: []string{codeartifactAdmin},
			resource: []string{protectRepos, repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(alice, "codeartifact:DeleteRepository", repoARN), want: deny, stmt: "DenyRepositoryDeletion", source: "resource:0"},
		{name: "doc: protect repositories also stops the account root",
			resource: []string{protectRepos},
			req:      rq(root, "codeartifact:DeleteRepository", repoARN), want: deny, stmt: "DenyRepositoryDeletion"},
		{name: "doc: protect repositories leaves other actions",
			identity: []string{codeartifactAdmin},
			resource: []string{protectRepos},
			req:      rq(alice, "codeartifact:UpdateRepository", repoARN), want: allow},
		{name: "doc: protect repositories with NotResource lets one repository go",
			identity: []string{codeartifactAdmin},
			resource: []string{repoPolicy(`{"Sid":"DenyRepositoryDeletion","Action":["codeartifact:DeleteRepository"],"Effect":"Deny","NotResource":"` + repoARN + `","Principal":"*"}`)},
			req:      rq(alice, "codeartifact:DeleteRepository", repoARN), want: allow},
		{name: "doc: protect repositories with NotResource still protects the others",
			identity: []string{codeartifactAdmin},
			resource: []string{repoPolicy(`{"Sid":"DenyRepositoryDeletion","Action":["codeartifact:DeleteRepository"],"Effect":"Deny","NotResource":"` + repoARN + `","Principal":"*"}`)},
			req:      rq(alice, "codeartifact:DeleteRepository", repo2ARN), want: deny},
		{name: "doc: domain policy Resource * grants DescribeRepository on every repository",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":["codeartifact:CreateRepository","codeartifact:DescribeRepository"],"Resource":"*"}`)},
			req:      rq(alice, "codeartifact:DescribeRepository", repo2ARN), want: allow},
		{name: "cross-account: an Allow in the domain policy is the resource-policy Allow",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Sid":"Dom","Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:ReadFromRepository"}`),
				repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:ListPackages"}`)},
			req: rq(carol, readAction, repoARN), cross: true, want: allow, stmt: "Dom", source: "resource:0"},
		{name: "cross-account: an Allow in the repository policy is the resource-policy Allow",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:GetAuthorizationToken"}`),
				repoPolicy(`{"Sid":"Repo","Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:ReadFromRepository"}`)},
			req: rq(carol, readAction, repoARN), cross: true, want: allow, stmt: "Repo", source: "resource:1"},
		{name: "cross-account: a domain-policy Deny beats the repository policy's Allow",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Sid":"NoExt","Effect":"Deny","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:ReadFromRepository"}`),
				repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:ReadFromRepository"}`)},
			req: rq(carol, readAction, repoARN), cross: true, want: deny, stmt: "NoExt", source: "resource:0"},

		// aws:PrincipalArn of a role session is its role's ARN, IAM User Guide,
		// "AWS global condition context keys", aws:PrincipalArn.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
		{name: "doc: aws:PrincipalArn of a session is the role ARN (with its path)",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + roleARN + `"}}}`)},
			req:      rq(session, readAction, repoARN), want: allow},
		{name: "doc: aws:PrincipalArn of a session is not the session ARN",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Condition":{"StringEquals":{"aws:PrincipalArn":"` + sessionARN + `"}}}`)},
			req:      rq(session, readAction, repoARN), want: implicit},
		{name: "aws:PrincipalArn of a session lacking RoleARN falls back to the role",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Builder"}}}`)},
			req:      rq(PrincipalInfo{ARN: sessionARN, Account: acct}, readAction, repoARN), want: allow},
		{name: "aws:PrincipalArn of a user is the user ARN",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + aliceARN + `"}}}`)},
			req:      rq(alice, readAction, repoARN), want: allow},

		// Tag conditions on requests, CodeArtifact User Guide, "Using tags to
		// control access to CodeArtifact resources" (Examples 1 and 4).
		// https://docs.aws.amazon.com/codeartifact/latest/ug/tag-based-access-control.html
		{name: "doc ex.1: CreateRepository without costcenter is denied",
			identity: []string{codeartifactAdmin, tagExample1},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN), want: deny, stmt: "#0"},
		{name: "doc ex.1: CreateRepository with costcenter=2 is allowed",
			identity: []string{codeartifactAdmin, tagExample1},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN, "aws:RequestTag/costcenter", "2", "aws:TagKeys", "costcenter"), want: allow},
		{name: "doc ex.1: CreateRepository with costcenter=3 is denied",
			identity: []string{codeartifactAdmin, tagExample1},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN, "aws:RequestTag/costcenter", "3", "aws:TagKeys", "costcenter"), want: deny, stmt: "#1"},
		{name: "doc ex.4: CreateRepository tagged Key1=Value1 is allowed",
			identity: []string{tagExample4},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN, "aws:RequestTag/Key1", "Value1", "aws:TagKeys", "Key1"), want: allow},
		{name: "doc ex.4: TagResource with Key1=Value1 is allowed",
			identity: []string{tagExample4},
			req:      rq(alice, "codeartifact:TagResource", repoARN, "aws:RequestTag/Key1", "Value1", "aws:TagKeys", "Key1"), want: allow},
		{name: "doc ex.4: another tag key besides Key1 is refused",
			identity: []string{tagExample4},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN, "aws:RequestTag/Key1", "Value1", "aws:RequestTag/Key2", "x", "aws:TagKeys", "Key1,Key2"), want: implicit},
		{name: "doc ex.4: aws:TagKeys makes the key case-sensitive",
			identity: []string{tagExample4},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN, "aws:RequestTag/key1", "Value1", "aws:TagKeys", "key1"), want: implicit},
		{name: "doc ex.4: untagged creation is refused",
			identity: []string{tagExample4},
			req:      rq(alice, "codeartifact:CreateRepository", domainARN), want: implicit},

		// sts:DurationSeconds on sts:GetServiceBearerToken, CodeArtifact User
		// Guide, "Using identity-based policies", "Limit authorization token
		// duration" (absent durationSeconds is 43200, 0 the session's lifetime).
		// https://docs.aws.amazon.com/codeartifact/latest/ug/auth-and-access-control-iam-identity-based-access-control.html#limit-token-duration
		{name: "doc: token lifetime exactly 12 hours: 43200 allowed",
			identity: []string{tokenExactly12h},
			req:      rq(alice, bearer, "*", "sts:AWSServiceName", codeartSvc, "sts:DurationSeconds", "43200"), want: allow, stmt: "sts"},
		{name: "doc: token lifetime exactly 12 hours: 3600 refused",
			identity: []string{tokenExactly12h},
			req:      rq(alice, bearer, "*", "sts:AWSServiceName", codeartSvc, "sts:DurationSeconds", "3600"), want: implicit},
		{name: "doc: token lifetime up to 1 hour: 0 (the session's) allowed",
			identity: []string{tokenUpTo1h},
			req:      rq(session, bearer, "*", "sts:AWSServiceName", codeartSvc, "sts:DurationSeconds", "0"), want: allow},
		{name: "doc: token lifetime up to 1 hour: 900 allowed",
			identity: []string{tokenUpTo1h},
			req:      rq(alice, bearer, "*", "sts:AWSServiceName", codeartSvc, "sts:DurationSeconds", "900"), want: allow},
		{name: "doc: token lifetime up to 1 hour: the 43200 default refused",
			identity: []string{tokenUpTo1h},
			req:      rq(alice, bearer, "*", "sts:AWSServiceName", codeartSvc, "sts:DurationSeconds", "43200"), want: implicit},

		// aws:PrincipalTag, IAM User Guide, "Controlling access to and for IAM
		// users and roles using tags" (the principal's tag must equal the
		// resource's). https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html
		{name: "doc: aws:PrincipalTag matches the resource's tag",
			identity: []string{principalTagPolicy},
			req:      rq(alice, "codeartifact:DescribeRepository", repoARN, "aws:PrincipalTag/cost-center", "12", "aws:ResourceTag/costcenter", "12"), want: allow},
		{name: "doc: aws:PrincipalTag differs from the resource's tag",
			identity: []string{principalTagPolicy},
			req:      rq(alice, "codeartifact:DescribeRepository", repoARN, "aws:PrincipalTag/cost-center", "13", "aws:ResourceTag/costcenter", "12"), want: implicit},
		{name: "doc: untagged principal",
			identity: []string{principalTagPolicy},
			req:      rq(alice, "codeartifact:DescribeRepository", repoARN, "aws:ResourceTag/costcenter", "12"), want: implicit},

		// Cross-account access needs both sides.
		{name: "cross-account: resource policy alone is not enough",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:*"}`)},
			req:      rq(carol, readAction, repoARN), cross: true, want: implicit},
		{name: "cross-account: identity policy alone is not enough",
			identity: []string{verbatimPolicy},
			req:      rq(carol, readAction, repoARN), cross: true, want: implicit},
		{name: "cross-account: both allow",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Sid":"Ext","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(carol, readAction, repoARN), cross: true, want: allow, stmt: "Ext", source: "resource"},
		{name: "cross-account: user named explicitly, still needs identity",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + carolARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(carol, readAction, repoARN), cross: true, want: implicit},
		{name: "cross-account: user named explicitly with identity",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + carolARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(carol, readAction, repoARN), cross: true, want: allow},
		{name: "cross-account: resource policy names another account",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"codeartifact:*"}`)},
			req:      rq(carol, readAction, repoARN), cross: true, want: implicit},
		{name: "cross-account: role session via role ARN",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + extRoleARN + `"},"Action":"codeartifact:*"}`)},
			req:      rq(extSess, readAction, repoARN), cross: true, want: allow},
		{name: "cross-account: identity allows different action than resource",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"codeartifact:PublishPackageVersion"}`)},
			req:      rq(carol, pubAction, pkgARN), cross: true, want: implicit},
		{name: "cross-account: organization condition",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}`)},
			req:      rq(carol, readAction, repoARN, "aws:PrincipalOrgID", "o-abc123"), cross: true, want: allow},
		{name: "cross-account: wrong organization",
			identity: []string{verbatimPolicy},
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}`)},
			req:      rq(carol, readAction, repoARN, "aws:PrincipalOrgID", "o-zzz"), cross: true, want: implicit},
		{name: "service principal allowed by resource policy",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"Service":"codeartifact.amazonaws.com"},"Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(service, readAction, repoARN), cross: true, want: allow},
		{name: "service principal not listed",
			resource: []string{repoPolicy(`{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"codeartifact:ReadFromRepository"}`)},
			req:      rq(service, readAction, repoARN), cross: true, want: implicit},

		// Several policies, labels and statements.
		{name: "second identity policy allows",
			identity: []string{idp(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), idp(`{"Sid":"Read","Effect":"Allow","Action":"codeartifact:Read*","Resource":"*"}`)},
			req:      rq(alice, readAction, repoARN), want: allow, stmt: "Read", source: "user:1"},
		{name: "deny in a later policy after an earlier allow",
			identity: []string{verbatimPolicy, idp(`{"Effect":"Deny","Action":"codeartifact:ReadFromRepository","Resource":"` + repoARN + `"}`)},
			req:      rq(alice, readAction, repoARN), want: deny, stmt: "#0", source: "user:1"},
		{name: "statement object form",
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"codeartifact:ReadFromRepository","Resource":"*"}}`},
			req:      rq(alice, readAction, repoARN), want: allow, stmt: "#0"},
		{name: "condition with username restricts to alice",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}`)},
			req:      rq(bob, readAction, repoARN, "aws:username", "bob"), want: implicit},
		{name: "tag-based access with ResourceTag and PrincipalTag",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}`)},
			req:      rq(alice, readAction, repoARN, "aws:ResourceTag/team", "red", "aws:PrincipalTag/team", "red"), want: allow},
		{name: "tag-based access mismatch",
			identity: []string{idp(`{"Effect":"Allow","Action":"codeartifact:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}`)},
			req:      rq(alice, readAction, repoARN, "aws:ResourceTag/team", "red", "aws:PrincipalTag/team", "blue"), want: implicit},
		{name: "deny untagged creation with Null",
			identity: []string{allowAll, idp(`{"Sid":"RequireTeamTag","Effect":"Deny","Action":"codeartifact:CreateRepository","Resource":"*","Condition":{"Null":{"aws:RequestTag/team":"true"}}}`)},
			req:      rq(alice, "codeartifact:CreateRepository", repoARN), want: deny, stmt: "RequireTeamTag"},
		{name: "tagged creation passes the Null deny",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"codeartifact:CreateRepository","Resource":"*","Condition":{"Null":{"aws:RequestTag/team":"true"}}}`)},
			req:      rq(alice, "codeartifact:CreateRepository", repoARN, "aws:RequestTag/team", "red"), want: allow},
		{name: "deny outside the corporate network",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}}`)},
			req:      rq(alice, readAction, repoARN, "aws:SourceIp", "198.51.100.7"), want: deny},
		{name: "inside the corporate network",
			identity: []string{allowAll, idp(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}}`)},
			req:      rq(alice, readAction, repoARN, "aws:SourceIp", "2001:db8::10"), want: allow},
		{name: "nil policy in list is ignored",
			req:  rq(alice, readAction, repoARN),
			want: implicit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids := labeled(t, "user", KindIdentity, c.identity)
			res := labeled(t, "resource", KindResource, c.resource)
			if c.name == "nil policy in list is ignored" {
				ids = append(ids, Labeled{Label: "nil"})
			}
			req := c.req
			d := Evaluate(&req, ids, res, !c.cross)
			got := implicit
			switch {
			case d.Allowed:
				got = allow
			case d.ExplicitDeny:
				got = deny
			}
			if got != c.want {
				t.Fatalf("got %s (%+v), want %s", got, d, c.want)
			}
			if d.Allowed && d.ExplicitDeny {
				t.Fatalf("both allowed and denied: %+v", d)
			}
			if c.stmt != "" && d.Statement != c.stmt {
				t.Errorf("statement %q, want %q", d.Statement, c.stmt)
			}
			if c.source != "" && d.Source != c.source {
				t.Errorf("source %q, want %q", d.Source, c.source)
			}
			if got == implicit && (d.Statement != "" || d.Source != "") {
				t.Errorf("implicit deny reports %+v", d)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	type tc struct {
		name    string
		cond    string // the Condition element
		ctx     []string
		want    bool
		version string // default 2012-10-17; "none" omits it
	}
	cases := []tc{
		// StringEquals / StringNotEquals.
		{"StringEquals match", `{"StringEquals":{"aws:username":"alice"}}`, []string{"aws:username", "alice"}, true, ""},
		{"StringEquals mismatch", `{"StringEquals":{"aws:username":"alice"}}`, []string{"aws:username", "bob"}, false, ""},
		{"StringEquals is case-sensitive", `{"StringEquals":{"aws:username":"alice"}}`, []string{"aws:username", "Alice"}, false, ""},
		{"StringEquals missing key", `{"StringEquals":{"aws:username":"alice"}}`, nil, false, ""},
		{"StringEquals values are ORed", `{"StringEquals":{"aws:username":["bob","alice"]}}`, []string{"aws:username", "alice"}, true, ""},
		{"StringNotEquals different", `{"StringNotEquals":{"aws:username":"bob"}}`, []string{"aws:username", "alice"}, true, ""},
		{"StringNotEquals same", `{"StringNotEquals":{"aws:username":"alice"}}`, []string{"aws:username", "alice"}, false, ""},
		{"StringNotEquals missing key is true", `{"StringNotEquals":{"aws:username":"alice"}}`, nil, true, ""},
		{"StringNotEquals any listed value fails", `{"StringNotEquals":{"aws:username":["bob","alice"]}}`, []string{"aws:username", "alice"}, false, ""},
		{"StringEqualsIgnoreCase match", `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, []string{"aws:username", "alice"}, true, ""},
		{"StringEqualsIgnoreCase mismatch", `{"StringEqualsIgnoreCase":{"aws:username":"bob"}}`, []string{"aws:username", "alice"}, false, ""},
		{"StringNotEqualsIgnoreCase same", `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, []string{"aws:username", "alice"}, false, ""},
		{"StringNotEqualsIgnoreCase different", `{"StringNotEqualsIgnoreCase":{"aws:username":"bob"}}`, []string{"aws:username", "alice"}, true, ""},

		// StringLike / StringNotLike.
		{"StringLike *", `{"StringLike":{"aws:PrincipalTag/team":"team-*"}}`, []string{"aws:PrincipalTag/team", "team-red"}, true, ""},
		{"StringLike ? is one char", `{"StringLike":{"aws:PrincipalTag/team":"team-?"}}`, []string{"aws:PrincipalTag/team", "team-ab"}, false, ""},
		{"StringLike ? matches", `{"StringLike":{"aws:PrincipalTag/team":"team-??"}}`, []string{"aws:PrincipalTag/team", "team-ab"}, true, ""},
		{"StringLike is case-sensitive", `{"StringLike":{"aws:PrincipalTag/team":"Team-*"}}`, []string{"aws:PrincipalTag/team", "team-red"}, false, ""},
		{"StringLike missing", `{"StringLike":{"aws:PrincipalTag/team":"*"}}`, nil, false, ""},
		{"StringNotLike matching value", `{"StringNotLike":{"aws:PrincipalTag/team":"team-*"}}`, []string{"aws:PrincipalTag/team", "team-red"}, false, ""},
		{"StringNotLike other value", `{"StringNotLike":{"aws:PrincipalTag/team":"team-*"}}`, []string{"aws:PrincipalTag/team", "ops"}, true, ""},
		{"StringNotLike missing is true", `{"StringNotLike":{"aws:PrincipalTag/team":"team-*"}}`, nil, true, ""},

		// Numeric.
		{"NumericEquals 10 == 10.0", `{"NumericEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "10.0"}, true, ""},
		{"NumericEquals mismatch", `{"NumericEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "11"}, false, ""},
		{"NumericEquals non-numeric request", `{"NumericEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "ten"}, false, ""},
		{"NumericEquals missing", `{"NumericEquals":{"aws:MultiFactorAuthAge":"10"}}`, nil, false, ""},
		{"NumericNotEquals different", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "11"}, true, ""},
		{"NumericNotEquals same", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "10"}, false, ""},
		{"NumericNotEquals missing is true", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":"10"}}`, nil, true, ""},
		{"NumericLessThan true", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "5"}, true, ""},
		{"NumericLessThan equal is false", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "10"}, false, ""},
		{"NumericLessThanEquals equal", `{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "10"}, true, ""},
		{"NumericLessThanEquals greater", `{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "11"}, false, ""},
		{"NumericGreaterThan true", `{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "11"}, true, ""},
		{"NumericGreaterThan equal is false", `{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "10"}, false, ""},
		{"NumericGreaterThanEquals equal", `{"NumericGreaterThanEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "10"}, true, ""},
		{"NumericGreaterThanEquals less", `{"NumericGreaterThanEquals":{"aws:MultiFactorAuthAge":"10"}}`, []string{"aws:MultiFactorAuthAge", "9.5"}, false, ""},
		{"Numeric JSON number value", `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`, []string{"aws:MultiFactorAuthAge", "100"}, true, ""},
		{"Numeric negative and fraction", `{"NumericLessThan":{"aws:MultiFactorAuthAge":-0.5}}`, []string{"aws:MultiFactorAuthAge", "-1"}, true, ""},

		// Date.
		{"DateEquals same instant other zone", `{"DateEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-01T01:00:00+01:00"}, true, ""},
		{"DateEquals other day", `{"DateEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-02T00:00:00Z"}, false, ""},
		{"DateEquals date-only value", `{"DateEquals":{"aws:CurrentTime":"2024-01-01"}}`, []string{"aws:CurrentTime", "2024-01-01T00:00:00Z"}, true, ""},
		{"DateNotEquals different", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-02T00:00:00Z"}, true, ""},
		{"DateNotEquals same", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-01T00:00:00.000Z"}, false, ""},
		{"DateLessThan before", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2023-12-31T23:59:59Z"}, true, ""},
		{"DateLessThan after", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2025-01-01T00:00:00Z"}, false, ""},
		{"DateLessThanEquals equal", `{"DateLessThanEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-01T00:00:00Z"}, true, ""},
		{"DateLessThanEquals after", `{"DateLessThanEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-01T00:00:01Z"}, false, ""},
		{"DateGreaterThan after", `{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-06-01T00:00:00Z"}, true, ""},
		{"DateGreaterThan equal is false", `{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-01T00:00:00Z"}, false, ""},
		{"DateGreaterThanEquals equal", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2024-01-01T00:00:00Z"}, true, ""},
		{"DateGreaterThanEquals before", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "2023-01-01T00:00:00Z"}, false, ""},
		{"Date policy epoch vs ISO request", `{"DateLessThan":{"aws:CurrentTime":"1704067200"}}`, []string{"aws:CurrentTime", "2023-06-01T00:00:00Z"}, true, ""},
		{"Date policy epoch number", `{"DateGreaterThan":{"aws:EpochTime":1704067200}}`, []string{"aws:EpochTime", "1700000000"}, false, ""},
		{"Date ISO policy vs epoch request", `{"DateGreaterThan":{"aws:EpochTime":"2023-01-01T00:00:00Z"}}`, []string{"aws:EpochTime", "1700000000"}, true, ""},
		{"Date basic ISO format", `{"DateEquals":{"aws:TokenIssueTime":"20240101T000000Z"}}`, []string{"aws:TokenIssueTime", "2024-01-01T00:00:00Z"}, true, ""},
		{"Date unparsable request", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, []string{"aws:CurrentTime", "yesterday"}, false, ""},
		{"Date missing key", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, nil, false, ""},
		{"DateNotEquals missing is true", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, nil, true, ""},

		// Bool and BinaryEquals.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, []string{"aws:SecureTransport", "true"}, true, ""},
		{"Bool false vs true", `{"Bool":{"aws:SecureTransport":"true"}}`, []string{"aws:SecureTransport", "false"}, false, ""},
		{"Bool JSON boolean, case-insensitive", `{"Bool":{"aws:SecureTransport":true}}`, []string{"aws:SecureTransport", "TRUE"}, true, ""},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, nil, false, ""},
		{"BinaryEquals match", `{"BinaryEquals":{"ex:blob":"aGVsbG8="}}`, []string{"ex:blob", "hello"}, true, ""},
		{"BinaryEquals mismatch", `{"BinaryEquals":{"ex:blob":"aGVsbG8="}}`, []string{"ex:blob", "world"}, false, ""},
		{"BinaryEquals invalid base64 never matches", `{"BinaryEquals":{"ex:blob":"!!"}}`, []string{"ex:blob", "!!"}, false, ""},

		// IpAddress / NotIpAddress.
		{"IpAddress inside v4 CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "203.0.113.5"}, true, ""},
		{"IpAddress outside v4 CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "198.51.100.1"}, false, ""},
		{"IpAddress inside v6 CIDR", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, []string{"aws:SourceIp", "2001:db8:1::1"}, true, ""},
		{"IpAddress v4 vs v6 CIDR", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, []string{"aws:SourceIp", "203.0.113.5"}, false, ""},
		{"IpAddress single address", `{"IpAddress":{"aws:SourceIp":"10.0.0.1"}}`, []string{"aws:SourceIp", "10.0.0.1"}, true, ""},
		{"IpAddress v4-mapped request", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "::ffff:203.0.113.5"}, true, ""},
		{"IpAddress v4-mapped CIDR in policy", `{"IpAddress":{"aws:SourceIp":"::ffff:203.0.113.0/120"}}`, []string{"aws:SourceIp", "203.0.113.5"}, true, ""},
		{"IpAddress host bits in CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.77/24"}}`, []string{"aws:SourceIp", "203.0.113.5"}, true, ""},
		{"IpAddress garbage request", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, []string{"aws:SourceIp", "not-an-ip"}, false, ""},
		{"IpAddress list ORed", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, []string{"aws:SourceIp", "203.0.113.9"}, true, ""},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "203.0.113.5"}, false, ""},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, []string{"aws:SourceIp", "198.51.100.1"}, true, ""},
		{"NotIpAddress missing is true", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, nil, true, ""},

		// ARN operators.
		{"ArnEquals exact", `{"ArnEquals":{"aws:SourceArn":"` + repoARN + `"}}`, []string{"aws:SourceArn", repoARN}, true, ""},
		{"ArnEquals different", `{"ArnEquals":{"aws:SourceArn":"` + repoARN + `"}}`, []string{"aws:SourceArn", repo2ARN}, false, ""},
		{"ArnEquals with wildcard", `{"ArnEquals":{"aws:SourceArn":"arn:aws:codeartifact:*:111122223333:repository/dom/*"}}`, []string{"aws:SourceArn", repoARN}, true, ""},
		{"ArnLike role path", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci/*"}}`, []string{"aws:PrincipalArn", roleARN}, true, ""},
		{"ArnLike other service", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`, []string{"aws:PrincipalArn", sessionARN}, false, ""},
		{"ArnLike wildcard stays in its component", `{"ArnLike":{"aws:SourceArn":"arn:aws:codeartifact:*:111122223333:repository/*"}}`, []string{"aws:SourceArn", "arn:aws:codeartifact:us-east-1:extra:111122223333:repository/x"}, false, ""},
		{"ArnLike resource keeps colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:*:log-group:*"}}`, []string{"aws:SourceArn", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s"}, true, ""},
		{"ArnLike non-ARN request", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`, []string{"aws:SourceArn", "bucket"}, false, ""},
		{"ArnLike lone * matches", `{"ArnLike":{"aws:SourceArn":"*"}}`, []string{"aws:SourceArn", repoARN}, true, ""},
		{"ArnNotEquals different", `{"ArnNotEquals":{"aws:SourceArn":"` + repoARN + `"}}`, []string{"aws:SourceArn", repo2ARN}, true, ""},
		{"ArnNotEquals same", `{"ArnNotEquals":{"aws:SourceArn":"` + repoARN + `"}}`, []string{"aws:SourceArn", repoARN}, false, ""},
		{"ArnNotLike matching", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:codeartifact:*:*:repository/dom/*"}}`, []string{"aws:SourceArn", repoARN}, false, ""},
		{"ArnNotLike missing is true", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:codeartifact:*:*:repository/dom/*"}}`, nil, true, ""},
		{"aws:PrincipalArn falls back to the principal", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}`, nil, true, ""},

		// Null.
		{"Null true with key absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, true, ""},
		{"Null true with key present", `{"Null":{"aws:TokenIssueTime":"true"}}`, []string{"aws:TokenIssueTime", "2024-01-01T00:00:00Z"}, false, ""},
		{"Null false with key present", `{"Null":{"aws:TokenIssueTime":"false"}}`, []string{"aws:TokenIssueTime", "2024-01-01T00:00:00Z"}, true, ""},
		{"Null false with key absent", `{"Null":{"aws:TokenIssueTime":"false"}}`, nil, false, ""},
		{"Null JSON boolean", `{"Null":{"aws:TokenIssueTime":true}}`, nil, true, ""},
		{"Null with empty multivalued key", `{"Null":{"aws:TagKeys":"true"}}`, []string{"aws:TagKeys", ""}, true, ""},

		// IfExists.
		{"StringEqualsIfExists absent", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, nil, true, ""},
		{"StringEqualsIfExists present match", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, []string{"ec2:InstanceType", "t3.micro"}, true, ""},
		{"StringEqualsIfExists present mismatch", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, []string{"ec2:InstanceType", "m5.large"}, false, ""},
		{"StringNotEqualsIfExists present same", `{"StringNotEqualsIfExists":{"aws:username":"alice"}}`, []string{"aws:username", "alice"}, false, ""},
		{"StringLikeIfExists absent", `{"StringLikeIfExists":{"aws:PrincipalTag/team":"x*"}}`, nil, true, ""},
		{"NumericLessThanIfExists absent", `{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":"3600"}}`, nil, true, ""},
		{"NumericLessThanIfExists present too big", `{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":"3600"}}`, []string{"aws:MultiFactorAuthAge", "7200"}, false, ""},
		{"DateLessThanIfExists absent", `{"DateLessThanIfExists":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}`, nil, true, ""},
		{"BoolIfExists absent", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, nil, true, ""},
		{"BoolIfExists present false", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, []string{"aws:MultiFactorAuthPresent", "false"}, false, ""},
		{"IpAddressIfExists absent", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true, ""},
		{"ArnLikeIfExists present mismatch", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::a*"}}`, []string{"aws:SourceArn", "arn:aws:s3:::bucket"}, false, ""},
		{"BinaryEqualsIfExists absent", `{"BinaryEqualsIfExists":{"ex:blob":"aGVsbG8="}}`, nil, true, ""},

		// Set operators.
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "team,x"}, true, ""},
		{"ForAnyValue none match", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "x,y"}, false, ""},
		{"ForAnyValue missing is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, nil, false, ""},
		{"ForAnyValue empty is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", ""}, false, ""},
		{"ForAnyValue negated: one value unlisted", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", "env,x"}, true, ""},
		{"ForAnyValue negated: all listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, []string{"aws:TagKeys", "env"}, false, ""},
		{"ForAnyValue negated: missing is false", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, nil, false, ""},
		{"ForAnyValue StringLike", `{"ForAnyValue:StringLike":{"aws:TagKeys":"cost-*"}}`, []string{"aws:TagKeys", "env,cost-center"}, true, ""},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"env"}}`, nil, true, ""},
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "env"}, true, ""},
		{"ForAllValues all listed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "team,env"}, true, ""},
		{"ForAllValues one unlisted", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", "env,x"}, false, ""},
		{"ForAllValues missing is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, nil, true, ""},
		{"ForAllValues empty is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, []string{"aws:TagKeys", ""}, true, ""},
		{"ForAllValues StringLike", `{"ForAllValues:StringLike":{"aws:TagKeys":"env*"}}`, []string{"aws:TagKeys", "env1,env2"}, true, ""},
		{"ForAllValues negated: none listed", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":"secret"}}`, []string{"aws:TagKeys", "a,b"}, true, ""},
		{"ForAllValues negated: one listed", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":"secret"}}`, []string{"aws:TagKeys", "a,secret"}, false, ""},
		{"ForAllValues case-insensitive", `{"ForAllValues:StringEqualsIgnoreCase":{"aws:TagKeys":["Env","Team"]}}`, []string{"aws:TagKeys", "env,TEAM"}, true, ""},
		{"plain operator on multivalued key: any", `{"StringEquals":{"aws:TagKeys":"team"}}`, []string{"aws:TagKeys", "env,team"}, true, ""},
		{"plain negated operator on multivalued key: none", `{"StringNotEquals":{"aws:TagKeys":"team"}}`, []string{"aws:TagKeys", "env,team"}, false, ""},

		// Combination: keys ANDed, operators ANDed, keys case-insensitive.
		{"condition key is case-insensitive", `{"StringEquals":{"AWS:UserName":"alice"}}`, []string{"aws:username", "alice"}, true, ""},
		{"Set lower-cases keys", `{"StringEquals":{"aws:username":"alice"}}`, []string{"AWS:USERNAME", "alice"}, true, ""},
		{"keys ANDed: both hold", `{"StringEquals":{"aws:username":"alice","aws:PrincipalType":"User"}}`, []string{"aws:username", "alice", "aws:PrincipalType", "User"}, true, ""},
		{"keys ANDed: one fails", `{"StringEquals":{"aws:username":"alice","aws:PrincipalType":"User"}}`, []string{"aws:username", "alice", "aws:PrincipalType", "AssumedRole"}, false, ""},
		{"operators ANDed: both hold", `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, []string{"aws:username", "alice", "aws:SecureTransport", "true"}, true, ""},
		{"operators ANDed: one fails", `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, []string{"aws:username", "alice", "aws:SecureTransport", "false"}, false, ""},
		{"empty condition block holds", `{}`, nil, true, ""},

		// Policy variables in condition values.
		{"variable in StringEquals", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, []string{"aws:ResourceTag/owner", "alice", "aws:username", "alice"}, true, ""},
		{"variable mismatch", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, []string{"aws:ResourceTag/owner", "bob", "aws:username", "alice"}, false, ""},
		{"variable without value", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, []string{"aws:ResourceTag/owner", "alice"}, false, ""},
		{"variable without value in negated operator", `{"StringNotEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, []string{"aws:ResourceTag/owner", "alice"}, false, ""},
		{"variable without value, other value still matches", `{"StringEquals":{"aws:ResourceTag/owner":["${aws:username}","admins"]}}`, []string{"aws:ResourceTag/owner", "admins"}, true, ""},
		{"variable default used", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username, 'nobody'}"}}`, []string{"aws:ResourceTag/owner", "nobody"}, true, ""},
		{"variable default ignored when present", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username, 'nobody'}"}}`, []string{"aws:ResourceTag/owner", "nobody", "aws:username", "alice"}, false, ""},
		{"variable with multivalued key has no value", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:TagKeys}"}}`, []string{"aws:ResourceTag/owner", "a", "aws:TagKeys", "a,b"}, false, ""},
		{"variable name is case-insensitive", `{"StringEquals":{"aws:ResourceTag/owner":"${AWS:UserName}"}}`, []string{"aws:ResourceTag/owner", "alice", "aws:username", "alice"}, true, ""},
		{"variable in StringLike keeps wildcards", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, []string{"s3:prefix", "home/alice/docs", "aws:username", "alice"}, true, ""},
		{"substituted * is literal in StringLike", `{"StringLike":{"s3:prefix":"${aws:username}-x"}}`, []string{"s3:prefix", "tea-x", "aws:username", "te*"}, false, ""},
		{"substituted * matches itself", `{"StringLike":{"s3:prefix":"${aws:username}-x"}}`, []string{"s3:prefix", "te*-x", "aws:username", "te*"}, true, ""},
		{"${*} is a literal star", `{"StringLike":{"s3:prefix":"a${*}"}}`, []string{"s3:prefix", "a*"}, true, ""},
		{"${*} is not a wildcard", `{"StringLike":{"s3:prefix":"a${*}"}}`, []string{"s3:prefix", "abc"}, false, ""},
		{"${?} is a literal question mark", `{"StringLike":{"s3:prefix":"why${?}"}}`, []string{"s3:prefix", "why?"}, true, ""},
		{"${$} is a literal dollar", `{"StringEquals":{"s3:prefix":"${$}{aws:username}"}}`, []string{"s3:prefix", "${aws:username}", "aws:username", "alice"}, true, ""},
		{"variables literal in 2008-10-17", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, []string{"s3:prefix", "${aws:username}", "aws:username", "alice"}, true, "2008-10-17"},
		{"variables literal without Version", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, []string{"s3:prefix", "alice", "aws:username", "alice"}, false, "none"},
		{"variable in ArnLike", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}}`, []string{"aws:SourceArn", aliceARN}, true, ""},
		{"variable in numeric value", `{"NumericLessThan":{"ex:n":"${ex:limit}"}}`, []string{"ex:n", "3", "ex:limit", "5"}, true, ""},
		{"variable in IpAddress value", `{"IpAddress":{"aws:SourceIp":"${ex:cidr}"}}`, []string{"aws:SourceIp", "10.1.2.3", "ex:cidr", "10.0.0.0/8"}, true, ""},
		{"malformed variable is literal", `{"StringEquals":{"s3:prefix":"${aws:username"}}`, []string{"s3:prefix", "${aws:username", "aws:username", "alice"}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			version := `"Version":"2012-10-17",`
			switch c.version {
			case "none":
				version = ""
			case "":
			default:
				version = `"Version":"` + c.version + `",`
			}
			doc := `{` + version + `"Statement":[{"Effect":"Allow","Action":"codeartifact:*","Resource":"*","Condition":` + c.cond + `}]}`
			p := mustParse(t, doc, KindIdentity)
			req := rq(alice, readAction, repoARN, c.ctx...)
			if got := p.Allows(&req); got != c.want {
				t.Fatalf("condition %s with %v: got %v, want %v", c.cond, req.Context, got, c.want)
			}
		})
	}
}

func TestPrincipalMatching(t *testing.T) {
	cases := []struct {
		name      string
		principal string // the Principal element
		caller    PrincipalInfo
		want      grant
	}{
		{"* matches a user", `"*"`, alice, grantPrincipal},
		{"* matches anonymous", `"*"`, PrincipalInfo{}, grantPrincipal},
		{"* matches a service", `"*"`, service, grantService},
		{"AWS * matches a role session", `{"AWS":"*"}`, session, grantPrincipal},
		{"account id matches a user of the account", `{"AWS":"111122223333"}`, alice, grantAccount},
		{"account id matches the root", `{"AWS":"111122223333"}`, root, grantPrincipal},
		{"root ARN matches a role session of the account", `{"AWS":"arn:aws:iam::111122223333:root"}`, session, grantAccount},
		{"account id does not match another account", `{"AWS":"111122223333"}`, carol, grantNone},
		{"user ARN matches the user", `{"AWS":"` + aliceARN + `"}`, alice, grantPrincipal},
		{"user ARN does not match another user", `{"AWS":"` + aliceARN + `"}`, bob, grantNone},
		{"user ARN in a list", `{"AWS":["` + bobARN + `","` + aliceARN + `"]}`, alice, grantPrincipal},
		{"strongest entry wins", `{"AWS":["111122223333","` + aliceARN + `"]}`, alice, grantPrincipal},
		{"role ARN matches its session", `{"AWS":"` + roleARN + `"}`, session, grantPrincipal},
		{"role ARN is case-sensitive", `{"AWS":"arn:aws:iam::111122223333:role/ci/builder"}`, session, grantNone},
		{"session ARN matches that session", `{"AWS":"` + sessionARN + `"}`, session, grantPrincipal},
		{"service principal", `{"Service":"codeartifact.amazonaws.com"}`, service, grantService},
		{"service principal does not match a user", `{"Service":"codeartifact.amazonaws.com"}`, alice, grantNone},
		{"federated principal", `{"Federated":"cognito-identity.amazonaws.com"}`, PrincipalInfo{Federated: "cognito-identity.amazonaws.com"}, grantPrincipal},
		{"canonical user never matches", `{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, alice, grantNone},
		{"aws-cn partition root", `{"AWS":"arn:aws-cn:iam::111122223333:root"}`, PrincipalInfo{ARN: "arn:aws-cn:iam::111122223333:root", Account: acct}, grantPrincipal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":` + c.principal + `,"Action":"codeartifact:*"}}`
			p := mustParse(t, doc, KindResource)
			if got := p.Statements[0].Principal.match(&c.caller); got != c.want {
				t.Fatalf("got grant %d, want %d", got, c.want)
			}
		})
	}
}

func TestMatchWildcard(t *testing.T) {
	cases := []struct {
		pattern, value string
		want           bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "bba", true},
		{"*a", "ab", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"?", "é", true},
		{"??", "é", false},
		{"*??", "€", false},
		{"*?", "€", true},
		{"a**b", "ab", true},
		{"*:*", "codeartifact:Read", true},
		{"Abc", "abc", false},
		{"arn:aws:s3:::b/*/x", "arn:aws:s3:::b/1/2/x", true},
		{"*a*a*a*a*a*b", strings.Repeat("a", 64), false},
	}
	for _, c := range cases {
		if got := MatchWildcard(c.pattern, c.value); got != c.want {
			t.Errorf("MatchWildcard(%q, %q) = %v, want %v", c.pattern, c.value, got, c.want)
		}
	}
}

func TestEvaluateTrust(t *testing.T) {
	trustUser := `{"Version":"2012-10-17","Statement":[{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"sts:AssumeRole"}]}`
	trustAcct := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`
	trustSvc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codeartifact.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustDeny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Sid":"NoBob","Effect":"Deny","Principal":{"AWS":"` + bobARN + `"},"Action":"sts:*"}]}`
	assume := idp(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`)
	cases := []struct {
		name     string
		trust    string
		identity []string
		caller   PrincipalInfo
		cross    bool
		want     string
	}{
		{"trust naming the user suffices in the same account", trustUser, nil, alice, false, allow},
		{"trust naming the user, other user", trustUser, []string{assume}, bob, false, implicit},
		{"trust naming the account needs an identity allow", trustAcct, nil, alice, false, implicit},
		{"trust naming the account with identity allow", trustAcct, []string{assume}, alice, false, allow},
		{"cross-account trust with identity allow", trustAcct, []string{assume}, carol, true, allow},
		{"cross-account trust without identity allow", trustAcct, nil, carol, true, implicit},
		{"identity allow without trust", trustUser, []string{assume}, carol, true, implicit},
		{"service principal", trustSvc, nil, service, false, allow},
		{"trust deny wins", trustDeny, []string{assume}, bob, false, deny},
		{"trust * in the same account", trustDeny, nil, alice, false, allow},
		{"wrong action", trustUser, []string{assume}, alice, false, implicit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			trust := mustParse(t, c.trust, KindTrust)
			action := "sts:AssumeRole"
			if c.name == "wrong action" {
				action = "sts:TagSession"
			}
			req := rq(c.caller, action, roleARN)
			d := EvaluateTrust(&req, trust, labeled(t, "user", KindIdentity, c.identity), !c.cross)
			got := implicit
			switch {
			case d.Allowed:
				got = allow
			case d.ExplicitDeny:
				got = deny
			}
			if got != c.want {
				t.Fatalf("got %s (%+v), want %s", got, d, c.want)
			}
			if d.Allowed && d.Source != TrustLabel {
				t.Errorf("source %q, want %q", d.Source, TrustLabel)
			}
		})
	}
}

func TestParsedFields(t *testing.T) {
	p := mustParse(t, verbatimPolicy, KindIdentity)
	if p.Version != Version2012 || len(p.Statements) != 2 {
		t.Fatalf("policy %+v", p)
	}
	s := p.Statements[1]
	if s.Effect != Allow || s.Action[0] != bearer || s.Resource[0] != "*" || s.ID() != "#1" {
		t.Errorf("statement %+v", s)
	}
	c := s.Conditions[0]
	if c.Operator != "StringEquals" || c.Key != "sts:AWSServiceName" || len(c.Values) != 1 || c.Values[0] != codeartSvc {
		t.Errorf("condition %+v", c)
	}
	rp := mustParse(t, `{"Id":"x","Statement":{"Sid":"A","Effect":"Deny","Principal":{"AWS":["`+aliceARN+`"],"Service":"s.amazonaws.com"},"NotAction":"a:b","NotResource":"arn:aws:s3:::b","Condition":{"NumericLessThan":{"a:n":[1,2.5]}}}}`, KindResource)
	rs := rp.Statements[0]
	if rp.ID != "x" || rp.Version != "" || rs.ID() != "A" || rs.Principal.AWS[0] != aliceARN || rs.Principal.Service[0] != "s.amazonaws.com" ||
		rs.NotAction[0] != "a:b" || rs.NotResource[0] != "arn:aws:s3:::b" || rs.Conditions[0].Values[1] != "2.5" {
		t.Errorf("resource policy %+v / %+v", rp, rs)
	}
}
