// Package webhook delivers the events of the outbox (internal/events) to
// HTTP endpoints configured per domain or repository: a POST of the
// event's JSON, signed with HMAC-SHA256 (the Coffer-Signature header),
// retried with exponential backoff for a bounded time, then kept as failed
// and visible. Delivery is at least once and in order: each webhook has a
// cursor in the outbox that moves only past an event delivered, refused by
// the webhook's filters, or given up on.
//
// Webhooks, their cursors and their failures are settings rows
// ("webhook/<id>", "webhook-cursor/<id>", "webhook-failed/<id>/<seq>"), so
// that every node of a cluster sees them and coffer migrate copies them;
// the secret is sealed with the master key.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/auth/seal"
	"coffer/internal/events"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// IAM actions on webhooks, authorized on the webhook's repository's ARN, or
// its domain's.
const (
	ActionCreate       = "coffer:CreateWebhook"
	ActionList         = "coffer:ListWebhooks"
	ActionDelete       = "coffer:DeleteWebhook"
	ActionListFailures = "coffer:ListWebhookFailures"
)

const (
	hookPrefix    = "webhook/"
	cursorPrefix  = "webhook-cursor/"
	failedPrefix  = "webhook-failed/"
	sealPurpose   = "webhook-secret"
	maxSecret     = 256
	minSecret     = 16
	maxHooks      = 100 // per domain
	maxURL        = 2048
	defaultRetry  = time.Hour
	maxRetryLimit = 7 * 24 * time.Hour
)

// Hook is a configured webhook.
type Hook struct {
	ID          string `json:"id"`
	DomainOwner string `json:"domainOwner"`
	Domain      string `json:"domain"`
	DomainID    int64  `json:"domainId"`
	// Repository limits the events to one repository's ("": the domain's).
	Repository string `json:"repository,omitempty"`
	URL        string `json:"url"`
	// Formats, PackagePattern and Operations filter the events: a package
	// format in the list, a package the (canonical package group) pattern
	// matches, an operation type (Created, Updated, Deleted) in the list;
	// empty: any.
	Formats        []string `json:"formats,omitempty"`
	PackagePattern string   `json:"packagePattern,omitempty"`
	Operations     []string `json:"operations,omitempty"`
	// MaxRetryDuration is how long an event is retried before it is kept
	// as failed and the next one is delivered (a Go duration).
	MaxRetryDuration string    `json:"maxRetryDuration"`
	CreatedAt        time.Time `json:"createdAt"`
	CreatedBy        string    `json:"createdBy,omitempty"`
	// Secret is the sealed HMAC key; never shown.
	Secret []byte `json:"secret,omitempty"`
}

// Public is the hook without its secret.
func (h Hook) Public() Hook {
	h.Secret = nil
	return h
}

func (h *Hook) retryFor() time.Duration {
	d, err := time.ParseDuration(h.MaxRetryDuration)
	if err != nil || d <= 0 {
		return defaultRetry
	}
	return d
}

// matches applies the hook's filters to an outbox row and its event.
func (h *Hook) matches(e *store.Event, ev *events.Event) bool {
	if e.DomainID != h.DomainID || h.Repository != "" && ev.Detail.RepositoryName != h.Repository {
		return false
	}
	if len(h.Formats) > 0 && !slices.Contains(h.Formats, e.Format) {
		return false
	}
	if len(h.Operations) > 0 && !slices.Contains(h.Operations, ev.Detail.OperationType) {
		return false
	}
	if h.PackagePattern != "" {
		p, err := rules.ParsePattern(h.PackagePattern)
		if err != nil || !p.Matches(e.Format, e.Namespace, e.Name) {
			return false
		}
	}
	return true
}

// Failure is an event given up on.
type Failure struct {
	Hook      string    `json:"webhook"`
	Seq       int64     `json:"sequenceNumber"`
	EventID   string    `json:"eventDeduplicationId"`
	Package   string    `json:"package"` // format/namespace/name@version
	Attempts  int       `json:"attempts"`
	FirstTry  time.Time `json:"firstAttempt"`
	LastTry   time.Time `json:"lastAttempt"`
	LastError string    `json:"lastError"`
}

// Input is a webhook as a caller writes it (the body of POST
// /coffer/v1/webhooks).
type Input struct {
	Domain           string   `json:"domain"`
	DomainOwner      string   `json:"domainOwner,omitempty"`
	Repository       string   `json:"repository,omitempty"`
	URL              string   `json:"url"`
	Secret           string   `json:"secret"`
	Formats          []string `json:"formats,omitempty"`
	PackagePattern   string   `json:"packagePattern,omitempty"`
	Operations       []string `json:"operations,omitempty"`
	MaxRetryDuration string   `json:"maxRetryDuration,omitempty"`
}

