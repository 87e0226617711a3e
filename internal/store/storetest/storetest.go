// Package storetest is the conformance suite of the metadata store: every
// store.Store driver runs it from its own tests, and must pass it, so that the
// artifact service can rely on one behaviour whatever the backend.
package storetest

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call and
// arrange for it to be closed with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Settings", testSettings},
		{"Domains", testDomains},
		{"DomainList", testDomainList},
		{"DomainUsage", testDomainUsage},
		{"Repositories", testRepositories},
		{"RepositoryList", testRepositoryList},
		{"Downstreams", testDownstreams},
		{"Packages", testPackages},
		{"PackageList", testPackageList},
		{"PackageChangeSeq", testPackageChangeSeq},
		{"Versions", testVersions},
		{"VersionList", testVersionList},
		{"Assets", testAssets},
		{"Blobs", testBlobs},
		{"Cascades", testCascades},
		{"IDsNotReused", testIDsNotReused},
		{"Tags", testTags},
		{"Events", testEvents},
		{"Downloads", testDownloads},
		{"PackageGroups", testPackageGroups}, {"PackageGroupList", testPackageGroupList}, {"AllowedRepositories", testAllowedRepositories}, {"DomainPackages", testDomainPackages},
		{"AccessKeys", testAccessKeys},
		{"ExpiredAccessKeys", testExpiredAccessKeys},
		{"IAMUsers", testIAMUsers},
		{"IAMGroups", testIAMGroups},
		{"IAMMembership", testIAMMembership},
		{"IAMRoles", testIAMRoles},
		{"IAMPolicies", testIAMPolicies},
		{"IAMPolicyVersions", testIAMPolicyVersions},
		{"IAMAttachments", testIAMAttachments},
		{"IAMInlinePolicies", testIAMInlinePolicies},
		{"IAMDeleteAll", testIAMDeleteAll},
		{"IAMLists", testIAMLists},
		{"Rollback", testRollback},
		{"Generation", testGeneration},
		{"Panic", testPanic},
		{"ConflictKeepsTransaction", testConflictKeepsTransaction},
		{"ReadOnly", testReadOnly},
		{"Cancelled", testCancelled},
		{"Snapshot", testSnapshot},
		{"LongWriteDoesNotBlockRead", testLongWriteDoesNotBlockRead},
		{"ConcurrentWrites", testConcurrentWrites},
		{"SerialisedWrites", testSerialisedWrites},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// mustWrite runs fn in a write transaction and fails the test on an error.
func mustWrite(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Write(t.Context(), fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// get runs fn in a read transaction and returns its value, failing the test
// on an error.
func get[T any](t *testing.T, s store.Store, fn func(store.Tx) (T, error)) T {
	t.Helper()
	var v T
	err := s.Read(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return v
}

// readErr runs fn in a read transaction and returns its error.
func readErr(t *testing.T, s store.Store, fn func(store.Tx) error) error {
	t.Helper()
	return s.Read(t.Context(), fn)
}

// writeErr runs fn in a write transaction and returns its error.
func writeErr(t *testing.T, s store.Store, fn func(store.Tx) error) error {
	t.Helper()
	return s.Write(t.Context(), fn)
}

// discard adapts a getter to a func returning only its error.
func discard[T any](v T, err error) error { return err }

// wantErr checks that err is of the category target (fault.ErrNotFound,
// fault.ErrConflict).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, fault.ErrNotFound)
}

func wantConflict(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, fault.ErrConflict)
}

// check compares got and want with reflect.DeepEqual.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// at is a fixed instant plus i seconds, with nanoseconds so that precision
// loss shows.
func at(i int) time.Time {
	return time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC).Add(time.Duration(i) * time.Second)
}

// The normalisers make records comparable with DeepEqual across drivers: an
// empty slice equals nil, and times compare in UTC.

func normDomain(d store.Domain) store.Domain {
	d.CreatedTime = d.CreatedTime.UTC()
	return d
}

func normRepo(r store.Repository) store.Repository {
	r.CreatedTime = r.CreatedTime.UTC()
	if len(r.Upstreams) == 0 {
		r.Upstreams = nil
	}
	if len(r.ExternalConnections) == 0 {
		r.ExternalConnections = nil
	}
	return r
}

func normVersion(v store.Version) store.Version {
	v.CreatedTime = v.CreatedTime.UTC()
	v.PublishedTime = v.PublishedTime.UTC()
	v.UpstreamPublishedTime = v.UpstreamPublishedTime.UTC()
	if len(v.Licenses) == 0 {
		v.Licenses = nil
	}
	if len(v.Dependencies) == 0 {
		v.Dependencies = nil
	}
	return v
}

