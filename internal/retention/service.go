package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// Service manages retention rules and runs them for the principal in the
// context (the API and the CLI's calls), or for the scheduler.
type Service struct {
	Artifacts  *artifact.Service // removes versions, frees blobs; account id and ARNs
	Store      store.Store       // reads rules, versions and downloads
	Authorizer auth.Authorizer
	Audit      *audit.Log // optional
	Log        *slog.Logger
	Now        func() time.Time // time.Now when nil

	metricsOnce sync.Once
	metrics     *metrics
	runMu       sync.Mutex // one run at a time in this process
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) owner(o string) string {
	if o == "" {
		return s.Artifacts.AccountID()
	}
	return o
}

func (s *Service) resource(owner, domain, repository string) string {
	if repository != "" {
		return s.Artifacts.RepositoryARN(owner, domain, repository)
	}
	return s.Artifacts.DomainARN(owner, domain)
}

// scope validates and canonicalises in's scope.
func (s *Service) scope(in *Input) error {
	in.DomainOwner = s.owner(in.DomainOwner)
	if in.Domain == "" {
		return fault.Validation("domain is required")
	}
	if err := rules.ValidateScope(rules.Scope{DomainOwner: in.DomainOwner, Domain: in.Domain, Repository: in.Repository}); err != nil {
		return err
	}
	if in.PackageGroup != "" {
		p, err := artifact.ParsePackageGroupPattern("packageGroup", in.PackageGroup)
		if err != nil {
			return err
		}
		in.PackageGroup = p
	}
	return nil
}

func findScope(tx store.Tx, owner, domain, repository string) (*store.Domain, error) {
	d, err := tx.GetDomain(owner, domain)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("domain", domain, "Domain not found. Domain: %s, Owner: %s", domain, owner)
	}
	if err != nil || repository == "" {
		return d, err
	}
	if _, err := tx.GetRepository(d.ID, repository); errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("repository", repository, "Repository not found. Repository: %s, Domain: %s, Owner: %s", repository, domain, owner)
	} else if err != nil {
		return nil, err
	}
	return d, nil
}

// Put validates in, authorizes ActionPut and stores a new rule.
func (s *Service) Put(ctx context.Context, in Input) (*Rule, error) {
	if err := s.scope(&in); err != nil {
		return nil, err
	}
	if err := validatePolicy(&in.Policy); err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionPut, s.resource(in.DomainOwner, in.Domain, in.Repository)); err != nil {
		return nil, err
	}
	r := &Rule{ID: newRuleID(), DomainOwner: in.DomainOwner, Domain: in.Domain, Repository: in.Repository,
		PackageGroup: in.PackageGroup, Policy: in.Policy, CreatedAt: s.now().UTC()}
	if p := auth.PrincipalFrom(ctx); p != nil {
		r.CreatedBy = p.ARN
	}
	err := s.Store.Write(ctx, func(tx store.Tx) error {
		if _, err := findScope(tx, r.DomainOwner, r.Domain, r.Repository); err != nil {
			return err
		}
		existing, err := listRules(tx, r.DomainOwner, r.Domain)
		if err != nil {
			return err
		}
		if len(existing) >= maxRules {
			return fault.Quota("retention rule", r.Domain, "Domain %s has %d retention rules, the most it may have", r.Domain, len(existing))
		}
		return putRule(tx, r)
	})
	if err != nil {
		return nil, err
	}
	s.record(ctx, ActionPut, r.DomainOwner, r.Domain, "/retention-rule/"+r.ID, summary(r))
	return r, nil
}

// List authorizes ActionList on the domain (or repository) and returns its
// rules; with a repository, those that apply to it (its own and the
// domain-wide ones).
func (s *Service) List(ctx context.Context, owner, domain, repository string) ([]Rule, error) {
	in := Input{DomainOwner: owner, Domain: domain, Repository: repository}
	if err := s.scope(&in); err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionList, s.resource(in.DomainOwner, domain, repository)); err != nil {
		return nil, err
	}
	var out []Rule
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		if _, err := findScope(tx, in.DomainOwner, domain, repository); err != nil {
			return err
		}
		all, err := listRules(tx, in.DomainOwner, domain)
		for _, r := range all {
			if repository == "" || r.Repository == "" || r.Repository == repository {
				out = append(out, r)
			}
		}
		return err
	})
	return append([]Rule{}, out...), err
}

