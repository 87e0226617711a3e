package policy

import (
	"fmt"
	"strings"
)

// PrincipalInfo identifies the caller for Principal/NotPrincipal matching.
type PrincipalInfo struct {
	// ARN is the caller's ARN: arn:aws:iam::<acct>:root,
	// arn:aws:iam::<acct>:user/<path/name> or
	// arn:aws:sts::<acct>:assumed-role/<role>/<session>.
	ARN string
	// Account is the caller's 12-digit account id.
	Account string
	// RoleARN is the role's ARN (with its path) for role sessions, so that a
	// policy naming the role matches its sessions.
	RoleARN string
	// Service is set when an AWS service principal (e.g.
	// "codeartifact.amazonaws.com") is the caller.
	Service string
	// Federated is the identity provider for web-identity or SAML callers.
	Federated string
}

// grant says how strongly a statement's principal element names the caller.
type grant uint8

const (
	grantNone      grant = iota
	grantAccount         // only the caller's account: delegation, identity Allow still needed
	grantPrincipal       // the caller itself (or "*")
	grantService         // an AWS service principal: has no identity policies
)

type principalKind uint8

const (
	pAny principalKind = iota
	pAccount
	pARN  // exact ARN: user, assumed-role session, federated user
	pRole // role ARN: the role and its sessions
	pService
	pFederated
	pCanonical // S3 legacy; never matches here
)

type principalEntry struct {
	kind  principalKind
	value string // account id, ARN, service or provider name
}

// parsePrincipals parses a Principal or NotPrincipal element.
func parsePrincipals(n *jnode) (*Principals, error) {
	switch n.kind {
	case jString:
		if n.text == "*" {
			return &Principals{Wildcard: true, entries: []principalEntry{{kind: pAny}}}, nil
		}
		return nil, malformed("Invalid principal in policy: %q", n.text)
	case jObject:
	default:
		return nil, malformed("Invalid principal in policy: the element must be \"*\" or an object")
	}
	if len(n.keys) == 0 {
		return nil, malformed("Invalid principal in policy: {}")
	}
	p := &Principals{}
	for i, typ := range n.keys {
		vals, err := stringList(n.vals[i], "Principal."+typ)
		if err != nil {
			return nil, err
		}
		if len(vals) == 0 {
			return nil, malformed("Invalid principal in policy: %q:[]", typ)
		}
		for _, v := range vals {
			e, ok := parsePrincipalEntry(typ, v)
			if !ok {
				return nil, malformed("Invalid principal in policy: %q:%q", typ, v)
			}
			p.entries = append(p.entries, e)
		}
		switch typ {
		case "AWS":
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		}
	}
	return p, nil
}

