package plugins

import (
	"slices"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// TestPluginsAreFormatsOfTheTable: each plug-in serves a format of the
// format table, once, and has connection instructions of its own format.
func TestPluginsAreFormatsOfTheTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All {
		if _, ok := artifact.LookupFormat(p.Format); !ok {
			t.Errorf("plug-in %q: not a format of the table", p.Format)
		}
		if seen[p.Format] {
			t.Errorf("format %s has two plug-ins", p.Format)
		}
		seen[p.Format] = true
		if p.New == nil {
			t.Errorf("plug-in %s builds no handler", p.Format)
		}
		if len(p.Guides) == 0 {
			t.Errorf("plug-in %s has no connection instructions", p.Format)
		}
		for _, g := range p.Guides {
			if g.Format != p.Format {
				t.Errorf("plug-in %s carries the %s guide of format %s", p.Format, g.ID, g.Format)
			}
		}
	}
	for _, g := range guide.Pending {
		if seen[g.Format] {
			t.Errorf("guide %s is still pending although format %s has a plug-in", g.ID, g.Format)
		}
	}
}

// TestGuidesCoverFormatTable: every format of the format table has a tab of
// connection instructions, every tab is of a format in the table, listed
// once, with snippets of its own.
func TestGuidesCoverFormatTable(t *testing.T) {
	ids := map[string]bool{}
	gs := Guides()
	for _, g := range gs {
		if ids[g.ID] {
			t.Errorf("guide %s listed twice", g.ID)
		}
		ids[g.ID] = true
		if _, ok := artifact.LookupFormat(g.Format); !ok {
			t.Errorf("guide %s: format %q is not in the format table", g.ID, g.Format)
		}
		if g.Snippets == nil || len(g.Snippets(guide.Conn{Endpoint: "http://h/x/", API: "http://h"})) == 0 {
			t.Errorf("guide %s: no snippets", g.ID)
		}
	}
	for _, f := range artifact.Formats {
		if !slices.ContainsFunc(gs, func(g guide.Guide) bool { return g.Format == f }) {
			t.Errorf("format %s has no connection instructions", f)
		}
	}
}