// Service manages webhooks for the principal in the context; the API and
// the CLI's calls go through it.
type Service struct {
	Artifacts  *artifact.Service // account id and ARNs
	Store      store.Store
	Sealer     *seal.Sealer
	Authorizer auth.Authorizer
	Audit      *audit.Log // optional
	Now        func() time.Time
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

// Create validates in, authorizes ActionCreate, and stores the webhook. Its
// cursor starts at the newest event: it is sent what happens from now on.
func (s *Service) Create(ctx context.Context, in Input) (*Hook, error) {
	h, secret, err := s.validate(in)
	if err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionCreate, s.resource(h.DomainOwner, h.Domain, h.Repository)); err != nil {
		return nil, err
	}
	if p := auth.PrincipalFrom(ctx); p != nil {
		h.CreatedBy = p.ARN
	}
	h.CreatedAt = s.now().UTC()
	h.Secret = s.Sealer.Seal([]byte(secret), sealPurpose)
	err = s.Store.Write(ctx, func(tx store.Tx) error {
		d, err := findScope(tx, h.DomainOwner, h.Domain, h.Repository)
		if err != nil {
			return err
		}
		h.DomainID = d.ID
		hooks, err := listHooks(tx)
		if err != nil {
			return err
		}
		if n := countDomain(hooks, d.ID); n >= maxHooks {
			return fault.Quota("webhook", h.Domain, "Domain %s has %d webhooks, the most it may have", h.Domain, n)
		}
		last, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		if err := putHook(tx, h); err != nil {
			return err
		}
		return tx.PutSetting(cursorPrefix+h.ID, strconv.FormatInt(last, 10))
	})
	if err != nil {
		return nil, err
	}
	s.record(ctx, ActionCreate, h)
	out := h.Public()
	return &out, nil
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) validate(in Input) (*Hook, string, error) {
	if in.Domain == "" {
		return nil, "", fault.Validation("domain is required")
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(in.URL) > maxURL {
		return nil, "", fault.Validation("url %q is not an absolute http(s) URL without credentials (at most %d characters)", in.URL, maxURL)
	}
	if n := len(in.Secret); n < minSecret || n > maxSecret {
		return nil, "", fault.Validation("secret must be %d to %d characters; it has %d", minSecret, maxSecret, n)
	}
	h := &Hook{ID: newHookID(), DomainOwner: s.owner(in.DomainOwner), Domain: in.Domain, Repository: in.Repository, URL: in.URL,
		MaxRetryDuration: defaultRetry.String()}
	for _, f := range in.Formats {
		if !slices.Contains(artifact.Formats, f) {
			return nil, "", fault.Validation("format %q is not one of %s", f, strings.Join(artifact.Formats, ", "))
		}
		if !slices.Contains(h.Formats, f) {
			h.Formats = append(h.Formats, f)
		}
	}
	for _, op := range in.Operations {
		if op != events.Created && op != events.Updated && op != events.Deleted {
			return nil, "", fault.Validation("operation %q is not Created, Updated or Deleted", op)
		}
		if !slices.Contains(h.Operations, op) {
			h.Operations = append(h.Operations, op)
		}
	}
	if in.PackagePattern != "" {
		p, err := artifact.ParsePackageGroupPattern("packagePattern", in.PackagePattern)
		if err != nil {
			return nil, "", err
		}
		h.PackagePattern = p
	}
	if in.MaxRetryDuration != "" {
		d, err := time.ParseDuration(in.MaxRetryDuration)
		if err != nil || d <= 0 || d > maxRetryLimit {
			return nil, "", fault.Validation("maxRetryDuration %q is not a duration between 1s and %s", in.MaxRetryDuration, maxRetryLimit)
		}
		h.MaxRetryDuration = d.String()
	}
	return h, in.Secret, nil
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

// List authorizes ActionList on the domain (or repository) and returns
// its webhooks, without secrets; with a repository, only those limited to
// it.
func (s *Service) List(ctx context.Context, owner, domain, repository string) ([]Hook, error) {
	owner = s.owner(owner)
	if domain == "" {
		return nil, fault.Validation("domain is required")
	}
	if err := s.Authorizer.Authorize(ctx, ActionList, s.resource(owner, domain, repository)); err != nil {
		return nil, err
	}
	var out []Hook
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		d, err := findScope(tx, owner, domain, repository)
		if err != nil {
			return err
		}
		hooks, err := listHooks(tx)
		for _, h := range hooks {
			if h.DomainID == d.ID && (repository == "" || h.Repository == repository) {
				out = append(out, h.Public())
			}
		}
		return err
	})
	return out, err
}

