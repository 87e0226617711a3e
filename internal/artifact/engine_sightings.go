package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// sightings remembers when coffer first saw each version an external
// registry lists, for registries whose index carries no publish time
// (Maven's metadata, the crates index, the compact index): a cooldown then
// counts from the first sight, never from "unknown = old". They are kept
// per package and connection in the settings table
// ("seen/<connection>/<format>/<namespace>/<name>", a JSON object of
// version to Unix seconds), loaded when a view lists the package and
// written by a background flush shortly after a new sighting.
type sightings struct {
	meta store.Store
	mu   sync.Mutex
	// known holds the loaded rows (bounded: cleared when too many).
	known   map[string]map[string]int64
	pending map[string]map[string]int64
	running bool
}

const maxKnownSightings = 4096

func sightingKey(connection string, ref PackageRef) string {
	return "seen/" + connection + "/" + ref.Format + "/" + ref.Namespace + "/" + ref.Package
}

// load reads the rows of a package's connections into memory, unless there.
func (g *sightings) load(tx store.Tx, ref PackageRef, connections []string) error {
	for _, c := range connections {
		k := sightingKey(c, ref)
		g.mu.Lock()
		_, ok := g.known[k]
		g.mu.Unlock()
		if ok {
			continue
		}
		row, err := tx.GetSetting(k)
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		m := map[string]int64{}
		if row != "" {
			if err := json.Unmarshal([]byte(row), &m); err != nil {
				m = map[string]int64{} // a damaged row is rewritten from now on
			}
		}
		g.mu.Lock()
		if g.known == nil || len(g.known) >= maxKnownSightings {
			g.known = map[string]map[string]int64{}
		}
		if have, ok := g.known[k]; ok {
			merge(have, m)
		} else {
			g.known[k] = m
		}
		g.mu.Unlock()
	}
	return nil
}

func merge(into, from map[string]int64) {
	for v, t := range from {
		if have, ok := into[v]; !ok || t < have {
			into[v] = t
		}
	}
}

// seen returns when version was first seen, if this node knows.
func (g *sightings) seen(connection string, ref PackageRef, version string) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.known[sightingKey(connection, ref)][version]
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(t, 0), true
}

// firstSeen returns when version was first seen, recording now when it
// was not seen before.
func (g *sightings) firstSeen(connection string, ref PackageRef, version string, now time.Time) time.Time {
	k := sightingKey(connection, ref)
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.known[k][version]; ok {
		return time.Unix(t, 0)
	}
	if g.known == nil {
		g.known = map[string]map[string]int64{}
	}
	if g.known[k] == nil {
		g.known[k] = map[string]int64{}
	}
	g.known[k][version] = now.Unix()
	if g.pending == nil {
		g.pending = map[string]map[string]int64{}
	}
	if g.pending[k] == nil {
		g.pending[k] = map[string]int64{}
	}
	g.pending[k][version] = now.Unix()
	if !g.running {
		g.running = true
		go g.flush()
	}
	return now
}

// flush writes the pending sightings, merged with what other nodes wrote
// (the earliest sight wins), until none are left.
func (g *sightings) flush() {
	for {
		g.mu.Lock()
		batch := g.pending
		g.pending = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := g.meta.Write(ctx, func(tx store.Tx) error {
			for k, add := range batch {
				m := map[string]int64{}
				row, err := tx.GetSetting(k)
				if err != nil && !errors.Is(err, fault.ErrNotFound) {
					return err
				}
				if row != "" {
					_ = json.Unmarshal([]byte(row), &m) // a damaged row is replaced
				}
				merge(m, add)
				b, err := json.Marshal(m)
				if err != nil {
					return err
				}
				if err := tx.PutSetting(k, string(b)); err != nil {
					return err
				}
			}
			return nil
		})
		cancel()
		if err != nil {
			// Kept in memory: this node still counts from its own first
			// sight; the next sighting retries the write.
			g.mu.Lock()
			if g.pending == nil {
				g.pending = map[string]map[string]int64{}
			}
			for k, add := range batch {
				if g.pending[k] == nil {
					g.pending[k] = maps.Clone(add)
				} else {
					merge(g.pending[k], add)
				}
			}
			g.running = false
			g.mu.Unlock()
			return
		}
	}
}
