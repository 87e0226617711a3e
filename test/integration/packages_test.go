package integration

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/config"
)

type coords struct{ repo, ns, pkg string }

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func (e *env) publish(c coords, version, asset string, content []byte, unfinished bool) (*codeartifact.PublishPackageVersionOutput, error) {
	return e.CA.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{
		Domain: aws.String("dx"), Repository: aws.String(c.repo), Format: types.PackageFormatGeneric,
		Namespace: aws.String(c.ns), Package: aws.String(c.pkg), PackageVersion: aws.String(version),
		AssetName: aws.String(asset), AssetContent: bytes.NewReader(content), AssetSHA256: aws.String(sha(content)), Unfinished: aws.Bool(unfinished)})
}

func (e *env) setup(repos ...string) {
	must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("dx")}))(e.t)
	for _, r := range repos {
		must(e.CA.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("dx"), Repository: aws.String(r)}))(e.t)
	}
}

func pkgIn(c coords) (d, r *string, f types.PackageFormat, ns, p *string) {
	return aws.String("dx"), aws.String(c.repo), types.PackageFormatGeneric, aws.String(c.ns), aws.String(c.pkg)
}

func TestPublishAndDownload(t *testing.T) {
	e := newEnv(t)
	e.setup("repo")
	c := coords{"repo", "ns", "tool"}
	content := bytes.Repeat([]byte("coffer "), 100000)
	out := must(e.publish(c, "1.0.0", "tool.bin", content, false))(t)
	m, s1, s5 := md5.Sum(content), sha1.Sum(content), sha512.Sum512(content)
	h := out.Asset.Hashes
	if out.Status != types.PackageVersionStatusPublished || out.Asset.Size == nil || *out.Asset.Size != int64(len(content)) ||
		h["MD5"] != hex.EncodeToString(m[:]) || h["SHA-1"] != hex.EncodeToString(s1[:]) || h["SHA-256"] != sha(content) || h["SHA-512"] != hex.EncodeToString(s5[:]) ||
		aws.ToString(out.VersionRevision) == "" || out.Format != types.PackageFormatGeneric || aws.ToString(out.Namespace) != "ns" {
		t.Fatalf("PublishPackageVersion: %+v", out)
	}
	d, r, f, ns, p := pkgIn(c)
	got := must(e.CA.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: d, Repository: r, Format: f, Namespace: ns,
		Package: p, PackageVersion: aws.String("1.0.0"), Asset: aws.String("tool.bin")}))(t)
	body := must(io.ReadAll(got.Asset))(t)
	if !bytes.Equal(body, content) || aws.ToString(got.AssetName) != "tool.bin" || aws.ToString(got.PackageVersion) != "1.0.0" ||
		aws.ToString(got.PackageVersionRevision) != aws.ToString(out.VersionRevision) {
		t.Fatalf("GetPackageVersionAsset: %d bytes, %+v", len(body), got)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("1.0.0"), Asset: aws.String("tool.bin"), PackageVersionRevision: aws.String("other")})))
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("1.0.0"), Asset: aws.String("absent")})))

	// A bad digest, a non-generic format and a bad asset name store nothing.
	bad, err := e.CA.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: d, Repository: r, Format: f, Namespace: ns,
		Package: aws.String("other"), PackageVersion: aws.String("1.0.0"), AssetName: aws.String("x"), AssetContent: bytes.NewReader([]byte("abc")),
		AssetSHA256: aws.String(sha([]byte("abd")))})
	// The Go SDK signs the body's real hash while sending the given one in
	// x-amz-content-sha256, so the signature check refuses it before the
	// digest check can (botocore signs the header value; the aws CLI test
	// sees the ValidationException). Either way nothing may be stored.
	if err == nil || bad != nil {
		t.Fatal("a publish with a wrong SHA-256 succeeded")
	}
	wantErr[*types.ValidationException](t, must2(e.CA.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: d, Repository: r,
		Format: types.PackageFormatNpm, Package: aws.String("x"), PackageVersion: aws.String("1.0.0"), AssetName: aws.String("x"),
		AssetContent: bytes.NewReader([]byte("abc")), AssetSHA256: aws.String(sha([]byte("abc")))})))
	wantErr[*types.ValidationException](t, must2(e.publish(c, "1.0.1", "..", []byte("abc"), false)))
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DescribePackage(ctx, &codeartifact.DescribePackageInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: aws.String("other")})))
	if n := countFiles(t, filepath.Join(e.DataDir, "blobs")); n != 1 {
		t.Fatalf("%d blob files after one good and several refused uploads, want 1", n)
	}

	// Identical bytes again: fine; other bytes: conflict; a new asset on a Published version: conflict.
	must(e.publish(c, "1.0.0", "tool.bin", content, false))(t)
	wantErr[*types.ConflictException](t, must2(e.publish(c, "1.0.0", "tool.bin", []byte("different"), false)))
	wantErr[*types.ConflictException](t, must2(e.publish(c, "1.0.0", "extra.bin", []byte("extra"), false)))
	if n := countFiles(t, filepath.Join(e.DataDir, "blobs")); n != 1 {
		t.Fatalf("%d blob files after refused uploads, want 1", n)
	}

	// Unfinished versions collect assets until a final publish.
	u := must(e.publish(c, "2.0.0", "a.bin", []byte("part a"), true))(t)
	if u.Status != types.PackageVersionStatusUnfinished {
		t.Fatalf("unfinished publish status %q", u.Status)
	}
	u2 := must(e.publish(c, "2.0.0", "b.bin", []byte("part b"), true))(t)
	if aws.ToString(u2.VersionRevision) == aws.ToString(u.VersionRevision) {
		t.Fatal("adding an asset did not change the revision")
	}
	fin := must(e.publish(c, "2.0.0", "c.bin", []byte("part c"), false))(t)
	if fin.Status != types.PackageVersionStatusPublished {
		t.Fatalf("final publish status %q", fin.Status)
	}
	assets := must(e.CA.ListPackageVersionAssets(ctx, &codeartifact.ListPackageVersionAssetsInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("2.0.0"), MaxResults: aws.Int32(2)}))(t)
	if len(assets.Assets) != 2 || aws.ToString(assets.Assets[0].Name) != "a.bin" || assets.NextToken == nil || aws.ToString(assets.Package) != "tool" {
		t.Fatalf("ListPackageVersionAssets page 1: %+v", assets)
	}
	next := must(e.CA.ListPackageVersionAssets(ctx, &codeartifact.ListPackageVersionAssetsInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("2.0.0"), MaxResults: aws.Int32(2), NextToken: assets.NextToken}))(t)
	if len(next.Assets) != 1 || aws.ToString(next.Assets[0].Name) != "c.bin" || next.NextToken != nil || aws.ToString(next.Package) != "tool" {
		t.Fatalf("ListPackageVersionAssets page 2: %+v", next)
	}

	desc := must(e.CA.DescribePackageVersion(ctx, &codeartifact.DescribePackageVersionInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("2.0.0")}))(t).PackageVersion
	if desc.Status != types.PackageVersionStatusPublished || desc.PublishedTime == nil || desc.Origin == nil ||
		desc.Origin.OriginType != types.PackageVersionOriginTypeInternal || aws.ToString(desc.Origin.DomainEntryPoint.RepositoryName) != "repo" ||
		aws.ToString(desc.PackageName) != "tool" || aws.ToString(desc.Revision) != aws.ToString(fin.VersionRevision) {
		t.Fatalf("DescribePackageVersion: %+v", desc)
	}
	readme := must(e.CA.GetPackageVersionReadme(ctx, &codeartifact.GetPackageVersionReadmeInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("2.0.0")}))(t)
	if aws.ToString(readme.Version) != "2.0.0" || aws.ToString(readme.Readme) != "" {
		t.Fatalf("GetPackageVersionReadme: %+v", readme)
	}
	deps := must(e.CA.ListPackageVersionDependencies(ctx, &codeartifact.ListPackageVersionDependenciesInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("2.0.0")}))(t)
	if len(deps.Dependencies) != 0 || aws.ToString(deps.VersionRevision) == "" {
		t.Fatalf("ListPackageVersionDependencies: %+v", deps)
	}
}

