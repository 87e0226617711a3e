package iam

import (
	"context"
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/auth/sigv4"
	"coffer/internal/auth/webidentity"
	"coffer/internal/auth/webidentity/oidctest"
	"coffer/internal/store"
)

// webTrust is a GitHub Actions trust policy for provider: audience
// sts.amazonaws.com, any ref of octo-org/octo-repo; extra statements are
// appended.
func webTrust(providerARN, name string, extra ...string) string {
	stmts := append([]string{`{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
		`"Condition":{"StringEquals":{"` + name + `:aud":"sts.amazonaws.com"},"StringLike":{"` + name + `:sub":"repo:octo-org/octo-repo:*"}}}`}, extra...)
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

type webEnv struct {
	*testEnv
	is          *oidctest.Issuer
	key         oidctest.Key
	providerARN string
	roleARN     string
}

func newWebEnv(t *testing.T) *webEnv {
	e := newTestEnv(t)
	is := oidctest.Start(t, "/gh")
	key := oidctest.NewRSAKey(t, "k1")
	is.SetKeys(key)
	e.id.web = webidentity.New(webidentity.Config{Client: is.Client})
	ctx := context.Background()
	r := e.root()
	prov := must[*iam.CreateOpenIDConnectProviderOutput](t)(r.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(is.URL), ClientIDList: []string{"sts.amazonaws.com"}}))
	if want := "arn:aws:iam::123456789012:oidc-provider/" + is.Host(); *prov.OpenIDConnectProviderArn != want {
		t.Fatalf("provider ARN %s, want %s", *prov.OpenIDConnectProviderArn, want)
	}
	role := must[*iam.CreateRoleOutput](t)(r.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"), MaxSessionDuration: aws.Int32(7200),
		AssumeRolePolicyDocument: aws.String(webTrust(*prov.OpenIDConnectProviderArn, is.Host()))}))
	must[*iam.PutRolePolicyOutput](t)(r.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(allow("iam:ListRoles", "*"))}))
	return &webEnv{testEnv: e, is: is, key: key, providerARN: *prov.OpenIDConnectProviderArn, roleARN: *role.Role.Arn}
}

func (w *webEnv) assume(token string, mod ...func(*sts.AssumeRoleWithWebIdentityInput)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(w.roleARN), RoleSessionName: aws.String("gh-run-1"), WebIdentityToken: aws.String(token)}
	for _, m := range mod {
		m(in)
	}
	return w.stsAs(aws.AnonymousCredentials{}).AssumeRoleWithWebIdentity(context.Background(), in)
}

func (w *webEnv) token(mod func(map[string]any)) string {
	c := w.is.GitHubClaims("octo-org/octo-repo", "refs/heads/main", time.Now())
	if mod != nil {
		mod(c)
	}
	return oidctest.Sign(w.t, w.key, c)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	w := newWebEnv(t)
	ctx := context.Background()

	out := must[*sts.AssumeRoleWithWebIdentityOutput](t)(w.assume(w.token(nil), func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(1800) }))
	wantARN := "arn:aws:sts::123456789012:assumed-role/ci/gh-run-1"
	if *out.AssumedRoleUser.Arn != wantARN || !strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":gh-run-1") ||
		*out.SubjectFromWebIdentityToken != "repo:octo-org/octo-repo:ref:refs/heads/main" || *out.Provider != w.providerARN ||
		*out.Audience != "sts.amazonaws.com" || out.SourceIdentity != nil {
		t.Fatalf("result %+v %+v", out, out.AssumedRoleUser)
	}
	if d := time.Until(*out.Credentials.Expiration); d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("session lasts %v", d)
	}
	c := out.Credentials
	session := creds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	who := must[*sts.GetCallerIdentityOutput](t)(w.stsAs(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *who.Arn != wantARN || *who.UserId != *out.AssumedRoleUser.AssumedRoleId {
		t.Fatalf("caller %s %s", *who.Arn, *who.UserId)
	}
	must[*iam.ListRolesOutput](t)(w.iamAs(session).ListRoles(ctx, &iam.ListRolesInput{}))
	_, err := w.iamAs(session).ListUsers(ctx, &iam.ListUsersInput{})
	wantErr(t, err, "AccessDenied", 403, "")
	cred := must[*sigv4.Credential](t)(w.id.Lookup(ctx, *c.AccessKeyId))
	if p := cred.Principal; p.Type != auth.TypeAssumedRole || p.Federated != w.providerARN || p.RoleARN != w.roleARN || p.SessionTags != nil {
		t.Fatalf("session principal %+v", p)
	}

	// The default duration is an hour; above the role's maximum is refused.
	out = must[*sts.AssumeRoleWithWebIdentityOutput](t)(w.assume(w.token(nil)))
	if d := time.Until(*out.Credentials.Expiration); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("default session lasts %v", d)
	}
	_, err = w.assume(w.token(nil), func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(7201) })
	wantErr(t, err, "ValidationError", 400, "MaxSessionDuration")
}

func TestAssumeRoleWithWebIdentityRefusals(t *testing.T) {
	w := newWebEnv(t)
	b64 := base64.RawURLEncoding
	good := w.token(nil)
	parts := strings.Split(good, ".")
	payload, _ := b64.DecodeString(parts[1])
	tampered := parts[0] + "." + b64.EncodeToString([]byte(strings.ReplaceAll(string(payload), "refs/heads/main", "refs/heads/evil"))) + "." + parts[2]
	other := oidctest.Start(t, "")

	cases := []struct {
		name, token, code string
		status            int
		msg               string
		mod               func(*sts.AssumeRoleWithWebIdentityInput)
	}{
		{"another repository", w.token(func(c map[string]any) { c["sub"] = "repo:evil-org/octo-repo:ref:refs/heads/main" }),
			"AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity", nil},
		{"expired", w.token(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "ExpiredTokenException", 400, "Token expired", nil},
		{"unknown key", oidctest.Sign(t, oidctest.NewECKey(t, "stranger"), w.is.GitHubClaims("octo-org/octo-repo", "refs/heads/main", time.Now())),
			"InvalidIdentityToken", 400, "Couldn't retrieve verification key", nil},
		{"wrong audience", w.token(func(c map[string]any) { c["aud"] = []string{"https://github.com/octo-org"} }), "InvalidIdentityToken", 400, "Incorrect token audience", nil},
		{"tampered payload", tampered, "InvalidIdentityToken", 400, "could not be validated", nil},
		{"unregistered issuer", oidctest.Sign(t, w.key, other.GitHubClaims("octo-org/octo-repo", "refs/heads/main", time.Now())),
			"InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for " + other.URL, nil},
		{"not a JWT", "eyJhbGciOiJub25lIn0.e30.", "InvalidIdentityToken", 400, "not a valid JWT", nil},
		{"missing role", good, "AccessDenied", 403, "Not authorized", func(in *sts.AssumeRoleWithWebIdentityInput) {
			in.RoleArn = aws.String("arn:aws:iam::123456789012:role/nope")
		}},
		{"provider id", good, "ValidationError", 400, "ProviderId", func(in *sts.AssumeRoleWithWebIdentityInput) { in.ProviderId = aws.String("www.amazon.com") }},
		{"session policy", good, "ValidationError", 400, "Session policies", func(in *sts.AssumeRoleWithWebIdentityInput) { in.Policy = aws.String(allow("*", "*")) }},
		{"bad session name", good, "ValidationError", 400, "roleSessionName", func(in *sts.AssumeRoleWithWebIdentityInput) { in.RoleSessionName = aws.String("bad name") }},
		{"short duration", good, "ValidationError", 400, "durationSeconds", func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(899) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(*sts.AssumeRoleWithWebIdentityInput)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			_, err := w.assume(tc.token, mods...)
			wantErr(t, err, tc.code, tc.status, tc.msg)
		})
	}

	// An issuer that cannot be reached.
	gone := oidctest.Start(t, "/down")
	must[*iam.CreateOpenIDConnectProviderOutput](t)(w.root().CreateOpenIDConnectProvider(context.Background(), &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(gone.URL), ClientIDList: []string{"sts.amazonaws.com"}}))
	tok := oidctest.Sign(t, w.key, gone.GitHubClaims("octo-org/octo-repo", "refs/heads/main", time.Now()))
	w.id.web = webidentity.New(webidentity.Config{Client: gone.Client})
	gone.Close()
	_, err := w.assume(tok)
	wantErr(t, err, "IDPCommunicationError", 400, "")

	// Only AssumeRoleWithWebIdentity is served unsigned.
	resp, err := http.PostForm(w.srv.URL, url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned GetCallerIdentity: %s", resp.Status)
	}
}

// TestWebIdentitySessionTags: the token's https://aws.amazon.com/tags claim
// becomes the session's tags (with the trust policy's sts:TagSession),
// surfaced on the principal of its key and of tokens minted from it.
func TestWebIdentitySessionTags(t *testing.T) {
	w := newWebEnv(t)
	ctx := context.Background()
	withTags := func(c map[string]any) {
		c[claimSessionTags] = map[string]any{"principal_tags": map[string]any{"Team": []string{"payments"}, "Env": []string{"ci"}},
			"transitive_tag_keys": []string{"Team"}}
	}
	_, err := w.assume(w.token(withTags))
	wantErr(t, err, "AccessDenied", 403, "sts:TagSession")

	tagStmt := `{"Effect":"Allow","Principal":{"Federated":"` + w.providerARN + `"},"Action":"sts:TagSession",` +
		`"Condition":{"StringEquals":{"aws:RequestTag/Team":"payments"},"ForAllValues:StringEquals":{"sts:TransitiveTagKeys":["Team"]}}}`
	must[*iam.UpdateAssumeRolePolicyOutput](t)(w.root().UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ci"),
		PolicyDocument: aws.String(webTrust(w.providerARN, w.is.Host(), tagStmt))}))
	out := must[*sts.AssumeRoleWithWebIdentityOutput](t)(w.assume(w.token(withTags)))
	p := must[*sigv4.Credential](t)(w.id.Lookup(ctx, *out.Credentials.AccessKeyId)).Principal
	want := map[string]string{"Team": "payments", "Env": "ci"}
	if !maps.Equal(p.SessionTags, want) || p.Federated != w.providerARN {
		t.Fatalf("session principal %+v", p)
	}
	dom := &artifact.Domain{Domain: store.Domain{Owner: testAccount, Name: "demo"}}
	tok, _, err := w.id.Mint(auth.WithPrincipal(ctx, p), dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	tp := must[*auth.Principal](t)(w.id.TokenPrincipal(ctx, tok, testAccount, "demo"))
	if !maps.Equal(tp.SessionTags, want) || tp.Federated != w.providerARN {
		t.Fatalf("token principal %+v", tp)
	}

	// A tag value the trust policy does not allow, and malformed claims.
	_, err = w.assume(w.token(func(c map[string]any) {
		c[claimSessionTags] = map[string]any{"principal_tags": map[string]any{"Team": []string{"other"}}}
	}))
	wantErr(t, err, "AccessDenied", 403, "sts:TagSession")
	for _, bad := range []map[string]any{
		{"principal_tags": map[string]any{"Team": []string{"a", "b"}}},
		{"principal_tags": map[string]any{"aws:x": []string{"a"}}},
		{"principal_tags": map[string]any{"Team": []string{"a"}, "team": []string{"b"}}},
		{"principal_tags": map[string]any{"Team": []string{"a"}}, "transitive_tag_keys": []string{"Env"}},
	} {
		_, err = w.assume(w.token(func(c map[string]any) { c[claimSessionTags] = bad }))
		wantErr(t, err, "InvalidIdentityToken", 400, claimSessionTags)
	}
}
