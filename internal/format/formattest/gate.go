package formattest

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/rules"
)

// Gate is a supply-chain gate for tests (artifact.Gate, and
// artifact.Verdicts of its snapshots): it refuses the versions it was
// told to, with the reason given, and remembers the subjects it decided,
// so that a test sees which publish time a format passed on. Install it
// with App.Service.SetGate before the requests it should judge.
//
// Versions are named by GateKey: "name@version", or
// "namespace/name@version" for a package with a namespace, in their
// stored (normalised) forms. Only packages with a refused version are
// Active: the gate costs the others nothing, as the real one does.
type Gate struct {
	mu      sync.Mutex
	refuse  map[string]string // GateKey → reason
	gen     int
	decided map[string]rules.Subject // GateKey → last subject decided
	refused []rules.Subject          // the downloads of stored versions refused
}

// NewGate returns a gate refusing the versions of refuse (GateKey → reason).
func NewGate(refuse map[string]string) *Gate {
	g := &Gate{refuse: map[string]string{}, decided: map[string]rules.Subject{}}
	for k, r := range refuse {
		g.refuse[k] = r
	}
	return g
}

// GateKey names a version for Gate.
func GateKey(namespace, name, version string) string {
	if namespace != "" {
		name = namespace + "/" + name
	}
	return name + "@" + version
}

// Refuse makes the gate refuse a version from now on, with reason; an
// empty reason allows it again. The snapshot's Stamp changes.
func (g *Gate) Refuse(key, reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if reason == "" {
		delete(g.refuse, key)
	} else {
		g.refuse[key] = reason
	}
	g.gen++
}

// Decided returns the last subject the gate decided of a version.
func (g *Gate) Decided(key string) (rules.Subject, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.decided[key]
	return s, ok
}

// RefusedDownloads are the stored versions whose download the engine
// reported refused (Gate.Refused).
func (g *Gate) RefusedDownloads() []rules.Subject {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]rules.Subject(nil), g.refused...)
}

// Snapshot implements artifact.Gate: the refusals in force now.
func (g *Gate) Snapshot(ctx context.Context) (artifact.Verdicts, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := &gateSnapshot{g: g, refuse: make(map[string]string, len(g.refuse)), stamp: "test" + strconv.Itoa(g.gen)}
	for k, r := range g.refuse {
		s.refuse[k] = r
	}
	return s, nil
}

// Refused implements artifact.Gate.
func (g *Gate) Refused(ctx context.Context, sub rules.Subject, d rules.Decision) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refused = append(g.refused, sub)
}

// gateSnapshot is a Gate's state for one request (artifact.Verdicts).
type gateSnapshot struct {
	g      *Gate
	refuse map[string]string
	stamp  string
}

func (s *gateSnapshot) Active(owner, domain, format, namespace, name string) bool {
	prefix := GateKey(namespace, name, "")
	for k := range s.refuse {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func (s *gateSnapshot) Decide(sub rules.Subject, now time.Time) rules.Decision {
	k := GateKey(sub.Namespace, sub.Name, sub.Version)
	s.g.mu.Lock()
	s.g.decided[k] = sub
	s.g.mu.Unlock()
	if reason, ok := s.refuse[k]; ok {
		return rules.Decision{Rule: "formattest", Reason: reason}
	}
	return rules.Decision{Allowed: true}
}

func (s *gateSnapshot) Timed(owner, domain string) bool { return false }

func (s *gateSnapshot) Stamp() string { return s.stamp }

var (
	_ artifact.Gate     = (*Gate)(nil)
	_ artifact.Verdicts = (*gateSnapshot)(nil)
)
