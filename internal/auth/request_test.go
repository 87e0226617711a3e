package auth

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestPolicyRequest checks the condition keys every surface's requests carry.
func TestPolicyRequest(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	session := &Principal{ARN: "arn:aws:sts::111122223333:assumed-role/Builder/run-42", Account: "111122223333", Type: TypeAssumedRole,
		UserID: "AROAEXAMPLE:run-42", RoleARN: "arn:aws:iam::111122223333:role/ci/Builder"}
	federated := &Principal{ARN: "arn:aws:sts::111122223333:assumed-role/Deploy/gha", Account: "111122223333", Type: TypeAssumedRole,
		UserID: "AROAEXAMPLE:gha", RoleARN: "arn:aws:iam::111122223333:role/Deploy",
		Federated: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}
	user := &Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", Type: TypeUser, UserID: "AIDAEXAMPLE", Username: "alice"}
	get := func(ctx context.Context, p *Principal, tags map[string]string, key string) []string {
		r := PolicyRequest(ctx, p, tags, "codeartifact:CreateRepository", "arn:aws:codeartifact:us-east-1:111122223333:domain/d", now)
		return r.Value(key)
	}
	ctx := context.Background()
	cases := []struct {
		name string
		got  []string
		want []string
	}{
		// IAM User Guide, global condition keys, aws:PrincipalArn: for a role
		// session, the ARN of the role, not of the session.
		{"role session's aws:PrincipalArn is the role", get(ctx, session, nil, "aws:principalarn"), []string{session.RoleARN}},
		{"user's aws:PrincipalArn", get(ctx, user, nil, "aws:principalarn"), []string{user.ARN}},
		{"aws:username of a user", get(ctx, user, nil, "aws:username"), []string{"alice"}},
		{"no aws:username for a session", get(ctx, session, nil, "aws:username"), nil},
		{"aws:PrincipalTag", get(ctx, user, map[string]string{"Team": "blue"}, "aws:principaltag/team"), []string{"blue"}},
		{"aws:CurrentTime", get(ctx, user, nil, "aws:currenttime"), []string{"2025-01-02T03:04:05Z"}},
		{"aws:RequestTag", get(WithRequestTags(ctx, map[string]string{"costcenter": "1"}), user, nil, "aws:requesttag/costcenter"), []string{"1"}},
		{"aws:TagKeys of tags", get(WithRequestTags(ctx, map[string]string{"costcenter": "1"}), user, nil, "aws:tagkeys"), []string{"costcenter"}},
		{"aws:TagKeys of removed keys", get(WithTagKeys(ctx, []string{"a", "b"}), user, nil, "aws:tagkeys"), []string{"a", "b"}},
		{"no aws:TagKeys without tags", get(ctx, user, nil, "aws:tagkeys"), nil},
		{"tag keys differing in case are values of one key",
			sorted(get(WithRequestTags(ctx, map[string]string{"Key1": "x", "key1": "y"}), user, nil, "aws:requesttag/key1")), []string{"x", "y"}},
		{"sts:DurationSeconds", get(WithDurationSeconds(ctx, 0), session, nil, "sts:durationseconds"), []string{"0"}},
		{"no sts:DurationSeconds unless given", get(ctx, session, nil, "sts:durationseconds"), nil},
		// IAM User Guide, global condition keys, aws:FederatedProvider: the
		// identity provider of a role session from AssumeRoleWithWebIdentity.
		{"aws:FederatedProvider of a web-identity session", get(ctx, federated, nil, "aws:federatedprovider"), []string{federated.Federated}},
		{"no aws:FederatedProvider otherwise", get(ctx, session, nil, "aws:federatedprovider"), nil},
		{"keys accumulate", get(WithDurationSeconds(WithTagKeys(ctx, []string{"k"}), 900), user, nil, "aws:tagkeys"), []string{"k"}},
	}
	for _, c := range cases {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }
