package policy

import "strings"

// Request is one authorization question: may Principal perform Action on
// Resource, given the condition keys in Context?
type Request struct {
	// Action is "service:Action", e.g. "codeartifact:ReadFromRepository".
	Action string
	// Resource is the target ARN.
	Resource string
	// Principal is the caller, for Principal/NotPrincipal matching.
	Principal PrincipalInfo
	// Context holds the condition keys, lower-cased (use Set), each with
	// its values: aws:username, aws:userid, aws:PrincipalArn (the role's
	// ARN for a role session),
	// aws:PrincipalAccount, aws:PrincipalType, aws:CurrentTime,
	// aws:EpochTime, aws:SourceIp, aws:SecureTransport, aws:RequestTag/k,
	// aws:ResourceTag/k, aws:TagKeys, sts:AWSServiceName, ...
	// BinaryEquals compares against the raw bytes of a value.
	Context map[string][]string
	// Keys, when set, gives the values of the lower-cased condition keys
	// that Context does not hold (nil: absent): keys that cost something
	// to make, such as the time as text, are made only when a condition
	// asks for them.
	Keys func(key string) []string
}

// Value returns the values of a condition key (case-insensitive), nil when
// the request does not have it.
func (r *Request) Value(key string) []string { return r.lookup(strings.ToLower(key)) }

// Set records a condition key (case-insensitive) with its values.
func (r *Request) Set(key string, values ...string) {
	if r.Context == nil {
		r.Context = make(map[string][]string)
	}
	r.Context[strings.ToLower(key)] = values
}

// lookup returns the values of a lower-cased condition key. The principal
// keys fall back to Principal so callers need not repeat themselves.
func (r *Request) lookup(key string) []string {
	if vs, ok := r.Context[key]; ok {
		return vs
	}
	if r.Keys != nil {
		if vs := r.Keys(key); vs != nil {
			return vs
		}
	}
	switch key {
	case "aws:principalarn":
		// A role session's aws:PrincipalArn is its role's ARN.
		if arn := r.Principal.roleARN(); arn != "" {
			return []string{arn}
		}
		if r.Principal.ARN != "" {
			return []string{r.Principal.ARN}
		}
	case "aws:principalaccount":
		if r.Principal.Account != "" {
			return []string{r.Principal.Account}
		}
	}
	return nil
}

// Labeled is a policy with a caller-chosen label ("user-policy:ReadOnly",
// "repository-policy", ...) that Decision.Source reports.
type Labeled struct {
	Label  string
	Policy *Policy
}

// Decision is the outcome of an evaluation.
type Decision struct {
	// Allowed is the answer.
	Allowed bool
	// ExplicitDeny is set when a Deny statement decided.
	ExplicitDeny bool
	// Statement is the ID (Sid or "#index") of the deciding statement: the
	// Deny, or the Allow that granted (for cross-account access, the
	// resource-policy Allow); "" for an implicit deny.
	Statement string
	// Source is the label of the policy holding Statement.
	Source string
}

// TrustLabel is the Source that EvaluateTrust reports for the trust policy.
const TrustLabel = "trust-policy"

// hit is an applicable statement; the zero hit is none.
type hit struct {
	label string
	stmt  *Statement
}

func (h hit) found() bool { return h.stmt != nil }

func (h hit) decision(allowed bool) Decision {
	return Decision{Allowed: allowed, ExplicitDeny: !allowed, Statement: h.stmt.ID(), Source: h.label}
}

// scan is what one pass over all statements found.
type scan struct {
	deny     hit // first applicable Deny
	identity hit // first identity-policy Allow
	resource hit // first resource-policy Allow, however the caller was named
	direct   hit // first resource-policy Allow naming the caller itself
	service  hit // first resource-policy Allow naming the calling service
}

func scanPolicies(r *Request, identity, resource []Labeled) scan {
	var sc scan
	action := strings.ToLower(r.Action)
	visit := func(ps []Labeled, resourcePolicy bool) bool {
		for i := range ps {
			if ps[i].Policy == nil {
				continue
			}
			for _, s := range ps[i].Policy.Statements {
				g := s.applies(r, action, resourcePolicy)
				if g == grantNone {
					continue
				}
				h := hit{label: ps[i].Label, stmt: s}
				if s.Effect == Deny {
					sc.deny = h
					return false
				}
				if !resourcePolicy {
					if !sc.identity.found() {
						sc.identity = h
					}
					continue
				}
				if !sc.resource.found() {
					sc.resource = h
				}
				if g == grantPrincipal && !sc.direct.found() {
					sc.direct = h
				}
				if g == grantService && !sc.service.found() {
					sc.service = h
				}
			}
		}
		return true
	}
	if visit(identity, false) {
		visit(resource, true)
	}
	return sc
}

