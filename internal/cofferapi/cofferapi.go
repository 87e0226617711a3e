// Package cofferapi serves the coffer-specific API, what CodeArtifact has
// no operation for: REST-JSON under /coffer/v1/, behind the same SigV4
// verification as the control plane, authorized by IAM actions in the
// coffer: namespace and answering errors in the control plane's JSON shape.
// It serves the supply-chain rules (package rules) for now:
//
//	PUT    /coffer/v1/rules        body: scope and rule; answers {"rule": ...}
//	GET    /coffer/v1/rules?domain=D[&domain-owner=O][&repository=R|&package-group=G|&external-connection=C]
//	DELETE /coffer/v1/rules/{id}?domain=D[&domain-owner=O]
//
// The API is not rate limited: its calls are operator actions, and
// internal/quota's limits are keyed by CodeArtifact operation names.
package cofferapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/controlplane"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// IAM actions of the rules API.
const (
	ActionPutRule    = "coffer:PutRule"
	ActionListRules  = "coffer:ListRules"
	ActionDeleteRule = "coffer:DeleteRule"
)

// maxBody bounds a request document.
const maxBody = 64 << 10

// Config is what the API needs.
type Config struct {
	Service    *artifact.Service
	Store      store.Store
	Authorizer auth.Authorizer
	Audit      *audit.Log // records each rule change with its content
	Log        *slog.Logger
	Now        func() time.Time // time.Now when nil
}

type handler struct{ Config }

