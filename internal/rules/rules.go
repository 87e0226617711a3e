// Package rules is the model of coffer's supply-chain rules: cooldowns for
// versions that arrive from external connections, freezes, block lists and
// exemptions, each scoped to a domain and optionally to one repository,
// package group or external connection. It validates rules, keeps them in
// the metadata store's settings table and evaluates a version against a
// compiled Set. It does not import the artifact engine, which is to consult
// it: patterns reach it in the canonical form artifact's package group
// grammar produces (the API canonicalises them before Put).
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"coffer/internal/fault"
	"coffer/internal/osv"
)

// Kinds of rule.
const (
	KindCooldown = "cooldown"
	KindFreeze   = "freeze"
	KindBlock    = "block"
	KindExempt   = "exempt"
	// KindSeverity blocks versions an imported advisory marks vulnerable
	// at or above a severity (off unless a scope has one). Malicious
	// versions (OSV MAL- records) are refused whatever the rules.
	KindSeverity = "severity"
)

// Scope kinds, from the most specific to the least. A rule names its
// domain and at most one of repository, package group and external
// connection.
const (
	ScopeExternalConnection = "externalConnection"
	ScopePackageGroup       = "packageGroup"
	ScopeRepository         = "repository"
	ScopeDomain             = "domain"
)

// Limits of the fields.
const (
	MaxReason   = 1024
	MaxCooldown = 365 * 24 * time.Hour
	MaxVersion  = 255
	MaxVersions = 1024
)

// Scope says where a rule applies.
type Scope struct {
	DomainOwner        string `json:"domainOwner"`
	Domain             string `json:"domain"`
	Repository         string `json:"repository,omitempty"`
	PackageGroup       string `json:"packageGroup,omitempty"` // canonical pattern
	ExternalConnection string `json:"externalConnection,omitempty"`
}

// Kind is the scope's kind (ScopeDomain when it names nothing narrower).
func (s Scope) Kind() string {
	switch {
	case s.ExternalConnection != "":
		return ScopeExternalConnection
	case s.PackageGroup != "":
		return ScopePackageGroup
	case s.Repository != "":
		return ScopeRepository
	}
	return ScopeDomain
}

// Rule is one supply-chain rule. Exactly the fields of its Kind are set:
// Cooldown; FreezeAt; Package, Versions and Reason (block); Package,
// Version and Reason (exempt).
type Rule struct {
	ID string `json:"id"`
	Scope
	Kind string `json:"kind"`
	// Cooldown is a Go duration ("72h"): versions from an external
	// connection are withheld until they are that old.
	Cooldown string `json:"cooldown,omitempty"`
	// FreezeAt is an RFC 3339 time: versions published after it are withheld.
	FreezeAt string `json:"freezeAt,omitempty"`
	// Package is a canonical package pattern (/format/namespace/name$,
	// ...~, .../*) for block and exempt rules.
	Package string `json:"package,omitempty"`
	// Versions is a block rule's version range (empty: every version).
	Versions string `json:"versions,omitempty"`
	// Version is an exempt rule's exact version (empty: every version of
	// the packages Package matches).
	Version string `json:"version,omitempty"`
	// Severity is a severity rule's lowest blocked class: LOW, MODERATE,
	// HIGH or CRITICAL.
	Severity  string    `json:"severity,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy,omitempty"`
}

var (
	domainName     = regexp.MustCompile(`^[a-z][a-z0-9\-]{0,48}[a-z0-9]$`)
	repositoryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-]{1,99}$`)
	accountID      = regexp.MustCompile(`^[0-9]{12}$`)
	connectionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:._\-]{0,99}$`)
)

// Validate checks every field of r and sets its ID; patterns must already
// be canonical (ParsePattern accepts only the canonical forms).
func Validate(r *Rule) error {
	if err := ValidateScope(r.Scope); err != nil {
		return err
	}
	return validateRule(r)
}

// ValidateScope checks a scope, or a list filter of the same shape.
func ValidateScope(s Scope) error {
	if !accountID.MatchString(s.DomainOwner) {
		return fault.Validation("domainOwner '%s' must be a 12-digit account id", s.DomainOwner)
	}
	if !domainName.MatchString(s.Domain) {
		return fault.Validation("domain '%s' must be 2 to 50 lower-case letters, digits and hyphens, starting with a letter", s.Domain)
	}
	narrow := 0
	for _, v := range []string{s.Repository, s.PackageGroup, s.ExternalConnection} {
		if v != "" {
			narrow++
		}
	}
	if narrow > 1 {
		return fault.Validation("a rule's scope names at most one of repository, packageGroup and externalConnection")
	}
	if s.Repository != "" && !repositoryName.MatchString(s.Repository) {
		return fault.Validation("repository '%s' must be 2 to 100 letters, digits, '.', '_' and '-', starting with a letter or digit", s.Repository)
	}
	if s.PackageGroup != "" {
		if _, err := ParsePattern(s.PackageGroup); err != nil {
			return fault.Validation("packageGroup '%s' is not a package group pattern: %v", s.PackageGroup, err)
		}
	}
	if s.ExternalConnection != "" && !connectionName.MatchString(s.ExternalConnection) {
		return fault.Validation("externalConnection '%s' is not an external connection name", s.ExternalConnection)
	}
	return nil
}

