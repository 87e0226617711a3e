package console

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/rules/ruleops"
)

// The supply-chain rules page of a domain: its rules sorted by scope, forms
// to add a cooldown, a freeze, a block or an exemption, and a delete button
// per rule. Reading, validation, authorization (coffer:ListRules, PutRule,
// DeleteRule on the domain's ARN, or the repository's for a repository's
// rules), storage and the audit record of each change are ruleops's, as for
// the coffer API; this file reads forms and renders.
//
// The versions the rules withhold are shown on each package's page
// (withheld.go); this page only explains where: listing them for a whole
// domain would read every package of every repository.

// rulesURL is the domain's rules page.
func rulesURL(domain string) string { return domainURL(domain) + "rules" }

// scopeOrder sorts scopes from the broadest to the narrowest (the
// narrowest scope that has a rule of a kind decides).
var scopeOrder = map[string]int{rules.ScopeDomain: 0, rules.ScopeRepository: 1, rules.ScopePackageGroup: 2, rules.ScopeExternalConnection: 3}

var kindOrder = map[string]int{rules.KindCooldown: 0, rules.KindFreeze: 1, rules.KindBlock: 2, rules.KindExempt: 3}

// rulesView is the data of the rules page.
type rulesView struct {
	Domain string
	Rules  []ruleRow
	// Forms are the four add forms; nil when the principal may put a
	// rule nowhere in the domain.
	Forms []ruleForm
	// Groups are the domain's package group patterns, offered for the
	// package group scope.
	Groups  []string
	Formats []string
	// Error is the message of a refused submission that belongs to no
	// form (a kind the page has no form for).
	Error string
}

// ruleRow is one rule as the table shows it.
type ruleRow struct {
	ID, Kind                string
	ScopeKind, Scope        string // "repository", "ci"
	Setting                 string // the cooldown, the pattern, or the summary of a kind this page does not know
	Freeze                  stamp
	Versions                string // a block's range, an exemption's version; "" for every version
	PerVersion              bool   // the kind takes versions
	Reason                  string
	Created                 stamp
	CreatedBy               string
	CanDelete               bool
	DeleteAction            string
	FirstOfScope, Highlight bool
}

// ruleForm is one of the add forms, with the values and the error of a
// refused submission of that form.
type ruleForm struct {
	Kind, Title, Help string
	Action            string
	Scopes            []scopeGroup
	GroupScope        bool // the package group scope is offered
	Values            ruleValues
	Error             string
}

type scopeGroup struct {
	Label   string // optgroup label; "" for none
	Options []scopeOption
}

type scopeOption struct {
	Value, Label string
	Selected     bool
}

// ruleValues are the fields of an add form.
type ruleValues struct {
	Kind, Scope, PackageGroup, Cooldown, FreezeAt, Package, Format, Versions, Reason string
}

func valuesOf(f url.Values) ruleValues {
	g := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	return ruleValues{Kind: g("kind"), Scope: g("scope"), PackageGroup: g("package_group"), Cooldown: g("cooldown"), FreezeAt: g("freeze_at"),
		Package: g("package"), Format: g("format"), Versions: g("versions"), Reason: g("reason")}
}

func (c *Console) rulesPage(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := domainRef(r)
	list, err := c.rules.List(r.Context(), rules.Scope{Domain: ref.Name})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rv, err := c.rulesView(r, ref, list, q.Get("rule"))
	if err != nil {
		return err
	}
	notice := ""
	switch q.Get("done") {
	case "added":
		notice = "Rule saved."
	case "deleted":
		notice = "Rule deleted."
	}
	c.renderRules(w, r, s, http.StatusOK, rv, notice)
	return nil
}

func (c *Console) renderRules(w http.ResponseWriter, r *http.Request, s *state, status int, rv *rulesView, notice string) {
	c.render(w, r, status, "rules", &view{Title: "Supply-chain rules · " + rv.Domain, Principal: s.principal, CSRF: s.csrf, Body: rv, Notice: notice,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: rv.Domain, Href: domainURL(rv.Domain)}, {Label: "Supply-chain rules"}}})
}