// New returns the handler of /coffer/v1/.
func New(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /coffer/v1/rules", h.putRule)
	mux.HandleFunc("GET /coffer/v1/rules", h.listRules)
	mux.HandleFunc("DELETE /coffer/v1/rules/{id}", h.deleteRule)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		controlplane.WriteError(w, r, fault.NotFound("operation", r.URL.Path, "no coffer API operation is %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// PutRuleInput is the body of PUT /coffer/v1/rules: a scope and exactly
// one of cooldown, freezeAt, block and exempt.
type PutRuleInput struct {
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
	Reason             string `json:"reason,omitempty"`
}

// RuleOutput answers PUT and DELETE.
type RuleOutput struct {
	Rule rules.Rule `json:"rule"`
}

// ListRulesOutput answers GET.
type ListRulesOutput struct {
	Rules []rules.Rule `json:"rules"`
}

func (h *handler) owner(o string) string {
	if o == "" {
		return h.Service.AccountID()
	}
	return o
}

// resource is the ARN a rule's actions are authorized on: its repository's
// for a repository-scoped rule, else its domain's.
func (h *handler) resource(owner, domain, repository string) string {
	if repository != "" {
		return h.Service.RepositoryARN(owner, domain, repository)
	}
	return h.Service.DomainARN(owner, domain)
}

func (h *handler) putRule(w http.ResponseWriter, r *http.Request) {
	var in PutRuleInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		controlplane.WriteError(w, r, fault.Validation("the request body is not a rule document: %v", err))
		return
	}
	rule, err := h.ruleOf(in)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	res := h.resource(rule.DomainOwner, rule.Domain, rule.Repository)
	if err := h.Authorizer.Authorize(r.Context(), ActionPutRule, res); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		rule.CreatedBy = p.ARN
	}
	rule.CreatedAt = h.Now().UTC()
	err = h.Store.Write(r.Context(), func(tx store.Tx) error {
		if err := h.checkScope(tx, rule); err != nil {
			return err
		}
		return rules.Put(tx, rule)
	})
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	h.record(r, ActionPutRule, rule)
	writeJSON(w, RuleOutput{Rule: *rule})
}

// ruleOf validates the request into a rule.
func (h *handler) ruleOf(in PutRuleInput) (*rules.Rule, error) {
	rule := &rules.Rule{Scope: rules.Scope{DomainOwner: h.owner(in.DomainOwner), Domain: in.Domain,
		Repository: in.Repository, ExternalConnection: in.ExternalConnection},
		Cooldown: in.Cooldown, FreezeAt: in.FreezeAt, Versions: in.Versions, Version: in.Version, Reason: in.Reason}
	if in.Domain == "" {
		return nil, fault.Validation("domain is required")
	}
	var kinds []string
	for kind, set := range map[string]bool{rules.KindCooldown: in.Cooldown != "", rules.KindFreeze: in.FreezeAt != "",
		rules.KindBlock: in.Block != "", rules.KindExempt: in.Exempt != ""} {
		if set {
			kinds = append(kinds, kind)
		}
	}
	if len(kinds) != 1 {
		slices.Sort(kinds)
		return nil, fault.Validation("a rule is exactly one of cooldown, freezeAt, block and exempt; the request has %d (%s)", len(kinds), strings.Join(kinds, ", "))
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
func (h *handler) checkScope(tx store.Tx, rule *rules.Rule) error {
	d, err := tx.GetDomain(rule.DomainOwner, rule.Domain)
	if errors.Is(err, fault.ErrNotFound) {
		return fault.NotFound("domain", rule.Domain, "Domain not found. Domain: %s, Owner: %s", rule.Domain, rule.DomainOwner)
	} else if err != nil {
		return err
	}
	if rule.Repository == "" {
		return nil
	}
	_, err = tx.GetRepository(d.ID, rule.Repository)
	if errors.Is(err, fault.ErrNotFound) {
		return fault.NotFound("repository", rule.Repository, "Repository not found. Repository: %s, Domain: %s, Owner: %s", rule.Repository, rule.Domain, rule.DomainOwner)
	}
	return err
}

func (h *handler) listRules(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	domain, owner := q.Get("domain"), h.owner(q.Get("domain-owner"))
	if domain == "" {
		controlplane.WriteError(w, r, fault.Validation("domain is required"))
		return
	}
	filter := rules.Scope{DomainOwner: owner, Domain: domain, Repository: q.Get("repository"),
		PackageGroup: q.Get("package-group"), ExternalConnection: q.Get("external-connection")}
	if filter.PackageGroup != "" {
		p, err := artifact.ParsePackageGroupPattern("package-group", filter.PackageGroup)
		if err != nil {
			controlplane.WriteError(w, r, err)
			return
		}
		filter.PackageGroup = p
	}
	if err := rules.ValidateScope(filter); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	if err := h.Authorizer.Authorize(r.Context(), ActionListRules, h.resource(owner, domain, filter.Repository)); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	var out ListRulesOutput
	err := h.Store.Read(r.Context(), func(tx store.Tx) error {
		if _, err := tx.GetDomain(owner, domain); errors.Is(err, fault.ErrNotFound) {
			return fault.NotFound("domain", domain, "Domain not found. Domain: %s, Owner: %s", domain, owner)
		} else if err != nil {
			return err
		}
		all, err := rules.List(tx, owner, domain)
		for _, rule := range all {
			if (filter.Repository == "" || rule.Repository == filter.Repository) &&
				(filter.PackageGroup == "" || rule.PackageGroup == filter.PackageGroup) &&
				(filter.ExternalConnection == "" || rule.ExternalConnection == filter.ExternalConnection) {
				out.Rules = append(out.Rules, rule)
			}
		}
		return err
	})
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	if out.Rules == nil {
		out.Rules = []rules.Rule{}
	}
	writeJSON(w, out)
}

func (h *handler) deleteRule(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, domain, owner := r.PathValue("id"), q.Get("domain"), h.owner(q.Get("domain-owner"))
	if domain == "" {
		controlplane.WriteError(w, r, fault.Validation("domain is required"))
		return
	}
	if err := rules.ValidateScope(rules.Scope{DomainOwner: owner, Domain: domain}); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	if !rules.ValidID(id) {
		controlplane.WriteError(w, r, fault.Validation("id '%s' is not a rule id (r- and 16 hexadecimal digits)", id))
		return
	}
	var rule *rules.Rule
	err := h.Store.Read(r.Context(), func(tx store.Tx) (err error) {
		rule, err = rules.Get(tx, owner, domain, id)
		return err
	})
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		controlplane.WriteError(w, r, err)
		return
	}
	// Only a caller allowed to delete learns whether the rule exists.
	res := h.resource(owner, domain, "")
	if rule != nil {
		res = h.resource(owner, domain, rule.Repository)
	}
	if err := h.Authorizer.Authorize(r.Context(), ActionDeleteRule, res); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	if rule == nil {
		controlplane.WriteError(w, r, fault.NotFound("rule", id, "rule %s not found in domain %s", id, domain))
		return
	}
	if err := h.Store.Write(r.Context(), func(tx store.Tx) error { return rules.Delete(tx, owner, domain, id) }); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	h.record(r, ActionDeleteRule, rule)
	writeJSON(w, RuleOutput{Rule: *rule})
}

// record writes what changed to the audit log, beside the authorizer's
// record of the decision: an exemption is break-glass, and its reason must
// be on file.
func (h *handler) record(r *http.Request, action string, rule *rules.Rule) {
	if h.Audit == nil {
		return
	}
	ri := auth.RequestInfoFrom(r.Context())
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: action, Decision: "allow",
		Resource: h.Service.DomainARN(rule.DomainOwner, rule.Domain) + "/rule/" + rule.ID, Reason: summary(rule)}
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		ev.Principal = p.ARN
	}
	h.Audit.Record(ev)
}

// summary describes a rule in one line.
func summary(r *rules.Rule) string {
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
	default:
		s += ": " + r.Package
		if v := r.Versions + r.Version; v != "" {
			s += " " + v
		}
		s += fmt.Sprintf(" (reason: %s)", strconv.Quote(r.Reason))
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		controlplane.WriteError(w, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b) // a failed write means the client is gone
}
