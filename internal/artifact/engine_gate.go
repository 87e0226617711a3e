package artifact

// The supply-chain gate in the engine's view: every version a repository
// would offer, stored or listed by an external registry, passes the rules
// and the imported advisories first, so that index documents and downloads
// of every format agree on what is withheld.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// Gate is the supply-chain check the engine consults wherever it offers a
// version (package gate joins the rules and the advisories).
type Gate interface {
	// Snapshot is the state in force for one request.
	Snapshot(ctx context.Context) (Verdicts, error)
	// Refused is told of each stored version a download refused (the gate
	// records a malicious one as quarantined).
	Refused(ctx context.Context, sub rules.Subject, d rules.Decision)
}

// Verdicts decides versions under one state of the rules and advisories.
type Verdicts interface {
	// Active reports whether anything may refuse a version of the package
	// in that domain: when it does not, nothing is evaluated.
	Active(owner, domain, format, namespace, name string) bool
	// Decide evaluates one version; it fills in sub.Advisories itself.
	Decide(sub rules.Subject, now time.Time) rules.Decision
	// Timed reports whether a cooldown applies anywhere in the domain:
	// decisions then change with time alone.
	Timed(owner, domain string) bool
	// Stamp identifies the rules and advisories decided with.
	Stamp() string
}

// SetGate makes the engine consult g; nil consults nothing. It is set once,
// before the service serves.
func (s *Service) SetGate(g Gate) { s.gate = g }

// stampPeriod is how long documents rendered under a cooldown are kept:
// a version whose cooldown ends appears at most this late, never early.
const stampPeriod = time.Minute

// RefusedVersion is a version the supply-chain gate withholds.
type RefusedVersion struct {
	Version    string
	Repository string // where it is stored; "" for one only an external registry lists
	Status     string // the stored version's status ("" when not stored)
	Decision   rules.Decision
}

// gateOf is the view's handle on the gate for one package.
type gateOf struct {
	s    *Service
	v    Verdicts
	base rules.Subject
	now  time.Time
}

// verdicts returns the gate's state for ref, nil when nothing can refuse
// one of its versions.
func (s *Service) verdicts(ctx context.Context, ref PackageRef, owner string) (*gateOf, error) {
	if s.gate == nil {
		return nil, nil
	}
	v, err := s.gate.Snapshot(ctx)
	if err != nil {
		return nil, fault.Unavailable(err, "the supply-chain rules could not be read")
	}
	if v == nil || !v.Active(owner, ref.Name, ref.Format, ref.Namespace, ref.Package) {
		return nil, nil
	}
	return &gateOf{s: s, v: v, now: timeNow(), base: rules.Subject{DomainOwner: owner, Domain: ref.Name,
		Repository: ref.Repository, Format: ref.Format, Namespace: ref.Namespace, Name: ref.Package}}, nil
}

// stored decides a stored version.
func (g *gateOf) stored(v *store.Version) rules.Decision {
	return g.v.Decide(g.storedSubject(v), g.now)
}

func (g *gateOf) storedSubject(v *store.Version) rules.Subject {
	sub := g.base
	sub.Version = v.Version
	sub.FirstSeen, sub.PublishedAt = v.CreatedTime, v.PublishedTime
	if v.OriginType == OriginExternal {
		sub.ViaConnection, sub.PublishedAt = v.OriginExternalConnection, v.UpstreamPublishedTime
	}
	return sub
}

// listed decides a version an external registry lists but no repository
// stores: published is when the registry says it published it, zero when
// it does not say (coffer's first sight of it counts then).
func (g *gateOf) listed(connection string, ref PackageRef, version string, published time.Time) rules.Decision {
	sub := g.base
	sub.Version, sub.ViaConnection, sub.PublishedAt = version, connection, published
	if published.IsZero() {
		sub.FirstSeen = g.s.sightings.firstSeen(connection, ref, version, g.now)
	}
	return g.v.Decide(sub, g.now)
}

// Admit reports whether the view may offer a version that an external
// registry lists and no repository stores; formats ask it for each such
// version of an index document they merge. published is the registry's
// publish time of the version, zero when its index does not say. It does
// not change the view, which may be shared by concurrent readers.
func (v *PackageView) Admit(src ExternalSource, version string, published time.Time) bool {
	return v.Decide(src, version, published).Allowed
}