func validateRule(r *Rule) error {
	if len(r.Reason) > MaxReason {
		return fault.Validation("reason must have at most %d bytes", MaxReason)
	}
	if strings.ContainsFunc(r.Reason, func(c rune) bool { return c < 0x20 && c != '\t' }) {
		return fault.Validation("reason must not contain control characters")
	}
	none := func(fields map[string]string) error {
		for name, v := range fields {
			if v != "" {
				return fault.Validation("a %s rule takes no %s", r.Kind, name)
			}
		}
		return nil
	}
	switch r.Kind {
	case KindCooldown:
		d, err := time.ParseDuration(r.Cooldown)
		if err != nil || d <= 0 || d > MaxCooldown {
			return fault.Validation("cooldown '%s' must be a positive duration of at most 8760h, e.g. 72h or 90m", r.Cooldown)
		}
		r.Cooldown = d.String()
		if err := none(map[string]string{"freezeAt": r.FreezeAt, "package": r.Package, "versions": r.Versions, "version": r.Version, "severity": r.Severity}); err != nil {
			return err
		}
	case KindFreeze:
		t, err := time.Parse(time.RFC3339, r.FreezeAt)
		if err != nil {
			return fault.Validation("freezeAt '%s' must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z", r.FreezeAt)
		}
		r.FreezeAt = t.UTC().Format(time.RFC3339Nano)
		if err := none(map[string]string{"cooldown": r.Cooldown, "package": r.Package, "versions": r.Versions, "version": r.Version, "severity": r.Severity}); err != nil {
			return err
		}
	case KindSeverity:
		sev, ok := osv.ParseSeverity(r.Severity)
		if !ok {
			return fault.Validation("severity '%s' must be one of LOW, MODERATE, HIGH, CRITICAL", r.Severity)
		}
		r.Severity = sev.String()
		if err := none(map[string]string{"cooldown": r.Cooldown, "freezeAt": r.FreezeAt, "package": r.Package, "versions": r.Versions, "version": r.Version}); err != nil {
			return err
		}
	case KindBlock, KindExempt:
		if r.Package == "" {
			return fault.Validation("a %s rule needs a package pattern", r.Kind)
		}
		if _, err := ParsePattern(r.Package); err != nil {
			return fault.Validation("package '%s' is not a package pattern: %v", r.Package, err)
		}
		if strings.TrimSpace(r.Reason) == "" {
			return fault.Validation("a %s rule needs a reason", r.Kind)
		}
		if err := none(map[string]string{"cooldown": r.Cooldown, "freezeAt": r.FreezeAt, "severity": r.Severity}); err != nil {
			return err
		}
		if r.Kind == KindBlock {
			if err := none(map[string]string{"version": r.Version}); err != nil {
				return err
			}
			if r.Versions != "" {
				if len(r.Versions) > MaxVersions {
					return fault.Validation("versions must have at most %d bytes", MaxVersions)
				}
				if _, err := ParseRange(r.Versions); err != nil {
					return fault.Validation("versions '%s' is not a version range: %v", r.Versions, err)
				}
			}
		} else {
			if err := none(map[string]string{"versions": r.Versions}); err != nil {
				return err
			}
			if r.Version != "" {
				if len(r.Version) > MaxVersion || strings.ContainsAny(r.Version, " \t\r\n") {
					return fault.Validation("version '%s' must be 1 to %d characters without whitespace", r.Version, MaxVersion)
				}
				if !strings.HasSuffix(r.Package, "$") {
					return fault.Validation("an exempt rule with a version names one package: its pattern must end in '$'")
				}
			}
		}
	default:
		return fault.Validation("kind '%s' must be one of cooldown, freeze, block, exempt, severity", r.Kind)
	}
	r.ID = ruleID(r)
	return nil
}

// ruleID is derived from what identifies a rule, so that setting the same
// rule again replaces it under the same id: a scope has one cooldown and
// one freeze and one severity; a block or exemption is its package and
// versions.
func ruleID(r *Rule) string {
	h := sha256.New()
	for _, v := range []string{r.DomainOwner, r.Domain, r.Scope.Kind(), r.Repository, r.PackageGroup, r.ExternalConnection, r.Kind, r.Package, r.Versions, r.Version} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return "r-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// ValidID reports whether id has the form ruleID gives.
func ValidID(id string) bool {
	if len(id) != 18 || !strings.HasPrefix(id, "r-") {
		return false
	}
	_, err := hex.DecodeString(id[2:])
	return err == nil && strings.ToLower(id) == id
}
