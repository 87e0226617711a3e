package policy

import "testing"

// BenchmarkEvaluate decides a ReadFromRepository request for a role session
// against a realistic set: a managed read-only policy, an inline policy
// with a conditional Deny and variables, and a repository policy.
func BenchmarkEvaluate(b *testing.B) {
	managed := mustParse(b, verbatimPolicy, KindIdentity)
	inline := mustParse(b, idp(
		`{"Sid":"Publish","Effect":"Allow","Action":["codeartifact:PublishPackageVersion","codeartifact:PutPackageMetadata"],"Resource":"arn:aws:codeartifact:*:${aws:PrincipalAccount}:package/dom/repo/*"}`,
		`{"Sid":"NoDelete","Effect":"Deny","Action":["codeartifact:Delete*","codeartifact:Dispose*"],"Resource":"*"}`,
		`{"Sid":"Network","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}`,
	), KindIdentity)
	repo := mustParse(b, `{"Version":"2012-10-17","Statement":[
		{"Sid":"OrgRead","Effect":"Allow","Principal":"*","Action":["codeartifact:ReadFromRepository","codeartifact:DescribePackageVersion","codeartifact:ListPackages"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}},
		{"Sid":"CIPublish","Effect":"Allow","Principal":{"AWS":["`+roleARN+`","arn:aws:iam::444455556666:root"]},"Action":"codeartifact:PublishPackageVersion"},
		{"Sid":"NoExternalDelete","Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"codeartifact:Delete*"}]}`, KindResource)
	identity := []Labeled{{"managed:ReadOnly", managed}, {"inline:CI", inline}}
	resource := []Labeled{{"repository-policy", repo}}
	req := rq(session, readAction, repoARN,
		"aws:username", "", "aws:userid", "AROAEXAMPLE:run-42", "aws:PrincipalType", "AssumedRole",
		"aws:SourceIp", "10.20.30.40", "aws:ViaAWSService", "false", "aws:SecureTransport", "true",
		"aws:PrincipalOrgID", "o-abc123", "aws:CurrentTime", "2024-05-01T12:00:00Z")
	if d := Evaluate(&req, identity, resource, true); !d.Allowed {
		b.Fatalf("setup: %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(&req, identity, resource, true)
	}
}