func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAssetSizeLimit(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MaxAssetSize = 1024 })
	e.setup("repo")
	c := coords{"repo", "ns", "big"}
	wantErr[*types.ValidationException](t, must2(e.publish(c, "1.0.0", "big.bin", make([]byte, 4096), false)))
	must(e.publish(c, "1.0.0", "small.bin", make([]byte, 1024), false))(t)
	if n := countFiles(t, filepath.Join(e.DataDir, "blobs")); n != 1 {
		t.Fatalf("%d blob files, want 1", n)
	}
}

func TestPackagesAndOrigins(t *testing.T) {
	e := newEnv(t)
	e.setup("repo")
	for i := range 12 {
		must(e.publish(coords{"repo", fmt.Sprintf("ns%d", i%3), fmt.Sprintf("pkg-%02d", i)}, "1.0.0", "a", []byte{byte(i)}, false))(t)
	}
	var got []string
	p := codeartifact.NewListPackagesPaginator(e.CA, &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo"), MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		for _, s := range must(p.NextPage(ctx))(t).Packages {
			if s.OriginConfiguration == nil || s.OriginConfiguration.Restrictions.Publish != types.AllowPublishAllow ||
				s.OriginConfiguration.Restrictions.Upstream != types.AllowUpstreamBlock {
				t.Fatalf("package %s origin %+v", aws.ToString(s.Package), s.OriginConfiguration)
			}
			got = append(got, aws.ToString(s.Namespace)+"/"+aws.ToString(s.Package))
		}
	}
	if len(got) != 12 || got[0] != "ns0/pkg-00" || got[4] != "ns1/pkg-01" {
		t.Fatalf("ListPackages: %v", got)
	}
	filtered := must(e.CA.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo"),
		Format: types.PackageFormatGeneric, Namespace: aws.String("ns2"), PackagePrefix: aws.String("pkg-1")}))(t).Packages
	if len(filtered) != 1 || aws.ToString(filtered[0].Package) != "pkg-11" {
		t.Fatalf("ListPackages filtered: %+v", filtered)
	}
	none := must(e.CA.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo"), Format: types.PackageFormatNpm}))(t).Packages
	if len(none) != 0 {
		t.Fatalf("format filter: %+v", none)
	}

	// Origin controls: pre-emptive blocking of a package that does not exist yet.
	blocked := must(e.CA.PutPackageOriginConfiguration(ctx, &codeartifact.PutPackageOriginConfigurationInput{Domain: aws.String("dx"),
		Repository: aws.String("repo"), Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("reserved"),
		Restrictions: &types.PackageOriginRestrictions{Publish: types.AllowPublishBlock, Upstream: types.AllowUpstreamBlock}}))(t)
	if blocked.OriginConfiguration.Restrictions.Publish != types.AllowPublishBlock {
		t.Fatalf("PutPackageOriginConfiguration: %+v", blocked.OriginConfiguration)
	}
	wantErr[*types.ConflictException](t, must2(e.publish(coords{"repo", "ns", "reserved"}, "1.0.0", "a", []byte("x"), false)))
	only := must(e.CA.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("dx"), Repository: aws.String("repo"),
		Publish: types.AllowPublishBlock}))(t).Packages
	if len(only) != 1 || aws.ToString(only[0].Package) != "reserved" {
		t.Fatalf("ListPackages publish=BLOCK: %+v", only)
	}
	del := must(e.CA.DeletePackage(ctx, &codeartifact.DeletePackageInput{Domain: aws.String("dx"), Repository: aws.String("repo"),
		Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("reserved")}))(t)
	if aws.ToString(del.DeletedPackage.Package) != "reserved" {
		t.Fatalf("DeletePackage: %+v", del.DeletedPackage)
	}
	must(e.publish(coords{"repo", "ns", "reserved"}, "1.0.0", "a", []byte("x"), false))(t)
	wantErr[*types.ValidationException](t, must2(e.CA.DescribePackage(ctx, &codeartifact.DescribePackageInput{Domain: aws.String("dx"),
		Repository: aws.String("repo"), Format: types.PackageFormatGeneric, Package: aws.String("no-namespace")})))
}

