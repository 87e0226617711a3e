package policy

import (
	"strconv"
	"strings"

	"coffer/internal/fault"
)

// Kind is the sort of policy a document is; it decides how the Principal
// and Resource elements are validated.
type Kind int

const (
	// KindIdentity is a policy attached to a user, group or role: it must
	// not name a principal and every statement needs Resource/NotResource.
	KindIdentity Kind = iota
	// KindResource is a resource-based policy (CodeArtifact domain and
	// repository policies): every statement needs Principal/NotPrincipal;
	// Resource may be omitted (it then means the resource the policy is
	// attached to) unless ParseOptions.RequireResource is set.
	KindResource
	// KindTrust is a role trust policy: every statement needs
	// Principal/NotPrincipal and none may have Resource/NotResource.
	KindTrust
)

// Size limits in characters, whitespace excluded, as AWS sets them.
const (
	MaxManagedPolicySize              = 6144
	MaxUserInlinePolicySize           = 2048
	MaxRoleInlinePolicySize           = 10240
	MaxGroupInlinePolicySize          = 5120
	MaxTrustPolicySize                = 2048
	MaxCodeArtifactResourcePolicySize = 7168
)

// ParseOptions tune validation.
type ParseOptions struct {
	// Kind is the sort of policy; the zero value is KindIdentity.
	Kind Kind
	// MaxSize, when positive, rejects documents with more characters than
	// this, not counting whitespace outside strings.
	MaxSize int
	// RequireResource makes Resource/NotResource mandatory in a
	// KindResource policy (S3-style); CodeArtifact policies may omit it.
	RequireResource bool
}

// Parse parses and validates an identity policy document. Errors are
// fault.Validation errors worded like IAM's MalformedPolicyDocument messages.
func Parse(doc string) (*Policy, error) {
	return ParseWith(doc, ParseOptions{})
}

