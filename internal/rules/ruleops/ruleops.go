// Package ruleops is what the two ways of managing supply-chain rules share,
// the coffer API (internal/cofferapi) and the web console
// (internal/console): the IAM actions and the resource they are authorized
// on, turning a rule as a caller writes it into a validated rules.Rule
// (patterns canonicalised as package group patterns are, a package written
// as its clients write it turned into an exact pattern), and the operations
// themselves. Put, List and Delete authorize with the caller's principal,
// check the domain and repository in the store, and record each change in
// the audit log, so that a rule changed from the console is decided and
// recorded exactly as one changed through the API. Handlers only read their
// request and render the result.
//
// It sits beside internal/rules rather than in it because it needs the
// artifact engine (pattern grammar, ARNs), which is to consult rules.
package ruleops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// IAM actions on rules, authorized on Service.Resource.
const (
	ActionPut    = "coffer:PutRule"
	ActionList   = "coffer:ListRules"
	ActionDelete = "coffer:DeleteRule"
)

// Input is a rule as a caller writes it (the body of PUT /coffer/v1/rules):
// a scope and exactly one of Cooldown, FreezeAt, Block, Exempt and
// BlockSeverity. Patterns
// may be written any way a package group pattern may; Put canonicalises
// them. An empty DomainOwner is the server's account.
type Input struct {
	Domain             string `json:"domain"`
	DomainOwner        string `json:"domainOwner,omitempty"`
	Repository         string `json:"repository,omitempty"`
	PackageGroup       string `json:"packageGroup,omitempty"`
	ExternalConnection string `json:"externalConnection,omitempty"`
	Cooldown           string `json:"cooldown,omitempty"` // Go duration, e.g. "72h"
	FreezeAt           string `json:"freezeAt,omitempty"` // RFC 3339
	Block              string `json:"block,omitempty"`    // package pattern
	Versions           string `json:"versions,omitempty"` // block's version range
	Exempt             string `json:"exempt,omitempty"`   // package pattern
	Version            string `json:"version,omitempty"`  // exempt's exact version
	// BlockSeverity blocks versions an imported advisory marks vulnerable
	// at or above it: LOW, MODERATE, HIGH or CRITICAL.
	BlockSeverity string `json:"blockSeverity,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Service performs rule operations for the principal in the context.
type Service struct {
	Artifacts  *artifact.Service // account id and ARNs
	Store      store.Store
	Authorizer auth.Authorizer
	Audit      *audit.Log       // records each change with its content; optional
	Now        func() time.Time // time.Now when nil
}

func (s *Service) owner(o string) string {
	if o == "" {
		return s.Artifacts.AccountID()
	}
	return o
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Resource is the ARN a rule's actions are authorized on: its repository's
// for a repository-scoped rule, else its domain's. An empty owner is the
// server's account.
func (s *Service) Resource(owner, domain, repository string) string {
	owner = s.owner(owner)
	if repository != "" {
		return s.Artifacts.RepositoryARN(owner, domain, repository)
	}
	return s.Artifacts.DomainARN(owner, domain)
}

// Put validates in, authorizes ActionPut on the rule's resource, stores the
// rule (replacing the one of the same id) if its domain, and repository,
// exist, and records the change.
func (s *Service) Put(ctx context.Context, in Input) (*rules.Rule, error) {
	rule, err := s.Rule(in)
	if err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionPut, s.Resource(rule.DomainOwner, rule.Domain, rule.Repository)); err != nil {
		return nil, err
	}
	if p := auth.PrincipalFrom(ctx); p != nil {
		rule.CreatedBy = p.ARN
	}
	rule.CreatedAt = s.now().UTC()
	err = s.Store.Write(ctx, func(tx store.Tx) error {
		if err := checkScope(tx, rule); err != nil {
			return err
		}
		return rules.Put(tx, rule)
	})
	if err != nil {
		return nil, err
	}
	s.record(ctx, ActionPut, rule)
	return rule, nil
}

// Rule validates in into a rule without storing it.
func (s *Service) Rule(in Input) (*rules.Rule, error) {
	rule := &rules.Rule{Scope: rules.Scope{DomainOwner: s.owner(in.DomainOwner), Domain: in.Domain,
		Repository: in.Repository, ExternalConnection: in.ExternalConnection},
		Cooldown: in.Cooldown, FreezeAt: in.FreezeAt, Versions: in.Versions, Version: in.Version, Severity: in.BlockSeverity, Reason: in.Reason}
	if in.Domain == "" {
		return nil, fault.Validation("domain is required")
	}
	var kinds []string
	for kind, set := range map[string]bool{rules.KindCooldown: in.Cooldown != "", rules.KindFreeze: in.FreezeAt != "",
		rules.KindBlock: in.Block != "", rules.KindExempt: in.Exempt != "", rules.KindSeverity: in.BlockSeverity != ""} {
		if set {
			kinds = append(kinds, kind)
		}
	}
	if len(kinds) != 1 {
		slices.Sort(kinds)
		return nil, fault.Validation("a rule is exactly one of cooldown, freezeAt, block, exempt and blockSeverity; the request has %d (%s)", len(kinds), strings.Join(kinds, ", "))
	}
	rule.Kind = kinds[0]
	if in.PackageGroup != "" {
		p, err := artifact.ParsePackageGroupPattern("packageGroup", in.PackageGroup)
		if err != nil {
			return nil, err
		}
		rule.PackageGroup = p
	}
	if in.ExternalConnection != "" {
		if _, ok := artifact.ExternalConnections[in.ExternalConnection]; !ok {
			return nil, fault.Validation("externalConnection '%s' is not an external connection coffer knows", in.ExternalConnection)
		}
	}
	if pkg := in.Block + in.Exempt; pkg != "" {
		field := map[string]string{rules.KindBlock: "block", rules.KindExempt: "exempt"}[rule.Kind]
		p, err := artifact.ParsePackageGroupPattern(field, pkg)
		if err != nil {
			return nil, err
		}
		rule.Package = p
		if rule.Version != "" && strings.HasSuffix(p, "$") {
			format, _, _ := strings.Cut(p[1:], "/")
			rule.Version = artifact.NormalizeVersion(format, rule.Version)
		}
	}
	if err := rules.Validate(rule); err != nil {
		return nil, err
	}
	return rule, nil
}

// checkScope refuses a rule for a domain, or repository, that does not
// exist, in the transaction that stores it.
func checkScope(tx store.Tx, rule *rules.Rule) error {
	d, err := getDomain(tx, rule.DomainOwner, rule.Domain)
	if err != nil || rule.Repository == "" {
		return err
	}
	_, err = tx.GetRepository(d.ID, rule.Repository)
	if errors.Is(err, fault.ErrNotFound) {
		return fault.NotFound("repository", rule.Repository, "Repository not found. Repository: %s, Domain: %s, Owner: %s", rule.Repository, rule.Domain, rule.DomainOwner)
	}
	return err
}

func getDomain(tx store.Tx, owner, domain string) (*store.Domain, error) {
	d, err := tx.GetDomain(owner, domain)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("domain", domain, "Domain not found. Domain: %s, Owner: %s", domain, owner)
	}
	return d, err
}

// List authorizes ActionList on the filter's resource and returns the
// rules of filter's domain, only those of the scope it names when it names
// one. filter.PackageGroup must be canonical (artifact.ParsePackageGroupPattern).
// An empty DomainOwner is the server's account.
func (s *Service) List(ctx context.Context, filter rules.Scope) ([]rules.Rule, error) {
	filter.DomainOwner = s.owner(filter.DomainOwner)
	if filter.Domain == "" {
		return nil, fault.Validation("domain is required")
	}
	if err := rules.ValidateScope(filter); err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionList, s.Resource(filter.DomainOwner, filter.Domain, filter.Repository)); err != nil {
		return nil, err
	}
	out := []rules.Rule{}
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		if _, err := getDomain(tx, filter.DomainOwner, filter.Domain); err != nil {
			return err
		}
		all, err := rules.List(tx, filter.DomainOwner, filter.Domain)
		for _, rule := range all {
			if (filter.Repository == "" || rule.Repository == filter.Repository) &&
				(filter.PackageGroup == "" || rule.PackageGroup == filter.PackageGroup) &&
				(filter.ExternalConnection == "" || rule.ExternalConnection == filter.ExternalConnection) {
				out = append(out, rule)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete authorizes ActionDelete on the rule's resource, removes rule id of
// a domain and records the change; it returns the rule removed. Only a
// caller allowed to delete learns whether the rule exists: the decision is
// taken on the domain when there is no such rule. An empty owner is the
// server's account.
func (s *Service) Delete(ctx context.Context, owner, domain, id string) (*rules.Rule, error) {
	owner = s.owner(owner)
	if domain == "" {
		return nil, fault.Validation("domain is required")
	}
	if err := rules.ValidateScope(rules.Scope{DomainOwner: owner, Domain: domain}); err != nil {
		return nil, err
	}
	if !rules.ValidID(id) {
		return nil, fault.Validation("id '%s' is not a rule id (r- and 16 hexadecimal digits)", id)
	}
	var rule *rules.Rule
	err := s.Store.Read(ctx, func(tx store.Tx) (err error) {
		rule, err = rules.Get(tx, owner, domain, id)
		return err
	})
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return nil, err
	}
	res := s.Resource(owner, domain, "")
	if rule != nil {
		res = s.Resource(owner, domain, rule.Repository)
	}
	if err := s.Authorizer.Authorize(ctx, ActionDelete, res); err != nil {
		return nil, err
	}
	if rule == nil {
		return nil, fault.NotFound("rule", id, "rule %s not found in domain %s", id, domain)
	}
	if err := s.Store.Write(ctx, func(tx store.Tx) error { return rules.Delete(tx, owner, domain, id) }); err != nil {
		return nil, err
	}
	s.record(ctx, ActionDelete, rule)
	return rule, nil
}

// record writes what changed to the audit log, beside the authorizer's
// record of the decision: an exemption is break-glass, and its reason must
// be on file.
func (s *Service) record(ctx context.Context, action string, rule *rules.Rule) {
	if s.Audit == nil {
		return
	}
	ri := auth.RequestInfoFrom(ctx)
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: action, Decision: "allow",
		Resource: s.Artifacts.DomainARN(rule.DomainOwner, rule.Domain) + "/rule/" + rule.ID, Reason: Summary(rule)}
	if p := auth.PrincipalFrom(ctx); p != nil {
		ev.Principal = p.ARN
	}
	s.Audit.Record(ev)
}

// Summary describes a rule in one line, as the audit log records it:
// "block domain: /npm//left-pad$ >=1.0.0 (reason: \"MAL-1\")".
func Summary(r *rules.Rule) string {
	s := r.Kind + " " + r.Scope.Kind()
	switch r.Scope.Kind() {
	case rules.ScopeRepository:
		s += " " + r.Repository
	case rules.ScopePackageGroup:
		s += " " + r.PackageGroup
	case rules.ScopeExternalConnection:
		s += " " + r.ExternalConnection
	}
	switch r.Kind {
	case rules.KindCooldown:
		s += ": " + r.Cooldown
	case rules.KindFreeze:
		s += ": " + r.FreezeAt
	case rules.KindSeverity:
		s += ": " + r.Severity + " and above"
	default:
		s += ": " + r.Package
		if v := r.Versions + r.Version; v != "" {
			s += " " + v
		}
		s += fmt.Sprintf(" (reason: %s)", strconv.Quote(r.Reason))
	}
	return s
}

// SplitVersion splits "package@version", the way an exemption of one
// version is written; an npm scope's leading '@' and a pattern's '@' before
// its final '$' are part of the package.
func SplitVersion(s string) (pkg, version string) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || strings.Contains(s[i:], "/") || strings.HasPrefix(s, "/") && !strings.HasSuffix(s[:i], "$") {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// ErrNoFormat is PackagePattern's error for a package name given without
// its format.
var ErrNoFormat = errors.New("a package name needs its format to become a pattern")

// PackagePattern turns a package as its clients write it (left-pad,
// @acme/ui, org.example:lib, acme/kit) into the exact pattern of format
// (/npm/acme/ui$); a pattern (starting with '/') is returned as it is. A
// name without a format is ErrNoFormat. The result is checked and
// canonicalised by Put, like any pattern.
func PackagePattern(format, pkg string) (string, error) {
	if strings.HasPrefix(pkg, "/") {
		return pkg, nil
	}
	if format == "" {
		return "", ErrNoFormat
	}
	namespace, name := "", pkg
	switch {
	case format == "npm" && strings.HasPrefix(pkg, "@"):
		namespace, name, _ = strings.Cut(pkg[1:], "/")
	case format == "maven":
		namespace, name, _ = strings.Cut(pkg, ":")
	case strings.Contains(pkg, "/"):
		i := strings.LastIndexByte(pkg, '/')
		namespace, name = pkg[:i], pkg[i+1:]
	}
	return "/" + format + "/" + namespace + "/" + name + "$", nil
}
