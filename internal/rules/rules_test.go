package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"coffer/internal/fault"
	"coffer/internal/osv"
)

const owner = "111122223333"

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func mustRule(t testing.TB, r Rule) Rule {
	t.Helper()
	if r.DomainOwner == "" {
		r.DomainOwner = owner
	}
	if r.Domain == "" {
		r.Domain = "acme"
	}
	if err := Validate(&r); err != nil {
		t.Fatalf("Validate(%+v): %v", r, err)
	}
	return r
}

func TestEvaluate(t *testing.T) {
	domainCooldown := Rule{Kind: KindCooldown, Cooldown: "72h"}
	repoCooldown := Rule{Scope: Scope{Repository: "ci"}, Kind: KindCooldown, Cooldown: "24h"}
	connCooldown := Rule{Scope: Scope{ExternalConnection: "public:npmjs"}, Kind: KindCooldown, Cooldown: "1h"}
	groupCooldown := Rule{Scope: Scope{PackageGroup: "/npm/acme/*"}, Kind: KindCooldown, Cooldown: "2h"}
	rootGroupCooldown := Rule{Scope: Scope{PackageGroup: "/npm/*"}, Kind: KindCooldown, Cooldown: "5h"}
	freeze := Rule{Scope: Scope{Repository: "release"}, Kind: KindFreeze, FreezeAt: "2026-05-01T00:00:00Z"}
	block := Rule{Kind: KindBlock, Package: "/npm//evil$", Reason: "MAL-2026-1"}
	blockRange := Rule{Kind: KindBlock, Package: "/npm//lib$", Versions: ">=1.2.0,<1.4.0 || =2.0.0", Reason: "hijacked"}
	blockPrefix := Rule{Scope: Scope{Repository: "ci"}, Kind: KindBlock, Package: "/pypi//crypto~", Reason: "typosquats"}
	exemptVersion := Rule{Kind: KindExempt, Package: "/npm//left-pad$", Version: "1.3.0", Reason: "INC-42 fix"}
	exemptEvil := Rule{Kind: KindExempt, Package: "/npm//evil$", Reason: "tries to lift a block"}
	exemptPattern := Rule{Scope: Scope{Repository: "release"}, Kind: KindExempt, Package: "/npm/acme/*", Reason: "our own"}

	npm := func(name, version string, published time.Time) Subject {
		return Subject{Domain: "acme", Repository: "ci", Format: "npm", Name: name, Version: version, PublishedAt: published, ViaConnection: "public:npmjs"}
	}
	old, fresh := now.Add(-100*time.Hour), now.Add(-30*time.Minute)
	with := func(s Subject, f func(*Subject)) Subject { f(&s); return s }

	tests := []struct {
		name    string
		rules   []Rule
		subject Subject
		allowed bool
		rule    *Rule // deciding rule, nil for none
		avail   time.Time
		reason  string
	}{
		{"no rules", nil, npm("x", "1.0.0", fresh), true, nil, time.Time{}, ""},
		{"other domain", []Rule{domainCooldown}, with(npm("x", "1.0.0", fresh), func(s *Subject) { s.Domain = "other" }), true, nil, time.Time{}, ""},
		{"domain cooldown withholds a fresh version", []Rule{domainCooldown}, npm("x", "1.0.0", fresh), false, &domainCooldown, fresh.Add(72 * time.Hour), "cooldown"},
		{"domain cooldown passes an old one", []Rule{domainCooldown}, npm("x", "1.0.0", old), true, nil, time.Time{}, ""},
		{"exactly at the end of the cooldown", []Rule{domainCooldown}, npm("x", "1.0.0", now.Add(-72*time.Hour)), true, nil, time.Time{}, ""},
		{"cooldown ignores local publishes", []Rule{domainCooldown}, with(npm("x", "1.0.0", fresh), func(s *Subject) { s.ViaConnection = "" }), true, nil, time.Time{}, ""},
		{"fail closed: no publish time counts from first sight", []Rule{domainCooldown},
			with(npm("x", "1.0.0", time.Time{}), func(s *Subject) { s.FirstSeen = now.Add(-time.Hour) }), false, &domainCooldown, now.Add(71 * time.Hour), ""},
		{"fail closed: no time at all is brand new", []Rule{domainCooldown}, npm("x", "1.0.0", time.Time{}), false, &domainCooldown, now.Add(72 * time.Hour), ""},
		{"publish time beats first sight", []Rule{domainCooldown},
			with(npm("x", "1.0.0", old), func(s *Subject) { s.FirstSeen = now }), true, nil, time.Time{}, ""},
		{"repository beats domain", []Rule{domainCooldown, repoCooldown}, npm("x", "1.0.0", now.Add(-30*time.Hour)), true, nil, time.Time{}, ""},
		{"repository rule of another repository", []Rule{repoCooldown}, with(npm("x", "1.0.0", fresh), func(s *Subject) { s.Repository = "other" }), true, nil, time.Time{}, ""},
		{"package group beats repository", []Rule{repoCooldown, groupCooldown},
			with(npm("x", "1.0.0", now.Add(-3*time.Hour)), func(s *Subject) { s.Namespace = "acme" }), true, nil, time.Time{}, ""},
		{"the more specific package group wins", []Rule{rootGroupCooldown, groupCooldown},
			with(npm("x", "1.0.0", now.Add(-3*time.Hour)), func(s *Subject) { s.Namespace = "acme" }), true, nil, time.Time{}, ""},
		{"the less specific group applies outside the other", []Rule{rootGroupCooldown, groupCooldown},
			npm("x", "1.0.0", now.Add(-3*time.Hour)), false, &rootGroupCooldown, now.Add(2 * time.Hour), ""},
		{"external connection beats package group", []Rule{groupCooldown, connCooldown},
			with(npm("x", "1.0.0", now.Add(-90*time.Minute)), func(s *Subject) { s.Namespace = "acme" }), true, nil, time.Time{}, ""},
		{"connection rule of another connection", []Rule{connCooldown, domainCooldown},
			with(npm("x", "1.0.0", now.Add(-2*time.Hour)), func(s *Subject) { s.ViaConnection = "public:other" }), false, &domainCooldown, now.Add(70 * time.Hour), ""},
		{"block", []Rule{block}, npm("evil", "1.0.0", old), false, &block, time.Time{}, "blocked: MAL-2026-1"},
		{"block of another package", []Rule{block}, npm("evil2", "1.0.0", old), true, nil, time.Time{}, ""},
		{"block applies to local publishes", []Rule{block}, with(npm("evil", "1.0.0", old), func(s *Subject) { s.ViaConnection = "" }), false, &block, time.Time{}, ""},
		{"exemption does not lift a block", []Rule{block, exemptEvil}, npm("evil", "1.0.0", old), false, &block, time.Time{}, ""},
		{"block range hit", []Rule{blockRange}, npm("lib", "1.3.9", old), false, &blockRange, time.Time{}, ""},
		{"block range lower bound", []Rule{blockRange}, npm("lib", "1.2.0", old), false, &blockRange, time.Time{}, ""},
		{"block range upper bound excluded", []Rule{blockRange}, npm("lib", "1.4.0", old), true, nil, time.Time{}, ""},
		{"block range pre-release below", []Rule{blockRange}, npm("lib", "1.2.0-rc.1", old), true, nil, time.Time{}, ""},
		{"block range alternative", []Rule{blockRange}, npm("lib", "2.0.0", old), false, &blockRange, time.Time{}, ""},
		{"block prefix pattern in its repository", []Rule{blockPrefix},
			Subject{Domain: "acme", Repository: "ci", Format: "pypi", Name: "cryptox", Version: "1"}, false, &blockPrefix, time.Time{}, ""},
		{"block prefix pattern elsewhere", []Rule{blockPrefix},
			Subject{Domain: "acme", Repository: "release", Format: "pypi", Name: "cryptox", Version: "1"}, true, nil, time.Time{}, ""},
		{"block beats an older cooldown decision", []Rule{domainCooldown, block}, npm("evil", "1.0.0", fresh), false, &block, time.Time{}, ""},
		{"exemption of the version lifts the cooldown", []Rule{domainCooldown, exemptVersion}, npm("left-pad", "1.3.0", fresh), true, &exemptVersion, time.Time{}, "exempt: INC-42 fix"},
		{"exemption names another version", []Rule{domainCooldown, exemptVersion}, npm("left-pad", "1.3.1", fresh), false, &domainCooldown, fresh.Add(72 * time.Hour), ""},
		{"exemption of a domain lifts a repository cooldown", []Rule{repoCooldown, exemptVersion}, npm("left-pad", "1.3.0", fresh), true, &exemptVersion, time.Time{}, ""},
		{"exemption not needed: no decision of it", []Rule{exemptVersion}, npm("left-pad", "1.3.0", fresh), true, nil, time.Time{}, ""},
		{"freeze withholds later versions", []Rule{freeze},
			with(npm("x", "1.0.0", now.Add(-24*time.Hour)), func(s *Subject) { s.Repository = "release" }), false, &freeze, time.Time{}, "after the freeze"},
		{"freeze keeps earlier versions", []Rule{freeze},
			with(npm("x", "1.0.0", time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)), func(s *Subject) { s.Repository = "release" }), true, nil, time.Time{}, ""},
		{"freeze applies to local publishes", []Rule{freeze},
			Subject{Domain: "acme", Repository: "release", Format: "npm", Name: "x", Version: "1", FirstSeen: now}, false, &freeze, time.Time{}, ""},
		{"freeze fails closed without times", []Rule{freeze},
			Subject{Domain: "acme", Repository: "release", Format: "npm", Name: "x", Version: "1"}, false, &freeze, time.Time{}, ""},
		{"exemption by pattern lifts a freeze", []Rule{freeze, exemptPattern},
			Subject{Domain: "acme", Repository: "release", Format: "npm", Namespace: "acme", Name: "ui", Version: "1", FirstSeen: now}, true, &exemptPattern, time.Time{}, ""},
		{"freeze before cooldown when both withhold", []Rule{freeze, domainCooldown},
			with(npm("x", "1.0.0", fresh), func(s *Subject) { s.Repository = "release" }), false, &freeze, time.Time{}, ""},
		{"other owner's rules", []Rule{domainCooldown},
			with(npm("x", "1.0.0", fresh), func(s *Subject) { s.DomainOwner = "444455556666" }), true, nil, time.Time{}, ""},
		{"the owner's rules", []Rule{domainCooldown, {Scope: Scope{DomainOwner: "444455556666"}, Kind: KindCooldown, Cooldown: "1h"}},
			with(npm("x", "1.0.0", now.Add(-2*time.Hour)), func(s *Subject) { s.DomainOwner = owner }), false, &domainCooldown, now.Add(70 * time.Hour), ""},
		{"no owner named: every owner's rules", []Rule{{Scope: Scope{DomainOwner: "444455556666"}, Kind: KindCooldown, Cooldown: "1h"}, domainCooldown},
			npm("x", "1.0.0", now.Add(-2*time.Hour)), false, &domainCooldown, now.Add(70 * time.Hour), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var list []Rule
			for _, r := range tc.rules {
				list = append(list, mustRule(t, r))
			}
			set, err := Compile(list, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := set.Evaluate(tc.subject, now)
			wantID := ""
			if tc.rule != nil {
				wantID = mustRule(t, *tc.rule).ID
			}
			if got.Allowed != tc.allowed || got.Rule != wantID || !got.AvailableAt.Equal(tc.avail) || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("Evaluate = %+v; want allowed %v, rule %q, available %v, reason containing %q", got, tc.allowed, wantID, tc.avail, tc.reason)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	bad := []struct {
		name string
		r    Rule
		msg  string
	}{
		{"no kind", Rule{}, "kind '' must be one of"},
		{"bad owner", Rule{Scope: Scope{DomainOwner: "12"}, Kind: KindCooldown, Cooldown: "1h"}, "12-digit"},
		{"bad domain", Rule{Scope: Scope{Domain: "Acme"}, Kind: KindCooldown, Cooldown: "1h"}, "domain 'Acme'"},
		{"two scopes", Rule{Scope: Scope{Repository: "ci", ExternalConnection: "public:npmjs"}, Kind: KindCooldown, Cooldown: "1h"}, "at most one"},
		{"bad repository", Rule{Scope: Scope{Repository: "c i"}, Kind: KindCooldown, Cooldown: "1h"}, "repository 'c i'"},
		{"bad group", Rule{Scope: Scope{PackageGroup: "npm/*"}, Kind: KindCooldown, Cooldown: "1h"}, "packageGroup"},
		{"bad cooldown", Rule{Kind: KindCooldown, Cooldown: "3d"}, "cooldown '3d'"},
		{"negative cooldown", Rule{Kind: KindCooldown, Cooldown: "-1h"}, "positive"},
		{"long cooldown", Rule{Kind: KindCooldown, Cooldown: "9000h"}, "at most 8760h"},
		{"cooldown with package", Rule{Kind: KindCooldown, Cooldown: "1h", Package: "/npm/*"}, "takes no package"},
		{"bad freeze", Rule{Kind: KindFreeze, FreezeAt: "2026-01-01"}, "RFC 3339"},
		{"block without reason", Rule{Kind: KindBlock, Package: "/npm//x$"}, "needs a reason"},
		{"block without package", Rule{Kind: KindBlock, Reason: "r"}, "needs a package"},
		{"block bad pattern", Rule{Kind: KindBlock, Package: "/npm//x", Reason: "r"}, "not a package pattern"},
		{"block bad range", Rule{Kind: KindBlock, Package: "/npm//x$", Versions: ">=", Reason: "r"}, "not a version range"},
		{"block empty alternative", Rule{Kind: KindBlock, Package: "/npm//x$", Versions: "1 ||", Reason: "r"}, "empty"},
		{"block with version", Rule{Kind: KindBlock, Package: "/npm//x$", Version: "1", Reason: "r"}, "takes no version"},
		{"exempt version of a pattern", Rule{Kind: KindExempt, Package: "/npm/*", Version: "1", Reason: "r"}, "must end in '$'"},
		{"exempt with versions", Rule{Kind: KindExempt, Package: "/npm//x$", Versions: "1", Reason: "r"}, "takes no versions"},
		{"reason with newline", Rule{Kind: KindExempt, Package: "/npm//x$", Reason: "a\nb"}, "control characters"},
		{"long reason", Rule{Kind: KindExempt, Package: "/npm//x$", Reason: strings.Repeat("x", MaxReason+1)}, "at most"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			if r.DomainOwner == "" {
				r.DomainOwner = owner
			}
			if r.Domain == "" {
				r.Domain = "acme"
			}
			err := Validate(&r)
			if fault.As(err).Kind != fault.KindValidation || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Validate = %v; want a validation error containing %q", err, tc.msg)
			}
		})
	}

	// Ids are stable: the same rule, or the same scope's cooldown with
	// another duration, keeps its id; another package does not.
	a := mustRule(t, Rule{Kind: KindCooldown, Cooldown: "72h"})
	b := mustRule(t, Rule{Kind: KindCooldown, Cooldown: "24h"})
	c := mustRule(t, Rule{Scope: Scope{Repository: "ci"}, Kind: KindCooldown, Cooldown: "24h"})
	d := mustRule(t, Rule{Kind: KindBlock, Package: "/npm//x$", Reason: "one"})
	e := mustRule(t, Rule{Kind: KindBlock, Package: "/npm//x$", Reason: "two"})
	f := mustRule(t, Rule{Kind: KindBlock, Package: "/npm//y$", Reason: "one"})
	if a.ID != b.ID || a.ID == c.ID || d.ID != e.ID || d.ID == f.ID || !ValidID(a.ID) || a.Cooldown != "72h0m0s" {
		t.Errorf("ids: %s %s %s %s %s %s (cooldown %s)", a.ID, b.ID, c.ID, d.ID, e.ID, f.ID, a.Cooldown)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0}, {"1.0", "1.0.0", 0}, {"1.2.10", "1.2.9", 1}, {"1.0.0-rc.1", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-beta", -1}, {"2.0.0", "10.0.0", -1}, {"1.0.0+build", "1.0.0", 0},
		{"v1.2", "1.2", 0}, {"1.0rc1", "1.0", -1}, {"1.0.post1", "1.0", -1}, {"007", "7", 0},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompileCustomCompare(t *testing.T) {
	r := mustRule(t, Rule{Kind: KindBlock, Package: "/maven/org/x$", Versions: "<2", Reason: "r"})
	calls := 0
	set, err := Compile([]Rule{r}, Options{Compare: func(format, a, b string) int { calls++; return strings.Compare(a, b) }})
	if err != nil {
		t.Fatal(err)
	}
	if d := set.Evaluate(Subject{Domain: "acme", Format: "maven", Namespace: "org", Name: "x", Version: "10"}, now); d.Allowed || calls != 1 {
		t.Errorf("custom order: %+v after %d calls", d, calls)
	}
}

func TestCompileRefusesBrokenRule(t *testing.T) {
	if _, err := Compile([]Rule{{ID: "r-1", Kind: KindCooldown, Cooldown: "soon"}}, Options{}); err == nil {
		t.Error("Compile accepted a cooldown that does not parse")
	}
}

// BenchmarkEvaluate1000 evaluates versions against 1,000 rules of one
// domain: cooldowns on 100 repositories and 100 package groups, 700 blocks
// (600 exact, 100 prefix) and 100 exemptions. "withheld" builds the
// reason of a cooldown; "allowed" is the common case of an old version.
func BenchmarkEvaluate1000(b *testing.B) {
	var list []Rule
	for i := range 100 {
		list = append(list, mustRule(b, Rule{Scope: Scope{Repository: fmt.Sprintf("repo-%d", i)}, Kind: KindCooldown, Cooldown: "48h"}))
		list = append(list, mustRule(b, Rule{Scope: Scope{PackageGroup: fmt.Sprintf("/npm/scope%d/*", i)}, Kind: KindCooldown, Cooldown: "24h"}))
		list = append(list, mustRule(b, Rule{Kind: KindBlock, Package: fmt.Sprintf("/npm//prefix%d~", i), Reason: "r"}))
		list = append(list, mustRule(b, Rule{Kind: KindExempt, Package: fmt.Sprintf("/npm//pkg%d$", i), Version: "1.0.0", Reason: "r"}))
	}
	for i := range 600 {
		list = append(list, mustRule(b, Rule{Kind: KindBlock, Package: fmt.Sprintf("/npm//bad%d$", i), Versions: ">=1.0.0,<2.0.0", Reason: "r"}))
	}
	if len(list) != 1000 {
		b.Fatalf("%d rules", len(list))
	}
	set, err := Compile(list, Options{})
	if err != nil {
		b.Fatal(err)
	}
	sub := Subject{Domain: "acme", Repository: "repo-50", Format: "npm", Namespace: "scope50", Name: "bad7", Version: "2.1.0",
		PublishedAt: now.Add(-time.Hour), ViaConnection: "public:npmjs"}
	b.Run("withheld", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := set.Evaluate(sub, now); d.Allowed {
				b.Fatal("allowed")
			}
		}
	})
	sub.PublishedAt = now.Add(-100 * time.Hour)
	b.Run("allowed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := set.Evaluate(sub, now); !d.Allowed {
				b.Fatal("withheld")
			}
		}
	})
}