func TestVersionStatusMachine(t *testing.T) {
	e := newEnv(t)
	e.setup("repo")
	c := coords{"repo", "ns", "app"}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		must(e.publish(c, v, "app.tgz", []byte("app "+v), false))(t)
	}
	must(e.publish(c, "3.0.0-rc", "app.tgz", []byte("rc"), true))(t)
	d, r, f, ns, p := pkgIn(c)
	list := func(in *codeartifact.ListPackageVersionsInput) string {
		in.Domain, in.Repository, in.Format, in.Namespace, in.Package = d, r, f, ns, p
		var out []string
		for _, v := range must(e.CA.ListPackageVersions(ctx, in))(t).Versions {
			out = append(out, aws.ToString(v.Version)+":"+string(v.Status))
		}
		return strings.Join(out, " ")
	}
	if got := list(&codeartifact.ListPackageVersionsInput{}); got != "1.0.0:Published 1.1.0:Published 2.0.0:Published 3.0.0-rc:Unfinished" {
		t.Fatalf("ListPackageVersions: %s", got)
	}
	if got := list(&codeartifact.ListPackageVersionsInput{Status: types.PackageVersionStatusUnfinished}); got != "3.0.0-rc:Unfinished" {
		t.Fatalf("status filter: %s", got)
	}
	if got := list(&codeartifact.ListPackageVersionsInput{SortBy: types.PackageVersionSortTypePublishedTime, MaxResults: aws.Int32(10)}); !strings.HasPrefix(got, "3.0.0-rc:Unfinished 1.0.0") {
		t.Fatalf("sort by published time (unpublished first): %s", got)
	}
	lv := must(e.CA.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: d, Repository: r, Format: f, Namespace: ns, Package: p, MaxResults: aws.Int32(1)}))(t)
	if aws.ToString(lv.DefaultDisplayVersion) != "2.0.0" || lv.NextToken == nil || len(lv.Versions) != 1 || aws.ToString(lv.Package) != "app" {
		t.Fatalf("ListPackageVersions page: %+v", lv)
	}

	status := func(in *codeartifact.UpdatePackageVersionsStatusInput) *codeartifact.UpdatePackageVersionsStatusOutput {
		in.Domain, in.Repository, in.Format, in.Namespace, in.Package = d, r, f, ns, p
		return must(e.CA.UpdatePackageVersionsStatus(ctx, in))(t)
	}
	// All or nothing: one mismatch skips the rest.
	res := status(&codeartifact.UpdatePackageVersionsStatusInput{Versions: []string{"1.0.0", "1.1.0"}, ExpectedStatus: types.PackageVersionStatusPublished,
		VersionRevisions: map[string]string{"1.0.0": "wrong", "1.1.0": "wrong"}, TargetStatus: types.PackageVersionStatusArchived})
	if res.FailedVersions["1.0.0"].ErrorCode != types.PackageVersionErrorCodeMismatchedRevision || len(res.SuccessfulVersions) != 0 {
		t.Fatalf("revision mismatch: %+v", res)
	}
	res = status(&codeartifact.UpdatePackageVersionsStatusInput{Versions: []string{"1.0.0", "9.9.9"}, TargetStatus: types.PackageVersionStatusUnlisted})
	if res.FailedVersions["9.9.9"].ErrorCode != types.PackageVersionErrorCodeNotFound || res.FailedVersions["1.0.0"].ErrorCode != types.PackageVersionErrorCodeSkipped {
		t.Fatalf("not found + skipped: %+v", res)
	}
	res = status(&codeartifact.UpdatePackageVersionsStatusInput{Versions: []string{"1.0.0"}, ExpectedStatus: types.PackageVersionStatusUnlisted, TargetStatus: types.PackageVersionStatusArchived})
	if res.FailedVersions["1.0.0"].ErrorCode != types.PackageVersionErrorCodeMismatchedStatus {
		t.Fatalf("status mismatch: %+v", res)
	}
	res = status(&codeartifact.UpdatePackageVersionsStatusInput{Versions: []string{"1.0.0", "3.0.0-rc"}, TargetStatus: types.PackageVersionStatusUnlisted})
	if res.SuccessfulVersions["1.0.0"].Status != types.PackageVersionStatusUnlisted || res.SuccessfulVersions["3.0.0-rc"].Status != types.PackageVersionStatusUnlisted {
		t.Fatalf("unlist: %+v", res)
	}
	wantErr[*types.ValidationException](t, must2(e.CA.UpdatePackageVersionsStatus(ctx, &codeartifact.UpdatePackageVersionsStatusInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, Versions: []string{"1.0.0"}, TargetStatus: types.PackageVersionStatusDisposed})))
	// Unlisted assets stay downloadable, Archived ones do not.
	must(e.CA.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: d, Repository: r, Format: f, Namespace: ns, Package: p,
		PackageVersion: aws.String("1.0.0"), Asset: aws.String("app.tgz")}))(t)
	status(&codeartifact.UpdatePackageVersionsStatusInput{Versions: []string{"1.1.0"}, TargetStatus: types.PackageVersionStatusArchived})
	wantErr[*types.ConflictException](t, must2(e.CA.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: d, Repository: r, Format: f,
		Namespace: ns, Package: p, PackageVersion: aws.String("1.1.0"), Asset: aws.String("app.tgz")})))

	// Dispose removes assets and keeps the record; then only delete is possible.
	disp := must(e.CA.DisposePackageVersions(ctx, &codeartifact.DisposePackageVersionsInput{Domain: d, Repository: r, Format: f, Namespace: ns, Package: p,
		Versions: []string{"1.1.0", "8.8.8"}}))(t)
	if disp.SuccessfulVersions["1.1.0"].Status != types.PackageVersionStatusDisposed || disp.FailedVersions["8.8.8"].ErrorCode != types.PackageVersionErrorCodeNotFound {
		t.Fatalf("DisposePackageVersions: %+v", disp)
	}
	res = status(&codeartifact.UpdatePackageVersionsStatusInput{Versions: []string{"1.1.0"}, TargetStatus: types.PackageVersionStatusPublished})
	if res.FailedVersions["1.1.0"].ErrorCode != types.PackageVersionErrorCodeNotAllowed {
		t.Fatalf("leaving Disposed: %+v", res)
	}
	if got := list(&codeartifact.ListPackageVersionsInput{Status: types.PackageVersionStatusDisposed}); got != "1.1.0:Disposed" {
		t.Fatalf("disposed listing: %s", got)
	}
	del := must(e.CA.DeletePackageVersions(ctx, &codeartifact.DeletePackageVersionsInput{Domain: d, Repository: r, Format: f, Namespace: ns, Package: p,
		Versions: []string{"1.1.0", "2.0.0"}, ExpectedStatus: types.PackageVersionStatusDisposed}))(t)
	if del.SuccessfulVersions["1.1.0"].Status != types.PackageVersionStatusDeleted || del.FailedVersions["2.0.0"].ErrorCode != types.PackageVersionErrorCodeMismatchedStatus {
		t.Fatalf("DeletePackageVersions: %+v", del)
	}
	// A deleted version can be published again.
	must(e.publish(c, "1.1.0", "app.tgz", []byte("new 1.1.0"), false))(t)
}

