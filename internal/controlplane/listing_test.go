package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/artifact"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/format/pypi"
	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// tokenFor is the nextToken that op answers with when its request carried
// query (parameters the operation reads) and the listing continues after next.
func tokenFor(op, query, next string) string {
	q, err := url.ParseQuery(query)
	if err != nil {
		panic(err)
	}
	in := &input{q: q, op: op}
	for k := range q {
		in.raw(k)
	}
	return in.nextToken(next)
}

// newStoreService is a Service over SQLite and filesystem blobs.
func newStoreService(t *testing.T) *artifact.Service {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return artifact.New(artifact.Config{Region: testRegion, AccountID: testAccount}, meta, blobs, slog.New(slog.DiscardHandler))
}

// putWheel publishes a pure-Python wheel as the pypi plug-in does: the
// version's metadata, dependencies included, comes from the wheel's METADATA.
func putWheel(t *testing.T, svc *artifact.Service, repo artifact.RepoRef, d pypitest.Dist) {
	t.Helper()
	m, err := pypi.ParseCoreMetadata(d.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	name, wheel := d.Wheel()
	ref := artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: repo, Format: artifact.FormatPypi, Package: d.Name}, Version: d.Version}
	_, err = svc.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: name, NewStatus: artifact.StatusPublished,
		NewVersion: func(v *store.Version) { m.Apply(v, false) }}, bytes.NewReader(wheel))
	if err != nil {
		t.Fatal(err)
	}
}

