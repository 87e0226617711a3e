package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/artifact"
)

const groupARNPrefix = "arn:aws:codeartifact:us-east-1:" + account + ":package-group/dx"

func (e *env) pgCreate(pattern string) *types.PackageGroupDescription {
	e.t.Helper()
	return must(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String(pattern)}))(e.t).PackageGroup
}

func (e *env) pgDescribe(pattern string) *types.PackageGroupDescription {
	e.t.Helper()
	return must(e.CA.DescribePackageGroup(ctx, &codeartifact.DescribePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String(pattern)}))(e.t).PackageGroup
}

func (e *env) pgAssociated(format types.PackageFormat, ns, pkg string) (string, types.PackageGroupAssociationType) {
	e.t.Helper()
	in := &codeartifact.GetAssociatedPackageGroupInput{Domain: aws.String("dx"), Format: format, Package: aws.String(pkg)}
	if ns != "" {
		in.Namespace = aws.String(ns)
	}
	out := must(e.CA.GetAssociatedPackageGroup(ctx, in))(e.t)
	return aws.ToString(out.PackageGroup.Pattern), out.AssociationType
}

func (e *env) pgModes(pattern string, modes map[string]types.PackageGroupOriginRestrictionMode, add, remove []types.PackageGroupAllowedRepository) (*codeartifact.UpdatePackageGroupOriginConfigurationOutput, error) {
	return e.CA.UpdatePackageGroupOriginConfiguration(ctx, &codeartifact.UpdatePackageGroupOriginConfigurationInput{Domain: aws.String("dx"),
		PackageGroup: aws.String(pattern), Restrictions: modes, AddAllowedRepositories: add, RemoveAllowedRepositories: remove})
}

