package iam

import (
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/auth"
	"coffer/internal/auth/policy"
	"coffer/internal/auth/webidentity"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// Web identity federation (sts:AssumeRoleWithWebIdentity), as STS does it
// for OpenID Connect providers: the request is unsigned, the token is the
// credential. Its iss must be the URL of an OpenID Connect provider of the
// account, its signature must verify with the issuer's published keys
// (package webidentity), its aud must name one of the provider's client
// ids, and the role's trust policy must allow the provider (Principal
// {"Federated": "<provider ARN>"}) the action, with these condition keys:
//
//	<name>:sub, <name>:aud (the client id matched), <name>:amr (when present),
//	sts:RoleSessionName, sts:SourceIdentity, aws:FederatedProvider,
//	aws:CurrentTime, aws:EpochTime, aws:SourceIp, aws:SecureTransport
//
// where <name> is the provider URL without https://. Session tags come from
// the token's https://aws.amazon.com/tags claim ({"principal_tags":
// {"k": ["v"]}, "transitive_tag_keys": ["k"]}) and need sts:TagSession in
// the trust policy; a https://aws.amazon.com/source_identity claim needs
// sts:SetSourceIdentity. The session is an AssumedRole principal like an
// AssumeRole session, carrying the provider and its session tags.

const (
	claimSessionTags    = "https://aws.amazon.com/tags"
	claimSourceIdentity = "https://aws.amazon.com/source_identity"
	maxSessionTags      = 50
	actionWebIdentity   = "sts:AssumeRoleWithWebIdentity"
)

var (
	pWebIdentityToken = param{"WebIdentityToken", 4, 20000, nil}
	reSourceIdentity  = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

type webIdentityResult struct {
	Credentials                 stsCredentials  `xml:"Credentials"`
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	Provider                    string          `xml:"Provider"`
	Audience                    string          `xml:"Audience"`
	SourceIdentity              string          `xml:"SourceIdentity,omitempty"`
}

func invalidIdentityToken(format string, args ...any) error {
	return coded(fault.KindValidation, codeInvalidIdentityToken, format, args...)
}

func (c *call) assumeRoleWithWebIdentity() (any, error) {
	roleARN, session, dur, err := c.sessionParams()
	if err != nil {
		return nil, err
	}
	raw, err := c.required(pWebIdentityToken)
	if err != nil {
		return nil, err
	}
	if c.form.Has("ProviderId") {
		return nil, validationError("ProviderId names an OAuth 2.0 provider; this server accepts OpenID Connect ID tokens only: leave it out.")
	}
	_, roleName, ok := c.id.splitARN(roleARN, "role")
	if !ok && !strings.HasPrefix(roleARN, "arn:") {
		return nil, validationError("%s is invalid", roleARN)
	}

	provider, claims, audience, err := c.verifyWebIdentity(raw)
	if err != nil {
		return nil, err
	}
	providerARN := c.id.oidcProviderARN(provider.name())
	tags, transitive, err := sessionTagsOf(claims)
	if err != nil {
		return nil, err
	}
	sourceIdentity, err := sourceIdentityOf(claims)
	if err != nil {
		return nil, err
	}

	denied := accessDenied("Not authorized to perform %s", actionWebIdentity)
	if !ok {
		return nil, denied
	}
	role, err := c.roleForSession(roleName, roleARN, denied)
	if err != nil {
		return nil, err
	}
	trust, err := c.id.parsed.parse(role.AssumeRolePolicy, policy.KindTrust)
	if err != nil {
		return nil, err
	}
	req := c.webIdentityRequest(actionWebIdentity, role.ARN, provider, providerARN, claims, audience)
	req.Set("sts:RoleSessionName", session)
	if sourceIdentity != "" {
		req.Set("sts:SourceIdentity", sourceIdentity)
	}
	if !policy.EvaluateTrust(req, trust, nil, true).Allowed {
		return nil, denied
	}
	if len(tags) > 0 {
		// Passing session tags is an action of its own, as in STS.
		req.Action = "sts:TagSession"
		keys := slices.Sorted(maps.Keys(tags))
		for _, k := range keys {
			req.Set("aws:RequestTag/"+k, tags[k])
		}
		req.Set("aws:TagKeys", keys...)
		if len(transitive) > 0 {
			req.Set("sts:TransitiveTagKeys", transitive...)
		}
		if !policy.EvaluateTrust(req, trust, nil, true).Allowed {
			return nil, accessDenied("Not authorized to perform sts:TagSession")
		}
	}
	if sourceIdentity != "" {
		req.Action = "sts:SetSourceIdentity"
		if !policy.EvaluateTrust(req, trust, nil, true).Allowed {
			return nil, accessDenied("Not authorized to perform sts:SetSourceIdentity")
		}
	}
	if dur > role.MaxSessionDuration {
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	res, err := c.id.newSession(c, role, keyInfo{SessionName: session, Federated: providerARN, SessionTags: tags,
		TransitiveTagKeys: transitive, SourceIdentity: sourceIdentity}, time.Duration(dur)*time.Second)
	if err != nil {
		return nil, err
	}
	return webIdentityResult{Credentials: res.Credentials, SubjectFromWebIdentityToken: claims.Subject,
		AssumedRoleUser: res.AssumedRoleUser, Provider: providerARN, Audience: audience, SourceIdentity: sourceIdentity}, nil
}

// verifyWebIdentity finds the provider of the token's issuer, verifies the
// token with the issuer's keys and matches its audience with the provider's
// client ids, returning the one matched.
func (c *call) verifyWebIdentity(raw string) (*oidcProvider, *webidentity.Claims, string, error) {
	iss, err := webidentity.UnverifiedIssuer(raw)
	if err != nil {
		return nil, nil, "", c.webIdentityError("", err)
	}
	var provider *oidcProvider
	err = c.read(func(tx store.Tx) error {
		provider, err = oidcProviderForIssuer(tx, iss)
		return err
	})
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) || fault.KindOf(err) != fault.KindInternal {
			return nil, nil, "", invalidIdentityToken("No OpenIDConnect provider found in your account for %s", iss)
		}
		return nil, nil, "", err
	}
	claims, err := c.id.web.Verify(c.ctx, raw, iss)
	if err != nil {
		return nil, nil, "", c.webIdentityError(iss, err)
	}
	for _, aud := range claims.Audience {
		if slices.Contains(provider.ClientIDs, aud) {
			return provider, claims, aud, nil
		}
	}
	return nil, nil, "", invalidIdentityToken("Incorrect token audience")
}

// webIdentityError renders a token refusal with STS's code for it.
func (c *call) webIdentityError(iss string, err error) error {
	var e *webidentity.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Reason {
	case webidentity.Expired:
		return coded(fault.KindValidation, codeExpiredWebToken, "%s", e.Message)
	case webidentity.Unreachable:
		c.id.log.Warn("cannot read the keys of an OpenID Connect issuer", "issuer", iss, "err", e.Message, "cause", e.Err)
		return coded(fault.KindUnavailable, codeIDPCommunication, "%s", e.Message)
	}
	return invalidIdentityToken("%s", e.Message)
}

// webIdentityRequest is the trust-policy question for a web identity: the
// provider as the federated caller, the token's claims as condition keys.
func (c *call) webIdentityRequest(action, roleARN string, p *oidcProvider, providerARN string, cl *webidentity.Claims, audience string) *policy.Request {
	req := &policy.Request{Action: action, Resource: roleARN, Principal: policy.PrincipalInfo{Federated: providerARN}}
	now := c.id.now()
	req.Set("aws:CurrentTime", now.Format(time.RFC3339))
	req.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	ri := auth.RequestInfoFrom(c.ctx)
	req.Set("aws:SecureTransport", strconv.FormatBool(ri.Secure))
	if ri.SourceIP != "" {
		req.Set("aws:SourceIp", ri.SourceIP)
	}
	req.Set("aws:FederatedProvider", providerARN)
	name := p.name()
	req.Set(name+":sub", cl.Subject)
	req.Set(name+":aud", audience)
	if len(cl.AMR) > 0 {
		req.Set(name+":amr", cl.AMR...)
	}
	return req
}

// sessionTagsOf reads the session tags of a token: at most 50, one value
// each, keys unique ignoring case and outside the aws: namespace, the
// transitive keys among them.
func sessionTagsOf(cl *webidentity.Claims) (map[string]string, []string, error) {
	b, ok := cl.Raw[claimSessionTags]
	if !ok {
		return nil, nil, nil
	}
	bad := func(format string, args ...any) error {
		return invalidIdentityToken("The "+claimSessionTags+" claim is not valid: "+format, args...)
	}
	var claim struct {
		PrincipalTags     map[string]json.RawMessage `json:"principal_tags"`
		TransitiveTagKeys []string                   `json:"transitive_tag_keys"`
	}
	if err := json.Unmarshal(b, &claim); err != nil {
		return nil, nil, bad("%v", err)
	}
	if len(claim.PrincipalTags) > maxSessionTags {
		return nil, nil, bad("it has %d tags; at most %d are allowed", len(claim.PrincipalTags), maxSessionTags)
	}
	tags := make(map[string]string, len(claim.PrincipalTags))
	lower := map[string]bool{}
	for k, raw := range claim.PrincipalTags {
		var v string
		var vs []string
		if json.Unmarshal(raw, &vs) == nil && len(vs) == 1 {
			v = vs[0]
		} else if json.Unmarshal(raw, &v) != nil {
			return nil, nil, bad("the tag %s must have exactly one value", k)
		}
		switch {
		case pTagKey.check(k) != nil:
			return nil, nil, bad("the tag key %q is not a valid tag key", k)
		case pTagValue.check(v) != nil:
			return nil, nil, bad("the value of tag %s is not a valid tag value", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, nil, bad("tag keys starting with aws: are reserved")
		case lower[strings.ToLower(k)]:
			return nil, nil, bad("the tag key %s is given twice (tag keys are case insensitive)", k)
		}
		lower[strings.ToLower(k)] = true
		tags[k] = v
	}
	for _, k := range claim.TransitiveTagKeys {
		if !lower[strings.ToLower(k)] {
			return nil, nil, bad("the transitive tag key %s is not among the principal tags", k)
		}
	}
	if len(tags) == 0 {
		tags = nil
	}
	return tags, claim.TransitiveTagKeys, nil
}

func sourceIdentityOf(cl *webidentity.Claims) (string, error) {
	b, ok := cl.Raw[claimSourceIdentity]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil || !reSourceIdentity.MatchString(s) || strings.HasPrefix(strings.ToLower(s), "aws:") {
		return "", invalidIdentityToken("The %s claim must be 2 to 64 characters of letters, digits and +=,.@_-", claimSourceIdentity)
	}
	return s, nil
}