func TestCopyPackageVersions(t *testing.T) {
	e := newEnv(t)
	e.setup("up", "src", "dst")
	must(e.CA.UpdateRepository(ctx, &codeartifact.UpdateRepositoryInput{Domain: aws.String("dx"), Repository: aws.String("src"),
		Upstreams: []types.UpstreamRepository{{RepositoryName: aws.String("up")}}}))(t)
	must(e.publish(coords{"src", "ns", "lib"}, "1.0.0", "lib.jar", []byte("one"), false))(t)
	must(e.publish(coords{"up", "ns", "lib"}, "2.0.0", "lib.jar", []byte("two"), false))(t)
	must(e.publish(coords{"dst", "ns", "lib"}, "1.0.0", "lib.jar", []byte("other one"), false))(t)
	cp := func(in *codeartifact.CopyPackageVersionsInput) *codeartifact.CopyPackageVersionsOutput {
		in.Domain, in.SourceRepository, in.DestinationRepository = aws.String("dx"), aws.String("src"), aws.String("dst")
		in.Format, in.Namespace, in.Package = types.PackageFormatGeneric, aws.String("ns"), aws.String("lib")
		return must(e.CA.CopyPackageVersions(ctx, in))(t)
	}
	res := cp(&codeartifact.CopyPackageVersionsInput{Versions: []string{"1.0.0", "2.0.0"}})
	if res.FailedVersions["1.0.0"].ErrorCode != types.PackageVersionErrorCodeAlreadyExists || res.FailedVersions["2.0.0"].ErrorCode != types.PackageVersionErrorCodeNotFound {
		t.Fatalf("copy without overwrite or upstream: %+v", res)
	}
	res = cp(&codeartifact.CopyPackageVersionsInput{Versions: []string{"1.0.0", "2.0.0"}, AllowOverwrite: aws.Bool(true), IncludeFromUpstream: aws.Bool(true)})
	if res.SuccessfulVersions["1.0.0"].Status != types.PackageVersionStatusPublished || res.SuccessfulVersions["2.0.0"].Status != types.PackageVersionStatusPublished {
		t.Fatalf("copy with overwrite and upstream: %+v", res)
	}
	got := must(e.CA.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: aws.String("dx"), Repository: aws.String("dst"),
		Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("lib"), PackageVersion: aws.String("1.0.0"), Asset: aws.String("lib.jar")}))(t)
	if b := must(io.ReadAll(got.Asset))(t); string(b) != "one" {
		t.Fatalf("copied asset = %q", b)
	}
	wantErr[*types.ValidationException](t, must2(e.CA.CopyPackageVersions(ctx, &codeartifact.CopyPackageVersionsInput{Domain: aws.String("dx"),
		SourceRepository: aws.String("src"), DestinationRepository: aws.String("dst"), Format: types.PackageFormatGeneric, Namespace: aws.String("ns"),
		Package: aws.String("lib"), Versions: []string{"1.0.0"}, VersionRevisions: map[string]string{"1.0.0": "x"}})))
	// The domain counts the deduplicated bytes once, and the overwritten
	// version's blob is gone.
	dom := must(e.CA.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: aws.String("dx")}))(t).Domain
	if dom.AssetSizeBytes != int64(len("one")+len("two")) {
		t.Fatalf("assetSizeBytes = %d", dom.AssetSizeBytes)
	}
	if n := countFiles(t, filepath.Join(e.DataDir, "blobs")); n != 2 {
		t.Fatalf("%d blob files after overwriting a copy, want 2", n)
	}
	// Deleting the repositories releases blobs nobody references.
	for _, r := range []string{"src", "up", "dst"} {
		must(e.CA.DeleteRepository(ctx, &codeartifact.DeleteRepositoryInput{Domain: aws.String("dx"), Repository: aws.String(r)}))(t)
	}
	if n := countFiles(t, filepath.Join(e.DataDir, "blobs")); n != 0 {
		t.Fatalf("%d blob files left after deleting every repository", n)
	}
}