// pgSub lists the patterns of a group's direct children, page by page.
func (e *env) pgSub(pattern string) []string {
	e.t.Helper()
	var out []string
	p := codeartifact.NewListSubPackageGroupsPaginator(e.CA, &codeartifact.ListSubPackageGroupsInput{Domain: aws.String("dx"),
		PackageGroup: aws.String(pattern), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		for _, g := range must(p.NextPage(ctx))(e.t).PackageGroups {
			out = append(out, aws.ToString(g.Pattern))
		}
	}
	return out
}

// pgAssociatedPackages lists a group's packages as "format/namespace/name", page by page.
func (e *env) pgAssociatedPackages(pattern string, preview bool) []string {
	e.t.Helper()
	var out []string
	p := codeartifact.NewListAssociatedPackagesPaginator(e.CA, &codeartifact.ListAssociatedPackagesInput{Domain: aws.String("dx"),
		PackageGroup: aws.String(pattern), MaxResults: aws.Int32(2), Preview: aws.Bool(preview)})
	for p.HasMorePages() {
		for _, a := range must(p.NextPage(ctx))(e.t).Packages {
			if a.AssociationType != types.PackageGroupAssociationTypeStrong {
				e.t.Errorf("%s: association %q for %s", pattern, a.AssociationType, aws.ToString(a.Package))
			}
			out = append(out, string(a.Format)+"/"+aws.ToString(a.Namespace)+"/"+aws.ToString(a.Package))
		}
	}
	return out
}

// pgNotePackage creates a version-less package record, so that the domain
// holds the package (of any format) without publishing it.
func (e *env) pgNotePackage(repo string, format types.PackageFormat, ns, name string) {
	e.t.Helper()
	in := &codeartifact.PutPackageOriginConfigurationInput{Domain: aws.String("dx"), Repository: aws.String(repo), Format: format,
		Package: aws.String(name), Restrictions: &types.PackageOriginRestrictions{Publish: types.AllowPublishAllow, Upstream: types.AllowUpstreamBlock}}
	if ns != "" {
		in.Namespace = aws.String(ns)
	}
	must(e.CA.PutPackageOriginConfiguration(ctx, in))(e.t)
}

func restriction(t *testing.T, g *types.PackageGroupDescription, typ string) types.PackageGroupOriginRestriction {
	t.Helper()
	if g.OriginConfiguration == nil {
		t.Fatalf("%s: no originConfiguration", aws.ToString(g.Pattern))
	}
	r, ok := g.OriginConfiguration.Restrictions[typ]
	if !ok {
		t.Fatalf("%s: no %s restriction in %+v", aws.ToString(g.Pattern), typ, g.OriginConfiguration.Restrictions)
	}
	return r
}

// wantRestriction checks mode, effective mode, the group inherited from ("" for none) and the count.
func wantRestriction(t *testing.T, g *types.PackageGroupDescription, typ string, mode, effective types.PackageGroupOriginRestrictionMode, from string, count int64) {
	t.Helper()
	r := restriction(t, g, typ)
	gotFrom := ""
	if r.InheritedFrom != nil {
		gotFrom = aws.ToString(r.InheritedFrom.Pattern)
		if want := groupARNPrefix + encodePattern(gotFrom); aws.ToString(r.InheritedFrom.Arn) != want {
			t.Errorf("%s %s: inheritedFrom arn %q, want %q", aws.ToString(g.Pattern), typ, aws.ToString(r.InheritedFrom.Arn), want)
		}
	}
	if r.Mode != mode || r.EffectiveMode != effective || gotFrom != from || aws.ToInt64(r.RepositoriesCount) != count {
		t.Errorf("%s %s: mode %s effective %s from %q count %d; want %s %s %q %d", aws.ToString(g.Pattern), typ,
			r.Mode, r.EffectiveMode, gotFrom, aws.ToInt64(r.RepositoriesCount), mode, effective, from, count)
	}
}

// encodePattern is the ARN form of a pattern as CodeArtifact writes it.
func encodePattern(p string) string {
	return strings.NewReplacer("*", "%2a", "$", "%24").Replace(p)
}

func parentOf(g *types.PackageGroupDescription) string {
	if g.Parent == nil {
		return ""
	}
	return aws.ToString(g.Parent.Pattern)
}

func TestPackageGroupLifecycle(t *testing.T) {
	e := newEnv(t)
	e.setup("repo")
	d := aws.String("dx")

	// The root group exists from the start, allowing everything.
	list := must(e.CA.ListPackageGroups(ctx, &codeartifact.ListPackageGroupsInput{Domain: d}))(t)
	if len(list.PackageGroups) != 1 || aws.ToString(list.PackageGroups[0].Pattern) != "/*" || list.NextToken != nil {
		t.Fatalf("groups of a new domain: %+v", list.PackageGroups)
	}
	root := e.pgDescribe("/*")
	if aws.ToString(root.Arn) != groupARNPrefix+"/%2a" || root.Parent != nil || aws.ToString(root.DomainName) != "dx" ||
		aws.ToString(root.DomainOwner) != account || root.CreatedTime == nil {
		t.Errorf("root group: %+v", root)
	}
	for _, typ := range []string{"PUBLISH", "EXTERNAL_UPSTREAM", "INTERNAL_UPSTREAM"} {
		wantRestriction(t, root, typ, "ALLOW", "ALLOW", "", 0)
	}
	wantErr[*types.ConflictException](t, must2(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: d, PackageGroup: aws.String("/*")})))

	created := must(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*"),
		ContactInfo: aws.String("ui-team@example.com"), Description: aws.String("the space scope"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ui")}}}))(t).PackageGroup
	arn := groupARNPrefix + "/npm/space/%2a"
	if aws.ToString(created.Arn) != arn || aws.ToString(created.Pattern) != "/npm/space/*" || aws.ToString(created.ContactInfo) != "ui-team@example.com" ||
		aws.ToString(created.Description) != "the space scope" || parentOf(created) != "/*" || aws.ToString(created.Parent.Arn) != groupARNPrefix+"/%2a" {
		t.Errorf("created group: %+v", created)
	}
	for _, typ := range []string{"PUBLISH", "EXTERNAL_UPSTREAM", "INTERNAL_UPSTREAM"} {
		wantRestriction(t, created, typ, "INHERIT", "ALLOW", "/*", 0)
	}
	wantErr[*types.ConflictException](t, must2(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*")})))
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("nope"), PackageGroup: aws.String("/npm/*")})))
	nf := wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DescribePackageGroup(ctx, &codeartifact.DescribePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/other/*")})))
	if aws.ToString(nf.ResourceId) != "/npm/other/*" {
		t.Errorf("not found: %+v", nf)
	}

	// UpdatePackageGroup changes contact info and description; an absent
	// member stays as it was.
	up := must(e.CA.UpdatePackageGroup(ctx, &codeartifact.UpdatePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*"),
		Description: aws.String("renamed")}))(t).PackageGroup
	if aws.ToString(up.Description) != "renamed" || aws.ToString(up.ContactInfo) != "ui-team@example.com" {
		t.Errorf("updated group: %+v", up)
	}
	up = must(e.CA.UpdatePackageGroup(ctx, &codeartifact.UpdatePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*"),
		ContactInfo: aws.String("")}))(t).PackageGroup
	if up.ContactInfo != nil || aws.ToString(up.Description) != "renamed" {
		t.Errorf("cleared contact info: %+v", up)
	}
	rootUp := must(e.CA.UpdatePackageGroup(ctx, &codeartifact.UpdatePackageGroupInput{Domain: d, PackageGroup: aws.String("/*"),
		Description: aws.String("everything")}))(t).PackageGroup
	if aws.ToString(rootUp.Description) != "everything" || !rootUp.CreatedTime.Equal(*root.CreatedTime) {
		t.Errorf("updated root: %+v", rootUp)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.UpdatePackageGroup(ctx, &codeartifact.UpdatePackageGroupInput{Domain: d,
		PackageGroup: aws.String("/npm/other/*"), Description: aws.String("x")})))

	// Tags: on the group ARN, in the ARN's encoded form or not.
	tags := must(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
		t.Errorf("tags of the group: %+v", tags)
	}
	must(e.CA.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: aws.String(groupARNPrefix + "/npm/space/*"),
		Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("1")}}}))(t)
	must(e.CA.UntagResource(ctx, &codeartifact.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}))(t)
	tags = must(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "tier" {
		t.Errorf("tags after tag and untag: %+v", tags)
	}
	must(e.CA.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: aws.String(groupARNPrefix + "/%2a"),
		Tags: []types.Tag{{Key: aws.String("root"), Value: aws.String("yes")}}}))(t)
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{
		ResourceArn: aws.String(groupARNPrefix + "/npm/other/%2a")})))

	// Delete returns the group; its tags go with it; the root stays.
	del := must(e.CA.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*")}))(t).PackageGroup
	if aws.ToString(del.Pattern) != "/npm/space/*" || aws.ToString(del.Description) != "renamed" {
		t.Errorf("deleted group: %+v", del)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DescribePackageGroup(ctx, &codeartifact.DescribePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*")})))
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: d, PackageGroup: aws.String("/npm/space/*")})))
	wantErr[*types.ValidationException](t, must2(e.CA.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: d, PackageGroup: aws.String("/*")})))
	e.pgCreate("/npm/space/*")
	if tags := must(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t).Tags; len(tags) != 0 {
		t.Errorf("a re-created group has the old tags %+v", tags)
	}
	if tags := must(e.CA.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: aws.String(groupARNPrefix + "/%2a")}))(t).Tags; len(tags) != 1 {
		t.Errorf("root tags %+v", tags)
	}
}

func TestPackageGroupPatterns(t *testing.T) {
	e := newEnv(t)
	e.setup()
	bad := []string{
		"npm/*",                        // no leading slash
		"/npm",                         // no suffix
		"/npm/",                        // empty namespace without suffix
		"/npm~",                        // no prefix on formats
		"/nope/*",                      // unknown format
		"/NPM/*",                       // formats are lower case
		"/*/*",                         // '*' only at the end
		"/npm/sp*/*",                   // '*' inside a component
		"/npm/space/ui*",               // '*' as a name suffix
		"/npm/~",                       // empty namespace prefix
		"/npm/space/ui",                // a name needs $ or ~
		"/npm/space/$",                 // empty name
		"/npm/space/ui/x$",             // too many components
		"/pypi/ns/requests$",           // pypi has no namespace
		"/pypi/ns~",                    // ... nor namespace prefixes
		"/maven//log4j$",               // maven needs one
		"/maven//*",                    // ... even without a name
		"/npm/sp#ce/*",                 // '#' is not allowed in coordinates
		"/npm/space/ui kit$",           // whitespace
		"/npm/space/\u200bui$",         // a format character
		"/" + strings.Repeat("a", 520), // too long
		"/npm/" + strings.Repeat("n", 256) + "/*",
	}
	for _, p := range bad {
		t.Run(p, func(t *testing.T) {
			wantErr[*types.ValidationException](t, must2(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String(p)})))
		})
	}
	// Every shape, with names normalised as packages are.
	good := map[string]string{
		"/npm/*":                   "/npm/*",
		"/maven/com.anycompany~":   "/maven/com.anycompany~",
		"/npm/space/*":             "/npm/space/*",
		"/npm//*":                  "/npm//*",
		"/npm/space/anycompany~":   "/npm/space/anycompany~",
		"/maven/org.apache/log4j$": "/maven/org.apache/log4j$",
		"/pypi//My_Pkg$":           "/pypi//my-pkg$",
		"/pypi//Django.REST~":      "/pypi//django-rest~",
		"/nuget//Newtonsoft.Json$": "/nuget//newtonsoft.json$",
		"/swift/Apple/Swift-NIO$":  "/swift/apple/swift-nio$",
		"/cargo//serde$":           "/cargo//serde$",
		"/generic/ns/tool$":        "/generic/ns/tool$",
		"/npm/a~b/*":               "/npm/a~b/*",
	}
	for in, want := range good {
		g := e.pgCreate(in)
		if aws.ToString(g.Pattern) != want || aws.ToString(g.Arn) != groupARNPrefix+encodePattern(want) {
			t.Errorf("%s: pattern %q arn %q, want %q", in, aws.ToString(g.Pattern), aws.ToString(g.Arn), want)
		}
	}
	// Lookups normalise too; a duplicate after normalisation conflicts.
	if g := e.pgDescribe("/pypi//my.pkg$"); aws.ToString(g.Pattern) != "/pypi//my-pkg$" {
		t.Errorf("lookup by another spelling: %q", aws.ToString(g.Pattern))
	}
	wantErr[*types.ConflictException](t, must2(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/pypi//MY-PKG$")})))
	// Other validation: contact info, restriction types and modes.
	wantErr[*types.ValidationException](t, must2(e.CA.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("dx"),
		PackageGroup: aws.String("/ruby/*"), ContactInfo: aws.String(strings.Repeat("c", 1001))})))
	wantErr[*types.ValidationException](t, must2(e.pgModes("/npm/*", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "SOMETIMES"}, nil, nil)))
	wantErr[*types.ValidationException](t, must2(e.pgModes("/npm/*", map[string]types.PackageGroupOriginRestrictionMode{"DOWNLOAD": "ALLOW"}, nil, nil)))
	wantErr[*types.ValidationException](t, must2(e.CA.ListAllowedRepositoriesForGroup(ctx, &codeartifact.ListAllowedRepositoriesForGroupInput{
		Domain: aws.String("dx"), PackageGroup: aws.String("/npm/*"), OriginRestrictionType: "EVERYTHING"})))
	wantErr[*types.ValidationException](t, must2(e.CA.DescribePackageGroup(ctx, &codeartifact.DescribePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/npm/space")})))
}

func TestPackageGroupAssociation(t *testing.T) {
	e := newEnv(t)
	e.setup("one", "two")
	for _, p := range []string{"/npm/*", "/npm/sp~", "/npm/space~", "/npm/space/*", "/npm/space/ui~", "/npm/space/ui-kit$", "/npm//*", "/pypi//requests-lib$"} {
		e.pgCreate(p)
	}
	// The most specific matching group wins, whether or not the package exists.
	for _, c := range []struct {
		format       types.PackageFormat
		ns, pkg, grp string
		association  types.PackageGroupAssociationType
	}{
		{"npm", "space", "ui-kit", "/npm/space/ui-kit$", "STRONG"},
		{"npm", "space", "ui-core", "/npm/space/ui~", "STRONG"},
		{"npm", "space", "ui", "/npm/space/ui~", "STRONG"},
		{"npm", "space", "other", "/npm/space/*", "STRONG"},
		{"npm", "spacex", "other", "/npm/space~", "STRONG"},
		{"npm", "spy", "other", "/npm/sp~", "STRONG"},
		{"npm", "", "react", "/npm//*", "STRONG"},
		{"npm", "abc", "react", "/npm/*", "STRONG"},
		{"maven", "org.apache", "log4j", "/*", "STRONG"},
		{"pypi", "", "requests-lib", "/pypi//requests-lib$", "STRONG"},
		{"pypi", "", "Requests_Lib", "/pypi//requests-lib$", "WEAK"},
		{"pypi", "", "requests", "/*", "STRONG"},
	} {
		grp, assoc := e.pgAssociated(c.format, c.ns, c.pkg)
		if grp != c.grp || assoc != c.association {
			t.Errorf("%s/%s/%s: group %s (%s), want %s (%s)", c.format, c.ns, c.pkg, grp, assoc, c.grp, c.association)
		}
	}
	wantErr[*types.ValidationException](t, must2(e.CA.GetAssociatedPackageGroup(ctx, &codeartifact.GetAssociatedPackageGroupInput{
		Domain: aws.String("dx"), Format: "maven", Package: aws.String("log4j")}))) // maven needs a namespace
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.GetAssociatedPackageGroup(ctx, &codeartifact.GetAssociatedPackageGroupInput{
		Domain: aws.String("nope"), Format: "npm", Package: aws.String("x")})))

	// The hierarchy follows from the patterns.
	for child, parent := range map[string]string{
		"/npm/space/ui-kit$": "/npm/space/ui~", "/npm/space/ui~": "/npm/space/*", "/npm/space/*": "/npm/space~",
		"/npm/space~": "/npm/sp~", "/npm/sp~": "/npm/*", "/npm//*": "/npm/*", "/npm/*": "/*", "/pypi//requests-lib$": "/*",
	} {
		if got := parentOf(e.pgDescribe(child)); got != parent {
			t.Errorf("parent of %s: %q, want %q", child, got, parent)
		}
	}
	for group, children := range map[string][]string{
		"/*":                 {"/npm/*", "/pypi//requests-lib$"},
		"/npm/*":             {"/npm//*", "/npm/sp~"},
		"/npm/sp~":           {"/npm/space~"},
		"/npm/space/ui~":     {"/npm/space/ui-kit$"},
		"/npm/space/ui-kit$": nil,
	} {
		if got := e.pgSub(group); !slices.Equal(got, children) {
			t.Errorf("children of %s: %q, want %q", group, got, children)
		}
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.ListSubPackageGroups(ctx, &codeartifact.ListSubPackageGroupsInput{
		Domain: aws.String("dx"), PackageGroup: aws.String("/npm/absent/*")})))

	// ListAssociatedPackages: each package of the domain (once, whatever
	// the number of repositories holding it) under its own group only.
	for _, p := range [][3]string{{"space", "ui-kit", "one"}, {"space", "ui-kit", "two"}, {"space", "ui-core", "one"}, {"space", "other", "two"},
		{"space", "another", "one"}, {"spacex", "x", "one"}, {"", "react", "two"}, {"abc", "lib", "one"}} {
		e.pgNotePackage(p[2], "npm", p[0], p[1])
	}
	e.pgNotePackage("one", "pypi", "", "Requests_Lib")
	e.pgNotePackage("one", "pypi", "", "flask")
	for group, want := range map[string][]string{
		"/npm/space/*":         {"npm/space/another", "npm/space/other"},
		"/npm/space/ui~":       {"npm/space/ui-core"},
		"/npm/space/ui-kit$":   {"npm/space/ui-kit"},
		"/npm/space~":          {"npm/spacex/x"},
		"/npm/sp~":             nil,
		"/npm//*":              {"npm//react"},
		"/npm/*":               {"npm/abc/lib"},
		"/pypi//requests-lib$": {"pypi//requests-lib"},
		"/*":                   {"pypi//flask"},
	} {
		if got := e.pgAssociatedPackages(group, false); !slices.Equal(got, want) {
			t.Errorf("packages of %s: %q, want %q", group, got, want)
		}
	}
	// preview: what a group that does not exist yet would take over.
	if got := e.pgAssociatedPackages("/npm/space/an~", true); !slices.Equal(got, []string{"npm/space/another"}) {
		t.Errorf("preview of /npm/space/an~: %q", got)
	}
	if got := e.pgAssociatedPackages("/npm/space/*", true); !slices.Equal(got, []string{"npm/space/another", "npm/space/other"}) {
		t.Errorf("preview of an existing group: %q", got)
	}
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.ListAssociatedPackages(ctx, &codeartifact.ListAssociatedPackagesInput{
		Domain: aws.String("dx"), PackageGroup: aws.String("/npm/space/an~")})))
}

