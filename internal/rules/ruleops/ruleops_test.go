package ruleops_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/rules/ruleops"
	"coffer/internal/store/sqlite"
)

const account = "123456789012"

// authz allows what its allow set lists ("action resource") and records
// every decision.
type authz struct {
	mu        sync.Mutex
	allow     map[string]bool
	decisions []string
}

func (a *authz) Authorize(_ context.Context, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.decisions = append(a.decisions, action+" "+resource)
	if a.allow[action+" "+resource] {
		return nil
	}
	return fault.AccessDenied("not authorized to perform %s on %s", action, resource)
}

func newService(t *testing.T) (*ruleops.Service, *authz, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: account}, meta, blobs, nil)
	ctx := context.Background()
	if _, err := svc.CreateDomain(ctx, "acme", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "acme"}, Repository: "ci"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	a := &authz{allow: map[string]bool{}}
	var log bytes.Buffer
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &ruleops.Service{Artifacts: svc, Store: meta, Authorizer: a, Audit: audit.New(&log), Now: func() time.Time { return now }}, a, &log
}

func TestSplitVersion(t *testing.T) {
	for _, tc := range []struct{ in, pkg, version string }{
		{"left-pad@1.3.0", "left-pad", "1.3.0"},
		{"@acme/ui@1.2.3", "@acme/ui", "1.2.3"},
		{"@acme/ui", "@acme/ui", ""},
		{"org.example:lib@2.0", "org.example:lib", "2.0"},
		{"/npm//left-pad$@1.3.0", "/npm//left-pad$", "1.3.0"},
		{"/npm/@acme/*", "/npm/@acme/*", ""},
		{"/npm/acme/ui$", "/npm/acme/ui$", ""},
	} {
		if pkg, version := ruleops.SplitVersion(tc.in); pkg != tc.pkg || version != tc.version {
			t.Errorf("SplitVersion(%q) = %q, %q; want %q, %q", tc.in, pkg, version, tc.pkg, tc.version)
		}
	}
}

func TestPackagePattern(t *testing.T) {
	for _, tc := range []struct{ format, in, want string }{
		{"npm", "left-pad", "/npm//left-pad$"},
		{"npm", "@acme/ui", "/npm/acme/ui$"},
		{"maven", "org.example:lib", "/maven/org.example/lib$"},
		{"swift", "acme/kit", "/swift/acme/kit$"},
		{"", "/pypi//requests$", "/pypi//requests$"},
		{"npm", "/pypi//requests$", "/pypi//requests$"},
	} {
		if got, err := ruleops.PackagePattern(tc.format, tc.in); err != nil || got != tc.want {
			t.Errorf("PackagePattern(%q, %q) = %q, %v; want %q", tc.format, tc.in, got, err, tc.want)
		}
	}
	if _, err := ruleops.PackagePattern("", "left-pad"); err != ruleops.ErrNoFormat {
		t.Errorf("a name without a format: %v", err)
	}
}

func TestRuleCanonicalises(t *testing.T) {
	s, _, _ := newService(t)
	r, err := s.Rule(ruleops.Input{Domain: "acme", PackageGroup: "/npm/*", Exempt: "/pypi//Requests_Lib$", Version: "2.0", Reason: "INC-7"})
	if err != nil {
		t.Fatal(err)
	}
	if r.DomainOwner != account || r.Package != "/pypi//requests-lib$" || r.Kind != rules.KindExempt || r.PackageGroup != "/npm/*" || !rules.ValidID(r.ID) {
		t.Fatalf("rule %+v", r)
	}
	for _, tc := range []struct {
		in   ruleops.Input
		want string
	}{
		{ruleops.Input{Domain: "acme"}, "exactly one of"},
		{ruleops.Input{Cooldown: "1h"}, "domain is required"},
		{ruleops.Input{Domain: "acme", Cooldown: "1h", FreezeAt: "2026-01-01T00:00:00Z"}, "has 2"},
		{ruleops.Input{Domain: "acme", Block: "/nope/*", Reason: "r"}, "not a package format"},
		{ruleops.Input{Domain: "acme", Cooldown: "1h", ExternalConnection: "public:nowhere"}, "externalConnection"},
		{ruleops.Input{Domain: "acme", Cooldown: "1h", PackageGroup: "npm"}, "packageGroup"},
	} {
		if _, err := s.Rule(tc.in); fault.KindOf(err) != fault.KindValidation || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Rule(%+v): %v; want a validation error with %q", tc.in, err, tc.want)
		}
	}
}