func TestSDKDomainDetails(t *testing.T) {
	client := newSDKClient(t, New(Config{PublicURL: "http://x"}, newStoreService(t), AllowAll{}, nil, nil))
	ctx := context.Background()
	keyARN := regexp.MustCompile(`^arn:aws:kms:` + testRegion + `:` + testAccount + `:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	const bucket = "arn:aws:s3:::coffer-assets-" + testAccount + "-" + testRegion
	check := func(what string, d *types.DomainDescription, key string) {
		t.Helper()
		if d == nil || aws.ToString(d.S3BucketArn) != bucket || aws.ToString(d.EncryptionKey) != key {
			t.Errorf("%s: %+v; want s3BucketArn %s, encryptionKey %s", what, d, bucket, key)
		}
	}

	created, err := client.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	def := aws.ToString(created.Domain.EncryptionKey)
	if !keyARN.MatchString(def) {
		t.Fatalf("default encryptionKey %q is not a key ARN", def)
	}
	check("CreateDomain", created.Domain, def)
	described, err := client.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	check("DescribeDomain", described.Domain, def)

	given := "arn:aws:kms:" + testRegion + ":444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyed, err := client.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("keyed"), EncryptionKey: aws.String(given)})
	if err != nil {
		t.Fatal(err)
	}
	check("CreateDomain with a key ARN", keyed.Domain, given)

	list, err := client.ListDomains(ctx, &codeartifact.ListDomainsInput{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, d := range list.Domains {
		keys[aws.ToString(d.Name)] = aws.ToString(d.EncryptionKey)
	}
	if keys["plain"] != def || keys["keyed"] != given {
		t.Errorf("ListDomains keys %v", keys)
	}

	_, err = client.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("bad"), EncryptionKey: aws.String("my-key")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || ve.Reason != types.ValidationExceptionReasonEncryptionKeyError {
		t.Errorf("bad key: %v", err)
	}

	deleted, err := client.DeleteDomain(ctx, &codeartifact.DeleteDomainInput{Domain: aws.String("keyed")})
	if err != nil {
		t.Fatal(err)
	}
	check("DeleteDomain", deleted.Domain, given)
}

func TestSDKPyPIDependencyType(t *testing.T) {
	svc := newStoreService(t)
	client := newSDKClient(t, New(Config{PublicURL: "http://x"}, svc, AllowAll{}, nil, nil))
	ctx := context.Background()
	repo := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "d1"}, Repository: "r1"}
	if _, err := svc.CreateDomain(ctx, "d1", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRepository(ctx, repo, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	putWheel(t, svc, repo, pypitest.Dist{Name: "app", Version: "1.0", Requires: []string{"requests>=2", `pytest; extra == "test"`}})
	out, err := client.ListPackageVersionDependencies(ctx, &codeartifact.ListPackageVersionDependenciesInput{Domain: aws.String("d1"),
		Repository: aws.String("r1"), Format: types.PackageFormatPypi, Package: aws.String("app"), PackageVersion: aws.String("1.0")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range out.Dependencies {
		got = append(got, aws.ToString(d.Package)+" "+aws.ToString(d.DependencyType)+" "+aws.ToString(d.VersionRequirement))
	}
	want := []string{"requests Requires-Dist >=2", `pytest Requires-Dist ; extra == "test"`}
	if !slices.Equal(got, want) {
		t.Errorf("dependencies %q, want %q", got, want)
	}
}

// TestSDKPagination pages through every paginated operation with the SDK's
// paginators, one or two items a page, and presents tokens to the wrong
// operation or parameters.
func TestSDKPagination(t *testing.T) {
	svc := newStoreService(t)
	client := newSDKClient(t, New(Config{PublicURL: "http://x"}, svc, AllowAll{}, nil, nil))
	ctx := context.Background()
	a, b := aws.String("dom-a"), aws.String("dom-b")
	for _, d := range []string{"dom-a", "dom-b"} {
		if _, err := svc.CreateDomain(ctx, d, "", nil); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if _, err := svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Name: d}, Repository: fmt.Sprintf("r%d", i)}, "", nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	r1 := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "dom-a"}, Repository: "r1"}
	for _, d := range []pypitest.Dist{{Name: "pkg-a", Version: "1.0"}, {Name: "pkg-a", Version: "2.0"}, {Name: "pkg-a", Version: "3.0"},
		{Name: "pkg-b", Version: "1.0"}, {Name: "pkg-c", Version: "1.0"}} {
		putWheel(t, svc, r1, d)
	}
	sdist, content := pypitest.Dist{Name: "pkg-a", Version: "1.0"}.Sdist()
	if _, err := svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: r1,
		Format: artifact.FormatPypi, Package: "pkg-a"}, Version: "1.0"}, Asset: sdist}, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"/npm/*", "/npm/x/*", "/npm/y/*", "/npm/z/*"} {
		if _, err := svc.CreatePackageGroup(ctx, artifact.DomainRef{Name: "dom-a"}, g, "", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	var allowed []types.PackageGroupAllowedRepository
	for _, r := range []string{"r1", "r2", "r3"} {
		allowed = append(allowed, types.PackageGroupAllowedRepository{RepositoryName: aws.String(r), OriginRestrictionType: types.PackageGroupOriginRestrictionTypePublish})
	}
	if _, err := client.UpdatePackageGroupOriginConfiguration(ctx, &codeartifact.UpdatePackageGroupOriginConfigurationInput{Domain: a,
		PackageGroup: aws.String("/npm/x/*"), AddAllowedRepositories: allowed,
		Restrictions: map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": types.PackageGroupOriginRestrictionModeAllowSpecificRepositories}}); err != nil {
		t.Fatal(err)
	}

	// check runs a paginator to its end: want items in at least two pages.
	n := aws.Int32(1)
	check := func(op string, want int) func(got, pages int, err error) {
		return func(got, pages int, err error) {
			t.Helper()
			if err != nil || got != want || pages < 2 {
				t.Errorf("%s: %d items in %d pages, %v; want %d", op, got, pages, err, want)
			}
		}
	}
	check("ListDomains", 2)(pageAll(codeartifact.NewListDomainsPaginator(client, &codeartifact.ListDomainsInput{MaxResults: n}),
		func(o *codeartifact.ListDomainsOutput) int { return len(o.Domains) }))
	check("ListRepositories", 6)(pageAll(codeartifact.NewListRepositoriesPaginator(client, &codeartifact.ListRepositoriesInput{MaxResults: aws.Int32(4)}),
		func(o *codeartifact.ListRepositoriesOutput) int { return len(o.Repositories) }))
	check("ListRepositoriesInDomain", 3)(pageAll(codeartifact.NewListRepositoriesInDomainPaginator(client, &codeartifact.ListRepositoriesInDomainInput{Domain: a, MaxResults: aws.Int32(2)}),
		func(o *codeartifact.ListRepositoriesInDomainOutput) int { return len(o.Repositories) }))
	check("ListPackages", 3)(pageAll(codeartifact.NewListPackagesPaginator(client, &codeartifact.ListPackagesInput{Domain: a, Repository: aws.String("r1"), Format: types.PackageFormatPypi, MaxResults: n}),
		func(o *codeartifact.ListPackagesOutput) int { return len(o.Packages) }))
	check("ListPackageVersions", 3)(pageAll(codeartifact.NewListPackageVersionsPaginator(client, &codeartifact.ListPackageVersionsInput{Domain: a, Repository: aws.String("r1"),
		Format: types.PackageFormatPypi, Package: aws.String("pkg-a"), MaxResults: n}),
		func(o *codeartifact.ListPackageVersionsOutput) int { return len(o.Versions) }))
	check("ListPackageVersionAssets", 2)(pageAll(codeartifact.NewListPackageVersionAssetsPaginator(client, &codeartifact.ListPackageVersionAssetsInput{Domain: a, Repository: aws.String("r1"),
		Format: types.PackageFormatPypi, Package: aws.String("pkg-a"), PackageVersion: aws.String("1.0"), MaxResults: n}),
		func(o *codeartifact.ListPackageVersionAssetsOutput) int { return len(o.Assets) }))
	check("ListPackageGroups", 5)(pageAll(codeartifact.NewListPackageGroupsPaginator(client, &codeartifact.ListPackageGroupsInput{Domain: a, MaxResults: aws.Int32(2)}),
		func(o *codeartifact.ListPackageGroupsOutput) int { return len(o.PackageGroups) }))
	check("ListSubPackageGroups", 3)(pageAll(codeartifact.NewListSubPackageGroupsPaginator(client, &codeartifact.ListSubPackageGroupsInput{Domain: a, PackageGroup: aws.String("/npm/*"), MaxResults: n}),
		func(o *codeartifact.ListSubPackageGroupsOutput) int { return len(o.PackageGroups) }))
	check("ListAssociatedPackages", 3)(pageAll(codeartifact.NewListAssociatedPackagesPaginator(client, &codeartifact.ListAssociatedPackagesInput{Domain: a, PackageGroup: aws.String("/*"), MaxResults: n}),
		func(o *codeartifact.ListAssociatedPackagesOutput) int { return len(o.Packages) }))
	check("ListAllowedRepositoriesForGroup", 3)(pageAll(codeartifact.NewListAllowedRepositoriesForGroupPaginator(client, &codeartifact.ListAllowedRepositoriesForGroupInput{Domain: a,
		PackageGroup: aws.String("/npm/x/*"), OriginRestrictionType: types.PackageGroupOriginRestrictionTypePublish, MaxResults: n}),
		func(o *codeartifact.ListAllowedRepositoriesForGroupOutput) int { return len(o.AllowedRepositories) }))

	// Tokens presented elsewhere.
	pkgs, err := client.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: a, Repository: aws.String("r1"), MaxResults: n})
	if err != nil || pkgs.NextToken == nil {
		t.Fatalf("ListPackages: %+v, %v", pkgs, err)
	}
	repos, err := client.ListRepositoriesInDomain(ctx, &codeartifact.ListRepositoriesInDomainInput{Domain: a, MaxResults: n})
	if err != nil || repos.NextToken == nil {
		t.Fatalf("ListRepositoriesInDomain: %+v, %v", repos, err)
	}
	refused := map[string]func() error{
		"ListPackages token on ListPackageVersions": func() error {
			_, err := client.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: a, Repository: aws.String("r1"),
				Format: types.PackageFormatPypi, Package: aws.String("pkg-a"), NextToken: pkgs.NextToken})
			return err
		},
		"ListPackages token with a filter added": func() error {
			_, err := client.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: a, Repository: aws.String("r1"), Format: types.PackageFormatPypi, NextToken: pkgs.NextToken})
			return err
		},
		"ListPackages token for another repository": func() error {
			_, err := client.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: a, Repository: aws.String("r2"), NextToken: pkgs.NextToken})
			return err
		},
		"domain A token for domain B": func() error {
			_, err := client.ListRepositoriesInDomain(ctx, &codeartifact.ListRepositoriesInDomainInput{Domain: b, NextToken: repos.NextToken})
			return err
		},
		"ListRepositoriesInDomain token on ListPackageGroups": func() error {
			_, err := client.ListPackageGroups(ctx, &codeartifact.ListPackageGroupsInput{Domain: a, NextToken: repos.NextToken})
			return err
		},
		"ListRepositoriesInDomain token on ListDomains": func() error {
			_, err := client.ListDomains(ctx, &codeartifact.ListDomainsInput{NextToken: repos.NextToken})
			return err
		},
	}
	for name, call := range refused {
		var ve *types.ValidationException
		if err := call(); !errors.As(err, &ve) || ve.Reason != types.ValidationExceptionReasonFieldValidationFailed {
			t.Errorf("%s: %v, want a ValidationException", name, err)
		}
	}
	// The same token with the same parameters (and another page size) goes on.
	more, err := client.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: a, Repository: aws.String("r1"), MaxResults: aws.Int32(10), NextToken: pkgs.NextToken})
	if err != nil || len(more.Packages) != 2 {
		t.Errorf("continuing ListPackages: %+v, %v", more, err)
	}
}

// pager is what the SDK's paginators have in common.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*codeartifact.Options)) (O, error)
}

// pageAll runs p to its end, counting items (n of each page) and pages.
func pageAll[O any](p pager[O], n func(O) int) (items, pages int, err error) {
	for p.HasMorePages() {
		o, err := p.NextPage(context.Background())
		if err != nil {
			return items, pages, err
		}
		items += n(o)
		pages++
	}
	return items, pages, nil
}

// TestErrorResourceTypes walks error paths that name a resource: the
// resourceType is one of the model's ResourceType values, and absent for a
// package group, which the enum lacks.
func TestErrorResourceTypes(t *testing.T) {
	svc := newStoreService(t)
	h := withRoot(New(Config{PublicURL: "http://x"}, svc, AllowAll{}, nil, nil))
	ctx := context.Background()
	if _, err := svc.CreateDomain(ctx, "d1", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "d1"}, Repository: "r1"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreatePackageGroup(ctx, artifact.DomainRef{Name: "d1"}, "/npm/*", "", "", nil); err != nil {
		t.Fatal(err)
	}
	manyTags := func(from, n int) string {
		var tags []map[string]string
		for i := from; i < from+n; i++ {
			tags = append(tags, map[string]string{"key": fmt.Sprintf("k%d", i), "value": ""})
		}
		b, _ := json.Marshal(map[string]any{"tags": tags})
		return string(b)
	}
	groupARN := url.QueryEscape(svc.PackageGroupARN(testAccount, "d1", "/npm/*"))
	domainARN := url.QueryEscape(svc.DomainARN(testAccount, "d1"))
	for _, arn := range []string{groupARN, domainARN} {
		if rec := call(t, h, "POST", "/v1/tag?resourceArn="+arn, manyTags(0, 150)); rec.Code != http.StatusOK {
			t.Fatalf("tagging: %d %s", rec.Code, rec.Body)
		}
	}
	cases := []struct {
		name, method, target, body string
		status                     int
		resourceType               string // "" = absent
	}{
		{"domain not found", "GET", "/v1/domain?domain=nope", "", 404, "domain"},
		{"domain exists", "POST", "/v1/domain?domain=d1", "", 409, "domain"},
		{"domain not empty", "DELETE", "/v1/domain?domain=d1", "", 409, "domain"},
		{"repository not found", "GET", "/v1/repository?domain=d1&repository=nope", "", 404, "repository"},
		{"repository exists", "POST", "/v1/repository?domain=d1&repository=r1", "", 409, "repository"},
		{"no repository policy", "GET", "/v1/repository/permissions/policy?domain=d1&repository=r1", "", 404, "repository"},
		{"no domain policy", "GET", "/v1/domain/permissions/policy?domain=d1", "", 404, "domain"},
		{"package not found", "GET", "/v1/package?domain=d1&repository=r1&format=npm&package=nope", "", 404, "package"},
		{"package group not found", "GET", "/v1/package-group?domain=d1&package-group=/npm/nope/*", "", 404, ""},
		{"package group exists", "POST", "/v1/package-group?domain=d1", `{"packageGroup":"/npm/*"}`, 409, ""},
		{"sub-groups of a missing group", "POST", "/v1/package-groups/sub-groups?domain=d1&package-group=/pypi/*", "", 404, ""},
		{"package group tag quota", "POST", "/v1/tag?resourceArn=" + groupARN, manyTags(150, 60), 402, ""},
		{"domain tag quota", "POST", "/v1/tag?resourceArn=" + domainARN, manyTags(150, 60), 402, "domain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := call(t, h, tc.method, tc.target, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			body := decodeError(t, rec)
			got, present := body["resourceType"]
			if tc.resourceType == "" && present {
				t.Errorf("resourceType %v, want none", got)
			}
			if tc.resourceType != "" && got != tc.resourceType {
				t.Errorf("resourceType %v, want %s", got, tc.resourceType)
			}
		})
	}
}

func TestModelResourceType(t *testing.T) {
	for _, rt := range types.ResourceType("").Values() {
		if got := modelResourceType(string(rt)); got != string(rt) {
			t.Errorf("%s dropped", rt)
		}
	}
	for _, rt := range []string{"package-group", "tag", "Domain", "repositories"} {
		if got := modelResourceType(rt); got != "" {
			t.Errorf("%s kept", rt)
		}
	}
}