func TestPackageGroupOriginControls(t *testing.T) {
	e := newEnv(t)
	e.setup("r1", "r2", "r3")
	for _, p := range []string{"/npm/*", "/npm/space/*", "/npm/space/ui~"} {
		e.pgCreate(p)
	}
	type modes = map[string]types.PackageGroupOriginRestrictionMode
	allowed := func(typ types.PackageGroupOriginRestrictionType, repos ...string) []types.PackageGroupAllowedRepository {
		var out []types.PackageGroupAllowedRepository
		for _, r := range repos {
			out = append(out, types.PackageGroupAllowedRepository{RepositoryName: aws.String(r), OriginRestrictionType: typ})
		}
		return out
	}

	// INHERIT resolves to the nearest ancestor with a mode of its own.
	must(e.pgModes("/npm/*", modes{"PUBLISH": "BLOCK", "EXTERNAL_UPSTREAM": "ALLOW_SPECIFIC_REPOSITORIES"}, nil, nil))(t)
	ui := e.pgDescribe("/npm/space/ui~")
	wantRestriction(t, ui, "PUBLISH", "INHERIT", "BLOCK", "/npm/*", 0)
	wantRestriction(t, ui, "EXTERNAL_UPSTREAM", "INHERIT", "ALLOW_SPECIFIC_REPOSITORIES", "/npm/*", 0)
	wantRestriction(t, ui, "INTERNAL_UPSTREAM", "INHERIT", "ALLOW", "/*", 0)
	must(e.pgModes("/npm/space/*", modes{"PUBLISH": "ALLOW"}, nil, nil))(t)
	wantRestriction(t, e.pgDescribe("/npm/space/ui~"), "PUBLISH", "INHERIT", "ALLOW", "/npm/space/*", 0)
	space := e.pgDescribe("/npm/space/*")
	wantRestriction(t, space, "PUBLISH", "ALLOW", "ALLOW", "", 0)
	wantRestriction(t, space, "EXTERNAL_UPSTREAM", "INHERIT", "ALLOW_SPECIFIC_REPOSITORIES", "/npm/*", 0)

	// Allowed repositories: add, list page by page, remove.
	out := must(e.pgModes("/npm/*", nil, append(allowed("EXTERNAL_UPSTREAM", "r3", "r1", "r2"), allowed("PUBLISH", "r2")...), nil))(t)
	if got := out.AllowedRepositoryUpdates["EXTERNAL_UPSTREAM"]["ADDED"]; !slices.Equal(got, []string{"r3", "r1", "r2"}) {
		t.Errorf("ADDED EXTERNAL_UPSTREAM: %q (%+v)", got, out.AllowedRepositoryUpdates)
	}
	if got := out.AllowedRepositoryUpdates["PUBLISH"]["ADDED"]; !slices.Equal(got, []string{"r2"}) {
		t.Errorf("ADDED PUBLISH: %q", got)
	}
	wantRestriction(t, out.PackageGroup, "EXTERNAL_UPSTREAM", "ALLOW_SPECIFIC_REPOSITORIES", "ALLOW_SPECIFIC_REPOSITORIES", "", 3)
	wantRestriction(t, out.PackageGroup, "PUBLISH", "BLOCK", "BLOCK", "", 1)
	listAllowed := func(typ types.PackageGroupOriginRestrictionType) []string {
		t.Helper()
		var names []string
		p := codeartifact.NewListAllowedRepositoriesForGroupPaginator(e.CA, &codeartifact.ListAllowedRepositoriesForGroupInput{
			Domain: aws.String("dx"), PackageGroup: aws.String("/npm/*"), OriginRestrictionType: typ, MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			names = append(names, must(p.NextPage(ctx))(t).AllowedRepositories...)
		}
		return names
	}
	if got := listAllowed("EXTERNAL_UPSTREAM"); !slices.Equal(got, []string{"r1", "r2", "r3"}) {
		t.Errorf("allowed EXTERNAL_UPSTREAM: %q", got)
	}
	if got := listAllowed("INTERNAL_UPSTREAM"); len(got) != 0 {
		t.Errorf("allowed INTERNAL_UPSTREAM: %q", got)
	}
	out = must(e.pgModes("/npm/*", nil, nil, allowed("EXTERNAL_UPSTREAM", "r3")))(t)
	if got := out.AllowedRepositoryUpdates["EXTERNAL_UPSTREAM"]["REMOVED"]; !slices.Equal(got, []string{"r3"}) {
		t.Errorf("REMOVED: %+v", out.AllowedRepositoryUpdates)
	}
	if got := listAllowed("EXTERNAL_UPSTREAM"); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("allowed after remove: %q", got)
	}
	// The list that applies is the one of the group the mode comes from.
	svc := e.App.Service
	dom := artifact.DomainRef{Name: "dx"}
	for _, c := range []struct {
		ns, pkg, typ, repo string
		allowed            bool
		group              string
	}{
		{"space", "ui-kit", "EXTERNAL_UPSTREAM", "r1", true, "/npm/space/ui~"},
		{"space", "ui-kit", "EXTERNAL_UPSTREAM", "r3", false, "/npm/space/ui~"},
		{"space", "ui-kit", "EXTERNAL_UPSTREAM", "absent", false, "/npm/space/ui~"},
		{"space", "ui-kit", "PUBLISH", "r3", true, "/npm/space/ui~"},
		{"other", "x", "PUBLISH", "r2", false, "/npm/*"}, // BLOCK: the list does not count
		{"other", "x", "INTERNAL_UPSTREAM", "r2", true, "/npm/*"},
	} {
		ok, grp, err := svc.GroupAllows(ctx, dom, "npm", c.ns, c.pkg, c.typ, c.repo)
		if err != nil || ok != c.allowed || grp != c.group {
			t.Errorf("GroupAllows %s/%s %s %s: %v %q %v, want %v %q", c.ns, c.pkg, c.typ, c.repo, ok, grp, err, c.allowed, c.group)
		}
	}

	// Errors: unknown repositories, a repository both added and removed,
	// INHERIT on the root, a missing group or domain.
	wantErr[*types.ResourceNotFoundException](t, must2(e.pgModes("/npm/*", nil, allowed("PUBLISH", "absent"), nil)))
	wantErr[*types.ResourceNotFoundException](t, must2(e.pgModes("/npm/*", nil, nil, allowed("PUBLISH", "absent"))))
	wantErr[*types.ValidationException](t, must2(e.pgModes("/npm/*", nil, allowed("PUBLISH", "r1"), allowed("PUBLISH", "r1"))))
	wantErr[*types.ValidationException](t, must2(e.pgModes("/npm/*", nil, allowed("PUBLISH", "r!"), nil)))
	wantErr[*types.ValidationException](t, must2(e.pgModes("/*", modes{"PUBLISH": "INHERIT"}, nil, nil)))
	wantErr[*types.ResourceNotFoundException](t, must2(e.pgModes("/npm/absent/*", modes{"PUBLISH": "BLOCK"}, nil, nil)))

	// The root's own configuration can change; everything inheriting follows.
	must(e.pgModes("/*", modes{"INTERNAL_UPSTREAM": "BLOCK"}, nil, nil))(t)
	wantRestriction(t, e.pgDescribe("/npm/space/ui~"), "INTERNAL_UPSTREAM", "INHERIT", "BLOCK", "/*", 0)
	wantRestriction(t, e.pgDescribe("/*"), "INTERNAL_UPSTREAM", "BLOCK", "BLOCK", "", 0)

	// Deleting a repository takes it off the lists.
	must(e.CA.DeleteRepository(ctx, &codeartifact.DeleteRepositoryInput{Domain: aws.String("dx"), Repository: aws.String("r1")}))(t)
	if got := listAllowed("EXTERNAL_UPSTREAM"); !slices.Equal(got, []string{"r2"}) {
		t.Errorf("allowed after a repository delete: %q", got)
	}
}

