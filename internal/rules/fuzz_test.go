package rules

import (
	"testing"
	"time"
)

// FuzzParseRange: any range either fails to parse or can be evaluated.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{">=1.0.0,<1.4.2 || =2.0.0", "1.2.3", "<0.9 || >=2.0.0-rc.1", ">=", "||", "1 2 3", ">=1<2"} {
		f.Add(s, "1.3.0")
	}
	f.Fuzz(func(t *testing.T, s, version string) {
		r, err := ParseRange(s)
		if err != nil || version == "" {
			return
		}
		_ = r.Contains(version)
	})
}

// FuzzEvaluate: a rule that validates compiles, and evaluating any subject
// against it does not panic.
func FuzzEvaluate(f *testing.F) {
	f.Add("block", "/npm/acme~", ">=1", "", "npm", "acme", "x", "1.0", "ci")
	f.Add("exempt", "/pypi//x$", "", "1.0", "pypi", "", "x", "1.0", "")
	f.Add("cooldown", "", "", "", "maven", "org", "a", "", "r")
	f.Fuzz(func(t *testing.T, kind, pkg, versions, version, format, namespace, name, subjectVersion, repo string) {
		r := Rule{Scope: Scope{DomainOwner: "111122223333", Domain: "acme", Repository: repo}, Kind: kind,
			Package: pkg, Versions: versions, Version: version, Reason: "r"}
		switch kind {
		case KindCooldown:
			r.Cooldown, r.Reason = "1h", ""
		case KindFreeze:
			r.FreezeAt, r.Reason = "2026-01-01T00:00:00Z", ""
		}
		if Validate(&r) != nil {
			return
		}
		set, err := Compile([]Rule{r}, Options{})
		if err != nil {
			t.Fatalf("a valid rule does not compile: %v", err)
		}
		_ = set.Evaluate(Subject{Domain: "acme", Repository: repo, Format: format, Namespace: namespace, Name: name,
			Version: subjectVersion, ViaConnection: "public:npmjs"}, time.Now())
	})
}
