package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"coffer/internal/osv"
)

// Subject is a package version a request would offer.
type Subject struct {
	DomainOwner string // empty: any owner's domain of that name
	Domain      string
	Repository  string
	// Format, Namespace and Name are normalised coordinates; Version is
	// the version's stored form.
	Format, Namespace, Name, Version string
	// PublishedAt is the upstream's publish time where the protocol
	// carries one, FirstSeen when coffer first stored or saw the version;
	// either may be zero.
	PublishedAt, FirstSeen time.Time
	// ViaConnection is the external connection the version arrived from
	// ("" for a version published to coffer).
	ViaConnection string
	// Advisories are the imported OSV records that affect the version.
	Advisories []osv.Match
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	Rule    string // id of the deciding rule ("" when no rule applies)
	Reason  string
	// AvailableAt is when a version withheld by a cooldown becomes
	// available; zero when it never does by waiting (block, freeze).
	AvailableAt time.Time
	// Advisory is the OSV record that refused the version, if one did.
	Advisory string
}

// Malicious reports whether an advisory marking the version malicious
// refused it (the version is quarantined).
func (d Decision) Malicious() bool { return strings.HasPrefix(d.Reason, "malicious: ") }

// Options tune Compile.
type Options struct {
	// Compare orders two versions of a format for block ranges; nil is
	// CompareVersions for every format.
	Compare func(format, a, b string) int
}

// Set is a compiled, immutable set of rules; Evaluate is safe for
// concurrent use.
type Set struct {
	domains map[domainKey]*domainRules
	stamp   string
	// byName lists each domain name's rules of every owner, for subjects
	// that name no owner.
	byName  map[string][]*domainRules
	compare func(format, a, b string) int
}

type domainKey struct{ owner, name string }

type domainRules struct {
	timed        bool // a cooldown is among the rules
	domain       level
	repositories map[string]*level
	connections  map[string]*level
	groups       []groupLevel // most specific pattern first
	// groupsByNS indexes the groups of namespace and name patterns by
	// format and namespace; groupsOther lists the broader ones.
	groupsByNS  map[key][]int
	groupsOther []int
}

type groupLevel struct {
	pattern Pattern
	level
}

// level holds the rules of one scope.
type level struct {
	cooldown *compiled
	freeze   *compiled
	severity *compiled
	blocks   packageRules
	exempts  packageRules
}

// packageRules finds the block or exempt rules that match a package
// without scanning them all: exact patterns by package, namespace and
// name-prefix patterns by namespace, the few broader ones by scan.
type packageRules struct {
	exact map[key][]*compiled
	byNS  map[key][]*compiled
	other []*compiled
}

func (pr *packageRules) add(c *compiled) {
	switch {
	case c.pattern.exact():
		pr.exact = addTo(pr.exact, packageKey(c.pattern.format, c.pattern.namespace, c.pattern.name), c)
	case c.pattern.kind >= 3:
		pr.byNS = addTo(pr.byNS, nsKey(c.pattern.format, c.pattern.namespace), c)
	default:
		pr.other = append(pr.other, c)
	}
}

func addTo[T any](m map[key][]T, k key, v T) map[key][]T {
	if m == nil {
		m = map[key][]T{}
	}
	m[k] = append(m[k], v)
	return m
}

// candidates returns the three lists to check against the subject.
func (pr *packageRules) candidates(pkey, nkey key) (exact, ns, other []*compiled) {
	if pr.exact != nil {
		exact = pr.exact[pkey]
	}
	if pr.byNS != nil {
		ns = pr.byNS[nkey]
	}
	return exact, ns, pr.other
}

type compiled struct {
	rule     *Rule
	severity osv.Severity
	cooldown time.Duration
	freezeAt time.Time
	pattern  Pattern
	versions Range
}

