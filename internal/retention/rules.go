// Package retention removes package versions by rule and gives their disk
// space back at once: keep the last N versions of each package, drop
// versions cached from external connections or upstream repositories that
// nobody downloaded for D days, prune Maven SNAPSHOT builds older than D
// days keeping the last N. A version a supply-chain rule pins (an exempt
// rule naming its exact version) is never removed, and under a freeze the
// newest versions at or before the freeze are kept as well (Decide).
//
// Rules are scoped to a domain, optionally to one repository and to a
// package group pattern. A run evaluates the rules (or one given inline),
// removes the chosen versions through the artifact engine, which records
// their events, and deletes the blobs no asset references any more before
// it returns; a dry run answers exactly what such a run would remove and
// free. Runs happen on demand (the coffer API, `coffer retention run`) and
// on a schedule (Scheduler), one node of a cluster at a time.
//
// Everything is kept in the settings table, so every node sees it and
// coffer migrate copies it:
//
//	retention/<owner>/<domain>/<id>             a rule (JSON)
//	retention-run/<owner>/<domain>/<nanos>      a run's record (the last maxRuns per domain)
//	retention-scheduled                         when the last scheduled pass ran (RFC 3339)
//
// Downloads are noted in memory by DownloadLog and written in batches to
// the store's version_downloads table (store.Downloads).
package retention

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// IAM actions, authorized on the repository's ARN for a repository-scoped
// rule or run, else on the domain's.
const (
	ActionPut      = "coffer:PutRetentionRule"
	ActionList     = "coffer:ListRetentionRules"
	ActionDelete   = "coffer:DeleteRetentionRule"
	ActionRun      = "coffer:RunRetention"
	ActionPreview  = "coffer:PreviewRetention" // a dry run
	ActionListRuns = "coffer:ListRetentionRuns"
)

const (
	rulePrefix   = "retention/"
	runPrefix    = "retention-run/"
	scheduledKey = "retention-scheduled"
	maxRules     = 100 // per domain
	maxRuns      = 20  // records kept per domain
	maxKeep      = 1_000_000
	maxDays      = 36500
)

// Policy is what a rule removes; a zero field is off.
type Policy struct {
	// KeepLast keeps the newest KeepLast versions of each package.
	KeepLast int `json:"keepLast,omitempty"`
	// UnusedDays removes cached versions (from an external connection or
	// an upstream repository) not downloaded for that many days.
	UnusedDays int `json:"unusedDays,omitempty"`
	// SnapshotDays removes Maven SNAPSHOT builds older than that many
	// days, but the SnapshotKeep newest of each SNAPSHOT (at least 1).
	SnapshotDays int `json:"snapshotsOlderThanDays,omitempty"`
	SnapshotKeep int `json:"snapshotsKeepLast,omitempty"`
}

// Rule is a stored retention rule.
type Rule struct {
	ID          string `json:"id"`
	DomainOwner string `json:"domainOwner"`
	Domain      string `json:"domain"`
	// Repository limits the rule to one repository ("": every one of the
	// domain); PackageGroup to the packages a canonical package group
	// pattern matches ("": every package).
	Repository   string `json:"repository,omitempty"`
	PackageGroup string `json:"packageGroup,omitempty"`
	Policy
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy,omitempty"`
}

// Input is a rule as a caller writes it (the body of PUT
// /coffer/v1/retention/rules), and the scope and inline policy of a run.
type Input struct {
	Domain       string `json:"domain"`
	DomainOwner  string `json:"domainOwner,omitempty"`
	Repository   string `json:"repository,omitempty"`
	PackageGroup string `json:"packageGroup,omitempty"`
	Policy
}

var ruleID = regexp.MustCompile(`^ret-[0-9a-f]{16}$`)

func newRuleID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "ret-" + hex.EncodeToString(b[:])
}

// validatePolicy checks the ranges and that p removes something.
func validatePolicy(p *Policy) error {
	for name, v := range map[string]int{"keepLast": p.KeepLast, "unusedDays": p.UnusedDays,
		"snapshotsOlderThanDays": p.SnapshotDays, "snapshotsKeepLast": p.SnapshotKeep} {
		if v < 0 || v > maxKeep || (name != "keepLast" && v > maxDays) {
			return fault.Validation("%s must be between 0 and %d", name, map[bool]int{true: maxKeep, false: maxDays}[name == "keepLast"])
		}
	}
	if p.SnapshotKeep > 0 && p.SnapshotDays == 0 {
		return fault.Validation("snapshotsKeepLast needs snapshotsOlderThanDays")
	}
	if p.SnapshotDays > 0 && p.SnapshotKeep == 0 {
		p.SnapshotKeep = 1
	}
	if p.KeepLast == 0 && p.UnusedDays == 0 && p.SnapshotDays == 0 {
		return fault.Validation("a retention rule needs at least one of keepLast, unusedDays and snapshotsOlderThanDays")
	}
	return nil
}

func domainPrefix(prefix, owner, domain string) string {
	return prefix + owner + "/" + domain + "/"
}

func putRule(tx store.Tx, r *Rule) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.PutSetting(domainPrefix(rulePrefix, r.DomainOwner, r.Domain)+r.ID, string(b))
}

func getRule(tx store.Tx, owner, domain, id string) (*Rule, error) {
	v, err := tx.GetSetting(domainPrefix(rulePrefix, owner, domain) + id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fault.NotFound("retention rule", id, "retention rule %s not found in domain %s", id, domain)
	} else if err != nil {
		return nil, err
	}
	var r Rule
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("retention rule %s: %w", id, err)
	}
	return &r, nil
}

// listRules returns the rules of a domain, or of every domain when domain
// is "", ordered by domain then id.
func listRules(tx store.Tx, owner, domain string) ([]Rule, error) {
	prefix := rulePrefix
	if domain != "" {
		prefix = domainPrefix(rulePrefix, owner, domain)
	}
	rows, err := tx.ListSettingsPrefix(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rows))
	for _, row := range rows {
		var r Rule
		if err := json.Unmarshal([]byte(row.Value), &r); err != nil {
			return nil, fmt.Errorf("retention rule %s: %w", row.Key, err)
		}
		out = append(out, r)
	}
	return out, nil
}
