package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const thumb1, thumb2 = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280", "1C58A3A8518E8759BF075B76B750D4F2DF264FCD"

func oidcTagString(tags []types.Tag) string {
	var s []string
	for _, t := range tags {
		s = append(s, *t.Key+"="+*t.Value)
	}
	return strings.Join(s, ",")
}

func TestOpenIDConnectProviders(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()

	created := must[*iam.CreateOpenIDConnectProviderOutput](t)(r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://Token.Example.com/gh"), ClientIDList: []string{"sts.amazonaws.com", "sts.amazonaws.com", "other"},
		ThumbprintList: []string{thumb1}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}}))
	arn := "arn:aws:iam::123456789012:oidc-provider/token.example.com/gh"
	if *created.OpenIDConnectProviderArn != arn || oidcTagString(created.Tags) != "team=ci" {
		t.Fatalf("created %s %v", *created.OpenIDConnectProviderArn, oidcTagString(created.Tags))
	}
	_, err := r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.example.com/gh")})
	wantErr(t, err, "EntityAlreadyExists", 409, "already exists")
	for _, bad := range []string{"http://token.example.com", "https://token.example.com/?x=1", "https://user@token.example.com", "token.example.com", "https://"} {
		_, err = r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(bad)})
		wantErr(t, err, "InvalidInput", 400, "Invalid Url")
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint("client-", i)
	}
	_, err = r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://other.example.com"), ClientIDList: many})
	wantErr(t, err, "LimitExceeded", 409, "ClientIdsPerOpenIdConnectProvider")
	_, err = r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://other.example.com"),
		ThumbprintList: []string{thumb1, thumb1, thumb1, thumb1, thumb1, thumb1}})
	wantErr(t, err, "InvalidInput", 400, "Thumbprint list")
	_, err = r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://other.example.com"),
		ThumbprintList: []string{"abc"}})
	wantErr(t, err, "ValidationError", 400, "thumbprintList.1.member")
	_, err = r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://other.example.com"),
		Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
	wantErr(t, err, "InvalidInput", 400, "aws:")

	got := must[*iam.GetOpenIDConnectProviderOutput](t)(r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}))
	if *got.Url != "token.example.com/gh" || strings.Join(got.ClientIDList, ",") != "sts.amazonaws.com,other" ||
		strings.Join(got.ThumbprintList, ",") != thumb1 || oidcTagString(got.Tags) != "team=ci" || time.Since(*got.CreateDate) > time.Minute {
		t.Fatalf("provider %+v", got)
	}

	must[*iam.AddClientIDToOpenIDConnectProviderOutput](t)(r.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("third")}))
	must[*iam.AddClientIDToOpenIDConnectProviderOutput](t)(r.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("third")}))
	must[*iam.RemoveClientIDFromOpenIDConnectProviderOutput](t)(r.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("other")}))
	must[*iam.RemoveClientIDFromOpenIDConnectProviderOutput](t)(r.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("never-there")}))
	must[*iam.UpdateOpenIDConnectProviderThumbprintOutput](t)(r.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{
		OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: []string{thumb2, thumb1}}))
	must[*iam.TagOpenIDConnectProviderOutput](t)(r.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("TEAM"), Value: aws.String("build")}, {Key: aws.String("env"), Value: aws.String("prod")}}}))
	got = must[*iam.GetOpenIDConnectProviderOutput](t)(r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}))
	if strings.Join(got.ClientIDList, ",") != "sts.amazonaws.com,third" || strings.Join(got.ThumbprintList, ",") != strings.ToLower(thumb2)+","+thumb1 ||
		oidcTagString(got.Tags) != "TEAM=build,env=prod" {
		t.Fatalf("provider after changes %v %v %v", got.ClientIDList, got.ThumbprintList, oidcTagString(got.Tags))
	}
	must[*iam.UntagOpenIDConnectProviderOutput](t)(r.UntagOpenIDConnectProvider(ctx, &iam.UntagOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(arn), TagKeys: []string{"team", "missing"}}))
	lt := must[*iam.ListOpenIDConnectProviderTagsOutput](t)(r.ListOpenIDConnectProviderTags(ctx, &iam.ListOpenIDConnectProviderTagsInput{
		OpenIDConnectProviderArn: aws.String(arn)}))
	if oidcTagString(lt.Tags) != "env=prod" || lt.IsTruncated {
		t.Fatalf("tags %v", oidcTagString(lt.Tags))
	}
	var fifty []types.Tag
	for i := range 50 {
		fifty = append(fifty, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err = r.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: fifty})
	wantErr(t, err, "LimitExceeded", 409, "TagsPerOpenIdConnectProvider")
	many = many[:98] // with the two it has, 100
	for _, id := range many {
		must[*iam.AddClientIDToOpenIDConnectProviderOutput](t)(r.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(id)}))
	}
	_, err = r.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("one-too-many")})
	wantErr(t, err, "LimitExceeded", 409, "ClientIdsPerOpenIdConnectProvider")

	list := must[*iam.ListOpenIDConnectProvidersOutput](t)(r.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{}))
	if len(list.OpenIDConnectProviderList) != 1 || *list.OpenIDConnectProviderList[0].Arn != arn {
		t.Fatalf("list %+v", list.OpenIDConnectProviderList)
	}

	// Missing and malformed ARNs.
	_, err = r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn + "x")})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+arn+"x")
	_, err = r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::123456789012:role/x")})
	wantErr(t, err, "InvalidInput", 400, "")
	_, err = r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::999999999999:oidc-provider/token.example.com/gh")})
	wantErr(t, err, "NoSuchEntity", 404, "")

	must[*iam.DeleteOpenIDConnectProviderOutput](t)(r.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}))
	_, err = r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	wantErr(t, err, "NoSuchEntity", 404, "")
	_, err = r.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	wantErr(t, err, "NoSuchEntity", 404, "")

	// The account quota: 100 providers.
	for i := range 100 {
		must[*iam.CreateOpenIDConnectProviderOutput](t)(r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
			Url: aws.String(fmt.Sprintf("https://idp.example.com/%d", i))}))
	}
	_, err = r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com/last")})
	wantErr(t, err, "LimitExceeded", 409, "OpenIdConnectProvidersPerAccount")
	list = must[*iam.ListOpenIDConnectProvidersOutput](t)(r.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{}))
	if len(list.OpenIDConnectProviderList) != 100 {
		t.Fatalf("%d providers listed", len(list.OpenIDConnectProviderList))
	}
}

