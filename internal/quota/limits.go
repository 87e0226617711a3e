package quota

import (
	"strings"
	"time"
)

// Names of API rates that are not one operation's.
const (
	// Reads and Writes are the rates of the CodeArtifact operations
	// without one of their own: Get*, List* and Describe* read, the
	// others write. Each principal has one bucket per class.
	Reads  = "reads"
	Writes = "writes"
	// IAM and STS are the rates of the Query API, one bucket per
	// principal and service.
	IAM = "iam"
	STS = "sts"
)

// APIDefaults are the per-principal API rates coffer starts with: the
// CodeArtifact quotas AWS publishes per account (its user guide's quota
// table), STS's 600 requests per second, and for IAM, which publishes no
// figure, the CodeArtifact write rate. Each bucket holds BurstSeconds of
// its rate.
func APIDefaults() map[string]Rate {
	return map[string]Rate{
		"GetAuthorizationToken":    PerSec(40),
		"GetPackageVersionAsset":   PerSec(50),
		"ListPackageVersionAssets": PerSec(200),
		"ListPackageVersions":      PerSec(200),
		"ListPackages":             PerSec(200),
		"PublishPackageVersion":    PerSec(10),
		"CopyPackageVersions":      PerSec(5),
		Reads:                      PerSec(800),
		Writes:                     PerSec(100),
		IAM:                        PerSec(100),
		STS:                        PerSec(600),
	}
}

// IsRead reports whether a CodeArtifact operation counts as a read.
func IsRead(op string) bool {
	return strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Describe")
}

// Config are the limits of a server. A zero Rate limits nothing.
type Config struct {
	// API are the per-principal rates of the control plane and the Query
	// API by operation name, class (Reads, Writes) or Query service (IAM,
	// STS); nil turns API limits off.
	API map[string]Rate
	// DataPlane is the rate of native-protocol requests per principal,
	// Repository per repository (all callers together), Unauthenticated
	// per source address for requests without a valid token.
	DataPlane, Repository, Unauthenticated Rate
	// MaxBuckets bounds each limiter's buckets (DefaultMaxBuckets when 0).
	MaxBuckets int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Limits applies a Config. A nil *Limits allows everything.
type Limits struct {
	api       map[string]Rate
	apiLim    *Limiter[apiKey]
	data      Rate
	repo      Rate
	anon      Rate
	dataLim   *Limiter[string]
	repoLim   *Limiter[RepoKey]
	anonLim   *Limiter[string]
	reads     Rate
	writes    Rate
	dataPlane bool
	now       func() time.Time
}

type apiKey struct{ principal, name string }

// RepoKey names a repository.
type RepoKey struct{ Owner, Domain, Repository string }

func cloneRepoKey(k RepoKey) RepoKey {
	return RepoKey{strings.Clone(k.Owner), strings.Clone(k.Domain), strings.Clone(k.Repository)}
}

// New returns the Limits of cfg, or nil when cfg limits nothing.
func New(cfg Config) *Limits {
	l := &Limits{api: map[string]Rate{}, data: cfg.DataPlane, repo: cfg.Repository, anon: cfg.Unauthenticated, now: cfg.Now}
	if l.now == nil {
		l.now = time.Now
	}
	apiLimited := false
	for name, r := range cfg.API {
		// An operation given 0 keeps its entry: it has no limit, rather
		// than its class's.
		l.api[name] = r
		apiLimited = apiLimited || r.Limited()
	}
	if !apiLimited {
		l.api = nil
	}
	l.reads, l.writes = l.api[Reads], l.api[Writes]
	l.dataPlane = l.data.Limited() || l.repo.Limited() || l.anon.Limited()
	if l.api == nil && !l.dataPlane {
		return nil
	}
	l.apiLim = NewLimiter[apiKey](cfg.MaxBuckets, cfg.Now, nil)
	l.dataLim = NewLimiter[string](cfg.MaxBuckets, cfg.Now, strings.Clone)
	l.repoLim = NewLimiter(cfg.MaxBuckets, cfg.Now, cloneRepoKey)
	l.anonLim = NewLimiter[string](cfg.MaxBuckets, cfg.Now, strings.Clone)
	return l
}

// API counts principal's call of op, a CodeArtifact operation or a Query
// service (IAM, STS), against op's own rate or else its class's. ok is
// false when the bucket is empty; wait is then the time until it is not.
func (l *Limits) API(principal, op string) (ok bool, wait time.Duration) {
	if l == nil || l.api == nil {
		return true, 0
	}
	name := op
	r, own := l.api[op]
	if !own {
		if op == IAM || op == STS {
			return true, 0
		}
		name, r = Writes, l.writes
		if IsRead(op) {
			name, r = Reads, l.reads
		}
	}
	return l.apiLim.Allow(apiKey{principal, name}, r)
}

// DataPlaneLimited reports whether any data-plane rate is set.
func (l *Limits) DataPlaneLimited() bool { return l != nil && l.dataPlane }

// DataPlane counts an authenticated native-protocol request of principal
// to repository: against the principal's bucket, then the repository's.
// A request the repository refuses has still used the principal's token.
func (l *Limits) DataPlane(principal string, repository RepoKey) (ok bool, wait time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	if ok, wait := l.dataLim.allowAt(principal, l.data, now); !ok {
		return false, wait
	}
	return l.repoLim.allowAt(repository, l.repo, now)
}

// Unauthenticated counts a native-protocol request from addr that carries
// no valid token.
func (l *Limits) Unauthenticated(addr string) (ok bool, wait time.Duration) {
	if l == nil {
		return true, 0
	}
	return l.anonLim.Allow(addr, l.anon)
}