// rulesView builds the page: the table, and the forms with the scopes the
// principal may put a rule at (asked of the probe: no audit record).
func (c *Console) rulesView(r *http.Request, ref artifact.DomainRef, list []rules.Rule, highlight string) (*rulesView, error) {
	ctx := r.Context()
	rv := &rulesView{Domain: ref.Name, Formats: artifact.Formats}
	slices.SortFunc(list, func(a, b rules.Rule) int {
		return cmp.Or(cmp.Compare(scopeOrder[a.Scope.Kind()], scopeOrder[b.Scope.Kind()]), cmp.Compare(scopeName(a.Scope), scopeName(b.Scope)),
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Package, b.Package), cmp.Compare(a.Versions+a.Version, b.Versions+b.Version),
			cmp.Compare(a.ID, b.ID))
	})
	canDelete := map[string]bool{}
	for i := range list {
		rule := &list[i]
		row := ruleRow{ID: rule.ID, Kind: rule.Kind, ScopeKind: rule.Scope.Kind(), Scope: scopeName(rule.Scope), Reason: rule.Reason,
			Created: stampOf(rule.CreatedAt), CreatedBy: rule.CreatedBy, DeleteAction: rulesURL(ref.Name) + "/delete", Highlight: rule.ID == highlight}
		row.FirstOfScope = i == 0 || list[i-1].Scope != rule.Scope
		switch rule.Kind {
		case rules.KindCooldown:
			row.Setting = cooldownText(rule.Cooldown)
		case rules.KindFreeze:
			t, _ := time.Parse(time.RFC3339Nano, rule.FreezeAt)
			row.Freeze = stampOf(t)
		case rules.KindBlock:
			row.Setting, row.Versions, row.PerVersion = rule.Package, rule.Versions, true
		case rules.KindExempt:
			row.Setting, row.Versions, row.PerVersion = rule.Package, rule.Version, true
		default:
			row.Setting = ruleops.Summary(rule)
		}
		res := c.rules.Resource("", ref.Name, rule.Repository)
		ok, seen := canDelete[res]
		if !seen {
			ok = c.allowed(ctx, ruleops.ActionDelete, res)
			canDelete[res] = ok
		}
		row.CanDelete = ok
		rv.Rules = append(rv.Rules, row)
	}
	scopes, groupScope, err := c.ruleScopes(r, ref)
	if err != nil {
		return nil, err
	}
	if groupScope && c.allowed(ctx, auth.ActionListPackageGroups, c.domainARN(ref)) {
		err := eachPage(func(page artifact.PageRequest) (string, error) {
			gs, next, err := c.svc.ListPackageGroups(ctx, ref, "", page)
			for _, g := range gs {
				rv.Groups = append(rv.Groups, g.Pattern)
			}
			return next, err
		})
		if err != nil {
			return nil, err
		}
	}
	if len(scopes) == 0 {
		return rv, nil
	}
	for _, f := range []ruleForm{
		{Kind: rules.KindCooldown, Title: "Cooldown", Help: "Versions that arrive from an external connection are withheld until they are this old."},
		{Kind: rules.KindFreeze, Title: "Freeze", Help: "Versions published after this time are withheld."},
		{Kind: rules.KindBlock, Title: "Block", Help: "Matching versions are refused, wherever they come from."},
		{Kind: rules.KindExempt, Title: "Exemption", Help: "Matching versions skip cooldowns and freezes (break-glass: the reason is audited)."},
	} {
		f.Action, f.GroupScope = rulesURL(ref.Name), groupScope
		f.Scopes = withSelected(scopes, "")
		rv.Forms = append(rv.Forms, f)
	}
	return rv, nil
}

