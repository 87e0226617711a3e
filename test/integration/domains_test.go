package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
)

func TestDomains(t *testing.T) {
	e := newEnv(t)
	d := must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("alpha"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))(t).Domain
	if aws.ToString(d.Name) != "alpha" || aws.ToString(d.Owner) != account || d.Status != types.DomainStatusActive ||
		aws.ToString(d.Arn) != "arn:aws:codeartifact:us-east-1:"+account+":domain/alpha" || d.CreatedTime == nil || d.RepositoryCount != 0 {
		t.Fatalf("CreateDomain: %+v", d)
	}
	c := wantErr[*types.ConflictException](t, must2(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("alpha")})))
	if c.ResourceType != types.ResourceTypeDomain {
		t.Fatalf("conflict resource type %q", c.ResourceType)
	}
	wantErr[*types.ValidationException](t, must2(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("Upper-Case")})))
	nf := wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: aws.String("nope")})))
	if nf.ResourceType != types.ResourceTypeDomain || aws.ToString(nf.ResourceId) != "nope" {
		t.Fatalf("not found: %+v", nf)
	}
	for _, n := range []string{"beta", "gamma", "delta"} {
		must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String(n)}))(t)
	}
	var names []string
	p := codeartifact.NewListDomainsPaginator(e.CA, &codeartifact.ListDomainsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page := must(p.NextPage(ctx))(t)
		if len(page.Domains) > 1 {
			t.Fatalf("page of %d with maxResults 1", len(page.Domains))
		}
		for _, d := range page.Domains {
			names = append(names, aws.ToString(d.Name))
		}
	}
	if strings.Join(names, ",") != "alpha,beta,delta,gamma" {
		t.Fatalf("ListDomains pages: %v", names)
	}
	wantErr[*types.ValidationException](t, must2(e.CA.ListDomains(ctx, &codeartifact.ListDomainsInput{NextToken: aws.String("garbage!")})))

	// A domain with repositories cannot be deleted.
	must(e.CA.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("beta"), Repository: aws.String("r1")}))(t)
	wantErr[*types.ConflictException](t, must2(e.CA.DeleteDomain(ctx, &codeartifact.DeleteDomainInput{Domain: aws.String("beta")})))
	desc := must(e.CA.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: aws.String("beta")}))(t).Domain
	if desc.RepositoryCount != 1 {
		t.Fatalf("repositoryCount = %d", desc.RepositoryCount)
	}
	del := must(e.CA.DeleteDomain(ctx, &codeartifact.DeleteDomainInput{Domain: aws.String("gamma")}))(t).Domain
	if del.Status != types.DomainStatusDeleted {
		t.Fatalf("DeleteDomain status %q", del.Status)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DescribeDomain(ctx, &codeartifact.DescribeDomainInput{Domain: aws.String("gamma")})))
	tags := must(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: d.Arn}))(t).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
		t.Fatalf("tags from CreateDomain: %+v", tags)
	}
}

// must2 keeps the error of a two-value call.
func must2[T any](_ T, err error) error { return err }

