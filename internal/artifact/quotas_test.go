package artifact_test

import (
	"errors"
	"fmt"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

func wantQuota(t *testing.T, what string, err error) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.KindQuotaExceeded {
		t.Fatalf("%s: %v, want a quota error", what, err)
	}
}

// TestCountQuotas: one over a quota fails (the fixture's domain counts),
// a duplicate is still a conflict at the quota, and a deletion makes room.
func TestCountQuotas(t *testing.T) {
	f := newFixture(t, artifact.Config{Region: "us-east-1", AccountID: "123456789012",
		MaxDomains: 2, MaxRepositoriesPerDomain: 3, MaxPackageGroupsPerDomain: 2})
	if _, err := f.svc.CreateDomain(ctx, "second", "", nil); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CreateDomain(ctx, "third", "", nil)
	wantQuota(t, "third domain", err)
	if _, err := f.svc.CreateDomain(ctx, "second", "", nil); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("a duplicate at the quota: %v, want a conflict", err)
	}
	if _, err := f.svc.DescribeDomain(ctx, artifact.DomainRef{Name: "third"}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("the refused domain exists: %v", err)
	}
	if _, err := f.svc.DeleteDomain(ctx, artifact.DomainRef{Name: "second"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateDomain(ctx, "third", "", nil); err != nil {
		t.Fatalf("after a deletion: %v", err)
	}

	for i := range 3 {
		if _, err := f.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: dom, Repository: fmt.Sprint("r", i)}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: dom, Repository: "r3"}, "", nil, nil)
	wantQuota(t, "fourth repository", err)
	if _, err := f.svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "third"}, Repository: "r3"}, "", nil, nil); err != nil {
		t.Fatalf("the quota is per domain: %v", err)
	}

	// The root group /* (stored once its origin configuration changed)
	// does not count.
	if _, err := f.svc.CreatePackageGroup(ctx, dom, "/npm/*", "", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreatePackageGroup(ctx, dom, "/pypi/*", "", "", nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreatePackageGroup(ctx, dom, "/maven/*", "", "", nil)
	wantQuota(t, "third package group", err)
}

func TestCountQuotasOff(t *testing.T) {
	f := newFixture(t) // zero quotas: none
	for i := range 12 {
		if _, err := f.svc.CreateDomain(ctx, fmt.Sprint("d", i), "", nil); err != nil {
			t.Fatal(err)
		}
	}
}
