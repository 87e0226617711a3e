package retention

import (
	"maps"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// version makes a Published internal version published `age` days before t0.
func version(id int64, name string, age int) Candidate {
	at := t0.Add(-days(age))
	return Candidate{ID: id, Version: name, Revision: "r", Status: "Published", Published: at, Created: at, RuleTime: at}
}

func cached(c Candidate, lastDownloadAge int) Candidate {
	c.Cached = true
	if lastDownloadAge >= 0 {
		c.LastDownload = t0.Add(-days(lastDownloadAge))
	}
	return c
}

func decided(t *testing.T, p Policy, format string, vs []Candidate, pins Pins) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, r := range Decide(p, format, vs, pins, t0) {
		out[vs[i].Version] = r
	}
	return out
}

func TestDecide(t *testing.T) {
	five := []Candidate{version(1, "1.0.0", 50), version(2, "1.1.0", 40), version(3, "2.0.0", 30), version(4, "2.1.0", 20), version(5, "3.0.0", 10)}
	unfinished := version(6, "4.0.0-wip", 1)
	unfinished.Status = "Unfinished"
	disposed := version(7, "0.9.0", 60)
	disposed.Status = "Disposed"
	// Published time, not the version string, orders versions: 0.5.0 is the newest.
	late := version(8, "0.5.0", 5)
	sameTime := []Candidate{version(10, "a", 10), version(11, "b", 10), version(12, "c", 10)}
	frozen := []Candidate{version(1, "1.0.0", 50), version(2, "1.1.0", 40), version(3, "2.0.0", 30), version(4, "2.1.0", 20), version(5, "3.0.0", 10)}
	maven := []Candidate{
		version(1, "1.0-20260101.000000-1", 59), version(2, "1.0-20260102.000000-2", 58), version(3, "1.0-20260220.000000-3", 9),
		version(4, "2.0-20260101.000000-1", 59), version(5, "1.0", 60),
	}
	maven[0].Status, maven[1].Status = "Unlisted", "Unlisted" // older builds are Unlisted once a newer one publishes
	tests := []struct {
		name   string
		p      Policy
		format string
		vs     []Candidate
		pins   Pins
		want   map[string]string
	}{
		{"keep last 2", Policy{KeepLast: 2}, "npm", five, Pins{},
			map[string]string{"1.0.0": ReasonKeepLast, "1.1.0": ReasonKeepLast, "2.0.0": ReasonKeepLast}},
		{"keep more than there are", Policy{KeepLast: 9}, "npm", five, Pins{}, map[string]string{}},
		{"keep last by published time", Policy{KeepLast: 1}, "npm", append(slices.Clone(five), late), Pins{},
			map[string]string{"1.0.0": ReasonKeepLast, "1.1.0": ReasonKeepLast, "2.0.0": ReasonKeepLast, "2.1.0": ReasonKeepLast, "3.0.0": ReasonKeepLast}},
		{"unfinished and disposed neither count nor go", Policy{KeepLast: 1}, "npm", []Candidate{unfinished, disposed, version(1, "1.0.0", 50), version(2, "2.0.0", 40)}, Pins{},
			map[string]string{"1.0.0": ReasonKeepLast}},
		{"ties broken by record id", Policy{KeepLast: 1}, "generic", sameTime, Pins{}, map[string]string{"a": ReasonKeepLast, "b": ReasonKeepLast}},
		{"exact pins are kept", Policy{KeepLast: 1}, "npm", five, Pins{Versions: map[string]bool{"1.1.0": true}},
			map[string]string{"1.0.0": ReasonKeepLast, "2.0.0": ReasonKeepLast, "2.1.0": ReasonKeepLast}},
		{"freeze keeps the newest before it", Policy{KeepLast: 1}, "npm", frozen, Pins{FreezeAt: t0.Add(-days(35))},
			map[string]string{"1.0.0": ReasonKeepLast, "2.0.0": ReasonKeepLast, "2.1.0": ReasonKeepLast}},
		{"unused cached versions", Policy{UnusedDays: 30}, "npm", []Candidate{
			cached(version(1, "1.0.0", 100), 40), // downloaded 40 days ago: goes
			cached(version(2, "1.1.0", 100), 10), // downloaded 10 days ago: stays
			cached(version(3, "1.2.0", 100), -1), // fetched (created) 100 days ago, never downloaded since: goes
			cached(version(4, "1.3.0", 20), -1),  // fetched 20 days ago: stays
			version(5, "1.4.0", 100),             // published here: not a cache
		}, Pins{}, map[string]string{"1.0.0": ReasonUnused, "1.2.0": ReasonUnused}},
		{"unused but pinned", Policy{UnusedDays: 30}, "npm", []Candidate{cached(version(1, "1.0.0", 100), 40)}, Pins{Versions: map[string]bool{"1.0.0": true}},
			map[string]string{}},
		{"keep-last wins the reason over unused", Policy{KeepLast: 1, UnusedDays: 30}, "npm",
			[]Candidate{cached(version(1, "1.0.0", 100), 40), cached(version(2, "2.0.0", 90), 40)}, Pins{},
			map[string]string{"1.0.0": ReasonKeepLast, "2.0.0": ReasonUnused}},
		{"snapshots older than 30 days keeping 1", Policy{SnapshotDays: 30, SnapshotKeep: 1}, "maven", maven, Pins{},
			map[string]string{"1.0-20260101.000000-1": ReasonSnapshot, "1.0-20260102.000000-2": ReasonSnapshot}},
		{"snapshots keeping 2", Policy{SnapshotDays: 30, SnapshotKeep: 2}, "maven", maven, Pins{},
			map[string]string{"1.0-20260101.000000-1": ReasonSnapshot}},
		{"snapshots only for maven", Policy{SnapshotDays: 30, SnapshotKeep: 1}, "generic", maven, Pins{}, map[string]string{}},
		{"recent snapshots stay", Policy{SnapshotDays: 59, SnapshotKeep: 1}, "maven", maven, Pins{},
			map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decided(t, tt.p, tt.format, tt.vs, tt.pins); !maps.Equal(got, tt.want) {
				t.Errorf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidatePolicy(t *testing.T) {
	for _, tt := range []struct {
		p  Policy
		ok bool
	}{
		{Policy{KeepLast: 3}, true},
		{Policy{UnusedDays: 90}, true},
		{Policy{SnapshotDays: 7}, true},
		{Policy{}, false},
		{Policy{KeepLast: -1}, false},
		{Policy{UnusedDays: maxDays + 1}, false},
		{Policy{SnapshotKeep: 2}, false},
	} {
		p := tt.p
		err := validatePolicy(&p)
		if (err == nil) != tt.ok {
			t.Errorf("validatePolicy(%+v) = %v", tt.p, err)
		}
		if err == nil && p.SnapshotDays > 0 && p.SnapshotKeep < 1 {
			t.Errorf("validatePolicy(%+v) left snapshotsKeepLast %d", tt.p, p.SnapshotKeep)
		}
	}
}
