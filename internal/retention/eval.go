package retention

import (
	"cmp"
	"slices"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/maven"
)

// Reasons a version is removed.
const (
	ReasonKeepLast = "keep-last"
	ReasonUnused   = "unused"
	ReasonSnapshot = "snapshot"
)

// Candidate is a version of one package as evaluation sees it.
type Candidate struct {
	ID       int64
	Version  string
	Revision string
	Status   string
	// Published orders versions (newest first): the published time, else
	// the time coffer created the record.
	Published time.Time
	// Created is when coffer created the record (its first download, for
	// a cached version).
	Created time.Time
	// RuleTime is the time a freeze rule compares: the upstream's publish
	// time where known, else Published.
	RuleTime time.Time
	// Cached is a version ingested from an external connection or
	// retained from an upstream repository.
	Cached bool
	// LastDownload is the last download coffer recorded (zero: none).
	LastDownload time.Time
}

// Pins are what the supply-chain rules protect in one package.
type Pins struct {
	// Versions are the exact versions exempt rules name: never removed.
	Versions map[string]bool
	// FreezeAt is the earliest freeze applying to the package (zero:
	// none). Versions after it are withheld from clients, so keep-last also
	// keeps the newest KeepLast versions at or before it.
	FreezeAt time.Time
}

// eligible reports whether retention may count and remove a version:
// Unfinished ones are uploads in progress, Disposed ones hold nothing.
func eligible(c *Candidate) bool {
	return c.Status != artifact.StatusUnfinished && c.Status != artifact.StatusDisposed
}

// Decide applies policy p to the versions of one package (of format) at
// time now and returns the reason of each version to remove, by index in
// versions. A version is removed when any criterion of p says so and no pin
// protects it:
//   - KeepLast N: all but the N newest (by Published) eligible versions;
//     under a freeze, the N newest versions at or before it are kept too.
//   - UnusedDays D: cached versions neither created nor downloaded in the
//     D days before now.
//   - SnapshotDays D (maven): timestamped SNAPSHOT builds published more
//     than D days before now, except the SnapshotKeep newest of each
//     SNAPSHOT.
func Decide(p Policy, format string, versions []Candidate, pins Pins, now time.Time) map[int]string {
	out := map[int]string{}
	idx := make([]int, 0, len(versions))
	for i := range versions {
		if eligible(&versions[i]) {
			idx = append(idx, i)
		}
	}
	newestFirst := func(a, b int) int {
		va, vb := &versions[a], &versions[b]
		if c := vb.Published.Compare(va.Published); c != 0 {
			return c
		}
		return cmp.Compare(vb.ID, va.ID)
	}
	slices.SortStableFunc(idx, newestFirst)
	if p.KeepLast > 0 {
		admissible := 0
		for n, i := range idx {
			v := &versions[i]
			frozenKeep := false
			if !pins.FreezeAt.IsZero() && !v.RuleTime.After(pins.FreezeAt) {
				admissible++
				frozenKeep = admissible <= p.KeepLast
			}
			if n >= p.KeepLast && !frozenKeep {
				out[i] = ReasonKeepLast
			}
		}
	}
	if p.UnusedDays > 0 {
		cutoff := now.Add(-time.Duration(p.UnusedDays) * 24 * time.Hour)
		for _, i := range idx {
			v := &versions[i]
			used := v.Created
			if v.LastDownload.After(used) {
				used = v.LastDownload
			}
			if v.Cached && used.Before(cutoff) {
				if _, ok := out[i]; !ok {
					out[i] = ReasonUnused
				}
			}
		}
	}
	if p.SnapshotDays > 0 && format == "maven" {
		cutoff := now.Add(-time.Duration(p.SnapshotDays) * 24 * time.Hour)
		keep := max(p.SnapshotKeep, 1)
		type build struct {
			i int
			b maven.Build
		}
		bySnapshot := map[string][]build{}
		for _, i := range idx {
			if b, ok := maven.ParseBuild(versions[i].Version); ok {
				bySnapshot[b.Base] = append(bySnapshot[b.Base], build{i, b})
			}
		}
		for _, builds := range bySnapshot {
			slices.SortFunc(builds, func(x, y build) int {
				switch {
				case x.b.Newer(y.b):
					return -1
				case y.b.Newer(x.b):
					return 1
				}
				return 0
			})
			for n, b := range builds {
				if n >= keep && versions[b.i].Published.Before(cutoff) {
					if _, ok := out[b.i]; !ok {
						out[b.i] = ReasonSnapshot
					}
				}
			}
		}
	}
	for i := range out {
		if pins.Versions[versions[i].Version] {
			delete(out, i)
		}
	}
	return out
}
