package policy

// Policy language versions.
const (
	Version2012 = "2012-10-17" // current; enables policy variables
	Version2008 = "2008-10-17" // legacy; ${...} is literal text
)

// Effect is a statement's Effect element.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed, validated policy document. It is immutable and safe
// for concurrent evaluation.
type Policy struct {
	// Version is the Version element as written; "" when absent, which
	// behaves as 2008-10-17.
	Version string
	// ID is the Id element.
	ID string
	// Statements in document order.
	Statements []*Statement
}

// Statement is one policy statement. The exported fields record the
// document as written; evaluation uses the compiled forms alongside them.
type Statement struct {
	Sid          string
	Effect       Effect
	Action       []string
	NotAction    []string
	Resource     []string // nil when the statement has neither Resource nor NotResource
	NotResource  []string
	Principal    *Principals // nil when absent
	NotPrincipal *Principals
	Conditions   []*Condition // in document order

	id          string   // Sid or "#index"
	actions     []string // lower-cased Action or NotAction patterns
	notAction   bool
	resources   []tmpl // Resource or NotResource patterns; nil means any resource
	notResource bool
}

// ID returns the statement's Sid, or "#<index>" (zero-based) when it has
// none; Decision.Statement uses it.
func (s *Statement) ID() string { return s.id }

// Principals is a Principal or NotPrincipal element.
type Principals struct {
	// Wildcard is set for "Principal": "*".
	Wildcard bool
	// The typed entries as written (account ids, ARNs, "*", service names...).
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string

	entries []principalEntry
}

// Condition is one (operator, key) pair of a Condition block.
type Condition struct {
	// Operator as written, e.g. "ForAnyValue:StringLikeIfExists".
	Operator string
	// Key is the condition key as written, e.g. "aws:PrincipalTag/team".
	Key string
	// Values as written; numbers and booleans keep their JSON text.
	Values []string

	op       opInfo
	set      setQualifier
	ifExists bool
	key      string // lower-cased Key
	values   []condValue
	matchers []matcher // compiled values when none has a variable
	dynamic  bool      // some value has a variable: compile per request
}
