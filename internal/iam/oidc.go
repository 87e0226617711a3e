package iam

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"coffer/internal/auth"
	"coffer/internal/store"
)

// IAM OpenID Connect providers: the issuers whose tokens
// sts:AssumeRoleWithWebIdentity accepts. A provider is named by its URL
// without the scheme (host and optional path, "token.actions.githubusercontent.com"),
// which is also the prefix of its condition keys ("<name>:sub") and the end
// of its ARN (arn:aws:iam::<acct>:oidc-provider/<name>). Each is one
// settings row holding the whole record, tags included, so that a provider
// is created, changed and deleted (and copied by coffer migrate) as a unit.

const (
	oidcSettingPrefix   = "iam/oidc-provider/"
	maxOIDCProviders    = 100
	maxOIDCClientIDs    = 100
	maxOIDCThumbprints  = 5
	maxOIDCTags         = 50
	oidcProviderARNPart = ":oidc-provider/"
)

type oidcProvider struct {
	URL         string      `json:"url"` // https://<name>
	ClientIDs   []string    `json:"clientIds"`
	Thumbprints []string    `json:"thumbprints"`
	Tags        []store.Tag `json:"tags,omitempty"`
	Created     time.Time   `json:"created"`
}

// name is the provider's URL without its scheme.
func (p *oidcProvider) name() string { return strings.TrimPrefix(p.URL, "https://") }

var (
	pOIDCURL      = param{"Url", 1, 255, nil}
	pOIDCARN      = param{"OpenIDConnectProviderArn", 20, 2048, nil}
	pOIDCClientID = param{"ClientID", 1, 255, nil}
	reThumbprint  = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)
)

// oidcProviderName checks a provider URL as IAM does and returns it with
// the host in lower case, and its name. Ports are accepted (IAM advises
// against them; an issuer on a private port is a common self-hosted setup).
func oidcProviderName(raw string) (canonical, name string, err error) {
	if err := pOIDCURL.check(raw); err != nil {
		return "", "", err
	}
	u, perr := url.Parse(raw)
	switch {
	case perr != nil || !strings.HasPrefix(raw, "https://") || u.Host == "" || u.Opaque != "":
		return "", "", invalidInput("Invalid Url: %s. The URL must begin with https:// and name a host.", raw)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "#? \t\r\n"):
		return "", "", invalidInput("Invalid Url: %s. The URL may have a path but no user, query or fragment.", raw)
	}
	name = strings.ToLower(u.Host) + raw[len("https://")+len(u.Host):]
	return "https://" + name, name, nil
}

func (id *Identity) oidcProviderARN(name string) string {
	return "arn:aws:iam::" + id.accountID + oidcProviderARNPart + name
}

// oidcProviderForIssuer finds the provider whose URL is the token issuer.
func oidcProviderForIssuer(tx store.Tx, iss string) (*oidcProvider, error) {
	canonical, name, err := oidcProviderName(iss)
	if err != nil {
		return nil, err
	}
	p, err := readOIDCProvider(tx, name)
	if err != nil {
		return nil, err
	}
	if p.URL != canonical {
		return nil, noSuchEntity("No OpenIDConnect provider found for %s", iss)
	}
	return p, nil
}