// Delete authorizes ActionDelete on the rule's resource (the domain's when
// there is no such rule) and removes it.
func (s *Service) Delete(ctx context.Context, owner, domain, id string) (*Rule, error) {
	in := Input{DomainOwner: owner, Domain: domain}
	if err := s.scope(&in); err != nil {
		return nil, err
	}
	if !ruleID.MatchString(id) {
		return nil, fault.Validation("id '%s' is not a retention rule id (ret- and 16 hexadecimal digits)", id)
	}
	var r *Rule
	err := s.Store.Read(ctx, func(tx store.Tx) (err error) {
		r, err = getRule(tx, in.DomainOwner, domain, id)
		return err
	})
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return nil, err
	}
	res := s.resource(in.DomainOwner, domain, "")
	if r != nil {
		res = s.resource(in.DomainOwner, domain, r.Repository)
	}
	if err := s.Authorizer.Authorize(ctx, ActionDelete, res); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fault.NotFound("retention rule", id, "retention rule %s not found in domain %s", id, domain)
	}
	if err := s.Store.Write(ctx, func(tx store.Tx) error {
		return tx.DeleteSetting(domainPrefix(rulePrefix, in.DomainOwner, domain) + id)
	}); err != nil {
		return nil, err
	}
	s.record(ctx, ActionDelete, r.DomainOwner, r.Domain, "/retention-rule/"+r.ID, summary(r))
	return r, nil
}

// RunInput asks for a run (the body of POST /coffer/v1/retention/run): the
// scope, and either an inline policy or none, which applies the stored
// rules of the scope (a repository's: its own and the domain-wide ones).
type RunInput struct {
	Input
	DryRun bool `json:"dryRun,omitempty"`
	// AsOf evaluates the time-based criteria as if it were then (RFC
	// 3339; default now): "what goes next month", and how tests move time.
	AsOf string `json:"asOf,omitempty"`
}

// RemovedVersion is a version a run removed (or would).
type RemovedVersion struct {
	Repository string `json:"repository"`
	Format     string `json:"format"`
	Namespace  string `json:"namespace,omitempty"`
	Package    string `json:"package"`
	Version    string `json:"version"`
	Reason     string `json:"reason"`
	Rule       string `json:"rule,omitempty"` // stored rule id; "" for an inline policy
}

// Run is the record of a run.
type Run struct {
	ID          string           `json:"id"`
	DomainOwner string           `json:"domainOwner"`
	Domain      string           `json:"domain"`
	Repository  string           `json:"repository,omitempty"`
	Trigger     string           `json:"trigger"` // manual or scheduled
	DryRun      bool             `json:"dryRun"`
	StartedAt   time.Time        `json:"startedAt"`
	FinishedAt  time.Time        `json:"finishedAt"`
	AsOf        time.Time        `json:"asOf"`
	Principal   string           `json:"principal,omitempty"`
	Rules       []string         `json:"rules,omitempty"`
	Versions    []RemovedVersion `json:"versions"`
	// VersionCount is len(Versions), also in stored records, which keep
	// only the first maxRecordVersions versions.
	VersionCount int    `json:"versionCount"`
	Blobs        int    `json:"blobs"`
	BytesFreed   int64  `json:"bytesFreed"`
	Error        string `json:"error,omitempty"`
}

const (
	triggerManual    = "manual"
	triggerScheduled = "scheduled"
	// maxRecordVersions bounds the versions a stored run record lists.
	maxRecordVersions = 100
	// lockKey is the store.Locker key runs hold, one node at a time.
	lockKey = "retention"
)

