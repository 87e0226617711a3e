package console

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/authz"
	"coffer/internal/store"
)

// TestPackagesTable100k measures the repository page (its packages table)
// over 100,000 packages with two versions each: server time (the console
// handler, in process) and page weight, plain and gzipped, for the first
// page, a page deep in the listing, filtered pages and the largest page
// size; as the account root and as an IAM user decided by the real policy
// engine. It is a measurement, so it runs only when asked:
//
//	COFFER_CONSOLE_100K=1 go test -run PackagesTable100k -v ./internal/console/
func TestPackagesTable100k(t *testing.T) {
	if os.Getenv("COFFER_CONSOLE_100K") == "" {
		t.Skip("set COFFER_CONSOLE_100K=1 to measure the packages table with 100,000 packages")
	}
	const packages = 100_000
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.svc.CreateDomain(ctx, "acme", "", nil); err != nil {
		t.Fatal(err)
	}
	ref := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "acme"}, Repository: "big"}
	if _, err := h.svc.CreateRepository(ctx, ref, "100,000 packages", nil, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var middle store.Package
	err := h.meta.Write(ctx, func(tx store.Tx) error {
		d, err := tx.GetDomain(account, "acme")
		if err != nil {
			return err
		}
		r, err := tx.GetRepository(d.ID, "big")
		if err != nil {
			return err
		}
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range packages {
			p := &store.Package{RepositoryID: r.ID, Format: "generic", Namespace: fmt.Sprintf("ns-%02d", i%100),
				Name: fmt.Sprintf("pkg-%06d", i), Publish: "ALLOW", Upstream: "BLOCK"}
			switch i % 10 {
			case 0:
				p.Format, p.Namespace = "pypi", ""
			case 1, 2, 3:
				p.Format, p.Namespace = "npm", fmt.Sprintf("scope-%02d", i%50)
			}
			if err := tx.CreatePackage(p); err != nil {
				return err
			}
			if i == packages/2 {
				middle = *p
			}
			for j, v := range []string{"1.0.0", "1.1.0"} {
				at := t0.Add(time.Duration(2*i+j) * time.Second)
				if err := tx.CreateVersion(&store.Version{PackageID: p.ID, Version: v, Revision: "r" + v, Status: artifact.StatusPublished,
					OriginType: artifact.OriginInternal, OriginRepository: "big", CreatedTime: at, PublishedTime: at}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d packages and %d versions in %v", packages, 2*packages, time.Since(start).Round(time.Millisecond))

	// The IAM user's console: the real policy engine with a read-only
	// identity policy, so every decision (50 probes of ListPackageVersions
	// per page among them) evaluates policies, tags and the repository policy.
	readOnly, err := policy.ParseWith(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["codeartifact:Describe*","codeartifact:List*","codeartifact:Get*"],"Resource":"*"}]}`, policy.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	real := authz.New(h.svc, fixedIdentity{{Label: "user-policy read-only", Policy: readOnly}}, nil)
	userConsole, err := New(Config{Service: h.svc, Authorizer: real, Lookup: h.keys.lookup, MintToken: h.console.cfg.MintToken,
		Sealer: h.console.cfg.Sealer, Store: h.meta, PublicURL: h.console.cfg.PublicURL})
	if err != nil {
		t.Fatal(err)
	}

	base := "/console/domains/acme/repositories/big/"
	scenarios := []struct{ name, url string }{
		{"first page (50 rows)", base},
		{"page at package 50,000 (50 rows)", base + "?after=" + encodeKey(store.PackageKey(&middle))},
		{"100 rows", base + "?size=100"},
		{"name prefix pkg-04211 (10 rows)", base + "?prefix=pkg-04211"},
		{"format npm + namespace scope-1 (50 rows)", base + "?format=npm&namespace=scope-1"},
		{"publish=BLOCK (no match)", base + "?publish=BLOCK"},
	}
	for _, who := range []struct {
		name string
		c    *Console
		key  string
	}{{"root", h.console, rootKey}, {"IAM user, real policy engine", userConsole, readerKey}} {
		cred, err := h.keys.lookup(ctx, who.key)
		if err != nil {
			t.Fatal(err)
		}
		cookie := &http.Cookie{Name: sessionCookie, Value: who.c.encodeSession(who.c.newSession(who.key, cred))}
		for _, sc := range scenarios {
			const runs = 300
			var times []time.Duration
			var plain, zipped int
			rowCount := 0
			for i := range runs + 20 {
				req := httptest.NewRequest(http.MethodGet, sc.url, nil)
				req.AddCookie(cookie)
				req.Header.Set("Accept-Encoding", "gzip")
				rec := httptest.NewRecorder()
				t0 := time.Now()
				who.c.ServeHTTP(rec, req)
				el := time.Since(t0)
				if rec.Code != 200 {
					t.Fatalf("%s: %d\n%s", sc.url, rec.Code, rec.Body.String())
				}
				if i < 20 { // warm-up
					continue
				}
				times = append(times, el)
				if i == 20 {
					zipped = rec.Body.Len()
					zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(zr)
					plain = len(body)
					rowCount = strings.Count(string(body), `<td class="name">`)
				}
			}
			slices.Sort(times)
			t.Logf("%-30s %-42s rows %3d  %6d B (gzip %5d B)  p50 %7v  p99 %7v", who.name, sc.name, rowCount, plain, zipped,
				times[len(times)/2].Round(10*time.Microsecond), times[len(times)*99/100].Round(10*time.Microsecond))
		}
	}
}

// fixedIdentity gives every principal the same identity policies and no tags.
type fixedIdentity []policy.Labeled

func (f fixedIdentity) IdentityPolicies(context.Context, *auth.Principal) ([]policy.Labeled, error) {
	return f, nil
}

func (fixedIdentity) PrincipalTags(context.Context, *auth.Principal) (map[string]string, error) {
	return nil, nil
}