func TestPackageGroupDeleteReparents(t *testing.T) {
	e := newEnv(t)
	e.setup()
	for _, p := range []string{"/npm/*", "/npm/space~", "/npm/space/*", "/npm/space/ui~"} {
		e.pgCreate(p)
	}
	must(e.pgModes("/npm/space~", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "BLOCK"}, nil, nil))(t)
	must(e.pgModes("/npm/*", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES"}, nil, nil))(t)
	space := e.pgDescribe("/npm/space/*")
	if parentOf(space) != "/npm/space~" {
		t.Fatalf("parent %q", parentOf(space))
	}
	wantRestriction(t, space, "PUBLISH", "INHERIT", "BLOCK", "/npm/space~", 0)

	must(e.CA.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/npm/space~")}))(t)
	space = e.pgDescribe("/npm/space/*")
	if parentOf(space) != "/npm/*" {
		t.Errorf("parent after delete: %q", parentOf(space))
	}
	wantRestriction(t, space, "PUBLISH", "INHERIT", "ALLOW_SPECIFIC_REPOSITORIES", "/npm/*", 0)
	wantRestriction(t, e.pgDescribe("/npm/space/ui~"), "PUBLISH", "INHERIT", "ALLOW_SPECIFIC_REPOSITORIES", "/npm/*", 0)
	if got := e.pgSub("/npm/*"); !slices.Equal(got, []string{"/npm/space/*"}) {
		t.Errorf("children of /npm/* after delete: %q", got)
	}
	if grp, _ := e.pgAssociated("npm", "spacex", "a"); grp != "/npm/*" {
		t.Errorf("spacex/a now in %s", grp)
	}
	// Deleting the middle of the chain again: the leaf moves up to /npm/*.
	must(e.CA.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/npm/space/*")}))(t)
	if got := parentOf(e.pgDescribe("/npm/space/ui~")); got != "/npm/*" {
		t.Errorf("parent of the leaf: %q", got)
	}
	// The root cannot be deleted, and is still listed.
	wantErr[*types.ValidationException](t, must2(e.CA.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/*")})))
	if root := e.pgDescribe("/*"); aws.ToString(root.Pattern) != "/*" {
		t.Errorf("root: %+v", root)
	}
}

func TestPackageGroupBlocksPublish(t *testing.T) {
	e := newEnv(t)
	e.setup("ok", "other")
	c := coords{"other", "ns", "tool"}
	must(e.publish(c, "1.0.0", "a.bin", []byte("one"), false))(t)

	e.pgCreate("/generic/ns/*")
	must(e.pgModes("/generic/ns/*", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "BLOCK"}, nil, nil))(t)
	ce := wantErr[*types.ConflictException](t, must2(e.publish(c, "1.0.1", "a.bin", []byte("two"), false)))
	if !strings.Contains(ce.ErrorMessage(), "/generic/ns/*") {
		t.Errorf("message %q does not name the group", ce.ErrorMessage())
	}
	// A new package under the group is refused too; one outside it is not.
	wantErr[*types.ConflictException](t, must2(e.publish(coords{"ok", "ns", "fresh"}, "1.0.0", "a.bin", []byte("x"), false)))
	must(e.publish(coords{"ok", "elsewhere", "fresh"}, "1.0.0", "a.bin", []byte("x"), false))(t)

	// ALLOW_SPECIFIC_REPOSITORIES: only the listed repository may publish.
	must(e.pgModes("/generic/ns/*", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES"},
		[]types.PackageGroupAllowedRepository{{RepositoryName: aws.String("ok"), OriginRestrictionType: "PUBLISH"}}, nil))(t)
	must(e.publish(coords{"ok", "ns", "tool"}, "1.0.0", "a.bin", []byte("fine"), false))(t)
	wantErr[*types.ConflictException](t, must2(e.publish(c, "1.0.2", "a.bin", []byte("three"), false)))

	// A more specific group that inherits takes the same decision; one that
	// allows overrides it.
	e.pgCreate("/generic/ns/tool$")
	wantErr[*types.ConflictException](t, must2(e.publish(c, "1.0.3", "a.bin", []byte("four"), false)))
	must(e.pgModes("/generic/ns/tool$", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "ALLOW"}, nil, nil))(t)
	must(e.publish(c, "1.0.3", "a.bin", []byte("four"), false))(t)

	// Blocking at the root blocks every package that inherits.
	must(e.pgModes("/*", map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "BLOCK"}, nil, nil))(t)
	wantErr[*types.ConflictException](t, must2(e.publish(coords{"ok", "elsewhere", "fresh"}, "2.0.0", "a.bin", []byte("y"), false)))
	must(e.publish(c, "1.0.4", "a.bin", []byte("five"), false))(t) // its own group still allows
}

func TestListPackageGroupsPagination(t *testing.T) {
	e := newEnv(t)
	e.setup()
	var patterns []string
	for i := range 7 {
		patterns = append(patterns, fmt.Sprintf("/npm/scope%d/*", i))
	}
	patterns = append(patterns, "/pypi/*", "/maven/org~", "/npm/*")
	for _, p := range patterns {
		e.pgCreate(p)
	}
	want := append([]string{"/*"}, patterns...)
	slices.Sort(want)
	collect := func(prefix *string, size int32) []string {
		t.Helper()
		var got []string
		pages := 0
		p := codeartifact.NewListPackageGroupsPaginator(e.CA, &codeartifact.ListPackageGroupsInput{Domain: aws.String("dx"), Prefix: prefix, MaxResults: aws.Int32(size)})
		for p.HasMorePages() {
			page := must(p.NextPage(ctx))(t)
			if len(page.PackageGroups) > int(size) {
				t.Fatalf("page of %d for maxResults %d", len(page.PackageGroups), size)
			}
			for _, g := range page.PackageGroups {
				got = append(got, aws.ToString(g.Pattern))
			}
			pages++
		}
		return got
	}
	for _, size := range []int32{1, 3, 100} {
		if got := collect(nil, size); !slices.Equal(got, want) {
			t.Errorf("maxResults %d: %q, want %q", size, got, want)
		}
	}
	var npm []string
	for _, p := range want {
		if strings.HasPrefix(p, "/npm/scope") {
			npm = append(npm, p)
		}
	}
	if got := collect(aws.String("/npm/scope"), 2); !slices.Equal(got, npm) {
		t.Errorf("prefix /npm/scope: %q, want %q", got, npm)
	}
	if got := collect(aws.String("/"), 4); !slices.Equal(got, want) {
		t.Errorf("prefix /: %q", got)
	}
	if got := collect(aws.String("/cargo"), 4); len(got) != 0 {
		t.Errorf("prefix /cargo: %q", got)
	}
	// Summaries carry the whole description.
	page := must(e.CA.ListPackageGroups(ctx, &codeartifact.ListPackageGroupsInput{Domain: aws.String("dx"), Prefix: aws.String("/npm/scope1/")}))(t)
	if len(page.PackageGroups) != 1 || parentOf(&types.PackageGroupDescription{Parent: page.PackageGroups[0].Parent}) != "/npm/*" ||
		page.PackageGroups[0].OriginConfiguration == nil || len(page.PackageGroups[0].OriginConfiguration.Restrictions) != 3 {
		t.Errorf("summary: %+v", page.PackageGroups)
	}
	wantErr[*types.ValidationException](t, must2(e.CA.ListPackageGroups(ctx, &codeartifact.ListPackageGroupsInput{Domain: aws.String("dx"), NextToken: aws.String("bogus!")})))
	wantErr[*types.ResourceNotFoundException](t, must2(e.CA.ListPackageGroups(ctx, &codeartifact.ListPackageGroupsInput{Domain: aws.String("nope")})))
}

func TestPackageGroupAuthorization(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.pgCreate("/npm/*")
	e.pgCreate("/pypi/*")
	dev := e.user("dev")
	describe := func(pattern string) error {
		return must2(dev.DescribePackageGroup(ctx, &codeartifact.DescribePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String(pattern)}))
	}
	wantErr[*types.AccessDeniedException](t, describe("/npm/*"))

	// Actions on a group are granted on its ARN (the pattern encoded, so a
	// policy wildcard covers it); creation and GetAssociatedPackageGroup on
	// the domain.
	e.putUserPolicy("dev", "groups", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["codeartifact:DescribePackageGroup","codeartifact:UpdatePackageGroupOriginConfiguration"],
		 "Resource":"arn:aws:codeartifact:us-east-1:`+account+`:package-group/dx/npm/*"},
		{"Effect":"Allow","Action":["codeartifact:CreatePackageGroup","codeartifact:GetAssociatedPackageGroup"],
		 "Resource":"arn:aws:codeartifact:us-east-1:`+account+`:domain/dx"}]}`)
	if err := describe("/npm/*"); err != nil {
		t.Fatalf("DescribePackageGroup /npm/*: %v", err)
	}
	deny := wantErr[*types.AccessDeniedException](t, describe("/pypi/*"))
	if !strings.Contains(deny.ErrorMessage(), groupARNPrefix+"/pypi/%2a") {
		t.Errorf("denial names %q", deny.ErrorMessage())
	}
	must(dev.CreatePackageGroup(ctx, &codeartifact.CreatePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/npm/space/*")}))(t)
	must(dev.UpdatePackageGroupOriginConfiguration(ctx, &codeartifact.UpdatePackageGroupOriginConfigurationInput{Domain: aws.String("dx"),
		PackageGroup: aws.String("/npm/space/*"), Restrictions: map[string]types.PackageGroupOriginRestrictionMode{"PUBLISH": "BLOCK"}}))(t)
	must(dev.GetAssociatedPackageGroup(ctx, &codeartifact.GetAssociatedPackageGroupInput{Domain: aws.String("dx"), Format: "pypi", Package: aws.String("x")}))(t)
	wantErr[*types.AccessDeniedException](t, must2(dev.DeletePackageGroup(ctx, &codeartifact.DeletePackageGroupInput{Domain: aws.String("dx"), PackageGroup: aws.String("/npm/space/*")})))
	wantErr[*types.AccessDeniedException](t, must2(dev.ListPackageGroups(ctx, &codeartifact.ListPackageGroupsInput{Domain: aws.String("dx")})))
}