// Run authorizes ActionRun (ActionPreview for a dry run) on the scope and
// runs: see RunInput. The answer lists the versions removed (or that would
// be) and the bytes freed in the blob store.
func (s *Service) Run(ctx context.Context, in RunInput) (*Run, error) {
	if err := s.scope(&in.Input); err != nil {
		return nil, err
	}
	inline := in.Policy != (Policy{})
	if inline {
		if err := validatePolicy(&in.Policy); err != nil {
			return nil, err
		}
	} else if in.PackageGroup != "" {
		return nil, fault.Validation("packageGroup narrows an inline policy (keepLast, unusedDays, snapshotsOlderThanDays); stored rules have their own")
	}
	asOf := s.now()
	if in.AsOf != "" {
		t, err := time.Parse(time.RFC3339, in.AsOf)
		if err != nil {
			return nil, fault.Validation("asOf '%s' must be an RFC 3339 time", in.AsOf)
		}
		asOf = t
	}
	action := ActionRun
	if in.DryRun {
		action = ActionPreview
	}
	if err := s.Authorizer.Authorize(ctx, action, s.resource(in.DomainOwner, in.Domain, in.Repository)); err != nil {
		return nil, err
	}
	var list []Rule
	if inline {
		list = []Rule{{DomainOwner: in.DomainOwner, Domain: in.Domain, Repository: in.Repository, PackageGroup: in.PackageGroup, Policy: in.Policy}}
	} else {
		err := s.Store.Read(ctx, func(tx store.Tx) error {
			if _, err := findScope(tx, in.DomainOwner, in.Domain, in.Repository); err != nil {
				return err
			}
			all, err := listRules(tx, in.DomainOwner, in.Domain)
			for _, r := range all {
				if in.Repository == "" || r.Repository == "" || r.Repository == in.Repository {
					if in.Repository != "" {
						r.Repository = in.Repository // a domain-wide rule, applied to this repository only
					}
					list = append(list, r)
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	run := &Run{DomainOwner: in.DomainOwner, Domain: in.Domain, Repository: in.Repository, Trigger: triggerManual, DryRun: in.DryRun, AsOf: asOf.UTC()}
	if p := auth.PrincipalFrom(ctx); p != nil {
		run.Principal = p.ARN
	}
	err := s.execute(ctx, run, list)
	s.record(ctx, action, run.DomainOwner, run.Domain, "/retention-run/"+run.ID, runSummary(run))
	if err != nil {
		return nil, err
	}
	return run, nil
}

// execute runs list (rules of run's domain) under the run lock, fills in
// run and keeps its record.
func (s *Service) execute(ctx context.Context, run *Run, list []Rule) (err error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if l, ok := s.Store.(store.Locker); ok {
		unlock, err := l.Lock(ctx, lockKey)
		if err != nil {
			return fault.Unavailable(err, "could not take the retention lock")
		}
		defer unlock()
	}
	run.StartedAt = s.now().UTC()
	run.ID = strconv.FormatInt(run.StartedAt.UnixNano(), 10)
	run.Versions = []RemovedVersion{}
	for _, r := range list {
		if r.ID != "" {
			run.Rules = append(run.Rules, r.ID)
		}
	}
	defer func() {
		run.FinishedAt = s.now().UTC()
		run.VersionCount = len(run.Versions)
		if err != nil {
			run.Error = err.Error()
		}
		s.observe(run, err)
		if rerr := s.keepRecord(ctx, run); rerr != nil {
			s.Log.Warn("could not keep the retention run's record", "err", rerr)
		}
	}()
	plan, err := s.evaluate(ctx, run.DomainOwner, run.Domain, list, run.AsOf)
	if err != nil || len(plan.keys) == 0 {
		return err
	}
	var removal *artifact.Removal
	if run.DryRun {
		removal, err = s.Artifacts.PlanRemoval(ctx, plan.keys)
	} else {
		removal, err = s.Artifacts.RemoveVersions(ctx, plan.keys)
	}
	if removal != nil {
		for _, k := range removal.Removed {
			run.Versions = append(run.Versions, plan.names[k])
		}
		run.Blobs, run.BytesFreed = removal.Blobs, removal.BytesFreed
	}
	return err
}

// plan is what evaluate chose.
type plan struct {
	keys  []artifact.VersionKey
	names map[artifact.VersionKey]RemovedVersion
}

// evaluate reads, in one snapshot, the versions the rules cover and
// decides which go.
func (s *Service) evaluate(ctx context.Context, owner, domain string, list []Rule, now time.Time) (*plan, error) {
	out := &plan{names: map[artifact.VersionKey]RemovedVersion{}}
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		d, err := findScope(tx, owner, domain, "")
		if err != nil {
			return err
		}
		supply, err := rules.List(tx, owner, domain)
		if err != nil {
			return err
		}
		repos, err := allRepositories(tx, d.ID)
		if err != nil {
			return err
		}
		for _, rule := range list {
			var group *rules.Pattern
			if rule.PackageGroup != "" {
				p, err := rules.ParsePattern(rule.PackageGroup)
				if err != nil {
					return fmt.Errorf("retention rule %s: %w", rule.ID, err)
				}
				group = &p
			}
			for _, repo := range repos {
				if rule.Repository != "" && repo.Name != rule.Repository {
					continue
				}
				if err := s.evaluateRepository(tx, out, rule, group, &repo, supply, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

func (s *Service) evaluateRepository(tx store.Tx, out *plan, rule Rule, group *rules.Pattern, repo *store.Repository,
	supply []rules.Rule, now time.Time) error {
	after := ""
	for {
		ps, err := tx.ListPackages(store.PackageFilter{RepositoryID: repo.ID}, store.Page{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, p := range ps {
			if group != nil && !group.Matches(p.Format, p.Namespace, p.Name) {
				continue
			}
			if err := s.evaluatePackage(tx, out, rule, repo, &p, supply, now); err != nil {
				return err
			}
		}
		if len(ps) < 500 {
			return nil
		}
		after = store.PackageKey(&ps[len(ps)-1])
	}
}

func (s *Service) evaluatePackage(tx store.Tx, out *plan, rule Rule, repo *store.Repository, p *store.Package,
	supply []rules.Rule, now time.Time) error {
	var vs []store.Version
	after := ""
	for {
		page, err := tx.ListVersions(store.VersionFilter{PackageID: p.ID, OmitReadme: true, OmitMetadata: true}, store.Page{After: after, Limit: 1000})
		if err != nil {
			return err
		}
		vs = append(vs, page...)
		if len(page) < 1000 {
			break
		}
		after = store.VersionKey(&page[len(page)-1], false)
	}
	var cachedIDs []int64
	cands := make([]Candidate, len(vs))
	for i, v := range vs {
		c := Candidate{ID: v.ID, Version: v.Version, Revision: v.Revision, Status: v.Status, Published: v.PublishedTime,
			Created: v.CreatedTime, RuleTime: v.UpstreamPublishedTime,
			Cached: v.OriginType == artifact.OriginExternal || (v.OriginRepository != "" && v.OriginRepository != repo.Name)}
		if c.Published.IsZero() {
			c.Published = c.Created
		}
		if c.RuleTime.IsZero() {
			c.RuleTime = c.Published
		}
		if c.Cached {
			cachedIDs = append(cachedIDs, v.ID)
		}
		cands[i] = c
	}
	if rule.UnusedDays > 0 && len(cachedIDs) > 0 {
		last, err := tx.LastDownloads(cachedIDs)
		if err != nil {
			return err
		}
		for i := range cands {
			cands[i].LastDownload = last[cands[i].ID]
		}
	}
	for i, reason := range Decide(rule.Policy, p.Format, cands, pinsFor(supply, repo.Name, p), now) {
		k := artifact.VersionKey{PackageID: p.ID, Version: cands[i].Version, Revision: cands[i].Revision}
		if _, ok := out.names[k]; ok {
			continue // an earlier rule chose it
		}
		out.keys = append(out.keys, k)
		out.names[k] = RemovedVersion{Repository: repo.Name, Format: p.Format, Namespace: p.Namespace, Package: p.Name,
			Version: cands[i].Version, Reason: reason, Rule: rule.ID}
	}
	return nil
}

// pinsFor returns what the supply-chain rules of the domain protect in
// package p of repository repo: the versions named by exempt rules with an
// exact version (any scope but another repository's), and the earliest
// freeze of the domain, the repository or a package group matching p.
// Freezes scoped to an external connection are not considered.
func pinsFor(supply []rules.Rule, repo string, p *store.Package) Pins {
	pins := Pins{Versions: map[string]bool{}}
	for i := range supply {
		r := &supply[i]
		if r.Repository != "" && r.Repository != repo {
			continue
		}
		if r.PackageGroup != "" {
			g, err := rules.ParsePattern(r.PackageGroup)
			if err != nil || !g.Matches(p.Format, p.Namespace, p.Name) {
				continue
			}
		}
		switch r.Kind {
		case rules.KindExempt:
			if r.Version == "" {
				continue
			}
			pat, err := rules.ParsePattern(r.Package)
			if err == nil && pat.Matches(p.Format, p.Namespace, p.Name) {
				pins.Versions[r.Version] = true
			}
		case rules.KindFreeze:
			if r.ExternalConnection != "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, r.FreezeAt)
			if err == nil && (pins.FreezeAt.IsZero() || t.Before(pins.FreezeAt)) {
				pins.FreezeAt = t
			}
		}
	}
	return pins
}

func allRepositories(tx store.Tx, domainID int64) ([]store.Repository, error) {
	var out []store.Repository
	after := ""
	for {
		rs, err := tx.ListRepositories(store.RepositoryFilter{DomainID: domainID}, store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
		if len(rs) < 1000 {
			return out, nil
		}
		after = store.RepositoryKey(&rs[len(rs)-1])
	}
}

// keepRecord stores run's record and drops the domain's oldest beyond
// maxRuns.
func (s *Service) keepRecord(ctx context.Context, run *Run) error {
	rec := *run
	if len(rec.Versions) > maxRecordVersions {
		rec.Versions = rec.Versions[:maxRecordVersions]
	}
	b, err := json.Marshal(&rec)
	if err != nil {
		return err
	}
	prefix := domainPrefix(runPrefix, run.DomainOwner, run.Domain)
	return s.Store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error {
		if err := tx.PutSetting(prefix+fmt.Sprintf("%020d", run.StartedAt.UnixNano()), string(b)); err != nil {
			return err
		}
		rows, err := tx.ListSettingsPrefix(prefix)
		if err != nil {
			return err
		}
		for len(rows) > maxRuns {
			if err := tx.DeleteSetting(rows[0].Key); err != nil {
				return err
			}
			rows = rows[1:]
		}
		return nil
	})
}

// Runs authorizes ActionListRuns on the domain and returns its kept run
// records, newest first.
func (s *Service) Runs(ctx context.Context, owner, domain string) ([]Run, error) {
	in := Input{DomainOwner: owner, Domain: domain}
	if err := s.scope(&in); err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionListRuns, s.resource(in.DomainOwner, domain, "")); err != nil {
		return nil, err
	}
	out := []Run{}
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		if _, err := findScope(tx, in.DomainOwner, domain, ""); err != nil {
			return err
		}
		rows, err := tx.ListSettingsPrefix(domainPrefix(runPrefix, in.DomainOwner, domain))
		for i := len(rows) - 1; i >= 0; i-- {
			var r Run
			if json.Unmarshal([]byte(rows[i].Value), &r) == nil {
				out = append(out, r)
			}
		}
		return err
	})
	return out, err
}

// record writes a change or run to the audit log.
func (s *Service) record(ctx context.Context, action, owner, domain, suffix, reason string) {
	if s.Audit == nil {
		return
	}
	ri := auth.RequestInfoFrom(ctx)
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: action, Decision: "allow",
		Resource: s.Artifacts.DomainARN(owner, domain) + suffix, Reason: reason}
	if p := auth.PrincipalFrom(ctx); p != nil {
		ev.Principal = p.ARN
	} else {
		ev.Principal = "coffer:retention-scheduler"
	}
	s.Audit.Record(ev)
}

func summary(r *Rule) string {
	s := "retention"
	if r.Repository != "" {
		s += " repository " + r.Repository
	}
	if r.PackageGroup != "" {
		s += " packageGroup " + r.PackageGroup
	}
	return s + " " + policySummary(r.Policy)
}

func policySummary(p Policy) string {
	var parts []string
	if p.KeepLast > 0 {
		parts = append(parts, fmt.Sprintf("keepLast=%d", p.KeepLast))
	}
	if p.UnusedDays > 0 {
		parts = append(parts, fmt.Sprintf("unusedDays=%d", p.UnusedDays))
	}
	if p.SnapshotDays > 0 {
		parts = append(parts, fmt.Sprintf("snapshotsOlderThanDays=%d snapshotsKeepLast=%d", p.SnapshotDays, p.SnapshotKeep))
	}
	return strings.Join(parts, " ")
}

func runSummary(r *Run) string {
	s := fmt.Sprintf("%s run: %d versions, %d blobs, %d bytes freed", r.Trigger, len(r.Versions), r.Blobs, r.BytesFreed)
	if r.DryRun {
		s = "dry " + s + " (would be)"
	}
	if r.Error != "" {
		s += "; error: " + r.Error
	}
	return s
}