// ParseWith parses and validates a policy document of the given kind.
func ParseWith(doc string, opts ParseOptions) (*Policy, error) {
	if opts.MaxSize > 0 && policySize(doc) > opts.MaxSize {
		return nil, malformed("Cannot exceed quota for PolicySize: %d", opts.MaxSize)
	}
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, malformed("Syntax errors in policy. %s.", err)
	}
	if root.kind != jObject {
		return nil, malformed("Syntax errors in policy. The policy must be a JSON object.")
	}
	p := &Policy{}
	var stmts *jnode
	for i, k := range root.keys {
		v := root.vals[i]
		switch k {
		case "Version":
			if v.kind != jString || (v.text != Version2012 && v.text != Version2008) {
				return nil, malformed("The policy must contain a valid version string")
			}
			p.Version = v.text
		case "Id":
			if v.kind != jString {
				return nil, malformed("Syntax errors in policy. Id must be a string.")
			}
			p.ID = v.text
		case "Statement":
			stmts = v
		default:
			return nil, malformed("Unknown field %s", k)
		}
	}
	if stmts == nil {
		return nil, malformed("Missing required field Statement")
	}
	list := []*jnode{stmts}
	switch stmts.kind {
	case jArray:
		list = stmts.vals
	case jObject:
	default:
		return nil, malformed("Syntax errors in policy. Statement must be an object or an array of objects.")
	}
	if len(list) == 0 {
		return nil, malformed("Missing required field Statement")
	}
	vars := p.Version == Version2012
	sids := map[string]bool{}
	for i, n := range list {
		s, err := parseStatement(n, i, vars, opts)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed("Statement IDs (SID) in a single policy must be unique")
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(n *jnode, index int, vars bool, opts ParseOptions) (*Statement, error) {
	if n.kind != jObject {
		return nil, malformed("Syntax errors in policy. Each statement must be an object.")
	}
	s := &Statement{id: "#" + strconv.Itoa(index)}
	var effect, action, notAction, resource, notResource, principal, notPrincipal, condition *jnode
	for i, k := range n.keys {
		v := n.vals[i]
		switch k {
		case "Sid":
			if v.kind != jString {
				return nil, malformed("Syntax errors in policy. Sid must be a string.")
			}
			s.Sid = v.text
			if s.Sid != "" {
				s.id = s.Sid
			}
		case "Effect":
			effect = v
		case "Action":
			action = v
		case "NotAction":
			notAction = v
		case "Resource":
			resource = v
		case "NotResource":
			notResource = v
		case "Principal":
			principal = v
		case "NotPrincipal":
			notPrincipal = v
		case "Condition":
			condition = v
		default:
			return nil, malformed("Unknown field %s", k)
		}
	}

	// IAM (identity and trust policies) restricts Sids; resource-based
	// policies of other services accept any string.
	if opts.Kind != KindResource && !isAlnum(s.Sid) {
		return nil, malformed("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
	}

	switch {
	case effect == nil:
		return nil, malformed("Missing required field Effect")
	case effect.kind != jString:
		return nil, malformed("Invalid effect: %s", effect.text)
	case effect.text != string(Allow) && effect.text != string(Deny):
		return nil, malformed("Invalid effect: %s", effect.text)
	}
	s.Effect = Effect(effect.text)

	if err := s.parseActions(action, notAction); err != nil {
		return nil, err
	}
	if err := s.parsePrincipal(principal, notPrincipal, opts.Kind); err != nil {
		return nil, err
	}
	if err := s.parseResources(resource, notResource, vars, opts); err != nil {
		return nil, err
	}
	if condition != nil {
		cs, err := parseConditions(condition, vars)
		if err != nil {
			return nil, err
		}
		s.Conditions = cs
	}
	return s, nil
}

func (s *Statement) parseActions(action, notAction *jnode) error {
	if action != nil && notAction != nil {
		return malformed("Statement cannot contain both Action and NotAction.")
	}
	n, field := action, "Action"
	if notAction != nil {
		n, field, s.notAction = notAction, "NotAction", true
	}
	if n == nil {
		return malformed("Policy statement must contain actions.")
	}
	list, err := stringList(n, field)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return malformed("Policy statement must contain actions.")
	}
	for _, a := range list {
		if a != "*" && !hasVendor(a) {
			return malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
		s.actions = append(s.actions, strings.ToLower(a))
	}
	if s.notAction {
		s.NotAction = list
	} else {
		s.Action = list
	}
	return nil
}

func (s *Statement) parsePrincipal(principal, notPrincipal *jnode, kind Kind) error {
	if principal != nil && notPrincipal != nil {
		return malformed("Statement cannot contain both Principal and NotPrincipal.")
	}
	if kind == KindIdentity {
		if principal != nil || notPrincipal != nil {
			return malformed("Policy document should not specify a principal.")
		}
		return nil
	}
	switch {
	case principal != nil:
		p, err := parsePrincipals(principal)
		s.Principal = p
		return err
	case notPrincipal != nil:
		p, err := parsePrincipals(notPrincipal)
		s.NotPrincipal = p
		return err
	}
	return malformed("Missing required field Principal")
}

func (s *Statement) parseResources(resource, notResource *jnode, vars bool, opts ParseOptions) error {
	if resource != nil && notResource != nil {
		return malformed("Statement cannot contain both Resource and NotResource.")
	}
	n, field := resource, "Resource"
	if notResource != nil {
		n, field, s.notResource = notResource, "NotResource", true
	}
	if n == nil {
		if opts.Kind == KindIdentity || (opts.Kind == KindResource && opts.RequireResource) {
			return malformed("Policy statement must contain resources.")
		}
		return nil
	}
	if opts.Kind == KindTrust {
		return malformed("Has prohibited field %s", field)
	}
	list, err := stringList(n, field)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return malformed("Policy statement must contain resources.")
	}
	for _, r := range list {
		if !validResource(r) {
			return malformed("Resource %s must be in ARN format or \"*\".", r)
		}
		s.resources = append(s.resources, parseTemplate(r, vars))
	}
	if s.notResource {
		s.NotResource = list
	} else {
		s.Resource = list
	}
	return nil
}

// validResource accepts "*" and anything shaped like an ARN: six
// colon-separated parts, or fewer when a wildcard may stand for the rest.
func validResource(r string) bool {
	if r == "*" {
		return true
	}
	if !strings.HasPrefix(r, "arn:") || len(r) == len("arn:") {
		return false
	}
	return strings.Count(r, ":") >= 5 || strings.ContainsAny(r, "*?")
}

func parseConditions(n *jnode, vars bool) ([]*Condition, error) {
	if n.kind != jObject {
		return nil, malformed("Syntax errors in policy. Condition must be an object.")
	}
	var out []*Condition
	for i, name := range n.keys {
		op, set, ifExists, ok := parseOperator(name)
		if !ok {
			return nil, malformed("Invalid Condition type : %s", name)
		}
		block := n.vals[i]
		if block.kind != jObject {
			return nil, malformed("Syntax errors in policy. Condition %s must map condition keys to values.", name)
		}
		for j, key := range block.keys {
			if !hasVendor(key) {
				return nil, malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
			}
			vals, err := conditionValues(block.vals[j], name, key)
			if err != nil {
				return nil, err
			}
			c := &Condition{Operator: name, Key: key, Values: vals,
				op: op, set: set, ifExists: ifExists, key: strings.ToLower(key)}
			for _, v := range vals {
				// Null takes only "true"/"false": no variables there.
				cv := condValue{t: parseTemplate(v, vars && op.cmp != cmpNull)}
				if cv.t.hasVars() {
					c.dynamic = true
				} else {
					cv.m = op.compile(v, false)
					c.matchers = append(c.matchers, cv.m)
				}
				c.values = append(c.values, cv)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues accepts a string, number or boolean, or an array of them.
func conditionValues(n *jnode, op, key string) ([]string, error) {
	elems := []*jnode{n}
	if n.kind == jArray {
		elems = n.vals
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		switch e.kind {
		case jString, jNumber, jBool:
			out = append(out, e.text)
		default:
			return nil, malformed("Syntax errors in policy. Condition %s %s: values must be strings, numbers or booleans.", op, key)
		}
	}
	return out, nil
}

// stringList accepts a string or an array of strings.
func stringList(n *jnode, field string) ([]string, error) {
	switch n.kind {
	case jString:
		return []string{n.text}, nil
	case jArray:
		out := make([]string, 0, len(n.vals))
		for _, e := range n.vals {
			if e.kind != jString {
				return nil, malformed("Syntax errors in policy. %s must be a string or an array of strings.", field)
			}
			out = append(out, e.text)
		}
		return out, nil
	}
	return nil, malformed("Syntax errors in policy. %s must be a string or an array of strings.", field)
}

// hasVendor reports whether s looks like "vendor:name".
func hasVendor(s string) bool {
	i := strings.IndexByte(s, ':')
	return i > 0 && i < len(s)-1
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func malformed(format string, args ...any) error {
	return fault.Validation(format, args...)
}