func readOIDCProvider(tx store.Tx, name string) (*oidcProvider, error) {
	v, err := tx.GetSetting(oidcSettingPrefix + name)
	if err != nil {
		return nil, err
	}
	var p oidcProvider
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func writeOIDCProvider(tx store.Tx, p *oidcProvider) error {
	return tx.PutSetting(oidcSettingPrefix+p.name(), mustJSON(p))
}

// members reads a Query-protocol list (Name.member.1, Name.member.2, ...).
func (c *call) members(name string) ([]string, error) {
	idx, err := c.memberIndexes(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = c.form.Get(name + ".member." + strconv.Itoa(n))
	}
	return out, nil
}

func memberField(list string, i int) string {
	return strings.ToLower(list[:1]) + list[1:] + "." + strconv.Itoa(i+1) + ".member"
}

func (c *call) oidcClientIDs(name string) ([]string, error) {
	ids, err := c.members(name)
	if err != nil {
		return nil, err
	}
	if len(ids) > maxOIDCClientIDs {
		return nil, limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxOIDCClientIDs)
	}
	var out []string
	for i, v := range ids {
		if n := utf8.RuneCountInString(v); n < 1 || n > 255 {
			return nil, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 255", v, memberField(name, i))
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *call) oidcThumbprints() ([]string, error) {
	tps, err := c.members("ThumbprintList")
	if err != nil {
		return nil, err
	}
	if len(tps) > maxOIDCThumbprints {
		return nil, invalidInput("Thumbprint list must contain fewer than %d entries.", maxOIDCThumbprints+1)
	}
	var out []string
	for i, v := range tps {
		if !reThumbprint.MatchString(v) {
			return nil, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be the 40 hexadecimal digits of a SHA-1 thumbprint", v, memberField("ThumbprintList", i))
		}
		if v = strings.ToLower(v); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// mergeTags sets tags on existing ones, replacing those whose keys differ
// at most in case, as IAM does.
func mergeTags(have, set []store.Tag) []store.Tag {
	out := slices.Clone(have)
	for _, t := range set {
		i := slices.IndexFunc(out, func(o store.Tag) bool { return strings.EqualFold(o.Key, t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

func xmlTagList(tags []store.Tag) list[xmlTag] {
	var l list[xmlTag]
	for _, t := range tags {
		l.Member = append(l.Member, xmlTag(t))
	}
	return l
}

type createOIDCProviderResult struct {
	ARN  string       `xml:"OpenIDConnectProviderArn"`
	Tags list[xmlTag] `xml:"Tags"`
}

func (c *call) createOpenIDConnectProvider() (any, error) {
	raw, err := c.required(pOIDCURL)
	if err != nil {
		return nil, err
	}
	canonical, name, err := oidcProviderName(raw)
	if err != nil {
		return nil, err
	}
	clientIDs, err := c.oidcClientIDs("ClientIDList")
	if err != nil {
		return nil, err
	}
	thumbprints, err := c.oidcThumbprints()
	if err != nil {
		return nil, err
	}
	tags, err := c.tagList(false)
	if err != nil {
		return nil, err
	}
	arn := c.id.oidcProviderARN(name)
	if len(tags) > 0 {
		c.ctx = auth.WithRequestTags(c.ctx, tagMap(tags))
	}
	if err := c.authorize(arn); err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		// Tags on a new provider also need the tagging action, as in IAM.
		tag := *c
		tag.action = "TagOpenIDConnectProvider"
		if err := tag.authorize(arn); err != nil {
			return nil, err
		}
	}
	p := &oidcProvider{URL: canonical, ClientIDs: clientIDs, Thumbprints: thumbprints, Tags: tags, Created: c.id.now().Truncate(time.Second)}
	err = c.write(func(tx store.Tx) error {
		if _, err := tx.GetSetting(oidcSettingPrefix + name); err == nil {
			return alreadyExists("Provider with url %s already exists.", canonical)
		} else if !isNotFound(err) {
			return err
		}
		all, err := listOIDCProviders(tx)
		if err != nil {
			return err
		}
		if len(all) >= maxOIDCProviders {
			return limitExceeded("Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", maxOIDCProviders)
		}
		return writeOIDCProvider(tx, p)
	})
	if err != nil {
		return nil, err
	}
	return createOIDCProviderResult{ARN: arn, Tags: xmlTagList(tags)}, nil
}

func listOIDCProviders(tx store.Tx) ([]oidcProvider, error) {
	all, err := tx.ListSettings()
	if err != nil {
		return nil, err
	}
	var out []oidcProvider
	for _, s := range all {
		if !strings.HasPrefix(s.Key, oidcSettingPrefix) {
			continue
		}
		var p oidcProvider
		if err := json.Unmarshal([]byte(s.Value), &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// oidcTarget reads the provider the request names, authorized. A missing
// provider is reported only to callers allowed the action on its ARN.
func (c *call) oidcTarget() (string, *oidcProvider, error) {
	arn, err := c.required(pOIDCARN)
	if err != nil {
		return "", nil, err
	}
	prefix := "arn:aws:iam::" + c.id.accountID + oidcProviderARNPart
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || name == "" {
		if !strings.HasPrefix(arn, "arn:aws:iam::") || !strings.Contains(arn, oidcProviderARNPart) {
			return "", nil, invalidInput("Invalid OpenIDConnectProviderArn: %s", arn)
		}
	}
	if err := c.authorize(arn); err != nil {
		return "", nil, err
	}
	missing := noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	if !ok {
		return "", nil, missing
	}
	var p *oidcProvider
	err = c.read(func(tx store.Tx) error {
		p, err = readOIDCProvider(tx, name)
		return err
	})
	if isNotFound(err) {
		return "", nil, missing
	}
	return arn, p, err
}

// updateOIDC changes the provider the request names in one transaction.
func (c *call) updateOIDC(fn func(p *oidcProvider) error) error {
	arn, p, err := c.oidcTarget()
	if err != nil {
		return err
	}
	name := p.name()
	return c.write(func(tx store.Tx) error {
		p, err := readOIDCProvider(tx, name)
		if isNotFound(err) {
			return noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
		} else if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return writeOIDCProvider(tx, p)
	})
}

type getOIDCProviderResult struct {
	URL            string       `xml:"Url"`
	ClientIDList   list[string] `xml:"ClientIDList"`
	ThumbprintList list[string] `xml:"ThumbprintList"`
	CreateDate     string       `xml:"CreateDate"`
	Tags           list[xmlTag] `xml:"Tags"`
}

func (c *call) getOpenIDConnectProvider() (any, error) {
	_, p, err := c.oidcTarget()
	if err != nil {
		return nil, err
	}
	return getOIDCProviderResult{URL: p.name(), ClientIDList: list[string]{Member: p.ClientIDs},
		ThumbprintList: list[string]{Member: p.Thumbprints}, CreateDate: isoTime(p.Created), Tags: xmlTagList(p.Tags)}, nil
}

type oidcProviderEntry struct {
	ARN string `xml:"Arn"`
}

type listOIDCProvidersResult struct {
	List list[oidcProviderEntry] `xml:"OpenIDConnectProviderList"`
}

func (c *call) listOpenIDConnectProviders() (any, error) {
	if err := c.authorize("*"); err != nil {
		return nil, err
	}
	var all []oidcProvider
	err := c.read(func(tx store.Tx) error {
		var err error
		all, err = listOIDCProviders(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	var res listOIDCProvidersResult
	for i := range all {
		res.List.Member = append(res.List.Member, oidcProviderEntry{ARN: c.id.oidcProviderARN(all[i].name())})
	}
	return res, nil
}

func (c *call) deleteOpenIDConnectProvider() (any, error) {
	arn, p, err := c.oidcTarget()
	if err != nil {
		return nil, err
	}
	err = c.write(func(tx store.Tx) error { return tx.DeleteSetting(oidcSettingPrefix + p.name()) })
	if isNotFound(err) {
		return nil, noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return nil, err
}

// addClientIDToOpenIDConnectProvider adds a client id; one already there
// is no error, as in IAM.
func (c *call) addClientIDToOpenIDConnectProvider() (any, error) {
	id, err := c.required(pOIDCClientID)
	if err != nil {
		return nil, err
	}
	return nil, c.updateOIDC(func(p *oidcProvider) error {
		if slices.Contains(p.ClientIDs, id) {
			return nil
		}
		if len(p.ClientIDs) >= maxOIDCClientIDs {
			return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxOIDCClientIDs)
		}
		p.ClientIDs = append(p.ClientIDs, id)
		return nil
	})
}

// removeClientIDFromOpenIDConnectProvider removes a client id; a missing
// one is no error, as in IAM.
func (c *call) removeClientIDFromOpenIDConnectProvider() (any, error) {
	id, err := c.required(pOIDCClientID)
	if err != nil {
		return nil, err
	}
	return nil, c.updateOIDC(func(p *oidcProvider) error {
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(s string) bool { return s == id })
		return nil
	})
}

func (c *call) updateOpenIDConnectProviderThumbprint() (any, error) {
	if !c.form.Has("ThumbprintList") && !c.form.Has("ThumbprintList.member.1") {
		return nil, missing(param{name: "ThumbprintList"})
	}
	tps, err := c.oidcThumbprints()
	if err != nil {
		return nil, err
	}
	return nil, c.updateOIDC(func(p *oidcProvider) error {
		p.Thumbprints = tps
		return nil
	})
}

func (c *call) tagOpenIDConnectProvider() (any, error) {
	tags, err := c.tagList(true)
	if err != nil {
		return nil, err
	}
	c.ctx = auth.WithRequestTags(c.ctx, tagMap(tags))
	return nil, c.updateOIDC(func(p *oidcProvider) error {
		merged := mergeTags(p.Tags, tags)
		if len(merged) > maxOIDCTags {
			return limitExceeded("Cannot exceed quota for TagsPerOpenIdConnectProvider: %d", maxOIDCTags)
		}
		p.Tags = merged
		return nil
	})
}

// untagOpenIDConnectProvider removes tags by key, ignoring case; absent
// keys are ignored.
func (c *call) untagOpenIDConnectProvider() (any, error) {
	keys, err := c.tagKeyList()
	if err != nil {
		return nil, err
	}
	c.ctx = auth.WithTagKeys(c.ctx, keys)
	return nil, c.updateOIDC(func(p *oidcProvider) error {
		p.Tags = slices.DeleteFunc(p.Tags, func(t store.Tag) bool {
			return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
		})
		return nil
	})
}

type listOIDCTagsResult struct {
	Tags list[xmlTag] `xml:"Tags"`
	paged
}

func (c *call) listOpenIDConnectProviderTags() (any, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	_, p, err := c.oidcTarget()
	if err != nil {
		return nil, err
	}
	tags, pg := pageOf(p.Tags, pr, func(t *store.Tag) string { return t.Key })
	return listOIDCTagsResult{Tags: xmlTagList(tags), paged: pg}, nil
}
