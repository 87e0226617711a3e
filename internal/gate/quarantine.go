package gate

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"coffer/internal/audit"
	"coffer/internal/fault"
	"coffer/internal/rules"
	"coffer/internal/store"
)

// Quarantined versions are stored versions an imported advisory marks
// malicious. Each is recorded once in the settings table, under
// "quarantine/<owner>/<domain>/<repository>/<format>/<namespace>/<name>/<version>"
// (each part path-escaped), with an audit event, when a download is refused
// or a sweep finds it; a sweep removes the record of a version no longer
// quarantined (the advisory was withdrawn, an exemption names it, the
// version was deleted).
const quarantinePrefix = "quarantine/"

// Quarantine is one quarantined version.
type Quarantine struct {
	Repository    string    `json:"repository"`
	Format        string    `json:"format"`
	Namespace     string    `json:"namespace,omitempty"`
	Package       string    `json:"package"`
	Version       string    `json:"version"`
	Advisory      string    `json:"advisory"`
	Reason        string    `json:"reason"`
	QuarantinedAt time.Time `json:"quarantinedAt"`
}

func domainQuarantinePrefix(owner, domain string) string {
	return quarantinePrefix + url.PathEscape(owner) + "/" + url.PathEscape(domain) + "/"
}

func quarantineKey(sub rules.Subject) string {
	parts := []string{sub.Repository, sub.Format, sub.Namespace, sub.Name, sub.Version}
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return domainQuarantinePrefix(sub.DomainOwner, sub.Domain) + strings.Join(parts, "/")
}

// quarantine records a stored version refused as malicious, once: the
// first node to record it writes the audit event.
func (g *Gate) quarantine(ctx context.Context, sub rules.Subject, d rules.Decision) {
	key := quarantineKey(sub)
	if _, dup := g.quarantined.LoadOrStore(key, struct{}{}); dup {
		return
	}
	q := Quarantine{Repository: sub.Repository, Format: sub.Format, Namespace: sub.Namespace, Package: sub.Name,
		Version: sub.Version, Advisory: d.Advisory, Reason: d.Reason, QuarantinedAt: time.Now().UTC()}
	recorded := true
	if g.cfg.Store != nil {
		b, _ := json.Marshal(q)
		err := g.cfg.Store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error {
			_, err := tx.GetSetting(key)
			if err == nil {
				recorded = false // recorded before (another node, an earlier run)
				return nil
			}
			if !errors.Is(err, fault.ErrNotFound) {
				return err
			}
			return tx.PutSetting(key, string(b))
		})
		if err != nil {
			g.quarantined.Delete(key) // tried again on the next refusal
			g.cfg.Log.Error("could not record a quarantined package version", "key", key, "err", err)
			return
		}
	}
	if !recorded {
		return
	}
	g.cfg.Log.Warn("quarantined a malicious package version", "domain", sub.Domain, "repository", sub.Repository,
		"format", sub.Format, "namespace", sub.Namespace, "package", sub.Name, "version", sub.Version, "advisory", d.Advisory)
	if g.cfg.Audit != nil {
		g.cfg.Audit.Record(audit.Event{Time: q.QuarantinedAt, Principal: "coffer", Action: "coffer:QuarantinePackageVersion",
			Resource: key, Decision: "deny", Reason: d.Reason})
	}
}

// Quarantined lists a domain's quarantined versions.
func (g *Gate) Quarantined(ctx context.Context, owner, domain string) ([]Quarantine, error) {
	if g.cfg.Store == nil {
		return nil, nil
	}
	var rows []store.Setting
	err := g.cfg.Store.Read(ctx, func(tx store.Tx) (err error) {
		rows, err = tx.ListSettingsPrefix(domainQuarantinePrefix(owner, domain))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []Quarantine{}
	for _, row := range rows {
		var q Quarantine
		if json.Unmarshal([]byte(row.Value), &q) == nil {
			out = append(out, q)
		}
	}
	return out, nil
}

// Sweeper walks the stored versions the gate may refuse
// (artifact.Service.SweepStored).
type Sweeper interface {
	SweepStored(ctx context.Context, fn func(sub rules.Subject, d rules.Decision)) error
}

// Run sweeps the stored versions at start and whenever the rules or the
// advisories change (checked every interval), until ctx ends: new
// quarantines are recorded, and the records of versions no longer
// quarantined removed.
func (g *Gate) Run(ctx context.Context, sw Sweeper, interval time.Duration) {
	last := "-"
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		stamp := ""
		if v, err := g.Snapshot(ctx); err == nil && v != nil {
			stamp = v.Stamp()
		}
		if stamp != last {
			if err := g.Sweep(ctx, sw); err != nil {
				if ctx.Err() != nil {
					return
				}
				g.cfg.Log.Error("supply-chain sweep failed", "err", err)
			} else {
				last = stamp
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep records what a walk of the stored versions finds quarantined and
// removes the records of versions no longer quarantined.
func (g *Gate) Sweep(ctx context.Context, sw Sweeper) error {
	current := map[string]bool{}
	err := sw.SweepStored(ctx, func(sub rules.Subject, d rules.Decision) {
		if d.Malicious() {
			current[quarantineKey(sub)] = true
			g.quarantine(ctx, sub, d)
		}
	})
	if err != nil || g.cfg.Store == nil {
		return err
	}
	var rows []store.Setting
	if err := g.cfg.Store.Read(ctx, func(tx store.Tx) (err error) {
		rows, err = tx.ListSettingsPrefix(quarantinePrefix)
		return err
	}); err != nil {
		return err
	}
	for _, row := range rows {
		key := row.Key
		if current[key] {
			continue
		}
		err := g.cfg.Store.Write(ctx, func(tx store.Tx) error { return tx.DeleteSetting(key) })
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		g.quarantined.Delete(key)
		if g.cfg.Audit != nil {
			g.cfg.Audit.Record(audit.Event{Time: time.Now(), Principal: "coffer", Action: "coffer:ReleasePackageVersion",
				Resource: key, Decision: "allow", Reason: "no longer marked malicious"})
		}
	}
	return nil
}