func TestDomainPolicy(t *testing.T) {
	e := newEnv(t)
	must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("pol")}))(t)
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetDomainPermissionsPolicy(ctx, &codeartifact.GetDomainPermissionsPolicyInput{Domain: aws.String("pol")})))
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"codeartifact:GetAuthorizationToken","Resource":"*"}]}`
	put := must(e.CA.PutDomainPermissionsPolicy(ctx, &codeartifact.PutDomainPermissionsPolicyInput{Domain: aws.String("pol"), PolicyDocument: aws.String(doc)}))(t).Policy
	if aws.ToString(put.Document) != doc || aws.ToString(put.Revision) == "" || aws.ToString(put.ResourceArn) != "arn:aws:codeartifact:us-east-1:"+account+":domain/pol" {
		t.Fatalf("PutDomainPermissionsPolicy: %+v", put)
	}
	got := must(e.CA.GetDomainPermissionsPolicy(ctx, &codeartifact.GetDomainPermissionsPolicyInput{Domain: aws.String("pol")}))(t).Policy
	if aws.ToString(got.Document) != doc || aws.ToString(got.Revision) != aws.ToString(put.Revision) {
		t.Fatalf("GetDomainPermissionsPolicy: %+v", got)
	}
	wantErr[*types.ConflictException](t, must2(e.CA.PutDomainPermissionsPolicy(ctx, &codeartifact.PutDomainPermissionsPolicyInput{
		Domain: aws.String("pol"), PolicyDocument: aws.String(doc), PolicyRevision: aws.String("stale")})))
	wantErr[*types.ValidationException](t, must2(e.CA.PutDomainPermissionsPolicy(ctx, &codeartifact.PutDomainPermissionsPolicyInput{
		Domain: aws.String("pol"), PolicyDocument: aws.String("{not json")})))
	wantErr[*types.ConflictException](t, must2(e.CA.DeleteDomainPermissionsPolicy(ctx, &codeartifact.DeleteDomainPermissionsPolicyInput{
		Domain: aws.String("pol"), PolicyRevision: aws.String("stale")})))
	gone := must(e.CA.DeleteDomainPermissionsPolicy(ctx, &codeartifact.DeleteDomainPermissionsPolicyInput{Domain: aws.String("pol"), PolicyRevision: put.Revision}))(t).Policy
	if aws.ToString(gone.Document) != doc {
		t.Fatalf("DeleteDomainPermissionsPolicy returned %+v", gone)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetDomainPermissionsPolicy(ctx, &codeartifact.GetDomainPermissionsPolicyInput{Domain: aws.String("pol")})))
}

func TestRepositories(t *testing.T) {
	e := newEnv(t)
	must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("dom")}))(t)
	create := func(name string, upstreams ...string) (*codeartifact.CreateRepositoryOutput, error) {
		in := &codeartifact.CreateRepositoryInput{Domain: aws.String("dom"), Repository: aws.String(name), Description: aws.String("repo " + name)}
		for _, u := range upstreams {
			in.Upstreams = append(in.Upstreams, types.UpstreamRepository{RepositoryName: aws.String(u)})
		}
		return e.CA.CreateRepository(ctx, in)
	}
	must(create("store"))(t)
	must(create("ra", "store"))(t)
	r := must(create("rb", "ra", "store"))(t).Repository
	if len(r.Upstreams) != 2 || aws.ToString(r.Upstreams[0].RepositoryName) != "ra" || aws.ToString(r.Description) != "repo rb" ||
		aws.ToString(r.Arn) != "arn:aws:codeartifact:us-east-1:"+account+":repository/dom/rb" || aws.ToString(r.DomainOwner) != account ||
		aws.ToString(r.AdministratorAccount) != account || r.CreatedTime == nil {
		t.Fatalf("CreateRepository: %+v", r)
	}
	wantErr[*types.ConflictException](t, must2(create("rb")))
	wantErr[*types.ResourceNotFoundException](t, must2(create("rc", "missing")))
	var many []string
	for i := range 11 {
		n := fmt.Sprintf("up%02d", i)
		must(create(n))(t)
		many = append(many, n)
	}
	wantErr[*types.ValidationException](t, must2(create("too-many", many...)))

	// Cycles are rejected: store -> rb would close rb -> ra -> store -> rb.
	upd := func(name string, upstreams ...string) (*codeartifact.UpdateRepositoryOutput, error) {
		in := &codeartifact.UpdateRepositoryInput{Domain: aws.String("dom"), Repository: aws.String(name), Upstreams: []types.UpstreamRepository{}}
		for _, u := range upstreams {
			in.Upstreams = append(in.Upstreams, types.UpstreamRepository{RepositoryName: aws.String(u)})
		}
		return e.CA.UpdateRepository(ctx, in)
	}
	v := wantErr[*types.ValidationException](t, must2(upd("store", "rb")))
	if !strings.Contains(aws.ToString(v.Message), "cycle") {
		t.Fatalf("cycle message: %q", aws.ToString(v.Message))
	}
	wantErr[*types.ValidationException](t, must2(upd("store", "store")))
	u := must(e.CA.UpdateRepository(ctx, &codeartifact.UpdateRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("rb"), Description: aws.String("new")}))(t).Repository
	if aws.ToString(u.Description) != "new" || len(u.Upstreams) != 2 {
		t.Fatalf("UpdateRepository description only: %+v", u)
	}
	u = must(upd("rb", "store"))(t).Repository
	if len(u.Upstreams) != 1 || aws.ToString(u.Upstreams[0].RepositoryName) != "store" {
		t.Fatalf("UpdateRepository upstreams: %+v", u)
	}

	// External connections.
	x := must(e.CA.AssociateExternalConnection(ctx, &codeartifact.AssociateExternalConnectionInput{Domain: aws.String("dom"),
		Repository: aws.String("store"), ExternalConnection: aws.String("public:npmjs")}))(t).Repository
	if len(x.ExternalConnections) != 1 || x.ExternalConnections[0].PackageFormat != types.PackageFormatNpm ||
		x.ExternalConnections[0].Status != types.ExternalConnectionStatusAvailable {
		t.Fatalf("AssociateExternalConnection: %+v", x.ExternalConnections)
	}
	wantErr[*types.ConflictException](t, must2(e.CA.AssociateExternalConnection(ctx, &codeartifact.AssociateExternalConnectionInput{Domain: aws.String("dom"),
		Repository: aws.String("store"), ExternalConnection: aws.String("public:npmjs")})))
	wantErr[*types.ServiceQuotaExceededException](t, must2(e.CA.AssociateExternalConnection(ctx, &codeartifact.AssociateExternalConnectionInput{Domain: aws.String("dom"),
		Repository: aws.String("store"), ExternalConnection: aws.String("public:pypi")})))
	wantErr[*types.ValidationException](t, must2(e.CA.AssociateExternalConnection(ctx, &codeartifact.AssociateExternalConnectionInput{Domain: aws.String("dom"),
		Repository: aws.String("ra"), ExternalConnection: aws.String("public:nowhere")})))
	x = must(e.CA.DisassociateExternalConnection(ctx, &codeartifact.DisassociateExternalConnectionInput{Domain: aws.String("dom"),
		Repository: aws.String("store"), ExternalConnection: aws.String("public:npmjs")}))(t).Repository
	if len(x.ExternalConnections) != 0 {
		t.Fatalf("DisassociateExternalConnection left %+v", x.ExternalConnections)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DisassociateExternalConnection(ctx, &codeartifact.DisassociateExternalConnectionInput{Domain: aws.String("dom"),
		Repository: aws.String("store"), ExternalConnection: aws.String("public:npmjs")})))

	// Endpoints for every format.
	for _, f := range types.PackageFormat("").Values() {
		ep := must(e.CA.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{Domain: aws.String("dom"), Repository: aws.String("ra"), Format: f}))(t)
		if want := e.URL + "/" + string(f) + "/d/dom-" + account + "/ra/"; aws.ToString(ep.RepositoryEndpoint) != want {
			t.Fatalf("endpoint %q, want %q", aws.ToString(ep.RepositoryEndpoint), want)
		}
	}

	// Listing with prefixes and pages.
	var names []string
	p := codeartifact.NewListRepositoriesInDomainPaginator(e.CA, &codeartifact.ListRepositoriesInDomainInput{Domain: aws.String("dom"),
		RepositoryPrefix: aws.String("up"), MaxResults: aws.Int32(4)})
	for p.HasMorePages() {
		for _, r := range must(p.NextPage(ctx))(t).Repositories {
			names = append(names, aws.ToString(r.Name))
		}
	}
	if len(names) != 11 || names[0] != "up00" || names[10] != "up10" {
		t.Fatalf("ListRepositoriesInDomain: %v", names)
	}
	all := must(e.CA.ListRepositories(ctx, &codeartifact.ListRepositoriesInput{RepositoryPrefix: aws.String("st")}))(t).Repositories
	if len(all) != 1 || aws.ToString(all[0].DomainName) != "dom" || aws.ToString(all[0].Name) != "store" {
		t.Fatalf("ListRepositories: %+v", all)
	}

	// Repository policy, with the plural delete path.
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"*"}]}`
	put := must(e.CA.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{Domain: aws.String("dom"),
		Repository: aws.String("ra"), PolicyDocument: aws.String(doc)}))(t).Policy
	got := must(e.CA.GetRepositoryPermissionsPolicy(ctx, &codeartifact.GetRepositoryPermissionsPolicyInput{Domain: aws.String("dom"), Repository: aws.String("ra")}))(t).Policy
	if aws.ToString(got.Document) != doc || aws.ToString(got.Revision) != aws.ToString(put.Revision) {
		t.Fatalf("GetRepositoryPermissionsPolicy: %+v", got)
	}
	must(e.CA.DeleteRepositoryPermissionsPolicy(ctx, &codeartifact.DeleteRepositoryPermissionsPolicyInput{Domain: aws.String("dom"), Repository: aws.String("ra")}))(t)
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetRepositoryPermissionsPolicy(ctx, &codeartifact.GetRepositoryPermissionsPolicyInput{Domain: aws.String("dom"), Repository: aws.String("ra")})))

	// Tags on repositories.
	arn := aws.String("arn:aws:codeartifact:us-east-1:" + account + ":repository/dom/ra")
	must(e.CA.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("k1"), Value: aws.String("v1")}, {Key: aws.String("k2"), Value: aws.String("v2")}}}))(t)
	must(e.CA.UntagResource(ctx, &codeartifact.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"k1", "absent"}}))(t)
	tags := must(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: arn}))(t).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "k2" || aws.ToString(tags[0].Value) != "v2" {
		t.Fatalf("tags: %+v", tags)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{
		ResourceArn: aws.String("arn:aws:codeartifact:us-east-1:" + account + ":repository/dom/none")})))

	// Delete keeps dangling upstream names downstream, as CodeArtifact does.
	must(e.CA.DeleteRepository(ctx, &codeartifact.DeleteRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("store")}))(t)
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("store")})))
	b := must(e.CA.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("rb")}))(t).Repository
	if len(b.Upstreams) != 1 {
		t.Fatalf("downstream lost its upstream reference: %+v", b.Upstreams)
	}
}