// ruleScopes lists the scopes the principal may put a rule at: the
// domain, package groups and external connections when coffer:PutRule is
// allowed on the domain, and each repository (when the principal may list
// them) where it is allowed on the repository.
func (c *Console) ruleScopes(r *http.Request, ref artifact.DomainRef) (groups []scopeGroup, groupScope bool, err error) {
	ctx := r.Context()
	onDomain := c.allowed(ctx, ruleops.ActionPut, c.rules.Resource("", ref.Name, ""))
	if onDomain {
		groups = append(groups, scopeGroup{Options: []scopeOption{{Value: rules.ScopeDomain, Label: "The whole domain " + ref.Name},
			{Value: rules.ScopePackageGroup, Label: "A package group (pattern below)"}}})
	}
	if c.allowed(ctx, auth.ActionListRepositoriesInDomain, c.domainARN(ref)) {
		var repos []scopeOption
		err := eachPage(func(page artifact.PageRequest) (string, error) {
			rs, next, err := c.svc.ListRepositories(ctx, artifact.RepositoryFilter{Domain: ref}, page)
			for _, rp := range rs {
				if c.allowed(ctx, ruleops.ActionPut, c.rules.Resource("", ref.Name, rp.Name)) {
					repos = append(repos, scopeOption{Value: rules.ScopeRepository + ":" + rp.Name, Label: rp.Name})
				}
			}
			return next, err
		})
		if err != nil {
			return nil, false, err
		}
		if len(repos) > 0 {
			groups = append(groups, scopeGroup{Label: "Repository", Options: repos})
		}
	}
	if onDomain {
		names := make([]string, 0, len(artifact.ExternalConnections))
		for name := range artifact.ExternalConnections {
			names = append(names, name)
		}
		slices.Sort(names)
		g := scopeGroup{Label: "External connection"}
		for _, n := range names {
			g.Options = append(g.Options, scopeOption{Value: rules.ScopeExternalConnection + ":" + n, Label: n})
		}
		groups = append(groups, g)
	}
	return groups, onDomain, nil
}

// withSelected copies groups with the option of value selected (the first
// option when value is not among them).
func withSelected(groups []scopeGroup, value string) []scopeGroup {
	out := make([]scopeGroup, len(groups))
	found := false
	for i, g := range groups {
		out[i] = scopeGroup{Label: g.Label, Options: slices.Clone(g.Options)}
		for j := range out[i].Options {
			if out[i].Options[j].Value == value && !found {
				out[i].Options[j].Selected, found = true, true
			}
		}
	}
	if !found && len(out) > 0 && len(out[0].Options) > 0 {
		out[0].Options[0].Selected = true
	}
	return out
}

// maxListed bounds the repositories and package groups a form offers.
const maxListed = 1000

// eachPage calls list for successive pages until the listing ends or
// maxListed entries were asked for.
func eachPage(list func(artifact.PageRequest) (string, error)) error {
	after := ""
	for n := 0; n < maxListed; n += 100 {
		next, err := list(artifact.PageRequest{After: after, Max: 100})
		if err != nil || next == "" {
			return err
		}
		after = next
	}
	return nil
}

func scopeName(s rules.Scope) string {
	switch s.Kind() {
	case rules.ScopeRepository:
		return s.Repository
	case rules.ScopePackageGroup:
		return s.PackageGroup
	case rules.ScopeExternalConnection:
		return s.ExternalConnection
	}
	return s.Domain
}

func kindRank(kind string) int {
	if r, ok := kindOrder[kind]; ok {
		return r
	}
	return len(kindOrder)
}

// cooldownText shows a stored cooldown ("72h0m0s") as "72h (3 days)".
func cooldownText(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	t := d.String()
	if m, ok := strings.CutSuffix(t, "m0s"); ok {
		t = m + "m"
	}
	if h, ok := strings.CutSuffix(t, "h0m"); ok {
		t = h + "h"
	}
	if day := 24 * time.Hour; d%day == 0 {
		n := int(d / day)
		return t + " (" + strconv.Itoa(n) + map[bool]string{true: " day)", false: " days)"}[n == 1]
	}
	return t
}

// addRule is the add forms' POST: the form becomes a ruleops.Input, which
// ruleops validates, authorizes, stores and audits as the API's PUT does. A
// refused value shows the page again with the message by the form.
func (c *Console) addRule(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := domainRef(r)
	vals := valuesOf(r.PostForm)
	in, err := ruleInput(ref.Name, vals)
	var rule *rules.Rule
	if err == nil {
		rule, err = c.rules.Put(r.Context(), in)
	}
	if fault.KindOf(err) == fault.KindValidation {
		return c.refusedRule(w, r, s, ref, vals, err)
	} else if err != nil {
		return err
	}
	c.log.Info("console action", "action", ruleops.ActionPut, "resource", c.rules.Resource("", ref.Name, rule.Repository), "principal", s.principal.ARN,
		"rule", rule.ID)
	http.Redirect(w, r, withQuery(rulesURL(ref.Name), url.Values{"done": {"added"}, "rule": {rule.ID}})+"#rule-"+rule.ID, http.StatusSeeOther)
	return nil
}

