package policy

import (
	"strings"
	"testing"

	"coffer/internal/fault"
)

// stmt wraps one statement into a 2012-10-17 policy.
func stmt(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }

func TestParseErrors(t *testing.T) {
	const ok = `"Effect":"Allow","Action":"codeartifact:*","Resource":"*"`
	const okRes = `"Effect":"Allow","Principal":"*","Action":"codeartifact:*"`
	cases := []struct {
		name string
		doc  string
		opts ParseOptions
		want string // the error message must contain this
	}{
		// JSON syntax.
		{"invalid JSON", `{"Version":"2012-10-17",`, ParseOptions{}, "Syntax errors in policy."},
		{"invalid JSON reports the offset", `{"Version" "2012-10-17"}`, ParseOptions{}, "at offset 11"},
		{"empty document", ``, ParseOptions{}, "Syntax errors in policy."},
		{"trailing data", stmt(`{`+ok+`}`) + `x`, ParseOptions{}, "unexpected data after the top-level value"},
		{"trailing comma", `{"Statement":[{` + ok + `},]}`, ParseOptions{}, "Syntax errors in policy."},
		{"top level array", `[{"Statement":[]}]`, ParseOptions{}, "The policy must be a JSON object."},
		{"top level string", `"policy"`, ParseOptions{}, "Syntax errors in policy."},
		{"duplicate top-level key", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{` + ok + `}}`, ParseOptions{}, `duplicate key "Version"`},
		{"duplicate statement key", stmt(`{"Effect":"Allow","Effect":"Deny","Action":"a:b","Resource":"*"}`), ParseOptions{}, `duplicate key "Effect"`},
		{"duplicate condition operator", stmt(`{` + ok + `,"Condition":{"StringEquals":{"a:b":"1"},"StringEquals":{"a:c":"2"}}}`), ParseOptions{}, `duplicate key "StringEquals"`},
		{"duplicate condition key", stmt(`{` + ok + `,"Condition":{"StringEquals":{"a:b":"1","a:b":"2"}}}`), ParseOptions{}, `duplicate key "a:b"`},
		{"nesting too deep", `{"Statement":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, ParseOptions{}, "nesting too deep"},

		// Top-level elements.
		{"unknown top-level field", `{"Version":"2012-10-17","Foo":1,"Statement":{` + ok + `}}`, ParseOptions{}, "Unknown field Foo"},
		{"field names are case-sensitive", `{"version":"2012-10-17","Statement":{` + ok + `}}`, ParseOptions{}, "Unknown field version"},
		{"invalid version", `{"Version":"2012-10-18","Statement":{` + ok + `}}`, ParseOptions{}, "The policy must contain a valid version string"},
		{"version not a string", `{"Version":2012,"Statement":{` + ok + `}}`, ParseOptions{}, "The policy must contain a valid version string"},
		{"Id not a string", `{"Id":1,"Statement":{` + ok + `}}`, ParseOptions{}, "Id must be a string"},
		{"missing Statement", `{"Version":"2012-10-17"}`, ParseOptions{}, "Missing required field Statement"},
		{"empty Statement array", `{"Version":"2012-10-17","Statement":[]}`, ParseOptions{}, "Missing required field Statement"},
		{"Statement a string", `{"Version":"2012-10-17","Statement":"x"}`, ParseOptions{}, "Statement must be an object or an array"},
		{"statement not an object", stmt(`"x"`), ParseOptions{}, "Each statement must be an object"},

		// Statement elements.
		{"unknown statement field", stmt(`{` + ok + `,"Foo":"bar"}`), ParseOptions{}, "Unknown field Foo"},
		{"missing Effect", stmt(`{"Action":"a:b","Resource":"*"}`), ParseOptions{}, "Missing required field Effect"},
		{"invalid Effect", stmt(`{"Effect":"Maybe","Action":"a:b","Resource":"*"}`), ParseOptions{}, "Invalid effect: Maybe"},
		{"Effect is case-sensitive", stmt(`{"Effect":"allow","Action":"a:b","Resource":"*"}`), ParseOptions{}, "Invalid effect: allow"},
		{"Effect not a string", stmt(`{"Effect":true,"Action":"a:b","Resource":"*"}`), ParseOptions{}, "Invalid effect"},
		{"missing actions", stmt(`{"Effect":"Allow","Resource":"*"}`), ParseOptions{}, "Policy statement must contain actions."},
		{"empty action array", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), ParseOptions{}, "Policy statement must contain actions."},
		{"action not a string", stmt(`{"Effect":"Allow","Action":[1],"Resource":"*"}`), ParseOptions{}, "Action must be a string or an array of strings"},
		{"action without vendor", stmt(`{"Effect":"Allow","Action":"ReadFromRepository","Resource":"*"}`), ParseOptions{}, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"action with empty vendor", stmt(`{"Effect":"Allow","Action":":Read","Resource":"*"}`), ParseOptions{}, "must be prefaced by a vendor"},
		{"action with empty name", stmt(`{"Effect":"Allow","Action":["codeartifact:"],"Resource":"*"}`), ParseOptions{}, "must be prefaced by a vendor"},
		{"NotAction without vendor", stmt(`{"Effect":"Allow","NotAction":"x","Resource":"*"}`), ParseOptions{}, "must be prefaced by a vendor"},
		{"Action and NotAction", stmt(`{"Effect":"Allow","Action":"a:b","NotAction":"a:c","Resource":"*"}`), ParseOptions{}, "both Action and NotAction"},
		{"missing resources", stmt(`{"Effect":"Allow","Action":"a:b"}`), ParseOptions{}, "Policy statement must contain resources."},
		{"empty resource array", stmt(`{"Effect":"Allow","Action":"a:b","Resource":[]}`), ParseOptions{}, "Policy statement must contain resources."},
		{"resource not an ARN", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"my-repo"}`), ParseOptions{}, `Resource my-repo must be in ARN format or "*".`},
		{"resource ARN too short", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3"}`), ParseOptions{}, "must be in ARN format"},
		{"resource not a string", stmt(`{"Effect":"Allow","Action":"a:b","Resource":{"a":"b"}}`), ParseOptions{}, "Resource must be a string or an array of strings"},
		{"Resource and NotResource", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"*","NotResource":"*"}`), ParseOptions{}, "both Resource and NotResource"},
		{"duplicate Sid", stmt(`{"Sid":"A",` + ok + `},{"Sid":"A",` + ok + `}`), ParseOptions{}, "Statement IDs (SID) in a single policy must be unique"},
		{"non-alphanumeric Sid in identity policy", stmt(`{"Sid":"read only",` + ok + `}`), ParseOptions{}, "Statement IDs (SID) must be alpha-numeric"},
		{"Sid not a string", stmt(`{"Sid":1,` + ok + `}`), ParseOptions{}, "Sid must be a string"},

		// Conditions.
		{"unknown condition operator", stmt(`{` + ok + `,"Condition":{"StringEqualz":{"a:b":"c"}}}`), ParseOptions{}, "Invalid Condition type : StringEqualz"},
		{"operator names are case-sensitive", stmt(`{` + ok + `,"Condition":{"stringequals":{"a:b":"c"}}}`), ParseOptions{}, "Invalid Condition type : stringequals"},
		{"NullIfExists is not an operator", stmt(`{` + ok + `,"Condition":{"NullIfExists":{"a:b":"true"}}}`), ParseOptions{}, "Invalid Condition type : NullIfExists"},
		{"unknown set operator", stmt(`{` + ok + `,"Condition":{"ForSomeValues:StringEquals":{"a:b":"c"}}}`), ParseOptions{}, "Invalid Condition type : ForSomeValues:StringEquals"},
		{"set prefix on unknown operator", stmt(`{` + ok + `,"Condition":{"ForAnyValue:Foo":{"a:b":"c"}}}`), ParseOptions{}, "Invalid Condition type : ForAnyValue:Foo"},
		{"bare IfExists", stmt(`{` + ok + `,"Condition":{"IfExists":{"a:b":"c"}}}`), ParseOptions{}, "Invalid Condition type : IfExists"},
		{"condition key without vendor", stmt(`{` + ok + `,"Condition":{"StringEquals":{"username":"c"}}}`), ParseOptions{}, "Actions/Conditions must be prefaced by a vendor"},
		{"condition value object", stmt(`{` + ok + `,"Condition":{"StringEquals":{"a:b":{"c":"d"}}}}`), ParseOptions{}, "values must be strings, numbers or booleans"},
		{"condition value null", stmt(`{` + ok + `,"Condition":{"StringEquals":{"a:b":null}}}`), ParseOptions{}, "values must be strings, numbers or booleans"},
		{"condition value nested array", stmt(`{` + ok + `,"Condition":{"StringEquals":{"a:b":[["c"]]}}}`), ParseOptions{}, "values must be strings, numbers or booleans"},
		{"condition block not an object", stmt(`{` + ok + `,"Condition":{"StringEquals":"a:b"}}`), ParseOptions{}, "must map condition keys to values"},
		{"condition not an object", stmt(`{` + ok + `,"Condition":["StringEquals"]}`), ParseOptions{}, "Condition must be an object"},

		// Principals by policy kind.
		{"identity policy with Principal", stmt(`{` + ok + `,"Principal":"*"}`), ParseOptions{}, "Policy document should not specify a principal."},
		{"identity policy with NotPrincipal", stmt(`{` + ok + `,"NotPrincipal":{"AWS":"111122223333"}}`), ParseOptions{}, "Policy document should not specify a principal."},
		{"resource policy without Principal", stmt(`{"Effect":"Allow","Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Missing required field Principal"},
		{"trust policy without Principal", stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), ParseOptions{Kind: KindTrust}, "Missing required field Principal"},
		{"Principal and NotPrincipal", stmt(`{` + okRes + `,"NotPrincipal":"*"}`), ParseOptions{Kind: KindResource}, "both Principal and NotPrincipal"},
		{"principal user name only", stmt(`{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, `Invalid principal in policy: "AWS":"alice"`},
		{"principal ARN with wildcard", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal ARN bad account", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1234:root"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal group ARN", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/devs"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal short account id", stmt(`{"Effect":"Allow","Principal":{"AWS":"11112222333"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal string other than *", stmt(`{"Effect":"Allow","Principal":"` + aliceARN + `","Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal unknown type", stmt(`{"Effect":"Allow","Principal":{"Foo":"bar"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, `Invalid principal in policy: "Foo":"bar"`},
		{"principal empty object", stmt(`{"Effect":"Allow","Principal":{},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal empty list", stmt(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"principal not a string list", stmt(`{"Effect":"Allow","Principal":{"AWS":[1]},"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "must be a string or an array of strings"},
		{"principal number", stmt(`{"Effect":"Allow","Principal":1,"Action":"a:b"}`), ParseOptions{Kind: KindResource}, "Invalid principal in policy"},
		{"trust policy with Resource", stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}`), ParseOptions{Kind: KindTrust}, "Has prohibited field Resource"},
		{"trust policy with NotResource", stmt(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotResource":"*"}`), ParseOptions{Kind: KindTrust}, "Has prohibited field NotResource"},
		{"resource policy with RequireResource", stmt(`{` + okRes + `}`), ParseOptions{Kind: KindResource, RequireResource: true}, "Policy statement must contain resources."},

		// Size limits.
		{"size limit", stmt(`{` + ok + `}`), ParseOptions{MaxSize: 40}, "Cannot exceed quota for PolicySize: 40"},
		{"managed policy size limit", stmt(`{"Effect":"Allow","Action":"a:b","Resource":["arn:aws:s3:::` + strings.Repeat("x", MaxManagedPolicySize) + `"]}`), ParseOptions{MaxSize: MaxManagedPolicySize}, "Cannot exceed quota for PolicySize: 6144"},
		{"whitespace inside strings counts", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3:::` + strings.Repeat(" ", 100) + `"}`), ParseOptions{MaxSize: 100}, "Cannot exceed quota for PolicySize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParseWith(c.doc, c.opts)
			if err == nil {
				t.Fatalf("parsed %+v, want error containing %q", p, c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
			if k := fault.KindOf(err); k != fault.KindValidation {
				t.Fatalf("kind %v, want KindValidation", k)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		opts ParseOptions
	}{
		{"verbatim CodeArtifact read-only policy", verbatimPolicy, ParseOptions{MaxSize: MaxManagedPolicySize}},
		{"statement as object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}`, ParseOptions{}},
		{"no Version", `{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}`, ParseOptions{}},
		{"2008 Version", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}`, ParseOptions{}},
		{"Id and Sid", `{"Id":"any string at all","Statement":{"Sid":"Read1","Effect":"Deny","NotAction":"a:b","NotResource":["arn:aws:s3:::b"]}}`, ParseOptions{}},
		{"action *", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`), ParseOptions{}},
		{"wildcard ARN", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:codeartifact:*"}`), ParseOptions{}},
		{"all condition value types", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"a:s":"x","a:l":["x","y"]},"NumericLessThan":{"a:n":[1,2.5,-3e2]},"Bool":{"a:b":true},"Null":{"a:z":false},"ForAllValues:StringLikeIfExists":{"a:t":[]}}}`), ParseOptions{}},
		{"every operator", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{` + everyOperator() + `}}`), ParseOptions{}},
		{"resource policy without Resource", stmt(`{"Sid":"Allow read for all","Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository"}`), ParseOptions{Kind: KindResource, MaxSize: MaxCodeArtifactResourcePolicySize}},
		{"resource policy principals", stmt(`{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root","` + aliceARN + `","` + roleARN + `","` + sessionARN + `","arn:aws:sts::111122223333:federated-user/f","*"],"Service":["codeartifact.amazonaws.com"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"abc"},"Action":"a:b"}`), ParseOptions{Kind: KindResource}},
		{"resource policy NotPrincipal", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + aliceARN + `"},"Action":"a:b","Resource":"*"}`), ParseOptions{Kind: KindResource, RequireResource: true}},
		{"trust policy", stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`), ParseOptions{Kind: KindTrust, MaxSize: MaxTrustPolicySize}},
		{"size exactly at the limit", `{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}`, ParseOptions{MaxSize: 62}},
		{"whitespace outside strings is free", "{\n  \"Statement\" : {\n\t\"Effect\": \"Allow\",\n\t\"Action\": \"a:b\",\n\t\"Resource\": \"*\"\n  }\n}\n", ParseOptions{MaxSize: 62}},
		{"escaped quotes inside strings", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"a:b":"say \"hi\" \\"}}}`), ParseOptions{}},
		{"unicode", stmt(`{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3:::bücket/日本"}`), ParseOptions{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseWith(c.doc, c.opts); err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
}

// everyOperator lists every operator, with and without IfExists and set
// prefixes, as Condition members.
func everyOperator() string {
	var b []string
	for name := range operators {
		b = append(b, `"`+name+`":{"a:k":"1"}`)
		for _, set := range []string{"ForAnyValue:", "ForAllValues:"} {
			b = append(b, `"`+set+name+`":{"a:k":"1"}`)
		}
		if name != "Null" {
			b = append(b, `"`+name+`IfExists":{"a:k":"1"}`)
			b = append(b, `"ForAllValues:`+name+`IfExists":{"a:k":"1"}`)
		}
	}
	return strings.Join(b, ",")
}

func TestPolicySize(t *testing.T) {
	cases := []struct {
		doc  string
		want int
	}{
		{`{}`, 2},
		{" { } \n", 2},
		{`{"a b":"c\" d"}`, 15},
		{`{"é":1}`, 7},
	}
	for _, c := range cases {
		if got := policySize(c.doc); got != c.want {
			t.Errorf("policySize(%q) = %d, want %d", c.doc, got, c.want)
		}
	}
}

func TestParseIsIdentity(t *testing.T) {
	p, err := Parse(verbatimPolicy)
	if err != nil || len(p.Statements) != 2 {
		t.Fatalf("Parse(verbatim) = %v, %v", p, err)
	}
	_, err = Parse(stmt(`{"Effect":"Allow","Principal":"*","Action":"a:b","Resource":"*"}`))
	if err == nil || err.Error() != "Policy document should not specify a principal." {
		t.Fatalf("Parse with Principal: %v", err)
	}
}