func TestAdvisories(t *testing.T) {
	mal := osv.Match{ID: "MAL-2026-1", Malicious: true}
	high := osv.Match{ID: "GHSA-x", Severity: osv.High}
	unknown := osv.Match{ID: "GHSA-u"}
	sub := func(adv ...osv.Match) Subject {
		return Subject{DomainOwner: owner, Domain: "acme", Repository: "ci", Format: "npm", Name: "lib", Version: "1.0.0",
			PublishedAt: now.Add(-1000 * time.Hour), Advisories: adv}
	}
	sevHigh := Rule{Scope: Scope{Repository: "ci"}, Kind: KindSeverity, Severity: "high"}
	sevCritical := Rule{Kind: KindSeverity, Severity: "CRITICAL"}
	pattern := Rule{Kind: KindExempt, Package: "/npm//lib$", Reason: "ours"}
	pinned := Rule{Kind: KindExempt, Package: "/npm//lib$", Version: "1.0.0", Reason: "false positive"}
	tests := []struct {
		name    string
		rules   []Rule
		sub     Subject
		allowed bool
		reason  string
	}{
		{"malicious without rules", nil, sub(mal), false, "malicious: MAL-2026-1"},
		{"vulnerable without a severity rule", nil, sub(high), true, ""},
		{"high at a high threshold", []Rule{sevHigh}, sub(high), false, "vulnerable: GHSA-x (HIGH, blocked from HIGH)"},
		{"the most specific threshold wins", []Rule{sevCritical, sevHigh}, sub(high), false, "blocked from HIGH"},
		{"high under critical", []Rule{sevCritical}, sub(high), true, ""},
		{"unknown severity is not blocked", []Rule{sevHigh}, sub(unknown), true, ""},
		{"a pattern exemption does not lift malware", []Rule{pattern}, sub(mal), false, "malicious"},
		{"an exact version exemption does", []Rule{pattern, pinned}, sub(mal), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var list []Rule
			for _, r := range tc.rules {
				list = append(list, mustRule(t, r))
			}
			set, err := Compile(list, Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := set.Evaluate(tc.sub, now)
			if d.Allowed != tc.allowed || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got %+v, want allowed=%v reason ~%q", d, tc.allowed, tc.reason)
			}
			if !tc.allowed && d.Advisory == "" {
				t.Fatalf("refused by an advisory without naming it: %+v", d)
			}
		})
	}
	if r := (Rule{Scope: Scope{DomainOwner: owner, Domain: "acme"}, Kind: KindSeverity, Severity: "severe"}); Validate(&r) == nil {
		t.Error("an unknown severity was accepted")
	}
	if r := (Rule{Scope: Scope{DomainOwner: owner, Domain: "acme"}, Kind: KindSeverity, Severity: "low", Reason: "x", Package: "/npm/*"}); Validate(&r) == nil {
		t.Error("a severity rule with a package was accepted")
	}
}