func TestPutListDelete(t *testing.T) {
	s, a, log := newService(t)
	domainARN := "arn:aws:codeartifact:us-east-1:" + account + ":domain/acme"
	repoARN := "arn:aws:codeartifact:us-east-1:" + account + ":repository/acme/ci"
	if s.Resource("", "acme", "") != domainARN || s.Resource("", "acme", "ci") != repoARN {
		t.Fatalf("resources %s %s", s.Resource("", "acme", ""), s.Resource("", "acme", "ci"))
	}
	p := &auth.Principal{ARN: "arn:aws:iam::" + account + ":user/dev", Account: account}
	ctx := auth.WithRequestInfo(auth.WithPrincipal(context.Background(), p), auth.RequestInfo{RequestID: "req-1", SourceIP: "192.0.2.1"})

	// The repository's rule is decided on the repository.
	a.allow[ruleops.ActionPut+" "+repoARN] = true
	cool, err := s.Put(ctx, ruleops.Input{Domain: "acme", Repository: "ci", Cooldown: "72h"})
	if err != nil || cool.CreatedBy != p.ARN || !cool.CreatedAt.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) || cool.Cooldown != "72h0m0s" {
		t.Fatalf("put: %+v %v", cool, err)
	}
	if _, err := s.Put(ctx, ruleops.Input{Domain: "acme", Block: "/npm//x$", Reason: "r"}); fault.KindOf(err) != fault.KindAccessDenied {
		t.Fatalf("put on the domain without permission: %v", err)
	}
	a.allow[ruleops.ActionPut+" "+domainARN] = true
	block, err := s.Put(ctx, ruleops.Input{Domain: "acme", Block: "/npm//x$", Versions: "<2.0.0", Reason: "MAL-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   ruleops.Input
		kind fault.Kind
	}{
		{ruleops.Input{Domain: "nope", Cooldown: "1h"}, fault.KindNotFound},
		{ruleops.Input{Domain: "acme", Repository: "nope", Cooldown: "1h"}, fault.KindNotFound},
	} {
		a.allow[ruleops.ActionPut+" "+s.Resource("", tc.in.Domain, tc.in.Repository)] = true
		if _, err := s.Put(ctx, tc.in); fault.KindOf(err) != tc.kind {
			t.Errorf("put %+v: %v", tc.in, err)
		}
	}

	if _, err := s.List(ctx, rules.Scope{Domain: "acme"}); fault.KindOf(err) != fault.KindAccessDenied {
		t.Fatalf("list without permission: %v", err)
	}
	a.allow[ruleops.ActionList+" "+repoARN] = true
	if got, err := s.List(ctx, rules.Scope{Domain: "acme", Repository: "ci"}); err != nil || len(got) != 1 || got[0].ID != cool.ID {
		t.Fatalf("list of the repository: %v %v", got, err)
	}
	a.allow[ruleops.ActionList+" "+domainARN] = true
	if got, err := s.List(ctx, rules.Scope{Domain: "acme"}); err != nil || len(got) != 2 {
		t.Fatalf("list: %v %v", got, err)
	}
	if got, err := s.List(ctx, rules.Scope{Domain: "other"}); err == nil {
		t.Fatalf("list of another domain: %v", got)
	}

	// Delete: decided on the rule's own resource; NotFound only for a caller allowed to delete.
	if _, err := s.Delete(ctx, "", "acme", cool.ID); fault.KindOf(err) != fault.KindAccessDenied {
		t.Fatalf("delete without permission: %v", err)
	}
	a.allow[ruleops.ActionDelete+" "+repoARN] = true
	if got, err := s.Delete(ctx, "", "acme", cool.ID); err != nil || got.ID != cool.ID {
		t.Fatalf("delete: %v %v", got, err)
	}
	if _, err := s.Delete(ctx, "", "acme", cool.ID); fault.KindOf(err) != fault.KindAccessDenied {
		t.Fatalf("second delete without permission on the domain: %v", err)
	}
	a.allow[ruleops.ActionDelete+" "+domainARN] = true
	if _, err := s.Delete(ctx, "", "acme", cool.ID); fault.KindOf(err) != fault.KindNotFound {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Delete(ctx, "", "acme", "nope"); fault.KindOf(err) != fault.KindValidation {
		t.Fatalf("malformed id: %v", err)
	}

	// Changes are recorded with what changed; refusals are the authorizer's to record.
	out := log.String()
	for _, want := range []string{
		`"requestId":"req-1","principal":"` + p.ARN + `","sourceIp":"192.0.2.1","action":"coffer:PutRule","resource":"` + domainARN + `/rule/` + cool.ID + `","decision":"allow","reason":"cooldown repository ci: 72h0m0s"`,
		`"action":"coffer:PutRule","resource":"` + domainARN + `/rule/` + block.ID + `","decision":"allow","reason":"block domain: /npm//x$ \u003c2.0.0 (reason: \"MAL-1\")"`,
		`"action":"coffer:DeleteRule","resource":"` + domainARN + `/rule/` + cool.ID + `"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit log lacks %s\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("%d audit records, want 3 (two puts, one delete)\n%s", n, out)
	}
}
