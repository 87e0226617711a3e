// Package gate joins coffer's supply-chain rules (package rules) and the
// imported advisories (package osv) into the engine's check of every
// version a repository would offer (artifact.Gate): it fills in each
// version's advisories, evaluates the rules, and records in the audit log
// each stored version it finds malicious (a quarantine).
package gate

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/osv"
	"coffer/internal/osv/ecosystems"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// Advisories is the imported OSV data: its current index (nil or empty:
// none) and a stamp that changes whenever the index is replaced.
type Advisories interface {
	Index() *osv.Index
	Stamp() uint64
}

// Config is what a Gate consults.
type Config struct {
	Rules      *rules.Loader
	Advisories Advisories // nil: no advisory data
	Audit      *audit.Log // quarantines are recorded here; nil: logged only
	// Store keeps the records of quarantined versions (quarantine.go);
	// nil: kept in memory only.
	Store store.Store
	Log   *slog.Logger
}

// Gate implements artifact.Gate.
type Gate struct {
	cfg  Config
	last atomic.Pointer[verdicts]
	// quarantined remembers the stored versions already recorded as
	// quarantined by this process.
	quarantined sync.Map
}

// New returns a Gate.
func New(cfg Config) *Gate {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Gate{cfg: cfg}
}

var table = ecosystems.Table()

// CompareVersions orders two versions of a coffer format as its ecosystem
// does (rules.Options.Compare): npm and cargo by SemVer, PyPI by PEP 440,
// Maven by ComparableVersion, and so on; other formats by
// rules.CompareVersions.
func CompareVersions(format, a, b string) int {
	if eco, _, ok := ecosystems.Package(format, "", "x"); ok {
		if e, ok := table[eco]; ok && e.Compare != nil {
			return e.Compare(a, b)
		}
	}
	return rules.CompareVersions(a, b)
}

// Snapshot implements artifact.Gate: nil when there is neither a rule nor
// an advisory.
func (g *Gate) Snapshot(ctx context.Context) (artifact.Verdicts, error) {
	set, err := g.cfg.Rules.Current(ctx)
	if err != nil {
		return nil, err
	}
	var idx *osv.Index
	var idxStamp uint64
	if g.cfg.Advisories != nil {
		idx, idxStamp = g.cfg.Advisories.Index(), g.cfg.Advisories.Stamp()
		if idx != nil && idx.Len() == 0 {
			idx = nil
		}
	}
	if set.Len() == 0 && idx == nil {
		return nil, nil
	}
	if v := g.last.Load(); v != nil && v.set == set && v.idx == idx && v.idxStamp == idxStamp {
		return v, nil
	}
	v := &verdicts{set: set, idx: idx, idxStamp: idxStamp, stamp: "r" + set.Stamp() + "a" + strconv.FormatUint(idxStamp, 36)}
	g.last.Store(v)
	return v, nil
}

// Refused implements artifact.Gate: a stored version refused as malicious
// is quarantined (recorded once, with an audit event).
func (g *Gate) Refused(ctx context.Context, sub rules.Subject, d rules.Decision) {
	if d.Malicious() {
		g.quarantine(ctx, sub, d)
	}
}

// verdicts implements artifact.Verdicts for one rule set and one index.
type verdicts struct {
	set      *rules.Set
	idx      *osv.Index
	idxStamp uint64
	stamp    string
}

func (v *verdicts) Active(owner, domain, format, namespace, name string) bool {
	if v.set.Has(owner, domain) {
		return true
	}
	if v.idx == nil {
		return false
	}
	eco, n, ok := ecosystems.Package(format, namespace, name)
	return ok && v.idx.Has(eco, n)
}

func (v *verdicts) Decide(sub rules.Subject, now time.Time) rules.Decision {
	if v.idx != nil {
		if eco, n, ok := ecosystems.Package(sub.Format, sub.Namespace, sub.Name); ok && v.idx.Has(eco, n) {
			sub.Advisories = v.idx.Lookup(eco, n, sub.Version)
		}
	}
	return v.set.Evaluate(sub, now)
}

func (v *verdicts) Timed(owner, domain string) bool { return v.set.Timed(owner, domain) }

func (v *verdicts) Stamp() string { return v.stamp }