func TestAuthorizationToken(t *testing.T) {
	e := newEnv(t)
	must(e.CA.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("tok")}))(t)
	out := must(e.CA.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("tok"), DurationSeconds: aws.Int64(900)}))(t)
	if len(aws.ToString(out.AuthorizationToken)) < 40 || out.Expiration == nil {
		t.Fatalf("GetAuthorizationToken: %+v", out)
	}
	for _, bad := range []int64{1, 899, 43201} {
		wantErr[*types.ValidationException](t, must2(e.CA.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("tok"), DurationSeconds: aws.Int64(bad)})))
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("nope")})))
}

func TestSigV4Failures(t *testing.T) {
	e := newEnv(t)
	bad := newClient(t, e.URL, rootKey, "wrong-secret", "")
	if err := must2(bad.ListDomains(ctx, &codeartifact.ListDomainsInput{})); err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("wrong secret: %v", err)
	}
	unknown := newClient(t, e.URL, "AKIAUNKNOWN000000000", "x", "")
	if err := must2(unknown.ListDomains(ctx, &codeartifact.ListDomainsInput{})); err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("unknown key: %v", err)
	}
	session := newClient(t, e.URL, rootKey, rootSecret, "not-a-session")
	if err := must2(session.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("nope")})); err == nil {
		t.Fatal("a session token on a long-term key was accepted")
	}
	if len(must(e.CA.ListDomains(ctx, &codeartifact.ListDomainsInput{}))(t).Domains) != 0 {
		t.Fatal("a refused request created a domain")
	}
}