func normAsset(a store.Asset) store.Asset {
	a.CreatedTime = a.CreatedTime.UTC()
	return a
}

func normKey(k store.AccessKey) store.AccessKey {
	k.CreatedTime = k.CreatedTime.UTC()
	k.Expiration = k.Expiration.UTC()
	k.LastUsed = k.LastUsed.UTC()
	if len(k.SecretEncrypted) == 0 {
		k.SecretEncrypted = nil
	}
	if len(k.SessionToken) == 0 {
		k.SessionToken = nil
	}
	return k
}

func normAll[T any](xs []T, norm func(T) T) []T {
	var out []T
	for _, x := range xs {
		out = append(out, norm(x))
	}
	return out
}

// pageAll lists every record page by page, each page in its own read
// transaction as a client paging through a listing would, until a page comes
// back empty; it checks each page against the limit.
func pageAll[T any](t *testing.T, s store.Store, limit int, list func(store.Tx, store.Page) ([]T, error), key func(*T) string) []T {
	t.Helper()
	var all []T
	after := ""
	for range 10000 {
		page := get(t, s, func(tx store.Tx) ([]T, error) { return list(tx, store.Page{After: after, Limit: limit}) })
		if limit > 0 && len(page) > limit {
			t.Fatalf("page of %d records for a limit of %d", len(page), limit)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = key(&page[len(page)-1])
	}
	t.Fatalf("pagination does not end")
	return nil
}

// Fixtures.

func addDomain(t *testing.T, s store.Store, owner, name string) *store.Domain {
	t.Helper()
	d := &store.Domain{Owner: owner, Name: name, Status: "Active",
		EncryptionKey: "arn:aws:kms:us-east-1:" + owner + ":key/k", CreatedTime: at(0)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateDomain(d) })
	return d
}

func addRepo(t *testing.T, s store.Store, domainID int64, name string, upstreams ...string) *store.Repository {
	t.Helper()
	r := &store.Repository{DomainID: domainID, Name: name, AdministratorAccount: "111122223333",
		CreatedTime: at(1), Upstreams: upstreams}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateRepository(r) })
	return r
}

func addPackage(t *testing.T, s store.Store, repoID int64, format, namespace, name string) *store.Package {
	t.Helper()
	p := &store.Package{RepositoryID: repoID, Format: format, Namespace: namespace, Name: name,
		Publish: "ALLOW", Upstream: "ALLOW"}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreatePackage(p) })
	return p
}

func addVersion(t *testing.T, s store.Store, pkgID int64, version string) *store.Version {
	t.Helper()
	v := &store.Version{PackageID: pkgID, Version: version, Revision: "r1", Status: "Published",
		OriginType: "INTERNAL", CreatedTime: at(2), PublishedTime: at(3)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.CreateVersion(v) })
	return v
}

func putAsset(t *testing.T, s store.Store, domainID, versionID int64, name string, b store.Blob) *store.Asset {
	t.Helper()
	a := &store.Asset{VersionID: versionID, Name: name, Blob: b, CreatedTime: at(4)}
	mustWrite(t, s, func(tx store.Tx) error { return tx.PutAsset(domainID, a) })
	return a
}

// makeBlob returns the digests of content, as the blob store computes them.
func makeBlob(content string) store.Blob {
	s256 := sha256.Sum256([]byte(content))
	s512 := sha512.Sum512([]byte(content))
	s1 := sha1.Sum([]byte(content))
	m5 := md5.Sum([]byte(content))
	return store.Blob{SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:]),
		SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m5[:]), Size: int64(len(content))}
}

// contentOf returns a distinct content of n bytes.
func contentOf(seed string, n int) string {
	s := fmt.Sprintf("%s:%0*d", seed, max(n-len(seed)-1, 0), 0)
	return s[:n]
}

// testGeneration: every ended write transaction moves the generation (so
// that nothing cached at the old one is served), reads never do.
func testGeneration(t *testing.T, s store.Store) {
	ctx := context.Background()
	g0 := s.Generation()
	if err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.ListDomains(store.Page{Limit: 1}); return err }); err != nil {
		t.Fatal(err)
	}
	if g := s.Generation(); g != g0 {
		t.Fatalf("a read moved the generation from %d to %d", g0, g)
	}
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.CreateDomain(&store.Domain{Name: "gen", Owner: "111122223333"}) }); err != nil {
		t.Fatal(err)
	}
	g1 := s.Generation()
	if g1 <= g0 {
		t.Fatalf("a committed write left the generation at %d", g1)
	}
	_ = s.Write(ctx, func(tx store.Tx) error { return errors.New("roll back") })
	if g := s.Generation(); g <= g1 {
		t.Fatalf("a rolled-back write left the generation at %d", g)
	}
}