// Evaluate decides a request against the caller's identity policies and
// the resource's policies; sameAccount says whether the caller belongs to
// the account owning the resource. See the package comment for the order.
// The account root user gets no special treatment here: callers that let
// it bypass policies (as AWS does for its own account) decide that first.
func Evaluate(req *Request, identity, resource []Labeled, sameAccount bool) Decision {
	sc := scanPolicies(req, identity, resource)
	switch {
	case sc.deny.found():
		return sc.deny.decision(false)
	case sameAccount && sc.identity.found():
		return sc.identity.decision(true)
	case sameAccount && sc.direct.found():
		return sc.direct.decision(true)
	case sc.service.found():
		// Service principals have no identity policies to consult.
		return sc.service.decision(true)
	case !sameAccount && sc.identity.found() && sc.resource.found():
		return sc.resource.decision(true)
	}
	return Decision{}
}

// EvaluateTrust decides a role assumption (req.Action "sts:AssumeRole" or
// a variant, req.Resource the role ARN) against the role's trust policy
// and the caller's identity policies. Unlike other resources a role can
// only be assumed when its trust policy allows it. A trust policy naming
// the caller itself (same account) or a service suffices; one naming the
// caller's account, or any cross-account caller, also needs an
// identity-policy Allow.
func EvaluateTrust(req *Request, trust *Policy, identity []Labeled, sameAccount bool) Decision {
	sc := scanPolicies(req, identity, []Labeled{{Label: TrustLabel, Policy: trust}})
	switch {
	case sc.deny.found():
		return sc.deny.decision(false)
	case !sc.resource.found():
		return Decision{}
	case sc.service.found():
		return sc.service.decision(true)
	case sameAccount && sc.direct.found():
		return sc.direct.decision(true)
	case sc.identity.found():
		return sc.resource.decision(true)
	}
	return Decision{}
}

// Allows reports whether p on its own allows the request: some statement
// allows it and none denies it. Principal elements, if any, are matched.
func (p *Policy) Allows(req *Request) bool {
	action := strings.ToLower(req.Action)
	allowed := false
	for _, s := range p.Statements {
		if s.applies(req, action, false) == grantNone {
			continue
		}
		if s.Effect == Deny {
			return false
		}
		allowed = true
	}
	return allowed
}

// applies reports whether s applies to the request and, through its
// Principal element, how strongly it names the caller. action is the
// lower-cased request action. Statements of resource policies without a
// principal element name nobody.
func (s *Statement) applies(r *Request, action string, resourcePolicy bool) grant {
	if s.matchAction(action) == s.notAction {
		return grantNone
	}
	if s.resources != nil && s.matchResource(r) == s.notResource {
		return grantNone
	}
	g := grantPrincipal
	switch {
	case s.Principal != nil:
		if g = s.Principal.match(&r.Principal); g == grantNone {
			return grantNone
		}
	case s.NotPrincipal != nil && s.Effect == Deny:
		if s.NotPrincipal.exempts(&r.Principal) {
			return grantNone
		}
	case s.NotPrincipal != nil:
		if s.NotPrincipal.match(&r.Principal) != grantNone {
			return grantNone
		}
	case resourcePolicy:
		return grantNone
	}
	for _, c := range s.Conditions {
		if !c.eval(r) {
			return grantNone
		}
	}
	return g
}

func (s *Statement) matchAction(action string) bool {
	for _, p := range s.actions {
		if globMatch(p, action, false) {
			return true
		}
	}
	return false
}

func (s *Statement) matchResource(r *Request) bool {
	for i := range s.resources {
		t := &s.resources[i]
		if !t.hasVars() {
			if globMatch(t.raw, r.Resource, false) {
				return true
			}
			continue
		}
		if p, ok := t.resolve(r, true); ok && globMatch(p, r.Resource, true) {
			return true
		}
	}
	return false
}