// Decide is Admit with the decision and its reason.
func (v *PackageView) Decide(src ExternalSource, version string, published time.Time) rules.Decision {
	if v.gate == nil {
		return rules.Decision{Allowed: true}
	}
	return v.gate.listed(src.Connection, v.ref, version, published)
}

// Refusal is Decide as the error a refused download answers with (nil
// when the version is allowed), for a format that serves a listed
// version's document itself.
func (v *PackageView) Refusal(src ExternalSource, version string, published time.Time) error {
	if d := v.Decide(src, version, published); !d.Allowed {
		return refusal(VersionRef{PackageRef: v.ref, Version: version}, d)
	}
	return nil
}

// Gated reports whether the supply-chain gate may refuse versions of the
// view's package (formats may skip per-version work otherwise).
func (v *PackageView) Gated() bool { return v.gate != nil }

// gateView removes from the view the stored versions the gate refuses; they
// become Withheld so that no external registry's listing offers them
// either.
func (g *gateOf) gateView(view *PackageView) {
	kept := view.Versions[:0]
	for _, x := range view.Versions {
		d := g.stored(&x.Version)
		if d.Allowed {
			kept = append(kept, x)
			continue
		}
		view.Refused = append(view.Refused, RefusedVersion{Version: x.Version.Version, Repository: x.Repository, Status: x.Status, Decision: d})
		view.Withheld = append(view.Withheld, x.Version.Version)
	}
	clear(view.Versions[len(kept):])
	view.Versions = kept
}

// stampSuffix is what the gate adds to a ViewStamp: its state and, under a
// cooldown, when the package reaches an external connection, the time
// period (see stampPeriod). A package with no external source has no
// version a cooldown waits on but those ingested before its connection
// went away: a document may keep withholding one of them after its
// cooldown ended until anything else changes, never offer one early.
func (g *gateOf) stampSuffix(external bool) string {
	if g == nil {
		return ""
	}
	s := "g" + g.v.Stamp()
	if external && g.v.Timed(g.base.DomainOwner, g.base.Domain) {
		s += ";t" + strconv.FormatInt(g.now.UnixNano()/int64(stampPeriod), 36)
	}
	return s + ";"
}

// refusal is the error of a download the gate refuses.
func refusal(ref VersionRef, d rules.Decision) error {
	name := ref.Package
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + ref.Package
	}
	return &fault.Error{Kind: fault.KindAccessDenied, ResourceType: "package-version", ResourceID: ref.Version,
		Message: fmt.Sprintf("%s %s is withheld by repository %s: %s", name, ref.Version, ref.Repository, d.Reason)}
}

// admitStored refuses the download of a stored version the gate withholds.
func (s *Service) admitStored(ctx context.Context, ref VersionRef, owner string, v *store.Version) error {
	g, err := s.verdicts(ctx, ref.PackageRef, owner)
	if g == nil || err != nil {
		return err
	}
	// Rules match normalised names; a control-plane caller may write
	// another spelling (the hot path of the formats' reads never gets
	// here without a rule or an advisory for the package).
	if pref, err := normalizedRef(ref.PackageRef); err == nil {
		g.base.Format, g.base.Namespace, g.base.Name = pref.Format, pref.Namespace, pref.Package
	}
	sub := g.storedSubject(v)
	d := g.v.Decide(sub, g.now)
	if d.Allowed {
		return nil
	}
	s.gate.Refused(ctx, sub, d)
	return refusal(ref, d)
}

// admitted is the stamp of the gate state that allowed a cached hit's
// version. Time alone never turns an allowance into a refusal (a cooldown
// ends, a freeze's time is fixed), so it holds while the rules and
// advisories are unchanged, and the hot path of cached downloads decides
// once per state, not per request.
type admitted struct{ stamp atomic.Pointer[string] }

