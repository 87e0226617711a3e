package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	seeds := []string{
		verbatimPolicy,
		allowAll,
		`{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3:::${aws:username}/*"}}`,
		stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","` + roleARN + `"]},"NotAction":"a:*","NotResource":"*"}`),
		stmt(`{"Effect":"Allow","Principal":"*","Action":"a:b","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["${aws:username, 'x'}*","${*}"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateLessThan":{"aws:CurrentTime":1700000000},"Null":{"a:b":true}}}`),
		stmt(`{"Effect":"Allow","Principal":{"Service":"codeartifact.amazonaws.com"},"Action":"sts:AssumeRole"}`),
		`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"a:b","Resource":"*"},{"Sid":"A"}]}`,
		`{"a":`, `[]`, `{"Statement":[[[[]]]]}`, "\x00", `{"Statement":"\ud800"}`,
	}
	for _, s := range seeds {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, doc string, kind uint8) {
		opts := ParseOptions{Kind: Kind(kind % 3), MaxSize: int(kind) * 64, RequireResource: kind&4 != 0}
		p, err := ParseWith(doc, opts)
		if err != nil {
			if p != nil {
				t.Fatal("policy and error both returned")
			}
			return
		}
		req := rq(alice, readAction, repoARN, "aws:username", "alice", "aws:TagKeys", "a,b",
			"aws:SourceIp", "10.1.2.3", "aws:CurrentTime", "2024-01-01T00:00:00Z")
		for _, sameAccount := range []bool{true, false} {
			d := Evaluate(&req, []Labeled{{"id", p}}, []Labeled{{"res", p}}, sameAccount)
			if d.Allowed && d.ExplicitDeny {
				t.Fatalf("allowed and denied: %+v", d)
			}
			EvaluateTrust(&req, p, []Labeled{{"id", p}}, sameAccount)
		}
		p.Allows(&req)
	})
}

// wildcardRegexp is the reference semantics of MatchWildcard.
func wildcardRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func FuzzMatchWildcard(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"a*b?c", "axxbyc"}, {"*??", "€"}, {"arn:aws:*:*", "arn:aws:s3:x"},
		{"codeartifact:Get*", "codeartifact:GetRepositoryEndpoint"}, {"?*?", "日本語"}, {"a\\*", "a\\b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		got := MatchWildcard(pattern, value)
		if !strings.ContainsAny(pattern, "*?") && got != (pattern == value) {
			t.Fatalf("literal pattern %q vs %q: %v", pattern, value, got)
		}
		// Escaped text matches only itself.
		var esc strings.Builder
		escapeGlob(&esc, value)
		if !globMatch(esc.String(), value, true) {
			t.Fatalf("escaped %q does not match itself", value)
		}
		if utf8.ValidString(pattern) && utf8.ValidString(value) {
			if want := wildcardRegexp(pattern).MatchString(value); got != want {
				t.Fatalf("MatchWildcard(%q, %q) = %v, regexp says %v", pattern, value, got, want)
			}
		}
	})
}
