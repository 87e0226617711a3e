package iam

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/store"
)

// expiredKeyGrace keeps expired session keys a day before AssumeRole sweeps
// them, so that their holders hear ExpiredToken rather than an unknown key.
const expiredKeyGrace = 24 * time.Hour

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	ARN           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     stsCredentials  `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
}

// assumeRole creates a role session: a temporary ASIA key with a session
// token, valid DurationSeconds. The role's trust policy must allow the
// caller (policy.EvaluateTrust: a trust policy naming the caller suffices,
// one naming only the account also needs an identity-policy Allow for
// sts:AssumeRole on the role). A missing role is refused like an untrusted
// one, as STS does, so that callers cannot probe for role names.
func (c *call) assumeRole() (any, error) {
	roleARN, session, dur, err := c.sessionParams()
	if err != nil {
		return nil, err
	}
	externalID, err := c.str(pExternalID)
	if err != nil {
		return nil, err
	}
	denied := accessDenied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.p.ARN, roleARN)
	_, name, ok := c.id.splitARN(roleARN, "role")
	if !ok {
		if !strings.HasPrefix(roleARN, "arn:") {
			return nil, validationError("%s is invalid", roleARN)
		}
		return nil, denied
	}
	role, err := c.roleForSession(name, roleARN, denied)
	if err != nil {
		return nil, err
	}
	trust, err := c.id.parsed.parse(role.AssumeRolePolicy, policy.KindTrust)
	if err != nil {
		return nil, err
	}
	identity, err := c.id.IdentityPolicies(c.ctx, c.p)
	if err != nil {
		return nil, err
	}
	req, err := c.id.principalRequest(c.ctx, c.p, "sts:AssumeRole", role.ARN)
	if err != nil {
		return nil, err
	}
	req.Set("sts:RoleSessionName", session)
	if externalID != "" {
		req.Set("sts:ExternalId", externalID)
	}
	if !policy.EvaluateTrust(req, trust, identity, c.p.Account == c.id.accountID).Allowed {
		return nil, denied
	}
	switch {
	case c.p.Type == auth.TypeAssumedRole && dur > chainedSessionLimit:
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case dur > role.MaxSessionDuration:
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return c.id.newSession(c, role, keyInfo{SessionName: session}, time.Duration(dur)*time.Second)
}

// sessionParams reads the parameters every AssumeRole variant has: the
// role, the session name and the duration; session policies and options
// this server does not support are refused.
func (c *call) sessionParams() (roleARN, session string, dur int, err error) {
	if roleARN, err = c.required(pRoleARN); err != nil {
		return "", "", 0, err
	}
	if session, err = c.required(pSessionName); err != nil {
		return "", "", 0, err
	}
	if dur, err = c.intParam("DurationSeconds", minSessionDuration, maxSessionDuration, defaultSessionDuration); err != nil {
		return "", "", 0, err
	}
	return roleARN, session, dur, c.unsupportedSessionOptions()
}

// roleForSession reads the role name of roleARN; a missing role, or one
// re-created under the same name with another ARN, is refused with denied,
// as STS does, so that callers cannot probe for role names.
func (c *call) roleForSession(name, roleARN string, denied error) (*store.IAMRole, error) {
	var role *store.IAMRole
	err := c.read(func(tx store.Tx) error {
		var err error
		role, err = tx.GetRole(name)
		return err
	})
	if isNotFound(err) || err == nil && role.ARN != roleARN {
		return nil, denied
	}
	return role, err
}

// unsupportedSessionOptions refuses session policies and session tags:
// ignoring a session policy would hand out more than the caller asked for.
func (c *call) unsupportedSessionOptions() error {
	for k := range c.form {
		switch {
		case k == "Policy" || strings.HasPrefix(k, "PolicyArns."):
			return validationError("Session policies (Policy, PolicyArns) are not supported by this server.")
		case strings.HasPrefix(k, "Tags.") || strings.HasPrefix(k, "TransitiveTagKeys."):
			return validationError("Session tags are not supported by this server.")
		case k == "SerialNumber" || k == "TokenCode":
			return validationError("MFA is not supported by this server.")
		}
	}
	return nil
}

// newSession stores a session key for role described by info (its session
// name, and what a web identity adds) and returns its credentials.
func (id *Identity) newSession(c *call, role *store.IAMRole, info keyInfo, dur time.Duration) (assumeRoleResult, error) {
	info.Type, info.RoleName, info.RoleID = auth.TypeAssumedRole, role.Name, role.RoleID
	session := info.SessionName
	now := id.now()
	exp := now.Add(dur).Truncate(time.Second)
	secret, token := randomString(40, secretChars), sessionToken()
	k := &store.AccessKey{AccessKeyID: "ASIA" + randomString(16, upperDigits),
		SecretEncrypted: id.sealer.Seal([]byte(secret), sealAccessKey), SessionToken: id.sealer.Seal([]byte(token), sealSessionToken),
		PrincipalARN: id.sessionARN(role.Name, session), Status: statusActive, CreatedTime: now, Expiration: exp,
		Principal: mustJSON(info)}
	err := c.write(func(tx store.Tx) error {
		if _, err := tx.DeleteExpiredAccessKeys(now.Add(-expiredKeyGrace)); err != nil {
			return err
		}
		return tx.CreateAccessKey(k)
	})
	if err != nil {
		return assumeRoleResult{}, err
	}
	return assumeRoleResult{
		Credentials:     stsCredentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: secret, SessionToken: token, Expiration: isoTime(exp)},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: role.RoleID + ":" + session, ARN: k.PrincipalARN},
	}, nil
}

// sessionToken is an opaque random token, base64 like STS's own.
func sessionToken() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	ARN     string `xml:"Arn"`
}

// getCallerIdentity needs no permission, as in AWS.
func (c *call) getCallerIdentity() (any, error) {
	return callerIdentityResult{UserID: c.p.UserID, Account: c.p.Account, ARN: c.p.ARN}, nil
}