// Compile builds a Set from rules (as List returns them: validated). A rule
// that does not compile is an error: enforcement must not silently drop one.
func Compile(list []Rule, opts Options) (*Set, error) {
	s := &Set{domains: map[domainKey]*domainRules{}, byName: map[string][]*domainRules{}, compare: opts.Compare}
	if s.compare == nil {
		s.compare = func(_, a, b string) int { return CompareVersions(a, b) }
	}
	h := sha256.New()
	for i := range list {
		r := &list[i]
		if b, err := json.Marshal(r); err == nil {
			h.Write(b)
		}
		c := &compiled{rule: r}
		var err error
		switch r.Kind {
		case KindCooldown:
			c.cooldown, err = time.ParseDuration(r.Cooldown)
		case KindFreeze:
			c.freezeAt, err = time.Parse(time.RFC3339Nano, r.FreezeAt)
		case KindSeverity:
			var ok bool
			if c.severity, ok = osv.ParseSeverity(r.Severity); !ok {
				err = fmt.Errorf("unknown severity %q", r.Severity)
			}
		case KindBlock, KindExempt:
			if c.pattern, err = ParsePattern(r.Package); err == nil && r.Versions != "" {
				c.versions, err = ParseRange(r.Versions)
			}
		default:
			err = fmt.Errorf("unknown kind %q", r.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		dk := domainKey{r.DomainOwner, r.Domain}
		d := s.domains[dk]
		if d == nil {
			d = &domainRules{repositories: map[string]*level{}, connections: map[string]*level{}}
			s.domains[dk] = d
			s.byName[r.Domain] = append(s.byName[r.Domain], d)
		}
		var l *level
		switch r.Scope.Kind() {
		case ScopeRepository:
			l = d.repositories[r.Repository]
			if l == nil {
				l = &level{}
				d.repositories[r.Repository] = l
			}
		case ScopeExternalConnection:
			l = d.connections[r.ExternalConnection]
			if l == nil {
				l = &level{}
				d.connections[r.ExternalConnection] = l
			}
		case ScopePackageGroup:
			p, err := ParsePattern(r.PackageGroup)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			j := slices.IndexFunc(d.groups, func(g groupLevel) bool { return g.pattern == p })
			if j < 0 {
				d.groups = append(d.groups, groupLevel{pattern: p})
				j = len(d.groups) - 1
			}
			l = &d.groups[j].level
		default:
			l = &d.domain
		}
		switch r.Kind {
		case KindCooldown:
			l.cooldown = c
			d.timed = true
		case KindFreeze:
			l.freeze = c
		case KindSeverity:
			l.severity = c
		case KindBlock:
			l.blocks.add(c)
		case KindExempt:
			l.exempts.add(c)
		}
	}
	s.stamp = hex.EncodeToString(h.Sum(nil)[:8])
	for _, d := range s.domains {
		slices.SortStableFunc(d.groups, func(a, b groupLevel) int { return b.pattern.rank() - a.pattern.rank() })
		for i, g := range d.groups {
			if g.pattern.kind >= 3 {
				d.groupsByNS = addTo(d.groupsByNS, nsKey(g.pattern.format, g.pattern.namespace), i)
			} else {
				d.groupsOther = append(d.groupsOther, i)
			}
		}
	}
	return s, nil
}

// Len is the number of domains with rules.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.domains)
}

// Stamp identifies the rules compiled: equal sets, on any node, have
// equal stamps.
func (s *Set) Stamp() string {
	if s == nil {
		return ""
	}
	return s.stamp
}

// Has reports whether a domain has rules (owner "": any owner's domain of
// that name).
func (s *Set) Has(owner, domain string) bool {
	if s == nil {
		return false
	}
	if owner == "" {
		return len(s.byName[domain]) > 0
	}
	return s.domains[domainKey{owner, domain}] != nil
}

// Timed reports whether a cooldown rule exists in a domain: its decisions
// change with time alone.
func (s *Set) Timed(owner, domain string) bool {
	if s == nil {
		return false
	}
	for _, d := range s.byName[domain] {
		if d.timed && (owner == "" || s.domains[domainKey{owner, domain}] == d) {
			return true
		}
	}
	return false
}

// Evaluate decides whether the subject may be offered at now.
//
// Scopes apply from the most specific to the least: the external
// connection the version came through, then the package groups whose
// pattern matches the package (the most specific pattern first, as package
// groups rank), then the repository, then the domain.
//   - Block rules of every applicable scope apply; nothing overrides a block.
//   - An exemption of any applicable scope matching the package (and its
//     version, if it names one) lifts cooldowns and freezes.
//   - Of cooldowns, and separately of freezes, the most specific scope's
//     applies. A cooldown applies only to versions from an external
//     connection; a freeze to every version.
//
// Time fails closed: a version's age counts from its upstream publish time,
// else from coffer's first sight of it, else from now (unknown is new).
func (s *Set) Evaluate(sub Subject, now time.Time) Decision {
	if s == nil {
		return malicious(&sub, nil)
	}
	if sub.DomainOwner != "" {
		d := s.domains[domainKey{sub.DomainOwner, sub.Domain}]
		if d == nil {
			return malicious(&sub, nil)
		}
		return s.evaluate(d, &sub, now)
	}
	if len(s.byName[sub.Domain]) == 0 {
		return malicious(&sub, nil)
	}
	// No owner named: every owner's domain of that name must allow it
	// (one installation has one account, so this is one domain).
	out := Decision{Allowed: true}
	for _, d := range s.byName[sub.Domain] {
		dec := s.evaluate(d, &sub, now)
		if !dec.Allowed {
			return dec
		}
		if dec.Rule != "" {
			out = dec
		}
	}
	return out
}

func (s *Set) evaluate(d *domainRules, sub *Subject, now time.Time) Decision {
	var buf [16]*level
	levels := buf[:0]
	if sub.ViaConnection != "" {
		if l := d.connections[sub.ViaConnection]; l != nil {
			levels = append(levels, l)
		}
	}
	// Matching groups, most specific first: the indexes of both lists are
	// merged in rank order (d.groups is sorted).
	byNS, other := d.groupsByNS[nsKey(sub.Format, sub.Namespace)], d.groupsOther
	for len(byNS) > 0 || len(other) > 0 {
		var i int
		if len(other) == 0 || len(byNS) > 0 && byNS[0] < other[0] {
			i, byNS = byNS[0], byNS[1:]
		} else {
			i, other = other[0], other[1:]
		}
		if d.groups[i].pattern.Matches(sub.Format, sub.Namespace, sub.Name) {
			levels = append(levels, &d.groups[i].level)
		}
	}
	if sub.Repository != "" {
		if l := d.repositories[sub.Repository]; l != nil {
			levels = append(levels, l)
		}
	}
	levels = append(levels, &d.domain)

	pkey, nkey := packageKey(sub.Format, sub.Namespace, sub.Name), nsKey(sub.Format, sub.Namespace)
	var exempt, cooldown, freeze, severity *compiled
	pinned := false // an exemption names this exact version
	for _, l := range levels {
		if c := s.blocking(&l.blocks, sub, pkey, nkey); c != nil {
			return Decision{Rule: c.rule.ID, Reason: "blocked: " + c.rule.Reason}
		}
		if exempt == nil {
			exempt = s.exempting(&l.exempts, sub, pkey, nkey)
		}
		if !pinned && l.exempts.exact != nil {
			for _, c := range l.exempts.exact[pkey] {
				pinned = pinned || c.rule.Version == sub.Version && c.pattern.Matches(sub.Format, sub.Namespace, sub.Name)
			}
		}
		if cooldown == nil && l.cooldown != nil {
			cooldown = l.cooldown
		}
		if freeze == nil && l.freeze != nil {
			freeze = l.freeze
		}
		if severity == nil && l.severity != nil {
			severity = l.severity
		}
	}
	// Advisories are lifted only by an exemption naming this exact
	// version: a break-glass for a false positive, never a pattern.
	if !pinned {
		if d := malicious(sub, severity); !d.Allowed {
			return d
		}
	}
	held := timeRules(*sub, now, cooldown, freeze)
	if !held.Allowed && exempt != nil {
		return Decision{Allowed: true, Rule: exempt.rule.ID, Reason: "exempt: " + exempt.rule.Reason}
	}
	return held
}

// malicious refuses a version an advisory marks malicious, or vulnerable
// at or above the severity rule's class (nil: none applies).
func malicious(sub *Subject, severity *compiled) Decision {
	for _, a := range sub.Advisories {
		if a.Malicious {
			return Decision{Rule: a.ID, Advisory: a.ID, Reason: "malicious: " + a.ID}
		}
	}
	if severity != nil {
		for _, a := range sub.Advisories {
			if a.Severity != osv.Unknown && a.Severity >= severity.severity {
				return Decision{Rule: severity.rule.ID, Advisory: a.ID,
					Reason: "vulnerable: " + a.ID + " (" + a.Severity.String() + ", blocked from " + severity.rule.Severity + ")"}
			}
		}
	}
	return Decision{Allowed: true}
}

// blocking returns the first block rule of pr that matches the subject.
func (s *Set) blocking(pr *packageRules, sub *Subject, pkey, nkey key) *compiled {
	exact, ns, other := pr.candidates(pkey, nkey)
	for _, list := range [3][]*compiled{exact, ns, other} {
		for _, c := range list {
			if c.pattern.Matches(sub.Format, sub.Namespace, sub.Name) &&
				(c.versions == nil || c.versions.contains(sub.Format, sub.Version, s.compare)) {
				return c
			}
		}
	}
	return nil
}

// exempting returns the first exemption of pr that matches the subject.
func (s *Set) exempting(pr *packageRules, sub *Subject, pkey, nkey key) *compiled {
	exact, ns, other := pr.candidates(pkey, nkey)
	for _, list := range [3][]*compiled{exact, ns, other} {
		for _, c := range list {
			if c.pattern.Matches(sub.Format, sub.Namespace, sub.Name) &&
				(c.rule.Version == "" || c.rule.Version == sub.Version) {
				return c
			}
		}
	}
	return nil
}

// timeRules applies the cooldown and the freeze that were chosen.
func timeRules(sub Subject, now time.Time, cooldown, freeze *compiled) Decision {
	since := sub.PublishedAt
	if since.IsZero() {
		since = sub.FirstSeen
	}
	if since.IsZero() {
		since = now
	}
	if freeze != nil && since.After(freeze.freezeAt) {
		return Decision{Rule: freeze.rule.ID, Reason: "published " + since.UTC().Format(time.RFC3339) +
			", after the freeze at " + freeze.freezeAt.UTC().Format(time.RFC3339)}
	}
	if cooldown != nil && sub.ViaConnection != "" {
		if at := since.Add(cooldown.cooldown); now.Before(at) {
			return Decision{Rule: cooldown.rule.ID, AvailableAt: at,
				Reason: "in cooldown of " + cooldown.rule.Cooldown + " until " + at.UTC().Format(time.RFC3339)}
		}
	}
	return Decision{Allowed: true}
}