// get loads a hook of the domain, or NotFound.
func (s *Service) get(ctx context.Context, owner, domain, id string) (*Hook, error) {
	var h *Hook
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		d, err := findScope(tx, owner, domain, "")
		if err != nil {
			return err
		}
		h, err = getHook(tx, id)
		if err == nil && h.DomainID != d.ID {
			h, err = nil, fault.ErrNotFound
		}
		return err
	})
	if errors.Is(err, fault.ErrNotFound) && h == nil {
		return nil, fault.NotFound("webhook", id, "Webhook %s not found in domain %s", id, domain)
	}
	return h, err
}

// Delete authorizes ActionDelete on the hook's resource and removes it with
// its cursor and failures.
func (s *Service) Delete(ctx context.Context, owner, domain, id string) (*Hook, error) {
	owner = s.owner(owner)
	h, err := s.get(ctx, owner, domain, id)
	if err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionDelete, s.resource(owner, domain, h.Repository)); err != nil {
		return nil, err
	}
	err = s.Store.Write(ctx, func(tx store.Tx) error {
		failed, err := tx.ListSettingsPrefix(failedPrefix + id + "/")
		if err != nil {
			return err
		}
		for _, f := range failed {
			if err := tx.DeleteSetting(f.Key); err != nil {
				return err
			}
		}
		if err := tx.DeleteSetting(cursorPrefix + id); err != nil && !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		return tx.DeleteSetting(hookPrefix + id)
	})
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("webhook", id, "Webhook %s not found in domain %s", id, domain)
	}
	if err != nil {
		return nil, err
	}
	s.record(ctx, ActionDelete, h)
	out := h.Public()
	return &out, nil
}

// Failures authorizes ActionListFailures and returns the events the hook
// gave up on, oldest first.
func (s *Service) Failures(ctx context.Context, owner, domain, id string) ([]Failure, error) {
	owner = s.owner(owner)
	h, err := s.get(ctx, owner, domain, id)
	if err != nil {
		return nil, err
	}
	if err := s.Authorizer.Authorize(ctx, ActionListFailures, s.resource(owner, domain, h.Repository)); err != nil {
		return nil, err
	}
	var out []Failure
	err = s.Store.Read(ctx, func(tx store.Tx) error {
		rows, err := tx.ListSettingsPrefix(failedPrefix + id + "/")
		for _, r := range rows {
			var f Failure
			if json.Unmarshal([]byte(r.Value), &f) == nil {
				out = append(out, f)
			}
		}
		return err
	})
	return out, err
}

// record writes the change to the audit log, beside the authorizer's
// record of the decision (the secret never).
func (s *Service) record(ctx context.Context, action string, h *Hook) {
	if s.Audit == nil {
		return
	}
	ri := auth.RequestInfoFrom(ctx)
	ev := audit.Event{RequestID: ri.RequestID, SourceIP: ri.SourceIP, Action: action, Decision: "allow",
		Resource: s.Artifacts.DomainARN(h.DomainOwner, h.Domain) + "/webhook/" + h.ID, Reason: "url " + h.URL}
	if p := auth.PrincipalFrom(ctx); p != nil {
		ev.Principal = p.ARN
	}
	s.Audit.Record(ev)
}

func newHookID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func putHook(tx store.Tx, h *Hook) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return tx.PutSetting(hookPrefix+h.ID, string(b))
}

func getHook(tx store.Tx, id string) (*Hook, error) {
	v, err := tx.GetSetting(hookPrefix + id)
	if err != nil {
		return nil, err
	}
	var h Hook
	if err := json.Unmarshal([]byte(v), &h); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", id, err)
	}
	return &h, nil
}

func listHooks(tx store.Tx) ([]Hook, error) {
	rows, err := tx.ListSettingsPrefix(hookPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]Hook, 0, len(rows))
	for _, r := range rows {
		var h Hook
		if err := json.Unmarshal([]byte(r.Value), &h); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Key, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func countDomain(hooks []Hook, domainID int64) int {
	n := 0
	for _, h := range hooks {
		if h.DomainID == domainID {
			n++
		}
	}
	return n
}