// TestOpenIDConnectProviderAuthorization: each operation is its own IAM
// action on the provider's ARN; tags on a new provider also need
// iam:TagOpenIDConnectProvider, and tag conditions see the request's tags.
func TestOpenIDConnectProviderAuthorization(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.root()
	alice := e.iamAs(e.user("alice"))
	prov := "arn:aws:iam::123456789012:oidc-provider/idp.example.com"

	_, err := alice.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com")})
	wantErr(t, err, "AccessDenied", 403, "iam:CreateOpenIDConnectProvider on resource: "+prov)
	must[*iam.PutUserPolicyOutput](t)(r.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("oidc"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iam:CreateOpenIDConnectProvider","iam:GetOpenIDConnectProvider"],"Resource":"arn:aws:iam::123456789012:oidc-provider/idp.example.com*"},
			{"Effect":"Allow","Action":"iam:TagOpenIDConnectProvider","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"ci"}}}]}`)}))
	_, err = alice.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}})
	wantErr(t, err, "AccessDenied", 403, "iam:TagOpenIDConnectProvider")
	must[*iam.CreateOpenIDConnectProviderOutput](t)(alice.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://idp.example.com"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}}))
	must[*iam.GetOpenIDConnectProviderOutput](t)(alice.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(prov)}))
	// Not allowed to ask about a provider outside the policy's resources:
	// refused before the caller learns whether it exists.
	_, err = alice.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::123456789012:oidc-provider/elsewhere.example.com")})
	wantErr(t, err, "AccessDenied", 403, "")
	_, err = alice.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(prov)})
	wantErr(t, err, "AccessDenied", 403, "iam:DeleteOpenIDConnectProvider")
	_, err = alice.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	wantErr(t, err, "AccessDenied", 403, "iam:ListOpenIDConnectProviders")
	got := must[*iam.GetOpenIDConnectProviderOutput](t)(r.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(prov)}))
	if oidcTagString(got.Tags) != "team=ci" || !slices.Equal(got.ClientIDList, nil) {
		t.Fatalf("provider %+v", got)
	}
}