// admitHit is admitStored for a remembered hit.
func (s *Service) admitHit(ctx context.Context, ref VersionRef, owner string, h storedHit) error {
	if s.gate == nil {
		return nil
	}
	v, err := s.gate.Snapshot(ctx)
	if err != nil {
		return fault.Unavailable(err, "the supply-chain rules could not be read")
	}
	if v == nil {
		return nil
	}
	stamp := v.Stamp()
	if p := h.admitted.stamp.Load(); p != nil && *p == stamp {
		return nil
	}
	if err := s.admitStored(ctx, ref, owner, h.ver); err != nil {
		return err
	}
	h.admitted.stamp.Store(&stamp)
	return nil
}

// admitExternal refuses, before anything is fetched, the download of a
// version from an external connection that the gate withholds; it returns
// the registry's publish time of the version when the format knows it.
func (s *Service) admitExternal(ctx context.Context, ref VersionRef, owner string, req ReadRequest, src ExternalSource) (time.Time, error) {
	g, err := s.verdicts(ctx, ref.PackageRef, owner)
	if err != nil {
		return time.Time{}, err
	}
	// The publish time is asked for even without a rule: the ingested
	// version keeps it, for a cooldown set later.
	var published time.Time
	if req.Published != nil {
		if published, err = req.Published(ctx, src); err != nil {
			return time.Time{}, err
		}
	}
	if g == nil {
		return published, nil
	}
	if d := g.listed(src.Connection, ref.PackageRef, ref.Version, published); !d.Allowed {
		return time.Time{}, refusal(ref, d)
	}
	return published, nil
}

// RefusedVersions lists the versions of a package stored in the repository
// or its upstreams that the supply-chain gate withholds, with why (a
// malicious one is quarantined: Decision.Malicious).
func (s *Service) RefusedVersions(ctx context.Context, ref PackageRef) ([]RefusedVersion, error) {
	view, err := s.viewPackage(ctx, ref, true, false)
	if err != nil {
		return nil, err
	}
	return view.Refused, nil
}

// VersionCheck is what CheckVersion found.
type VersionCheck struct {
	Decision rules.Decision
	// Stored: the repository or an upstream stores the version.
	Stored bool
	// Pending: the version is not stored, and only its publish time,
	// unknown until it is fetched, can refuse it (a cooldown, a freeze).
	Pending bool
}

// CheckVersion tells whether the repository would offer a version now, for
// a pre-flight check of a build's pinned versions. A version no repository
// stores is decided by the rules that do not depend on its publish time
// (blocks, advisories); when only a cooldown or a freeze could still
// refuse it, Pending says so and Decision gives the rule, with the time
// counted from coffer's first sight of the version if it had one.
func (s *Service) CheckVersion(ctx context.Context, ref VersionRef) (VersionCheck, error) {
	pref, err := normalizedRef(ref.PackageRef)
	if err != nil {
		return VersionCheck{}, err
	}
	version := NormalizeVersion(pref.Format, ref.Version)
	view, err := s.viewPackage(ctx, pref, true, false)
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return VersionCheck{}, err
	}
	if view != nil {
		for _, r := range view.Refused {
			if r.Version == version {
				return VersionCheck{Decision: r.Decision, Stored: true}, nil
			}
		}
		for _, v := range view.Versions {
			if v.Version.Version == version {
				return VersionCheck{Decision: rules.Decision{Allowed: true}, Stored: true}, nil
			}
		}
	}
	g, err := s.verdicts(ctx, pref, cmp.Or(pref.Owner, s.cfg.AccountID))
	if g == nil || err != nil {
		return VersionCheck{Decision: rules.Decision{Allowed: true}}, err
	}
	sub := g.base
	sub.Version = version
	if view != nil && len(view.External) > 0 {
		sub.ViaConnection = view.External[0].Connection
	}
	// Published long ago: what refuses it then refuses it whatever its time.
	old := sub
	old.PublishedAt = time.Unix(1, 0)
	if d := g.v.Decide(old, g.now); !d.Allowed {
		return VersionCheck{Decision: d}, nil
	}
	if sub.ViaConnection != "" {
		sub.FirstSeen, _ = s.sightings.seen(sub.ViaConnection, pref, version)
	}
	d := g.v.Decide(sub, g.now)
	return VersionCheck{Decision: d, Pending: !d.Allowed}, nil
}