// refusedRule renders the rules page with a refused form's message and
// values, status 400; when the principal may not list the rules, the
// error page says what was wrong.
func (c *Console) refusedRule(w http.ResponseWriter, r *http.Request, s *state, ref artifact.DomainRef, vals ruleValues, refusal error) error {
	list, err := c.rules.List(r.Context(), rules.Scope{Domain: ref.Name})
	if err != nil {
		return refusal
	}
	rv, err := c.rulesView(r, ref, list, "")
	if err != nil {
		return err
	}
	msg := fault.As(refusal).Message
	for i := range rv.Forms {
		if f := &rv.Forms[i]; f.Kind == vals.Kind {
			f.Values, f.Error, msg = vals, msg, ""
			f.Scopes = withSelected(f.Scopes, vals.Scope)
		}
	}
	rv.Error = msg
	c.renderRules(w, r, s, http.StatusBadRequest, rv, "")
	return nil
}

// ruleInput reads an add form. Patterns are left as written (ruleops
// canonicalises them); a package written as its clients write it becomes a
// pattern with the form's format.
func ruleInput(domain string, v ruleValues) (ruleops.Input, error) {
	in := ruleops.Input{Domain: domain, Reason: v.Reason}
	scope, name, _ := strings.Cut(v.Scope, ":")
	switch {
	case scope == rules.ScopeDomain && name == "":
	case scope == rules.ScopePackageGroup && name == "":
		if v.PackageGroup == "" {
			return in, fault.Validation("Enter the pattern of the package group the rule applies to, e.g. /npm/acme/*.")
		}
		in.PackageGroup = v.PackageGroup
	case scope == rules.ScopeRepository && name != "":
		in.Repository = name
	case scope == rules.ScopeExternalConnection && name != "":
		in.ExternalConnection = name
	default:
		return in, fault.Validation("Choose where the rule applies.")
	}
	switch v.Kind {
	case rules.KindCooldown:
		if v.Cooldown == "" {
			return in, fault.Validation("Enter a cooldown, e.g. 72h or 90m.")
		}
		in.Cooldown = v.Cooldown
	case rules.KindFreeze:
		if v.FreezeAt == "" {
			return in, fault.Validation("Enter the time of the freeze, e.g. 2026-01-02T15:04:05Z.")
		}
		in.FreezeAt = freezeTime(v.FreezeAt)
	case rules.KindBlock, rules.KindExempt:
		pkg, version := v.Package, ""
		if v.Kind == rules.KindExempt {
			pkg, version = ruleops.SplitVersion(pkg)
		}
		if pkg == "" {
			return in, fault.Validation("Enter a package pattern, e.g. /npm//left-pad$ or /npm/acme/*, or a package name with its format.")
		}
		if v.Format != "" && !slices.Contains(artifact.Formats, v.Format) {
			return in, fault.Validation("Choose a format from the list.")
		}
		pattern, err := ruleops.PackagePattern(v.Format, pkg)
		if errors.Is(err, ruleops.ErrNoFormat) {
			return in, fault.Validation("'%s' is not a pattern (patterns start with '/'): choose the package's format to give it by name.", pkg)
		} else if err != nil {
			return in, err
		}
		if v.Kind == rules.KindBlock {
			in.Block, in.Versions = pattern, v.Versions
		} else {
			in.Exempt, in.Version = pattern, version
		}
	default:
		return in, fault.Validation("Choose a kind of rule.")
	}
	return in, nil
}

// freezeTime reads a freeze time: RFC 3339 as it is, and a date and time
// without a zone ("2026-01-02 15:04", what a datetime-local field sends) as
// UTC.
func freezeTime(s string) string {
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return s
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s // ruleops refuses it with the format it wants
}

// deleteRule is a rule's delete button.
func (c *Console) deleteRule(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := domainRef(r)
	rule, err := c.rules.Delete(r.Context(), "", ref.Name, r.PostForm.Get("id"))
	if err != nil {
		return err
	}
	c.log.Info("console action", "action", ruleops.ActionDelete, "resource", c.rules.Resource("", ref.Name, rule.Repository), "principal", s.principal.ARN,
		"rule", rule.ID)
	http.Redirect(w, r, withQuery(rulesURL(ref.Name), url.Values{"done": {"deleted"}}), http.StatusSeeOther)
	return nil
}