func parsePrincipalEntry(typ, v string) (principalEntry, bool) {
	if v == "" || strings.ContainsAny(v, " \t\n") {
		return principalEntry{}, false
	}
	switch typ {
	case "Service":
		if v == "*" {
			return principalEntry{kind: pAny}, true
		}
		return principalEntry{kind: pService, value: v}, !strings.ContainsAny(v, "*?")
	case "Federated":
		return principalEntry{kind: pFederated, value: v}, !strings.ContainsAny(v, "*?")
	case "CanonicalUser":
		return principalEntry{kind: pCanonical, value: v}, true
	case "AWS":
	default:
		return principalEntry{}, false
	}
	if v == "*" {
		return principalEntry{kind: pAny}, true
	}
	if isAccountID(v) {
		return principalEntry{kind: pAccount, value: v}, true
	}
	// IAM rejects wildcards inside principal ARNs; only a lone "*" is allowed.
	if strings.ContainsAny(v, "*?") {
		return principalEntry{}, false
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) {
		return principalEntry{}, false
	}
	acct, res := parts[4], parts[5]
	switch parts[2] {
	case "iam":
		switch {
		case res == "root":
			return principalEntry{kind: pAccount, value: acct}, true
		case strings.HasPrefix(res, "user/") && len(res) > len("user/"):
			return principalEntry{kind: pARN, value: v}, true
		case strings.HasPrefix(res, "role/") && len(res) > len("role/"):
			return principalEntry{kind: pRole, value: v}, true
		}
	case "sts":
		switch {
		case strings.HasPrefix(res, "assumed-role/") && strings.Count(res, "/") >= 2,
			strings.HasPrefix(res, "federated-user/") && len(res) > len("federated-user/"):
			return principalEntry{kind: pARN, value: v}, true
		}
	}
	return principalEntry{}, false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// match reports how strongly p names the caller.
func (p *Principals) match(c *PrincipalInfo) grant {
	best := grantNone
	for _, e := range p.entries {
		g := e.match(c)
		if g > best {
			best = g
		}
	}
	return best
}

func (e *principalEntry) match(c *PrincipalInfo) grant {
	switch e.kind {
	case pAny:
		if c.Service != "" && c.ARN == "" {
			return grantService
		}
		return grantPrincipal
	case pAccount:
		if c.Account == "" || c.Account != e.value {
			return grantNone
		}
		// The account root is the account; anyone else in it only gets
		// the account's delegation.
		if c.ARN == acctRootARN(c.ARN, c.Account) {
			return grantPrincipal
		}
		return grantAccount
	case pARN:
		if c.ARN == e.value {
			return grantPrincipal
		}
	case pRole:
		if c.ARN == e.value || c.RoleARN == e.value ||
			(c.RoleARN == "" && sessionRoleARN(c.ARN) == e.value) {
			return grantPrincipal
		}
	case pService:
		if c.Service == e.value {
			return grantService
		}
	case pFederated:
		if c.Federated == e.value {
			return grantPrincipal
		}
	}
	return grantNone
}

// exempts reports whether a NotPrincipal element of a Deny statement spares
// the caller. IAM checks such a statement against each identity the caller
// stands for: its account, for a role session its role, and the caller
// itself. The caller is spared only when every one of them is listed, so
// listing only a user denies it through its account, and listing only an
// account spares the account root but no other principal of the account
// (IAM User Guide, "AWS JSON policy elements: NotPrincipal", NotPrincipal
// with Deny).
func (p *Principals) exempts(c *PrincipalInfo) bool {
	wildcard := false
	var account, self, role, service, federated bool
	for _, e := range p.entries {
		switch e.kind {
		case pAny:
			wildcard = true
		case pAccount:
			account = account || e.value == c.Account
		case pARN:
			self = self || e.value == c.ARN
		case pRole:
			role = role || e.value == c.roleARN()
		case pService:
			service = service || e.value == c.Service
		case pFederated:
			federated = federated || e.value == c.Federated
		}
	}
	switch {
	case wildcard:
		return true
	case c.ARN == "" && c.Service != "":
		return service
	case c.ARN == "" && c.Federated != "":
		return federated
	case c.ARN == "" || c.Account == "":
		return false // anonymous: nothing to list
	}
	if !account {
		return false
	}
	if c.ARN == acctRootARN(c.ARN, c.Account) {
		return true // the root is its account
	}
	if r := c.roleARN(); r != "" && !role {
		return false
	}
	return self
}

// roleARN is the caller's role for a role session ("" otherwise).
func (c *PrincipalInfo) roleARN() string {
	if c.RoleARN != "" {
		return c.RoleARN
	}
	return sessionRoleARN(c.ARN)
}

// acctRootARN returns the root ARN of acct in the partition of arn.
func acctRootARN(arn, acct string) string {
	partition := "aws"
	if strings.HasPrefix(arn, "arn:") {
		if i := strings.IndexByte(arn[4:], ':'); i >= 0 {
			partition = arn[4 : 4+i]
		}
	}
	return "arn:" + partition + ":iam::" + acct + ":root"
}

// sessionRoleARN derives arn:…:iam::acct:role/Name from an assumed-role
// session ARN. The session ARN drops the role's path, so this is only a
// fallback for callers that do not set PrincipalInfo.RoleARN.
func sessionRoleARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" || !strings.HasPrefix(parts[5], "assumed-role/") {
		return ""
	}
	role := strings.TrimPrefix(parts[5], "assumed-role/")
	i := strings.IndexByte(role, '/')
	if i <= 0 {
		return ""
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], role[:i])
}
